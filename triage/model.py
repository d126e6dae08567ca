"""The normalised record model every parser yields and every later stage reads.

Parsers turn a source format into these records; the case store persists them; analysers and the
report read them back from the store. Nothing downstream ever needs to know which format a record
came from beyond what :class:`Provenance` says.

Records are plain dataclasses so they are cheap to build in a generator and easy to serialise
(:mod:`triage.jsonl` writes them as the JSONL interface documented in the README).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, get_args

from triage.reasons import clean

Platform = Literal["whatsapp", "sms", "mms", "imessage", "messenger", "other"]
Direction = Literal["outgoing", "incoming", "system", "unknown"]
Kind = Literal["text", "media", "system", "call", "deleted", "other"]

PLATFORMS: tuple[str, ...] = get_args(Platform)
DIRECTIONS: tuple[str, ...] = get_args(Direction)
KINDS: tuple[str, ...] = get_args(Kind)

# What an identifier is. The normalised ``id`` is only comparable within a scheme, so the scheme
# is part of the normalised form (see triage.identity).
IdentifierScheme = Literal[
    "phone",  # E.164, "+447700900123"
    "shortcode",  # numeric short code kept as written, "82223"
    "alphanumeric",  # SMS sender id such as "HSBC-UK", kept as written
    "email",
    "whatsapp_lid",  # WhatsApp linked-device id that no jid_map resolved
    "whatsapp_group",
    "facebook",  # Facebook/Messenger numeric user id
    "name",  # a display name only (Messenger downloads carry nothing else)
    "owner",  # the device owner, whose own identifier the source does not give
    "other",
]
SCHEMES: tuple[str, ...] = get_args(IdentifierScheme)
# Checked on every record at ingest: sets, not tuples.
_PLATFORM_SET, _DIRECTION_SET, _KIND_SET, _SCHEME_SET = map(
    frozenset, (PLATFORMS, DIRECTIONS, KINDS, SCHEMES)
)


class Provenance(NamedTuple):
    """Where a record came from, precisely enough to find it again by hand.

    ``file`` is the logical evidence path (``extraction.zip!/data/.../msgstore.db``), ``sha256`` the
    digest of that file's bytes, ``format`` the parser's format id, ``locator`` the exact record
    (``message._id=1234``, ``line 457``, ``message_3.json messages[12]``). Immutable; a named tuple
    rather than a frozen dataclass because every record makes one, and a frozen dataclass costs
    three times as much to build.
    """

    file: str
    sha256: str
    format: str
    locator: str


@dataclass(frozen=True, slots=True)
class Party:
    """One identifier of a person or group as found in the source and in normalised form.

    ``raw`` is exactly what the source held; ``id`` is the normalised comparable form (or ``None``
    when nothing could be made of it); ``scheme`` says what kind of identifier ``id`` is.
    """

    raw: str
    id: str | None = None
    name: str | None = None
    scheme: IdentifierScheme = "other"


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A preview picture an app kept for a media message, which may outlive the full file.

    ``data`` holds the picture's bytes when the app stored them in a database column (WhatsApp
    for Android ``message_thumbnail.thumbnail``); ``path`` is the logical evidence path when the app
    keeps the preview as a file it names (WhatsApp for iOS ``ZWAMEDIAITEM.ZXMPPTHUMBPATH``);
    ``locator`` is the exact record the preview came from.
    """

    locator: str
    data: bytes | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file carried by a message. ``path`` is a logical evidence path when the file was found."""

    name: str | None
    path: str | None = None
    sha256: str | None = None
    mime: str | None = None
    size: int | None = None
    # A digest the source itself recorded (e.g. WhatsApp ``message_media.file_hash``), kept so an
    # exhibit can be matched even when the file is no longer on the phone.
    source_hash: str | None = None
    note: str | None = None
    # The app's own preview of the file (see :class:`Thumbnail`), matched against exhibits even
    # when the file itself is gone.
    thumbnail: Thumbnail | None = None


@dataclass(slots=True)
class Conversation:
    id: str
    title: str | None = None
    is_group: bool = False
    participants: list[Party] = field(default_factory=list)


@dataclass(slots=True)
class Message:
    """One message, call or system event in a conversation.

    ``sender`` and ``recipients`` follow the one addressing rule of :mod:`triage.addressing`.
    ``id_space`` names the table whose numbering ``record_id`` belongs to (the same name as the
    :class:`IdSpace` the parser yields for it, e.g. ``message`` or ``ZWAMESSAGE``), so no later
    stage reads the table out of the locator. ``status_update`` marks a WhatsApp Status post: put
    to all of the poster's contacts, not sent to anyone, removed by the app after 24 hours.
    """

    platform: Platform
    conversation: Conversation
    timestamp_utc: datetime | None
    timestamp_raw: str
    zone_assumed: bool
    direction: Direction
    sender: Party | None
    recipients: list[Party]
    body: str | None
    kind: Kind
    source: Provenance
    deleted: bool = False
    edited: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    # The source's own record id and per-conversation order key, kept for the deletion-gap analyser.
    record_id: int | None = None
    order_key: int | None = None
    # Format-specific facts worth keeping (message type codes, service, status, reactions...).
    extra: dict[str, Any] = field(default_factory=dict)
    # Identifies the same message seen in another copy of the same data (Messenger JSON and HTML
    # of one download, the same mailbox in two apps). The first copy stored wins; sources are
    # ingested in descending parser ``priority`` so the fuller copy is the one kept.
    duplicate_key: str | None = None
    id_space: str | None = None
    status_update: bool = False
    # A row recovered from deleted database content (WAL frames, freelist, free space), not a
    # live row: ``extra["recovered"]`` says where it was read, its confidence and which fields
    # did not survive. The store keeps such messages out of every live count.
    recovered: bool = False
    # The key of the case file device (``device-1``...) whose sources hold this message; set at
    # ingest, since a parser reads a file and does not know which phone it was extracted from.
    device: str | None = None
    # Identifies the same message held on another of the subject's devices: the same event seen
    # from the other end (a WhatsApp message's author and ``key_id``, which the sending app
    # assigns and every member's copy keeps, whichever way round ``from_me`` is). The case store
    # keeps the first copy and lists the others with the copies of ``duplicate_key``.
    copy_key: str | None = None

    @property
    def is_system(self) -> bool:
        """An app notice (encryption banner, "X joined"), not something a person sent."""
        return self.direction == "system" or self.kind == "system"


class RecordError(ValueError):
    """A record breaks the model's contract (a parser bug): named so the run can say which."""


