"""What a forked child of this process needs before it does anything else.

Two parts of a run hand work to a fork of themselves (:mod:`triage.parse_worker`, the parse of a
large source; :mod:`triage.report.conversation_share`, a share of the conversation pages): the
child inherits what this process has prepared instead of building it again. It must not take a
lock another thread may have held at the fork, so it writes through streams of its own.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def can_fork() -> bool:
    """Whether a child can be forked (on Linux, where forking is the platform's own way to start
    a process)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def own_stream(stream: Any, fd: int) -> Any:
    """A new stream on a duplicate of ``fd`` for the child (``None`` if there is none)."""
    if stream is None:
        return None
    try:
        return open(os.dup(fd), "w", encoding=getattr(stream, "encoding", None), errors="replace")
    except (OSError, LookupError):
        return None  # nothing the child writes is needed
