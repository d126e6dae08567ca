"""WhatsApp for Android message database ``msgstore.db`` (decrypted), with ``wa.db`` for names.

Location ``/data/data/com.whatsapp/databases/msgstore.db`` (+ ``-wal``/``-shm``); names come from
the sibling ``wa.db`` (``parsers/whatsapp_contacts.py`` also reads it as a source of its own).
All times are Unix epoch milliseconds, UTC; ``0`` means unset.

Schemas supported (facts and their sources: ``fixtures/whatsapp_db/README.md``):

* **legacy** (app versions up to about 2021): one table ``messages`` keyed by ``key_remote_jid``
  (the chat jid), ``key_from_me``, ``key_id``; ``data`` (body), ``timestamp``, ``status``
  (6 = system row, action code in ``media_size``), ``media_wa_type`` (TEXT type code),
  ``remote_resource`` (group sender), ``edit_version``; chat list ``chat_list``; groups
  ``group_participants``. Row ``_id=1`` is a ``key_remote_jid='-1'`` placeholder (the current
  schema keeps it as ``chat_row_id = -1``): not a message, noted in the id space. Calls are
  bubbles with ``media_wa_type`` 8/10 (``media_caption`` audio/video, ``media_duration``) and,
  from about 2019, rows of ``call_log`` keyed by ``jid_row_id`` (matched to a bubble by its
  ``call:<call_id>`` key; the rest read as calls of their own).
  Sources: KnugiHK/WhatsApp-Chat-Exporter ``Whatsapp_Chat_Exporter/android_handler.py``
  (``_get_messages_cursor_legacy``, ``_process_regular_message``); sepinf-inc/IPED
  ``iped-parsers/iped-parsers-impl/src/main/java/iped/parsers/whatsapp/ExtractorAndroid.java``.
* **current** (2021 on): ``message`` (``chat_row_id``, ``from_me``, ``key_id``,
  ``sender_jid_row_id``, ``message_type``, ``text_data``, ``sort_id``) with ``chat``, ``jid``,
  ``jid_map`` (``@lid`` -> phone jid), ``message_media`` (``file_path`` relative to the WhatsApp
  media root, ``file_hash`` = base64 SHA-256), ``message_revoked``, ``message_system``,
  ``message_edit_info``, ``message_call_log``/``call_log``, ``group_participant_user``,
  ``receipt_user``, ``deleted_chat_job``; for groups ``message_quoted`` (a reply's quoted
  ``key_id``, kept in ``extra["quoted"]``), ``message_system_chat_participant`` (who a notice is
  about, ``extra["system_participants"]``) and ``receipt_user`` per member delivery/read times
  (``extra["receipts"]``), and reactions from ``message_add_on`` + ``message_add_on_reaction``
  (who, emoji, when, on the reacted-to message: ``extra["reactions"]``). Sources: KnugiHK ``android_handler.py``
  (``_get_messages_cursor_new``); abrignoni/ALEAPP ``scripts/artifacts/whatsAppExtended.py``;
  frozenspider/chat-history-manager ``crates/loaders/resources/test/whatsapp-android_2023-10/``
  and ``whatsapp-android_2026-05/msgstore.sql`` (real CREATE TABLE statements).
* **transitional**: both. The current tables are read when populated, and legacy rows with no
  copy in them (same ``key_id`` and direction) are read too, so every message is read once; the
  choice is recorded with ``ctx.decide``.

Besides messages the parser yields one ``IdSpace`` per message table (every id present, system
and Status rows included, since they consume ids too) and ``DeletionTrace`` records for chat
pointers and receipts that name missing rows and for ``deleted_chat_job`` rows.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from triage.parsers.whatsapp_common import (
    DB_PRIORITY,
    PLATFORM,
    STATUS_JID,
    PartyCache,
    build_attachment,
    conversation_id,
    copy_key,
    is_group_jid,
    is_status_jid,
    jid_party,
    jid_string,
    text_value,
)
from triage.parsers.whatsapp_contacts import load_wa_names
from triage.parsers.whatsapp_recovered import recovered_messages, start_recovery

from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.model import (
    MESSAGE_LEADING_FIELDS,
    Attachment,
    Call,
    CallResult,
    Conversation,
    DeletionTrace,
    Message,
    Party,
    Provenance,
    Record,
    Thumbnail,
    iso_utc,
    positional,
)
from triage.registry import Match, ParseContext, Parser, Probe
from triage.sqlite_meta import is_autoincrement, table_columns
from triage.sqlite_rows import ChildRows, RecordGuard, utf8_rows

# --- schema declarations ---------------------------------------------------------------------

LEGACY_TABLES: dict[str, set[str]] = {
    "messages": {
        "_id",
        "key_remote_jid",
        "key_from_me",
        "key_id",
        "status",
        "data",
        "timestamp",
        "media_wa_type",
    },
}
CURRENT_TABLES: dict[str, set[str]] = {
    "message": {
        "_id",
        "chat_row_id",
        "from_me",
        "key_id",
        "sender_jid_row_id",
        "timestamp",
        "message_type",
        "text_data",
    },
    "chat": {"_id", "jid_row_id"},
    "jid": {"_id", "user", "server", "raw_string"},
}

# message.message_type (current schema): IPED ExtractorAndroidNew.java, ALEAPP WhatsApp.py
# _MESSAGE_TYPE_CASE; 90 = call bubble joined to call_log through message_call_log (WhatsApp's own
# query "... JOIN message_call_log ... WHERE message_type = 90"); 44 = order and 99 = album
# (frozenspider/chat-history-manager whatsapp-android_2026-05/msgstore.sql).
CURRENT_TYPES: dict[int, tuple[str, str]] = {
    0: ("text", "text"),
    1: ("media", "image"),
    2: ("media", "audio"),
    3: ("media", "video"),
    4: ("media", "contact"),
    5: ("other", "location"),
    7: ("system", "system"),
    8: ("call", "call"),
    9: ("media", "document"),
    10: ("call", "missed call"),
    11: ("other", "waiting for message"),
    13: ("media", "gif"),
    14: ("media", "contact list"),
    15: ("deleted", "deleted for everyone"),
    16: ("other", "live location"),
    20: ("media", "sticker"),
    42: ("media", "view-once image"),
    43: ("media", "view-once video"),
    44: ("other", "order"),
    64: ("deleted", "deleted by admin"),
    66: ("other", "poll"),
    82: ("media", "view-once audio"),
    90: ("call", "call"),
    99: ("other", "album"),
    106: ("other", "poll"),
}
# messages.media_wa_type (legacy schema): IPED ExtractorAndroid.java.
LEGACY_TYPES: dict[int, tuple[str, str]] = {
    0: ("text", "text"),
    1: ("media", "image"),
    2: ("media", "audio"),
    3: ("media", "video"),
    4: ("media", "contact"),
    5: ("other", "location"),
    8: ("call", "call"),
    9: ("media", "document"),
    10: ("call", "missed call"),
    11: ("other", "waiting for message"),
    13: ("media", "gif"),
    15: ("deleted", "deleted for everyone"),
    16: ("other", "live location"),
    20: ("media", "sticker"),
    64: ("deleted", "deleted by admin"),
}
REVOKED_TYPES = {15, 64}
LEGACY_SYSTEM_STATUS = 6
# KnugiHK _process_regular_message: edit_version 7 with status 5 (from me) or 0 (incoming).
LEGACY_REVOKED_EDIT_VERSION = 7

# Side tables joined to each current-schema message row: table -> (columns wanted). Each is joined
# only when present; a table whose key is not message_row_id alone is read through a LIMIT 1
# subquery so a message is never repeated.
CURRENT_SIDE_TABLES: dict[str, tuple[str, ...]] = {
    "message_media": (
        "file_path",
        "file_size",
        "mime_type",
        "media_name",
        "file_hash",
        "media_caption",
    ),
    # The JPEG preview WhatsApp shows in the chat (sepinf-inc/IPED ExtractorAndroidNew.java joins
    # it on message_row_id); it stays when the media file itself was deleted.
    "message_thumbnail": ("thumbnail",),
    "message_revoked": ("revoked_key_id", "admin_jid_row_id", "revoke_timestamp"),
    "message_system": ("action_type",),
    # The message a reply quotes, by its key_id (KnugiHK android_handler.py reads
    # message_quoted.key_id to link replies; sepinf-inc/IPED ExtractorAndroidNew.java too).
    "message_quoted": ("key_id", "from_me", "sender_jid_row_id"),
    "message_edit_info": ("edited_timestamp", "original_key_id"),
    "message_call_log": ("call_log_row_id",),
    "missed_call_logs": ("video_call",),
}
CALL_LOG_COLUMNS = (
    "video_call",
    "duration",
    "call_result",
    "from_me",
    "timestamp",
    "call_id",
    "jid_row_id",
    "group_jid_row_id",
)
# call_log.call_result (IPED ExtractorAndroidNew.java extractCalls: 5 connected, 4 missed,
# 2 refused, 3 unavailable). WhatsApp-Chat-Exporter and WAInsight read some codes differently
# (fixtures/whatsapp_db/README.md), so the raw code is kept beside the label.
LEGACY_OPTIONAL = (
    "remote_resource",
    "media_mime_type",
    "media_name",
    "media_size",
    "media_hash",
    "media_caption",
    "media_duration",
    "edit_version",
    "starred",
    # Older builds kept the media preview JPEG in the row itself (IPED ExtractorAndroid.java reads
    # raw_data; later builds moved it to message_thumbnails, joined on the message key).
    "raw_data",
)
# Legacy call bubbles: media_wa_type 8 (call) and 10 (missed call), media_caption "audio" or
# "video" (IPED ExtractorAndroid.java decodeMessageType), key_id "call:<call id>".
LEGACY_CALL_TYPES = {8, 10}
LEGACY_CALL_PREFIX = "call:"
CHAT_POINTERS = (
    "last_message_row_id",
    "last_read_message_row_id",
    "display_message_row_id",
    "last_read_receipt_sent_message_row_id",
)
LEGACY_CHAT_POINTERS = (
    "message_table_id",
    "last_read_message_table_id",
    "last_read_receipt_sent_message_table_id",
)
# The side-table columns of a message row that has no side-table row.
_NO_SIDE_ROWS: MappingProxyType[str, Any] = MappingProxyType({})


@dataclass
class _Chat:
    jid: str | None  # the chat jid used in the conversation id (phone jid when an @lid resolved)
    raw_jid: str | None  # as stored
    conversation: Conversation
    partner: Party | None
    is_group: bool
    is_status: bool
    extra: dict[str, Any] = field(default_factory=dict)
    #: How the duplicate_key of each message in the chat starts, received and sent.
    duplicate_heads: tuple[str, str] = field(init=False)
    #: Direction -> id of the counterpart -> (counterpart, sender, recipients): see message.
    addressed: dict[str, dict[int, tuple[Any, Party | None, tuple]]] = field(init=False)

    def __post_init__(self) -> None:
        self.duplicate_heads = (f"{PLATFORM}:{self.jid}:0:", f"{PLATFORM}:{self.jid}:1:")
        self.addressed = {"incoming": {}, "outgoing": {}, "system": {}}


_new_message = positional(
    Message, (*MESSAGE_LEADING_FIELDS, "copy_key", "id_space", "status_update")
)


def _with_thumbnail(attachments: list[Attachment], thumb: Thumbnail) -> list[Attachment]:
    """The message's attachments with ``thumb`` on the first; a preview without a media row
    becomes an attachment of its own (the preview is then all that is left of the file)."""
    if not attachments:
        return [Attachment(name=None, note="only the app's preview is recorded", thumbnail=thumb)]
    return [dataclasses.replace(attachments[0], thumbnail=thumb), *attachments[1:]]


def _legacy_thumbnail(row: dict[str, Any], locator: str) -> Thumbnail | None:
    """The preview of a legacy media row: ``message_thumbnails`` first, else a JPEG in
    ``raw_data`` (which other message types use for other payloads, hence the signature check)."""
    table = row.get("message_thumbnails.thumbnail")
    if isinstance(table, bytes) and table:
        return Thumbnail(f"message_thumbnails for {locator}", table)
    raw = row.get("raw_data")
    if isinstance(raw, bytes) and raw[:3] == b"\xff\xd8\xff":
        return Thumbnail(f"{locator} raw_data", raw)
    return None


def _tables(conn: sqlite3.Connection) -> dict[str, str]:
    return {name: kind for name, kind in conn.execute("SELECT name, type FROM sqlite_master")}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_placeholder(chat: Any, key_id: Any) -> bool:
    """The row every msgstore.db starts with (``_id`` 1): chat ``-1`` and no key of its own.
    KnugiHK ``_get_messages_cursor_legacy`` filters it (``key_remote_jid <> '-1'``); the current
    schema keeps the same row with ``chat_row_id = -1``."""
    return str(chat) == "-1" and (key_id is None or str(key_id) in ("", "-1"))


def _placeholder_note(ids: list[int], column: str) -> str:
    if not ids:
        return ""
    shown = ", ".join(str(i) for i in ids)
    return (
        f"placeholder row(s) _id={shown} ({column} -1, no key: no message, not counted, "
        "but the id is used); "
    )


def call_result(code: int | None, from_me: bool, duration: float | None) -> CallResult:
    """The model's call result for a ``call_result`` code (comment above ``CALL_LOG_COLUMNS``:
    5 answered, 4 not picked up, 2 refused, 3 unavailable). A row with no code
    (missed-call bubbles, old rows) is answered when it lasted, else left unknown."""
    if code == 5:
        return "answered"
    if code == 4:
        return "not_answered" if from_me else "missed"
    if code == 2:
        return "rejected"
    if code == 3:
        return "unavailable"
    if code is None and duration:
        return "answered"
    return "unknown"


def _next_parent(sides: list[tuple[ChildRows, list[str]]]) -> float:
    """The lowest message row id a merged side table has a row for next (infinity: none)."""
    pending = [side.pending[0] for side, _ in sides if side.pending is not None]
    return min(pending) if pending else math.inf


def _column_groups(
    names: list[str],
) -> tuple[list[tuple[int, str]], list[tuple[int, list[tuple[int, str]]]]]:
    """Split query column names into message columns and per-side-table groups, each keyed by
    the index of the column that says whether the side-table row exists."""
    base = [(i, n) for i, n in enumerate(names) if "." not in n]
    present = {n.split(".")[0]: i for i, n in enumerate(names) if n.endswith(".present")}
    # call_log is reached through message_call_log, so it exists when that row does.
    if "message_call_log" in present:
        present["call_log"] = present["message_call_log"]
    grouped: dict[int, list[tuple[int, str]]] = {}
    for i, n in enumerate(names):
        if "." in n:
            grouped.setdefault(present[n.split(".")[0]], []).append((i, n))
    return base, list(grouped.items())


class WhatsAppAndroid(Parser):
    name = "whatsapp_android"
    version = "3"
    description = "WhatsApp for Android msgstore.db (legacy, current and transitional schemas)"
    priority = DB_PRIORITY
    optional_columns = {t: set(c) for t, c in CURRENT_SIDE_TABLES.items()} | {
        "call_log": set(CALL_LOG_COLUMNS)
    }

    def declared_schemas(self) -> list[dict[str, set[str]]]:
        return [LEGACY_TABLES, CURRENT_TABLES]

    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        schema = probe.schema
        score = 0
        for declared in (LEGACY_TABLES, CURRENT_TABLES):
            if all(t in schema and cols <= schema[t] for t, cols in declared.items()):
                score += sum(len(c) + 1 for c in declared.values())
        return Match(self, score) if score else None

    # -- driver ---------------------------------------------------------------------------------
    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        names = self._names(file, ctx)
        with file.sqlite() as conn:
            tables = _tables(conn)
            has_current = all(
                tables.get(t) == "table" and cols <= table_columns(conn, t)
                for t, cols in CURRENT_TABLES.items()
            )
            has_legacy = tables.get("messages") == "table" and LEGACY_TABLES[
                "messages"
            ] <= table_columns(conn, "messages")
            current_rows = has_current and bool(
                conn.execute("SELECT EXISTS(SELECT 1 FROM message)").fetchone()[0]
            )
            if has_current and (current_rows or not has_legacy):
                # Deleted-row recovery reads the file's bytes: for a large database it runs in a
                # second process while the live rows are read (triage.recovery.job).
                recovery = start_recovery(file)
                reader = _CurrentReader(self, file, ctx, conn, tables, names)
                yield from reader.messages()
                yield from reader.calls()
                yield reader.id_space()
                if has_legacy:
                    legacy = _LegacyReader(self, file, ctx, conn, tables, names, skip_copies=True)
                    yield from legacy.messages()
                    yield legacy.id_space()
                    yield from legacy.traces()
                    ctx.decide(
                        file.logical,
                        whatsapp_schema="transitional",
                        whatsapp_read=(
                            "current tables (message/chat/jid) read; legacy 'messages' rows "
                            "with a copy in 'message' (same key_id and direction) skipped, "
                            f"{legacy.read} legacy-only rows read"
                        ),
                    )
                else:
                    ctx.decide(file.logical, whatsapp_schema="current")
                yield from reader.traces()
                yield from recovered_messages(reader, file, ctx, CURRENT_TYPES, recovery)
            elif has_legacy:
                legacy = _LegacyReader(self, file, ctx, conn, tables, names, skip_copies=False)
                yield from legacy.messages()
                yield from legacy.calls()
                yield legacy.id_space()
                if has_current:
                    # The empty new table still has its own id bookkeeping (sqlite_sequence).
                    yield self.sqlite_id_space(
                        file,
                        conn,
                        "message",
                        "_id",
                        [],
                        order_key="sort_id",
                        note="current-schema table present but empty; legacy table read",
                    )
                yield from legacy.traces()
                ctx.decide(
                    file.logical,
                    whatsapp_schema="legacy" if not has_current else "transitional",
                    whatsapp_read="legacy 'messages' table"
                    + (" (current 'message' table present but empty)" if has_current else ""),
                )
            else:
                ctx.warn(file.logical, "no WhatsApp message table readable", "sqlite_master")

    def _names(self, file: EvidenceFile, ctx: ParseContext) -> dict[str, str]:
        wa = file.sibling("wa.db")
        if wa is None:
            ctx.decide(file.logical, whatsapp_names="no sibling wa.db: names from chat subjects")
            return {}
        try:
            with wa.sqlite() as conn:
                names = load_wa_names(conn)
        except sqlite3.DatabaseError as exc:
            ctx.warn(file.logical, "sibling wa.db unreadable", f"{wa.logical}: {exc}")
            return {}
        ctx.decide(file.logical, whatsapp_names=f"{wa.logical} ({len(names)} names)")
        return names


class _Base:
    #: The message table whose rows the reader reads: the id space of their record ids.
    table: str

    def __init__(
        self,
        parser: WhatsAppAndroid,
        file: EvidenceFile,
        ctx: ParseContext,
        conn: sqlite3.Connection,
        tables: dict[str, str],
        names: dict[str, str],
    ) -> None:
        self.parser = parser
        self.file = file
        self.ctx = ctx
        self.conn = conn
        self.tables = tables
        self.names = names
        self.owner = ctx.owner_party()
        self.ids: list[int] = []
        # Rows that hold no message: the placeholder every msgstore.db starts with.
        self.placeholders: list[int] = []
        self.read = 0
        self.guard = RecordGuard(ctx, file.logical)

    @cached_property
    def source_of(self) -> Callable[[str], Provenance]:
        """The provenance of a record of this file, by its locator."""
        return self.parser.provenance_maker(self.file)

    def has(self, table: str) -> bool:
        return self.tables.get(table) == "table"

    def warn(self, category: str, example: str) -> None:
        self.ctx.warn(self.file.logical, category, example)

    def name_for(self, *jids: str | None) -> str | None:
        for jid in jids:
            if jid and jid in self.names:
                return self.names[jid]
        return None

    def make_chat(
        self,
        raw_jid: str | None,
        resolved: str | None,
        subject: str | None,
        members: list[Party],
        extra: dict[str, Any] | None = None,
    ) -> _Chat:
        jid = resolved or raw_jid
        status = is_status_jid(jid)
        group = is_group_jid(jid)
        partner = None
        if status:
            title: str | None = "Status updates"
            participants = members
        elif group:
            title = subject or self.name_for(jid)
            participants = members
        else:
            partner = jid_party(
                raw_jid, self.ctx.region, name=self.name_for(resolved, raw_jid), resolved=resolved
            )
            title = self.name_for(resolved, raw_jid) or (partner.id if partner else None)
            participants = [partner] if partner else []
        return _Chat(
            jid=jid,
            raw_jid=raw_jid,
            conversation=Conversation(
                id=conversation_id(jid), title=title, is_group=group, participants=participants
            ),
            partner=partner,
            is_group=group,
            is_status=status,
            extra=extra or {},
        )

    def message(
        self,
        chat: _Chat,
        locator: str,
        rowid: int | None,
        order_key: int | None,
        from_me: bool,
        sender: Party | None,
        timestamp_raw: Any,
        kind: str,
        body: str | None,
        key_id: str | None,
        extra: dict[str, Any],
        attachments: list[Any],
        edited: bool = False,
    ) -> Message:
        timestamp = from_unix_ms(
            timestamp_raw if type(timestamp_raw) is int else (_int(timestamp_raw) or 0)
        )
        if timestamp is None:
            self.warn("message without a date", locator)
        if kind == "system":
            direction = "system"
        else:
            direction = "outgoing" if from_me else "incoming"
        if from_me:
            counterpart = self.owner if direction == "system" else chat.partner
        elif sender is None and not chat.is_group and not chat.is_status:
            counterpart = chat.partner
        else:
            counterpart = sender
        # The rule's answer depends only on the chat, the direction and the counterpart: worked
        # out once for each, a fresh recipients list per message.
        addressed = chat.addressed[direction]
        found = addressed.get(id(counterpart))
        if found is None or found[0] is not counterpart:
            sender, recipients = sender_and_recipients(
                direction,
                self.owner,
                counterpart,
                chat.conversation.participants,
                chat.is_group or chat.is_status,
            )
            found = addressed[id(counterpart)] = (counterpart, sender, tuple(recipients))
        sender = found[1]
        recipients = list(found[2])
        deleted = kind == "deleted"
        duplicate = None
        if key_id:
            duplicate = (
                f"{chat.duplicate_heads[1 if from_me else 0]}{key_id}"
                f"{':deleted' if deleted else ''}"
            )
        self.read += 1
        return _new_message(
            PLATFORM,
            chat.conversation,
            timestamp,
            str(timestamp_raw),
            False,
            direction,
            sender,
            recipients,
            body if body != "" else None,
            kind,
            self.source_of(locator),
            deleted,
            edited,
            attachments,
            rowid,
            order_key,
            extra,
            duplicate,
            copy_key(sender, key_id, kind, deleted),
            self.table if rowid is not None else None,
            chat.is_status,
        )

    def call(
        self,
        *,
        chat: _Chat | None,
        locator: str,
        record_id: int | None,
        from_me: bool,
        caller: Party | None,
        timestamp_raw: Any,
        video: bool | None,
        duration: int | None,
        result: CallResult,
        code: int | None,
        call_id: str | None,
        extra: dict[str, Any],
        participants: list[Party] | None = None,
        order_key: int | None = None,
    ) -> Call:
        """One WhatsApp call (both schemas). ``caller`` is who placed an incoming call; in a
        one-to-one chat an unnamed caller or callee is the chat's partner."""
        timestamp = from_unix_ms(_int(timestamp_raw) or 0)
        if timestamp is None:
            self.warn("call without a date", locator)
        is_group = chat is not None and chat.is_group
        partner = chat.partner if chat is not None and not is_group else None
        counterpart = partner if from_me else (caller or partner)
        others = [
            p
            for p in (participants or [])
            if p is not None
            and p != counterpart
            and not self.ctx.is_owner(p)
            and (counterpart is None or p.id is None or p.id != counterpart.id)
        ]
        if call_id:
            extra["call_id"] = call_id
        return Call(
            network="whatsapp",
            timestamp_utc=timestamp,
            timestamp_raw=str(timestamp_raw),
            direction="outgoing" if from_me else "incoming",
            result=result,
            source=self.parser.provenance(self.file, locator),
            duration_s=duration,
            counterpart=counterpart,
            participants=others,
            is_group=is_group,
            video=video,
            conversation_id=chat.conversation.id if chat is not None else None,
            app="com.whatsapp",
            result_code=None if code is None else f"call_result={code}",
            record_id=record_id,
            order_key=order_key,
            extra=extra,
            # WhatsApp's call id names one call on every copy of the database.
            duplicate_key=f"{PLATFORM}:call:{call_id}" if call_id else None,
        )

    def pointer_traces(
        self,
        table: str,
        id_column: str,
        pointers: tuple[str, ...],
        chat_jid_of: dict[int, str],
        first_real_id: int = 1,
    ) -> Iterator[DeletionTrace]:
        """Chat-list columns naming a message row that no longer exists in either table."""
        columns = table_columns(self.conn, table)
        present = [c for c in pointers if c in columns]
        if not present:
            return
        query = f"SELECT {id_column}, {', '.join(present)} FROM {table} ORDER BY {id_column}"
        for row in self.conn.execute(query).fetchall():
            chat_row = row[0]
            for column, value in zip(present, row[1:], strict=True):
                value = _int(value)
                # 0 and -1 mean "none"; below first_real_id is the legacy placeholder row.
                if value is None or value < first_real_id or self._message_exists(value):
                    continue
                jid = chat_jid_of.get(chat_row)
                yield DeletionTrace(
                    kind="dangling chat pointer",
                    detail=(
                        f"{table}.{column}={value} for chat {jid or chat_row} names a message row "
                        "that is not in the database (removed after it was recorded)"
                    ),
                    source=self.parser.provenance(
                        self.file, f"{table}.{id_column}={chat_row} {column}"
                    ),
                    strength="probable",
                    conversation_id=conversation_id(jid) if jid else None,
                    missing_ids=[value],
                )

    def _message_exists(self, rowid: int) -> bool:
        for table in ("message", "messages"):
            if (
                self.has(table)
                and self.conn.execute(f"SELECT 1 FROM {table} WHERE _id=?", (rowid,)).fetchone()
            ):
                return True
        return False


