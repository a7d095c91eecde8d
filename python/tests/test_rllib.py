"""Ray RLlib (new API stack): one PPO training iteration with 2 EnvRunners on a local Ray, each
vectorising Lepton envs, with the example's configuration."""

import importlib.util
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.rllib")


def load_example():
    path = Path(__file__).resolve().parents[1] / "examples" / "rllib_ppo.py"
    spec = importlib.util.spec_from_file_location("rllib_ppo", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["rllib_ppo"] = module
    spec.loader.exec_module(module)
    return module


def test_one_ppo_iteration_with_two_env_runners():
    example = load_example()
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    try:
        algo = example.build("tiny", env_runners=2, envs_per_runner=2, batch=400, seed=1)
        result = algo.train()
        runners = result["env_runners"]
        assert runners["num_env_steps_sampled_lifetime"] >= 400
        assert len(algo.env_runner_group.healthy_worker_ids()) == 2
        algo.stop()
    finally:
        ray.shutdown()
