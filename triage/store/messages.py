"""The messages aggregate: parties, conversations, messages and what hangs off them.

Parties are stored once (``parties``) and referenced by id from messages (``sender_party``),
recipients (``recipients``), conversation participants (``participants``) and address-book
entries. Provenance files are stored once too (``provenance_files``); a message keeps only its
locator. Scalar message fields map to columns by :mod:`triage.store.codec`.

Reading decodes each row once into a :class:`triage.model.Message` that shares its Party,
Conversation and file objects with every other message, or, for analysers that only need
times, ids and flags, into a :class:`MessageFacts` tuple with no parties, body or extra at all.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from triage.collector import collector_paused
from triage.model import (
    DIRECTIONS,
    KINDS,
    PLATFORMS,
    Attachment,
    Call,
    ContactEntry,
    Conversation,
    DeletionTrace,
    IdSpace,
    Message,
    Party,
    Provenance,
    Record,
    iso_utc,
)
from triage.store.chunks import in_chunks, insert_rows
from triage.store.codec import (
    MESSAGE_RAW_NAMES,
    MESSAGE_SCALAR_NAMES,
    MESSAGE_SCALARS,
    dumps,
    loads,
    message_decoder,
)
from triage.store.message_cells import VALUE, VALUE_LOCATOR, MessageCells, Prepared
from triage.store.page_rows import PAGE_COLUMNS, PageMessage, page_message_decoder
from triage.store.recipient_lists import RECIPIENT_IDS

BATCH = 5000
#: Live rows only: messages recovered from deleted content are shown, never counted.
LIVE = "m.recovered = 0"

#: (mid, role, position, pid): each live message naming one of the temp table
#: ``wanted_parties``' parties, in the roles of ``triage.analysers.parties.message_parties``.
_NAMING = """
    SELECT m.id AS mid, 0 AS role, 0 AS position, m.sender_party AS pid FROM messages m
      WHERE m.sender_party IN (SELECT id FROM wanted_parties) AND {LIVE}
    UNION ALL
    SELECT r.message_id, 1, r.position, r.party_id FROM recipients r
      JOIN messages m ON m.id = r.message_id AND {LIVE}
      JOIN conversations c ON c.id = m.conversation_id
      WHERE r.party_id IN (SELECT id FROM wanted_parties)
        AND (c.is_group = 0 OR m.direction <> 'incoming')
    UNION ALL
    SELECT m.id, 2, p.position, p.party_id FROM participants p
      JOIN conversations c ON c.id = p.conversation_id AND c.is_group = 0
      JOIN messages m ON m.conversation_id = p.conversation_id AND {LIVE}
      WHERE p.party_id IN (SELECT id FROM wanted_parties)
""".replace("{LIVE}", LIVE)

# What repeats from one exported message to the next (MessagesAggregate.export_facts): the
# columns as the store holds them, and as one text of them. Integers, words of the model's
# vocabularies and recipient party ids ("3,4") hold no comma; the device follows a \x1f.
_EXPORT_TABLES = """messages m
  JOIN conversations c ON c.id = m.conversation_id
  JOIN provenance_files f ON f.id = m.file_id"""
_EXPORT_TYPED = (
    "m.zone_assumed, m.platform, c.id, m.direction, m.sender_party, m.kind, m.deleted,"
    f" m.edited, f.id, m.device, {RECIPIENT_IDS}"
)
_FACTS_DEVICE = "\x1f"
_EXPORT_FACTS = (
    "printf('%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\x1f%s', m.zone_assumed, m.platform, c.id,"
    f" m.direction, m.sender_party, m.kind, m.deleted, m.edited, f.id, {RECIPIENT_IDS},"
    " m.device)"
)


class ExportFacts(NamedTuple):
    """What repeats from one exported message to the next, as the store holds it (the device
    ``None`` for none)."""

    zone_assumed: int
    platform: str
    conversation_id: int
    direction: str
    sender_party: int | None
    kind: str
    deleted: int
    edited: int
    file_id: int
    device: str | None
    recipients: str | None  # party ids in position order, comma-separated


#: (id, UTC text, facts text, body, locator): a row of MessagesAggregate.message_export_rows.
ExportRow = tuple[int, str | None, str, str | None, str | None]

_SCALAR_COLUMNS = ",\n  ".join(f"{name} {sql_type}" for name, sql_type, *_ in MESSAGE_SCALARS)

SCHEMA = f"""
CREATE TABLE parties (
  id INTEGER PRIMARY KEY, raw TEXT, pid TEXT, name TEXT, scheme TEXT);
CREATE INDEX parties_pid ON parties (pid);
CREATE TABLE provenance_files (
  id INTEGER PRIMARY KEY, file TEXT, sha256 TEXT, format TEXT);
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY, key TEXT UNIQUE, platform TEXT, title TEXT, is_group INTEGER);
CREATE TABLE participants (
  conversation_id INTEGER, position INTEGER, party_id INTEGER,
  PRIMARY KEY (conversation_id, position)) WITHOUT ROWID;
CREATE INDEX participants_party ON participants (party_id);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, conversation_id INTEGER,
  sender_party INTEGER, file_id INTEGER, locator TEXT, extra TEXT, ts_local TEXT,
  recipient_list INTEGER, {_SCALAR_COLUMNS});
CREATE TABLE recipient_lists (id INTEGER PRIMARY KEY, parties TEXT NOT NULL);
CREATE TABLE recipient_list_parties (
  list_id INTEGER, position INTEGER, party_id INTEGER,
  PRIMARY KEY (list_id, position)) WITHOUT ROWID;
CREATE INDEX recipient_list_parties_party ON recipient_list_parties (party_id);
CREATE VIEW recipients (message_id, position, party_id) AS
  SELECT m.id, e.position, e.party_id FROM messages m
  JOIN recipient_list_parties e ON e.list_id = m.recipient_list;
CREATE TABLE attachments (
  id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, name TEXT, path TEXT, sha256 TEXT,
  mime TEXT, size INTEGER, source_hash TEXT, note TEXT);
CREATE TABLE thumbnails (
  id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, attachment INTEGER, data BLOB, path TEXT,
  locator TEXT);
CREATE TABLE contact_entries (
  id INTEGER PRIMARY KEY, source_id INTEGER, name TEXT, identifiers TEXT,
  file_id INTEGER, locator TEXT, extra TEXT);
CREATE TABLE id_spaces (
  id INTEGER PRIMARY KEY, source_id INTEGER, file TEXT, sha256 TEXT, format TEXT, tbl TEXT,
  id_column TEXT, is_autoincrement INTEGER, high_water INTEGER, ids TEXT, order_key TEXT, note TEXT);
CREATE TABLE deletion_traces (
  id INTEGER PRIMARY KEY, source_id INTEGER, kind TEXT, detail TEXT, strength TEXT,
  conversation TEXT, missing_ids TEXT, count INTEGER, file_id INTEGER, locator TEXT);
CREATE TABLE duplicates (
  id INTEGER PRIMARY KEY, duplicate_key TEXT, kept_message_id INTEGER, source_id INTEGER,
  src_file TEXT, src_locator TEXT, conversation_id INTEGER, attachments TEXT);
