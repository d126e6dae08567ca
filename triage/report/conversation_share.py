"""The conversation pages of a large case, a share of them written by a second process.

The conversation pages are most of the report's work (at 300,000 messages, 4.5 s of the pages'
7 s of CPU: reading every message, its bubble, its search row), and the exports' process beside
them (:mod:`triage.report.export_job`) has half as much to do, so one core idled for seconds.
For a large case on a machine with a second core, a fork of this process, taken once the report
has read what every page needs (findings, labels, names, the templates), writes the pages of a
share of the conversations while this process writes the others; each reads only its own
conversations' messages (:meth:`triage.store.Store.page_messages_by_conversation`).

The child writes the same files this process would (the same method, on the same state) and
sends back what those pages feed the pages written after them (this process meanwhile writes the
pages its share does not feed: contacts, groups, chronologies, gaps, coverage...): their search rows with the
codes it gave (merged in the order of the conversations by :func:`triage.report.search.merged`,
so the index is the one a single pass writes), the messages kept for later pages and the page of
each linked message. Its share is the conversations none of whose messages a later page lists,
so it sends back no message as a rule. Whatever goes wrong with the child (it cannot start,
fails, sends something unreadable) its share is written here afterwards, by the same function,
so the files are the same either way. The child inherits the store's connection unused, opens
its own (read-only), writes through streams of its own and always ends with ``os._exit``, so
nothing of this process is flushed, closed or cleaned up twice.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
import traceback
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
#: The share of all messages whose conversations the second process writes: this process also
#: reads what every page needs before the fork and writes every other page, while the exports'
#: process runs beside both. At 300,000 messages (CPU, under load): 0.45 left this process at
#: 6.5 s against the child's 3.1 s; 0.6 gave 5.3 s (of which 0.9 s after the child's share)
#: against 3.8 s, and this process waited 1 s for the child.
SHARE = 0.55


class Written(NamedTuple):
    """What the pages of a share of the conversations feed the pages written after them."""

    search: search.Part
    kept: dict[int, PageMessage]
    quotes: dict[int, str]
    message_page: dict[int, str]


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
    theirs = share(report) if parallel and can_fork() else []
    if not theirs:
        report.write_conversations(everything)
        return Pending(report, [], None)
    # Compiled once, before the fork, for both processes.
    report.env.get_template("conversation.html.j2")
    child = _Child.start(report, theirs)
    pending = Pending(report, theirs, child)
    try:
        taken = set(theirs)
        report.write_conversations([n for n in everything if n not in taken])
    except BaseException:
        pending.stop()
        raise
    return pending


class Pending:
    """The second process's share of the conversation pages, while it writes them."""

    def __init__(self, report: Report, theirs: list[int], child: _Child | None) -> None:
        self.report, self.theirs, self.child = report, theirs, child

    def finish(self) -> list[search.Part]:
        """Wait for the share (or write it here if the second process failed); its messages
        kept and its pages of linked messages are added to the report's, and its search rows
        returned (for :meth:`triage.report.search.SearchIndex.write`)."""
        if not self.theirs:
            return []
        written = self.child.result() if self.child is not None else None
        self.stop()
        if written is None:
            written = write_share(self.report, self.theirs)
        self.theirs = []
        report = self.report
        report.held.kept.update(written.kept)
        report.held.quotes.update(written.quotes)
        report.message_page.update(written.message_page)
        return [written.search]

    def stop(self) -> None:
        """End the second process if it is still running (after a failure here)."""
        if self.child is not None:
            self.child.stop()
            self.child = None


def share(report: Report, fraction: float | None = None) -> list[int]:
    """The positions (in ``report.conversations``) of the conversations the second process
    writes: from the last, those no later page lists a message of, until they hold
    ``fraction`` (:data:`SHARE`) of the messages."""
    fraction = SHARE if fraction is None else fraction
    busy = report.store.conversation_keys_of(report.held.wanted | report.held.quoted)
    target = fraction * sum(c["messages"] for c in report.conversations)
    out: list[int] = []
    taken = 0
    for n in range(len(report.conversations) - 1, -1, -1):
        conv = report.conversations[n]
        if taken >= target:
            break
        if conv["messages"] and conv["key"] not in busy:
            out.append(n)
            taken += conv["messages"]
    return sorted(out)


def write_share(report: Report, positions: list[int]) -> Written:
    """The pages of these conversations, and what they feed later pages, kept apart from what
    ``report`` has collected."""
    own = report.search, report.held, report.message_page
    report.search = search.SearchIndex(report)
    report.held = Held(own[1].wanted, own[1].quoted)
    report.message_page = {}
    try:
        report.write_conversations(positions)
        return Written(
            report.search.part(), report.held.kept, report.held.quotes, report.message_page
        )
    finally:
        report.search, report.held, report.message_page = own


class _Child:
    """This process's end of the child writing a share of the conversations."""

    def __init__(self, pid: int, pipe: BinaryIO) -> None:
        self.pid, self.pipe = pid, pipe
        self.ended = False

    @classmethod
    def start(cls, report: Report, positions: list[int]) -> _Child | None:
        forked = fork_piped()
        if forked is None:
            return None
        pid, fd = forked
        if pid == 0:  # pragma: no cover - the child; measured by what the parent receives
            _child(report, positions, fd)
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
            written = pickle.loads(data)
        except Exception:  # noqa: BLE001 - anything unreadable: written again in-process
            return None
        return written if isinstance(written, Written) else None

    def stop(self) -> None:
        """End the child (if still running) and collect it."""
        if self.pipe.closed:
            return
        if not self.ended:
            stop_child(self.pid)
            self.ended = True
        self.pipe.close()


def _child(report: Report, positions: list[int], write: int) -> None:
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
        data = pickle.dumps(write_share(report, positions), protocol=pickle.HIGHEST_PROTOCOL)
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
