"""Where the profiles shipped with triage live: the one place that knows the layout.

``profiles/`` (duty patterns, lexicons, audit mappings, hash-set categories, matching thresholds)
sits beside the ``triage`` package in a checkout and is installed beside it, so every lookup of a
shipped profile goes through :func:`profiles_dir` and moves together if the layout changes.
"""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def profiles_dir(kind: str | None = None) -> Path:
    """The shipped ``profiles/`` folder, or its ``kind`` subfolder (``duty``, ``audit``...)."""
    base = _ROOT / "profiles"
    return base / kind if kind else base
