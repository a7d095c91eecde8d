"""lepton.pipeline: the command line's pipeline library from Python — a tiny pipeline run end to end
(promoted, then found done), its report and registry, and bad files named as the command line
names them."""

import os

import pytest

from lepton import LeptonError
from lepton import pipeline
from lepton.registry import resolve

TINY = """Pipeline(
    name: "tiny",
    scenario: "tiny",
    seed: 3,
    collect: (frames: 300, held_out_frames: 100, envs: 4),
    perception: (epochs: 1, grey: true),
    perception_gate: (max_lane_mae: Some(5.0), max_heading_mae: Some(90.0), production_margin: 100.0),
    agent: (steps: 600, envs: 2),
    agent_gate: (episodes: 2, min_success_rate: 0.0, production_margin: 1000.0),
)"""


def test_a_file_loads_with_its_defaults_and_bad_ones_are_named(tmp_path):
    path = tmp_path / "tiny.ron"
    path.write_text(TINY)
    spec = pipeline.load(path)
    assert spec["name"] == "tiny" and spec["collect"]["frames"] == 300
    assert spec["retrain"]["attempts"] == 3  # a default the file leaves out
    path.write_text("Pipeline(\n  name: \"tiny\",\n  seed: oops,\n)")
    with pytest.raises(LeptonError, match=r"tiny\.ron:3:"):
        pipeline.load(path)
    path.write_text('Pipeline(name: "tiny", agent_gate: (min_success_rate: 1.5))')
    with pytest.raises(LeptonError, match=r"agent_gate\.min_success_rate"):
        pipeline.load(path)
    with pytest.raises(LeptonError, match="checks: must be from 1"):
        pipeline.monitor(path, checks=0)


def test_a_missing_lepton_program_is_named(tmp_path):
    path = tmp_path / "tiny.ron"
    path.write_text(TINY)
    with pytest.raises(LeptonError, match="cannot run lepton .*no-such-lepton"):
        pipeline.run(path, program=tmp_path / "no-such-lepton")


def test_a_tiny_pipeline_promotes_then_finds_everything_done(tmp_path):
    binary = os.environ.get("LEPTON_BIN")
    if not binary:
        pytest.skip("LEPTON_BIN names the lepton program (scripts/test-python sets it)")
    path = tmp_path / "tiny.ron"
    path.write_text(TINY)
    report = pipeline.run(path, program=binary)
    assert [(s["stage"], s["how"]) for s in report["stages"]] == [
        (name, "ran")
        for name in ["collect", "held_out", "perception", "perception_gate", "agent", "agent_gate", "promote"]
    ]
    assert report["promoted"]["version"] == 1 and not report["nothing_to_do"]
    assert (tmp_path / "pipeline-runs" / "tiny" / "report.md").is_file()
    # The promoted version resolves through the registry, its files checked.
    policy = resolve("registry:tiny@production", "policy", registry=tmp_path / "registry")
    assert policy.endswith(os.path.join("tiny", "v0001", "policy"))
    again = pipeline.run(path, program=binary)
    assert again["nothing_to_do"] and again["promoted"]["version"] == 1
