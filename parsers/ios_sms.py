"""iOS Messages database ``sms.db`` (SMS, MMS, iMessage, RCS); also macOS ``chat.db``.

Location: ``/private/var/mobile/Library/SMS/sms.db`` (macOS ``~/Library/Messages/chat.db``).
Versions: the iOS 6+ schema (``message``/``handle``/``chat`` with join tables) through iOS 18;
iOS 10-era files store dates in seconds, iOS 11+ in nanoseconds, both since 2001-01-01 UTC
(told apart by magnitude in :func:`triage.clock.from_apple`). The iOS <= 5 layout (``madrid``
columns, no ``handle`` table) is a different format, read by :mod:`triage.parsers.ios_sms_legacy`.

* ``message``: ``ROWID`` (AUTOINCREMENT), ``guid``, ``text`` (NULL on many iOS 16+ rows, whose
  body is then only in ``attributedBody``, a typedstream: :mod:`triage.parsers.typedstream`),
  ``handle_id`` -> ``handle.ROWID`` (0 for many sent/group rows), ``service`` ('iMessage', 'SMS',
  'RCS'), ``is_from_me``, ``date``/``date_read``/``date_delivered``, ``item_type`` (non-zero =
  group/system event), ``associated_message_guid``/``associated_message_type`` (2000-2007
  tapback added, 3000-3007 removed; 2006 an emoji, 2007 a sticker; the target is ``p:<part>/<guid>`` or ``bp:<guid>``),
  ``date_edited``/``date_retracted`` (iOS 16+ edit and unsend; every earlier version of an
  edited message is kept in ``message_summary_info``, a binary plist, and is read into
  ``extra["edit_history"]``).
* ``chat`` + ``chat_message_join`` + ``chat_handle_join``: conversations and their members.
  Partial copies holding only ``message`` and ``handle`` are read too (each message in its
  handle's thread) and the missing tables are reported.
* ``attachment`` + ``message_attachment_join``: one message may carry several attachments
  (``filename`` like ``~/Library/SMS/Attachments/ab/11/<guid>/IMG_0001.HEIC``).
* ``deleted_messages(ROWID AUTOINCREMENT, guid)`` and ``sync_deleted_messages`` are filled by
  AFTER DELETE triggers on ``message``; ``chat_recoverable_message_join(chat_id, message_id,
  delete_date)`` lists messages in "Recently Deleted" (iOS 16+).

Sources: ReagentX/imessage-exporter ``docs/tables/messages.md``,
``imessage-database/src/tables/messages.rs`` (tapback variants, ``is_deleted``),
``imessage-database/src/util/dates.rs`` (nanosecond factor), ``.../message_types/edited.rs``;
abrignoni/iLEAPP ``scripts/artifacts/sms.py`` (queries; its LEFT JOIN on attachments returns
one row per attachment, which this parser avoids) and ``SMSmissingROWIDs.py``. See
``fixtures/sms/README.md``.
"""

from __future__ import annotations

import plistlib
import sqlite3
from collections.abc import Iterator
from typing import Any, ClassVar

from triage.parsers.ios_sms_recovered import recovered_ios_messages
from triage.parsers.typedstream import TypedStreamError, decode_attributed_body

from triage.addressing import sender_and_recipients
from triage.clock import from_apple
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import (
    Attachment,
    Conversation,
    DeletionTrace,
    Message,
    Party,
    Record,
    attachment_to_json,
    iso_utc,
)
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import sequence_value, table_columns
from triage.sqlite_rows import ChildRows, RecordGuard

