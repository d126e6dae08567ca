"""Sources -> detection -> parsers: open inputs, decide what each file is, and stream records.

This is the only place that drives parsers. It never raises for one bad source: a parser that
fails part-way is reported (file and last locator reached) and the run goes on with the next.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.evidence import SQLITE_MAGIC, Evidence, EvidenceFile, Refusal
from triage.model import (
    Call,
    ContactEntry,
    DeletionTrace,
    IdSpace,
    Message,
    Record,
    check_call,
    check_message,
    check_parties,
)
from triage.registry import Detection, ParseContext, detect
from triage.sqlite_wal import read_wal

if TYPE_CHECKING:
    from triage.jsonl import JsonlWriter

log = logging.getLogger(__name__)

#: Exit statuses of ``triage parse`` and ``triage run`` (documented in the README).
EXIT_ALL_READ = 0
EXIT_FAILED = 1  # the command could not do its job (evidence changed, internal error)
EXIT_BAD_ARGUMENTS = 2
EXIT_PARTLY_READ = 3
EXIT_NOTHING_READ = 4


@dataclass
class SourceResult:
    """What one detected source yielded."""

    file: EvidenceFile
    parser: str
    parser_version: str
    counts: Counter[str] = field(default_factory=Counter)
    error: str | None = None


@dataclass
class ReadOutcome:
    """What a command read and did not read, to tell the examiner and choose the exit status."""

    sources: list[SourceResult] = field(default_factory=list)
    # Files no parser read that look like evidence (damaged databases, WALs without database),
    # and files given by name on the command line that nothing read.
    problems: list[tuple[str, str]] = field(default_factory=list)
    # Everything else not read, with why (pictures, files of no known format).
    others: list[tuple[str, str]] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    empty_inputs: list[str] = field(default_factory=list)

    def add_detections(self, detections: list[Detection], direct: set[int]) -> None:
        """Sort the unread detections; ``direct`` holds ids of files named as inputs."""
        for d in detections:
            if d.parser is not None or d.claimed_by is not None:
                continue
            if d.problem or id(d.file) in direct:
                self.problems.append((d.file.logical, d.reason))
            else:
                self.others.append((d.file.logical, d.reason))

    def records_read(self) -> int:
        return sum(s.counts[k] for s in self.sources for k in ("messages", "calls", "contacts"))

    def status(self, ctx: ParseContext, other_reads: int = 0) -> int:
        """The exit status; ``other_reads`` counts what else was read (pictures hashed by
        ``run``), so a case of pictures only is not "nothing readable"."""
        if self.records_read() + other_reads == 0:
            return EXIT_NOTHING_READ
        if (
            self.problems
            or self.refusals
            or self.empty_inputs
            or ctx.unread_files
            or any(s.error for s in self.sources)
        ):
            return EXIT_PARTLY_READ
        return EXIT_ALL_READ


def direct_inputs(evidence: Evidence, paths: list[Path]) -> tuple[set[int], list[str]]:
    """Ids of the evidence files given by name (not found in a folder or archive), and the
    labels of folders given that hold no file at all."""
    direct: set[int] = set()
    empty: list[str] = []
    for path in paths:
        label = str(path)
        files = [f for c in evidence.containers for f in c.files.values() if f.logical == label]
        direct.update(id(f) for f in files)
        if path.is_dir() and not any(path.rglob("*")):
            empty.append(label)
    return direct, empty


def open_inputs(
    evidence: Evidence,
    inputs: list[tuple[Path, str]],
    passwords: dict[str, str] | None = None,
    opened: dict[int, str] | None = None,
) -> list[Detection]:
    """Open every input (path, label) and run detection over all files they contain;
    ``passwords`` by label open encrypted iOS backups; ``opened`` is filled with the label of
    the input each container was opened from (by the container's id)."""
    for path, label in inputs:
        for container in evidence.add_input(path, label, (passwords or {}).get(label)):
            if opened is not None:
                opened[id(container)] = label
    return detect(list(evidence.files()))


def report_containers(evidence: Evidence, ctx: ParseContext) -> list[tuple[str, str]]:
    """Warn about every refused member and container notice; returns the refusals as
    (path, reason) for the list of files not read."""
    for notice in evidence.notices():
        ctx.warn(notice.path, notice.category, notice.example)
    for refusal in evidence.refusals():
        ctx.warn(refusal.path, "refused", refusal.reason)
    return [(r.path, r.reason) for r in evidence.refusals()]


class MessageSink:
    """Messages a parser hands over as a shape and the fields that vary (``triage parse
    --jsonl``, :meth:`triage.registry.Parser.parse_into`): each shape is checked once, as the
    message it is (what :func:`check_message` looks at, the shape fixes), every message is
    counted, and its line is written by :meth:`triage.jsonl.JsonlWriter.write_fields`."""

    def __init__(self, writer: JsonlWriter, checked: dict[int, tuple[Any, ...]]) -> None:
        self.count = 0
        # The locator of the last message given, while it is the last record of the source.
        self.last_locator: str | None = None
        self._checked = checked
        self._shapes: dict[int, Message] = {}
        self.writer = writer
        self._write = writer.write_fields

    def message(
        self,
        shape: Message,
        time: datetime | None,
        timestamp_raw: str,
        body: str | None,
        locator: str,
        duplicate_key: str | None,
        extra: dict[str, Any],
    ) -> None:
        """One message: ``shape`` (a message of the source, held by the parser) but for the
        fields given."""
        known = self._shapes.get(id(shape))
        if known is not shape:
            check_message(shape, self._checked)
            self._shapes[id(shape)] = shape
        self.count += 1
        self.last_locator = locator
        self._write(shape, time, timestamp_raw, body, locator, duplicate_key, extra)


def parse_detection(
    detection: Detection,
    ctx: ParseContext,
    result: SourceResult,
    writer: JsonlWriter | None = None,
) -> Iterator[Record]:
    """Run one detected source's parser, counting records and turning a crash into a warning.
    With a ``writer`` (``triage parse --jsonl``) the parser may write some messages through a
    :class:`MessageSink` instead of yielding them."""
    assert detection.parser is not None
    parser = detection.parser
    last: Message | Call | ContactEntry | None = None  # the last record with a locator
    _check_wal(detection.file, ctx)
    counts = result.counts
    # Messages are most records: counted in a local and added to the counts once the source
    # ends, however it ends (a Counter increment per record costs more than the check).
    messages = 0
    checked: dict[int, tuple[Any, ...]] = {}
    sink = None if writer is None else MessageSink(writer, checked)
    records = (
        parser.parse(detection.file, ctx)
        if sink is None
        else parser.parse_into(detection.file, ctx, sink)
    )
    try:
        for record in records:
            if isinstance(record, Message):
                check_message(record, checked)
                messages += 1
                last = record
            elif isinstance(record, Call):
                check_call(record)
                counts["calls"] += 1
                last = record
            elif isinstance(record, ContactEntry):
                check_parties(record.identifiers, record.source.locator)
                counts["contacts"] += 1
                last = record
            elif isinstance(record, IdSpace):
                result.counts["id spaces"] += 1
            elif isinstance(record, DeletionTrace):
                result.counts["deletion traces"] += 1
            if sink is not None and last is record:
                sink.last_locator = None
            yield record
    except GeneratorExit:  # the reader stopped early: what was read is still counted
        messages += 0 if sink is None else sink.count
        if messages:
            counts["messages"] += messages
        raise
    except Exception as exc:  # one broken source must not stop the run
        messages += 0 if sink is None else sink.count
        if messages:
            counts["messages"] += messages
        _report_damage(detection.file, ctx)
        log.debug("parser %s failed on %s", parser.name, detection.file.logical, exc_info=True)
        after = "start of file" if last is None else last.source.locator
        if sink is not None and sink.last_locator is not None:
            after = sink.last_locator  # a message given to the sink came last
        result.error = f"{type(exc).__name__}: {exc} (after {after})"
        ctx.warn(detection.file.logical, "parser stopped early", result.error)
        return
    messages += 0 if sink is None else sink.count
    if messages:
        counts["messages"] += messages
    _report_damage(detection.file, ctx)
    read = sum(result.counts[k] for k in ("messages", "calls", "contacts"))
    if read == 0 and detection.file.size:
        ctx.warn(
            detection.file.logical,
            "no records from a non-empty source",
            f"{parser.name} recognised the file but read no messages, calls or contacts from it",
        )


def _check_wal(file: EvidenceFile, ctx: ParseContext) -> None:
    """Say how many frames of a database's ``-wal`` SQLite will ignore (a torn WAL: frames after
    a broken or missing commit), since they may hold the newest rows."""
    wal = file.sibling(file.name + "-wal") if file.head(16) == SQLITE_MAGIC else None
    if wal is None:
        return
    with wal.open() as stream:
        summary = read_wal(stream, wal.size)
    if summary is None:
        if wal.size:
            ctx.file_not_read(wal.logical, "not a SQLite write-ahead log (no valid WAL header)")
        return
    ctx.decide(file.logical, wal=f"{wal.logical}: {summary.describe()}")
    if summary.ignored or summary.trailing_bytes:
        ctx.file_not_read(
            wal.logical, f"torn WAL: {summary.describe()}", category="WAL frames ignored"
        )


def _report_damage(file: EvidenceFile, ctx: ParseContext) -> None:
    """Say what a damaged database's salvage copy could not read (the rest was read)."""
    damage = file.sqlite_damage
    if damage is None:
        return
    ctx.decide(
        file.logical,
        sqlite_damaged=damage.check,
        sqlite_rows_salvaged=damage.rows,
        sqlite_not_read=damage.lost,
    )
    if not damage.lost:
        ctx.warn(file.logical, "damaged database (every row read)", damage.check)
    for line in damage.lost:
        ctx.warn(file.logical, "damaged database: rows not read", line)


def iter_records(
    paths: list[Path],
    ctx: ParseContext,
    outcome: ReadOutcome | None = None,
    writer: JsonlWriter | None = None,
) -> Iterator[tuple[SourceResult, Record]]:
    """Every record from every readable source under ``paths`` (for ``triage parse``); what was
    and was not read is collected in ``outcome``. With a ``writer``, a parser may write some
    messages to it itself (:class:`MessageSink`): the records yielded are then the others."""
    outcome = outcome if outcome is not None else ReadOutcome()
    with Evidence() as evidence:
        detections = open_inputs(evidence, [(p, str(p)) for p in paths])
        report_containers(evidence, ctx)
        outcome.refusals.extend(evidence.refusals())
        direct, outcome.empty_inputs = direct_inputs(evidence, paths)
        outcome.add_detections(detections, direct)
        for detection in detections:
            if detection.parser is None:
                continue
            result = SourceResult(detection.file, detection.parser.name, detection.parser.version)
            outcome.sources.append(result)
            for record in parse_detection(detection, ctx, result, writer):
                yield result, record
