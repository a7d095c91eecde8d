"""The perception observation: the state a trained CNN reads from the camera frames, from a model
folder or a `registry:NAME@CHANNEL` name whose files are checked first."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from lepton import LeptonError, LeptonVectorEnv
from lepton.registry import repair, resolve, verify


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    binary = os.environ.get("LEPTON_BIN")
    if not binary:
        pytest.skip("LEPTON_BIN names the lepton program (scripts/test-python sets it)")
    dir = tmp_path_factory.mktemp("perception")
    run = lambda *a: subprocess.run([binary, *a], check=True, capture_output=True)  # noqa: E731
    run("perception", "collect", "tiny", "--frames", "200", "--envs", "4", "--seed", "3", "--out", str(dir / "data"))
    run("perception", "train", str(dir / "data"), "--out", str(dir / "model"), "--epochs", "1", "--seed", "1")
    return dir / "model"


def test_the_cnn_gives_the_state_from_frames(model):
    envs = LeptonVectorEnv("tiny", num_envs=3, seed=5, observation="perception", model=str(model))
    assert envs.single_observation_space.shape == (7,)
    obs, _ = envs.reset()
    assert obs.shape == (3, 7) and obs.dtype == np.float32 and np.all(np.isfinite(obs))
    truth, _ = LeptonVectorEnv("tiny", num_envs=3, seed=5).reset()
    # The speed comes from odometry (exact); the rest is the CNN's estimate, not the truth.
    assert np.array_equal(obs[:, 2], truth[:, 2])
    assert not np.array_equal(obs, truth)
    obs, *_ = envs.step(np.zeros(3, dtype=np.int64))
    assert np.all(np.isfinite(obs))


def test_a_model_from_the_registry_is_checked_before_use(model, tmp_path, monkeypatch):
    version = tmp_path / "registry" / "tiny" / "v0001"
    shutil.copytree(model, version / "model")
    import lepton._lepton as native

    # Every file of the version, as a promotion records them (an unlisted file is refused).
    files = {
        str(p.relative_to(version)): f"{native.xxh3_64_file(str(p)):016x}" for p in (version / "model").rglob("*") if p.is_file()
    }
    lineage = {"name": "tiny", "version": 1, "scenario": "tiny", "code_version": "test", "stages": [], "files": files}
    (version / "lineage.json").write_text(json.dumps(lineage))
    (version.parent / "channels.json").write_text(json.dumps({"candidate": 1, "production": 1}))
    monkeypatch.setenv("LEPTON_REGISTRY", str(tmp_path / "registry"))
    # A channels.json written by hand carries no checksum: refused until repaired, which
    # records the version's lineage and keeps the channels it names.
    with pytest.raises(LeptonError, match="checksum does not match.*registry repair tiny"):
        resolve("registry:tiny@production", part="model")
    repaired = repair("tiny")
    assert repaired["versions"] == [1] and repaired["channels"]["production"] == 1
    assert resolve("registry:tiny@production", part="model") == str(version / "model")
    envs = LeptonVectorEnv("tiny", num_envs=2, observation="perception", model="registry:tiny@production")
    assert envs.reset()[0].shape == (2, 7)
    # The command line's own resolution and messages (lepton-pipeline, in Rust).
    with pytest.raises(LeptonError, match='channels.json: no channel "staging"'):
        resolve("registry:tiny@staging")
    with pytest.raises(LeptonError, match="part must be 'model' or 'policy'"):
        resolve("registry:tiny", part="weights")
    assert verify(version)["files"] == files
    meta = version / "model" / "model.json"
    meta.write_text(meta.read_text() + " ")
    with pytest.raises(LeptonError, match=r"model\.json: XXH3-64 .* the file was changed after promotion"):
        LeptonVectorEnv("tiny", num_envs=2, observation="perception", model="registry:tiny")
