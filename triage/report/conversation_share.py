"""The conversation pages of a large case, a share of them written by a second process.

The conversation pages are most of the report's work (at 300,000 messages, 4.5 s of the pages'
7 s of CPU: reading every message, its bubble, its search row), and the exports' process beside
them (:mod:`triage.report.export_job`) has half as much to do, so one core idled for seconds.
For a large case on a machine with a second core, a fork of this process, taken once the report
has read what every page needs (findings, labels, names, the templates), writes the pages of
some of the conversations while this process writes the others; each reads only its own
conversations' messages (:meth:`triage.store.Store.page_messages_by_conversation`). Which
process writes which is not fixed beforehand: the conversations either may write are handed out
in groups, in order, to whichever asks first (:class:`Claims`), so the two end together
whatever each has besides and however fast the machine is.

The child writes the same files this process would (the same method, on the same state) and
sends back what those pages feed the pages written after them (this process also writes the
pages no conversation page feeds: contacts, groups, chronologies, gaps, coverage...): their
search rows with the codes it gave (merged in the order of the conversations by
:func:`triage.report.search.merged`, so the index is the one a single pass writes), the
messages kept for later pages, the page of each linked message and which conversations it
wrote. It is handed only conversations none of whose messages a later page lists, so it sends
back no message as a rule. Whatever goes wrong with the child (it cannot start, fails, sends
something unreadable) the conversations it took are written here afterwards, by the same
function, so the files are the same either way. The child inherits the store's connection
unused, opens its own (read-only), writes through streams of its own and always ends with
``os._exit``, so nothing of this process is flushed, closed or cleaned up twice.
"""

from __future__ import annotations

import gc
import io
import os
import pickle
import struct
import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from triage.forking import can_fork, fork_piped, own_stream, stop_child
from triage.report import search
from triage.report.held import Held
from triage.store import PageMessage

if TYPE_CHECKING:
    from triage.report.writer import Report

#: From this many messages the conversation pages are shared with a second process (below it,
#: the fork and the merge cost about what they save).
PARALLEL_FROM = 20_000
#: The conversations either process may write are handed out in groups of about this share of
#: their messages (a larger conversation is a group of its own), to whichever process asks
#: first: each takes its next group when it has written the last, so both end together however
#: fast each runs beside the exports' process. (A fixed share, measured once, left one process
#: waiting for the other 1-2 s at 300,000 messages once the code or the machine changed.)
GROUP = 1 / 64
#: This process stops taking groups once no more than this share of those messages is left to
#: hand out: it still writes the pages no conversation page feeds (contacts, groups,
#: chronologies, gaps, coverage) and then the search index, while the second process writes
#: the rest.
TAIL = 0.1


class Written(NamedTuple):
    """What the pages of a share of the conversations feed the pages written after them."""

    search: search.Part
    kept: dict[int, PageMessage]
    quotes: dict[int, str]
    message_page: dict[int, str]
    #: The positions this share's pages are of, in the order written.
    positions: list[int]


def write_conversations(report: Report, parallel: bool | None = None) -> Pending:
    """Every conversation page of ``report``, as ``report.write_conversations`` of them all
    writes them: this process's share written when this returns, the second process's when
    :meth:`Pending.finish` returns. ``parallel`` forces a second process (``True``) or none
    (``False``); by default, one for a large case with a second core."""
    everything = range(len(report.conversations))
    if parallel is None:
        parallel = (os.cpu_count() or 1) > 1 and sum(
            c["messages"] for c in report.conversations
        ) >= PARALLEL_FROM
    pool = shared(report) if parallel and can_fork() else []
    claims = Claims.of(report, pool) if pool else None
    if claims is None:
        report.write_conversations(everything)
        return Pending(report, None, None)
    # Compiled once, before the fork, for both processes.
    report.env.get_template("conversation.html.j2")
    child = _Child.start(report, claims)
    pending = Pending(report, claims, child)
    try:
        report.write_conversations(claims.mine(set(pool), len(everything)))
    except BaseException:
        pending.stop()
        raise
    finally:
        claims.close()
    return pending


