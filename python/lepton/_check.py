"""Arguments checked before they reach Rust: every bad value raises :class:`lepton.LeptonError`
naming the argument, as the command line names the field — never a ``TypeError`` from the
binding, a ``ValueError`` from ``int()`` or an ``OverflowError`` from a negative count."""

from __future__ import annotations

import os

import numpy as np

from ._lepton import MAX_ENVS, LeptonError

__all__ = ["MAX_ENVS", "LeptonAttributeError", "integer", "seed", "path", "optional_path", "text", "flag"]


class LeptonAttributeError(LeptonError, AttributeError):
    """An attribute Lepton's envs do not have: a :class:`LeptonError`, and an ``AttributeError``
    for ``getattr``/``hasattr`` and the libraries that rely on it (Stable-Baselines3)."""


def _is_integer(value) -> bool:
    """Python's or numpy's integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(value, what: str, low: int, high: int) -> int:
    """An integer (Python's or numpy's, not a bool) in ``[low, high]``."""
    if not _is_integer(value):
        raise LeptonError(f"{what}: an integer from {low} to {high} (got {value!r})")
    if not low <= int(value) <= high:
        raise LeptonError(f"{what}: must be from {low} to {high} (got {int(value)})")
    return int(value)


def seed(value, what: str = "seed") -> int | None:
    """A seed as Gymnasium takes one: None, or an integer (Python's or numpy's) in [0, 2**64)."""
    if value is None:
        return None
    if not _is_integer(value):
        raise LeptonError(f"{what}: an integer >= 0 or None (got {value!r})")
    if not 0 <= int(value) < 2**64:
        raise LeptonError(f"{what}: must be in [0, 2**64) (got {value})")
    return int(value)


def path(value, what: str) -> str:
    """A file or folder: a ``str`` or an ``os.PathLike``."""
    if isinstance(value, (str, os.PathLike)):
        found = os.fspath(value)
        if isinstance(found, str):
            return found
    raise LeptonError(f"{what}: a path, as str or os.PathLike (got {value!r})")


def optional_path(value, what: str) -> str | None:
    return None if value is None else path(value, what)


def text(value, what: str) -> str:
    """A word such as an observation kind or a channel name."""
    if not isinstance(value, str):
        raise LeptonError(f"{what}: a string (got {value!r})")
    return value


def flag(value, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise LeptonError(f"{what}: True or False (got {value!r})")
    return bool(value)
