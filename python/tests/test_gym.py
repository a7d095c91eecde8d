"""The Gymnasium API: registered envs pass check_env, buffers have the declared dtypes and
shapes, seeds mean what they mean in Rust, same-step autoreset as Gymnasium defines it, and bad
input raises LeptonError with the command line's message."""

import os
import subprocess
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import lepton
from lepton import LeptonError, LeptonEnv, LeptonVectorEnv


@pytest.mark.parametrize("env_id", sorted(lepton.ENV_IDS))
def test_every_registered_env_passes_check_env_without_warnings(env_id):
    env = gymnasium.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    env.close()


def test_a_scenario_file_by_path_and_the_frames_observation_pass_check_env(tmp_path):
    scenario = tmp_path / "short.ron"
    scenario.write_text(TINY)
    env = gymnasium.make("lepton/Scenario-v0", scenario=str(scenario), observation="frames")
    assert env.observation_space.shape == (32, 32, 1) and env.observation_space.dtype == np.uint8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []


TINY = """Scenario(
    name: "short",
    seed: 4,
    road: (segments: [Straight(length: 80.0)], lanes: 2, lane_width: 3.5),
    ego: (spawn: (s: 5.0, lane: 0, offset_jitter: 0.2), start_speed: 5.0),
    camera: (width: 32, height: 32, format: Grey),
    episode: (max_steps: 60),
)
"""


def test_buffers_have_the_declared_dtypes_and_shapes():
    envs = LeptonVectorEnv("tiny", num_envs=4, seed=3)
    obs, info = envs.reset()
    assert obs.shape == (4, 7) and obs.dtype == np.float32
    assert envs.single_observation_space.contains(obs[0])
    assert envs.action_space.shape == (4,)
    obs, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
    assert rewards.shape == (4,) and rewards.dtype == np.float32
    assert terminated.dtype == np.bool_ and truncated.dtype == np.bool_
    assert infos["episode_seed"].dtype == np.uint64
    frames = LeptonVectorEnv("tiny", num_envs=3, seed=3, observation="frames")
    obs, _ = frames.reset()
    assert obs.shape == (3, 32, 32, 1) and obs.dtype == np.uint8 and obs.max() > obs.min()
    # Copies by default: a step does not change what an earlier step returned.
    before = obs.copy()
    frames.step(np.zeros(3, dtype=np.int64))
    assert np.array_equal(obs, before)


def trajectory(env, actions):
    obs, _ = env.reset(seed=11) if isinstance(env, LeptonEnv) else env.reset()
    out = [obs.copy()]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        out.append(np.append(obs.ravel(), [reward, terminated, truncated]))
        if isinstance(env, LeptonEnv) and (terminated or truncated):
            obs, _ = env.reset()
            out.append(obs.copy())
    return out


def test_the_same_seed_gives_the_same_trajectory_and_env_i_is_the_single_env_seeded_s_plus_i():
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 7, size=(150, 3))
    run = lambda: trajectory(LeptonVectorEnv("tiny", num_envs=3, seed=10), actions)  # noqa: E731
    first, second = run(), run()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    other = trajectory(LeptonVectorEnv("tiny", num_envs=3, seed=99), actions)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
    # Env 1 of the vector env seeded 10 drives exactly as the single env seeded 11 (which is
    # reset by hand, with no seed, whenever its episode ends).
    vec = LeptonVectorEnv("tiny", num_envs=3, seed=10)
    single = LeptonEnv("tiny")
    v_obs, _ = vec.reset()
    s_obs, _ = single.reset(seed=11)
    assert np.array_equal(v_obs[1], s_obs)
    for a in actions:
        v_obs, v_r, v_term, v_trunc, v_info = vec.step(a)
        s_obs, s_r, s_term, s_trunc, _ = single.step(int(a[1]))
        assert v_r[1] == s_r and v_term[1] == s_term and v_trunc[1] == s_trunc
        if s_term or s_trunc:
            assert np.array_equal(v_info["final_obs"][1], s_obs)
            s_obs, _ = single.reset()
        assert np.array_equal(v_obs[1], s_obs)


def test_seeds_as_gymnasium_takes_them_a_list_per_env_and_numpy_integers():
    first, _ = LeptonEnv("tiny").reset(seed=7)
    numpy_seeded, _ = LeptonEnv("tiny").reset(seed=np.int64(7))
    assert np.array_equal(first, numpy_seeded)
    # One seed per env: env i starts as the single env seeded seeds[i] (None: continues).
    seeds = [7, np.uint32(30), 5]
    vec = LeptonVectorEnv("tiny", num_envs=3, seed=100)
    obs, info = vec.reset(seed=seeds)
    for i, s in enumerate(seeds):
        single, single_info = LeptonEnv("tiny").reset(seed=int(s))
        assert np.array_equal(obs[i], single), i
        assert info["episode_seed"][i] == single_info["episode_seed"], i
    again, _ = vec.reset(seed=np.array([7, 30, 5]))
    assert np.array_equal(again, obs)
    for bad, says in [(1.5, "an integer"), (True, "an integer"), (-1, r"\[0, 2\*\*64\)"), ("7", "an integer")]:
        with pytest.raises(LeptonError, match=says):
            vec.reset(seed=bad)
        with pytest.raises(LeptonError, match=says):
            LeptonEnv("tiny").reset(seed=bad)
    with pytest.raises(LeptonError, match=r"seed\[1\]: an integer"):
        vec.reset(seed=[1, 2.5, 3])
    with pytest.raises(LeptonError, match="one per env"):
        vec.reset(seed=[1, 2])