TAPBACKS = {
    0: "love",
    1: "like",
    2: "dislike",
    3: "laugh",
    4: "emphasize",
    5: "question",
    6: "emoji",  # iOS 17+: any emoji, in associated_message_emoji
    7: "sticker",  # iOS 17+: a sticker placed as a tapback (carries an attachment)
}
#: Columns read from ``message`` when present (the schema grew over the iOS versions).
MESSAGE_OPTIONAL = (
    "attributedBody",
    "service",
    "account",
    "date_read",
    "date_delivered",
    "is_read",
    "is_delivered",
    "is_sent",
    "error",
    "item_type",
    "group_title",
    "group_action_type",
    "associated_message_guid",
    "associated_message_type",
    "associated_message_emoji",
    "balloon_bundle_id",
    "destination_caller_id",
    "thread_originator_guid",
    "reply_to_guid",
    "date_edited",
    "date_retracted",
    "is_spam",
    "subject",
    "message_summary_info",
)
ATTACHMENT_OPTIONAL = ("mime_type", "transfer_name", "total_bytes", "uti", "is_sticker")
#: Every query this parser runs; ``{extra}`` is filled with optional columns that are present.
QUERIES = {
    "handles": "SELECT ROWID, id, {service} FROM handle",
    "chat_members": "SELECT chat_id, handle_id FROM chat_handle_join ORDER BY chat_id, handle_id",
    "chats": "SELECT ROWID, chat_identifier{extra} FROM chat",
    "tapbacks": (
        "SELECT ROWID, associated_message_guid, associated_message_type, handle_id, is_from_me, "
        "date, {emoji} FROM message WHERE associated_message_type BETWEEN 2000 AND 3007 "
        "ORDER BY ROWID"
    ),
    # One row per message (and per chat, if a message was joined to two): attachments are
    # merged in from the query below instead of being joined here, which would repeat the
    # message once per attachment as iLEAPP's LEFT JOIN does.
    "messages": (
        "SELECT m.ROWID, m.guid, m.text, m.handle_id, m.date, m.is_from_me, cmj.chat_id{extra} "
        "FROM message m LEFT JOIN chat_message_join cmj ON cmj.message_id = m.ROWID "
        "ORDER BY m.ROWID, cmj.chat_id"
    ),
    # A partial copy without chat_message_join: each message stands in its handle's thread.
    "messages_unjoined": (
        "SELECT m.ROWID, m.guid, m.text, m.handle_id, m.date, m.is_from_me, NULL{extra} "
        "FROM message m ORDER BY m.ROWID"
    ),
    "attachments": (
        "SELECT j.message_id, a.ROWID, a.filename{extra} FROM message_attachment_join j "
        "LEFT JOIN attachment a ON a.ROWID = j.attachment_id{where} ORDER BY j.message_id, a.ROWID"
    ),
    "tapback_attachments_where": (
        " JOIN message m ON m.ROWID = j.message_id"
        " WHERE m.associated_message_type BETWEEN 2000 AND 3007"
    ),
    "recoverable": "SELECT message_id, {delete_date} FROM chat_recoverable_message_join",
    "deleted": "SELECT ROWID, guid FROM {table} ORDER BY ROWID",
}


def query(name: str, extra: list[str] | None = None, prefix: str = "", **names: str) -> str:
    """The named query with optional columns appended (names come from our own constants)."""
    columns = "".join(f", {prefix}{c}" for c in extra or [])
    return QUERIES[name].format(extra=columns, **names)


PLATFORMS = {"imessage": "imessage", "sms": "sms", "rcs": "sms"}


def tapback_target(guid: str | None) -> str | None:
    """The target message guid of ``p:0/<guid>`` / ``bp:<guid>`` references."""
    if not guid:
        return None
    if "/" in guid:
        return guid.split("/", 1)[1]
    if ":" in guid:
        return guid.split(":", 1)[1]
    return guid


def attachment_suffix(filename: str) -> str:
    """The part of a device path that an extraction keeps (``Library/SMS/Attachments/...``)."""
    path = filename.replace("\\", "/")
    if path.startswith("~/"):
        return path[2:]
    marker = path.find("/Library/")
    if marker >= 0:
        return path[marker + 1 :]
    return path.lstrip("/")


def _is_tapback(kind: Any) -> bool:
    return isinstance(kind, int) and (2000 <= kind <= 2007 or 3000 <= kind <= 3007)


