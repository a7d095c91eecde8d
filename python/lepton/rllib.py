"""Ray RLlib (new API stack) with Lepton: the env creator RLlib's EnvRunners import (it has to
live in an installed module, so that every Ray worker finds it) and a PPO configuration.

Each EnvRunner vectorises ``lepton.LeptonEnv`` itself, one env per ``num_envs_per_env_runner``,
with Gymnasium's next-step autoreset — what RLlib expects.
"""

from __future__ import annotations

ENV_NAME = "lepton"


def env_creator(config):
    """A ``LeptonEnv`` from RLlib's ``env_config`` (scenario, seed, observation, model, actions)."""
    from .gym import LeptonEnv

    return LeptonEnv(scenario=config.get("scenario", "lane_keep"), seed=config.get("seed"),
                     observation=config.get("observation", "state"), model=config.get("model"),
                     actions=config.get("actions", "scenario"))


def ppo_config(scenario: str = "lane_keep", env_runners: int = 2, envs_per_runner: int = 8,
               batch: int = 4000, seed: int = 1, cpus_per_runner: float = 0.5, actions: str = "scenario"):
    """A PPOConfig training on ``scenario`` with ``env_runners`` EnvRunners (``actions``:
    ``"continuous"`` for ``[steer, throttle]``)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    register_env(ENV_NAME, env_creator)
    return (
        PPOConfig()
        .environment(ENV_NAME, env_config={"scenario": scenario, "seed": seed, "actions": actions})
        .env_runners(num_env_runners=env_runners, num_envs_per_env_runner=envs_per_runner,
                     num_cpus_per_env_runner=cpus_per_runner)
        .training(train_batch_size_per_learner=batch, minibatch_size=min(128, batch), num_epochs=4, lr=3e-4)
        .debugging(seed=seed)
    )