class _CurrentReader(_Base):
    """The 2021+ schema: ``message`` with ``chat``/``jid``/``jid_map`` and side tables."""

    table = "message"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.jids: dict[int, str | None] = {}
        for rowid, user, server, raw in self.conn.execute(
            "SELECT _id, user, server, raw_string FROM jid"
        ):
            self.jids[rowid] = jid_string(user, server, raw)
        self.jid_map: dict[int, int] = {}
        if self.has("jid_map"):
            self.jid_map = {
                lid: phone
                for lid, phone in self.conn.execute("SELECT lid_row_id, jid_row_id FROM jid_map")
                if lid is not None and phone is not None
            }
        self.parties = PartyCache(self._build_party)
        self.senders: dict[int, tuple[Party | None, str | None]] = {}
        self.chats = self._load_chats()

    def resolve(self, jid_row: int | None) -> tuple[str | None, str | None]:
        """(jid as stored, phone jid it maps to when it is an @lid in jid_map)."""
        if jid_row is None:
            return None, None
        raw = self.jids.get(jid_row)
        mapped = self.jid_map.get(jid_row)
        return raw, self.jids.get(mapped) if mapped is not None else None

    def _build_party(self, jid_row: int) -> Party | None:
        raw, resolved = self.resolve(jid_row)
        if raw is None:
            return None
        return jid_party(raw, self.ctx.region, name=self.name_for(resolved, raw), resolved=resolved)

    def _load_chats(self) -> dict[int, _Chat]:
        members: dict[int, dict[int, None]] = defaultdict(dict)  # group jid row -> member rows
        if self.has("group_participant_user") and {"group_jid_row_id", "user_jid_row_id"} <= (
            table_columns(self.conn, "group_participant_user")
        ):
            for group, user in self.conn.execute(
                "SELECT group_jid_row_id, user_jid_row_id FROM group_participant_user ORDER BY _id"
            ):
                if user and user > 0:
                    members[group][user] = None
        chat_columns = table_columns(self.conn, "chat")
        subject = "subject" if "subject" in chat_columns else "NULL"
        rows = self.conn.execute(f"SELECT _id, jid_row_id, {subject} FROM chat").fetchall()
        jid_of_chat = {chat_row: jid_row for chat_row, jid_row, _ in rows}
        # Senders seen in each chat, for groups with no participant table and for Status, in the
        # order of their first message in the chat (sort_id, then _id: the order WhatsApp's
        # message_sort_id_index gives). A scan of the table and a sort of the rows with a sender:
        # reached through that index instead, each row was a lookup of its own.
        order = "sort_id, _id" if "sort_id" in table_columns(self.conn, "message") else "_id"
        for chat_row, sender in self.conn.execute(
            "SELECT chat_row_id, sender_jid_row_id FROM message NOT INDEXED"
            f" WHERE sender_jid_row_id > 0 ORDER BY chat_row_id, {order}"
        ):
            group = jid_of_chat.get(chat_row)
            if group is not None:
                members[group].setdefault(sender, None)
        chats: dict[int, _Chat] = {}
        self.chat_by_jid_row: dict[int, _Chat] = {}
        for chat_row, jid_row, subj in rows:
            raw, resolved = self.resolve(jid_row)
            if raw is None:
                self.warn(
                    "chat whose jid row is missing", f"chat._id={chat_row}: jid_row_id={jid_row}"
                )
            parties = [self.parties.get(m) for m in members.get(jid_row, {})]
            chats[chat_row] = self.chat_by_jid_row[jid_row] = self.make_chat(
                raw,
                resolved,
                subj,
                [p for p in parties if p is not None],
                extra={"chat_row_id": chat_row},
            )
        return chats

    def _integer_keys(self, table: str, column: str) -> bool:
        """Whether every value of ``column`` is an integer (a rowid alias always is)."""
        return not self.conn.execute(
            f"SELECT EXISTS(SELECT 1 FROM \"{table}\" WHERE typeof({column}) <> 'integer')"
        ).fetchone()[0]

    def _query(self) -> tuple[str, list[str], list[tuple[str, list[str]]]]:
        """The message query with its column names, and the side-table queries merged with it
        in ``_id`` order: (query, column names) each, its first column the message row id.

        A side table keyed by ``message_row_id`` alone is read by a query of its own in key
        order and merged with the messages as they come, rather than joined: a join looks the
        key up in every side table for every message (about half the query's time), and most
        messages have no side row. That takes integer keys on both sides (the merge compares
        them as Python ints, as the join compared them); otherwise the table is joined."""
        message_columns = table_columns(self.conn, "message")
        base = ["_id", "chat_row_id", "from_me", "key_id", "sender_jid_row_id", "timestamp"]
        base += ["message_type", "text_data"]
        base += [c for c in ("sort_id", "status", "starred") if c in message_columns]
        select = [f"m.{c}" for c in base]
        names = list(base)
        joins: list[str] = []
        merged: list[tuple[str, list[str]]] = []
        merge = self._integer_keys("message", "_id")
        for table, wanted in CURRENT_SIDE_TABLES.items():
            if not self.has(table):
                continue
            columns = table_columns(self.conn, table)
            if "message_row_id" not in columns:
                self.warn("side table without message_row_id", table)
                continue
            pk = [r[1] for r in self.conn.execute(f'PRAGMA table_info("{table}")') if r[5]]
            alias = f"t{len(joins)}"
            if pk == ["message_row_id"] and merge and self._integer_keys(table, "message_row_id"):
                side_select = [f"{alias}.message_row_id"]
                side_names = [f"{table}.present"]
                for col in wanted:
                    side_select.append(f"{alias}.{col}" if col in columns else "NULL")
                    side_names.append(f"{table}.{col}")
                side_join = ""
                if table == "message_call_log" and self.has("call_log"):
                    call_columns = table_columns(self.conn, "call_log")
                    side_join = f" LEFT JOIN call_log cl ON cl._id = {alias}.call_log_row_id"
                    for col in CALL_LOG_COLUMNS:
                        side_select.append(f"cl.{col}" if col in call_columns else "NULL")
                        side_names.append(f"call_log.{col}")
                merged.append(
                    (
                        f"SELECT {', '.join(side_select)} FROM {table} {alias}{side_join}"
                        f" ORDER BY {alias}.message_row_id",
                        side_names,
                    )
                )
                continue
            if pk == ["message_row_id"]:
                joins.append(f"LEFT JOIN {table} {alias} ON {alias}.message_row_id = m._id")
                select.append(f"{alias}.message_row_id")
                names.append(f"{table}.present")
                for col in wanted:
                    select.append(f"{alias}.{col}" if col in columns else "NULL")
                    names.append(f"{table}.{col}")
            else:
                for col in ("message_row_id", *wanted):
                    expr = (
                        f"(SELECT {col} FROM {table} x WHERE x.message_row_id = m._id LIMIT 1)"
                        if col in columns
                        else "NULL"
                    )
                    select.append(expr)
                    names.append(
                        f"{table}.present" if col == "message_row_id" else f"{table}.{col}"
                    )
            if table == "message_call_log" and self.has("call_log"):
                call_columns = table_columns(self.conn, "call_log")
                joins.append(f"LEFT JOIN call_log cl ON cl._id = {alias}.call_log_row_id")
                for col in CALL_LOG_COLUMNS:
                    select.append(f"cl.{col}" if col in call_columns else "NULL")
                    names.append(f"call_log.{col}")
        query = f"SELECT {', '.join(select)} FROM message m {' '.join(joins)} ORDER BY m._id"
        return query, names, merged

    def _per_message(self, table: str, columns: tuple[str, ...]) -> dict[int, list[tuple]]:
        """message_row_id -> rows of a side table that has several rows per message."""
        out: dict[int, list[tuple]] = defaultdict(list)
        if not self.has(table) or not {"message_row_id", *columns} <= table_columns(
            self.conn, table
        ):
            return out
        for row in self.conn.execute(
            f"SELECT message_row_id, {', '.join(columns)} FROM {table} ORDER BY _id"
            if "_id" in table_columns(self.conn, table)
            else f"SELECT message_row_id, {', '.join(columns)} FROM {table}"
        ):
            out[row[0]].append(row[1:])
        return out

    def _reactions(self) -> dict[int, list[dict[str, Any]]]:
        """parent message row -> its reactions (message_add_on joined to message_add_on_reaction).

        Columns as KnugiHK android_handler.py reads them; an empty ``reaction`` is a reaction
        taken back (WhatsApp's own code selects those rows by ``reaction = ''``), kept with
        ``removed`` so nothing is dropped silently.
        """
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        need_add_on = {"_id", "parent_message_row_id", "sender_jid_row_id", "from_me", "timestamp"}
        if not (self.has("message_add_on") and self.has("message_add_on_reaction")):
            return out
        if not need_add_on <= table_columns(self.conn, "message_add_on") or not {
            "message_add_on_row_id",
            "reaction",
        } <= table_columns(self.conn, "message_add_on_reaction"):
            self.warn(
                "reaction tables without the expected columns; reactions not read",
                "message_add_on/message_add_on_reaction",
            )
            return out
        for rowid, parent, sender, from_me, stamp, emoji in self.conn.execute(
            "SELECT a._id, a.parent_message_row_id, a.sender_jid_row_id, a.from_me, "
            "a.timestamp, r.reaction FROM message_add_on a JOIN message_add_on_reaction r "
            "ON r.message_add_on_row_id = a._id ORDER BY a._id"
        ):
            stamp = _int(stamp) or 0
            out[_int(parent) or 0].append(
                {
                    "add_on_row_id": rowid,
                    "from_me": bool(from_me),
                    "party": None if from_me else self._party_ref(_int(sender)),
                    "emoji": emoji or None,
                    "removed": not emoji,
                    "timestamp_utc": iso_utc(from_unix_ms(stamp)) if stamp > 0 else None,
                }
            )
        return out

    def _sender(self, jid_row: int) -> tuple[Party | None, str | None]:
        """The party of a sender's jid row, and its ``@lid`` jid when jid_map resolved it to a
        phone jid (kept in ``extra["sender_lid"]``); once per jid row."""
        found = self.senders.get(jid_row)
        if found is None:
            raw, resolved = self.resolve(jid_row)
            found = self.senders[jid_row] = (self.parties.get(jid_row), raw if resolved else None)
        return found

    def _party_ref(self, jid_row: int | None) -> dict[str, str | None] | None:
        p = self.parties.get(jid_row) if jid_row and jid_row > 0 else None
        return {"raw": p.raw, "id": p.id} if p is not None else None

    def messages(self) -> Iterator[Message]:
        query, names, merged = self._query()
        base, groups = _column_groups(names)
        unknown_chat = self.make_chat(None, None, None, [])
        # Who a group notice is about (added, removed...: IPED reads the users from
        # message_system_chat_participant) and each member's delivery and read times of a
        # message (receipt_user; times in ms, 0 or -1 when not reached).
        affected = self._per_message("message_system_chat_participant", ("user_jid_row_id",))
        receipts = self._per_message(
            "receipt_user", ("receipt_user_jid_row_id", "receipt_timestamp", "read_timestamp")
        )
        reactions = self._reactions()
        # The message's own columns are read by position (the query lists them first, in this
        # order). Side-table columns go into ``row`` only for the rows that have a side-table
        # row: most messages have none, and one C-level look at the presence columns tells.
        at = {name: i for i, name in base}
        i_sort, i_status, i_starred = (at.get(c) for c in ("sort_id", "status", "starred"))
        flags = [p for p, _ in groups]
        presence = itemgetter(*flags, *flags) if flags else None
        absent = presence((None,) * len(names)) if presence else None
        ids, chats, guard, senders = self.ids, self.chats, self.guard, self.senders
        sides = [(ChildRows(self.conn.execute(sql)), side_names) for sql, side_names in merged]
        next_side = _next_parent(sides)
        for values in utf8_rows(self.conn, query):
            rowid, chat_row, raw_from_me, key_id, raw_sender, stamp, raw_type, text = values[:8]
            ids.append(rowid)
            row = _NO_SIDE_ROWS
            if presence is not None and presence(values) != absent:
                row = {}
                for present, columns in groups:
                    if values[present] is not None:
                        for i, name in columns:
                            row[name] = values[i]
            if rowid >= next_side:
                for side, side_names in sides:
                    for found in side.take(rowid):
                        if row is _NO_SIDE_ROWS:
                            row = {}
                        row.update(zip(side_names, found, strict=True))
                next_side = _next_parent(sides)
            locator = f"message._id={rowid}"
            if (chat_row == -1 or chat_row == "-1") and _is_placeholder(chat_row, key_id):
                self.placeholders.append(rowid)
                continue
            # One bad row costs that row only (RecordGuard's rule, without a context manager
            # entered and left per row).
            try:
                chat = chats.get(chat_row)
                if chat is None:
                    self.warn(
                        "message in a chat not in the chat table",
                        f"{locator}: chat_row_id={chat_row}",
                    )
                    chat = unknown_chat
                mtype = raw_type if type(raw_type) is int else _int(raw_type)
                from_me = bool(raw_from_me)
                # Most rows have no side-table row: their side checks are skipped at once.
                sided = row is not _NO_SIDE_ROWS
                extra: dict[str, Any] = {
                    "schema": "current",
                    "key_id": key_id,
                    "message_type": mtype,
                    "chat_row_id": chat_row,
                }
                if i_status is not None and values[i_status] is not None:
                    extra["status"] = values[i_status]
                if i_starred is not None and values[i_starred] is not None:
                    extra["starred"] = values[i_starred]
                sort_id = values[i_sort] if i_sort is not None else None
                if mtype in REVOKED_TYPES or (
                    sided and row.get("message_revoked.present") is not None
                ):
                    kind = "deleted"
                    label = (
                        CURRENT_TYPES[mtype][1]
                        if mtype in REVOKED_TYPES
                        else "deleted for everyone"
                    )
                    self._revoked_extra(row, extra)
                elif (known := CURRENT_TYPES.get(mtype)) is not None:
                    kind, label = known
                else:
                    kind, label = "other", f"unknown type {mtype}"
                    self.warn("unknown message_type", f"{locator}: message_type={mtype}")
                extra["type"] = label
                sender = None
                if not from_me and raw_sender:
                    sender_row = raw_sender if type(raw_sender) is int else _int(raw_sender)
                    if sender_row and sender_row > 0:
                        sender, lid = senders.get(sender_row) or self._sender(sender_row)
                        if lid is not None:
                            extra["sender_lid"] = lid
                if sided and row.get("message_system.present") is not None:
                    extra["action_type"] = row.get("message_system.action_type")
                    users = [self._party_ref(_int(u)) for (u,) in affected.get(rowid, [])]
                    if users:
                        extra["system_participants"] = [u for u in users if u]
                if sided and row.get("message_quoted.present") is not None:
                    extra["quoted"] = {
                        "key_id": row.get("message_quoted.key_id"),
                        "from_me": bool(row.get("message_quoted.from_me")),
                        "sender": self._party_ref(
                            _int(row.get("message_quoted.sender_jid_row_id"))
                        ),
                    }
                if rowid in reactions:
                    extra["reactions"] = reactions[rowid]
                if rowid in receipts:
                    extra["receipts"] = [
                        {
                            "party": self._party_ref(_int(user)),
                            "delivered_utc": iso_utc(from_unix_ms(_int(got) or 0))
                            if (_int(got) or 0) > 0
                            else None,
                            "read_utc": iso_utc(from_unix_ms(_int(read) or 0))
                            if (_int(read) or 0) > 0
                            else None,
                        }
                        for user, got, read in receipts[rowid]
                    ]
                if kind == "call":
                    record = self._bubble_call(
                        row, stamp, sort_id, chat, locator, rowid, from_me, sender, label, extra
                    )
                elif row is _NO_SIDE_ROWS and (text is None or type(text) is str):
                    # Nearly every row: no media, preview or edit, its text as it is; what
                    # _chat_message would hand on, without a call of thirteen arguments more.
                    record = self.message(
                        chat,
                        locator,
                        rowid,
                        sort_id,
                        from_me,
                        sender,
                        stamp,
                        kind,
                        text,
                        key_id,
                        extra,
                        [],
                        False,
                    )
                else:
                    record = self._chat_message(
                        row,
                        text,
                        stamp,
                        sort_id,
                        chat,
                        locator,
                        rowid,
                        key_id,
                        from_me,
                        sender,
                        kind,
                        extra,
                    )
            except Exception as exc:  # noqa: BLE001 - contained to the row, as RecordGuard does
                guard.skip(locator, exc)
                continue
            if record is not None:
                yield record

    def _chat_message(
        self,
        row: Any,
        text: Any,
        stamp: Any,
        sort_id: Any,
        chat: _Chat,
        locator: str,
        rowid: int,
        key_id: Any,
        from_me: bool,
        sender: Party | None,
        kind: str,
        extra: dict[str, Any],
    ) -> Message:
        """A message that is not a call bubble: its text, media and preview."""
        attachments = []
        if text is None or type(text) is str:
            body = text
        else:
            body, binary = text_value(text)
            if binary:
                self.warn("binary message text decoded", locator)
        edited = False
        # Most messages have no media, preview or edit row.
        if row is not _NO_SIDE_ROWS:
            if row.get("message_media.present") is not None:
                path = row.get("message_media.file_path")
                attachments.append(
                    build_attachment(
                        self.file,
                        path,
                        name=row.get("message_media.media_name"),
                        mime=row.get("message_media.mime_type"),
                        size=_int(row.get("message_media.file_size")),
                        source_hash=row.get("message_media.file_hash"),
                    )
                )
                if path:
                    extra["media_path"] = path
                body = body or row.get("message_media.media_caption")
            thumb = row.get("message_thumbnail.thumbnail")
            if isinstance(thumb, bytes) and thumb:
                attachments = _with_thumbnail(
                    attachments, Thumbnail(f"message_thumbnail.message_row_id={rowid}", thumb)
                )
            edited = row.get("message_edit_info.present") is not None
            if edited:
                extra["edited_timestamp"] = row.get("message_edit_info.edited_timestamp")
        # By position, as the rows with no side-table row are handed on in ``messages``:
        # thirteen keywords would be matched to their parameters by name at each call.
        return self.message(
            chat,
            locator,
            rowid,
            sort_id,
            from_me,
            sender,
            stamp,
            kind,
            body,
            key_id,
            extra,
            attachments,
            edited,
        )

    def _revoked_extra(self, row: dict[str, Any], extra: dict[str, Any]) -> None:
        if row.get("message_revoked.present") is None:
            extra["revoked"] = "message_type only (no message_revoked row)"
            return
        extra["revoked_key_id"] = row.get("message_revoked.revoked_key_id")
        revoke_ts = _int(row.get("message_revoked.revoke_timestamp"))
        if revoke_ts:
            extra["revoke_timestamp_raw"] = revoke_ts
            when = from_unix_ms(revoke_ts)
            extra["revoke_timestamp"] = when.isoformat().replace("+00:00", "Z") if when else None
        admin = _int(row.get("message_revoked.admin_jid_row_id"))
        if admin and admin > 0:
            extra["revoked_by_admin"] = self.jids.get(admin)

    def _bubble_call(
        self,
        row: dict[str, Any],
        stamp: Any,
        sort_id: Any,
        chat: _Chat,
        locator: str,
        rowid: int,
        from_me: bool,
        sender: Party | None,
        label: str,
        extra: dict[str, Any],
    ) -> Call:
        """A call shown as a chat bubble (``message_type`` 90 with its ``call_log`` row through
        ``message_call_log``; 8 and 10 with only ``missed_call_logs``)."""
        video = row.get("call_log.video_call")
        if video is None:
            video = row.get("missed_call_logs.video_call")
        call_log_id = _int(row.get("message_call_log.call_log_row_id"))
        if call_log_id is not None:
            extra["call_log_id"] = call_log_id
        if row.get("call_log.timestamp") is not None:
            # The call_log row is the call itself; the bubble only shows it in the chat.
            timestamp = row["call_log.timestamp"]
            if row.get("call_log.from_me") is not None:
                from_me = bool(row["call_log.from_me"])
        else:
            timestamp = stamp
        code = _int(row.get("call_log.call_result"))
        duration = _int(row.get("call_log.duration"))
        if code is None and label == "missed call" and not from_me:
            result: CallResult = "missed"
        else:
            result = call_result(code, from_me, duration)
        caller = sender
        if caller is None and not from_me:
            caller = self.parties.get(_int(row.get("call_log.jid_row_id")))
        return self.call(
            chat=chat,
            locator=locator,
            record_id=rowid,
            from_me=from_me,
            caller=caller,
            timestamp_raw=timestamp,
            video=None if video is None else bool(video),
            duration=duration,
            result=result,
            code=code,
            call_id=row.get("call_log.call_id"),
            extra=extra,
            participants=[self.parties.get(j) for j in self.call_parts.get(call_log_id or -1, [])],
            order_key=sort_id,
        )

    def calls(self) -> Iterator[Call]:
        """``call_log`` rows with no chat bubble (``message_call_log``) of their own: before
        about 2023 calls were only kept there, and IPED reads them the same way
        (ExtractorAndroidNew.java ``SELECT_CALLS``: call_log joined to chat on jid_row_id)."""
        if not self.has("call_log"):
            return
        columns = table_columns(self.conn, "call_log")
        needed = {"_id", "jid_row_id", "from_me", "timestamp"}
        if not needed <= columns:
            self.warn("call_log without expected columns", ", ".join(sorted(needed - columns)))
            return
        wanted = [c for c in ("call_id", "video_call", "duration", "call_result") if c in columns]
        group = "group_jid_row_id" if "group_jid_row_id" in columns else "0"
        join = where = ""
        if self.has("message_call_log"):
            join = " LEFT JOIN message_call_log l ON l.call_log_row_id = c._id"
            where = " WHERE l.message_row_id IS NULL"
        query = (
            f"SELECT c._id, c.jid_row_id, {group}, c.from_me, c.timestamp"
            + "".join(f", c.{col}" for col in wanted)
            + f" FROM call_log c{join}{where} ORDER BY c._id"
        )
        by_jid = {chat_jid_row: chat for chat_jid_row, chat in self.chat_by_jid_row.items()}
        for values in self.conn.execute(query):
            rowid, jid_row, group_row, from_me, timestamp = values[:5]
            facts = dict(zip(wanted, values[5:], strict=True))
            locator = f"call_log._id={rowid}"
            with self.guard(locator):
                target = group_row if group_row and group_row > 0 else jid_row
                chat = by_jid.get(target)
                if chat is None:
                    raw, resolved = self.resolve(target)
                    chat = self.make_chat(raw, resolved, None, [])
                    by_jid[target] = chat
                extra: dict[str, Any] = {"schema": "current", "call_log_id": rowid}
                video = facts.get("video_call")
                code = _int(facts.get("call_result"))
                duration = _int(facts.get("duration"))
                yield self.call(
                    chat=chat,
                    locator=locator,
                    record_id=None,
                    from_me=bool(from_me),
                    caller=None if from_me else self.parties.get(jid_row),
                    timestamp_raw=timestamp,
                    video=None if video is None else bool(video),
                    duration=duration,
                    result=call_result(code, bool(from_me), duration),
                    code=code,
                    call_id=facts.get("call_id"),
                    extra=extra,
                    participants=[self.parties.get(j) for j in self.call_parts.get(rowid, [])],
                )

    @cached_property
    def call_parts(self) -> dict[int, list[int]]:
        """call_log row -> participant jid rows (``call_log_participant_v2``, ERS sample schema
        and WAInsight's reader; each row also has its own ``call_result``)."""
        table = "call_log_participant_v2"
        if not self.has(table) or not {"call_log_row_id", "jid_row_id"} <= table_columns(
            self.conn, table
        ):
            return {}
        out: dict[int, list[int]] = defaultdict(list)
        for call_row, jid_row in self.conn.execute(
            f"SELECT call_log_row_id, jid_row_id FROM {table} ORDER BY _id"
            if "_id" in table_columns(self.conn, table)
            else f"SELECT call_log_row_id, jid_row_id FROM {table} ORDER BY rowid"
        ):
            out[call_row].append(jid_row)
        return out

    def id_space(self) -> Any:
        auto = is_autoincrement(self.conn, "message")
        order = "sort_id" if "sort_id" in table_columns(self.conn, "message") else None
        return self.parser.sqlite_id_space(
            self.file,
            self.conn,
            "message",
            "_id",
            self.ids,
            order_key=order,
            note=(
                "all rows of message, system, call and Status rows included; "
                + _placeholder_note(self.placeholders, "chat_row_id")
                + (
                    "AUTOINCREMENT: ids are never reused"
                    if auto
                    else "no AUTOINCREMENT: the newest ids can be reused"
                )
            ),
        )

    def traces(self) -> Iterator[DeletionTrace]:
        chat_jid_of = {row: chat.jid for row, chat in self.chats.items() if chat.jid}
        yield from self.pointer_traces("chat", "_id", CHAT_POINTERS, chat_jid_of)
        if self.has("deleted_chat_job"):
            columns = table_columns(self.conn, "deleted_chat_job")
            wanted = [
                c
                for c in ("deleted_message_row_id", "deleted_starred_message_row_id", "block_size")
                if c in columns
            ]
            query = (
                "SELECT _id, chat_row_id"
                + "".join(f", {c}" for c in wanted)
                + " FROM deleted_chat_job ORDER BY _id"
            )
            for row in self.conn.execute(query).fetchall():
                facts = dict(zip(wanted, row[2:], strict=True))
                jid = chat_jid_of.get(row[1])
                detail = ", ".join(f"{k}={v}" for k, v in facts.items() if v is not None)
                yield DeletionTrace(
                    kind="deleted_chat_job",
                    detail=(
                        f"a clear/delete-chat job is recorded for chat {jid or row[1]}"
                        + (f" ({detail}; thresholds are sort_id values)" if detail else "")
                    ),
                    source=self.parser.provenance(self.file, f"deleted_chat_job._id={row[0]}"),
                    strength="certain",
                    conversation_id=conversation_id(jid) if jid else None,
                )
        if self.has("receipt_user") and "message_row_id" in table_columns(
            self.conn, "receipt_user"
        ):
            missing = [
                r[0]
                for r in self.conn.execute(
                    "SELECT DISTINCT r.message_row_id FROM receipt_user r WHERE r.message_row_id > 0 "
                    "AND NOT EXISTS (SELECT 1 FROM message m WHERE m._id = r.message_row_id) "
                    "ORDER BY r.message_row_id"
                )
            ]
            missing = [m for m in missing if not self._message_exists(m)]
            if missing:
                yield DeletionTrace(
                    kind="dangling receipts",
                    detail=(
                        f"receipt_user rows name {len(missing)} message row(s) no longer in the "
                        "database"
                    ),
                    source=self.parser.provenance(self.file, "receipt_user.message_row_id"),
                    strength="probable",
                    missing_ids=missing,
                    count=len(missing),
                )


