"""Ray RLlib (new API stack): one PPO training iteration with 2 EnvRunners on a local Ray, each
vectorising Lepton envs, with the example's configuration."""

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.rllib")


def test_one_ppo_iteration_with_two_env_runners():
    from lepton.rllib import ppo_config

    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    try:
        algo = ppo_config("tiny", env_runners=2, envs_per_runner=2, batch=400, seed=1).build_algo()
        result = algo.train()
        runners = result["env_runners"]
        assert runners["num_env_steps_sampled_lifetime"] >= 400
        assert len(algo.env_runner_group.healthy_worker_ids()) == 2
        algo.stop()
    finally:
        ray.shutdown()


def test_one_multi_agent_ppo_iteration_with_a_shared_policy():
    from lepton.rllib import multi_agent_ppo_config

    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    try:
        algo = multi_agent_ppo_config("platoon", env_runners=1, batch=400, seed=1).build_algo()
        result = algo.train()
        runners = result["env_runners"]
        # Every car's steps go to the one shared module, which the learner updated.
        assert set(runners["num_agent_steps_sampled_lifetime"]) == {"car_0", "car_1", "car_2", "car_3"}
        assert set(runners["num_module_steps_sampled_lifetime"]) == {"shared"}
        assert runners["num_module_steps_sampled_lifetime"]["shared"] > runners["num_env_steps_sampled_lifetime"]
        assert "shared" in result["learners"]
        algo.stop()
    finally:
        ray.shutdown()
