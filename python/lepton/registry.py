"""``registry:NAME[@CHANNEL|@VERSION]`` names, as ``lepton eval`` and ``lepton view`` take them:
the folder of a version in a Lepton model registry (``lepton pipeline run`` promotes into it),
after checking every file against the XXH3-64 its ``lineage.json`` records. The registry folder is
``$LEPTON_REGISTRY`` or ``./registry``. Both calls are the command line's own code (the Rust
library lepton-pipeline), so names, checks and messages are the same.
"""

from __future__ import annotations

import json
import os

from . import _lepton

__all__ = ["resolve", "verify"]


def verify(version_dir: str | os.PathLike) -> dict:
    """A version's lineage, after checking every file it lists against its recorded hash."""
    return json.loads(_lepton.registry_verify(os.fspath(version_dir)))


def resolve(spec: str, part: str = "policy", registry: str | os.PathLike | None = None) -> str:
    """The ``model`` or ``policy`` folder ``registry:NAME[@CHANNEL|@VERSION]`` names (default
    channel ``production``), its files checked first."""
    return _lepton.registry_resolve(spec, part, None if registry is None else os.fspath(registry))
