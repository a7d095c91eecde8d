"""Every bad argument to Lepton's Python API raises ``lepton.LeptonError`` naming the argument
(or the file and field, as the command line does): never a ``TypeError`` from the binding, a
``ValueError`` from ``int()``, an ``OverflowError``, a ``RuntimeError`` or an ``AssertionError``.
One case a line, so a regression names the call."""

import pathlib

import gymnasium
import numpy as np
import pytest

import lepton
import lepton.pipeline
import lepton.registry
from lepton import LeptonEnv, LeptonError, LeptonVectorEnv
from lepton.sb3 import LeptonSB3VecEnv

CASES = [
    # (what is called, the message it must carry)
    (lambda: LeptonVectorEnv("tiny", num_envs=0), r"num_envs: must be from 1 to 4096 \(got 0\)"),
    (lambda: LeptonVectorEnv("tiny", num_envs=-3), r"num_envs: must be from 1 to 4096 \(got -3\)"),
    (lambda: LeptonVectorEnv("tiny", num_envs=5000), r"num_envs: must be from 1 to 4096"),
    (lambda: LeptonVectorEnv("tiny", num_envs="4"), r"num_envs: an integer from 1 to 4096 \(got '4'\)"),
    (lambda: LeptonVectorEnv("tiny", num_envs=2.0), r"num_envs: an integer"),
    (lambda: LeptonVectorEnv("tiny", num_envs=True), r"num_envs: an integer"),
    (lambda: LeptonVectorEnv("tiny", num_envs=2, seed="x"), r"seed: an integer >= 0 or None \(got 'x'\)"),
    (lambda: LeptonVectorEnv("tiny", num_envs=2, seed=-1), r"seed: must be in \[0, 2\*\*64\)"),
    (lambda: LeptonVectorEnv("tiny", num_envs=2, copy="no"), r"copy: True or False"),
    (lambda: LeptonVectorEnv(None, num_envs=2), r"scenario: a path, as str or os.PathLike \(got None\)"),
    (lambda: LeptonVectorEnv(7, num_envs=2), r"scenario: a path"),
    (lambda: LeptonVectorEnv("tiny", observation=3), r"observation: a string \(got 3\)"),
    (lambda: LeptonVectorEnv("tiny", observation="radar"), r"observation must be one of \"state\", \"frames\""),
    (lambda: LeptonVectorEnv("tiny", observation="perception"), r"takes model=MODEL_DIR"),
    (lambda: LeptonVectorEnv("tiny", observation="perception", model=5), r"model: a path \(|model: a path"),
    (lambda: LeptonVectorEnv("tiny", observation="perception", model="/nowhere"), r"/nowhere"),
    (lambda: LeptonEnv("tiny", seed=1.5), r"seed: an integer >= 0 or None \(got 1.5\)"),
    (lambda: LeptonEnv("tiny", render_mode="human"), r"render_mode: Lepton's single env draws nothing"),
    (lambda: LeptonEnv(pathlib.Path("/no/such.ron")), r"/no/such.ron"),
    (lambda: gymnasium.make("lepton/Tiny-v0", observation=None), r"observation: a string \(got None\)"),
    (lambda: gymnasium.make("lepton/Tiny-v0", seed="1"), r"seed: an integer"),
    (lambda: gymnasium.make_vec("lepton/Tiny-v0", num_envs=2, vectorization_mode="vector_entry_point", seed=[1]),
     r"seed: an integer"),
    (lambda: LeptonSB3VecEnv("tiny", num_envs=0), r"num_envs: must be from 1"),
    (lambda: LeptonSB3VecEnv("tiny", num_envs=2, seed=2.5), r"seed: an integer"),
    (lambda: LeptonSB3VecEnv("tiny", num_envs=2).seed("x"), r"seed: an integer"),
    (lambda: LeptonSB3VecEnv("tiny", num_envs=2).step_wait(), r"step_wait before step_async"),
    (lambda: LeptonSB3VecEnv("tiny", num_envs=2).set_attr("speed", 1), r"no settable attribute 'speed'"),
    (lambda: LeptonSB3VecEnv("tiny", num_envs=2).get_attr("no_such"), r"no attribute 'no_such'"),
    (lambda: LeptonSB3VecEnv("tiny", num_envs=2).env_method("reset"), r"no per-env method 'reset'"),
    (lambda: lepton.registry.resolve(None), r"spec: a string \(got None\)"),
    (lambda: lepton.registry.resolve("tiny", part=1), r"part: a string"),
    (lambda: lepton.registry.resolve("tiny", part="weights"), r"part must be 'model' or 'policy'"),
    (lambda: lepton.registry.resolve("tiny", registry=3), r"registry: a path"),
    (lambda: lepton.registry.resolve("../x", registry="/tmp"), r"\.\./x"),
    (lambda: lepton.registry.verify(None), r"version_dir: a path"),
    (lambda: lepton.registry.verify("/no/such/version"), r"/no/such/version"),
    (lambda: lepton.registry.repair(5), r"name: a string"),
    (lambda: lepton.registry.repair("a/b", registry="/tmp"), r"a/b"),
    (lambda: lepton.pipeline.load(None), r"path: a path"),
    (lambda: lepton.pipeline.load("/no/such.ron"), r"/no/such.ron"),
    (lambda: lepton.pipeline.run(b"tiny.ron"), r"path: a path"),
    (lambda: lepton.pipeline.run("/no/such.ron", program=4), r"program: a path"),
    (lambda: lepton.pipeline.monitor("/no/such.ron", checks=0), r"checks: must be from 1"),
    (lambda: lepton.pipeline.monitor("/no/such.ron", checks="2"), r"checks: an integer"),
    (lambda: lepton.pipeline.monitor("/no/such.ron", retrain="yes"), r"retrain: True or False"),
]


@pytest.mark.parametrize("call, says", CASES, ids=[says for _, says in CASES])
def test_each_bad_argument_raises_lepton_error_naming_it(call, says):
    with pytest.raises(LeptonError, match=says):
        call()


def test_lepton_error_is_a_value_error_and_a_missing_attribute_is_also_an_attribute_error():
    assert issubclass(LeptonError, ValueError)
    envs = LeptonSB3VecEnv("tiny", num_envs=2)
    with pytest.raises(AttributeError):
        envs.get_attr("no_such")
    assert envs.get_attr("render_mode") == [None, None]
    assert envs.get_attr("num_actions") == [envs.action_space.n] * 2


def test_bad_steps_after_a_good_reset_raise_lepton_error():
    envs = LeptonVectorEnv("tiny", num_envs=2, seed=1)
    with pytest.raises(LeptonError, match="step before reset"):
        envs.step(np.array([0, 0]))
    envs.reset()
    for actions, says in [
        (np.array([0, -1]), r"action -1 of env 1 is out of range"),
        ([0], r"shape \(2,\)"),
        (np.array([[0, 1]]), r"shape \(2,\)"),
        (np.array([np.nan, 0.0]), r"integers"),
        ("left", r"shape \(2,\)"),
    ]:
        with pytest.raises(LeptonError, match=says):
            envs.step(actions)
    with pytest.raises(LeptonError, match=r"seed\[0\]: an integer"):
        envs.reset(seed=["a", 1])
