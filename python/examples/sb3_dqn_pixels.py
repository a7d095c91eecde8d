"""Stable-Baselines3 DQN from the camera: `CnnPolicy` on Lepton's 84×84 RGB frames (SB3 moves the
channels first itself), evaluated greedily on held-out seeds.

    python python/examples/sb3_dqn_pixels.py --scenario lane_keep --steps 200000

Lepton's own DQN from pixels (`lepton train lane_keep --agent dqn --perception pixels`) is the
faster route on a CPU; this shows the same frames feeding SB3.
"""

import argparse
import json
import time

from stable_baselines3 import DQN

from lepton.sb3 import LeptonSB3VecEnv, evaluate_held_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="lane_keep")
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=20)
    args = parser.parse_args()

    env = LeptonSB3VecEnv(args.scenario, num_envs=args.envs, seed=args.seed, observation="frames")
    model = DQN("CnnPolicy", env, buffer_size=50_000, learning_starts=2_000, train_freq=4, batch_size=32,
                exploration_fraction=0.3, target_update_interval=2_000, seed=args.seed, device="cpu")
    started = time.perf_counter()
    model.learn(total_timesteps=args.steps)
    seconds = time.perf_counter() - started
    result = evaluate_held_out(model, args.scenario, args.eval_episodes, observation="frames")
    print(json.dumps({"scenario": args.scenario, "steps": model.num_timesteps, "train_seconds": round(seconds, 1),
                      **result}))

if __name__ == "__main__":
    main()
