"""Lepton's lab-to-factory loop from Python: the same library the ``lepton pipeline`` command runs
(lepton-pipeline, in Rust), so files, stages, caching, gates, reports and messages are the same.

>>> import lepton.pipeline
>>> spec = lepton.pipeline.load("pipelines/lane_keep.ron")        # validated, as a dict
>>> report = lepton.pipeline.run("pipelines/lane_keep.ron")       # stages cached by input hash
>>> report["promoted"]                                            # None when a gate said no
>>> checks = lepton.pipeline.monitor("pipelines/lane_keep.ron", checks=1)

Each stage is one ``lepton`` command run as a child process: ``lepton`` (the ``program`` argument,
default ``$LEPTON_PROGRAM`` or ``lepton`` on PATH) is the command-line program, built with
``cargo build --release`` or installed with ``cargo install --path .``. Bad input raises
:class:`lepton.LeptonError` with the command line's message (file, line and column; the field).
"""

from __future__ import annotations

import json
import os

from . import _check, _lepton

__all__ = ["load", "run", "monitor"]


def _program(program: str | os.PathLike | None) -> str:
    if program is None:
        return os.environ.get("LEPTON_PROGRAM", "lepton")
    return _check.path(program, "program")


def load(path: str | os.PathLike) -> dict:
    """The pipeline file at ``path``, read and validated, with every default filled in."""
    return json.loads(_lepton.pipeline_load(_check.path(path, "path")))


def run(path: str | os.PathLike, program: str | os.PathLike | None = None) -> dict:
    """Runs the pipeline at ``path`` (what ``lepton pipeline run PATH --json`` prints): every stage
    not already done with the same inputs, then the promotion if both gates pass. The report's
    ``promoted`` is None when a gate said no; production is then untouched."""
    return json.loads(_lepton.pipeline_run(_check.path(path, "path"), _program(program)))


def monitor(
    path: str | os.PathLike,
    checks: int = 1,
    retrain: bool = True,
    program: str | os.PathLike | None = None,
) -> dict:
    """``checks`` checks of production in the file's field conditions (what ``lepton pipeline
    monitor PATH --json`` prints); with ``retrain``, a condition past a threshold has data
    collected there and the pipeline retrains through its gates. ``healthy`` is False when the
    last check ended with a threshold crossed and nothing promoted."""
    checks = _check.integer(checks, "checks", 1, 2**32 - 1)
    path, retrain = _check.path(path, "path"), _check.flag(retrain, "retrain")
    return json.loads(_lepton.pipeline_monitor(path, _program(program), checks, retrain))
