"""Where the profiles shipped with triage live: the one place that knows the layout.

``profiles/`` (duty patterns, lexicons, audit mappings, hash-set categories, matching thresholds)
sits beside the ``triage`` package in a checkout and is installed inside it (``triage/profiles``,
see ``pyproject.toml``), so every lookup of a shipped profile goes through :func:`profiles_dir`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# Installed: inside the package. Checkout: the folder beside it.
_BASE = _PACKAGE / "profiles" if (_PACKAGE / "profiles").is_dir() else _PACKAGE.parent / "profiles"


def profiles_dir(kind: str | None = None) -> Path:
    """The shipped ``profiles/`` folder, or its ``kind`` subfolder (``duty``, ``audit``...)."""
    base = _BASE
    return base / kind if kind else base