class Claims:
    """The groups of conversation positions either process may write, handed out in order to
    whichever process asks first.

    The groups' numbers wait in a pipe written before the fork, whose writing end is then
    closed: a read of :data:`_TOKEN` bytes from a pipe is whole and taken by one reader
    only (POSIX: reads and writes of up to PIPE_BUF bytes are atomic), so each group is taken
    once, by one process, and a process's groups come in increasing order. The end of the pipe
    is the end of the groups."""

    _TOKEN = struct.Struct("<I")
    #: Every group's number fits the pipe before the fork (Linux gives a pipe 64 KiB).
    MOST = 4096

    def __init__(self, groups: list[list[int]], sizes: list[int], fd: int) -> None:
        self.groups, self.sizes, self.fd = groups, sizes, fd
        #: The numbers of the groups this process took.
        self.taken: list[int] = []

    @classmethod
    def of(cls, report: Report, pool: list[int]) -> Claims | None:
        """The groups of ``pool`` (positions in increasing order) with their message counts
        waiting in a new pipe; ``None`` when no pipe can be had."""
        counts = [report.conversations[n]["messages"] for n in pool]
        target = max(1, round(sum(counts) * GROUP), -(-sum(counts) // cls.MOST))
        groups: list[list[int]] = []
        sizes: list[int] = []
        for n, count in zip(pool, counts, strict=True):
            if not groups or sizes[-1] >= target:
                groups.append([])
                sizes.append(0)
            groups[-1].append(n)
            sizes[-1] += count
        try:
            read, write = os.pipe()
        except OSError:
            return None
        try:
            os.write(write, b"".join(cls._TOKEN.pack(g) for g in range(len(groups))))
        except OSError:
            os.close(read)
            return None
        finally:
            os.close(write)
        return cls(groups, sizes, read)

    def take(self) -> list[int] | None:
        """The next group no process has taken (its positions), ``None`` when none is left."""
        if self.fd < 0:
            return None
        try:
            data = os.read(self.fd, self._TOKEN.size)
        except OSError:
            return None
        if len(data) != self._TOKEN.size:
            return None
        (number,) = self._TOKEN.unpack(data)
        self.taken.append(number)
        return self.groups[number]

    def theirs(self) -> Iterator[int]:
        """In the second process: the positions of every group it takes, until none is left."""
        while (group := self.take()) is not None:
            yield from group

    def mine(self, pool: set[int], total: int) -> Iterator[int]:
        """In this process: the positions of ``range(total)`` outside ``pool`` (which only it
        writes: conversations a later page lists a message of, conversations without one)
        with those of the groups it takes, in increasing order; it takes groups until what is
        left to hand out is within :data:`TAIL` of their messages."""
        own = (n for n in range(total) if n not in pool)
        nxt = next(own, None)
        left = sum(self.sizes)
        tail = TAIL * left
        while left > tail and (group := self.take()) is not None:
            for n in group:
                while nxt is not None and nxt < n:
                    yield nxt
                    nxt = next(own, None)
                yield n
            # Every group before this one has been taken, by one process or the other.
            left = sum(self.sizes[self.taken[-1] + 1 :])
        if nxt is not None:
            yield nxt
        yield from own

    def unwritten(self, written: Iterable[int]) -> list[int]:
        """The positions of the groups not taken here whose pages are not in ``written``."""
        mine = set(self.taken)
        done = set(written)
        return sorted(
            n
            for number, group in enumerate(self.groups)
            if number not in mine
            for n in group
            if n not in done
        )

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Pending:
    """The second process's share of the conversation pages, while it writes them."""

    def __init__(self, report: Report, claims: Claims | None, child: _Child | None) -> None:
        self.report, self.claims, self.child = report, claims, child

    def finish(self) -> list[search.Part]:
        """Wait for the share (and write here whatever of it the second process did not: all of
        it if it failed); its messages kept and its pages of linked messages are added to the
        report's, and its search rows returned (for
        :meth:`triage.report.search.SearchIndex.write`)."""
        if self.claims is None:
            return []
        written = self.child.result() if self.child is not None else None
        self.stop()
        claims, self.claims = self.claims, None
        parts = [written] if written is not None else []
        rest = claims.unwritten(written.positions if written is not None else ())
        if rest:
            parts.append(write_share(self.report, rest))
        report = self.report
        for part in parts:
            report.held.kept.update(part.kept)
            report.held.quotes.update(part.quotes)
            report.message_page.update(part.message_page)
        return [part.search for part in parts]

    def stop(self) -> None:
        """End the second process if it is still running (after a failure here)."""
        if self.child is not None:
            self.child.stop()
            self.child = None


def shared(report: Report) -> list[int]:
    """The positions (in ``report.conversations``, in increasing order) of the conversations
    either process may write: those with messages, none of which a later page lists (this
    process keeps those for the pages it writes after them)."""
    busy = report.store.conversation_keys_of(report.held.wanted | report.held.quoted)
    return [
        n
        for n, conv in enumerate(report.conversations)
        if conv["messages"] and conv["key"] not in busy
    ]


def write_share(report: Report, positions: Iterable[int]) -> Written:
    """The pages of these conversations (in increasing order), and what they feed later pages,
    kept apart from what ``report`` has collected."""
    own = report.search, report.held, report.message_page
    report.search = search.SearchIndex(report)
    report.held = Held(own[1].wanted, own[1].quoted)
    report.message_page = {}
    written: list[int] = []

    def noted() -> Iterator[int]:
        for n in positions:
            written.append(n)
            yield n

    try:
        report.write_conversations(noted())
        return Written(
            report.search.part(),
            report.held.kept,
            report.held.quotes,
            report.message_page,
            written,
        )
    finally:
        report.search, report.held, report.message_page = own


class _Child:
    """This process's end of the child writing a share of the conversations."""

    def __init__(self, pid: int, pipe: BinaryIO) -> None:
        self.pid, self.pipe = pid, pipe
        self.ended = False

    @classmethod
    def start(cls, report: Report, claims: Claims) -> _Child | None:
        forked = fork_piped()
        if forked is None:
            return None
        pid, fd = forked
        if pid == 0:  # pragma: no cover - the child; measured by what the parent receives
            _child(report, claims, fd)
        return cls(pid, open(fd, "rb"))

    def result(self) -> Written | None:
        """What the child wrote, once it has ended; ``None`` when it failed."""
        try:
            data = self.pipe.read()
        except OSError:
            return None
        _, status = os.waitpid(self.pid, 0)
        self.ended = True
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        try:
            written = _loads(data)
        except Exception:  # noqa: BLE001 - anything unreadable: written again in-process
            return None
        return written

    def stop(self) -> None:
        """End the child (if still running) and collect it."""
        if self.pipe.closed:
            return
        if not self.ended:
            stop_child(self.pid)
            self.ended = True
        self.pipe.close()


def _dumps(share: Written) -> bytes:
    """``share`` as the child sends it: its search rows first, pickled without pickle's memo
    (plain values that nothing shares and nothing holds twice: at 160,800 rows 0.03 s to
    pickle instead of 0.10 s, at the child's very end, which the report's process may be
    waiting for), then the rest as usual (the messages kept share their parties)."""
    buffer = io.BytesIO()
    rows = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    rows.fast = True
    rows.dump(share.search)
    pickle.dump(tuple(share[1:]), buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def _loads(data: bytes) -> Written | None:
    """What :func:`_dumps` wrote (``None`` if it is not that)."""
    stream = io.BytesIO(data)
    part = pickle.load(stream)
    rest = pickle.load(stream)
    if not isinstance(part, search.Part) or not isinstance(rest, tuple) or stream.read(1):
        return None
    return Written(part, *rest)


def _child(report: Report, claims: Claims, write: int) -> None:
    """In the child: write the share's pages, send what they feed later pages, exit. Never
    returns."""
    code = 1
    try:
        # A collection would touch every object inherited from the parent, copying its pages.
        gc.disable()
        sys.stdout, sys.stderr = own_stream(sys.stdout, 1), own_stream(sys.stderr, 2)
        report.store.reconnect()
        # Pickled whole before the first byte is sent: this process reads the pipe only once
        # it has written its own pages, and the child's work is then done.
        data = _dumps(write_share(report, claims.theirs()))
        with open(write, "wb") as pipe:
            pipe.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - whatever it was, the parent writes the share itself
        if os.environ.get("TRIAGE_DEBUG") and sys.stderr is not None:
            traceback.print_exc()
            sys.stderr.flush()
        code = 1
    finally:
        os._exit(code)
