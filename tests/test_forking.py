"""The one home of how a run forks a child with a pipe and stops it (triage.forking)."""

from __future__ import annotations

import os

import pytest

from triage.forking import fork_piped, stop_child


def test_the_child_writes_the_parent_reads() -> None:
    forked = fork_piped()
    assert forked is not None
    pid, fd = forked
    if pid == 0:  # pragma: no cover - the child
        os.write(fd, b"from the child")
        os._exit(0)
    with open(fd, "rb") as pipe:
        assert pipe.read() == b"from the child"
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_no_fork_leaves_nothing_open(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[int] = []
    real_pipe = os.pipe

    def pipe() -> tuple[int, int]:
        pair = real_pipe()
        opened.extend(pair)
        return pair

    def no_fork() -> int:
        raise OSError("no processes left")

    monkeypatch.setattr(os, "pipe", pipe)
    monkeypatch.setattr(os, "fork", no_fork)
    assert fork_piped() is None
    for fd in opened:
        with pytest.raises(OSError):
            os.fstat(fd)  # closed


def test_no_pipe_forks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pipe() -> tuple[int, int]:
        raise OSError("too many open files")

    def fork() -> int:
        raise AssertionError("forked without a pipe")

    monkeypatch.setattr(os, "pipe", no_pipe)
    monkeypatch.setattr(os, "fork", fork)
    assert fork_piped() is None


def test_stop_child_ends_a_running_child_and_one_that_has_ended() -> None:
    for runs in (True, False):
        forked = fork_piped()
        assert forked is not None
        pid, fd = forked
        if pid == 0:  # pragma: no cover - the child
            if runs:
                os.read(os.open(os.devnull, os.O_RDONLY), 1)
                while True:
                    os.pause()
            os._exit(0)
        os.close(fd)
        stop_child(pid)
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, 0)  # collected
