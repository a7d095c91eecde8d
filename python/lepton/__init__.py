"""Lepton: a fast 3D driving simulator for reinforcement learning, from Python.

``import lepton`` registers Lepton's scenarios with Gymnasium:

>>> import gymnasium, lepton
>>> env = gymnasium.make("lepton/LaneKeep-v0")                      # one env, driving-state observation
>>> envs = gymnasium.make_vec("lepton/Highway-v0", num_envs=16)     # Lepton's vector env, in Rust
>>> envs = lepton.VectorEnv("lane_keep", 16, 0, observation="frames")  # the same, directly
>>> env = gymnasium.make("lepton/Scenario-v0", scenario="my_road.ron", observation="frames")
>>> env = gymnasium.make("lepton/Highway-v0", observation="lidar")   # a 32 × 360 range image
"""

import gymnasium

from ._lepton import LeptonError, shipped_scenarios
from .gym import SEMANTIC_CLASSES, LeptonEnv, LeptonVectorEnv, lidar_points

#: ``lepton.VectorEnv(scenario, num_envs, seed, observation=...)`` and ``lepton.Env(scenario, ...)``.
VectorEnv = LeptonVectorEnv
Env = LeptonEnv

__all__ = [
    "Env",
    "VectorEnv",
    "LeptonEnv",
    "LeptonVectorEnv",
    "LeptonError",
    "lidar_points",
    "SEMANTIC_CLASSES",
    "shipped_scenarios",
    "ENV_IDS",
]

#: Gymnasium ids of the shipped scenarios, and the one that takes any scenario by path.
ENV_IDS = {
    "lepton/LaneKeep-v0": "lane_keep",
    "lepton/Highway-v0": "highway",
    "lepton/Obstacles-v0": "obstacles",
    "lepton/CutIn-v0": "cut_in",
    "lepton/EmergencyBrake-v0": "emergency_brake",
    "lepton/Tiny-v0": "tiny",
    "lepton/Merge-v0": "merge",
    "lepton/Intersection-v0": "intersection",
    "lepton/Roundabout-v0": "roundabout",
}


def _register() -> None:
    for env_id, scenario in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point="lepton.gym:LeptonEnv",
                vector_entry_point="lepton.gym:LeptonVectorEnv",
                kwargs={"scenario": scenario},
            )
    if "lepton/Scenario-v0" not in gymnasium.registry:
        # Any scenario file: gymnasium.make("lepton/Scenario-v0", scenario="path/to/file.ron").
        gymnasium.register(
            id="lepton/Scenario-v0",
            entry_point="lepton.gym:LeptonEnv",
            vector_entry_point="lepton.gym:LeptonVectorEnv",
        )


_register()