def check_message(msg: Message, checked: dict[int, tuple[Any, ...]] | None = None) -> None:
    """Refuse a message whose typed fields hold values outside the model's vocabularies.

    Run on every message at ingest (``triage.ingest``), so a parser cannot pass a misspelt
    direction or scheme that later stages would silently count as "other". ``checked``, kept
    by the caller for one source, remembers the conversations whose participants were checked
    (each with its list and that list's length then): a group of thousands of members is then
    checked once, its new members when the list grows, all of it again when the list is
    replaced or shrinks; not every member on every message.
    """
    if msg.platform not in _PLATFORM_SET:
        raise RecordError(f"{msg.source.locator}: unknown platform {msg.platform!r}")
    if msg.direction not in _DIRECTION_SET:
        raise RecordError(f"{msg.source.locator}: unknown direction {msg.direction!r}")
    if msg.kind not in _KIND_SET:
        raise RecordError(f"{msg.source.locator}: unknown kind {msg.kind!r}")
    if msg.record_id is not None and msg.id_space is None:
        raise RecordError(f"{msg.source.locator}: record_id without the id_space it numbers")
    sender = msg.sender
    if sender is not None and sender.scheme not in _SCHEME_SET:
        raise RecordError(f"{msg.source.locator}: unknown identifier scheme {sender.scheme!r}")
    # The recipients here, not by _check_schemes: a call per message costs more than the loop.
    for party in msg.recipients:
        if party is not None and party.scheme not in _SCHEME_SET:
            raise RecordError(f"{msg.source.locator}: unknown identifier scheme {party.scheme!r}")
    conversation = msg.conversation
    participants = conversation.participants
    if checked is None:
        _check_schemes(participants, msg)
        return
    # The conversation and its list are held, so their ids cannot be reused while kept.
    before = checked.get(id(conversation))
    if before is not None and before[1] is participants and before[2] == len(participants):
        return  # nearly every message: its conversation checked as it is
    state = (conversation, participants, len(participants))
    if before is None or before[1] is not participants or before[2] > state[2]:
        _check_schemes(participants, msg)
    elif before[2] < state[2]:
        # A list that grew (a new author of a chat export) is checked from where it was.
        _check_schemes(participants[before[2] :], msg)
    else:
        return
    checked[id(conversation)] = state


