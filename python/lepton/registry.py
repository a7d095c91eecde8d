"""``registry:NAME[@CHANNEL|@VERSION]`` names, as ``lepton eval`` and ``lepton view`` take them:
the folder of a version in a Lepton model registry (``lepton pipeline run`` promotes into it),
after checking every file against the XXH3-64 its ``lineage.json`` records. The registry folder is
``$LEPTON_REGISTRY`` or ``./registry``. Both calls are the command line's own code (the Rust
library lepton-pipeline), so names, checks and messages are the same.
"""

from __future__ import annotations

import json
import os

from . import _check, _lepton

__all__ = ["resolve", "verify", "repair"]


def verify(version_dir: str | os.PathLike) -> dict:
    """A version's lineage, after checking every file it lists against its recorded hash."""
    return json.loads(_lepton.registry_verify(_check.path(version_dir, "version_dir")))


def resolve(spec: str, part: str = "policy", registry: str | os.PathLike | None = None) -> str:
    """The ``model`` or ``policy`` folder ``registry:NAME[@CHANNEL|@VERSION]`` names (default
    channel ``production``), its files checked first."""
    spec, part = _check.text(spec, "spec"), _check.text(part, "part")
    return _lepton.registry_resolve(spec, part, _check.optional_path(registry, "registry"))


def repair(name: str, registry: str | os.PathLike | None = None) -> dict:
    """Rebuilds ``NAME/channels.json`` from the versions on disk (``lepton registry repair``): each
    version whose files match its lineage is recorded again; the channels and production's history
    are kept as far as the old file reads. Returns what it did."""
    name = _check.text(name, "name")
    return json.loads(_lepton.registry_repair(name, _check.optional_path(registry, "registry")))
