"""Ray RLlib (new API stack) with Lepton: the env creator RLlib's EnvRunners import (it has to
live in an installed module, so that every Ray worker finds it) and a PPO configuration.

Each EnvRunner vectorises ``lepton.LeptonEnv`` itself, one env per ``num_envs_per_env_runner``,
with Gymnasium's next-step autoreset — what RLlib expects.
"""

from __future__ import annotations

import functools

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


# ---- Several cars, one shared policy ---------------------------------------------------------

MULTI_AGENT_ENV_NAME = "lepton_multi_agent"


def multi_agent_env_creator(config):
    """RLlib's ``MultiAgentEnv`` over ``lepton.pettingzoo``'s world (scenario, seed, observation,
    actions in ``env_config``)."""
    return _multi_agent_env_class()(config)


@functools.lru_cache(maxsize=None)
def _multi_agent_env_class():
    # Defined on first use: importing RLlib is slow, and `lepton.rllib` loads without it.
    from ray.rllib.env.multi_agent_env import MultiAgentEnv

    from .pettingzoo import LeptonParallelEnv

    class LeptonMultiAgentEnv(MultiAgentEnv):
        """Every car of a Lepton world as an RLlib agent. The episode is over when every car has
        ended: ``__all__`` is terminated then, or truncated when a car was cut off by the limit."""

        def __init__(self, config=None):
            super().__init__()
            config = config or {}
            self._env = LeptonParallelEnv(scenario=config.get("scenario", "platoon"), seed=config.get("seed"),
                                          observation=config.get("observation", "state"),
                                          actions=config.get("actions", "scenario"))
            self.possible_agents = list(self._env.possible_agents)
            self.agents = []
            self.observation_spaces = {a: self._env.observation_space(a) for a in self.possible_agents}
            self.action_spaces = {a: self._env.action_space(a) for a in self.possible_agents}

        def reset(self, *, seed=None, options=None):
            observations, infos = self._env.reset(seed=seed, options=options)
            self.agents = list(self._env.agents)
            return observations, infos

        def step(self, actions):
            observations, rewards, terminated, truncated, infos = self._env.step(actions)
            self.agents = list(self._env.agents)
            over = not self.agents
            terminated["__all__"] = over and not any(truncated.values())
            truncated["__all__"] = over and not terminated["__all__"]
            return observations, rewards, terminated, truncated, infos

    return LeptonMultiAgentEnv


def multi_agent_ppo_config(scenario: str = "platoon", env_runners: int = 2, batch: int = 4000, seed: int = 1,
                           cpus_per_runner: float = 0.5, actions: str = "scenario"):
    """A PPOConfig training one policy, ``shared``, that drives every car of ``scenario``'s world
    (parameter sharing), with ``env_runners`` EnvRunners of one world each."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    register_env(MULTI_AGENT_ENV_NAME, multi_agent_env_creator)
    return (
        PPOConfig()
        .environment(MULTI_AGENT_ENV_NAME, env_config={"scenario": scenario, "seed": seed, "actions": actions})
        .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent_id, episode, **kwargs: "shared")
        .env_runners(num_env_runners=env_runners, num_envs_per_env_runner=1,
                     num_cpus_per_env_runner=cpus_per_runner)
        .training(train_batch_size_per_learner=batch, minibatch_size=min(128, batch), num_epochs=4, lr=3e-4)
        .debugging(seed=seed)
    )
