"""The object list from Python: highway-env's "Kinematics" observation, as a Gymnasium env and in
a dict beside the state."""

import warnings

import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env

import lepton  # noqa: F401  (registers the envs)


def test_highway_lists_the_nearest_cars_nearest_first_and_passes_check_env():
    env = gymnasium.make("lepton/Highway-v0", observation="vehicles")
    space = env.observation_space
    assert space.shape == (8, 7) and space.dtype == np.float32
    obs, _ = env.reset(seed=3)
    assert space.contains(obs)
    present = obs[obs[:, 0] == 1.0]
    assert len(present) >= 1, "highway has traffic near the start"
    # Nearest first, and zero rows after the last car listed.
    distances = np.hypot(present[:, 1], present[:, 2])
    assert np.all(np.diff(distances) >= 0)
    assert np.all(obs[len(present):] == 0.0)
    # Unit headings, traffic going the car's way.
    assert np.allclose(np.hypot(present[:, 5], present[:, 6]), 1.0, atol=1e-4)
    assert np.all(present[:, 5] > 0.9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


def test_the_list_sits_beside_the_state_in_a_dict_and_follows_the_seed():
    make = lambda: gymnasium.make("lepton/Highway-v0", observation=["state", "vehicles"])  # noqa: E731
    a, b = make(), make()
    obs_a, _ = a.reset(seed=5)
    obs_b, _ = b.reset(seed=5)
    assert set(obs_a) == {"state", "vehicles"} and obs_a["vehicles"].shape == (8, 7)
    for _ in range(10):
        obs_a, *_ = a.step(0)
        obs_b, *_ = b.step(0)
    np.testing.assert_array_equal(obs_a["vehicles"], obs_b["vehicles"])
