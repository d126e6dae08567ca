"""The audit aggregate: rows of police-system audit trails, with their provenance.

An audit row is not a message and is never counted as contact. Each row keeps its provenance
(``provenance_files`` id shared with the messages aggregate, and the row number as its locator)
and its local wall time in the case zone (``ts_local``) so duty status and nights can be worked
out as they are for messages. Rows are written in batches inside transactions, in file order, so
the same export gives the same store.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from triage.model import AuditEvent, Provenance, iso_utc

SCHEMA = """
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, file_id INTEGER, locator TEXT,
  timestamp_utc TEXT, ts_local TEXT, timestamp_raw TEXT, zone_assumed INTEGER, user TEXT,
  system TEXT, action TEXT, subject_name TEXT, subject_dob TEXT, subject_phone TEXT,
  subject_phone_raw TEXT, subject_address TEXT, subject_ref TEXT);
CREATE INDEX audit_events_user ON audit_events (user, timestamp_utc);
"""
BATCH = 20_000
_FIELDS = (
    "timestamp_raw",
    "zone_assumed",
    "user",
    "system",
    "action",
    "subject_name",
    "subject_dob",
    "subject_phone",
    "subject_phone_raw",
    "subject_address",
    "subject_ref",
)


@dataclass(frozen=True, slots=True)
class StoredAudit:
    """An audit row read back, with its store id (numbered apart from messages and calls)."""

    id: int
    event: AuditEvent
    ts_local: str | None

    def ref(self) -> dict[str, Any]:
        """Where the row came from, for findings and exports."""
        s = self.event.source
        return {"audit_id": self.id, "file": s.file, "sha256": s.sha256, "locator": s.locator}


class AuditAggregate:
    """Mixed into :class:`triage.store.Store`; uses the messages aggregate's file ids."""

    SCHEMA = SCHEMA
    conn: Any
    _file_id: Callable[[Provenance, list[tuple]], int]
    _local: Callable[[dt.datetime | None], str | None]
    _files: dict[int, tuple[str, str, str]]

    def add_audit(self, source_id: int, events: Iterable[AuditEvent]) -> int:
        """Store every row of one audit export; returns how many were stored."""
        stored = 0
        iterator = iter(events)
        while batch := list(itertools.islice(iterator, BATCH)):
            files: list[tuple] = []
            rows = [
                (
                    source_id,
                    self._file_id(e.source, files),
                    e.source.locator,
                    iso_utc(e.timestamp_utc),
                    self._local(e.timestamp_utc),
                    *[getattr(e, name) for name in _FIELDS],
                )
                for e in batch
            ]
            with self.conn:
                self.conn.executemany("INSERT INTO provenance_files VALUES (?,?,?,?)", files)
                self.conn.executemany(
                    "INSERT INTO audit_events (source_id, file_id, locator, timestamp_utc,"
                    f" ts_local, {', '.join(_FIELDS)}) VALUES ({','.join('?' * 16)})",
                    rows,
                )
            stored += len(rows)
        return stored

    def audit_events(self, users: Iterable[str] | None = None) -> Iterator[StoredAudit]:
        """Audit rows (of these user ids when given) in time order, undated rows last."""
        cols = ", ".join(_FIELDS)
        sql = f"SELECT id, file_id, locator, timestamp_utc, ts_local, {cols} FROM audit_events"
        params: tuple = ()
        if users is not None:
            wanted = sorted(set(users))
            sql += f" WHERE user IN ({','.join('?' * len(wanted))})"
            params = tuple(wanted)
        sql += " ORDER BY timestamp_utc IS NULL, timestamp_utc, id"
        for aid, file_id, locator, ts, local, *values in self.conn.execute(sql, params):
            fields = dict(zip(_FIELDS, values, strict=True))
            fields["zone_assumed"] = bool(fields["zone_assumed"])
            event = AuditEvent(
                timestamp_utc=dt.datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None,
                source=Provenance(*self._files[file_id], locator),
                **fields,
            )
            yield StoredAudit(aid, event, local)

    def audit_counts(self) -> dict[str, int]:
        """Audit rows per user id."""
        return dict(
            self.conn.execute("SELECT user, COUNT(*) FROM audit_events GROUP BY user ORDER BY 1")
        )


__all__ = ["AuditAggregate", "StoredAudit"]
