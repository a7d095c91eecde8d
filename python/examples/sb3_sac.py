"""Stable-Baselines3 SAC (or PPO) with continuous actions on a Lepton scenario's driving state,
evaluated on held-out seeds.

    python python/examples/sb3_sac.py --scenario lane_keep --steps 100000
    python python/examples/sb3_sac.py --algo ppo --steps 300000

The env's actions are ``[steer, throttle]`` (``actions="continuous"``: a Box, clipped into the
scenario's ranges). Training envs are seeded from --seed; evaluation episodes from 2,000,000 on
(as `lepton eval`), so none was seen in training. Prints one JSON line: steps, wall seconds,
held-out success rate, mean return and how episodes ended.
"""

import argparse
import json
import time

from stable_baselines3 import PPO, SAC
from stable_baselines3.common.vec_env import VecNormalize

from lepton.sb3 import LeptonSB3VecEnv, evaluate_held_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["sac", "ppo"], default="sac")
    parser.add_argument("--scenario", default="lane_keep")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--save", default=None, help="where to save the trained model (.zip)")
    args = parser.parse_args()

    # The state's fields differ in scale (metres, radians, m/s, 1/m): normalise observations
    # (and for PPO rewards) with running statistics.
    env = LeptonSB3VecEnv(args.scenario, num_envs=args.envs, seed=args.seed, actions="continuous")
    if args.algo == "sac":
        env = VecNormalize(env, norm_reward=False)
        # One gradient step per four env steps: the CPU's time goes to learning, not waiting.
        model = SAC("MlpPolicy", env, learning_starts=2_000, batch_size=256, train_freq=1,
                    gradient_steps=max(1, args.envs // 4), gamma=0.99, seed=args.seed, device="cpu", verbose=0)
    else:
        env = VecNormalize(env, gamma=0.99)
        # A narrower start than the unit Gaussian: full lock either way each step throws the car
        # off the road before any return is seen.
        model = PPO("MlpPolicy", env, n_steps=256, batch_size=1024, n_epochs=10, gamma=0.99,
                    learning_rate=3e-4, policy_kwargs={"log_std_init": -1.0}, seed=args.seed,
                    device="cpu", verbose=0)
    started = time.perf_counter()
    model.learn(total_timesteps=args.steps, progress_bar=False)
    seconds = time.perf_counter() - started
    if args.save:
        model.save(args.save)
        env.save(args.save + ".vecnormalize.pkl")
    env.training = False
    result = evaluate_held_out(model, args.scenario, args.eval_episodes, normalize=env, actions="continuous")
    print(json.dumps({"algo": args.algo, "scenario": args.scenario, "steps": model.num_timesteps,
                      "train_seconds": round(seconds, 1), **result}))


if __name__ == "__main__":
    main()
