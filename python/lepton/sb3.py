"""Lepton's vector env as a Stable-Baselines3 ``VecEnv``.

>>> from stable_baselines3 import PPO
>>> from lepton.sb3 import LeptonSB3VecEnv
>>> env = LeptonSB3VecEnv("lane_keep", num_envs=16, seed=1)
>>> PPO("MlpPolicy", env).learn(200_000)
>>> env = LeptonSB3VecEnv("highway", num_envs=8, observation=["state", "lidar"])
>>> PPO("MultiInputPolicy", env)                                 # a Dict observation

Every env steps in Rust (all in parallel, the GIL released); an episode that ends is reset in
the same step, its last observation in ``infos[i]["terminal_observation"]`` and
``infos[i]["TimeLimit.truncated"]`` set when it was cut short, as SB3's own vector envs do. Each
finished episode's return and length are in ``infos[i]["episode"]`` (``{"r", "l"}``), so SB3
logs them without a ``VecMonitor``.
"""

from __future__ import annotations

import collections
from typing import Any, Sequence

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from ._check import LeptonAttributeError
from ._check import seed as _seed
from ._lepton import LeptonError
from .gym import _actions, _continuous_actions, _native, _row, _spaces

__all__ = ["LeptonSB3VecEnv", "evaluate_held_out"]


def _copied(obs: Any) -> Any:
    """The batch of observations, copied out of Lepton's buffers: an array, or (several parts,
    for SB3's ``MultiInputPolicy``) a dict of arrays."""
    if isinstance(obs, dict):
        return {k: v.copy() for k, v in obs.items()}
    return obs.copy()


class LeptonSB3VecEnv(VecEnv):
    def __init__(
        self,
        scenario: str = "lane_keep",
        num_envs: int = 16,
        seed: int | None = None,
        observation: Any = "state",
        model: str | None = None,
        actions: str = "scenario",
    ):
        seed = _seed(seed)
        self._inner = _native(scenario, num_envs, observation, model, actions=actions)
        self._next_seed = self._inner.scenario_seed if seed is None else seed
        self._actions: np.ndarray | None = None
        self.render_mode = None
        observation_space, action_space = _spaces(self._inner)
        super().__init__(self._inner.num_envs, observation_space, action_space)

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        # SB3 seeds env i with seed + i at the next reset: Lepton's own convention.
        seed = _seed(seed)
        if seed is not None:
            self._next_seed = seed
        return [None if seed is None else seed + i for i in range(self.num_envs)]

    def reset(self) -> np.ndarray:
        if self._next_seed is not None:
            self._inner.reset(self._next_seed)
            self._next_seed = None
        else:
            self._inner.reset_some(list(range(self.num_envs)), [None] * self.num_envs)
        self.reset_infos = [{"episode_seed": s} for s in self._inner.episode_seed]
        return _copied(self._inner.obs)

    def step_async(self, actions: np.ndarray) -> None:
        if self._inner.continuous:
            self._actions = _continuous_actions(actions, self.num_envs)
        else:
            self._actions = _actions(actions, self.num_envs, self.action_space.n)

    def step_wait(self):
        if self._actions is None:
            raise LeptonError("step_wait before step_async: give the actions first")
        inner = self._inner
        if inner.continuous:
            ended_count = inner.step_continuous(self._actions)
        else:
            ended_count = inner.step(self._actions)
        self._actions = None
        terminated, truncated = inner.terminated, inner.truncated
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if ended_count:
            finals, ends = inner.final_obs, inner.ends
            returns, lengths = inner.episode_return, inner.episode_length
            for i in np.flatnonzero(dones):
                infos[i] = {
                    "terminal_observation": _row(finals, i),
                    "TimeLimit.truncated": bool(truncated[i] and not terminated[i]),
                    "episode": {"r": float(returns[i]), "l": int(lengths[i])},
                    "end": ends[i],
                    "is_success": ends[i] == "success",
                }
        return _copied(inner.obs), inner.rewards.copy(), dones.copy(), infos

    def close(self) -> None:
        self._inner = None

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        indices = self._get_indices(indices)
        if attr_name == "render_mode":
            value = self.render_mode
        elif not attr_name.startswith("_") and hasattr(self._inner, attr_name):
            value = getattr(self._inner, attr_name)
        else:
            raise LeptonAttributeError(f"Lepton's envs have no attribute {attr_name!r}")
        return [value for _ in indices]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        if attr_name != "render_mode":
            raise LeptonAttributeError(f"Lepton's envs have no settable attribute {attr_name!r}")
        self.render_mode = value

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        raise LeptonAttributeError(
            f"Lepton's envs are stepped together in Rust; no per-env method {method_name!r}"
        )

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


def evaluate_held_out(
    model,
    scenario: str,
    episodes: int = 50,
    seed: int = 2_000_000,
    normalize=None,
    observation: str = "state",
    actions: str = "scenario",
) -> dict:
    """Scores ``model`` greedily on the first episode of each of ``episodes`` envs seeded seed,
    seed + 1, ... (2,000,000 on, as ``lepton eval``: seeds no training run saw; only first
    episodes, so short failed ones do not crowd out long ones). ``normalize``: the training's
    ``VecNormalize``, whose observation statistics the model expects. Returns the success rate,
    the mean return and how many episodes ended each way."""
    env = LeptonSB3VecEnv(scenario, num_envs=episodes, seed=seed, observation=observation, actions=actions)
    obs = env.reset()
    returns: list = [None] * episodes
    ends: collections.Counter = collections.Counter()
    while any(r is None for r in returns):
        chosen, _ = model.predict(obs if normalize is None else normalize.normalize_obs(obs), deterministic=True)
        obs, _, dones, infos = env.step(chosen)
        for i in np.flatnonzero(dones):
            if returns[i] is None:
                returns[i] = infos[i]["episode"]["r"]
                ends[infos[i]["end"]] += 1
    env.close()
    return {
        "episodes": episodes,
        "success_rate": ends["success"] / episodes,
        "mean_return": float(np.mean(returns)),
        "ends": dict(ends),
    }
