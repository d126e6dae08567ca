"""One-line reasons for problems, fit for warnings, the manifest and the report.

Exception texts from libraries can embed an object's repr with its memory address (Pillow's
``cannot identify image file <_io.BytesIO object at 0x7f...>``), which differs from run to run
and says nothing to the reader. Every reason is cleaned here before it is recorded.
"""

from __future__ import annotations

import re

_ADDRESSED_REPR = re.compile(r"<([^<>]*?)(?: object)? at 0x[0-9A-Fa-f]+>")
_BARE_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]{6,}\b")


def clean(text: object) -> str:
    """``text`` with reprs carrying memory addresses replaced by their type name."""
    out = _ADDRESSED_REPR.sub(r"<\1>", str(text))
    return _BARE_ADDRESS.sub("", out)


def describe(exc: BaseException) -> str:
    """``Type: message`` for an exception, cleaned."""
    message = clean(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
