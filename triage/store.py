"""The case store: every normalised record and finding of a run, in one embedded SQLite file.

This module owns all SQL of the case store, so another database could replace it behind the same
methods. Writes are batched inside transactions; ids are assigned in ingest order, so the same
inputs give the same store byte for byte. Run timestamps are deliberately not stored here (they
live in the manifest) for the same reason.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.model import (
    Attachment,
    ContactEntry,
    Conversation,
    DeletionTrace,
    IdSpace,
    Message,
    Provenance,
    Record,
    attachment_from_json,
    attachment_to_json,
    iso_utc,
    parse_iso_utc,
    party_from_json,
    party_to_json,
)

SCHEMA_VERSION = 2
BATCH = 2000

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE sources (
  id INTEGER PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT, size INTEGER, format TEXT,
  parser_version TEXT, messages INTEGER DEFAULT 0, contacts INTEGER DEFAULT 0,
  duplicates INTEGER DEFAULT 0, error TEXT);
CREATE TABLE conversations (
  key TEXT PRIMARY KEY, platform TEXT, title TEXT, is_group INTEGER, participants TEXT);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, platform TEXT, conversation TEXT,
  ts_utc TEXT, ts_raw TEXT, zone_assumed INTEGER, direction TEXT,
  sender_raw TEXT, sender_id TEXT, sender_name TEXT, sender_scheme TEXT, recipients TEXT,
  body TEXT, kind TEXT, deleted INTEGER, edited INTEGER,
  src_file TEXT, src_sha256 TEXT, src_format TEXT, src_locator TEXT,
  record_id INTEGER, order_key INTEGER, duplicate_key TEXT, extra TEXT, id_space TEXT,
  status_update INTEGER);
CREATE INDEX messages_ts ON messages (ts_utc, id);
CREATE INDEX messages_conversation ON messages (conversation, ts_utc);
CREATE TABLE attachments (
  id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, name TEXT, path TEXT, sha256 TEXT,
  mime TEXT, size INTEGER, source_hash TEXT, note TEXT);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE TABLE contact_entries (
  id INTEGER PRIMARY KEY, source_id INTEGER, name TEXT, identifiers TEXT,
  src_file TEXT, src_sha256 TEXT, src_format TEXT, src_locator TEXT, extra TEXT);
CREATE TABLE id_spaces (
  id INTEGER PRIMARY KEY, source_id INTEGER, file TEXT, sha256 TEXT, format TEXT, tbl TEXT,
  id_column TEXT, is_autoincrement INTEGER, high_water INTEGER, ids TEXT, order_key TEXT, note TEXT);
CREATE TABLE deletion_traces (
  id INTEGER PRIMARY KEY, source_id INTEGER, kind TEXT, detail TEXT, strength TEXT,
  conversation TEXT, missing_ids TEXT, count INTEGER,
  src_file TEXT, src_sha256 TEXT, src_format TEXT, src_locator TEXT);
CREATE TABLE duplicates (
  id INTEGER PRIMARY KEY, duplicate_key TEXT, kept_message_id INTEGER, source_id INTEGER,
  src_file TEXT, src_locator TEXT);
CREATE TABLE warnings (
  id INTEGER PRIMARY KEY, file TEXT, category TEXT, count INTEGER, examples TEXT);
CREATE TABLE findings (
  id INTEGER PRIMARY KEY, analyser TEXT, rule TEXT, subject TEXT, title TEXT, why TEXT,
  weight REAL, data TEXT);
CREATE TABLE finding_refs (finding_id INTEGER, message_id INTEGER, note TEXT);
CREATE INDEX finding_refs_finding ON finding_refs (finding_id);
CREATE TABLE message_labels (
  message_id INTEGER, analyser TEXT, label TEXT, value TEXT, PRIMARY KEY (message_id, analyser, label));
CREATE TABLE skipped (id INTEGER PRIMARY KEY, file TEXT, reason TEXT);
CREATE TABLE media (
  sha256 TEXT PRIMARY KEY, data TEXT);
CREATE TABLE media_files (
  id INTEGER PRIMARY KEY, file TEXT, sha256 TEXT, size INTEGER, format TEXT, error TEXT);
CREATE INDEX media_files_file ON media_files (file);
CREATE TABLE exhibits (
  id TEXT, reference TEXT, kind TEXT, description TEXT, sensitive INTEGER, sha256 TEXT,
  md5 TEXT, sha1 TEXT, copy TEXT, data TEXT);
CREATE TABLE media_matches (
  id INTEGER PRIMARY KEY, exhibit_id TEXT, reference TEXT, file TEXT, sha256 TEXT, method TEXT,
  distance INTEGER, band TEXT, orientation TEXT, via TEXT, copy TEXT, data TEXT);
"""


