"""The case store: every normalised record and finding of a run, in one embedded SQLite file.

This package owns all SQL of the case store. It is split by aggregate, one module each, and
:class:`Store` is their union: :mod:`~triage.store.meta` (settings, sources, warnings, which
analysers ran), :mod:`~triage.store.messages` (parties, conversations, messages, attachments,
address-book entries, id spaces, deletion traces), :mod:`~triage.store.calls` (calls, their
participants and copies), :mod:`~triage.store.audit` (police-system audit rows), :mod:`~triage.store.findings` (findings and
per-message labels) and :mod:`~triage.store.media` (picture hashes, exhibits, matches). A new
record type adds its own module with a ``SCHEMA`` and a mixin class, listed in
:data:`AGGREGATES` (see docs/STORE.md).

Writes are batched inside transactions; ids are assigned in ingest order, so the same inputs give
the same store byte for byte. Run timestamps are deliberately not stored here (they live in the
manifest) for the same reason.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from triage.store.audit import AuditAggregate, StoredAudit
from triage.store.calls import CallsAggregate, StoredCall
from triage.store.codec import dumps, loads
from triage.store.copies import CopiesAggregate
from triage.store.counts import CountsAggregate, DutyLabel, DutySegment, GapRow, PartyCount
from triage.store.findings import Finding, FindingsAggregate
from triage.store.groups import GroupsAggregate
from triage.store.media import MediaAggregate, media_records_at
from triage.store.messages import MessageFacts, MessagesAggregate, StoredMessage
from triage.store.meta import MetaAggregate
from triage.store.page_rows import PageMessage

# 8: duplicates.attachments (the files of a copy met by the picture-MMS rule).
# 9: recipient lists stored once (messages.recipient_list; recipients is a view).
SCHEMA_VERSION = 9
DEFAULT_ZONE = "Europe/London"
#: How much of the store :meth:`Store.mapped` maps: all of it at 300,000 messages; at 1,000,000
#: (640 MB) a map of the whole file held 585 MiB more resident in the analysers stage, so the map
#: is bounded to keep that stage well below the report's peak (bench/bench_run.py).
MAPPED_BYTES = 256 * 2**20

AGGREGATES: tuple[type, ...] = (
    MetaAggregate,
    MessagesAggregate,
    CallsAggregate,
    FindingsAggregate,
    MediaAggregate,
    GroupsAggregate,
    AuditAggregate,
    CopiesAggregate,
    CountsAggregate,
)


class Store(
    MetaAggregate,
    MessagesAggregate,
    CallsAggregate,
    FindingsAggregate,
    MediaAggregate,
    GroupsAggregate,
    AuditAggregate,
    CopiesAggregate,
    CountsAggregate,
):
    """The case store of one run (an SQLite file in the output directory).

    ``timezone`` is the case's zone: each message's local wall time is stored beside its UTC
    time so that hours, days and nights are counted in SQL. It is read back from the store's
    meta when the store is opened again.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, timezone: str | None = None) -> None:
        self.conn = conn
        self.path = path
        if timezone is None:
            row = conn.execute("SELECT value FROM meta WHERE key = 'store_timezone'").fetchone()
            timezone = loads(row[0]) if row else DEFAULT_ZONE
        self.zone = ZoneInfo(timezone)
        self._init_messages()
        self._init_calls()

    @classmethod
    def create(cls, path: Path, timezone: str = DEFAULT_ZONE) -> Store:
        """A new, empty store at ``path`` (an existing file is replaced)."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=DELETE")
        # The store is an output rebuilt by running again, not evidence: no fsync per batch.
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript("".join(a.SCHEMA for a in AGGREGATES))
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("schema_version", str(SCHEMA_VERSION)), ("store_timezone", dumps(timezone))],
        )
        conn.commit()
        return cls(conn, path, timezone)

    @classmethod
    def open(cls, path: Path) -> Store:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        return cls(conn, path)

    def reconnect(self) -> None:
        """In a forked child: a read-only connection of its own to the store's file. A SQLite
        connection must not be used across a fork; the inherited one is kept, never used and
        never closed (closing it would act on what the parent's connection holds)."""
        self._inherited = self.conn
        self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    @contextmanager
    def mapped(self, limit: int | None = None) -> Iterator[None]:
        """Inside the block, SQLite reads the first ``limit`` bytes of the file
        (:data:`MAPPED_BYTES` unless given) through a memory map instead of copying each page
        it reads into its cache: the analysers read the messages table several times, and the
        copies were about a fifth of their CPU time (system time). Writes go through the file
        as before, so the bytes written are the same. The mapped pages a query touched stay
        resident, counted in the process's RSS, until the map is dropped on leaving the
        block."""
        limit = MAPPED_BYTES if limit is None else limit
        self.conn.execute(f"PRAGMA mmap_size = {int(limit)}")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA mmap_size = 0")

    def write_ahead_log(self) -> bool:
        """Put the store in write-ahead-log mode; whether it is (not where the file system
        cannot share the log's index, nor inside a transaction)."""
        if self.conn.in_transaction or not Path(self.path).is_file():
            return False
        return self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"

    def rollback_journal(self) -> None:
        """The store back in its rollback journal, the log copied into it (with every other
        connection closed, nothing else has it open)."""
        mode = self.conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if mode != "delete":
            raise RuntimeError(f"{self.path}: the store stayed in {mode} journal mode")

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()

    def counts(self) -> dict[str, int]:
        tables = (
            "messages",
            "calls",
            "conversations",
            "attachments",
            "contact_entries",
            "duplicates",
            "findings",
            "deletion_traces",
            "audit_events",
        )
        return {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


__all__ = [
    "AGGREGATES",
    "DutyLabel",
    "DutySegment",
    "Finding",
    "GapRow",
    "MessageFacts",
    "PageMessage",
    "PartyCount",
    "Store",
    "StoredAudit",
    "StoredCall",
    "StoredMessage",
    "media_records_at",
]
