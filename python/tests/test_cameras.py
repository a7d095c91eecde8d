"""The depth and semantic cameras from Python: their Box spaces pass check_env, a dict of several
parts at once, the classes named, the same seed the same images, and bad names refused."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import lepton
from lepton import SEMANTIC_CLASSES, LeptonError, LeptonVectorEnv


@pytest.mark.parametrize("observation", ["depth", "semantic", ["frames", "depth", "semantic", "state"]])
def test_camera_observations_pass_check_env(observation):
    env = gymnasium.make("lepton/Tiny-v0", observation=observation)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


def test_depth_and_semantic_images_say_what_the_frame_shows():
    envs = LeptonVectorEnv("highway", num_envs=2, seed=3, observation=["frames", "depth", "semantic"])
    assert isinstance(envs.single_observation_space, gymnasium.spaces.Dict)
    obs, _ = envs.reset()
    frames, depth, semantic = obs["frames"], obs["depth"], obs["semantic"]
    assert frames.shape == (2, 84, 84, 3) and depth.shape == (2, 84, 84) and semantic.shape == (2, 84, 84)
    assert depth.dtype == np.float32 and semantic.dtype == np.uint8
    road, sky, vehicle = (SEMANTIC_CLASSES.index(c) for c in ("road", "sky", "vehicle"))
    # Road below, sky above; the road nearer than the sky walls.
    assert np.all(semantic[:, -1, 42] == road) and np.all(semantic[:, 0, :] == sky)
    assert np.all(depth[:, -1, 42] < 10.0) and np.all(depth[:, 0, :] > 500.0)
    # highway's traffic is in view: some pixels are vehicles, nearer than the sky.
    assert np.any(semantic == vehicle) and depth[semantic == vehicle].max() < 500.0
    # The same seed, the same images; steps keep the dict's shape.
    again, _ = LeptonVectorEnv("highway", num_envs=2, seed=3, observation=["frames", "depth", "semantic"]).reset()
    assert all(np.array_equal(obs[k], again[k]) for k in obs)
    obs, *_ = envs.step(np.zeros(2, dtype=np.int64))
    assert set(obs) == {"frames", "depth", "semantic"}


def test_a_single_env_dict_observation_and_its_final_step():
    env = lepton.Env("tiny", observation=["state", "semantic"])
    obs, _ = env.reset(seed=1)
    assert set(obs) == {"state", "semantic"} and obs["state"].shape == (7,) and obs["semantic"].shape == (32, 32)
    assert env.observation_space.contains(obs)


def test_bad_observation_names_are_refused():
    with pytest.raises(LeptonError, match='"depth"'):
        lepton.Env("tiny", observation="depths")
    with pytest.raises(LeptonError, match="twice"):
        lepton.Env("tiny", observation=["depth", "depth"])
    with pytest.raises(LeptonError, match="as a list"):
        lepton.Env("tiny", observation="frames,depth")
    with pytest.raises(LeptonError, match="same row"):
        lepton.Env("tiny", observation=["state", "perception"], model="x")