@dataclass
class Finding:
    """One analyser result, with the records it rests on.

    ``rule`` is a stable id ("contact.first-message", "duty.off-duty-share"); ``why`` the plain
    neutral sentence shown to the investigator; ``subject`` what it is about (a case-contact key,
    a conversation key, an exhibit id); ``refs`` the store ids of the messages behind it.
    """

    analyser: str
    rule: str
    title: str
    why: str
    weight: float = 0.0
    subject: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    refs: list[int] = field(default_factory=list)
    id: int | None = None


@dataclass
class StoredMessage:
    """A message read back from the store, with its store id."""

    id: int
    source_id: int
    message: Message


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Store:
    """The case store of one run (an SQLite file in the output directory)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._next_message = (
            1 + (conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0])
        )
        self._seen_keys: dict[str, int] = {}

    @classmethod
    def create(cls, path: Path) -> Store:
        """A new, empty store at ``path`` (an existing file is replaced)."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.executescript(SCHEMA)
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.commit()
        return cls(conn, path)

    @classmethod
    def open(cls, path: Path) -> Store:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        return cls(conn, path)

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()

    # -- writing ---------------------------------------------------------------------------------
    def set_meta(self, **values: Any) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, _dumps(v)) for k, v in sorted(values.items())],
            )

    def meta(self) -> dict[str, Any]:
        return {
            k: (json.loads(v) if k != "schema_version" else v)
            for k, v in self.conn.execute("SELECT key, value FROM meta ORDER BY key")
        }

    def add_source(self, file: str, sha256: str, size: int, fmt: str, parser_version: str) -> int:
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO sources (file, sha256, size, format, parser_version) VALUES (?,?,?,?,?)",
                (file, sha256, size, fmt, parser_version),
            )
        return int(cur.lastrowid)

    def finish_source(self, source_id: int, error: str | None = None) -> None:
        with self.conn:
            self.conn.execute(
                """UPDATE sources SET
                     messages = (SELECT COUNT(*) FROM messages WHERE source_id = :s),
                     contacts = (SELECT COUNT(*) FROM contact_entries WHERE source_id = :s),
                     duplicates = (SELECT COUNT(*) FROM duplicates WHERE source_id = :s),
                     error = :e
                   WHERE id = :s""",
                {"s": source_id, "e": error},
            )

    def ingest(self, source_id: int, records: Iterable[Record]) -> None:
        """Store records in batches; a message whose ``duplicate_key`` is already stored is not
        stored again but listed in ``duplicates`` with the copy that was kept."""
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) >= BATCH:
                self._write(source_id, batch)
                batch = []
        if batch:
            self._write(source_id, batch)

    def _write(self, source_id: int, records: list[Record]) -> None:
        messages, attachments, conversations, dups = [], [], {}, []
        contacts, spaces, traces = [], [], []
        for record in records:
            if isinstance(record, Message):
                key = record.duplicate_key
                if key is not None and key in self._seen_keys:
                    dups.append(
                        (
                            key,
                            self._seen_keys[key],
                            source_id,
                            record.source.file,
                            record.source.locator,
                        )
                    )
                    continue
                mid = self._next_message
                self._next_message += 1
                if key is not None:
                    self._seen_keys[key] = mid
                messages.append(self._message_row(mid, source_id, record))
                attachments.extend(
                    (mid, a.name, a.path, a.sha256, a.mime, a.size, a.source_hash, a.note)
                    for a in record.attachments
                )
                conv = record.conversation
                conversations.setdefault(
                    conv.id,
                    (
                        conv.id,
                        record.platform,
                        conv.title,
                        int(conv.is_group),
                        _dumps([party_to_json(p) for p in conv.participants]),
                    ),
                )
            elif isinstance(record, ContactEntry):
                s = record.source
                contacts.append(
                    (
                        source_id,
                        record.name,
                        _dumps([party_to_json(p) for p in record.identifiers]),
                        s.file,
                        s.sha256,
                        s.format,
                        s.locator,
                        _dumps(record.extra),
                    )
                )
            elif isinstance(record, IdSpace):
                spaces.append(
                    (
                        source_id,
                        record.file,
                        record.sha256,
                        record.format,
                        record.table,
                        record.id_column,
                        int(record.autoincrement),
                        record.high_water,
                        _dumps(record.ids),
                        record.order_key,
                        record.note,
                    )
                )
            elif isinstance(record, DeletionTrace):
                s = record.source
                traces.append(
                    (
                        source_id,
                        record.kind,
                        record.detail,
                        record.strength,
                        record.conversation_id,
                        _dumps(record.missing_ids),
                        record.count,
                        s.file,
                        s.sha256,
                        s.format,
                        s.locator,
                    )
                )
        with self.conn:
            c = self.conn
            c.executemany(f"INSERT INTO messages VALUES ({','.join('?' * 27)})", messages)
            c.executemany(
                "INSERT INTO attachments (message_id, name, path, sha256, mime, size, source_hash, note)"
                " VALUES (?,?,?,?,?,?,?,?)",
                attachments,
            )
            c.executemany(
                "INSERT OR IGNORE INTO conversations VALUES (?,?,?,?,?)",
                list(conversations.values()),
            )
            c.executemany(
                "INSERT INTO duplicates (duplicate_key, kept_message_id, source_id, src_file, src_locator)"
                " VALUES (?,?,?,?,?)",
                dups,
            )
            c.executemany(
                "INSERT INTO contact_entries (source_id, name, identifiers, src_file, src_sha256,"
                " src_format, src_locator, extra) VALUES (?,?,?,?,?,?,?,?)",
                contacts,
            )
            c.executemany(
                "INSERT INTO id_spaces (source_id, file, sha256, format, tbl, id_column, is_autoincrement,"
                " high_water, ids, order_key, note) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                spaces,
            )
            c.executemany(
                "INSERT INTO deletion_traces (source_id, kind, detail, strength, conversation,"
                " missing_ids, count, src_file, src_sha256, src_format, src_locator)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                traces,
            )

    @staticmethod
    def _message_row(mid: int, source_id: int, m: Message) -> tuple:
        s = m.sender
        return (
            mid,
            source_id,
            m.platform,
            m.conversation.id,
            iso_utc(m.timestamp_utc),
            m.timestamp_raw,
            int(m.zone_assumed),
            m.direction,
            s.raw if s else None,
            s.id if s else None,
            s.name if s else None,
            s.scheme if s else None,
            _dumps([party_to_json(p) for p in m.recipients]),
            m.body,
            m.kind,
            int(m.deleted),
            int(m.edited),
            m.source.file,
            m.source.sha256,
            m.source.format,
            m.source.locator,
            m.record_id,
            m.order_key,
            m.duplicate_key,
            _dumps(m.extra),
            m.id_space,
            int(m.status_update),
        )

    def add_warnings(self, warnings: Iterable[tuple[str, str, int, list[str]]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO warnings (file, category, count, examples) VALUES (?,?,?,?)",
                [(f, c, n, _dumps(e)) for f, c, n, e in warnings],
            )

    def add_labels(self, analyser: str, rows: Iterable[tuple[int, str, Any]]) -> None:
        """Per-message facts an analyser worked out (duty status, matched case contact...)."""
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO message_labels VALUES (?, ?, ?, ?)",
                [(mid, analyser, label, _dumps(value)) for mid, label, value in rows],
            )

    def labels(self, analyser: str, label: str) -> dict[int, Any]:
        """message id -> value of one label written by one analyser."""
        return {
            mid: json.loads(value)
            for mid, value in self.conn.execute(
                "SELECT message_id, value FROM message_labels WHERE analyser = ? AND label = ?"
                " ORDER BY message_id",
                (analyser, label),
            )
        }

    def add_skipped(self, rows: Iterable[tuple[str, str]]) -> None:
        with self.conn:
            self.conn.executemany("INSERT INTO skipped (file, reason) VALUES (?, ?)", list(rows))

    def skipped(self) -> list[dict[str, str]]:
        return [
            {"file": f, "reason": r}
            for f, r in self.conn.execute("SELECT file, reason FROM skipped ORDER BY id")
        ]

    def add_findings(self, findings: Iterable[Finding]) -> None:
        with self.conn:
            for f in findings:
                cur = self.conn.execute(
                    "INSERT INTO findings (analyser, rule, subject, title, why, weight, data)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (f.analyser, f.rule, f.subject, f.title, f.why, f.weight, _dumps(f.data)),
                )
                f.id = int(cur.lastrowid)
                self.conn.executemany(
                    "INSERT INTO finding_refs (finding_id, message_id, note) VALUES (?,?,NULL)",
                    [(f.id, ref) for ref in f.refs],
                )

    # -- reading ---------------------------------------------------------------------------------
    _MESSAGE_COLUMNS = (
        "id, source_id, platform, conversation, ts_utc, ts_raw, zone_assumed, direction,"
        " sender_raw, sender_id, sender_name, sender_scheme, recipients, body, kind, deleted,"
        " edited, src_file, src_sha256, src_format, src_locator, record_id, order_key,"
        " duplicate_key, extra, id_space, status_update"
    )

    def conversations(self) -> dict[str, Conversation]:
        out = {}
        for key, _platform, title, is_group, participants in self.conn.execute(
            "SELECT key, platform, title, is_group, participants FROM conversations ORDER BY key"
        ):
            out[key] = Conversation(
                id=key,
                title=title,
                is_group=bool(is_group),
                participants=[party_from_json(p) for p in json.loads(participants)],
            )
        return out

    def messages(self) -> Iterator[StoredMessage]:
        """Every message in time order (undated last, then store id)."""
        return self._query_messages()

    def _query_messages(
        self, where: str = "", params: tuple = (), order: str = "time"
    ) -> Iterator[StoredMessage]:
        conversations = self.conversations()
        order_sql = "ts_utc IS NULL, ts_utc, id" if order == "time" else "id"
        attachments = self._attachments_by_message(where, params)
        sql = f"SELECT {self._MESSAGE_COLUMNS} FROM messages {where} ORDER BY {order_sql}"
        for row in self.conn.execute(sql, params):
            yield self._stored(row, conversations, attachments)

    def messages_by_ids(self, ids: Iterable[int]) -> list[StoredMessage]:
        ids = sorted(set(ids))
        out: list[StoredMessage] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out.extend(self._query_messages(f"WHERE id IN ({marks})", tuple(chunk)))
        return sorted(
            out,
            key=lambda m: (
                m.message.timestamp_utc is None,
                iso_utc(m.message.timestamp_utc) or "",
                m.id,
            ),
        )

    def messages_in_conversation(self, key: str) -> Iterator[StoredMessage]:
        return self._query_messages("WHERE conversation = ?", (key,))

    def _attachments_by_message(self, where: str, params: tuple) -> dict[int, list[Attachment]]:
        sql = (
            "SELECT message_id, name, path, sha256, mime, size, source_hash, note FROM attachments"
            + (f" WHERE message_id IN (SELECT id FROM messages {where})" if where else "")
            + " ORDER BY id"
        )
        out: dict[int, list[Attachment]] = {}
        for mid, *values in self.conn.execute(sql, params):
            keys = ("name", "path", "sha256", "mime", "size", "source_hash", "note")
            out.setdefault(mid, []).append(
                attachment_from_json(dict(zip(keys, values, strict=True)))
            )
        return out

    @staticmethod
    def _stored(
        row: tuple, conversations: dict[str, Conversation], attachments: dict[int, list[Attachment]]
    ) -> StoredMessage:
        (
            mid,
            source_id,
            platform,
            conv,
            ts,
            ts_raw,
            zone_assumed,
            direction,
            s_raw,
            s_id,
            s_name,
            s_scheme,
            recipients,
            body,
            kind,
            deleted,
            edited,
            f,
            sha,
            fmt,
            loc,
            record_id,
            order_key,
            dup,
            extra,
            id_space,
            status_update,
        ) = row
        sender = (
            None
            if s_raw is None and s_id is None
            else party_from_json({"raw": s_raw, "id": s_id, "name": s_name, "scheme": s_scheme})
        )
        message = Message(
            platform=platform,
            conversation=conversations.get(conv) or Conversation(id=conv),
            timestamp_utc=parse_iso_utc(ts),
            timestamp_raw=ts_raw,
            zone_assumed=bool(zone_assumed),
            direction=direction,
            sender=sender,
            recipients=[party_from_json(p) for p in json.loads(recipients)],
            body=body,
            kind=kind,
            source=Provenance(f, sha, fmt, loc),
            deleted=bool(deleted),
            edited=bool(edited),
            attachments=attachments.get(mid, []),
            record_id=record_id,
            order_key=order_key,
            extra=json.loads(extra),
            duplicate_key=dup,
            id_space=id_space,
            status_update=bool(status_update),
        )
        return StoredMessage(mid, source_id, message)

    def contact_entries(self) -> Iterator[tuple[int, ContactEntry]]:
        for cid, name, identifiers, f, sha, fmt, loc, extra in self.conn.execute(
            "SELECT id, name, identifiers, src_file, src_sha256, src_format, src_locator, extra"
            " FROM contact_entries ORDER BY id"
        ):
            yield (
                cid,
                ContactEntry(
                    name=name,
                    identifiers=[party_from_json(p) for p in json.loads(identifiers)],
                    source=Provenance(f, sha, fmt, loc),
                    extra=json.loads(extra),
                ),
            )

    def id_spaces(self) -> list[IdSpace]:
        return [
            IdSpace(
                file=f,
                sha256=sha,
                format=fmt,
                table=t,
                id_column=col,
                autoincrement=bool(ai),
                high_water=hw,
                ids=json.loads(ids),
                order_key=ok,
                note=note,
            )
            for f, sha, fmt, t, col, ai, hw, ids, ok, note in self.conn.execute(
                "SELECT file, sha256, format, tbl, id_column, is_autoincrement, high_water, ids,"
                " order_key, note FROM id_spaces ORDER BY id"
            )
        ]

    def deletion_traces(self) -> list[DeletionTrace]:
        return [
            DeletionTrace(
                kind=k,
                detail=d,
                source=Provenance(f, sha, fmt, loc),
                strength=s,
                conversation_id=conv,
                missing_ids=json.loads(ids),
                count=n,
            )
            for k, d, s, conv, ids, n, f, sha, fmt, loc in self.conn.execute(
                "SELECT kind, detail, strength, conversation, missing_ids, count, src_file,"
                " src_sha256, src_format, src_locator FROM deletion_traces ORDER BY id"
            )
        ]

    def sources(self) -> list[dict[str, Any]]:
        cols = (
            "id",
            "file",
            "sha256",
            "size",
            "format",
            "parser_version",
            "messages",
            "contacts",
            "duplicates",
            "error",
        )
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM sources ORDER BY id")
        ]

    def warnings(self) -> list[dict[str, Any]]:
        return [
            {"file": f, "category": c, "count": n, "examples": json.loads(e)}
            for f, c, n, e in self.conn.execute(
                "SELECT file, category, count, examples FROM warnings ORDER BY id"
            )
        ]

    def duplicates(self) -> list[dict[str, Any]]:
        return [
            {
                "duplicate_key": k,
                "kept_message_id": kept,
                "source_id": sid,
                "file": f,
                "locator": loc,
            }
            for k, kept, sid, f, loc in self.conn.execute(
                "SELECT duplicate_key, kept_message_id, source_id, src_file, src_locator"
                " FROM duplicates ORDER BY id"
            )
        ]

    def findings(self, analyser: str | None = None) -> list[Finding]:
        sql = "SELECT id, analyser, rule, subject, title, why, weight, data FROM findings"
        params: tuple = ()
        if analyser:
            sql += " WHERE analyser = ?"
            params = (analyser,)
        refs: dict[int, list[int]] = {}
        for fid, mid in self.conn.execute(
            "SELECT finding_id, message_id FROM finding_refs ORDER BY finding_id, message_id"
        ):
            refs.setdefault(fid, []).append(mid)
        return [
            Finding(
                analyser=a,
                rule=r,
                subject=s,
                title=t,
                why=w,
                weight=wt,
                data=json.loads(d),
                refs=refs.get(fid, []),
                id=fid,
            )
            for fid, a, r, s, t, w, wt, d in self.conn.execute(sql + " ORDER BY id", params)
        ]

    def counts(self) -> dict[str, int]:
        tables = (
            "messages",
            "conversations",
            "attachments",
            "contact_entries",
            "duplicates",
            "findings",
            "deletion_traces",
        )
        return {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}

    # -- media hash cache (see triage.media) -------------------------------------------------------
    def media_get_many(self, sha256s: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = sorted(set(sha256s))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for sha, data in self.conn.execute(
                f"SELECT sha256, data FROM media WHERE sha256 IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                out[sha] = json.loads(data)
        return out

    def media_put_many(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO media (sha256, data) VALUES (?, ?)",
                [(sha, _dumps(data)) for sha, data in records],
            )

    def add_media_files(
        self, rows: Iterable[tuple[str, str | None, int, str | None, str | None]]
    ) -> None:
        """(logical path, sha256, size, format, error) of every picture inventoried."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO media_files (file, sha256, size, format, error) VALUES (?,?,?,?,?)",
                list(rows),
            )

    def media_files(self) -> list[dict[str, Any]]:
        cols = ("file", "sha256", "size", "format", "error")
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM media_files ORDER BY id")
        ]

    def add_exhibits(self, rows: Iterable[dict[str, Any]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO exhibits VALUES (:id, :reference, :kind, :description, :sensitive,"
                " :sha256, :md5, :sha1, :copy, :data)",
                [{**r, "data": _dumps(r.get("data", {}))} for r in rows],
            )

    def exhibits(self) -> list[dict[str, Any]]:
        cols = (
            "id",
            "reference",
            "kind",
            "description",
            "sensitive",
            "sha256",
            "md5",
            "sha1",
            "copy",
            "data",
        )
        out = []
        for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM exhibits ORDER BY rowid"):
            item = dict(zip(cols, row, strict=True))
            item["data"] = json.loads(item["data"])
            item["sensitive"] = bool(item["sensitive"])
            out.append(item)
        return out

    def add_media_matches(self, rows: Iterable[dict[str, Any]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO media_matches (exhibit_id, reference, file, sha256, method, distance,"
                " band, orientation, via, copy, data) VALUES (:exhibit_id, :reference, :file,"
                " :sha256, :method, :distance, :band, :orientation, :via, :copy, :data)",
                [{**r, "data": _dumps(r.get("data", {}))} for r in rows],
            )

    def media_matches(self) -> list[dict[str, Any]]:
        cols = (
            "exhibit_id",
            "reference",
            "file",
            "sha256",
            "method",
            "distance",
            "band",
            "orientation",
            "via",
            "copy",
            "data",
        )
        out = []
        for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM media_matches ORDER BY id"):
            item = dict(zip(cols, row, strict=True))
            item["data"] = json.loads(item["data"])
            out.append(item)
        return out

    def attachments_for(
        self, *, path: str | None = None, sha256: str | None = None
    ) -> list[dict[str, Any]]:
        """Attachment rows whose evidence path or SHA-256 (file or source-recorded) is given."""
        cols = ("id", "message_id", "name", "path", "sha256", "mime", "size", "source_hash", "note")
        clauses, params = [], []
        if path is not None:
            clauses.append("path = ?")
            params.append(path)
        if sha256 is not None:
            clauses.append("sha256 = ?")
            params.append(sha256)
        if not clauses:
            return []
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(
                f"SELECT {', '.join(cols)} FROM attachments WHERE {' OR '.join(clauses)} ORDER BY id",
                params,
            )
        ]

    def attachment_rows(self) -> list[dict[str, Any]]:
        cols = ("id", "message_id", "name", "path", "sha256", "mime", "size", "source_hash", "note")
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM attachments ORDER BY id")
        ]

    # -- report readers (triage.report) ------------------------------------------------------------
    def conversation_summaries(self) -> list[dict[str, Any]]:
        """Per conversation: key, platform, title, is_group, participants, message count and the
        first/last UTC times (``None`` when no message is dated), ordered by key."""
        out = []
        for key, platform, title, is_group, participants, n, first, last in self.conn.execute(
            "SELECT c.key, c.platform, c.title, c.is_group, c.participants,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation = c.key),"
            " (SELECT MIN(ts_utc) FROM messages m WHERE m.conversation = c.key),"
            " (SELECT MAX(ts_utc) FROM messages m WHERE m.conversation = c.key)"
            " FROM conversations c ORDER BY c.key"
        ):
            out.append(
                {
                    "key": key,
                    "platform": platform,
                    "title": title,
                    "is_group": bool(is_group),
                    "participants": [party_from_json(p) for p in json.loads(participants)],
                    "messages": n,
                    "first_utc": first,
                    "last_utc": last,
                }
            )
        return out

    def messages_by_conversation(self) -> Iterator[StoredMessage]:
        """Every message in one pass, grouped by conversation key (in key order) and in time
        order within each, for writing every conversation without a query per conversation."""
        conversations = self.conversations()
        attachments = self._attachments_by_message("", ())
        sql = (
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages"
            " ORDER BY conversation, ts_utc IS NULL, ts_utc, id"
        )
        for row in self.conn.execute(sql):
            yield self._stored(row, conversations, attachments)

    def message_stats(self) -> dict[str, int]:
        """Whole-store counts the report's method section needs: undated, zone-assumed, deleted
        and edited messages."""
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(ts_utc IS NULL), 0), COALESCE(SUM(zone_assumed), 0),"
            " COALESCE(SUM(deleted), 0), COALESCE(SUM(edited), 0) FROM messages"
        ).fetchone()
        return dict(
            zip(("messages", "undated", "zone_assumed", "deleted", "edited"), row, strict=True)
        )


__all__ = ["Finding", "Store", "StoredMessage", "attachment_to_json"]
