"""The first pass over a large Android chat export in two processes, for ``triage parse --jsonl``.

The first pass (:meth:`WhatsAppTxt._scan`) gathers facts that only add up: header counts,
authors in the order they first wrote, the date-order evidence, the first notices. So a fork of
this process scans the runs of lines from the middle one on (:meth:`TextLines.runs`, counted
as the file's chunks) from scratch while this process scans those before; the child's facts are
then merged into this process's exactly as one pass over the whole file would have gathered
them (:meth:`merge`), before anything reads them. Where a merge could differ from one pass (a
cap on remembered authors reached) or anything goes wrong in the child, this process scans the
second half itself, from the same run: the facts are always those of one pass (tests compare).

Only Android exports (an iOS line's reading depends on the chat name found near the top), and
only a file in a folder (:func:`readable_in_two`).

Measured (16.3 MB bench export, 175,323 items, 2 shared cores, load 2.3): the first pass in one
process 0.47-0.52 s CPU; split, this process 0.18-0.28 s and the child about as much beside it
(its skip over the first half's lines: 0.013 s). The command's second fork came 0.40-0.53 s in
against 0.51-0.66 s (load 3.3).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from triage.parsers.whatsapp_txt_halves import answer, readable_in_two, reap, received, stop

from triage import text_lines
from triage.forking import fork_piped

if TYPE_CHECKING:
    from triage.parsers.whatsapp_txt import Run, WhatsAppTxt, _Scan

    from triage.evidence import EvidenceFile

#: From this size of export the first pass is split (a fork and its skip over the first half,
#: about 0.03 s, against the half of a pass it saves: 0.15-0.4 s at 16 MB).
SPLIT_FROM = 4 * 2**20
#: Set by tests: the child stops at once (the second half is then scanned here).
CHILD_FAILS = False


def split_scan(parser: WhatsAppTxt, file: EvidenceFile, scan: _Scan) -> ScanHalves | None:
    """A child scanning the second half of the file, or ``None`` where splitting is not worth
    it or not possible."""
    middle = file.size // text_lines.CHUNK // 2
    if (
        not hasattr(os, "fork")
        or (os.cpu_count() or 1) < 2
        or file.size < SPLIT_FROM
        or not readable_in_two(file)
    ):
        return None
    if middle < 1:
        return None
    try:
        return ScanHalves(parser, file, scan, middle)
    except OSError:
        return None


class ScanHalves:
    """A child scanning the runs from ``middle`` on; this process scans those before
    (:meth:`first`), then merges the child's facts (:meth:`join`) or scans the rest too."""

    def __init__(self, parser: WhatsAppTxt, file: EvidenceFile, scan: _Scan, middle: int) -> None:
        self.middle = middle
        self.result: dict[str, Any] | None = None  # the child's facts, once taken
        forked = fork_piped()
        if forked is None:
            raise OSError("no second process")
        pid, fd = forked
        if pid == 0:  # the child: never returns
            self._child(fd, parser, file, scan)
        self.pid: int | None = pid
        self.pipe: int | None = fd

    # -- this process -----------------------------------------------------------------------------
    def first(self, runs: Iterator[Run], scan: _Scan) -> Iterator[Run]:
        """The runs before the middle (scanned into ``scan``); at the middle, if the child's
        facts can be merged, no more (:meth:`join` merges them), else the rest of the runs,
        scanned here."""
        for number, run in enumerate(runs):
            if number == self.middle:
                result = self._result()
                if result is not None and result.get("ok") and fits(scan, result["scan"]):
                    self.result = result
                    return
                yield run
                yield from runs
                return
            yield run

    def join(self, scan: _Scan) -> None:
        """Merge the child's facts (when the first half stopped for them)."""
        if self.result is not None:
            merge(scan, self.result["scan"])

    def _result(self) -> dict[str, Any] | None:
        """What the child sent, once it has ended (``None`` when it sent nothing readable)."""
        return received(self)

    def _reap(self) -> None:
        reap(self)

    def close(self) -> None:
        """Stop the child if it still runs (the first half ended before the middle, or failed)."""
        stop(self)

    # -- the child -----------------------------------------------------------------------------
    def _child(self, pipe: int, parser: WhatsAppTxt, file: EvidenceFile, scan: _Scan) -> None:
        answer(pipe, lambda: self._second_half(parser, file, scan))

    def _second_half(self, parser: WhatsAppTxt, file: EvidenceFile, scan: _Scan) -> dict[str, Any]:
        if CHILD_FAILS:
            raise RuntimeError("told to fail")
        import copy

        from triage.parsers.whatsapp_txt import _Scan, numbered

        own = _Scan(shape=scan.shape, regex=scan.regex, year_pos=scan.year_pos)
        own.evidence = copy.copy(scan.evidence)  # the year position set, nothing counted
        runs = numbered(text_lines.TextLines(file).runs())
        parser._scan_runs(own, (run for n, run in enumerate(runs) if n >= self.middle), True)
        own.regex = None  # the parent has it
        return {"ok": True, "scan": own}


def fits(scan: _Scan, later: _Scan) -> bool:
    """Whether merging gives what one pass gives: no cap on remembered names reached (and no
    chat name, an iOS fact, found)."""
    from triage.parsers.whatsapp_txt import MAX_AUTHORS

    return (
        len(scan.authors) + len(later.authors) < MAX_AUTHORS
        and len(scan.not_owner) + len(later.not_owner) < MAX_AUTHORS
        and later.chat_name is None
    )


def merge(scan: _Scan, later: _Scan) -> None:
    """Add to ``scan`` the facts of the runs after its own (``later``, scanned from scratch), as
    one pass over both would have gathered them (the caps on names checked by the caller)."""
    if scan.headers == 0:
        scan.first_header, scan.marker = later.first_header, later.marker
    scan.run_headers.extend(scan.headers + n for n in later.run_headers)
    scan.headers += later.headers
    scan.evidence.merge(later.evidence)
    for name, count in later.authors.items():  # in the order they first wrote
        scan.authors[name] += count
    for name, count in later.own_deletion_authors.items():
        scan.own_deletion_authors[name] += count
    for name, count in later.not_owner.items():
        scan.not_owner[name] += count
    scan.group_events = (scan.group_events + later.group_events)[:5]
    scan.you_events += later.you_events
    if scan.language is None:
        scan.language = later.language
