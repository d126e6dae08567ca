"""What a forked child of this process needs before it does anything else.

Several parts of a run hand work to a fork of themselves (:mod:`triage.parse_worker`, the parse
of a large source; :mod:`triage.report.conversation_share`, a share of the conversation pages;
the two halves of a large chat export's passes, ``triage.parsers.whatsapp_txt_halves`` and
``whatsapp_txt_scan_halves``): the child inherits what this process has prepared instead of
building it again. It must not take a lock another thread may have held at the fork, so it writes
through streams of its own. How the child is forked with its pipe and how it is stopped have
one home here (:func:`fork_piped`, :func:`stop_child`).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from collections.abc import Callable
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


def fork_piped(prepare: Callable[[int], None] | None = None) -> tuple[int, int] | None:
    """Fork with a pipe from the child to this process: ``(pid, read end)`` here, ``(0, write
    end)`` in the child; ``None`` (nothing forked, nothing left open) when no pipe or no process
    can be had. ``prepare`` is given the write end before the fork (to widen the pipe, say)."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    if prepare is not None:
        prepare(write)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()  # else the child would hold a copy of what is pending
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns on forking with threads running (a progress display's): the
            # child takes none of their locks (it writes through streams of its own).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        return 0, write
    os.close(write)
    return pid, read


def stop_child(pid: int) -> None:
    """End a forked child if it still runs and collect it (an ended child is a zombie until
    waited for)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
