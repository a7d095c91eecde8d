"""The lidar observation: a Gymnasium Box of range images that passes check_env, the file's own
sensor or the default one, seeds that mean what they mean in Rust, points from a range image, and
bad input as LeptonError naming the field."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import lepton
from lepton import LeptonError, LeptonVectorEnv, lidar_points

# A straight road, the ego in lane 0, a 2 m box 30 m ahead in its lane; a level 1-channel lidar
# at the car's centre height and a 3-channel one looking down.
BOXED = """Scenario(
    name: "boxed",
    road: (segments: [Straight(length: 300.0)], lanes: 2, lane_width: 3.5),
    ego: (spawn: (s: 10.0, lane: 0, s_jitter: 0.0, offset_jitter: 0.0, heading_jitter: 0.0)),
    obstacles: [(kind: Box, s: 40.0, lane: 0, size: Some((2.0, 2.0, 1.5)))],
    lidar: Some((channels: {channels}, rays: 9, vertical_fov: ({low}, 0.0), range: 60.0, mount: (up: 0.0))),
    episode: (max_steps: 30),
)
"""


def boxed(tmp_path, channels=1, low=0.0):
    path = tmp_path / "boxed.ron"
    path.write_text(BOXED.format(channels=channels, low=low))
    return str(path)


def test_a_shipped_scenario_gets_the_default_lidar_and_passes_check_env():
    env = gymnasium.make("lepton/Highway-v0", observation="lidar")
    space = env.observation_space
    assert space.shape == (32, 360) and space.dtype == np.float32 and space.high.max() == 80.0
    obs, _ = env.reset(seed=3)
    assert space.contains(obs)
    # Something nearer than the range: the road below, the cars around.
    assert obs.min() < 20.0 and obs.max() == 80.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


def test_the_files_lidar_sees_the_box_ahead_and_points_say_where(tmp_path):
    env = lepton.Env(boxed(tmp_path), observation="lidar")
    assert env.observation_space.shape == (1, 9)
    obs, _ = env.reset(seed=0)
    # Column 4 of 9 looks straight ahead: the box's near face, 29 m from the car's centre less
    # nothing (the sensor sits at the centre); every other beam is level and open.
    assert 28.0 < obs[0, 4] < 29.5
    assert np.all(np.delete(obs[0], 4) == 60.0)
    points = lidar_points(env, obs)
    assert points.shape == (1, 3)
    forward, left, up = points[0]
    assert abs(forward - obs[0, 4]) < 1e-4 and abs(left) < 1e-4 and abs(up) < 1e-4


def test_points_below_the_sensor_lie_on_the_road(tmp_path):
    env = lepton.Env(boxed(tmp_path, channels=3, low=-40.0), observation="lidar")
    obs, _ = env.reset(seed=0)
    points = lidar_points(env, obs)
    # The two lower rows meet the road (the top row is level): all at the sensor's height below.
    road = points[points[:, 2] < -0.1]
    assert len(road) >= 2 * 9 - 1
    assert np.ptp(road[:, 2]) < 0.02, road[:, 2]


def test_vector_env_i_is_the_single_env_seeded_s_plus_i_and_final_scans_are_kept():
    envs = LeptonVectorEnv("tiny", num_envs=3, seed=5, observation="lidar")
    obs, _ = envs.reset()
    assert obs.shape == (3, 32, 360) and obs.dtype == np.float32
    single = lepton.Env("tiny", observation="lidar")
    first, _ = single.reset(seed=6)
    assert np.array_equal(first, obs[1])
    # Full throttle straight on until episodes end (tiny's are 100 steps): the last scans come back.
    ended_seen = False
    for _ in range(110):
        obs, _, terminated, truncated, infos = envs.step(np.full(3, 2))
        if np.any(terminated | truncated):
            i = int(np.flatnonzero(terminated | truncated)[0])
            assert infos["final_obs"][i].shape == (32, 360)
            assert not np.array_equal(infos["final_obs"][i], obs[i])
            ended_seen = True
            break
    assert ended_seen


def test_bad_input_names_the_field(tmp_path):
    path = tmp_path / "zero.ron"
    path.write_text(BOXED.format(channels=1, low=0.0).replace("rays: 9", "rays: 0"))
    with pytest.raises(LeptonError, match=r"lidar\.rays: must be at least 1"):
        lepton.Env(str(path), observation="lidar")
    env = lepton.Env(boxed(tmp_path), observation="lidar")
    with pytest.raises(LeptonError, match=r"shape \(1, 9\)"):
        lidar_points(env, np.zeros((2, 9)))
    with pytest.raises(LeptonError, match="observation='lidar'"):
        lidar_points(lepton.Env("tiny"), np.zeros((1, 9)))
    with pytest.raises(LeptonError, match='"lidar"'):
        lepton.Env("tiny", observation="radar")
