"""The second pass over a large chat export in two processes, for ``triage parse --jsonl``.

Once the first pass has fixed everything file-wide (layout, date order, authors, owner), the
items of the second half of the file do not depend on those of the first: a message is its
header line and the lines after it. So this process reads the first half while a fork of it
reads the second (from the first header line of the middle run of lines, :meth:`TextLines.runs`)
and encodes its JSON lines into a temporary file; the child's lines are then copied after this
process's own, in order.

What crosses the middle is merged exactly, or the child's work is thrown away:

* the item index in ``extra`` (the child starts from the first pass's count of the header lines
  before the middle; taken only when this process's own count there is the same);
* the keys of parties, the conversation and the source (the child starts from this writer's
  state at the fork and notes every line that defined a key: taken when what this process
  defined in the meantime is where the child's definitions start, those lines then dropped
  from the child's output, and the rest adopted, :meth:`JsonlWriter.adopt`);
* warnings, decisions and files not read (recorded in a context of the child's own and added
  after this process's, :meth:`ParseContext.absorb`); the messages counted; the files beside
  the export that messages named; what reading the text changed (the child read all of it).

A record the parser would yield rather than give to the sink (a call, a message of no shape)
stops the child, as does anything else that goes wrong there: the second half is then read in
this process, from the same line, so the output, warnings, counts and exit status are always
those of reading the file in one process (tests compare both ways and the fallback).
"""

from __future__ import annotations

import copy
import os
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, NoReturn, Protocol

from triage.evidence import FolderContainer
from triage.forking import fork_piped, stop_child
from triage.jsonl import MAX_CONVERSATIONS, MAX_PARTIES
from triage.text_lines import TextLines

if TYPE_CHECKING:
    from triage.parsers.whatsapp_txt import Run, _Reading, _Scan, _State

    from triage.evidence import EvidenceFile
    from triage.ingest import MessageSink

#: From this size of export the second pass is split. Below it a fork and the copy of the
#: child's output cost more than half the pass saves.
SPLIT_FROM = 4 * 2**20
#: Set by tests: the child stops at once (the fallback is then what is read).
CHILD_FAILS = False


def readable_in_two(file: EvidenceFile) -> bool:
    """Whether two processes can read ``file`` at once: a file in a folder is opened afresh at
    each open. A member of an archive is read through the archive's one handle, whose offset a
    fork shares (zipfile seeks it before each read: the two processes' reads would interleave)."""
    return isinstance(file.container, FolderContainer)


def split_second_pass(
    state: _State, scan: _Scan, sink: MessageSink, read: _Reading
) -> Halves | None:
    """A child reading the second half of the file, or ``None`` where splitting is not worth it
    or not possible (no fork, one core, a small file, caches of the writer near a restart)."""
    writer = sink.writer
    middle = len(scan.run_headers) // 2
    if (
        not hasattr(os, "fork")
        or (os.cpu_count() or 1) < 2
        or state.file.size < SPLIT_FROM
        or not readable_in_two(state.file)
        or middle < 1
        or len(writer._parties) + len(writer._party_ids) + 4 * len(scan.authors) + 64 >= MAX_PARTIES
        or len(writer._conversations) + 2 >= MAX_CONVERSATIONS
    ):
        return None
    try:
        return Halves(state, sink, read, middle, scan.run_headers[middle])
    except OSError:
        return None


class _Forked(Protocol):
    pid: int | None
    pipe: int | None


def reap(half: _Forked) -> None:
    """Let go of a half's pipe and collect its ended child (a half of this module or of
    ``whatsapp_txt_scan_halves``)."""
    if half.pipe is not None:
        os.close(half.pipe)
        half.pipe = None
    if half.pid is not None:
        os.waitpid(half.pid, 0)
        half.pid = None


def received(half: _Forked) -> Any:
    """What a half's child sent through its pipe, once the child has ended and been collected
    (``None`` when it sent nothing readable)."""
    chunks = []
    assert half.pipe is not None
    while chunk := os.read(half.pipe, 1 << 16):
        chunks.append(chunk)
    reap(half)
    try:
        return pickle.loads(b"".join(chunks))  # noqa: S301 - our own child's
    except Exception:
        return None


def answer(pipe: int, work: Callable[[], dict[str, Any]]) -> NoReturn:
    """In a half's child: send what ``work`` gives (or, when it fails in any way, that it
    failed, so the parent reads the half itself) and end the child, which :func:`received`
    reads."""
    try:
        result = work()
    except BaseException as exc:
        result = {"ok": False, "why": f"{type(exc).__name__}: {exc}"}
    try:
        data = pickle.dumps(result)
        while data:
            data = data[os.write(pipe, data) :]
    finally:
        os._exit(0)


def stop(half: _Forked) -> None:
    """End a half's child if it still runs, and let go of its pipe."""
    if half.pid is not None:
        stop_child(half.pid)
        half.pid = None
    reap(half)


