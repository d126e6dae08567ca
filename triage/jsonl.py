"""The JSONL interface of ``triage parse``: messages and calls as JSON lines, version 2.

One writer for every parser. What many records share is written once, on a line of its own,
before the first record that needs it, and referred to by an integer ``key`` afterwards:

* ``{"record": "schema", "schema": "triage-jsonl", "version": 2}``, the first line;
* ``{"record": "source", "key": 1, "file": ..., "sha256": ..., "format": ...}``: one evidence
  file as one parser read it (a record then gives ``"source": 1`` and its own ``"locator"``);
* ``{"record": "party", "key": 1, "raw": ..., "id": ..., "name": ..., "scheme": ...}``;
* ``{"record": "conversation", "key": 1, "id": ..., "title": ..., "is_group": ...,
  "participants": [party keys]}``;
* ``{"record": "message", ...}`` and ``{"record": "call", ...}``, field by field in the README.

Keys count from 1 per record type within one output; they mean nothing across outputs. Version 1
repeated the conversation with its participants, both parties and the file's path and digest on
every line (about 1.3 KB a line for a WhatsApp export, 14 times the export's size): writing took
longer than parsing. :func:`read_records` gives each record back with its references replaced by
what they refer to, the way version 1 spelt it out.

Lines are encoded with ``orjson`` (compact separators: no spaces after ``,`` and ``:``) and go out
in batches. A record ``orjson`` refuses (a lone surrogate, an integer beyond 64 bits) falls back to
the standard encoder with ASCII escapes, so every line is still valid JSON and nothing is dropped;
values JSON has no type for are written by :func:`triage.model.json_evidence_value` either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, BinaryIO, NamedTuple

import orjson

from triage.model import (
    Call,
    Conversation,
    Message,
    Party,
    Provenance,
    attachment_to_json,
    iso_utc,
    json_evidence_value,
)

SCHEMA = "triage-jsonl"
VERSION = 2
#: Bytes of lines held before they go out in one write. Small on purpose: the lines of one batch
#: are freed together, and past about 128 KiB the C allocator hands that memory back to the system
#: and faults it in again for the next batch (a second of system time on a 120 MB output).
BATCH_BYTES = 32 * 1024
#: Conversations remembered by identity; a source rarely has more, and the cache then restarts
#: (a conversation seen again after that gets a new line and key: nothing is lost).
MAX_CONVERSATIONS = 4096
#: Parties remembered; past this the cache restarts the same way.
MAX_PARTIES = 1 << 16
#: Shapes of :meth:`JsonlWriter.write_fields` remembered; past this the cache restarts (a shape
#: is encoded again: the same bytes).
MAX_SHAPES = 1 << 14

# Dataclasses go through json_evidence_value, as with the standard encoder; datetimes are
# written by orjson in ISO 8601 (UTC as "Z"), as iso_utc writes a UTC time in whole seconds.
_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z | orjson.OPT_PASSTHROUGH_DATACLASS
_dumps = orjson.dumps
#: A field's value inside a line: the options of a line but its newline.
_FRAGMENT = orjson.OPT_UTC_Z | orjson.OPT_PASSTHROUGH_DATACLASS
#: Stand-ins for the fields of a shape's line that vary (time, its text, body, locator,
#: duplicate key, extra): private-use text no field of the shape holds, cut out of the encoded
#: line (a shape whose fields hold one is refused: see JsonlWriter._shape).
_MARKS = tuple(f"\ue000{n}\ue001" for n in range(6))
_ENCODED_MARKS = tuple(orjson.dumps(mark) for mark in _MARKS)


def encode_line(record: dict[str, Any]) -> bytes:
    """One JSON line (with its newline) for a record, whatever the source put in its fields
    (BLOBs as ``base64:``, see :func:`triage.model.json_evidence_value`)."""
    try:
        return _dumps(record, default=json_evidence_value, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(record, default=_standard, separators=(",", ":"), ensure_ascii=True)
        return text.encode("ascii") + b"\n"


def _standard(value: Any) -> Any:
    """For the standard encoder: a datetime in the text ``orjson`` gives it, anything else as
    :func:`triage.model.json_evidence_value` writes it."""
    if isinstance(value, datetime):
        return _dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode("ascii")
    return json_evidence_value(value)


def line_time(value: datetime | None) -> datetime | str | None:
    """The timestamp as a line gives it: a UTC time in whole seconds is left to ``orjson``
    (``2024-03-12T08:42:00Z``, the text :func:`iso_utc` gives, without a Python call); any
    other (milliseconds, another zone) as :func:`iso_utc` writes it."""
    if value is None or (value.tzinfo is UTC and not value.microsecond and value.year >= 1000):
        return value
    return iso_utc(value)


def message_record(
    msg: Message,
    conversation: int,
    time: datetime | str | None,
    sender: int | None,
    recipients: list[int],
    source: int,
) -> dict[str, Any]:
    """A message's line as a record, its conversation, parties and source given by key: the one
    place the fields of a message line are named and ordered."""
    attachments = msg.attachments
    return {
        "record": "message",
        "platform": msg.platform,
        "conversation": conversation,
        "timestamp_utc": time,
        "timestamp_raw": msg.timestamp_raw,
        "zone_assumed": msg.zone_assumed,
        "direction": msg.direction,
        "sender": sender,
        "recipients": recipients,
        "body": msg.body,
        "kind": msg.kind,
        "deleted": msg.deleted,
        "edited": msg.edited,
        "attachments": [attachment_to_json(a) for a in attachments] if attachments else [],
        "source": source,
        "locator": msg.source.locator,
        "record_id": msg.record_id,
        "order_key": msg.order_key,
        "duplicate_key": msg.duplicate_key,
        "id_space": msg.id_space,
        "status_update": msg.status_update,
        "recovered": msg.recovered,
        "extra": msg.extra,
    }


def whole(
    shape: Message,
    time: datetime | None,
    timestamp_raw: str,
    body: str | None,
    locator: str,
    duplicate_key: str | None,
    extra: dict[str, Any],
) -> Message:
    """The message :meth:`JsonlWriter.write_fields` writes: ``shape`` with the fields given."""
    src = shape.source
    return replace(
        shape,
        timestamp_utc=time,
        timestamp_raw=timestamp_raw,
        body=body,
        source=Provenance(src.file, src.sha256, src.format, locator),
        duplicate_key=duplicate_key,
        extra=extra,
    )


class Definition(NamedTuple):
    """A line that defined a key (:attr:`JsonlWriter.journal`): what it defined (the party, the
    conversation's id, the source's file, digest and format), and where it is in the output."""

    kind: str  # schema, party, conversation or source
    what: Any
    key: int
    offset: int
    length: int


class _Shape:
    """The encoded parts of the lines of one shape (:meth:`JsonlWriter.write_fields`): what
    comes before the time, between the time and its text, after the text up to the body,
    after the body up to the locator, after the locator up to the duplicate key, after that up
    to ``extra``, and after ``extra``."""

    __slots__ = (
        "shape",
        "epoch",
        "general",
        "head",
        "after_time",
        "after_raw",
        "after_body",
        "after_locator",
        "after_key",
        "tail",
    )

    def __init__(self, shape: Message, epoch: int, parts: list[bytes] | None) -> None:
        self.shape = shape  # kept alive, so its id is not reused while remembered
        self.epoch = epoch
        self.general = parts is None  # its lines are written by JsonlWriter.write
        (
            self.head,
            self.after_time,
            self.after_raw,
            self.after_body,
            self.after_locator,
            self.after_key,
            self.tail,
        ) = parts or (b"",) * 7


class JsonlWriter:
    """Write messages and calls to a binary stream in the version 2 schema."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lines: list[bytes] = []
        self._held = 0  # bytes of message and call lines in self.lines
        self._started = False
        # id -> (the conversation, kept alive so its id is not reused; its key)
        self._conversations: dict[int, tuple[Conversation, int]] = {}
        self._conversation_count = 0
        self._parties: dict[Party, int] = {}
        # id -> (the party, kept alive; its key): most parsers reuse one object per party.
        self._party_ids: dict[int, tuple[Party, int]] = {}
        self._party_count = 0
        self._sources: dict[tuple[str, str, str], int] = {}
        # The last source written: consecutive records mostly share it.
        self._last_source: tuple[str | None, str | None, str | None, int] = (None, None, None, 0)
        # Counts restarts of the party and conversation caches: a shape's keys hold only while
        # it has not changed (after a restart a party may get a new line and key).
        self._epoch = 0
        self._shapes: dict[int, _Shape] = {}
        #: When a list: every line that defines a key is noted in it (:meth:`adopt`).
        self.journal: list[Definition] | None = None
        self._flushed = 0  # bytes written to the stream

    def _start(self) -> None:
        self._started = True
        self.lines.append(encode_line({"record": "schema", "schema": SCHEMA, "version": VERSION}))
        if self.journal is not None:
            self._note("schema", None, 0)

    def _note(self, kind: str, what: Any, key: int) -> None:
        """Note the definition line just added (the last of ``lines``)."""
        assert self.journal is not None
        line = self.lines[-1]
        offset = self._flushed + sum(map(len, self.lines)) - len(line)
        self.journal.append(Definition(kind, what, key, offset, len(line)))

    def adopt(self, definitions: list[Definition], conversations: dict[int, Conversation]) -> bool:
        """Take the keys that another writer defined, starting from this writer's state, as if
        this one had written their lines (it writes nothing): a part of a source written in a
        second process (:mod:`triage.parsers.whatsapp_txt_halves`). A conversation is known by
        its object (``conversations``, by id); False, with nothing taken, when one is not
        there or a cache would have restarted (the keys would then not be those defined)."""
        parties = sum(d.kind == "party" for d in definitions)
        if (
            any(d.kind == "conversation" and d.what not in conversations for d in definitions)
            or len(self._parties) + parties >= MAX_PARTIES
            or len(self._party_ids) + parties >= MAX_PARTIES
            or len(self._conversations) + len(definitions) >= MAX_CONVERSATIONS
        ):
            return False
        for d in definitions:
            if d.kind == "schema":
                self._started = True
            elif d.kind == "party":
                self._parties[d.what] = self._party_count = d.key
            elif d.kind == "conversation":
                conv = conversations[d.what]
                self._conversations[id(conv)] = (conv, d.key)
                self._conversation_count = d.key
            else:
                self._sources[d.what] = d.key
        return True

    def _source(self, src: Provenance) -> int:
        file, sha256, fmt, key = self._last_source
        if src.file is file and src.sha256 is sha256 and src.format is fmt:
            return key
        found = self._sources.get((src.file, src.sha256, src.format))
        if found is None:
            found = self._sources[(src.file, src.sha256, src.format)] = len(self._sources) + 1
            self.lines.append(
                encode_line(
                    {
                        "record": "source",
                        "key": found,
                        "file": src.file,
                        "sha256": src.sha256,
                        "format": src.format,
                    }
                )
            )
            if self.journal is not None:
                self._note("source", (src.file, src.sha256, src.format), found)
        self._last_source = (src.file, src.sha256, src.format, found)
        return found

    def _party(self, party: Party) -> int:
        known = self._party_ids.get(id(party))
        if known is not None and known[0] is party:
            return known[1]
        found = self._parties.get(party)
        if found is None:
            if len(self._parties) >= MAX_PARTIES:
                self._parties.clear()
                self._epoch += 1
            self._party_count += 1
            found = self._parties[party] = self._party_count
            self.lines.append(
                encode_line(
                    {
                        "record": "party",
                        "key": found,
                        "raw": party.raw,
                        "id": party.id,
                        "name": party.name,
                        "scheme": party.scheme,
                    }
                )
            )
            if self.journal is not None:
                self._note("party", party, found)
        if len(self._party_ids) >= MAX_PARTIES:
            self._party_ids.clear()
            self._epoch += 1
        self._party_ids[id(party)] = (party, found)
        return found

    def _conversation(self, conv: Conversation) -> int:
        found = self._conversations.get(id(conv))
        if found is not None and found[0] is conv:
            return found[1]
        participants = [self._party(p) for p in conv.participants]
        if len(self._conversations) >= MAX_CONVERSATIONS:
            self._conversations.clear()
            self._epoch += 1
        self._conversation_count += 1
        key = self._conversation_count
        self._conversations[id(conv)] = (conv, key)
        self.lines.append(
            encode_line(
                {
                    "record": "conversation",
                    "key": key,
                    "id": conv.id,
                    "title": conv.title,
                    "is_group": conv.is_group,
                    "participants": participants,
                }
            )
        )
        if self.journal is not None:
            self._note("conversation", id(conv), key)
        return key

    def write(self, msg: Message) -> None:
        if not self._started:
            self._start()
        conv = msg.conversation
        known = self._conversations.get(id(conv))
        conv_key = known[1] if known is not None and known[0] is conv else self._conversation(conv)
        time = msg.timestamp_utc
        if time is not None and (time.tzinfo is not UTC or time.microsecond or time.year < 1000):
            time = line_time(time)
        party = self._party
        sender = msg.sender
        sender_key = None
        if sender is not None:
            # self._party's first test inline: most parsers reuse one object per party.
            known = self._party_ids.get(id(sender))
            sender_key = known[1] if known is not None and known[0] is sender else party(sender)
        recipients = msg.recipients
        recipient_keys = [party(p) for p in recipients] if recipients else []
        src = msg.source
        file, sha256, fmt, src_key = self._last_source
        if src.file is not file or src.sha256 is not sha256 or src.format is not fmt:
            src_key = self._source(src)
        record = message_record(msg, conv_key, time, sender_key, recipient_keys, src_key)
        try:
            line = _dumps(record, default=json_evidence_value, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            line = encode_line(record)
        self.lines.append(line)
        self._held += len(line)
        if self._held >= BATCH_BYTES:
            self.flush()

    def write_fields(
        self,
        shape: Message,
        time: datetime | None,
        timestamp_raw: str,
        body: str | None,
        locator: str,
        duplicate_key: str | None,
        extra: dict[str, Any],
    ) -> None:
        """The line :meth:`write` gives a message that is ``shape`` but for the fields given here
        (its own time, text, locator, duplicate key and ``extra``): for a parser whose messages
        share most of their fields (a chat export: one shape per author and kind), without a
        :class:`Message` per line. What the shape's line holds besides those fields is encoded
        once per shape (:class:`_Shape`); ``orjson`` encodes a record as the concatenation of
        its fields, so the line is byte for byte the one :meth:`write` gives (a test compares
        them on every chat export fixture and on generated exports)."""
        found = self._shapes.get(id(shape))
        if found is None or found.shape is not shape or found.epoch != self._epoch:
            found = self._shape(shape)
        if found.general:
            self.write(whole(shape, time, timestamp_raw, body, locator, duplicate_key, extra))
            return
        original = time
        if time is not None and (time.tzinfo is not UTC or time.microsecond or time.year < 1000):
            time = line_time(time)  # type: ignore[assignment]
        try:
            line = b"".join(
                (
                    found.head,
                    _dumps(time, option=_FRAGMENT),
                    found.after_time,
                    _dumps(timestamp_raw),
                    found.after_raw,
                    _dumps(body),
                    found.after_body,
                    _dumps(locator),
                    found.after_locator,
                    _dumps(duplicate_key),
                    found.after_key,
                    _dumps(extra, default=json_evidence_value, option=_FRAGMENT),
                    found.tail,
                )
            )
        except (TypeError, orjson.JSONEncodeError):
            # What orjson refuses goes the general way (encode_line's fallback, as in write).
            self.write(whole(shape, original, timestamp_raw, body, locator, duplicate_key, extra))
            return
        self.lines.append(line)
        self._held += len(line)
        if self._held >= BATCH_BYTES:
            self.flush()

    def _shape(self, shape: Message) -> _Shape:
        """The encoded parts of a shape's line, its conversation, parties and source looked up
        (and written where new) in the order :meth:`write` looks them up for a message."""
        if not self._started:
            self._start()
        conv = shape.conversation
        known = self._conversations.get(id(conv))
        conv_key = known[1] if known is not None and known[0] is conv else self._conversation(conv)
        sender_key = None if shape.sender is None else self._party(shape.sender)
        recipient_keys = [self._party(p) for p in shape.recipients]
        src_key = self._source(shape.source)
        # Each varying field is a marker string the encoded line is cut at.
        marked = replace(
            shape,
            timestamp_raw=_MARKS[1],
            body=_MARKS[2],
            source=Provenance(
                shape.source.file, shape.source.sha256, shape.source.format, _MARKS[3]
            ),
            duplicate_key=_MARKS[4],
            extra=_MARKS[5],  # type: ignore[arg-type]
        )
        record = message_record(marked, conv_key, _MARKS[0], sender_key, recipient_keys, src_key)
        try:
            encoded = _dumps(record, default=json_evidence_value, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            encoded = b""  # a shape orjson refuses: every line goes the general way
        parts: list[bytes] | None = []
        for mark in _ENCODED_MARKS:
            if encoded.count(mark) != 1:
                parts = None  # a constant field holds a mark (or the line was refused)
                break
            before, _, encoded = encoded.partition(mark)
            parts.append(before)  # type: ignore[union-attr]
        if parts is not None:
            parts.append(encoded)
        found = _Shape(shape, self._epoch, parts)
        if len(self._shapes) >= MAX_SHAPES:
            self._shapes.clear()
        self._shapes[id(shape)] = found
        return found

    def write_call(self, call: Call) -> None:
        if not self._started:
            self._start()
        party = self._party
        counterpart = call.counterpart
        record = {
            "record": "call",
            "network": call.network,
            "video": call.video,
            "timestamp_utc": line_time(call.timestamp_utc),
            "timestamp_raw": call.timestamp_raw,
            "zone_assumed": call.zone_assumed,
            "direction": call.direction,
            "result": call.result,
            "result_code": call.result_code,
            "duration_s": call.duration_s,
            "counterpart": None if counterpart is None else party(counterpart),
            "participants": [party(p) for p in call.participants],
            "is_group": call.is_group,
            "conversation": call.conversation_id,
            "app": call.app,
            "deleted": call.deleted,
            "source": self._source(call.source),
            "locator": call.source.locator,
            "record_id": call.record_id,
            "order_key": call.order_key,
            "duplicate_key": call.duplicate_key,
            "extra": call.extra,
        }
        line = encode_line(record)
        self.lines.append(line)
        self._held += len(line)
        if self._held >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            data = b"".join(self.lines)
            self.stream.write(data)
            self._flushed += len(data)
            self.lines.clear()
            self._held = 0
        self.stream.flush()


class SchemaError(ValueError):
    """Input that is not ``triage parse`` JSONL of a version this reader knows."""


def read_records(lines: Iterable[str | bytes]) -> Iterator[dict[str, Any]]:
    """The messages and calls of ``triage parse`` output, each with its references replaced by
    what they refer to: ``conversation`` as ``{id, title, is_group, participants}``, every party
    key as ``{raw, id, name, scheme}``, ``source`` as ``{file, sha256, format, locator}``."""
    sources: dict[int, dict[str, Any]] = {}
    parties: dict[int, dict[str, Any]] = {}
    conversations: dict[int, dict[str, Any]] = {}
    started = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            # A lone surrogate the writer escaped (the standard encoder's line): orjson refuses it.
            row = json.loads(line)
        kind = row.get("record")
        if not started:
            if kind != "schema" or row.get("schema") != SCHEMA:
                raise SchemaError(f"line {number}: not triage parse JSONL (no schema line)")
            if row.get("version") != VERSION:
                raise SchemaError(f"line {number}: schema version {row.get('version')!r}")
            started = True
            continue
        try:
            if kind == "source":
                sources[row["key"]] = {k: row[k] for k in ("file", "sha256", "format")}
            elif kind == "party":
                parties[row["key"]] = {k: row[k] for k in ("raw", "id", "name", "scheme")}
            elif kind == "conversation":
                conv = {k: row[k] for k in ("id", "title", "is_group")}
                conv["participants"] = [parties[p] for p in row["participants"]]
                conversations[row["key"]] = conv
            elif kind == "message":
                row["conversation"] = conversations[row["conversation"]]
                row["sender"] = None if row["sender"] is None else parties[row["sender"]]
                row["recipients"] = [parties[p] for p in row["recipients"]]
                row["source"] = {**sources[row["source"]], "locator": row.pop("locator")}
                yield row
            elif kind == "call":
                cp = row["counterpart"]
                row["counterpart"] = None if cp is None else parties[cp]
                row["participants"] = [parties[p] for p in row["participants"]]
                row["source"] = {**sources[row["source"]], "locator": row.pop("locator")}
                yield row
            else:
                raise SchemaError(f"line {number}: unknown record {kind!r}")
        except KeyError as exc:
            raise SchemaError(f"line {number}: {kind} refers to undefined key {exc}") from exc
