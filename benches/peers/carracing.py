"""Gymnasium's CarRacing-v3 stepped with random actions in a synchronous vector env: env steps per
second with its 96x96 RGB frames, the peer of `lepton bench render --width 96 --height 96`.
Prints one JSON object."""

import argparse
import json
import time

import gymnasium as gym
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=200, help="vector steps to time, after 20 warm-up steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    envs = gym.make_vec("CarRacing-v3", num_envs=args.envs, vectorization_mode="sync")
    envs.reset(seed=args.seed)
    envs.action_space.seed(args.seed)
    for _ in range(20):
        envs.step(envs.action_space.sample())
    started = time.perf_counter()
    for _ in range(args.steps):
        obs, *_ = envs.step(envs.action_space.sample())
    seconds = time.perf_counter() - started
    assert obs.shape == (args.envs, 96, 96, 3) and obs.dtype == np.uint8
    print(json.dumps({
        "peer": "gymnasium CarRacing-v3 " + gym.__version__,
        "envs": args.envs,
        "env_steps_per_second": args.envs * args.steps / seconds,
    }))


if __name__ == "__main__":
    main()