class _LegacyReader(_Base):
    """The pre-2021 ``messages`` table (also the left-over half of a transitional database)."""

    table = "messages"

    def __init__(self, *args: Any, skip_copies: bool) -> None:
        super().__init__(*args)
        self.skip_copies = skip_copies
        self.columns = table_columns(self.conn, "messages")
        self.parties = PartyCache(self._build_party)
        self.subjects = self._subjects()
        self.members = self._members()
        self.chat_cache: dict[str, _Chat] = {}
        # In a transitional database the current reader reads call_log.
        self.call_log = [] if self.skip_copies else self._load_call_log()
        self.call_log_by_id = {str(r["call_id"]): r for r in self.call_log if r.get("call_id")}
        self.calls_with_bubble: set[int] = set()

    def _build_party(self, jid: str) -> Party | None:
        return jid_party(jid, self.ctx.region, name=self.name_for(jid))

    def _subjects(self) -> dict[str, str]:
        subjects: dict[str, str] = {}
        if self.has("chat_list") and "subject" in table_columns(self.conn, "chat_list"):
            for jid, subject in self.conn.execute("SELECT key_remote_jid, subject FROM chat_list"):
                if jid and subject:
                    subjects[jid] = subject
        if self.has("chat") and self.has("jid") and "subject" in table_columns(self.conn, "chat"):
            for raw, user, server, subject in self.conn.execute(
                "SELECT j.raw_string, j.user, j.server, c.subject FROM chat c "
                "JOIN jid j ON j._id = c.jid_row_id"
            ):
                jid = jid_string(user, server, raw)
                if jid and subject:
                    subjects.setdefault(jid, subject)
        return subjects

    def _members(self) -> dict[str, dict[str, None]]:
        members: dict[str, dict[str, None]] = defaultdict(dict)
        if self.has("group_participants") and {"gjid", "jid"} <= table_columns(
            self.conn, "group_participants"
        ):
            for gjid, jid in self.conn.execute(
                "SELECT gjid, jid FROM group_participants ORDER BY _id"
            ):
                if gjid and jid:
                    members[gjid][jid] = None
        if "remote_resource" in self.columns:
            for chat, sender in self.conn.execute(
                "SELECT DISTINCT key_remote_jid, remote_resource FROM messages "
                "WHERE remote_resource IS NOT NULL AND remote_resource <> ''"
            ):
                members[chat].setdefault(sender, None)
        return members

    def chat(self, jid: str) -> _Chat:
        if jid not in self.chat_cache:
            parties = [self.parties.get(m) for m in self.members.get(jid, {})]
            self.chat_cache[jid] = self.make_chat(
                jid, None, self.subjects.get(jid), [p for p in parties if p is not None]
            )
        return self.chat_cache[jid]

    def messages(self) -> Iterator[Message]:
        optional = [c for c in LEGACY_OPTIONAL if c in self.columns]
        select = ["_id", "key_remote_jid", "key_from_me", "key_id", "status", "data"]
        select += ["timestamp", "media_wa_type", *optional]
        names = list(select)
        select = [f"m.{c}" for c in select]
        joins = ""
        media_columns = ("file_path", "file_size", "mime_type", "media_name", "file_hash")
        if self.has("message_media"):
            # Transitional databases keep media in message_media keyed by messages._id
            # (KnugiHK _get_media_cursor_legacy joins them this way).
            present = table_columns(self.conn, "message_media")
            joins = " LEFT JOIN message_media mm ON mm.message_row_id = m._id"
            select.append("mm.message_row_id")
            names.append("message_media.present")
            for col in media_columns:
                select.append(f"mm.{col}" if col in present else "NULL")
                names.append(f"message_media.{col}")
        if self.has("message_thumbnails") and {"key_remote_jid", "key_from_me", "key_id"} <= set(
            table_columns(self.conn, "message_thumbnails")
        ):
            # One row per message key (UNIQUE INDEX messages_thumbnail_key_index).
            joins += (
                " LEFT JOIN message_thumbnails mt ON mt.key_remote_jid = m.key_remote_jid"
                " AND mt.key_from_me = m.key_from_me AND mt.key_id = m.key_id"
            )
            select.append("mt.thumbnail")
            names.append("message_thumbnails.thumbnail")
        where = ""
        if self.skip_copies:
            # An anti-join rather than NOT EXISTS: SQLite builds a transient index for the join
            # when message has none on key_id, so this stays linear on large databases.
            joins += " LEFT JOIN message x ON x.key_id = m.key_id AND x.from_me = m.key_from_me"
            where = " WHERE x._id IS NULL"
        query = f"SELECT {', '.join(select)} FROM messages m{joins}{where} ORDER BY m._id"
        for values in self.conn.execute(query):
            row = dict(zip(names, values, strict=True))
            rowid = row["_id"]
            locator = f"messages._id={rowid}"
            chat_jid = row["key_remote_jid"]
            if _is_placeholder(chat_jid, row["key_id"]) or chat_jid == "-1":
                self.placeholders.append(rowid)
                continue
            if not chat_jid:
                self.warn("message without a chat jid", locator)
                continue
            with self.guard(locator):
                yield self._message(row, rowid, locator, chat_jid)
        # Ids of every legacy row, placeholder and skipped copies included (they consumed ids).
        self.ids = [r[0] for r in self.conn.execute("SELECT _id FROM messages ORDER BY _id")]

    def _message(
        self, row: dict[str, Any], rowid: int, locator: str, chat_jid: str
    ) -> Message | Call:
        chat = self.chat(chat_jid)
        from_me = bool(row["key_from_me"])
        status = _int(row["status"])
        wa_type = _int(row["media_wa_type"])
        edit_version = _int(row.get("edit_version"))
        extra: dict[str, Any] = {
            "schema": "legacy",
            "key_id": row["key_id"],
            "media_wa_type": wa_type,
            "status": status,
        }
        if edit_version:
            extra["edit_version"] = edit_version
        revoked_by_edit = edit_version == LEGACY_REVOKED_EDIT_VERSION and (
            (from_me and status == 5) or (not from_me and status == 0)
        )
        if wa_type in REVOKED_TYPES or revoked_by_edit:
            kind = "deleted"
            label = LEGACY_TYPES.get(wa_type or 0, ("", ""))[1]
            extra["revoked_signal"] = [
                s
                for s, hit in (
                    (f"media_wa_type={wa_type}", wa_type in REVOKED_TYPES),
                    (f"edit_version=7,status={status}", revoked_by_edit),
                )
                if hit
            ]
            label = "deleted for everyone" if label in ("", "text") else label
        elif status == LEGACY_SYSTEM_STATUS and not wa_type:
            # status 6 is a system row only for text rows (IPED decodeMessageType reads the
            # action code only under media_wa_type 0); call bubbles carry status 6 too.
            kind, label = "system", "system"
            extra["action_code"] = row.get("media_size")
        elif wa_type in LEGACY_TYPES:
            kind, label = LEGACY_TYPES[wa_type]
        else:
            kind, label = "other", f"unknown type {wa_type}"
            self.warn("unknown media_wa_type", f"{locator}: media_wa_type={row['media_wa_type']}")
        extra["type"] = label
        sender = None
        remote = row.get("remote_resource")
        if not from_me and remote:
            sender = self.parties.get(remote)
        attachments = []
        body, binary = text_value(row["data"])
        if binary:
            self.warn("binary message text decoded", locator)
        if kind == "media":
            attachments.append(self._attachment(row))
            body = body or row.get("media_caption")
            thumb = _legacy_thumbnail(row, locator)
            if thumb is not None:
                attachments = _with_thumbnail(attachments, thumb)
        elif kind == "call":
            return self._bubble_call(row, wa_type, chat, locator, rowid, from_me, sender, extra)
        return self.message(
            chat=chat,
            locator=locator,
            rowid=rowid,
            order_key=rowid,
            from_me=from_me,
            sender=sender,
            timestamp_raw=row["timestamp"],
            kind=kind,
            body=body,
            key_id=row["key_id"],
            extra=extra,
            attachments=attachments,
        )

    def _bubble_call(
        self,
        row: dict[str, Any],
        wa_type: int | None,
        chat: _Chat,
        locator: str,
        rowid: int,
        from_me: bool,
        caller: Party | None,
        extra: dict[str, Any],
    ) -> Call:
        """A legacy call bubble (``media_wa_type`` 8 call, 10 missed call; ``media_caption``
        ``audio``/``video``), with the facts of its ``call_log`` row when the key names one."""
        caption = row.get("media_caption")
        video: bool | None = None
        if caption:
            extra["call_caption"] = caption
            if caption in ("audio", "video"):
                video = caption == "video"
        duration = _int(row.get("media_duration"))
        code: int | None = None
        call_id = None
        key = str(row.get("key_id") or "")
        logged = self.call_log_by_id.get(key[len(LEGACY_CALL_PREFIX) :]) if key else None
        if logged is not None and key.startswith(LEGACY_CALL_PREFIX):
            self.calls_with_bubble.add(logged["_id"])
            extra["call_log_id"] = logged["_id"]
            call_id = logged.get("call_id")
            if logged.get("video_call") is not None:
                video = bool(logged["video_call"])
            if logged.get("duration") is not None:
                duration = _int(logged["duration"])
            code = _int(logged.get("call_result"))
        if wa_type == 10 and code is None:
            result: CallResult = "not_answered" if from_me else "missed"
        else:
            result = call_result(code, from_me, duration)
        return self.call(
            chat=chat,
            locator=locator,
            record_id=rowid,
            from_me=from_me,
            caller=caller,
            timestamp_raw=row["timestamp"],
            video=video,
            duration=duration,
            result=result,
            code=code,
            call_id=call_id,
            extra=extra,
            order_key=rowid,
        )

    def _load_call_log(self) -> list[dict[str, Any]]:
        """``call_log`` rows of a legacy database that has one (2019-2020 app versions keep it
        beside ``messages``, keyed by ``jid_row_id``; IPED ExtractorAndroidNew.java reads the same
        table as calls in its own right)."""
        if not (self.has("call_log") and self.has("jid")):
            return []
        columns = table_columns(self.conn, "call_log")
        needed = {"_id", "jid_row_id", "from_me", "timestamp"}
        if not needed <= columns:
            self.warn("call_log without expected columns", ", ".join(sorted(needed - columns)))
            return []
        wanted = ["_id", "jid_row_id", "from_me", "timestamp"] + [
            c for c in ("call_id", "video_call", "duration", "call_result") if c in columns
        ]
        query = (
            "SELECT " + ", ".join(f"c.{c}" for c in wanted) + ", j.raw_string, j.user, j.server"
            " FROM call_log c LEFT JOIN jid j ON j._id = c.jid_row_id ORDER BY c._id"
        )
        rows = []
        for values in self.conn.execute(query):
            row = dict(zip(wanted, values[: len(wanted)], strict=True))
            row["jid"] = jid_string(values[-2], values[-1], values[-3])
            rows.append(row)
        return rows

    def calls(self) -> Iterator[Call]:
        """Calls kept only in ``call_log`` (no bubble in ``messages`` with key ``call:<id>``)."""
        for row in self.call_log:
            if row["_id"] in self.calls_with_bubble:
                continue
            locator = f"call_log._id={row['_id']}"
            with self.guard(locator):
                if not row["jid"]:
                    self.warn(
                        "call whose jid row is missing",
                        f"{locator}: jid_row_id={row['jid_row_id']}",
                    )
                    continue
                extra: dict[str, Any] = {"schema": "legacy", "call_log_id": row["_id"]}
                from_me = bool(row["from_me"])
                code = _int(row.get("call_result"))
                duration = _int(row.get("duration"))
                chat = self.chat(row["jid"])
                yield self.call(
                    chat=chat,
                    locator=locator,
                    record_id=None,
                    from_me=from_me,
                    caller=None if from_me else chat.partner,
                    timestamp_raw=row["timestamp"],
                    video=None if row.get("video_call") is None else bool(row["video_call"]),
                    duration=duration,
                    result=call_result(code, from_me, duration),
                    code=code,
                    call_id=row.get("call_id"),
                    extra=extra,
                )

    def _attachment(self, row: dict[str, Any]) -> Any:
        source_hash = row.get("message_media.file_hash") or row.get("media_hash")
        mime = row.get("message_media.mime_type") or row.get("media_mime_type")
        size = _int(row.get("message_media.file_size") or row.get("media_size"))
        name = row.get("message_media.media_name") or row.get("media_name")
        path = row.get("message_media.file_path")
        if path:
            return build_attachment(
                self.file, path, name=name, mime=mime, size=size, source_hash=source_hash
            )
        # Legacy rows keep the local path only inside a serialised Java object (thumb_image),
        # so the file is looked for by its name, and the note says so.
        found = build_attachment(
            self.file,
            None,
            name=name,
            mime=mime,
            size=size,
            source_hash=source_hash,
            candidates=[name] if name else [],
        )
        if found.path:
            note = "located by file name only (legacy rows record no path)"
            found = dataclasses.replace(found, note=f"{note}; {found.note}" if found.note else note)
        return found

    def id_space(self) -> Any:
        auto = is_autoincrement(self.conn, "messages")
        return self.parser.sqlite_id_space(
            self.file,
            self.conn,
            "messages",
            "_id",
            self.ids,
            note=(
                "legacy table: no per-chat order column, rows are ordered by _id within "
                "key_remote_jid; system and Status rows included; "
                + _placeholder_note(self.placeholders, "key_remote_jid")
                + ("AUTOINCREMENT: ids are never reused" if auto else "no AUTOINCREMENT")
            ),
        )

    def traces(self) -> Iterator[DeletionTrace]:
        if self.has("chat_list"):
            rows = self.conn.execute("SELECT _id, key_remote_jid FROM chat_list").fetchall()
            yield from self.pointer_traces(
                "chat_list",
                "_id",
                LEGACY_CHAT_POINTERS,
                {r: j for r, j in rows if j},
                first_real_id=2,
            )
        if self.has("deleted_chat_jobs") and {"key_remote_jid", "deleted_message_id"} <= (
            table_columns(self.conn, "deleted_chat_jobs")
        ):
            for rowid, jid, threshold in self.conn.execute(
                "SELECT _id, key_remote_jid, deleted_message_id FROM deleted_chat_jobs ORDER BY _id"
            ).fetchall():
                yield DeletionTrace(
                    kind="deleted_chat_job",
                    detail=(
                        f"a clear/delete-chat job is recorded for chat {jid}"
                        + (f" (messages up to _id {threshold})" if threshold else "")
                    ),
                    source=self.parser.provenance(self.file, f"deleted_chat_jobs._id={rowid}"),
                    strength="certain",
                    conversation_id=conversation_id(jid) if jid else None,
                )


__all__ = ["WhatsAppAndroid", "STATUS_JID"]