def _check_schemes(parties: list[Party], msg: Message) -> None:
    for party in parties:
        if party is not None and party.scheme not in _SCHEME_SET:
            raise RecordError(f"{msg.source.locator}: unknown identifier scheme {party.scheme!r}")


def check_parties(parties: list[Party], where: str) -> None:
    for party in parties:
        if party.scheme not in SCHEMES:
            raise RecordError(f"{where}: unknown identifier scheme {party.scheme!r}")


@dataclass(slots=True)
class ContactEntry:
    """An address-book style entry: a name the phone holds for one or more identifiers."""

    name: str | None
    identifiers: list[Party]
    source: Provenance
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class IdSpace:
    """How a database table numbers its rows, so id gaps can be judged without the file.

    ``autoincrement`` is read from ``sqlite_master.sql`` (ids never reused, so a hole is certain
    evidence a row was removed); ``high_water`` is ``sqlite_sequence.seq`` or Core Data's
    ``Z_PRIMARYKEY.Z_MAX``; ``ids`` are the ids present (all rows, not just messages, since other
    rows consume ids too). ``order_key`` names the per-conversation order column when there is one.
    """

    file: str
    sha256: str
    format: str
    table: str
    id_column: str
    autoincrement: bool
    high_water: int | None
    ids: list[int]
    order_key: str | None = None
    note: str | None = None


@dataclass(slots=True)
class DeletionTrace:
    """Evidence of removed content that is not itself a message row.

    Examples: iOS ``deleted_messages`` rows, ``chat.last_read_message_row_id`` pointing at a missing
    row, a ``deleted_chat_job``. ``strength`` is ``certain``, ``probable`` or ``possible``.
    """

    kind: str
    detail: str
    source: Provenance
    strength: str = "probable"
    conversation_id: str | None = None
    missing_ids: list[int] = field(default_factory=list)
    count: int | None = None


CallDirection = Literal["incoming", "outgoing", "unknown"]
CallResult = Literal[
    "answered",  # connected (a duration may still be 0 when the source rounds it down)
    "missed",  # incoming, not picked up
    "rejected",  # incoming, declined by the owner
    "blocked",  # incoming, stopped by a block list before it rang
    "voicemail",  # incoming, went to voicemail
    "not_answered",  # outgoing, the other side did not pick up (or the owner hung up first)
    "unavailable",  # the app could not reach the other side
    "answered_elsewhere",  # answered on another of the owner's devices
    "unknown",  # the source does not say
]
CallNetwork = Literal["cellular", "whatsapp", "facetime", "messenger", "other"]

CALL_DIRECTIONS: tuple[str, ...] = ("incoming", "outgoing", "unknown")
CALL_RESULTS: tuple[str, ...] = (
    "answered",
    "missed",
    "rejected",
    "blocked",
    "voicemail",
    "not_answered",
    "unavailable",
    "answered_elsewhere",
    "unknown",
)
CALL_NETWORKS: tuple[str, ...] = ("cellular", "whatsapp", "facetime", "messenger", "other")


