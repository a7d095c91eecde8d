"""Lepton as Gymnasium environments.

``LeptonVectorEnv`` is a ``gymnasium.vector.VectorEnv`` over Lepton's vector env: every env steps
in Rust, in parallel, with the GIL released, into numpy buffers allocated once. Autoreset is
Gymnasium's *same-step* mode: when an episode ends, ``obs[i]`` is already the next episode's
first observation and ``infos["final_obs"][i]`` / ``infos["final_info"]`` hold the ended one's.

``LeptonEnv`` is one environment (``gymnasium.Env``), for ``gymnasium.make`` and libraries that
vectorise single environments themselves (Ray RLlib).

Actions: the scenario's own kind by default, an index into its discrete set
(``spaces.Discrete``) or, with ``actions.continuous`` in the file or ``actions="continuous"``
here, ``[steer, throttle]`` (``spaces.Box``; each clipped into the file's ranges, full lock and
full throttle/brake by default).

Observations: ``"state"`` (the driving state, a Box of the named fields in ``state_names``),
``"frames"`` (the camera, uint8 height × width × channels from the batched renderer),
``"perception"`` (the state as a trained CNN sees it in the frames; ``model=MODEL_DIR``) and
``"lidar"`` (the scenario's lidar, or the default 32 × 360 one: a float32 range image of
channels × rays metres, row 0 the top beam, the middle column straight ahead; ``lidar_points``
turns one into points), ``"depth"`` (float32 height × width metres along the camera's axis) and
``"semantic"`` (uint8 height × width classes, ``SEMANTIC_CLASSES``), both from the camera's own
render pass, and ``"vehicles"`` (the object list: the scenario's ``vehicles`` sensor, or the
default 8 rows out to 80 m, each ``presence, x, y, vx, vy, cos_heading, sin_heading`` in the car's
frame — highway-env's "Kinematics"). A list of names, e.g. ``["frames", "depth", "semantic"]``, gives a ``Dict``
observation of those parts.
Seeds are Lepton's: env i of a vector env seeded S is the single env seeded S + i, and the same
seed gives the same trajectory as ``lepton rollout --seed S``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from . import _check, _lepton
from ._lepton import LeptonError

try:  # Gymnasium >= 1.1
    from gymnasium.vector import AutoresetMode

    _SAME_STEP: Any = AutoresetMode.SAME_STEP
except ImportError:  # pragma: no cover - Gymnasium 1.0 names the mode by string
    _SAME_STEP = "SameStep"

__all__ = ["LeptonEnv", "LeptonVectorEnv", "LeptonError", "lidar_points", "SEMANTIC_CLASSES"]

#: The semantic camera's classes, by the value its pixels hold.
SEMANTIC_CLASSES = ("road", "lane_marking", "shoulder", "vehicle", "obstacle", "sky", "ground")


def _model_dir(model: str | None) -> str | None:
    """A model folder, or ``registry:NAME@CHANNEL`` resolved (and its files checked) by Lepton."""
    model = _check.optional_path(model, "model")
    if model is None:
        return None
    if model.startswith("registry:"):
        from .registry import resolve

        return resolve(model, part="model")
    return model


def _native(
    scenario: str,
    num_envs: int,
    observation: Any,
    model: str | None,
    autoreset: bool = True,
    actions: str = "scenario",
):
    """The Rust vector env behind every Python-side env (seeded at its first reset), its
    arguments checked here so that a wrong type is a LeptonError naming it."""
    scenario = _check.path(scenario, "scenario")
    num_envs = _check.integer(num_envs, "num_envs", 1, _check.MAX_ENVS)
    observation = _observation_names(observation)
    actions = _check.text(actions, "actions")
    return _lepton.VecEnv(
        scenario, num_envs, 0, observation, _model_dir(model), autoreset=autoreset, actions=actions
    )


def vehicles_space(rows: int, reach: float) -> spaces.Box:
    """The object list's space: presence 0 or 1; positions within the sensor's range and relative
    speeds up to 100 m/s, scaled by 1/50 m and 1/20 m/s; the heading as its cosine and sine."""
    r = reach / 50.0
    high = np.array([1.0, r, r, 5.0, 5.0, 1.0, 1.0], dtype=np.float32)
    low = np.array([0.0, -r, -r, -5.0, -5.0, -1.0, -1.0], dtype=np.float32)
    return spaces.Box(np.tile(low, (rows, 1)), np.tile(high, (rows, 1)), dtype=np.float32)


def _part_space(inner: _lepton.VecEnv, part: str) -> spaces.Space:
    """The space of one part of the observation."""
    if part == "frames":
        return spaces.Box(0, 255, shape=inner.frame_shape, dtype=np.uint8)
    if part == "lidar":
        return spaces.Box(0.0, inner.lidar_range, shape=inner.lidar_shape, dtype=np.float32)
    if part == "depth":
        # Metres along the camera's axis; the sky walls are about 2 km away, and a pixel where
        # nothing at all was drawn reads the limit.
        return spaces.Box(0.0, inner.depth_limit, shape=inner.image_shape, dtype=np.float32)
    if part == "semantic":
        return spaces.Box(0, len(SEMANTIC_CLASSES) - 1, shape=inner.image_shape, dtype=np.uint8)
    if part == "vehicles":
        return vehicles_space(inner.vehicles_shape[0], inner.vehicles_range)
    low = np.asarray(inner.state_low, dtype=np.float32)
    high = np.asarray(inner.state_high, dtype=np.float32)
    return spaces.Box(low, high, dtype=np.float32)


def _spaces(inner: _lepton.VecEnv) -> tuple[spaces.Space, spaces.Space]:
    parts = list(inner.parts)
    if len(parts) == 1:
        observation = _part_space(inner, parts[0])
    else:
        observation = spaces.Dict({part: _part_space(inner, part) for part in parts})
    if inner.continuous:
        low = np.asarray(inner.action_low, dtype=np.float32)
        high = np.asarray(inner.action_high, dtype=np.float32)
        return observation, spaces.Box(low, high, dtype=np.float32)
    return observation, spaces.Discrete(inner.num_actions)


def _row(obs: Any, i: int) -> Any:
    """Env i's observation, copied: an array's row, or a dict of them."""
    if isinstance(obs, dict):
        return {k: v[i].copy() for k, v in obs.items()}
    return obs[i].copy()


def _observation_names(observation: Any) -> str:
    """``observation`` as the Rust side takes it: one name, or several joined by commas (a list or
    tuple of names asks for a dict observation)."""
    if isinstance(observation, (list, tuple)):
        names = [_check.text(o, f"observation[{i}]") for i, o in enumerate(observation)]
        if not names:
            raise LeptonError("observation: name at least one part")
        return ",".join(names)
    name = _check.text(observation, "observation")
    if "," in name:
        raise LeptonError("observation: give several parts as a list, e.g. ['frames', 'depth']")
    return name


def lidar_points(env: Any, ranges: Any) -> np.ndarray:
    """The points a lidar range image hit, ``(N, 3)`` float32 in the sensor's frame: metres
    forward, left and up from the lidar (the ROS convention). Beams that hit nothing are left out.

    ``env`` is a Lepton env or vector env made with ``observation="lidar"``; ``ranges`` one of its
    observations (channels × rays).
    """
    inner = getattr(getattr(env, "unwrapped", env), "_inner", None)
    if inner is None or inner.lidar_shape is None:
        raise LeptonError("env: a Lepton env made with observation='lidar'")
    ranges = np.asarray(ranges, dtype=np.float32)
    if ranges.shape != tuple(inner.lidar_shape):
        raise LeptonError(f"ranges: one range image of shape {tuple(inner.lidar_shape)} (got shape {ranges.shape})")
    elevations, azimuths = (np.asarray(a, dtype=np.float32) for a in inner.lidar_angles)
    e, a = np.meshgrid(elevations, azimuths, indexing="ij")
    directions = np.stack([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)], axis=-1)
    hit = ranges < inner.lidar_range
    return (directions[hit] * ranges[hit][:, None]).astype(np.float32)


def _continuous_actions(actions: Any, n: int) -> np.ndarray:
    """Continuous actions as float32 rows of ``[steer, throttle]``, checked: one row per env, finite
    numbers (Lepton clips them into the scenario's ranges)."""
    try:
        array = np.asarray(actions, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise LeptonError(f"actions: numbers [steer, throttle] per env ({error})") from None
    if array.shape == (2,) and n == 1:
        array = array.reshape(1, 2)
    if array.shape != (n, 2):
        raise LeptonError(f"actions: one [steer, throttle] per env, shape ({n}, 2) (got shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise LeptonError("actions: [steer, throttle] must be finite numbers (got NaN or infinity)")
    return np.ascontiguousarray(array)


def _step(inner: _lepton.VecEnv, actions: Any, n: int, space: spaces.Space) -> int:
    """Steps the Rust env with discrete or continuous actions, as its action space says."""
    if isinstance(space, spaces.Box):
        return inner.step_continuous(_continuous_actions(actions, n))
    # The common case checked in one line; anything else is converted or refused.
    if not (type(actions) is np.ndarray and actions.dtype == np.int64 and actions.shape == (n,)):
        actions = _actions(actions, n, space.n)
    return inner.step(actions)


def _actions(actions: Any, n: int, k: int) -> np.ndarray:
    """Actions as int64, checked: one integer in [0, k) per env."""
    array = np.asarray(actions)
    if array.shape == () and n == 1:
        array = array.reshape(1)
    if array.shape != (n,):
        raise LeptonError(f"actions: one per env, shape ({n},) (got shape {array.shape})")
    if not np.issubdtype(array.dtype, np.integer):
        if np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise LeptonError(f"actions: integers in 0..{k - 1} (got dtype {array.dtype})")
    return np.ascontiguousarray(array, dtype=np.int64)


class LeptonVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` Lepton environments stepped together in Rust (same-step autoreset)."""

    metadata = {"render_modes": [], "autoreset_mode": _SAME_STEP}

    def __init__(
        self,
        scenario: str = "lane_keep",
        num_envs: int = 16,
        seed: int | None = None,
        observation: Any = "state",
        model: str | None = None,
        copy: bool = True,
        actions: str = "scenario",
    ):
        seed = _check.seed(seed)
        self._copy = _check.flag(copy, "copy")
        self._inner = _native(scenario, num_envs, observation, model, actions=actions)
        self.num_envs = self._inner.num_envs
        self._seed = self._inner.scenario_seed if seed is None else seed
        self.single_observation_space, self.single_action_space = _spaces(self._inner)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self._started = False
        self._every = np.ones(self.num_envs, bool)
        self._every.flags.writeable = False

    @property
    def state_names(self) -> list[str]:
        return list(self._inner.state_names)

    def _out(self, obs: Any) -> Any:
        if isinstance(obs, dict):
            return {k: v.copy() for k, v in obs.items()} if self._copy else obs
        return obs.copy() if self._copy else obs

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if isinstance(seed, (list, tuple, np.ndarray)):
            # One seed per env (None: that env continues its stream), as Gymnasium's own vector
            # envs take them; the vector env's own generator is seeded by the first.
            seeds = [_check.seed(s, f"seed[{i}]") for i, s in enumerate(seed)]
            if len(seeds) != self.num_envs:
                raise LeptonError(f"seed: one per env ({self.num_envs}), got {len(seeds)}")
            super().reset(seed=seeds[0])
            self._inner.reset_some(list(range(self.num_envs)), seeds)
            self._started = True
            infos = {"episode_seed": self._inner.episode_seed.copy(), "_episode_seed": np.ones(self.num_envs, bool)}
            return self._out(self._inner.obs), infos
        seed = _check.seed(seed)
        super().reset(seed=seed)
        if seed is not None or not self._started:
            # Env i restarts its stream at seed + i; without a seed, the first reset uses the
            # constructor's (or the scenario's) and later ones continue every env's stream.
            self._inner.reset(self._seed if seed is None else int(seed))
        else:
            self._inner.reset_some(list(range(self.num_envs)), [None] * self.num_envs)
        self._started = True
        infos = {"episode_seed": self._inner.episode_seed.copy(), "_episode_seed": np.ones(self.num_envs, bool)}
        return self._out(self._inner.obs), infos

    def step(self, actions):
        if not self._started:
            raise LeptonError("step before reset: call reset() first")
        inner = self._inner
        ended_count = _step(inner, actions, self.num_envs, self.single_action_space)
        terminated, truncated = inner.terminated.copy(), inner.truncated.copy()
        infos: dict[str, Any] = {"episode_seed": inner.episode_seed.copy(), "_episode_seed": self._every}
        if ended_count:
            ended = terminated | truncated
            final_obs = np.empty(self.num_envs, dtype=object)
            finals = inner.final_obs
            ends = inner.ends
            for i in np.flatnonzero(ended):
                final_obs[i] = _row(finals, i)
            infos["final_obs"] = final_obs
            infos["_final_obs"] = ended.copy()
            infos["final_info"] = {
                "end": np.array([e if e is not None else "" for e in ends], dtype=object),
                "_end": ended.copy(),
                "episode": {
                    "r": inner.episode_return.copy(),
                    "l": inner.episode_length.astype(np.int64),
                    "_r": ended.copy(),
                    "_l": ended.copy(),
                },
                "_episode": ended.copy(),
            }
            infos["_final_info"] = ended.copy()
        return self._out(inner.obs), inner.rewards.copy(), terminated, truncated, infos

    def close_extras(self, **kwargs):
        self._inner = None


class LeptonEnv(gymnasium.Env):
    """One Lepton environment (for ``gymnasium.make``)."""

    metadata = {"render_modes": [], "render_fps": 12}

    def __init__(
        self,
        scenario: str = "lane_keep",
        seed: int | None = None,
        observation: Any = "state",
        model: str | None = None,
        render_mode: str | None = None,
        actions: str = "scenario",
    ):
        if render_mode is not None:
            raise LeptonError(f"render_mode: Lepton's single env draws nothing itself (got {render_mode!r}); "
                              "use observation='frames' or `lepton view`")
        seed = _check.seed(seed)
        self._inner = _native(scenario, 1, observation, model, autoreset=False, actions=actions)
        self._seed = self._inner.scenario_seed if seed is None else seed
        self.observation_space, self.action_space = _spaces(self._inner)
        self.render_mode = None
        self._started = False
        self._ended = False

    @property
    def state_names(self) -> list[str]:
        return list(self._inner.state_names)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        seed = _check.seed(seed)
        super().reset(seed=seed)
        if seed is not None or not self._started:
            self._inner.reset_some([0], [self._seed if seed is None else seed])
        else:
            self._inner.reset_some([0], [None])
        self._started, self._ended = True, False
        return _row(self._inner.obs, 0), {"episode_seed": np.uint64(self._inner.episode_seed[0])}

    def step(self, action):
        if not self._started or self._ended:
            raise LeptonError("step after the episode ended (or before reset): call reset() first")
        _step(self._inner, action, 1, self.action_space)
        inner = self._inner
        terminated, truncated = bool(inner.terminated[0]), bool(inner.truncated[0])
        self._ended = terminated or truncated
        info = {"episode_seed": np.uint64(inner.episode_seed[0]), "progress": float(inner.progress[0])}
        light = inner.lights_ahead[0]
        if light is not None:
            # The light the ego's lane shows ahead and the metres to its stop line.
            info["light_ahead"] = light
        if self._ended:
            info["end"] = inner.ends[0]
        return _row(inner.obs, 0), float(inner.rewards[0]), terminated, truncated, info

    def close(self):
        self._inner = None
