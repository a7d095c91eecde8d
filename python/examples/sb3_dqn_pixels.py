"""Stable-Baselines3 DQN from the camera: `CnnPolicy` on Lepton's 84×84 RGB frames (SB3 moves the
channels first itself), evaluated greedily on held-out seeds.

    python python/examples/sb3_dqn_pixels.py --scenario lane_keep --steps 200000

Lepton's own DQN from pixels (`lepton train lane_keep --agent dqn --perception pixels`) is the
faster route on a CPU; this shows the same frames feeding SB3.
"""

import argparse
import json
import time

import numpy as np
from stable_baselines3 import DQN

from lepton.sb3 import LeptonSB3VecEnv


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
    # The first episode of each held-out env (seeds 2,000,000…).
    test = LeptonSB3VecEnv(args.scenario, num_envs=args.eval_episodes, seed=2_000_000, observation="frames")
    obs, done_once, returns, successes = test.reset(), np.zeros(args.eval_episodes, bool), [], 0
    while not done_once.all():
        actions, _ = model.predict(obs, deterministic=True)
        obs, _, dones, infos = test.step(actions)
        for i in np.flatnonzero(dones & ~done_once):
            done_once[i] = True
            returns.append(infos[i]["episode"]["r"])
            successes += infos[i]["end"] == "success"
    print(json.dumps({"scenario": args.scenario, "steps": model.num_timesteps, "train_seconds": round(seconds, 1),
                      "episodes": args.eval_episodes, "success_rate": successes / args.eval_episodes,
                      "mean_return": float(np.mean(returns))}))


if __name__ == "__main__":
    main()