class IosSms(Parser):
    name = "ios_sms"
    version = "3"
    description = "iOS Messages sms.db / macOS chat.db (SMS, MMS, iMessage, RCS)"
    priority = 20
    # Only message and handle are required: partial copies (some backups and tools keep just
    # those) are read too, and the missing chat tables are reported.
    required_tables = {
        "message": {"ROWID", "guid", "text", "handle_id", "date", "is_from_me"},
        "handle": {"ROWID", "id"},
    }
    #: Tables that group messages into chats; each one missing is reported.
    CHAT_TABLES: ClassVar[dict[str, set[str]]] = {
        "chat": {"ROWID", "chat_identifier"},
        "chat_message_join": {"chat_id", "message_id"},
        "chat_handle_join": {"chat_id", "handle_id"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            missing = [
                t for t, cols in self.CHAT_TABLES.items() if not cols <= table_columns(conn, t)
            ]
            if missing:
                ctx.warn(
                    file.logical,
                    "chat tables missing",
                    f"{', '.join(missing)} not in the database (a partial copy): messages are "
                    "grouped by their handle, and group chats cannot be told from one-to-one",
                )
                ctx.decide(file.logical, ios_sms_missing_tables=missing)
            handles = {
                rowid: (ident, service)
                for rowid, ident, service in conn.execute(
                    query(
                        "handles",
                        service="service" if "service" in table_columns(conn, "handle") else "NULL",
                    )
                )
            }
            chats = self._chats(conn, handles, ctx, set(missing))
            columns = table_columns(conn, "message")
            optional = [c for c in MESSAGE_OPTIONAL if c in columns]
            reactions = self._reactions(conn, file, ctx, handles, optional)
            recoverable = self._recoverable(conn)
            yield from self._messages(
                conn,
                file,
                ctx,
                handles,
                chats,
                optional,
                reactions,
                recoverable,
                unjoined="chat_message_join" in missing,
            )
            for target, items in reactions.items():
                for item in items:
                    yield DeletionTrace(
                        kind="tapback_without_message",
                        detail=(
                            f"tapback message.ROWID={item['record_id']} ({item['reaction']} "
                            f"{item['action']}) points at guid {target}, which is not in the "
                            "message table"
                        ),
                        source=self.provenance(file, f"message.ROWID={item['record_id']}"),
                        strength="possible",
                    )
            yield from self._deletion_traces(conn, file, recoverable)
            yield from recovered_ios_messages(
                self, file, ctx, handles, chats, optional, _is_tapback
            )

    # -- lookups ---------------------------------------------------------------------------------
    def _chats(
        self,
        conn: sqlite3.Connection,
        handles: dict[int, tuple[str, Any]],
        ctx: ParseContext,
        missing: set[str],
    ) -> dict[int, Conversation]:
        if "chat" in missing:
            return {}
        cols = table_columns(conn, "chat")
        pick = [c for c in ("guid", "display_name", "service_name", "style") if c in cols]
        members: dict[int, list[Party]] = {}
        joins = [] if "chat_handle_join" in missing else conn.execute(query("chat_members"))
        for chat_id, handle_id in joins:
            ident = handles.get(handle_id, (None, None))[0]
            p = party(ident, ctx.region) if ident else None
            if p is not None:
                members.setdefault(chat_id, []).append(p)
        chats: dict[int, Conversation] = {}
        for row in conn.execute(query("chats", pick)):
            chat_id, identifier = row[:2]
            info = dict(zip(pick, row[2:], strict=True))
            people = members.get(chat_id, [])
            style = info.get("style")
            # style 43 = group, 45 = one-to-one (imessage-exporter docs/tables/chat.md).
            is_group = style == 43 if style in (43, 45) else len(people) > 1
            chats[chat_id] = Conversation(
                id=f"ios:chat:{info.get('guid') or identifier or chat_id}",
                title=info.get("display_name") or identifier,
                is_group=is_group,
                participants=people,
            )
        return chats

    def _reactions(
        self,
        conn: sqlite3.Connection,
        file: EvidenceFile,
        ctx: ParseContext,
        handles: dict[int, tuple[str, Any]],
        optional: list[str],
    ) -> dict[str, list[dict[str, Any]]]:
        """Tapbacks by target guid. They are few next to messages, so they are held in memory
        and attached to their target when it is read instead of being counted as messages."""
        if "associated_message_type" not in optional:
            return {}
        emoji = "associated_message_emoji" if "associated_message_emoji" in optional else "NULL"
        out: dict[str, list[dict[str, Any]]] = {}
        for rowid, target, kind, handle_id, from_me, date, emoji_value in conn.execute(
            query("tapbacks", emoji=emoji)
        ):
            if not _is_tapback(kind):
                continue
            guid = tapback_target(target)
            if guid is None:
                ctx.warn(file.logical, "tapback without target", f"message.ROWID={rowid}")
                continue
            by = (
                ctx.owner_party().raw
                if from_me
                else (handles.get(handle_id, (f"handle {handle_id}", None))[0])
            )
            out.setdefault(guid, []).append(
                {
                    "reaction": TAPBACKS.get(kind % 1000, f"type {kind}"),
                    "action": "added" if kind < 3000 else "removed",
                    "emoji": emoji_value,
                    "by": by,
                    "from_me": bool(from_me),
                    "time_utc": iso_utc(from_apple(date)),
                    "time_raw": str(date),
                    "record_id": rowid,
                    "associated_message_type": kind,
                }
            )
        if out and "attachment_id" in table_columns(conn, "message_attachment_join"):
            self._reaction_attachments(conn, file, ctx, out)
        return out

    def _reaction_attachments(
        self,
        conn: sqlite3.Connection,
        file: EvidenceFile,
        ctx: ParseContext,
        reactions: dict[str, list[dict[str, Any]]],
    ) -> None:
        """Sticker tapbacks carry the sticker as an attachment: keep it with the reaction."""
        by_row = {item["record_id"]: item for items in reactions.values() for item in items}
        cols = table_columns(conn, "attachment")
        pick = [c for c in ATTACHMENT_OPTIONAL if c in cols]
        sql = query("attachments", pick, "a.", where=QUERIES["tapback_attachments_where"])
        for row in conn.execute(sql):
            item = by_row.get(row[0])
            if item is not None:
                att = self._attachment(file, ctx, row, pick)
                item.setdefault("attachments", []).append(attachment_to_json(att))

    @staticmethod
    def _recoverable(conn: sqlite3.Connection) -> dict[int, Any]:
        """Message ids in "Recently Deleted" (iOS 16+) -> delete_date."""
        cols = table_columns(conn, "chat_recoverable_message_join")
        if "message_id" not in cols:
            return {}
        date = "delete_date" if "delete_date" in cols else "NULL"
        return dict(conn.execute(query("recoverable", delete_date=date)).fetchall())

    # -- messages --------------------------------------------------------------------------------
    def _messages(
        self,
        conn: sqlite3.Connection,
        file: EvidenceFile,
        ctx: ParseContext,
        handles: dict[int, tuple[str, Any]],
        chats: dict[int, Conversation],
        optional: list[str],
        reactions: dict[str, list[dict[str, Any]]],
        recoverable: dict[int, Any],
        unjoined: bool = False,
    ) -> Iterator[Record]:
        attachments = self._attachment_rows(conn)
        owner = ctx.owner_party()
        ids: list[int] = []
        last_rowid = None
        guard = RecordGuard(ctx, file.logical)
        for row in conn.execute(
            query("messages_unjoined" if unjoined else "messages", optional, "m.")
        ):
            rowid, guid, text, handle_id, date, from_me, chat_id = row[:7]
            if rowid == last_rowid:
                ctx.warn(file.logical, "message in several chats", f"message.ROWID={rowid}")
                continue
            last_rowid = rowid
            ids.append(rowid)
            with guard(f"message.ROWID={rowid}"):
                info = dict(zip(optional, row[7:], strict=True))
                att_rows = attachments.take(rowid) if attachments else []
                if _is_tapback(info.get("associated_message_type")):
                    continue  # attached to its target as extra["reactions"]
                yield self._message(
                    file,
                    ctx,
                    owner,
                    handles,
                    chats,
                    reactions,
                    recoverable,
                    (rowid, guid, text, handle_id, date, from_me, chat_id),
                    info,
                    att_rows,
                    attachments.columns if attachments else [],
                )
        if attachments:
            attachments.finish()
            if attachments.orphans:
                ctx.warn(
                    file.logical,
                    "attachment joins without a message",
                    f"{attachments.orphans} message_attachment_join rows",
                )
        yield self.sqlite_id_space(
            file,
            conn,
            "message",
            "ROWID",
            ids,
            note=(
                "ids include tapbacks and system rows, which are deleted with their target "
                "(trigger delete_associated_messages_after_delete_on_message): N missing ids "
                "need not be N visible messages"
            ),
        )

    def _message(
        self,
        file: EvidenceFile,
        ctx: ParseContext,
        owner: Party,
        handles: dict[int, tuple[str, Any]],
        chats: dict[int, Conversation],
        reactions: dict[str, list[dict[str, Any]]],
        recoverable: dict[int, Any],
        core: tuple[Any, ...],
        info: dict[str, Any],
        att_rows: list[tuple[Any, ...]],
        att_columns: list[str],
    ) -> Message:
        rowid, guid, text, handle_id, date, from_me, chat_id = core
        locator = f"message.ROWID={rowid}"
        ident = handles.get(handle_id, (None, None))[0] if handle_id else None
        counterpart = party(ident, ctx.region) if ident else None
        conversation = chats.get(chat_id) if chat_id is not None else None
        if conversation is None:
            if chat_id is not None:
                ctx.warn(file.logical, "message in a missing chat", f"{locator}: chat {chat_id}")
            conversation = Conversation(
                id=f"ios:handle:{ident or handle_id}",
                title=ident,
                participants=[counterpart] if counterpart else [],
            )

        body = text
        extra: dict[str, Any] = {"guid": guid}
        if body is None and info.get("attributedBody"):
            try:
                body = decode_attributed_body(info["attributedBody"])
                extra["body_from"] = "attributedBody"
            except TypedStreamError as exc:
                ctx.warn(file.logical, "attributedBody not decoded", f"{locator}: {exc}")
        if body is not None:
            # U+FFFC marks where an attachment sits in the bubble; the attachment itself is
            # listed separately, so the placeholder only adds noise to the text.
            cleaned = body.replace("\ufffc", "").strip()
            body = cleaned or None

        service = info.get("service")
        platform = PLATFORMS.get(str(service or "").lower(), "other")
        if service is None:
            platform = "sms"
        elif platform == "other":
            ctx.warn(file.logical, "unknown message.service", f"{locator}: {service}")
        extra["service"] = service
        for key in (
            "account",
            "destination_caller_id",
            "balloon_bundle_id",
            "thread_originator_guid",
            "reply_to_guid",
            "group_title",
            "subject",
            "error",
            "is_spam",
        ):
            if info.get(key) not in (None, 0, ""):
                extra[key] = info[key]
        for key in ("date_read", "date_delivered"):
            if info.get(key):
                extra[f"{key}_utc"] = iso_utc(from_apple(info[key]))
        assoc = info.get("associated_message_type")
        if assoc not in (None, 0):
            extra["associated_message_type"] = assoc
            extra["associated_message_guid"] = info.get("associated_message_guid")

        item_type = info.get("item_type") or 0
        atts = [self._attachment(file, ctx, r, att_columns) for r in att_rows]
        if item_type:
            direction, kind = "system", "system"
            extra["item_type"] = item_type
            if info.get("group_action_type"):
                extra["group_action_type"] = info["group_action_type"]
        elif from_me:
            direction, kind = "outgoing", "media" if atts else "text"
        else:
            direction, kind = "incoming", "media" if atts else "text"

        sender, recipients = sender_and_recipients(
            direction,
            owner,
            owner if (from_me and direction == "system") else counterpart,
            conversation.participants,
            conversation.is_group,
        )

        edited = bool(info.get("date_edited"))
        deleted = False
        if edited:
            extra["date_edited_utc"] = iso_utc(from_apple(info["date_edited"]))
            history = self._edit_history(file, ctx, locator, info.get("message_summary_info"))
            if history:
                extra["edit_history"] = history
        if info.get("date_retracted"):
            extra["date_retracted_utc"] = iso_utc(from_apple(info["date_retracted"]))
            kind, deleted = "deleted", True
            extra["unsent"] = True
            edited = False  # unsending also stamps date_edited; it is not an edit
        elif edited and body is None and not atts:
            # An unsent message keeps date_edited but loses its text and edit history
            # (imessage-exporter message_types/edited.rs).
            kind, deleted = "deleted", True
            extra["unsent"] = True
            edited = False
        if rowid in recoverable:
            deleted = True
            extra["recently_deleted"] = True
            if recoverable[rowid]:
                extra["recently_deleted_utc"] = iso_utc(from_apple(recoverable[rowid]))
        if guid in reactions:
            extra["reactions"] = reactions.pop(guid)

        timestamp = from_apple(date)
        if timestamp is None:
            ctx.warn(file.logical, "message without a date", locator)
        return Message(
            platform=platform,
            conversation=conversation,
            timestamp_utc=timestamp,
            timestamp_raw=str(date),
            zone_assumed=False,
            direction=direction,
            sender=sender,
            recipients=[r for r in recipients if r is not None],
            body=body,
            kind=kind,
            source=self.provenance(file, locator),
            deleted=deleted,
            edited=edited,
            attachments=atts,
            record_id=rowid,
            extra=extra,
            duplicate_key=f"ios-message:{guid}" if guid else None,
            id_space="message",
        )

    @staticmethod
    def _edit_history(
        file: EvidenceFile, ctx: ParseContext, locator: str, blob: bytes | None
    ) -> list[dict[str, Any]]:
        """Every version of an edited message, oldest first, from ``message_summary_info``.

        The blob is a binary plist whose ``ec`` dictionary maps a message part index to a list
        of ``{"d": seconds since 2001, "t": typedstream of the text}``; item 0 is the original
        (imessage-exporter ``message_types/edited.rs``). An unsent message has no ``ec``.
        """
        if not blob:
            return []
        try:
            root = plistlib.loads(bytes(blob))
        except (plistlib.InvalidFileException, ValueError, TypeError) as exc:
            ctx.warn(file.logical, "message_summary_info not read", f"{locator}: {exc}")
            return []
        parts = root.get("ec") if isinstance(root, dict) else None
        if not isinstance(parts, dict):
            return []
        history: list[dict[str, Any]] = []
        for part, versions in sorted(parts.items(), key=lambda kv: str(kv[0])):
            for index, version in enumerate(versions if isinstance(versions, list) else []):
                if not isinstance(version, dict):
                    continue
                text = None
                if isinstance(version.get("t"), bytes):
                    try:
                        text = decode_attributed_body(version["t"])
                    except TypedStreamError as exc:
                        ctx.warn(
                            file.logical,
                            "edit history text not decoded",
                            f"{locator} part {part} version {index}: {exc}",
                        )
                when = version.get("d")
                history.append(
                    {
                        "part": part,
                        "version": index,
                        "time_utc": iso_utc(from_apple(when))
                        if isinstance(when, int | float)
                        else None,
                        "time_raw": str(when),
                        "text": text,
                    }
                )
        return history

    @staticmethod
    def _attachment_rows(conn: sqlite3.Connection) -> ChildRows | None:
        if "attachment_id" not in table_columns(conn, "message_attachment_join"):
            return None
        cols = table_columns(conn, "attachment")
        pick = [c for c in ATTACHMENT_OPTIONAL if c in cols]
        cursor = conn.cursor().execute(query("attachments", pick, "a.", where=""))
        return ChildRows(cursor, pick)

    def _attachment(
        self, file: EvidenceFile, ctx: ParseContext, row: tuple[Any, ...], columns: list[str]
    ) -> Attachment:
        message_id, att_id, filename, *rest = row
        meta = dict(zip(columns, rest, strict=True))
        name = meta.get("transfer_name") or (filename.rsplit("/", 1)[-1] if filename else None)
        mime = meta.get("mime_type")
        if att_id is None:
            ctx.warn(
                file.logical, "attachment row missing", f"message.ROWID={message_id}: join only"
            )
            return Attachment(name=None, note="message_attachment_join names a missing attachment")
        if not filename:
            return Attachment(name=name, mime=mime, note=f"attachment.ROWID={att_id}: no filename")
        found = file.container.find_suffix(attachment_suffix(filename))
        if not found:
            ctx.warn(file.logical, "attachment file missing", f"attachment.ROWID={att_id}")
            return Attachment(
                name=name,
                mime=mime,
                size=meta.get("total_bytes"),
                note=f"attachment.ROWID={att_id}: {filename} not in the extraction",
            )
        hit = found[0]
        return Attachment(name=name, path=hit.logical, sha256=hit.sha256, mime=mime, size=hit.size)

    # -- deletion evidence -----------------------------------------------------------------------
    def _deletion_traces(
        self, conn: sqlite3.Connection, file: EvidenceFile, recoverable: dict[int, Any]
    ) -> Iterator[Record]:
        for table in ("deleted_messages", "sync_deleted_messages"):
            if "guid" not in table_columns(conn, table):
                continue
            rows = 0
            for rowid, guid in conn.execute(query("deleted", table=table)):
                rows += 1
                yield DeletionTrace(
                    kind=table,
                    detail=f"message guid {guid} was deleted (row written by a delete trigger)",
                    source=self.provenance(file, f"{table}.ROWID={rowid}"),
                    strength="certain",
                )
            seq = sequence_value(conn, table)
            if seq is not None:
                # The table is purged after iCloud sync, so its counter can exceed its rows;
                # the two are reported side by side, never merged.
                yield DeletionTrace(
                    kind=f"{table}_counter",
                    detail=(
                        f"sqlite_sequence.{table}={seq}: deletions recorded since the database "
                        f"was created; {rows} rows remain in the table"
                    ),
                    source=self.provenance(file, f"sqlite_sequence name='{table}'"),
                    strength="certain",
                    count=seq,
                )
        for message_id, delete_date in sorted(recoverable.items()):
            when = iso_utc(from_apple(delete_date)) if delete_date else "unknown time"
            yield DeletionTrace(
                kind="recently_deleted",
                detail=(
                    f"message.ROWID={message_id} is in Recently Deleted since {when} "
                    "(chat_recoverable_message_join)"
                ),
                source=self.provenance(
                    file, f"chat_recoverable_message_join.message_id={message_id}"
                ),
                strength="certain",
                missing_ids=[],
            )
