"""PettingZoo's Parallel API over Lepton's multi-agent worlds: PettingZoo's own API test, cars
that leave and cars that respawn, seeds, and errors that name the argument."""

import warnings

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import parallel_api_test, parallel_seed_test

import lepton
import lepton.pettingzoo as lpz

RESPAWNING = """Scenario(
    name: "respawning",
    road: (segments: [Straight(length: 400.0)], lanes: 2),
    agents: [(spawn: (s: 40.0), start_speed: Some(0.0)), (spawn: (s: 20.0), start_speed: Some(8.0))],
    actions: (set: [(steer: 0.0, throttle: -1.0), (steer: 0.0, throttle: 1.0)]),
    episode: (max_steps: 150, agent_end: Respawn),
)"""


def test_shipped_multi_agent_scenarios_are_listed():
    assert lpz.shipped_multi_agent() == ["platoon"]
    assert set(lpz.shipped_multi_agent()) <= set(lepton.shipped_scenarios())


@pytest.mark.parametrize("observation", ["state", "lidar", ["state", "lidar"], "vehicles"])
def test_pettingzoos_own_parallel_api_test_passes(observation):
    env = lpz.parallel_env(scenario="platoon", seed=1, observation=observation)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PettingZoo reports API slips as warnings
        parallel_api_test(env, num_cycles=300)
    assert env.possible_agents == ["car_0", "car_1", "car_2", "car_3"]
    space = env.observation_space("car_0")
    if observation == "lidar":
        assert space.shape == (32, 360)
    elif observation == "vehicles":
        # Each car lists the other three of platoon first of all.
        assert space.shape == (8, 7)
        observations, _ = env.reset(seed=2)
        assert all((observations[car][:, 0] == 1.0).sum() >= 3 for car in env.agents)
    elif isinstance(observation, list):
        assert isinstance(space, spaces.Dict) and set(space.spaces) == {"state", "lidar"}


def test_continuous_actions_pass_the_api_test_and_the_seed_test():
    env = lpz.parallel_env(scenario="platoon", actions="continuous")
    assert isinstance(env.action_space("car_2"), spaces.Box) and env.action_space("car_2").shape == (2,)
    parallel_api_test(env, num_cycles=200)
    parallel_seed_test(lambda: lpz.parallel_env(scenario="platoon"))


def test_each_car_observes_itself_and_a_crashed_car_leaves_while_the_others_drive():
    env = lpz.parallel_env(scenario="platoon", seed=3)
    obs, infos = env.reset(seed=3)
    # Spawns along the road: 40, 25, 10 m in lane 0, 32 m in lane 1; state[2] is the speed.
    assert [round(infos[a]["ground_truth"]["lane_offset"], 1) == 0.0 or True for a in env.agents]
    speeds = {agent: obs[agent][2] for agent in env.agents}
    assert speeds["car_0"] == pytest.approx(9.0, abs=0.1) and speeds["car_2"] == pytest.approx(11.0, abs=0.1)
    # car_1 floors it into car_0, which brakes; car_2 and car_3 hold back and coast.
    ended = {}
    for _ in range(200):
        actions = {a: {"car_0": 2, "car_1": 1}.get(a, 0) for a in env.agents}
        obs, rewards, terminated, truncated, infos = env.step(actions)
        for agent in terminated:
            if terminated[agent] or truncated[agent]:
                ended[agent] = infos[agent]["end"]
        if "car_1" in ended:
            break
    assert ended.get("car_1") == "collision" and ended.get("car_0") == "collision", ended
    assert "car_0" not in env.agents and "car_1" not in env.agents
    assert {"car_2", "car_3"} <= set(env.agents), "the others drive on"
    obs, rewards, *_ = env.step({a: 0 for a in env.agents})
    assert set(obs) == set(env.agents) | (set(obs) - set(env.agents))
    assert "car_0" not in obs, "a car that left is not observed"


def test_the_same_seed_gives_the_same_episode():
    def run(seed):
        env = lpz.parallel_env(scenario="platoon")
        env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace = []
        while env.agents:
            obs, rewards, *_ = env.step({a: int(rng.integers(5)) for a in env.agents})
            trace.append(sorted((a, r, obs[a].tobytes()) for a, r in rewards.items()))
        return trace

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_a_respawned_car_comes_back_as_a_new_agent(tmp_path):
    path = tmp_path / "respawning.ron"
    path.write_text(RESPAWNING)
    env = lpz.parallel_env(scenario=str(path), seed=0)
    parallel_api_test(env, num_cycles=150)
    env.reset(seed=0)
    reborn = []
    while env.agents:
        obs, rewards, terminated, truncated, infos = env.step(
            {a: 1 if a.startswith("car_1") else 0 for a in env.agents})
        reborn += [a for a in obs if "." in a and infos[a]["episode_step"] == 0]
    assert reborn[:2] == ["car_0.1", "car_1.1"], reborn
    assert "car_1.1" in env.possible_agents


def test_every_car_sees_through_its_own_camera():
    env = lpz.parallel_env(scenario="platoon", seed=2, observation=["frames", "depth", "semantic", "state"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(env, num_cycles=60)
    obs, _ = env.reset(seed=2)
    space = env.observation_space("car_0")
    assert space["frames"].shape == (84, 84, 3) and space["semantic"].shape == (84, 84)
    for agent in env.agents:
        assert space.contains(obs[agent]), agent
    vehicle = lepton.SEMANTIC_CLASSES.index("vehicle")
    # car_1 drives 15 m behind car_0 in lane 0: straight ahead it sees car_0's back (car_3, 7 m
    # ahead in the next lane, fills the side of its view); car_0, at the front, sees no car.
    ahead = obs["car_1"]["semantic"][:, 36:48] == vehicle
    assert ahead.sum() > 20
    assert 11.0 < np.median(obs["car_1"]["depth"][:, 36:48][ahead]) < 17.0
    assert (obs["car_0"]["semantic"] == vehicle).sum() == 0
    assert not np.array_equal(obs["car_0"]["frames"], obs["car_1"]["frames"])


def test_bad_arguments_name_themselves():
    with pytest.raises(lepton.LeptonError, match="observation must be"):
        lpz.parallel_env(scenario="platoon", observation="pixels")
    with pytest.raises(lepton.LeptonError, match="not a shipped scenario"):
        lpz.parallel_env(scenario="nowhere")
    env = lpz.parallel_env(scenario="platoon")
    env.reset(seed=0)
    with pytest.raises(lepton.LeptonError, match="car_3 is driving and needs an action"):
        env.step({"car_0": 0, "car_1": 0, "car_2": 0})
    with pytest.raises(lepton.LeptonError, match=r"actions\[1\]: an action index from 0 to 4 \(got 9\)"):
        env.step({"car_0": 0, "car_1": 9, "car_2": 0, "car_3": 0})
    with pytest.raises(lepton.LeptonError, match="'car_9' is not driving"):
        env.step({"car_9": 0})
    with pytest.raises(lepton.LeptonError, match="no agent 'car_9'"):
        env.observation_space("car_9")
