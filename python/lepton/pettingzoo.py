"""PettingZoo's Parallel API over Lepton's multi-agent worlds: several learning cars in one world,
stepped together in Rust.

>>> import lepton.pettingzoo
>>> lepton.pettingzoo.shipped_multi_agent()
['platoon']
>>> env = lepton.pettingzoo.parallel_env(scenario="platoon", seed=0)
>>> observations, infos = env.reset(seed=0)
>>> while env.agents:
...     actions = {agent: env.action_space(agent).sample() for agent in env.agents}
...     observations, rewards, terminations, truncations, infos = env.step(actions)

Agents are named ``car_0``, ``car_1``, ... in the order of the scenario's ``agents``. A car
whose episode ends is reported terminated (a crash, leaving the road, reaching its goal) or
truncated (the time limit, stuck) and leaves ``env.agents``; the others drive on. With
``episode: (agent_end: Respawn)`` in the file the car starts again at its spawn as a new agent
(PettingZoo never revives one): ``car_2`` comes back as ``car_2.1``, then ``car_2.2``, joining
``env.agents`` and ``possible_agents`` in the step its predecessor ended, with its first
observation and a reward of 0.

``observation``: ``"state"`` (each car's driving state, as ``lepton.Env``'s), ``"lidar"``
(its lidar's range image, channels × rays metres), ``"frames"``, ``"depth"`` or ``"semantic"``
(its own camera's image: every car's camera is a tile of one render pass), ``"vehicles"`` (its
object list: the nearest other cars and obstacles, rows × 7 in its own frame), or a list of them
(a Dict), e.g. ``["state", "frames"]``.
``actions``: ``"scenario"`` (the file's), ``"discrete"`` or ``"continuous"`` (``[steer, throttle]``).
"""

from __future__ import annotations

import functools

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from ._lepton import LeptonError, MultiAgentEnv, shipped_multi_agent_scenarios
from .gym import SEMANTIC_CLASSES, vehicles_space

__all__ = ["LeptonParallelEnv", "parallel_env", "shipped_multi_agent"]


def shipped_multi_agent() -> list[str]:
    """The shipped scenarios with several learning cars (names ``parallel_env`` takes)."""
    return list(shipped_multi_agent_scenarios())


def parallel_env(scenario: str = "platoon", seed: int | None = None, observation="state",
                 actions: str = "scenario", render_mode=None) -> "LeptonParallelEnv":
    """A PettingZoo ``ParallelEnv`` of ``scenario`` (a shipped name or a ``.ron`` path)."""
    return LeptonParallelEnv(scenario=scenario, seed=seed, observation=observation, actions=actions,
                             render_mode=render_mode)


class LeptonParallelEnv(ParallelEnv):
    """Every learning car of one Lepton world, as PettingZoo's ``ParallelEnv``."""

    metadata = {"name": "lepton_parallel_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, scenario: str = "platoon", seed: int | None = None, observation="state",
                 actions: str = "scenario", render_mode=None):
        if render_mode is not None:
            raise LeptonError(f"render_mode: a multi-agent world is not drawn yet (got {render_mode!r}); "
                              "use `lepton view` to watch it")
        if not isinstance(observation, str):
            observation = ",".join(observation)
        self.render_mode = None
        self._seed = 0 if seed is None else int(seed)
        self._env = MultiAgentEnv(scenario, self._seed, observation, actions)
        self._cars = self._env.num_agents
        self._name_cars()
        self.agents: list[str] = []
        self._observation_space = self._make_observation_space()
        self._action_space = self._make_action_space()

    def _name_cars(self) -> None:
        """Car i is ``car_i`` again: its current name (a respawned car is a new agent), each
        name's car, and how often each has come back."""
        self.possible_agents = [f"car_{i}" for i in range(self._cars)]
        self._names = list(self.possible_agents)
        self._car = {name: i for i, name in enumerate(self.possible_agents)}
        self._lives = [0] * self._cars

    def _make_observation_space(self) -> spaces.Space:
        parts = {}
        for part in self._env.parts:
            if part == "state":
                low, high = self._env.state_bounds
                parts[part] = spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)
            elif part == "lidar":
                (channels, rays), reach = self._env.lidar_shape
                parts[part] = spaces.Box(0.0, reach, shape=(channels, rays), dtype=np.float32)
            elif part == "vehicles":
                (rows, _), reach = self._env.vehicles_shape
                parts[part] = vehicles_space(rows, reach)
            else:
                height, width, channels = self._env.frame_shape
                if part == "frames":
                    parts[part] = spaces.Box(0, 255, shape=(height, width, channels), dtype=np.uint8)
                elif part == "depth":
                    parts[part] = spaces.Box(0.0, np.inf, shape=(height, width), dtype=np.float32)
                else:
                    classes = len(SEMANTIC_CLASSES)
                    parts[part] = spaces.Box(0, classes - 1, shape=(height, width), dtype=np.uint8)
        if len(parts) == 1:
            return next(iter(parts.values()))
        return spaces.Dict(parts)

    def _make_action_space(self) -> spaces.Space:
        if self._env.continuous:
            low, high = self._env.action_bounds
            return spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)
        return spaces.Discrete(self._env.num_actions)

    # PettingZoo asks for the same space object every time: cached per agent name.
    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str) -> spaces.Space:
        self._check_name(agent)
        return self._observation_space

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str) -> spaces.Space:
        self._check_name(agent)
        return self._action_space

    def _check_name(self, agent: str) -> None:
        if agent not in self._car:
            raise LeptonError(f"no agent {agent!r} (agents: {', '.join(self.possible_agents)})")

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise LeptonError(f"seed must be a non-negative integer (got {seed!r})")
        first = self._env.reset(None if seed is None else int(seed))
        self._name_cars()
        self.agents = list(self.possible_agents)
        observations = {name: obs for name, (obs, _) in zip(self._names, first)}
        infos = {name: info for name, (_, info) in zip(self._names, first)}
        return observations, infos

    def step(self, actions: dict):
        if not self.agents:
            raise LeptonError("step() after the episode ended: call reset()")
        live = set(self.agents)
        for name in actions:
            if name not in live:
                raise LeptonError(f"actions: {name!r} is not driving (agents: {', '.join(self.agents)})")
        missing = [name for name in self.agents if name not in actions]
        if missing:
            raise LeptonError(f"actions: {missing[0]} is driving and needs an action")
        ordered = []
        for name in self._names:
            action = actions.get(name) if name in live else None
            if isinstance(action, np.ndarray):
                action = action.item() if action.shape == () else action.tolist()
            ordered.append(action)
        results = self._env.step(ordered)

        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        agents = []
        for car, result in enumerate(results):
            name = self._names[car]
            if result is None or name not in live:
                continue
            obs, reward, terminated, truncated, info, respawn = result
            observations[name], rewards[name], infos[name] = obs, float(reward), info
            terminations[name], truncations[name] = bool(terminated), bool(truncated)
            if not (terminated or truncated):
                agents.append(name)
            elif respawn is not None:
                # The car starts again: a new agent, in the game from this step on.
                self._lives[car] += 1
                reborn = f"car_{car}.{self._lives[car]}"
                self._names[car] = reborn
                self._car[reborn] = car
                self.possible_agents.append(reborn)
                observations[reborn], infos[reborn] = respawn
                rewards[reborn], terminations[reborn], truncations[reborn] = 0.0, False, False
                agents.append(reborn)
        self.agents = agents
        return observations, rewards, terminations, truncations, infos

    def render(self):
        return None

    def close(self):
        pass

    def state(self):
        raise NotImplementedError("a Lepton world has no global state array; see each car's info")
