"""Continuous control from Python: a Box action space of [steer, throttle] for any scenario with
``actions="continuous"`` (or a file with ``actions.continuous``), check_env clean, the same
trajectory through every wrapper, clipping into the file's ranges, and bad actions refused."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

import lepton
from lepton import LeptonError, LeptonEnv, LeptonVectorEnv
from lepton.sb3 import LeptonSB3VecEnv


@pytest.mark.parametrize("env_id", ["lepton/LaneKeep-v0", "lepton/Highway-v0", "lepton/Roundabout-v0"])
def test_shipped_scenarios_with_continuous_actions_pass_check_env(env_id):
    env = gymnasium.make(env_id, actions="continuous")
    space = env.action_space
    assert isinstance(space, spaces.Box) and space.shape == (2,) and space.dtype == np.float32
    assert space.low.tolist() == [-1.0, -1.0] and space.high.tolist() == [1.0, 1.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


RANGED = """Scenario(
    name: "ranged",
    seed: 4,
    road: (segments: [Straight(length: 200.0)], lanes: 2, lane_width: 3.5),
    ego: (spawn: (s: 5.0, lane: 0, offset_jitter: 0.2), start_speed: 5.0),
    actions: (continuous: (steer: (-0.3, 0.3), throttle: (-0.5, 0.8))),
    episode: (max_steps: 60),
)
"""


def rollout(env, actions):
    obs, _ = env.reset(seed=9)
    states = [obs]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        states.append(obs)
        if terminated or truncated:
            break
    return np.array(states)


def test_a_files_ranges_are_the_box_and_actions_beyond_them_are_clipped(tmp_path):
    path = tmp_path / "ranged.ron"
    path.write_text(RANGED)
    env = LeptonEnv(str(path))
    assert env.action_space.low.tolist() == pytest.approx([-0.3, -0.5])
    assert env.action_space.high.tolist() == pytest.approx([0.3, 0.8])
    beyond = rollout(env, [np.array([1.0, 1.0], np.float32)] * 20)
    at_edge = rollout(env, [np.array([0.3, 0.8], np.float32)] * 20)
    inside = rollout(env, [np.array([0.1, 0.8], np.float32)] * 20)
    assert np.array_equal(beyond, at_edge)
    assert not np.array_equal(inside, at_edge)
    # The same file forced discrete is the discrete set again.
    assert isinstance(LeptonEnv(str(path), actions="discrete").action_space, spaces.Discrete)


def test_steering_left_moves_the_car_left():
    env = LeptonEnv("lane_keep", actions="continuous")
    left = rollout(env, [np.array([0.3, 0.3], np.float32)] * 6)
    right = rollout(env, [np.array([-0.3, 0.3], np.float32)] * 6)
    lane_offset = env.state_names.index("lane_offset")
    assert left[-1, lane_offset] > right[-1, lane_offset] + 0.5


def test_the_vector_env_the_sb3_env_and_single_envs_agree():
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(15, 3, 2)).astype(np.float32)
    vector = LeptonVectorEnv("highway", num_envs=3, seed=21, actions="continuous")
    assert vector.action_space.shape == (3, 2)
    sb3 = LeptonSB3VecEnv("highway", num_envs=3, seed=21, actions="continuous")
    singles = [LeptonEnv("highway", seed=21 + i, actions="continuous") for i in range(3)]
    obs_v, _ = vector.reset()
    obs_s = sb3.reset()
    assert np.array_equal(obs_v, obs_s)
    firsts = [env.reset()[0] for env in singles]
    assert np.array_equal(obs_v, np.array(firsts))
    done = [False] * 3
    for step in actions:
        obs_v, rewards_v, terminated, truncated, _ = vector.step(step)
        obs_s, rewards_s, dones, _ = sb3.step(step)
        assert np.array_equal(obs_v, obs_s) and np.array_equal(rewards_v, rewards_s)
        for i, env in enumerate(singles):
            if done[i]:
                continue
            obs, reward, term, trunc, _ = env.step(step[i])
            assert reward == rewards_v[i]
            if term or trunc:
                done[i] = True
            else:
                assert np.array_equal(obs, obs_v[i])


def test_bad_continuous_actions_raise_lepton_errors():
    envs = LeptonVectorEnv("tiny", num_envs=2, seed=1, actions="continuous")
    envs.reset()
    with pytest.raises(LeptonError, match=r"shape \(2, 2\)"):
        envs.step(np.zeros((3, 2), np.float32))
    with pytest.raises(LeptonError, match="finite"):
        envs.step(np.array([[0.0, np.nan], [0.0, 0.0]], np.float32))
    with pytest.raises(LeptonError, match="numbers"):
        envs.step([["left", 0.0], [0.0, 0.0]])
    with pytest.raises(LeptonError, match='actions must be "scenario"'):
        LeptonEnv("tiny", actions="analogue")
    with pytest.raises(LeptonError, match="actions"):
        LeptonEnv("tiny", actions=3)


def test_rllibs_env_creator_passes_the_action_kind_on():
    from lepton.rllib import env_creator

    assert isinstance(env_creator({"scenario": "tiny", "actions": "continuous"}).action_space, spaces.Box)
    assert isinstance(env_creator({"scenario": "tiny"}).action_space, spaces.Discrete)

