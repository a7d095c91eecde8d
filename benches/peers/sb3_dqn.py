"""Stable-Baselines3's DQN (CnnPolicy: the Nature CNN) learning CarRacing-v3 from 4 stacked 84x84
grey frames, batch 32, one update per 4 env steps, PyTorch on the CPU: env steps per second once
learning has started, the peer of `lepton bench train --env-steps N`. Prints one JSON object."""

import argparse
import json
import time

import gymnasium as gym
import torch
from gymnasium.wrappers import GrayscaleObservation, ResizeObservation
from stable_baselines3 import DQN
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecTransposeImage


class Clock(BaseCallback):
    """Marks the time when learning starts and when the run ends."""

    def __init__(self, learning_starts: int):
        super().__init__()
        self.learning_starts = learning_starts
        self.marks = []

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.learning_starts:
            self.marks.append((self.num_timesteps, time.perf_counter()))
        return True


def make_env():
    env = gym.make("CarRacing-v3", continuous=False)
    env = GrayscaleObservation(ResizeObservation(env, (84, 84)), keep_dim=True)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=800, help="env steps to time after learning starts")
    parser.add_argument("--learning-starts", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's CPU threads")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    envs = VecTransposeImage(VecFrameStack(DummyVecEnv([make_env] * args.envs), n_stack=4))
    # One update per 4 env steps, as Lepton's default: each vector step brings `envs` transitions.
    per_vector_step = max(1, args.envs // 4)
    model = DQN(
        "CnnPolicy",
        envs,
        buffer_size=20_000,
        learning_starts=args.learning_starts,
        batch_size=32,
        train_freq=(1, "step"),
        gradient_steps=per_vector_step,
        target_update_interval=1_000,
        optimize_memory_usage=False,
        device="cpu",
        seed=0,
        verbose=0,
    )
    clock = Clock(args.learning_starts)
    model.learn(total_timesteps=args.learning_starts + args.steps, callback=clock)
    (s0, t0), (s1, t1) = clock.marks[0], clock.marks[-1]
    print(json.dumps({
        "peer": "stable-baselines3 " + __import__("stable_baselines3").__version__ + " DQN CnnPolicy, torch "
        + torch.__version__ + " cpu",
        "envs": args.envs,
        "updates_per_env_step": per_vector_step / args.envs,
        "env_steps_per_second": (s1 - s0) / (t1 - t0),
    }))


if __name__ == "__main__":
    main()