class Halves:
    """A child process reading the runs of lines from ``middle`` on; this process reads the
    ones before (:meth:`first`), then takes the child's (:meth:`join`) or reads them too
    (:meth:`rest`)."""

    def __init__(
        self, state: _State, sink: MessageSink, read: _Reading, middle: int, index: int
    ) -> None:
        self.state, self.sink, self.read = state, sink, read
        self.middle = middle
        self.index = index  # items before the middle, by the first pass
        self.split = False  # the middle run has a header line to start from
        self._at: Run | None = None
        self._runs: Iterator[Run] = iter(())
        self.out: IO[bytes] = tempfile.TemporaryFile()
        sink.writer.journal = []  # what this process defines from here
        forked = fork_piped()
        if forked is None:
            self.out.close()
            sink.writer.journal = None
            raise OSError("no second process")
        pid, fd = forked
        if pid == 0:  # the child: never returns
            self._child(fd)
        self.pid: int | None = pid
        self.pipe: int | None = fd

    # -- this process -----------------------------------------------------------------------------
    def first(self, lines: TextLines) -> Iterator[Run]:
        """The runs of the first half: those before the middle, and the lines of the middle run
        before its first header line (the end of the item before). Every run when the middle
        has no header line to start from."""
        from triage.parsers.whatsapp_txt import numbered

        runs = numbered(lines.runs())
        self._runs = runs
        for number, (run, cuts, base) in enumerate(runs):
            if number < self.middle:
                yield run, cuts, base
                continue
            start = self._start(run, cuts)
            if start is None:
                yield run, cuts, base
                yield from runs
                return
            self.split = True
            if start:
                yield run[:start], {}, base
            self._at = (run[start:], {}, base + start)
            return

    def rest(self) -> Iterator[Run]:
        """The runs of the second half, read here."""
        if self._at is not None:
            yield self._at
        yield from self._runs

    def _start(self, run: list[str], cuts: dict[int, int]) -> int | None:
        """Where in the middle run the second half starts: its first header line."""
        if cuts:
            return None  # a cut line is noted by the pass that reads it: not split there
        for number, raw in enumerate(run):
            if self.read.is_header(raw):
                return number
        return None

    def join(self, lines: TextLines) -> bool:
        """Take what the child read, as if read here; False when the second half must be read
        here (:meth:`rest`): nothing is then taken."""
        result = self._result()
        writer = self.sink.writer
        mine = writer.journal or []
        writer.journal = None
        if not self.split:
            return True  # the first half was the whole file
        if (
            result is None
            or not result["ok"]
            or result["index"] != self.state.index
            or self.state.index != self.index
        ):
            return False
        theirs = result["definitions"]
        if [d[:3] for d in theirs[: len(mine)]] != [d[:3] for d in mine]:
            return False  # this half defined what the child did not define first
        conversation = self.state.conversation
        if not writer.adopt(theirs[len(mine) :], {id(conversation): conversation}):
            return False
        writer.flush()
        self._copy(writer, [(d.offset, d.length) for d in theirs[: len(mine)]])
        state, sink = self.state, self.sink
        other = copy.copy(state.ctx)
        other.warnings, other.decisions = result["warnings"], result["decisions"]
        other.unread_files = result["unread"]
        state.ctx.absorb(other)
        for name in result["siblings"]:
            state.sibling(name)
        sink.count += result["count"]
        if result["last"] is not None:
            sink.last_locator = result["last"]
        (
            lines.encoding,
            lines.replaced,
            lines.nul_removed,
            lines.lines,
            lines.long_lines,
            lines.long_line_count,
        ) = result["text"]
        return True

    def _result(self) -> dict[str, Any] | None:
        """What the child sent, once it has ended (``None`` when it sent nothing readable)."""
        return received(self)

    def _copy(self, writer: Any, skip: list[tuple[int, int]]) -> None:
        """The child's lines after this process's, less the lines that defined keys defined
        here already."""
        out, stream = self.out, writer.stream
        out.seek(0)
        at = 0
        for offset, length in [*sorted(skip), (out.seek(0, os.SEEK_END), 0)]:
            out.seek(at)
            while at < offset:
                data = out.read(min(1 << 20, offset - at))
                if not data:
                    break
                stream.write(data)
                writer._flushed += len(data)
                at += len(data)
            at = offset + length
        stream.flush()

    def _reap(self) -> None:
        reap(self)

    def close(self) -> None:
        """Stop the child if it still runs (this half stopped early), and let go of its files."""
        stop(self)
        self.sink.writer.journal = None
        self.out.close()

    # -- the child -----------------------------------------------------------------------------
    def _child(self, pipe: int) -> None:
        answer(pipe, self._second_half)

    def _second_half(self) -> dict[str, Any]:
        if CHILD_FAILS:
            raise RuntimeError("told to fail")
        state, sink = self.state, self.sink
        ctx = copy.copy(state.ctx)
        ctx.warnings, ctx.decisions, ctx.unread_files, ctx.counts = {}, {}, [], Counter()
        state.ctx = ctx
        writer = sink.writer
        writer.stream, writer.lines, writer._held, writer._flushed = self.out, [], 0, 0
        writer.journal = []
        sink.count, sink.last_locator = 0, None
        state.index = self.index
        lines = TextLines(state.file)
        for _ in self.read.items(self._child_runs(lines)):
            return {"ok": False, "why": "a record to yield"}
        if not self.split:
            return {"ok": False, "why": "no header line in the middle run"}
        writer.flush()
        return {
            "ok": True,
            "index": self.index,
            "definitions": writer.journal,
            "count": sink.count,
            "last": sink.last_locator,
            "warnings": ctx.warnings,
            "decisions": ctx.decisions,
            "unread": ctx.unread_files,
            "siblings": list(state._siblings),
            "text": (
                lines.encoding,
                lines.replaced,
                lines.nul_removed,
                lines.lines,
                lines.long_lines,
                lines.long_line_count,
            ),
        }

    def _child_runs(self, lines: TextLines) -> Iterator[Run]:
        """The runs of the second half, every line of the file read (so that what reading the
        text changed is counted for the whole file); none when the middle run has no header
        line to start from."""
        from triage.parsers.whatsapp_txt import numbered

        runs = numbered(lines.runs())
        for number, (run, cuts, base) in enumerate(runs):
            if number < self.middle:
                continue
            start = self._start(run, cuts)
            if start is None:
                break
            self.split = True
            yield run[start:], {}, base + start
            yield from runs