def test_frames_env_i_and_its_last_frames_are_the_single_env_seeded_s_plus_i():
    # The renderer writes frames straight into the numpy buffers: the next episode's first frame
    # into obs, the ended episode's last into final_obs, each env's into its own row.
    vec = lepton.VectorEnv("tiny", 3, 10, observation="frames")
    single = LeptonEnv("tiny", observation="frames")
    v_obs, _ = vec.reset()
    s_obs, _ = single.reset(seed=12)
    assert np.array_equal(v_obs[2], s_obs)
    ends = 0
    for t in range(130):
        actions = np.array([0, 1, 5 if t % 2 else 1])
        v_obs, _, v_term, v_trunc, v_info = vec.step(actions)
        s_obs, _, s_term, s_trunc, _ = single.step(int(actions[2]))
        if s_term or s_trunc:
            ends += 1
            assert v_info["_final_obs"][2] and np.array_equal(v_info["final_obs"][2], s_obs)
            s_obs, _ = single.reset()
        assert np.array_equal(v_obs[2], s_obs), f"step {t}"
    assert ends >= 1


def test_same_step_autoreset_as_gymnasium_defines_it():
    envs = LeptonVectorEnv("tiny", num_envs=2, seed=5)
    assert envs.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    obs, _ = envs.reset()
    seeds = None
    for _ in range(400):
        obs, rewards, terminated, truncated, infos = envs.step(np.array([1, 1]))
        ended = terminated | truncated
        if ended.any():
            i = int(np.flatnonzero(ended)[0])
            assert infos["_final_obs"][i] and infos["_final_info"][i]
            final = infos["final_obs"][i]
            assert final.shape == (7,) and not np.array_equal(final, obs[i]), "obs[i] is the next episode's"
            assert infos["final_info"]["end"][i] in ("collision", "off_road", "success", "time_limit", "stuck")
            assert infos["final_info"]["episode"]["l"][i] > 0
            seeds = infos["episode_seed"]
            break
    assert seeds is not None, "an episode ended within 400 steps"


def test_bad_input_raises_lepton_error_with_the_command_lines_message(tmp_path):
    with pytest.raises(LeptonError, match=r"nowhere: no such file, and not a shipped scenario \(shipped: lane_keep"):
        LeptonVectorEnv("nowhere", num_envs=2)
    broken = tmp_path / "broken.ron"
    broken.write_text("Scenario(\n    name: \"x\",\n    road: (lanes: oops),\n)\n")
    with pytest.raises(LeptonError, match=r"broken.ron:3:"):
        gymnasium.make("lepton/Scenario-v0", scenario=str(broken))
    with pytest.raises(LeptonError, match="observation must be"):
        LeptonVectorEnv("tiny", observation="radar")
    envs = LeptonVectorEnv("tiny", num_envs=2)
    envs.reset()
    k = envs.single_action_space.n
    with pytest.raises(LeptonError, match=rf"action 9 of env 1 is out of range: tiny has {k} actions \(0 to {k - 1}\)"):
        envs.step(np.array([0, 9]))
    with pytest.raises(LeptonError, match=r"shape \(2,\)"):
        envs.step(np.array([0, 1, 2]))
    with pytest.raises(LeptonError, match="integers"):
        envs.step(np.array(["left", "right"]))
    with pytest.raises(LeptonError, match="integers"):
        envs.step(np.array([0.5, 1.0]))
    env = LeptonEnv("tiny")
    with pytest.raises(LeptonError, match="reset"):
        env.step(0)


def test_the_same_seed_drives_as_lepton_rollout(tmp_path):
    """Replaying the actions of `lepton rollout --seed S --trace` in a Python env seeded S gives
    its rewards, ends and speeds, step for step."""
    binary = os.environ.get("LEPTON_BIN")
    if not binary:
        pytest.skip("LEPTON_BIN names the lepton program (scripts/test-python sets it)")
    trace = tmp_path / "trace.csv"
    subprocess.run([binary, "rollout", "tiny", "--seed", "21", "--steps", "300", "--policy", "random",
                    "--trace", str(trace)], check=True, capture_output=True)
    lines = trace.read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    envs = LeptonVectorEnv("tiny", num_envs=1, seed=21)
    envs.reset()
    ends = 0
    for row in rows:
        obs, reward, terminated, truncated, infos = envs.step(np.array([int(row["action"])]))
        assert reward[0] == np.float32(row["reward"]), row
        assert (int(terminated[0]), int(truncated[0])) == (int(row["terminated"]), int(row["truncated"])), row
        state = infos["final_obs"][0] if terminated[0] or truncated[0] else obs[0]
        assert state[2] == np.float32(row["speed"]), row
        ends += bool(terminated[0] or truncated[0])
    assert ends >= 2, "the replay crosses episode ends"


def test_the_light_ahead_is_in_the_info_where_a_junction_has_lights(tmp_path):
    text = open(_shipped("intersection")).read()
    lights = 'signals: (phases: [(green: ["north", "south"], time: 15.0), (green: ["west", "east"], time: 15.0)]), '
    with_lights = text.replace('(name: "crossing", ', '(name: "crossing", ' + lights, 1)
    assert with_lights != text
    path = tmp_path / "lights.ron"
    path.write_text(with_lights)
    env = LeptonEnv(str(path))
    env.reset(seed=3)
    _, _, _, _, info = env.step(1)
    light, metres = info["light_ahead"]
    assert light in ("green", "amber", "red") and 0.0 < metres < 200.0
    # No lights, no key.
    plain = LeptonEnv("intersection")
    plain.reset(seed=3)
    assert "light_ahead" not in plain.step(0)[4]


def _shipped(name):
    import pathlib

    return pathlib.Path(__file__).resolve().parents[2] / "sim" / "scenarios" / f"{name}.ron"
