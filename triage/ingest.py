"""Sources -> detection -> parsers: open inputs, decide what each file is, and stream records.

This is the only place that drives parsers. It never raises for one bad source: a parser that
fails part-way is reported (file and last locator reached) and the run goes on with the next.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from triage.evidence import Evidence, EvidenceFile
from triage.model import (
    ContactEntry,
    DeletionTrace,
    IdSpace,
    Message,
    Record,
    check_message,
    check_parties,
)
from triage.registry import Detection, ParseContext, detect

log = logging.getLogger(__name__)


@dataclass
class SourceResult:
    """What one detected source yielded."""

    file: EvidenceFile
    parser: str
    parser_version: str
    counts: Counter[str] = field(default_factory=Counter)
    error: str | None = None


def open_inputs(evidence: Evidence, inputs: list[tuple[Path, str]]) -> list[Detection]:
    """Open every input (path, label) and run detection over all files they contain."""
    for path, label in inputs:
        evidence.add_input(path, label)
    return detect(list(evidence.files()))


def report_containers(evidence: Evidence, ctx: ParseContext) -> list[tuple[str, str]]:
    """Warn about every refused member and container notice; returns the refusals as
    (path, reason) for the list of files not read."""
    for notice in evidence.notices():
        ctx.warn(notice.path, notice.category, notice.example)
    for refusal in evidence.refusals():
        ctx.warn(refusal.path, "refused", refusal.reason)
    return [(r.path, r.reason) for r in evidence.refusals()]


def parse_detection(
    detection: Detection, ctx: ParseContext, result: SourceResult
) -> Iterator[Record]:
    """Run one detected source's parser, counting records and turning a crash into a warning."""
    assert detection.parser is not None
    parser = detection.parser
    last = "start of file"
    try:
        for record in parser.parse(detection.file, ctx):
            if isinstance(record, Message):
                check_message(record)
                result.counts["messages"] += 1
                last = record.source.locator
            elif isinstance(record, ContactEntry):
                check_parties(record.identifiers, record.source.locator)
                result.counts["contacts"] += 1
                last = record.source.locator
            elif isinstance(record, IdSpace):
                result.counts["id spaces"] += 1
            elif isinstance(record, DeletionTrace):
                result.counts["deletion traces"] += 1
            yield record
    except Exception as exc:  # one broken source must not stop the run
        log.debug("parser %s failed on %s", parser.name, detection.file.logical, exc_info=True)
        result.error = f"{type(exc).__name__}: {exc} (after {last})"
        ctx.warn(detection.file.logical, "parser stopped early", result.error)
        return
    if result.counts["messages"] == 0 and result.counts["contacts"] == 0 and detection.file.size:
        ctx.warn(
            detection.file.logical,
            "no records from a non-empty source",
            f"{parser.name} recognised the file but read no messages or contacts from it",
        )


def iter_records(paths: list[Path], ctx: ParseContext) -> Iterator[tuple[SourceResult, Record]]:
    """Every record from every readable source under ``paths`` (for ``triage parse``)."""
    with Evidence() as evidence:
        detections = open_inputs(evidence, [(p, str(p)) for p in paths])
        report_containers(evidence, ctx)
        for detection in detections:
            if detection.parser is None:
                continue
            result = SourceResult(detection.file, detection.parser.name, detection.parser.version)
            for record in parse_detection(detection, ctx, result):
                yield result, record
