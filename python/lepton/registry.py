"""``registry:NAME[@CHANNEL|@VERSION]`` names, as ``lepton eval`` and ``lepton view`` take them:
the folder of a version in a Lepton model registry (``lepton pipeline run`` promotes into it),
after checking every file against the XXH3-64 its ``lineage.json`` records. The registry folder is
``$LEPTON_REGISTRY`` or ``./registry``. Messages are the command line's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._lepton import LeptonError, xxh3_64_file

__all__ = ["resolve", "verify"]


def verify(version_dir: str | os.PathLike) -> dict:
    """A version's lineage, after checking every file it lists against its recorded hash."""
    version_dir = Path(version_dir)
    path = version_dir / "lineage.json"
    try:
        lineage = json.loads(path.read_text())
    except OSError as e:
        raise LeptonError(f"{path}: {e.strerror}") from None
    except ValueError as e:
        raise LeptonError(f"{path}: {e}") from None
    for name, want in lineage.get("files", {}).items():
        file = version_dir / name
        if not file.is_file():
            raise LeptonError(f"{file}: missing")
        got = f"{xxh3_64_file(str(file)):016x}"
        if got != want:
            raise LeptonError(
                f"{file}: XXH3-64 {got}, but lineage.json records {want}: the file was changed after promotion"
            )
    return lineage


def resolve(spec: str, part: str = "policy", registry: str | os.PathLike | None = None) -> str:
    """The ``model`` or ``policy`` folder ``registry:NAME[@CHANNEL|@VERSION]`` names (default
    channel ``production``), its files checked first."""
    if part not in ("model", "policy"):
        raise LeptonError(f"part must be 'model' or 'policy' (got {part!r})")
    spec = spec[len("registry:"):] if spec.startswith("registry:") else spec
    registry = Path(registry or os.environ.get("LEPTON_REGISTRY", "registry"))
    name, _, which = spec.partition("@")
    which = which or "production"
    entry = registry / name
    if not entry.is_dir():
        raise LeptonError(f"{entry}: no such registry entry")
    number = which[1:] if which.startswith("v") else which
    if number.isdigit():
        version = int(number)
    else:
        channels_path = entry / "channels.json"
        try:
            channels = json.loads(channels_path.read_text())
        except (OSError, ValueError) as e:
            raise LeptonError(f"{channels_path}: {e}") from None
        version = channels.get(which) if which in ("candidate", "production") else None
        if version is None:
            raise LeptonError(f"{channels_path}: no channel {which!r}")
    version_dir = entry / f"v{version:04}"
    if not version_dir.is_dir():
        raise LeptonError(f"{version_dir}: no such version")
    verify(version_dir)
    return str(version_dir / part)