"""

# Built once all sources are read (one sort each, not a b-tree insert per row during ingest).
INDEXES = """
CREATE INDEX IF NOT EXISTS messages_ts ON messages (timestamp_utc, id);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id, timestamp_utc);
CREATE INDEX IF NOT EXISTS messages_sender ON messages (sender_party);
CREATE INDEX IF NOT EXISTS messages_recipient_list ON messages (recipient_list);
CREATE INDEX IF NOT EXISTS attachments_message ON attachments (message_id);
CREATE INDEX IF NOT EXISTS attachments_sha256 ON attachments (sha256);
CREATE INDEX IF NOT EXISTS duplicates_kept ON duplicates (kept_message_id);
"""

_ATTACHMENT_FIELDS = ("name", "path", "sha256", "mime", "size", "source_hash", "note")
# The whole messages row, in the order it is inserted: the 8 columns the store works out (5
# store ids, extra, the UTC and local texts of the time), then a prepared message's values as
# they are (its locator, then its MESSAGE_RAW_NAMES fields: triage.store.message_cells), joined
# to them by one tuple concatenation.
_ROW_LEAD = 9
_ROW_COPY_KEY = _ROW_LEAD + VALUE["copy_key"]
_ROW_DUPLICATE_KEY = _ROW_LEAD + VALUE["duplicate_key"]
_ROW_DEVICE = _ROW_LEAD + VALUE["device"]
_COPY_KEY, _DUPLICATE_KEY = VALUE["copy_key"], VALUE["duplicate_key"]
_DEVICE, _PLATFORM = VALUE["device"], VALUE["platform"]
_NO_DEVICE_YET = object()
_SEVERAL_DEVICES = object()
_MESSAGE_COLUMNS = (
    "id, source_id, conversation_id, sender_party, file_id, extra, timestamp_utc, ts_local, "
    + "recipient_list, locator, "
    + ", ".join(MESSAGE_RAW_NAMES)
)
_INSERT_MESSAGE = (
    f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES "
    f"({','.join('?' * (_ROW_LEAD + 1 + len(MESSAGE_RAW_NAMES)))})"
)
_SELECT_MESSAGE = (
    "SELECT m.id, m.source_id, m.conversation_id, m.sender_party, m.file_id, m.locator, m.extra, "
    + ", ".join(f"m.{n}" for n in MESSAGE_SCALAR_NAMES)
    + f", {RECIPIENT_IDS}"
    + " FROM messages m"
)
TIME_ORDER = "m.timestamp_utc IS NULL, m.timestamp_utc, m.id"


@dataclass
class StoredMessage:
    """A message read back from the store, with its store id."""

    id: int
    source_id: int
    message: Message


class MessageFacts(NamedTuple):
    """What counting and gap analysis need of one message, read without decoding it."""

    id: int
    conversation: str
    platform: str
    timestamp_utc: dt.datetime | None
    ts_local: str | None  # wall time in the case zone, "YYYY-MM-DDTHH:MM:SS"
    direction: str
    kind: str
    deleted: bool
    zone_assumed: bool
    status_update: bool
    record_id: int | None
    order_key: int | None
    id_space: str | None
    file: str
    locator: str
    is_group: bool
    device: str | None = None  # the case file device holding it (``Message.device``)

    @property
    def is_system(self) -> bool:
        return self.direction == "system" or self.kind == "system"

    @property
    def counted(self) -> bool:
        """Sent or received by a person: not an app notice, not a Status post."""
        return not self.is_system and not self.status_update


# Python's own hash of a key's text (a module name, so a test can make every key share one).
_hash = hash


class _KeyIndex:
    """Keys of the messages stored (``duplicate_key`` or ``copy_key``) -> what was kept for each,
    remembered by Python's hash of the key rather than its text or a digest of it: a tenth of the
    time of a 128-bit digest per message, and less memory than either at a million messages.

    A hash met again is checked against the key the store holds for the message it names
    (``key_of``), so two keys that share a hash stay apart: a message is never taken for a copy
    of another on a hash alone. Such a second key is kept by its text (``_shared``)."""

    def __init__(self, key_of: Callable[[Any], str | None]) -> None:
        self._by_hash: dict[int, Any] = {}
        self._shared: dict[str, Any] = {}
        self._key_of = key_of

    def __len__(self) -> int:
        return len(self._by_hash) + len(self._shared)

    def get(self, key: str) -> Any:
        found = self._by_hash.get(_hash(key))
        if found is None or self._key_of(found) == key:
            return found
        return self._shared.get(key)

    def add(self, key: str, value: Any) -> None:
        """Remember a key :meth:`get` did not find."""
        h = _hash(key)
        if h in self._by_hash:
            self._shared[key] = value
        else:
            self._by_hash[h] = value

    def put(self, key: str, value: Any) -> None:
        """Remember ``value`` for ``key``, replacing what was kept for it."""
        if self.get(key) is None:
            self.add(key, value)
        elif key in self._shared:
            self._shared[key] = value
        else:
            self._by_hash[_hash(key)] = value

    def setdefault(self, key: str, value: Any) -> None:
        """Remember ``value`` for ``key`` unless something is kept for it already."""
        if self.get(key) is None:
            self.add(key, value)


@contextmanager
def _larger_cache(conn: sqlite3.Connection) -> Iterator[None]:
    """SQLite's page cache at 16 MiB inside the block (2 MiB by default), for a pass that would
    otherwise read pages again or sort through temporary files; what is written is the same."""
    (old,) = conn.execute("PRAGMA cache_size").fetchone()
    conn.execute("PRAGMA cache_size = -16384")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(old)}")


def _party_key(p: Party) -> tuple[str, str | None, str | None, str]:
    return (p.raw, p.id, p.name, p.scheme)


class MessagesAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = SCHEMA
    conn: Any
    zone: ZoneInfo

    def _init_messages(self) -> None:
        c = self.conn
        self._next_message = (
            1 + c.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
        )
        # The rows of the batch being encoded, the first of them with id _pending_first: where
        # a key met again is looked up when its message is not written yet (see _stored_key).
        self._pending_rows: list[tuple] = []
        self._pending_first = self._next_message
        # duplicate_key -> the id of the message stored with it.
        self._seen_keys = self._duplicate_index()
        # The device every message stored so far was read from, while they all share one: no
        # copy of a message on another device can be met then, so copy keys are only digested
        # and remembered (``_seen_copies``) from the first message of a second device on.
        self._copies_device: object = _NO_DEVICE_YET
        # Copy keys (``Message.copy_key``) stored -> (message id, device).
        self._seen_copies = self._copy_index()
        # Whether _seen_keys holds every stored key (false once released by index()).
        self._keys_in_memory = self._next_message == 1
        self._party_ids: dict[tuple, int] = {}
        self._party_objects: dict[int, tuple[Party, int]] = {}
        self._parties: dict[int, Party] = {}
        for pid, raw, ident, name, scheme in c.execute(
            "SELECT id, raw, pid, name, scheme FROM parties ORDER BY id"
        ):
            party = Party(raw=raw, id=ident, name=name, scheme=scheme)
            self._parties[pid] = party
            self._party_ids[_party_key(party)] = pid
        # Read when a batch first stores a list: opening a store (of this or another schema
        # version) reads none.
        self._recipient_lists: dict[tuple[int, ...], int] | None = None
        self._file_ids: dict[tuple[str, str, str], int] = {
            (f, s, fmt): i
            for i, f, s, fmt in c.execute("SELECT id, file, sha256, format FROM provenance_files")
        }
        self._files = {i: k for k, i in self._file_ids.items()}
        self._conv_ids: dict[str, int] = dict(c.execute("SELECT key, id FROM conversations"))
        # Read from the store when a batch is first stored (_device_runs).
        self._device_starts: list[tuple[int, str | None]] | None = None
        self._conversations: dict[int, Conversation] | None = None
        self._cells = MessageCells(self.zone)

    # -- writing ---------------------------------------------------------------------------------
    def _party_id(self, p: Party, rows: list[tuple]) -> int:
        # Parsers share one Party object per person: known objects are found by identity (the
        # cache holds each object, so its id() is not reused while it is listed).
        hit = self._party_objects.get(id(p))
        if hit is not None and hit[0] is p:
            return hit[1]
        key = _party_key(p)
        found = self._party_ids.get(key)
        if found is None:
            found = self._party_ids[key] = len(self._party_ids) + 1
            self._parties[found] = p
            rows.append((found, p.raw, p.id, p.name, p.scheme))
        if len(self._party_objects) > 100_000:
            self._party_objects.clear()
        self._party_objects[id(p)] = (p, found)
        return found

    def _recipient_list(
        self, ids: list[int], lists: list[tuple[int, str]], list_parties: list[int]
    ) -> int | None:
        """The id of this recipient list (party ids in position order), stored once; ``None``
        for no recipients."""
        if not ids:
            return None
        known = self._recipient_lists
        if known is None:
            known = self._recipient_lists = {
                tuple(int(p) for p in text.split(",")): i
                for i, text in self.conn.execute("SELECT id, parties FROM recipient_lists")
            }
        key = tuple(ids)
        found = known.get(key)
        if found is None:
            found = known[key] = len(known) + 1
            lists.append((found, ",".join(map(str, ids))))
            for n, p in enumerate(ids):
                list_parties += (found, n, p)
        return found

    def _file_id(self, s: Provenance, rows: list[tuple]) -> int:
        return self._file_key_id((s.file, s.sha256, s.format), rows)

    def _file_key_id(self, key: tuple[str, str, str], rows: list[tuple]) -> int:
        found = self._file_ids.get(key)
        if found is None:
            found = self._file_ids[key] = len(self._file_ids) + 1
            self._files[found] = key
            rows.append((found, *key))
        return found

    def _times(self, when: dt.datetime | None) -> tuple[str | None, str | None]:
        """The UTC text and the wall time in the case zone of one time
        (:meth:`triage.store.message_cells.MessageCells.times`)."""
        return self._cells.times(when)

    def _local(self, when: dt.datetime | None) -> str | None:
        """Wall time in the case zone (see :meth:`_times`)."""
        return self._times(when)[1]

    def prepare(self, records: list[Record]) -> Prepared:
        """A batch of records prepared for :meth:`ingest_prepared`
        (:meth:`triage.store.message_cells.MessageCells.prepare`)."""
        return self._cells.prepare(records)

    def ingest(self, source_id: int, records: Iterable[Record]) -> None:
        """Store records in batches; a message whose ``duplicate_key`` is already stored is not
        stored again but listed in ``duplicates`` with the copy that was kept."""
        iterator = iter(records)
        self.ingest_prepared(
            source_id,
            map(self.prepare, iter(lambda: list(itertools.islice(iterator, BATCH)), [])),
        )

    def ingest_prepared(self, source_id: int, batches: Iterable[Prepared]) -> None:
        """Store batches of records made by :meth:`prepare` (here or in the parse worker), each
        of up to :data:`BATCH` records, each batch written in one transaction.

        One thread builds and writes the rows: a writer thread (tried before) gained no wall
        time, since the sqlite3 module takes the interpreter lock back for every row it binds,
        and cost about a tenth more CPU in lock hand-overs."""
        self._indexed = False
        if not self._keys_in_memory:
            self._seen_keys = self._duplicate_index()
            dup_keys = "SELECT id, duplicate_key FROM messages WHERE duplicate_key IS NOT NULL"
            for mid, key in self.conn.execute(dup_keys + " ORDER BY id"):
                self._seen_keys.put(key, mid)
            self._seen_copies = self._copy_index()
            for mid, key, device in self.conn.execute(
                "SELECT id, copy_key, device FROM messages WHERE copy_key IS NOT NULL ORDER BY id"
            ):
                self._seen_copies.put(key, (mid, device))
            self._copies_device = _SEVERAL_DEVICES
            self._keys_in_memory = True
        with collector_paused():
            for batch in batches:
                rows = self._rows(source_id, batch)
                with self.conn:
                    for sql, values in rows:
                        if values:
                            self.conn.executemany(sql, values)

    def index(self) -> None:
        """Build the message indexes (after ingest; idempotent). The duplicate keys kept in
        memory during ingest are let go; a later ingest reads them back from the store."""
        if self._seen_keys or self._seen_copies:
            self._seen_keys = self._duplicate_index()
            self._seen_copies = self._copy_index()
            self._keys_in_memory = False
        # The ingest caches (times per minute, parties by object) would otherwise stay for the
        # analysers and the report: up to 300,000 entries no later stage reads.
        self._cells.forget()
        self._party_objects = {}
        if not getattr(self, "_indexed", False):
            # Each index is built from one sort of its keys, which SQLite keeps in memory up
            # to its page cache's size and otherwise merges from temporary files: with 16 MiB
            # (2 MiB by default) the six at 300,000 messages took 7.64 -> 7.06 G instructions.
            try:
                with _larger_cache(self.conn):
                    self.conn.executescript(INDEXES)
            except sqlite3.OperationalError:
                pass  # a read-only store: it was indexed when it was written
            self._indexed = True

    def _duplicate_index(self) -> _KeyIndex:
        return _KeyIndex(lambda mid: self._stored_key(mid, _ROW_DUPLICATE_KEY, "duplicate_key"))

    def _copy_index(self) -> _KeyIndex:
        return _KeyIndex(lambda kept: self._stored_key(kept[0], _ROW_COPY_KEY, "copy_key"))

    def _stored_key(self, message_id: int, at: int, column: str) -> str | None:
        """A key of a stored message: from the batch being encoded, or from the store."""
        if message_id >= self._pending_first:
            return self._pending_rows[message_id - self._pending_first][at]
        row = self.conn.execute(
            f"SELECT {column} FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        return row[0] if row else None

    def _rows(self, source_id: int, batch: Prepared) -> list[tuple[str, list[tuple]]]:
        """(statement, rows) to insert for one batch of prepared records (:meth:`prepare`), in
        insertion order."""
        parties: list[tuple] = []
        files: list[tuple] = []
        conversations: list[tuple] = []
        participants: list[tuple] = []
        messages: list[tuple] = []
        self._pending_rows, self._pending_first = messages, self._next_message
        lists: list[tuple[int, str]] = []  # (id, "id,id") of each recipient list first met
        list_parties: list[int] = []  # (list id, position, party id) of each, one after another
        attachments: list[tuple] = []
        thumbs: list[tuple] = []
        dups: list[tuple] = []
        contacts: list[tuple] = []
        spaces: list[tuple] = []
        traces: list[tuple] = []
        calls: dict[str, list[tuple]] = {
            "calls": [],
            "call_participants": [],
            "call_duplicates": [],
        }
        party_id = self._party_id
        texts = self._cells.texts
        seen_keys = self._seen_keys
        seen_copies = self._seen_copies
        starts = self._device_runs()
        run_device: object = _NO_DEVICE_YET
        objects = batch.objects
        # The store id of each of the batch's objects, once one of its messages is stored (a
        # recipient list's party ids, a file's; a conversation's and a sender's by the object's
        # identity, which the batch holds meanwhile): each is worked out where the first message
        # that names it is, so ids are given in the same order.
        known: list[Any] = [None] * len(objects)
        conversation_ids: dict[int, int | None] = {}
        sender_ids: dict[int, int] = {}
        for item in batch.messages():
            if type(item) is not tuple:
                record = item
            else:  # a message
                values, extra, when, to_at, files_at, file_at, conversation, sender = item
                key = values[_DUPLICATE_KEY]
                kept_id = None if key is None else seen_keys.get(key)
                device = values[_DEVICE]
                if kept_id is not None:
                    # A copy from another device keeps its own conversation (present there too).
                    other = self._device_at(kept_id) != device
                    dups.append(
                        (
                            key,
                            kept_id,
                            source_id,
                            objects[file_at][0],
                            values[VALUE_LOCATOR],
                            self._conversation_id(
                                conversation,
                                values[_PLATFORM],
                                conversations,
                                participants,
                                parties,
                                create=other,
                            ),
                        )
                    )
                    continue
                # The same message on another of the subject's devices meets its first copy by
                # the same rule: listed as a copy of the kept one, not stored again. On one
                # device, copies meet by duplicate_key only.
                copy = values[_COPY_KEY]
                kept = None
                copies = self._copies_device
                if copies is not _SEVERAL_DEVICES:
                    if copies is _NO_DEVICE_YET:
                        self._copies_device = device
                    elif device != copies:
                        self._remember_copies(messages)
                        copies = _SEVERAL_DEVICES
                if copy is not None and copies is _SEVERAL_DEVICES:
                    kept = seen_copies.get(copy)
                if kept is not None and kept[1] != device:
                    dups.append(
                        (
                            copy,
                            kept[0],
                            source_id,
                            objects[file_at][0],
                            values[VALUE_LOCATOR],
                            self._conversation_id(
                                conversation,
                                values[_PLATFORM],
                                conversations,
                                participants,
                                parties,
                                create=True,
                            ),
                        )
                    )
                    continue
                mid = self._next_message
                self._next_message = mid + 1
                # The records of a source share one device: its run is looked at once.
                if device != run_device:
                    if not starts or starts[-1][1] != device:
                        starts.append((mid, device))
                    run_device = device
                if key is not None:
                    seen_keys.add(key, mid)
                if copy is not None and copies is _SEVERAL_DEVICES and kept is None:
                    seen_copies.add(copy, (mid, device))
                conv_id = conversation_ids.get(id(conversation))
                if conv_id is None:
                    conv_id = conversation_ids[id(conversation)] = self._conversation_id(
                        conversation,
                        values[_PLATFORM],
                        conversations,
                        participants,
                        parties,
                    )
                sender_id = None
                if sender is not None:
                    sender_id = sender_ids.get(id(sender))
                    if sender_id is None:
                        sender_id = sender_ids[id(sender)] = party_id(sender, parties)
                source_file = known[file_at]
                if source_file is None:
                    source_file = known[file_at] = self._file_key_id(objects[file_at], files)
                utc, local = texts(when)
                to = known[to_at]
                if to is None:
                    to = known[to_at] = self._recipient_list(
                        [party_id(p, parties) for p in objects[to_at]], lists, list_parties
                    )
                messages.append(
                    (mid, source_id, conv_id, sender_id, source_file, extra, utc, local, to)
                    + values
                )
                if files_at is not None:
                    files_of = objects[files_at]
                    attachments.extend(
                        (mid, a.name, a.path, a.sha256, a.mime, a.size, a.source_hash, a.note)
                        for a in files_of
                    )
                    thumbs.extend(
                        (mid, n, a.thumbnail.data, a.thumbnail.path, a.thumbnail.locator)
                        for n, a in enumerate(files_of)
                        if a.thumbnail is not None
                    )
                continue
            if isinstance(record, Call):
                self._collect_call(source_id, record, parties, files, calls)
            elif isinstance(record, ContactEntry):
                contacts.append(
                    (
                        source_id,
                        record.name,
                        dumps([party_id(p, parties) for p in record.identifiers]),
                        self._file_id(record.source, files),
                        record.source.locator,
                        dumps(record.extra),
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
                        dumps(record.ids),
                        record.order_key,
                        record.note,
                    )
                )
            elif isinstance(record, DeletionTrace):
                traces.append(
                    (
                        source_id,
                        record.kind,
                        record.detail,
                        record.strength,
                        record.conversation_id,
                        dumps(record.missing_ids),
                        record.count,
                        self._file_id(record.source, files),
                        record.source.locator,
                    )
                )
        return [
            ("INSERT INTO parties VALUES (?,?,?,?,?)", parties),
            ("INSERT INTO provenance_files VALUES (?,?,?,?)", files),
            ("INSERT INTO conversations VALUES (?,?,?,?,?)", conversations),
            ("INSERT INTO participants VALUES (?,?,?)", participants),
            (_INSERT_MESSAGE, messages),
            ("INSERT INTO recipient_lists VALUES (?,?)", lists),
            *insert_rows("INSERT INTO recipient_list_parties", 3, list_parties),
            (
                "INSERT INTO attachments (message_id, name, path, sha256, mime, size, source_hash,"
                " note) VALUES (?,?,?,?,?,?,?,?)",
                attachments,
            ),
            (
                "INSERT INTO thumbnails (message_id, attachment, data, path, locator)"
                " VALUES (?,?,?,?,?)",
                thumbs,
            ),
            (
                "INSERT INTO duplicates (duplicate_key, kept_message_id, source_id, src_file,"
                " src_locator, conversation_id) VALUES (?,?,?,?,?,?)",
                dups,
            ),
            (
                "INSERT INTO contact_entries (source_id, name, identifiers, file_id, locator,"
                " extra) VALUES (?,?,?,?,?,?)",
                contacts,
            ),
            (
                "INSERT INTO id_spaces (source_id, file, sha256, format, tbl, id_column,"
                " is_autoincrement, high_water, ids, order_key, note)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                spaces,
            ),
            (
                "INSERT INTO deletion_traces (source_id, kind, detail, strength, conversation,"
                " missing_ids, count, file_id, locator) VALUES (?,?,?,?,?,?,?,?,?)",
                traces,
            ),
            *self._call_rows(calls),
        ]

    def _remember_copies(self, pending: list[tuple]) -> None:
        """Start keeping copy keys: those of every message stored so far (all of one device),
        the first message of each key, as if they had been kept all along."""
        seen = self._seen_copies
        stored = self.conn.execute(
            "SELECT id, copy_key, device FROM messages WHERE copy_key IS NOT NULL ORDER BY id"
        )
        at_key, at_device = _ROW_COPY_KEY, _ROW_DEVICE
        for mid, key, device in itertools.chain(
            stored, ((r[0], r[at_key], r[at_device]) for r in pending if r[at_key] is not None)
        ):
            seen.setdefault(key, (mid, device))
        self._copies_device = _SEVERAL_DEVICES

    def _conversation_id(
        self,
        conv: Conversation,
        platform: str,
        conversations: list[tuple],
        participants: list[tuple],
        parties: list[tuple],
        create: bool = True,
    ) -> int | None:
        """The store id of a message's conversation, registered when new (unless ``create`` is
        false: a copy of a message on the same device adds no conversation)."""
        conv_id = self._conv_ids.get(conv.id)
        if conv_id is None and create:
            conv_id = self._conv_ids[conv.id] = len(self._conv_ids) + 1
            conversations.append((conv_id, conv.id, platform, conv.title, int(conv.is_group)))
            participants.extend(
                (conv_id, n, self._party_id(p, parties)) for n, p in enumerate(conv.participants)
            )
            if self._conversations is not None:
                self._conversations = None
        return conv_id

    def _device_runs(self) -> list[tuple[int, str | None]]:
        """(first message id, device) of each run of ids stored from one device, in id order:
        sources are stored one after another, so a kept message's device is found by its id.
        Read from the store only when a batch is stored into it, not when it is opened: that
        reads every message (0.14 s at 300,000), and only ingest needs it, while the
        analysers' second process, the exports process, `triage report` and the run's summary
        open the store to read it."""
        if self._device_starts is None:
            self._device_starts = self.conn.execute(
                "SELECT MIN(id), device FROM messages GROUP BY source_id ORDER BY 1"
            ).fetchall()
        return self._device_starts

    def _device_at(self, message_id: int) -> str | None:
        """The device of a stored message, from the runs of ids each device's sources got."""
        starts = self._device_runs()
        at = bisect.bisect_right(starts, message_id, key=lambda s: s[0]) - 1
        return starts[at][1] if at >= 0 else None

    # -- parties and conversations ---------------------------------------------------------------
    def parties(self) -> dict[int, Party]:
        """Every party the store holds, by party id (one shared object per distinct party)."""
        return self._parties

    def _conversation_objects(self) -> dict[int, Conversation]:
        if self._conversations is None:
            members: dict[int, list[Party]] = {}
            for conv_id, pid in self.conn.execute(
                "SELECT conversation_id, party_id FROM participants ORDER BY conversation_id, position"
            ):
                members.setdefault(conv_id, []).append(self._parties[pid])
            self._conversations = {
                cid: Conversation(
                    id=key, title=title, is_group=bool(is_group), participants=members.get(cid, [])
                )
                for cid, key, title, is_group in self.conn.execute(
                    "SELECT id, key, title, is_group FROM conversations ORDER BY id"
                )
            }
        return self._conversations

    def conversations(self) -> dict[str, Conversation]:
        return {c.id: c for c in sorted(self._conversation_objects().values(), key=lambda c: c.id)}

    # -- reading messages ------------------------------------------------------------------------
    def _query_messages(
        self, where: str = "", params: tuple = (), order: str = TIME_ORDER
    ) -> Iterator[StoredMessage]:
        self.index()
        decode = message_decoder(
            7,
            self._conversation_objects(),
            self._parties,
            self._files,
            self._attachments_by_message(where, params),
        )
        sql = f"{_SELECT_MESSAGE} {where} ORDER BY {order}"
        for row in self.conn.execute(sql, params):
            yield StoredMessage(row[0], row[1], decode(row))

    def _attachments_by_message(self, where: str, params: tuple) -> dict[int, list[Attachment]]:
        sql = (
            "SELECT message_id, name, path, sha256, mime, size, source_hash, note FROM attachments"
            + (f" WHERE message_id IN (SELECT m.id FROM messages m {where})" if where else "")
            + " ORDER BY id"
        )
        out: dict[int, list[Attachment]] = {}
        for mid, *values in self.conn.execute(sql, params):
            out.setdefault(mid, []).append(Attachment(*values))
        return out

    def messages(self) -> Iterator[StoredMessage]:
        """Every live message in time order (undated last, then store id). Messages recovered
        from deleted database content are not live rows: :meth:`recovered_messages` reads them,
        and no count over live messages (facts, party messages) includes them."""
        return self._query_messages(f"WHERE {LIVE}")

    def recovered_messages(self) -> list[StoredMessage]:
        """Messages recovered from deleted database content (``Message.recovered``), in time
        order. Their rows are read first and their attachments then by message id: read by
        the rows' condition, as for the other reads, the attachments' query is a second pass
        over every message (0.07 s of CPU at 300,000 messages, none of them recovered)."""
        self.index()
        rows = self.conn.execute(
            f"{_SELECT_MESSAGE} WHERE m.recovered = 1 ORDER BY {TIME_ORDER}"
        ).fetchall()
        attachments: dict[int, list[Attachment]] = {}
        for chunk, marks in in_chunks(sorted(row[0] for row in rows)):
            attachments.update(
                self._attachments_by_message(f"WHERE m.id IN ({marks})", tuple(chunk))
            )
        decode = message_decoder(
            7, self._conversation_objects(), self._parties, self._files, attachments
        )
        return [StoredMessage(row[0], row[1], decode(row)) for row in rows]

    def messages_by_ids(self, ids: Iterable[int]) -> list[StoredMessage]:
        """The messages with these store ids, in time order."""
        wanted = sorted(set(ids))
        out: list[StoredMessage] = []
        for chunk, marks in in_chunks(wanted):
            out.extend(self._query_messages(f"WHERE m.id IN ({marks})", tuple(chunk)))
        out.sort(
            key=lambda s: (
                s.message.timestamp_utc is None,
                iso_utc(s.message.timestamp_utc) or "",
                s.id,
            )
        )
        return out

    def sender_of(self, message_id: int) -> Party | None:
        """The sender party of one message, without decoding the message."""
        row = self.conn.execute(
            "SELECT sender_party FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        return None if row is None or row[0] is None else self._parties[row[0]]

    def messages_in_conversation(self, key: str) -> Iterator[StoredMessage]:
        return self._query_messages(
            "WHERE m.conversation_id = (SELECT id FROM conversations WHERE key = ?)", (key,)
        )

    def messages_by_conversation(self) -> Iterator[StoredMessage]:
        """Every message in one pass, grouped by conversation key (in key order) and in time
        order within each, for writing every conversation without a query per conversation."""
        return self._query_messages(
            "JOIN conversations c ON c.id = m.conversation_id",
            (),
            "c.key, " + TIME_ORDER,
        )

    def _page_decoder(self, where: str = "", params: tuple = ()) -> Callable[[tuple], PageMessage]:
        self.index()
        return page_message_decoder(
            self._conversation_objects(),
            self._parties,
            self._files,
            self._attachments_by_message(where, params),
        )

    def _page_messages(self, where: str, params: tuple) -> Iterator[PageMessage]:
        decode = self._page_decoder(where, params)
        sql = f"SELECT {PAGE_COLUMNS} FROM messages m {where} ORDER BY {TIME_ORDER}"
        return map(decode, self.conn.execute(sql, params))

    def page_messages_by_conversation(self, keys: Iterable[str]) -> Iterator[PageMessage]:
        """The messages of the conversations with these keys, as the report pages read them
        (:class:`PageMessage`): one conversation after the other in the order given, each in
        time order (undated last, then store id), as :meth:`messages_by_conversation` gives.

        Each conversation is two walks of the ``messages_conversation`` index, its dated
        messages then its undated ones: the index holds them in (time, id) order, so nothing is
        sorted, and the messages of a share of the conversations cost a share of reading them
        all (one sort of every message by conversation key and time cost as much in SQLite as
        these walks of all of them at 300,000 messages: 1.5 s)."""
        decode = self._page_decoder()  # every attachment: a few thousand rows, one query
        ids = dict(self.conn.execute("SELECT key, id FROM conversations"))
        select = f"SELECT {PAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ?"
        dated = f"{select} AND m.timestamp_utc IS NOT NULL ORDER BY m.timestamp_utc, m.id"
        undated = f"{select} AND m.timestamp_utc IS NULL ORDER BY m.id"
        execute = self.conn.execute
        # The rows of one conversation are spread over the table's pages (a phone stores its
        # messages as they come): with SQLite's default 2 MiB cache each walk read its pages
        # again from the file, 0.6 s of system time at 300,000 messages; 16 MiB keeps them.
        with _larger_cache(self.conn):
            for key in keys:
                cid = ids.get(key)
                if cid is None:
                    continue
                yield from map(decode, execute(dated, (cid,)))
                yield from map(decode, execute(undated, (cid,)))

    def conversation_keys_of(self, ids: Iterable[int]) -> set[str]:
        """The keys of the conversations holding the messages with these ids."""
        out: set[str] = set()
        for chunk, marks in in_chunks(sorted(set(ids))):
            out.update(
                key
                for (key,) in self.conn.execute(
                    "SELECT DISTINCT c.key FROM messages m JOIN conversations c"
                    f" ON c.id = m.conversation_id WHERE m.id IN ({marks})",
                    tuple(chunk),
                )
            )
        return out

    def page_messages_by_ids(self, ids: Iterable[int]) -> list[PageMessage]:
        """:meth:`messages_by_ids` as the report pages read them, in time order."""
        wanted = sorted(set(ids))
        out: list[PageMessage] = []
        for chunk, marks in in_chunks(wanted):
            out.extend(self._page_messages(f"WHERE m.id IN ({marks})", tuple(chunk)))
        out.sort(key=lambda m: (m.utc is None, m.utc or "", m.id))
        return out

    def message_facts(self, where: str = "", params: tuple = ()) -> Iterator[MessageFacts]:
        """Every message (or those ``where`` selects, over ``messages m`` joined to
        ``conversations c``) as :class:`MessageFacts`, in time order, decoding nothing."""
        self.index()
        files = self._files
        sql = (
            "SELECT m.id, c.key, m.platform, m.timestamp_utc, m.ts_local, m.direction, m.kind,"
            " m.deleted, m.zone_assumed, m.status_update, m.record_id, m.order_key, m.id_space,"
            " m.file_id, m.locator, c.is_group, m.device"
            f" FROM messages m JOIN conversations c ON c.id = m.conversation_id AND {LIVE}"
            f" {where} ORDER BY {TIME_ORDER}"
        )
        parse = dt.datetime.fromisoformat
        # SQLite hands back a new string per row; a phone's millions of rows share a few
        # platforms, directions, kinds, id spaces and chats, so each is kept once.
        pool: dict[str, str] = {}
        shared = pool.setdefault
        for row in self.conn.execute(sql, params):
            (mid, conv, platform, ts, local, direction, kind, deleted, zone_assumed, status,
             record_id, order_key, id_space, file_id, locator, is_group, device) = row  # fmt: skip
            yield MessageFacts(
                mid,
                shared(conv, conv),
                shared(platform, platform),
                parse(ts) if ts else None,
                local,
                shared(direction, direction),
                shared(kind, kind),
                bool(deleted),
                bool(zone_assumed),
                bool(status),
                record_id,
                order_key,
                None if id_space is None else shared(id_space, id_space),
                files[file_id][0],
                locator,
                bool(is_group),
                None if device is None else shared(device, device),
            )

    def facts_by_ids(self, ids: Iterable[int]) -> list[MessageFacts]:
        wanted = sorted(set(ids))
        out: list[MessageFacts] = []
        for chunk, marks in in_chunks(wanted):
            out.extend(self.message_facts(f"WHERE m.id IN ({marks})", tuple(chunk)))
        out.sort(key=lambda f: (f.timestamp_utc is None, iso_utc(f.timestamp_utc) or "", f.id))
        return out

    def provenance_of(self, ids: Iterable[int]) -> dict[int, tuple[str | None, Provenance]]:
        """message id -> (UTC time text, provenance) for the ids given."""
        wanted = sorted(set(ids))
        out: dict[int, tuple[str | None, Provenance]] = {}
        for chunk, marks in in_chunks(wanted):
            for mid, ts, file_id, locator in self.conn.execute(
                f"SELECT id, timestamp_utc, file_id, locator FROM messages WHERE id IN ({marks})",
                chunk,
            ):
                out[mid] = (ts, Provenance(*self._files[file_id], locator))
        return out

    # -- SQL counting ----------------------------------------------------------------------------
    def message_times(self) -> Iterator[tuple[int, str | None, str | None, bool]]:
        """(id, UTC time text, local wall time text, counted) of every message in id order;
        counted: a live row sent or received by a person (not an app notice, not a Status
        post, not recovered from deleted content)."""
        self.index()
        yield from self.conn.execute(
            "SELECT id, timestamp_utc, ts_local,"
            " direction <> 'system' AND kind <> 'system' AND NOT status_update AND NOT recovered"
            " FROM messages ORDER BY id"
        )

    def time_span(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The first and last UTC times of all dated messages."""
        # Each alone, so that SQLite reads it off the time index instead of scanning every row.
        first, last = self.conn.execute(
            "SELECT (SELECT MIN(timestamp_utc) FROM messages),"
            " (SELECT MAX(timestamp_utc) FROM messages)"
        ).fetchone()
        parse = dt.datetime.fromisoformat
        return (parse(first) if first else None, parse(last) if last else None)

    def local_heatmap(self, message_ids: Iterable[int]) -> list[list[int]]:
        """7x24 counts (Monday first, local hours of the store's zone) of the dated messages
        among ``message_ids``, counted in SQL."""
        self.index()
        grid = [[0] * 24 for _ in range(7)]
        wanted = sorted(set(message_ids))
        for chunk, marks in in_chunks(wanted):
            for weekday, hour, n in self.conn.execute(
                "SELECT (CAST(strftime('%w', ts_local) AS INTEGER) + 6) % 7,"
                " CAST(strftime('%H', ts_local) AS INTEGER), COUNT(*) FROM messages"
                f" WHERE ts_local IS NOT NULL AND id IN ({marks})"
                " GROUP BY 1, 2",
                chunk,
            ):
                grid[weekday][hour] += n
        return grid

    def party_messages(self, party_ids: Iterable[int]) -> list[tuple[int, int, int, int]]:
        """(message id, role order, position, party id) for every message that names one of
        ``party_ids`` as its sender, as a recipient (in a group, only when the owner sent it:
        a received group message is with its sender), or, in a one-to-one chat, as a
        participant. Role order: sender 0, recipient 1, participant 2 (the order
        ``triage.analysers.parties.message_parties`` gives)."""
        return self._naming(party_ids, f"SELECT * FROM ({_NAMING}) ORDER BY 1, 2, 3")

    def messages_naming_several(self, party_ids: Iterable[int]) -> list[int]:
        """The ids, in order, of the messages that name two or more different identifiers
        (``Party.id``) among ``party_ids``, in the roles :meth:`party_messages` reads. Counted
        in SQL: the parties of every message are not read into Python to find the few."""
        rows = self._naming(
            party_ids,
            f"SELECT n.mid FROM ({_NAMING}) n JOIN parties p ON p.id = n.pid"
            " GROUP BY n.mid HAVING COUNT(DISTINCT p.pid) > 1 ORDER BY n.mid",
        )
        return [mid for (mid,) in rows]

    def _naming(self, party_ids: Iterable[int], sql: str) -> list[tuple[Any, ...]]:
        """``sql`` run over :data:`_NAMING` with ``party_ids`` as the wanted parties."""
        self.index()
        ids = sorted(set(party_ids))
        if not ids:
            return []
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_parties (id INTEGER PRIMARY KEY)")
        self.conn.execute("DELETE FROM wanted_parties")
        self.conn.executemany("INSERT INTO wanted_parties VALUES (?)", [(i,) for i in ids])
        rows = self.conn.execute(sql).fetchall()
        self.conn.execute("DELETE FROM wanted_parties")
        return rows

    # -- other records ---------------------------------------------------------------------------
    def contact_entries(self) -> Iterator[tuple[int, ContactEntry]]:
        for cid, name, identifiers, file_id, locator, extra in self.conn.execute(
            "SELECT id, name, identifiers, file_id, locator, extra FROM contact_entries ORDER BY id"
        ):
            yield (
                cid,
                ContactEntry(
                    name=name,
                    identifiers=[self._parties[p] for p in loads(identifiers)],
                    source=Provenance(*self._files[file_id], locator),
                    extra=loads(extra),
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
                ids=loads(ids),
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
                source=Provenance(*self._files[file_id], loc),
                strength=s,
                conversation_id=conv,
                missing_ids=loads(ids),
                count=n,
            )
            for k, d, s, conv, ids, n, file_id, loc in self.conn.execute(
                "SELECT kind, detail, strength, conversation, missing_ids, count, file_id, locator"
                " FROM deletion_traces ORDER BY id"
            )
        ]

    def duplicates(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The copies not counted, in the order read (the first ``limit`` when given)."""
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
                " FROM duplicates ORDER BY id LIMIT ?",
                (-1 if limit is None else limit,),
            )
        ]

    def duplicate_count(self) -> int:
        """How many copies were not counted (:meth:`duplicates`, all of them)."""
        return self.conn.execute("SELECT COUNT(*) FROM duplicates").fetchone()[0]

    def message_devices(self, devices: Iterable[str]) -> dict[int, str]:
        """message id -> device of every message held on one of ``devices``."""
        wanted = sorted(set(devices))
        if not wanted:
            return {}
        return dict(
            self.conn.execute(
                f"SELECT id, device FROM messages WHERE device IN ({','.join('?' * len(wanted))})",
                wanted,
            )
        )

    def devices_of(self, ids: Iterable[int]) -> dict[int, set[str]]:
        """message id -> every device holding a copy of it (its own and its copies')."""
        wanted = sorted(set(ids))
        out: dict[int, set[str]] = {}
        for chunk, marks in in_chunks(wanted):
            for mid, device in self.conn.execute(
                f"SELECT id, device FROM messages WHERE id IN ({marks}) AND device IS NOT NULL"
                " UNION SELECT d.kept_message_id, s.device FROM duplicates d"
                f" JOIN sources s ON s.id = d.source_id WHERE d.kept_message_id IN ({marks})"
                " AND s.device IS NOT NULL",
                chunk + chunk,
            ):
                out.setdefault(mid, set()).add(device)
        return out

    def copies_of(self, ids: Iterable[int] | None = None) -> dict[int, list[dict[str, Any]]]:
        """Kept message id -> every other copy of it (``duplicates``): the device of the source
        it was read from, its file and locator, in the order read, and ``attachments`` (name,
        path, SHA-256 of each file) for a copy met with its attachments. Messages with no other
        copy are left out. Without ``ids``, every kept message's copies (one read of the
        table)."""
        select = (
            "SELECT d.kept_message_id, s.device, d.src_file, d.src_locator, d.attachments"
            " FROM duplicates d JOIN sources s ON s.id = d.source_id"
        )
        if ids is None:
            queries: Iterable[tuple[str, Sequence[int]]] = [(f"{select} ORDER BY d.id", ())]
        else:
            queries = (
                (f"{select} WHERE d.kept_message_id IN ({marks}) ORDER BY d.id", chunk)
                for chunk, marks in in_chunks(sorted(set(ids)))
            )
        out: dict[int, list[dict[str, Any]]] = {}
        for sql, params in queries:
            for kept, device, file, locator, files in self.conn.execute(sql, params):
                copy = {"device": device, "file": file, "locator": locator}
                if files:
                    copy["attachments"] = loads(files)
                out.setdefault(kept, []).append(copy)
        return out

    def attachments_for(
        self, *, path: str | None = None, sha256: str | None = None
    ) -> list[dict[str, Any]]:
        """Attachment rows whose evidence path or SHA-256 (file or source-recorded) is given."""
        clauses, params = [], []
        if path is not None:
            clauses.append("path = ?")
            params.append(path)
        if sha256 is not None:
            clauses.append("sha256 = ?")
            params.append(sha256)
        if not clauses:
            return []
        return self._attachment_dicts(f"WHERE {' OR '.join(clauses)}", tuple(params))

    def attachment_mimes(self, message_ids: Iterable[int]) -> dict[int, list[str]]:
        """message id -> MIME types of its attachments (messages without any left out)."""
        wanted = sorted(set(message_ids))
        out: dict[int, list[str]] = {}
        for chunk, marks in in_chunks(wanted):
            for mid, mime in self.conn.execute(
                "SELECT message_id, mime FROM attachments WHERE mime IS NOT NULL AND message_id"
                f" IN ({marks}) ORDER BY id",
                chunk,
            ):
                out.setdefault(mid, []).append(mime)
        return out

    def attachment_rows(self) -> list[dict[str, Any]]:
        return self._attachment_dicts("", ())

    def attachment(self, attachment_id: int) -> list[dict[str, Any]]:
        """The attachment row with this id (a list: empty when there is none)."""
        return self._attachment_dicts("WHERE id = ?", (attachment_id,))

    def thumbnails(self) -> list[dict[str, Any]]:
        """App-kept previews of media (``Attachment.thumbnail``): message id, the attachment's
        index in the message, the bytes (or ``None``), the evidence path (or ``None``), locator."""
        cols = ("id", "message_id", "attachment", "data", "path", "locator")
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM thumbnails ORDER BY id")
        ]

    def _attachment_dicts(self, where: str, params: tuple) -> list[dict[str, Any]]:
        self.index()
        cols = ("id", "message_id", *_ATTACHMENT_FIELDS)
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(
                f"SELECT {', '.join(cols)} FROM attachments {where} ORDER BY id", params
            )
        ]

    # -- report readers --------------------------------------------------------------------------
    def conversation_summaries(self) -> list[dict[str, Any]]:
        """Per conversation: key, platform, title, is_group, participants, message count, the
        first/last UTC times (``None`` when no message is dated) and how many of its messages
        are WhatsApp Status updates, ordered by key."""
        self.index()
        objects = self._conversation_objects()
        out = []
        for cid, key, platform, title, is_group, n, first, last, status in self.conn.execute(
            # The counts and times from the conversation index alone (it holds them in
            # conversation order), the Status updates from one scan of the table that groups
            # only them. At 300,000 messages a walk of the index with a row lookup per message
            # took three times as long, and one scan grouping every row sorted them all (1.55 G
            # instructions against 0.88 G).
            "SELECT c.id, c.key, c.platform, c.title, c.is_group, COALESCE(s.n, 0), s.first,"
            " s.last, COALESCE(u.status, 0) FROM conversations c LEFT JOIN ("
            "SELECT conversation_id, COUNT(*) AS n, MIN(timestamp_utc) AS first,"
            " MAX(timestamp_utc) AS last"
            " FROM messages GROUP BY conversation_id"
            ") s ON s.conversation_id = c.id LEFT JOIN ("
            "SELECT conversation_id, SUM(status_update) AS status FROM messages NOT INDEXED"
            " WHERE status_update GROUP BY conversation_id"
            ") u ON u.conversation_id = c.id ORDER BY c.key"
        ):
            out.append(
                {
                    "key": key,
                    "platform": platform,
                    "title": title,
                    "is_group": bool(is_group),
                    "participants": objects[cid].participants,
                    "messages": n,
                    "first_utc": first,
                    "last_utc": last,
                    "status_updates": status,
                }
            )
        return out

    def holds_live_messages(self, at_least: int) -> bool:
        """Whether the store holds ``at_least`` live messages (those :meth:`message_export_rows`
        lists). The count stops there: the stages that ask only choose between one process
        and two, and counting every row of a large store cost 0.09 s at 300,000 messages, with
        one core idle, between reading and analysing."""
        (n,) = self.conn.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM messages m WHERE {LIVE} LIMIT ?)", (at_least,)
        ).fetchone()
        return n >= at_least

    def message_stats(self) -> dict[str, int]:
        """Whole-store counts the report's method section needs: undated, zone-assumed, deleted
        and edited messages."""
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(timestamp_utc IS NULL), 0),"
            " COALESCE(SUM(zone_assumed), 0), COALESCE(SUM(deleted), 0), COALESCE(SUM(edited), 0)"
            " FROM messages"
        ).fetchone()
        return dict(
            zip(("messages", "undated", "zone_assumed", "deleted", "edited"), row, strict=True)
        )

    def message_export_rows(self, batch: int = 20_000) -> Iterator[list[ExportRow]]:
        """The live messages for the exports (``messages.csv``, the workbook's messages sheet),
        in time order, as lists of up to ``batch`` rows straight from SQL: (id, UTC, facts,
        body, locator). ``facts`` is what repeats from row to row, as one text that
        :meth:`export_facts` reads: SQLite hands the interpreter each column of a row
        apart, at about 1,100 instructions each, so the eleven are given as one (300,000
        rows: 0.9 G instructions fewer with the cost of formatting it). The attachments
        are :meth:`export_attachments`."""
        self.index()
        columns = f"m.id, m.timestamp_utc, {_EXPORT_FACTS}, m.body, m.locator"
        # TIME_ORDER in two queries, so that the dated ones are read in the order of the
        # time index instead of sorted in a temporary tree with their bodies.
        for sql in (
            f"SELECT {columns} FROM {_EXPORT_TABLES} WHERE {LIVE} AND m.timestamp_utc IS NOT NULL"
            " ORDER BY m.timestamp_utc, m.id",
            f"SELECT {columns} FROM {_EXPORT_TABLES} WHERE {LIVE} AND m.timestamp_utc IS NULL"
            " ORDER BY m.id",
        ):
            cursor = self.conn.execute(sql)
            while rows := cursor.fetchmany(batch):
                yield rows

    def export_facts(self, facts: str, message_id: int) -> ExportFacts:
        """The values a ``facts`` text of :meth:`message_export_rows` was made of (message
        ``message_id``'s); a text that does not read as the store writes them (a value of
        another type, a word outside the model's vocabularies) is read again from the row."""
        head, _, device = facts.partition(_FACTS_DEVICE)
        parts = head.split(",", 9)
        if len(parts) == 10:
            zone, platform, cid, direction, sender, kind, deleted, edited, fid, recipients = parts
            if (
                platform in PLATFORMS
                and direction in DIRECTIONS
                and kind in KINDS
                and (not recipients or recipients.replace(",", "").isdigit())
            ):
                try:
                    return ExportFacts(
                        int(zone),
                        platform,
                        int(cid),
                        direction,
                        int(sender) if sender else None,
                        kind,
                        int(deleted),
                        int(edited),
                        int(fid),
                        device or None,
                        recipients or None,
                    )
                except ValueError:
                    pass
        return ExportFacts(
            *self.conn.execute(
                f"SELECT {_EXPORT_TYPED} FROM {_EXPORT_TABLES} WHERE m.id = ?", (message_id,)
            ).fetchone()
        )

    def export_attachments(self) -> dict[int, str]:
        """message id -> its attachments for the exports (path, else name; joined by "; "),
        for the messages that have any (read apart: one lookup per message in SQL costs more
        than all of them read at once)."""
        attachments: dict[int, list[str]] = {}
        for mid, name in self.conn.execute(
            "SELECT message_id, COALESCE(path, name, '') FROM attachments ORDER BY message_id, id"
        ):
            attachments.setdefault(mid, []).append(name)
        return {mid: "; ".join(names) for mid, names in attachments.items()}

    def export_lookups(
        self,
    ) -> tuple[dict[int, Conversation], dict[int, Party], dict[int, tuple[str, str, str]]]:
        """What the ids of :meth:`message_export_rows` stand for: conversations, parties and
        provenance files (file, sha256, format) by id."""
        return self._conversation_objects(), self._parties, self._files

    def recipients_text(self, party_ids: str | None) -> str | None:
        """The recipients column of the exports from the recipient party ids of
        :meth:`message_export_rows` (comma-separated, in position order): their raw text
        joined by "; ", None for none (a message's rows repeat few sets, so each is made once
        by the caller rather than joined in SQL for every message)."""
        if party_ids is None:
            return None
        parties = self._parties
        raws = [
            party.raw
            for pid in party_ids.split(",")
            if (party := parties.get(int(pid))) is not None and party.raw is not None
        ]
        return "; ".join(raws) if raws else None
