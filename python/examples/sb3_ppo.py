"""Stable-Baselines3 PPO on a Lepton scenario's driving state, evaluated on held-out seeds.

    python python/examples/sb3_ppo.py --scenario lane_keep --steps 300000

Training envs are seeded from --seed; evaluation episodes from 2,000,000 on (as `lepton eval`),
so none was seen in training. Prints one JSON line: steps, wall seconds, held-out success rate
and mean return.
"""

import argparse
import json
import time

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecNormalize

from lepton.sb3 import LeptonSB3VecEnv, evaluate_held_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="lane_keep")
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--save", default=None, help="where to save the trained model (.zip)")
    args = parser.parse_args()

    # The state's fields differ in scale (metres, radians, m/s, 1/m): normalise observations and
    # rewards with running statistics, as SB3's PPO recipes do.
    env = VecNormalize(LeptonSB3VecEnv(args.scenario, num_envs=args.envs, seed=args.seed), gamma=0.99)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=1024, n_epochs=10, gamma=0.99, learning_rate=3e-4,
                ent_coef=0.0, seed=args.seed, device="cpu", verbose=0)
    started = time.perf_counter()
    model.learn(total_timesteps=args.steps, progress_bar=False)
    seconds = time.perf_counter() - started
    if args.save:
        model.save(args.save)
        env.save(args.save + ".vecnormalize.pkl")
    env.training = False
    result = evaluate_held_out(model, args.scenario, args.eval_episodes, normalize=env)
    print(json.dumps({"scenario": args.scenario, "steps": model.num_timesteps, "train_seconds": round(seconds, 1),
                      **result}))


if __name__ == "__main__":
    main()
