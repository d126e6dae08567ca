"""Deleted and changed rows of Messenger for Android ``threads_db2`` ``messages``, recovered from
the file's bytes.

The live rows come from SQLite (``parsers/messenger_android.py``, whose column meanings apply:
``msg_id``, ``thread_key``, ``text``, ``sender`` JSON, ``timestamp_ms``, ``msg_type``...). This
module reads the database and its ``-wal`` as bytes with :mod:`triage.recovery` (WAL frames,
freelist pages, free blocks, unallocated space; https://www.sqlite.org/fileformat2.html) and hands
each recovered record back to the parser as a row in its own query's column order, with the
recovery facts, so the parser builds the message by its own rules and marks it ``recovered``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from triage.evidence import EvidenceFile
from triage.recovery.evidence import recover_evidence
from triage.registry import ParseContext

TARGETS = {"messages": ("msg_id",)}
CORE = ("msg_id", "thread_key", "text", "sender", "timestamp_ms", "msg_type")


def recovered_rows(
    file: EvidenceFile, ctx: ParseContext, optional: list[str]
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(row as the parser's query returns it: rowid, the core columns, then ``optional``;
    recovery facts) for every ``messages`` record recovered from ``file``."""
    result = recover_evidence(file, ctx, TARGETS)
    report = result.tables.get("messages") if result else None
    if report is None:
        return
    for record in report.records:
        f = record.fields
        row = (record.rowid, *(f.get(c) for c in CORE), *(f.get(c) for c in optional))
        yield row, record.facts()