@dataclass(slots=True)
class Call:
    """One voice or video call, from the device owner's point of view.

    A call is its own record, not a message: it has a duration and a result where a message has a
    body, and counting "messages" must never count calls. ``direction`` says who placed it;
    ``result`` what became of it (a missed, rejected or blocked call is an *incoming* call whose
    result says so). ``counterpart`` is the other party of a one-to-one call, or the person who
    placed an incoming group call; ``participants`` lists the other parties of a group call (the
    counterpart not repeated; the owner never listed). ``conversation_id`` links an app call to
    its chat (``whatsapp:<jid>``, the Messenger thread) so the conversation view can show it at its
    time; cellular and FaceTime calls have none. ``result_code`` keeps the source's own code
    (``type=3``, ``call_result=5``) beside the label, since tools disagree on some code tables.
    ``deleted`` is set only where the source itself marks the call deleted.
    """

    network: CallNetwork
    timestamp_utc: datetime | None
    timestamp_raw: str
    direction: CallDirection
    result: CallResult
    source: Provenance
    duration_s: float | None = None
    counterpart: Party | None = None
    participants: list[Party] = field(default_factory=list)
    is_group: bool = False
    video: bool | None = None
    conversation_id: str | None = None
    # The app or phone account that handled the call as the source names it
    # (``com.apple.FaceTime``, an Android ``subscription_component_name``).
    app: str | None = None
    result_code: str | None = None
    zone_assumed: bool = False
    deleted: bool = False
    # The source's row id and per-chat order key when the call is a row of a message table (a
    # WhatsApp call bubble): the row still consumes its id and order value there.
    record_id: int | None = None
    order_key: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Identifies the same call read from a second copy of the same data (WhatsApp's call id).
    duplicate_key: str | None = None
    # The case file device whose sources hold this call (see ``Message.device``).
    device: str | None = None

    @property
    def parties(self) -> list[Party]:
        """Every other party of the call: the counterpart first, then the participants."""
        return ([self.counterpart] if self.counterpart is not None else []) + self.participants

    @property
    def connected(self) -> bool:
        return self.result in ("answered", "answered_elsewhere")


def check_call(call: Call) -> None:
    """Refuse a call whose typed fields hold values outside the model's vocabularies (a parser
    bug, named with its locator)."""
    where = call.source.locator
    if call.network not in CALL_NETWORKS:
        raise RecordError(f"{where}: unknown call network {call.network!r}")
    if call.direction not in CALL_DIRECTIONS:
        raise RecordError(f"{where}: unknown call direction {call.direction!r}")
    if call.result not in CALL_RESULTS:
        raise RecordError(f"{where}: unknown call result {call.result!r}")
    if call.duration_s is not None and call.duration_s < 0:
        raise RecordError(f"{where}: negative call duration {call.duration_s!r}")
    check_parties(call.parties, where)


@dataclass(slots=True)
class AuditEvent:
    """One row of a police system's audit trail: who looked up whom, when, on which system.

    Read from a force export (CSV or XLSX) through a mapping profile (``profiles/audit/``). The
    subject fields are what the row records of the person or record looked up, as the export
    holds them; ``subject_phone`` is the number normalised to E.164 where it reads as one (its
    text is kept in ``subject_phone_raw``). ``zone_assumed`` is set when the export's times carry
    no zone and the profile's zone was applied. Audit rows are not messages: they are stored in
    their own aggregate (``triage.store.audit``) and never counted as contact.
    """

    timestamp_utc: datetime | None
    timestamp_raw: str
    user: str
    source: Provenance
    system: str | None = None
    action: str | None = None
    subject_name: str | None = None
    subject_dob: str | None = None
    subject_phone: str | None = None
    subject_phone_raw: str | None = None
    subject_address: str | None = None
    subject_ref: str | None = None
    zone_assumed: bool = False


Record = Message | Call | ContactEntry | IdSpace | DeletionTrace


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC ending in ``Z`` (milliseconds kept only when present)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat is twice as fast as strftime; it pads years below 1000, strftime does not.
    text = (
        value.isoformat(timespec="seconds")[:19]
        if value.year >= 1000
        else value.strftime("%Y-%m-%dT%H:%M:%S")
    )
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def parse_iso_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def party_to_json(party: Party | None) -> dict[str, Any] | None:
    if party is None:
        return None
    return {"raw": party.raw, "id": party.id, "name": party.name, "scheme": party.scheme}


def party_from_json(data: dict[str, Any] | None) -> Party | None:
    if data is None:
        return None
    return Party(
        raw=data["raw"],
        id=data.get("id"),
        name=data.get("name"),
        scheme=data.get("scheme", "other"),
    )


def attachment_to_json(att: Attachment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": att.name,
        "path": att.path,
        "sha256": att.sha256,
        "mime": att.mime,
        "size": att.size,
        "source_hash": att.source_hash,
        "note": att.note,
    }
    if att.thumbnail is not None:
        # Only when the app kept a preview; its bytes are described, not inlined.
        thumb = att.thumbnail
        out["thumbnail"] = {
            "locator": thumb.locator,
            "path": thumb.path,
            "size": len(thumb.data) if thumb.data is not None else None,
            "sha256": hashlib.sha256(thumb.data).hexdigest() if thumb.data is not None else None,
        }
    return out


def attachment_from_json(data: dict[str, Any]) -> Attachment:
    return Attachment(**{k: data.get(k) for k in Attachment.__slots__ if k != "thumbnail"})


def json_evidence_value(value: Any) -> Any:
    """Values JSON has no type for: a BLOB read where text was expected is kept losslessly as
    ``"base64:..."``; anything else by its text (never a repr with an address). The JSONL
    writer (:mod:`triage.jsonl`) calls it for every value it has no type for."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    return clean(value)


#: The leading fields of :class:`Message` in their order, which the parsers that build many
#: messages pass by position to the constructor :func:`positional` writes.
MESSAGE_LEADING_FIELDS = (
    "platform",
    "conversation",
    "timestamp_utc",
    "timestamp_raw",
    "zone_assumed",
    "direction",
    "sender",
    "recipients",
    "body",
    "kind",
    "source",
    "deleted",
    "edited",
    "attachments",
    "record_id",
    "order_key",
    "extra",
    "duplicate_key",
)


def positional(cls: type, names: tuple[str, ...]) -> Callable[..., Any]:
    """A constructor of the dataclass ``cls`` taking the fields ``names`` by position, in that
    order; the other fields keep their defaults. Written out from the class's own fields, so a
    field added to the model with a default needs no edit here, and one without fails at import.
    (A keyword call of twenty fields costs about as much as the rest of building a message.)

    When the class's ``__init__`` only stores its fields (not frozen, no ``__post_init__``, no
    ``__new__`` of its own), the constructor stores them itself, in the same order: one call per
    record instead of two, about half the cost of building a message."""
    values, keywords = [], []
    namespace: dict[str, Any] = {"cls": cls, "_new": object.__new__}
    for f in fields(cls):
        if f.name in names:
            value = f.name
        elif f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            value = f"_default_{f.name}"
        elif f.default_factory is not MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            value = f"_factory_{f.name}()"
        else:
            raise TypeError(f"{cls.__name__}.{f.name} has no default and is not given")
        values.append((f.name, value))
        if f.kw_only:
            keywords.append(f"{f.name}={value}")
    unknown = set(names) - {f.name for f in fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)}")
    plain = (
        cls.__setattr__ is object.__setattr__
        and cls.__new__ is object.__new__
        and not hasattr(cls, "__post_init__")
        and all(f.init for f in fields(cls))
    )
    if plain:
        body = ["self = _new(cls)", *(f"self.{n} = {v}" for n, v in values), "return self"]
    else:
        args = [v for (n, v), f in zip(values, fields(cls), strict=True) if not f.kw_only]
        body = [f"return cls({', '.join(args + keywords)})"]
    source = f"def new({', '.join(names)}):\n" + "".join(f"    {line}\n" for line in body)
    exec(source, namespace)  # noqa: S102 - our own generated code, no input
    return namespace["new"]
