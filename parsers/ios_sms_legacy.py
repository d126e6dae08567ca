"""iOS Messages database ``sms.db`` of iOS 5 and earlier (before the ``handle``/``chat`` schema).

Location: ``/private/var/mobile/Library/SMS/sms.db`` (in an iTunes backup
``3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28``). One ``message`` table holds SMS and, from
iOS 5, iMessage ("madrid") rows side by side:

* SMS rows (``is_madrid`` 0 or absent): ``address`` is the other party, ``flags`` bit 0 says
  sent (2 received, 3 sent; 33 and 35 a failed send, 131 an invalid recipient, 129 noted as
  deleted), ``date`` is **Unix seconds**;
* iMessage rows (``is_madrid`` 1): ``madrid_handle`` is the other party (phone or Apple ID),
  ``madrid_flags`` bit 15 says sent (36869/45061 sent, 12289 received; 32773 a send error),
  ``date`` is **seconds since 2001-01-01 UTC**. The epoch is decided per row.
* ``group_id`` -> ``msg_group`` with its members in ``group_member(group_id, address)``;
  ``msg_pieces(message_id, data, part_id, content_type, content_loc)`` hold MMS parts (text parts
  carry the body in ``data``).

Sources: t413/SMS-Tools ``smstools/ios5.py`` (the two epochs, ``flags & 1`` for SMS);
https://www.jwz.org/hacks/sms-backup-iphone.pl (``flags`` values, ``madrid_flags & (1<<15)`` for
iMessage, the epoch rule); the ``madrid_flags`` values as listed in Jehiah Czebotar's iMessage
CSV exporter (MIT); the table layouts as in iOS 4/5 ``sms.db`` schema dumps in the public code
index. See ``fixtures/sms/README.md``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from triage.addressing import sender_and_recipients
from triage.clock import from_apple, from_unix_s
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import Attachment, Conversation, Message, Party, Record, iso_utc
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard

#: ``message.flags`` of SMS rows (jwz sms-backup-iphone.pl).
SMS_FLAGS = {
    2: "received",
    3: "sent",
    33: "sent: failed",
    35: "sent: failed, retried",
    129: "deleted (as noted by jwz)",
    131: "sent: invalid recipient",
}
SMS_SENT_BIT = 0x1
#: ``message.madrid_flags`` of iMessage rows (Jehiah Czebotar's exporter; jwz reads bit 15).
MADRID_FLAGS = {
    12289: "received",
    77825: "received, with parsed data",
    36869: "sent",
    45061: "sent",
    102405: "sent, with parsed data",
    32773: "send error",
}
MADRID_SENT_BIT = 1 << 15
OPTIONAL = (
    "is_madrid",
    "madrid_handle",
    "madrid_flags",
    "madrid_guid",
    "madrid_roomname",
    "madrid_service",
    "madrid_account",
    "madrid_error",
    "madrid_date_read",
    "madrid_date_delivered",
    "madrid_attachmentInfo",
    "subject",
    "read",
)
TEXT_PART = "text/plain"
SMIL_PART = "application/smil"


class IosSmsLegacy(Parser):
    name = "ios_sms_legacy"
    version = "1"
    description = "iOS 5 and earlier Messages sms.db (message.address/flags, madrid_* iMessage)"
    priority = 20
    required_tables = {
        "message": {"ROWID", "address", "date", "text", "flags", "group_id"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            groups = _groups(conn, ctx)
            pieces = _pieces(conn)
            columns = table_columns(conn, "message")
            optional = [c for c in OPTIONAL if c in columns]
            missing = sorted({"msg_group", "group_member"} - _tables(conn))
            if missing:
                ctx.warn(
                    file.logical,
                    "group tables missing",
                    f"{', '.join(missing)} not in the database: messages grouped by address",
                )
            ctx.decide(
                file.logical,
                ios_sms_layout=(
                    "iOS 5 and earlier (message.address/flags"
                    + (", madrid_* iMessage columns" if "is_madrid" in optional else "")
                    + "): SMS dates read as Unix seconds, iMessage dates as seconds since 2001"
                ),
            )
            owner = ctx.owner_party()
            guard = RecordGuard(ctx, file.logical)
            ids: list[int] = []
            select = ", ".join(["ROWID", "address", "date", "text", "flags", "group_id", *optional])
            for row in conn.execute(f"SELECT {select} FROM message ORDER BY ROWID"):
                rowid = row[0]
                ids.append(rowid)
                with guard(f"message.ROWID={rowid}"):
                    info = dict(
                        zip(
                            ["ROWID", "address", "date", "text", "flags", "group_id", *optional],
                            row,
                            strict=True,
                        )
                    )
                    yield self._message(file, ctx, owner, groups, pieces.get(rowid, []), info)
            yield self.sqlite_id_space(
                file,
                conn,
                "message",
                "ROWID",
                ids,
                note="SMS and iMessage rows share one id space",
            )

    def _message(
        self,
        file: EvidenceFile,
        ctx: ParseContext,
        owner: Party,
        groups: dict[int, list[Party]],
        pieces: list[tuple[Any, ...]],
        info: dict[str, Any],
    ) -> Message:
        rowid = info["ROWID"]
        locator = f"message.ROWID={rowid}"
        madrid = bool(info.get("is_madrid"))
        extra: dict[str, Any] = {"layout": "ios5"}
        if madrid:
            flags = _int(info.get("madrid_flags")) or 0
            sent = bool(flags & MADRID_SENT_BIT)
            platform = "imessage"
            raw_party = info.get("madrid_handle") or info.get("address")
            # iMessage rows count from 2001-01-01 (jwz; t413/SMS-Tools ios5.py).
            timestamp = from_apple(info["date"])
            extra.update(
                madrid_flags=flags,
                flags_meaning=MADRID_FLAGS.get(flags, "not a documented value: bit 15 read"),
                epoch="seconds since 2001-01-01 (iMessage row)",
            )
            for key in ("madrid_guid", "madrid_service", "madrid_account", "madrid_error"):
                if info.get(key) not in (None, 0, ""):
                    extra[key] = info[key]
            if info.get("madrid_date_read"):
                extra["date_read_utc"] = iso_utc(from_apple(info["madrid_date_read"]))
            if info.get("madrid_attachmentInfo"):
                extra["madrid_attachment_info"] = "present (not decoded)"
        else:
            flags = _int(info.get("flags")) or 0
            sent = bool(flags & SMS_SENT_BIT)
            platform = "mms" if pieces else "sms"
            raw_party = info.get("address")
            timestamp = from_unix_s(info["date"])
            extra.update(
                flags=flags,
                flags_meaning=SMS_FLAGS.get(flags, "not a documented value: bit 0 read"),
                epoch="Unix seconds (SMS row)",
            )
            if flags in (33, 35, 131):
                extra["send_failed"] = True
        if flags not in (MADRID_FLAGS if madrid else SMS_FLAGS):
            ctx.warn(
                file.logical,
                "undocumented message flags",
                f"{locator}: {'madrid_flags' if madrid else 'flags'}={flags}",
            )
        if timestamp is None:
            ctx.warn(file.logical, "message without a date", locator)
        if info.get("subject"):
            extra["subject"] = info["subject"]

        counterpart = party(raw_party, ctx.region) if raw_party else None
        conversation = self._conversation(info, counterpart, groups, madrid)
        direction = "outgoing" if sent else "incoming"
        sender, recipients = sender_and_recipients(
            direction, owner, counterpart, conversation.participants, conversation.is_group
        )

        body = info.get("text")
        attachments: list[Attachment] = []
        for piece_id, data, content_type, content_loc in pieces:
            if content_type == TEXT_PART:
                text = _text(data)
                if text and not body:
                    body = text
                continue
            if content_type == SMIL_PART:
                continue
            attachments.append(
                Attachment(
                    name=content_loc,
                    mime=content_type,
                    size=len(data) if isinstance(data, bytes) else None,
                    note=f"msg_pieces.ROWID={piece_id}: the part's file is not located",
                )
            )
        kind = "media" if attachments else "text"
        return Message(
            platform=platform,
            conversation=conversation,
            timestamp_utc=timestamp,
            timestamp_raw=str(info["date"]),
            zone_assumed=False,
            direction=direction,
            sender=sender,
            recipients=recipients,
            body=body or None,
            kind=kind,
            source=self.provenance(file, locator),
            attachments=attachments,
            record_id=rowid,
            extra=extra,
            duplicate_key=f"ios-message:{info['madrid_guid']}" if info.get("madrid_guid") else None,
            id_space="message",
        )

    @staticmethod
    def _conversation(
        info: dict[str, Any],
        counterpart: Party | None,
        groups: dict[int, list[Party]],
        madrid: bool,
    ) -> Conversation:
        group_id = _int(info.get("group_id")) or 0
        room = info.get("madrid_roomname")
        if madrid and room:
            return Conversation(id=f"ios5:room:{room}", title=room, is_group=True)
        if group_id and group_id in groups:
            members = groups[group_id]
            title = ", ".join(p.raw for p in members) or None
            return Conversation(
                id=f"ios5:group:{group_id}",
                title=title,
                is_group=len(members) > 1,
                participants=members,
            )
        ident = counterpart.id or counterpart.raw if counterpart else "unknown"
        return Conversation(
            id=f"ios5:{'imessage' if madrid else 'sms'}:{ident}",
            title=counterpart.raw if counterpart else None,
            participants=[counterpart] if counterpart else [],
        )


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _groups(conn: sqlite3.Connection, ctx: ParseContext) -> dict[int, list[Party]]:
    if not {"group_id", "address"} <= table_columns(conn, "group_member"):
        return {}
    out: dict[int, list[Party]] = {}
    for group_id, address in conn.execute(
        "SELECT group_id, address FROM group_member ORDER BY group_id, ROWID"
    ):
        member = party(address, ctx.region) if address else None
        if member is not None:
            out.setdefault(group_id, []).append(member)
    return out


def _pieces(conn: sqlite3.Connection) -> dict[int, list[tuple[Any, ...]]]:
    """MMS parts per message; few next to messages, so held in memory."""
    columns = table_columns(conn, "msg_pieces")
    if not {"message_id", "data", "content_type"} <= columns:
        return {}
    loc = "content_loc" if "content_loc" in columns else "NULL"
    order = "part_id, ROWID" if "part_id" in columns else "ROWID"
    out: dict[int, list[tuple[Any, ...]]] = {}
    for message_id, *rest in conn.execute(
        f"SELECT message_id, ROWID, data, content_type, {loc} FROM msg_pieces "
        f"ORDER BY message_id, {order}"
    ):
        out.setdefault(message_id, []).append(tuple(rest))
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(data: Any) -> str | None:
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data if isinstance(data, str) else None
