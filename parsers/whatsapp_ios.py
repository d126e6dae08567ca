"""WhatsApp for iOS message database ``ChatStorage.sqlite``, with ``ContactsV2.sqlite`` for names.

Location ``/private/var/mobile/Containers/Shared/AppGroup/<UUID>/ChatStorage.sqlite``; media files
under ``<same AppGroup>/Message/<ZMEDIALOCALPATH>`` (KnugiHK/WhatsApp-Chat-Exporter
``Whatsapp_Chat_Exporter/ios_handler.py`` ``media``). Core Data schema as used by app versions
2.2x (iOS 12-17):

* ``ZWAMESSAGE``: ``Z_PK`` (numbered across the table), ``ZCHATSESSION``, ``ZSORT`` (order in its
  chat), ``ZISFROMME``, ``ZMESSAGETYPE``, ``ZGROUPEVENTTYPE``, ``ZMESSAGEDATE`` (seconds since
  2001-01-01 UTC, REAL), ``ZFROMJID``/``ZTOJID``, ``ZGROUPMEMBER``, ``ZMEDIAITEM``, ``ZSTANZAID``
  (the key id Android calls ``key_id``), ``ZTEXT``;
* ``ZWACHATSESSION``: ``ZCONTACTJID``, ``ZPARTNERNAME``, ``ZSESSIONTYPE`` (0 one-to-one, 1 group),
  ``ZLASTMESSAGE``, ``ZMESSAGECOUNTER``;
* ``ZWAGROUPMEMBER``: ``ZCHATSESSION``, ``ZMEMBERJID`` (may be an ``@lid``), ``ZCONTACTNAME``,
  ``ZFIRSTNAME``; ``ZWAMEDIAITEM``: ``ZMESSAGE``, ``ZMEDIALOCALPATH``, ``ZFILESIZE``, ``ZTITLE``,
  ``ZLATITUDE``/``ZLONGITUDE`` (meaningful only for location messages);
* ``Z_PRIMARYKEY.Z_MAX`` for ``WAMessage``: the highest ``Z_PK`` ever handed out.

``ZMESSAGETYPE`` codes: sepinf-inc/IPED ``iped-parsers/iped-parsers-impl/src/main/java/iped/parsers/
whatsapp/ExtractorIOS.java`` (``decodeMessageType``), KnugiHK ``ios_handler.py`` (14 = deleted,
15 = sticker); tables and columns: abrignoni/iLEAPP ``scripts/artifacts/whatsApp.py`` and
KnugiHK ``Whatsapp_Chat_Exporter/ios_handler.py``. Conversation ids match the Android parser
(``whatsapp:<chat jid>``) so the same chat from both phones shares one id.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from triage.parsers.whatsapp_common import (
    DB_PRIORITY,
    PLATFORM,
    PartyCache,
    build_attachment,
    conversation_id,
    copy_key,
    find_media,
    is_group_jid,
    is_status_jid,
    jid_party,
    media_candidates,
    text_value,
)
from triage.parsers.whatsapp_contacts import load_ios_contact_names

from triage.addressing import sender_and_recipients
from triage.clock import from_apple
from triage.evidence import EvidenceFile
from triage.model import (
    Call,
    Conversation,
    DeletionTrace,
    IdSpace,
    Message,
    Party,
    Record,
    Thumbnail,
)
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard, utf8_rows

IOS_TYPES: dict[int, tuple[str, str]] = {
    0: ("text", "text"),
    1: ("media", "image"),
    2: ("media", "video"),
    3: ("media", "audio"),
    4: ("media", "contact"),
    5: ("other", "location"),
    6: ("system", "group event"),
    7: ("text", "link"),
    8: ("media", "document"),
    10: ("system", "system"),
    11: ("media", "gif"),
    12: ("other", "waiting for message"),
    14: ("deleted", "deleted by sender"),
    15: ("media", "sticker"),
    27: ("other", "group invite"),
    38: ("media", "view-once image"),
    39: ("media", "view-once video"),
    46: ("other", "poll"),
    53: ("media", "view-once audio"),
    59: ("call", "voice call"),
}
# ZMESSAGETYPE 10 rows whose ZGROUPEVENTTYPE says "missed voice/video call" (IPED ExtractorIOS).
MISSED_CALL_EVENTS = {1: "missed voice call", 45: "missed voice call", 4: "missed video call"}
MISSED_CALL_EVENTS[46] = "missed video call"
LOCATION_TYPE = 5

MESSAGE_OPTIONAL = (
    "ZSORT",
    "ZSTANZAID",
    "ZFROMJID",
    "ZTOJID",
    "ZGROUPMEMBER",
    "ZGROUPEVENTTYPE",
    "ZMESSAGESTATUS",
    "ZPUSHNAME",
    "ZSTARRED",
    "ZMEDIAITEM",
)
# ZXMPPTHUMBPATH: the preview file (``Media/<jid>/.../<uuid>.thumb``) WhatsApp keeps beside, and
# often longer than, the media file (IPED ExtractorIOS.java reads it as ``thumbpath``).
MEDIA_COLUMNS = (
    "ZMEDIALOCALPATH",
    "ZFILESIZE",
    "ZTITLE",
    "ZMEDIAURL",
    "ZLATITUDE",
    "ZLONGITUDE",
    "ZXMPPTHUMBPATH",
)


def _columns_or_null(alias: str, wanted: tuple[str, ...], present: set[str]) -> list[str]:
    return [f"{alias}.{c}" if c in present else "NULL" for c in wanted]


class WhatsAppIOS(Parser):
    name = "whatsapp_ios"
    version = "2"
    description = "WhatsApp for iOS ChatStorage.sqlite (ZWAMESSAGE, ZWACHATSESSION)"
    priority = DB_PRIORITY
    required_tables = {
        "ZWAMESSAGE": {
            "Z_PK",
            "ZCHATSESSION",
            "ZISFROMME",
            "ZMESSAGEDATE",
            "ZMESSAGETYPE",
            "ZTEXT",
        },
        "ZWACHATSESSION": {"Z_PK", "ZCONTACTJID"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        reader = _Reader(self, file, ctx)
        with file.sqlite() as conn:
            reader.conn = conn
            reader.load()
            yield from reader.messages()
            yield reader.id_space()
            yield from reader.traces()


class _Reader:
    def __init__(self, parser: WhatsAppIOS, file: EvidenceFile, ctx: ParseContext) -> None:
        self.parser = parser
        self.file = file
        self.ctx = ctx
        self.conn: sqlite3.Connection
        self.owner = ctx.owner_party()
        self.ids: list[int] = []
        self.names = self._contact_names()

    def warn(self, category: str, example: str) -> None:
        self.ctx.warn(self.file.logical, category, example)

    def _contact_names(self) -> dict[str, str]:
        contacts = self.file.sibling("ContactsV2.sqlite")
        if contacts is None:
            self.ctx.decide(self.file.logical, whatsapp_names="no sibling ContactsV2.sqlite")
            return {}
        try:
            with contacts.sqlite() as conn:
                names = load_ios_contact_names(conn)
        except sqlite3.DatabaseError as exc:
            self.warn("sibling ContactsV2.sqlite unreadable", f"{contacts.logical}: {exc}")
            return {}
        self.ctx.decide(
            self.file.logical, whatsapp_names=f"{contacts.logical} ({len(names)} names)"
        )
        return names

    def has(self, table: str) -> bool:
        return bool(
            self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
            ).fetchone()
        )

    # -- lookups --------------------------------------------------------------------------------
    def load(self) -> None:
        push: dict[str, str] = {}
        if self.has("ZWAPROFILEPUSHNAME"):
            push = {
                j: n
                for j, n in self.conn.execute("SELECT ZJID, ZPUSHNAME FROM ZWAPROFILEPUSHNAME")
                if j and n
            }
        self.push = push
        self.parties = PartyCache(self._party)
        # Group members: Z_PK -> (jid, name as the group knew it).
        self.members: dict[int, tuple[str, str | None]] = {}
        by_chat: dict[int, list[int]] = defaultdict(list)
        if self.has("ZWAGROUPMEMBER"):
            columns = table_columns(self.conn, "ZWAGROUPMEMBER")
            names = [c for c in ("ZCONTACTNAME", "ZFIRSTNAME") if c in columns]
            query = (
                "SELECT Z_PK, ZCHATSESSION, ZMEMBERJID"
                + "".join(f", {c}" for c in names)
                + " FROM ZWAGROUPMEMBER ORDER BY Z_PK"
            )
            for row in self.conn.execute(query):
                if not row[2]:
                    continue
                label = next((v for v in row[3:] if v), None)
                self.members[row[0]] = (row[2], label)
                by_chat[row[1]].append(row[0])
        columns = table_columns(self.conn, "ZWACHATSESSION")
        wanted = ("ZPARTNERNAME", "ZSESSIONTYPE", "ZLASTMESSAGE", "ZMESSAGECOUNTER", "ZGROUPINFO")
        select = ", ".join(_columns_or_null("c", wanted, columns))
        self.chats: dict[int, dict[str, Any]] = {}
        for row in self.conn.execute(
            f"SELECT c.Z_PK, c.ZCONTACTJID, {select} FROM ZWACHATSESSION c ORDER BY c.Z_PK"
        ):
            pk, jid, partner_name, session_type, last, counter, group_info = row
            group = session_type == 1 or group_info is not None or is_group_jid(jid)
            status = is_status_jid(jid)
            partner = None
            if status:
                title: str | None = "Status updates"
                participants: list[Party] = []
            elif group:
                title = partner_name
                participants = [p for p in (self.member_party(m) for m in by_chat[pk]) if p]
            else:
                partner = self.parties.get((jid, partner_name))
                title = (
                    self.names.get(jid or "") or partner_name or (partner.id if partner else None)
                )
                participants = [partner] if partner else []
            self.chats[pk] = {
                "jid": jid,
                "group": bool(group),
                "status": status,
                "partner": partner,
                "last": last,
                "counter": counter,
                "conversation": Conversation(
                    id=conversation_id(jid),
                    title=title,
                    is_group=bool(group),
                    participants=participants,
                ),
            }

    def _party(self, key: tuple[str | None, str | None]) -> Party | None:
        jid, fallback_name = key
        if not jid:
            return None
        name = self.names.get(jid) or fallback_name or self.push.get(jid)
        return jid_party(jid, self.ctx.region, name=name)

    def member_party(self, member_pk: int | None) -> Party | None:
        if member_pk is None or member_pk not in self.members:
            return None
        jid, label = self.members[member_pk]
        return self.parties.get((jid, label))

    # -- messages -------------------------------------------------------------------------------
    def messages(self) -> Iterator[Message | Call]:
        columns = table_columns(self.conn, "ZWAMESSAGE")
        optional = [c for c in MESSAGE_OPTIONAL if c in columns]
        names = ["Z_PK", "ZCHATSESSION", "ZISFROMME", "ZMESSAGEDATE", "ZMESSAGETYPE", "ZTEXT"]
        names += optional
        select = [f"m.{c}" for c in names]
        join = ""
        if self.has("ZWAMEDIAITEM"):
            media_columns = table_columns(self.conn, "ZWAMEDIAITEM")
            if "ZMEDIAITEM" in columns:
                join = " LEFT JOIN ZWAMEDIAITEM mi ON mi.Z_PK = m.ZMEDIAITEM"
            else:
                join = (
                    " LEFT JOIN ZWAMEDIAITEM mi ON mi.Z_PK = (SELECT Z_PK FROM ZWAMEDIAITEM x "
                    "WHERE x.ZMESSAGE = m.Z_PK LIMIT 1)"
                )
            select += ["mi.Z_PK", *_columns_or_null("mi", MEDIA_COLUMNS, media_columns)]
            names += ["media.Z_PK", *(f"media.{c}" for c in MEDIA_COLUMNS)]
        query = f"SELECT {', '.join(select)} FROM ZWAMESSAGE m{join} ORDER BY m.Z_PK"
        guard = RecordGuard(self.ctx, self.file.logical)
        # The message table is the one large read: strict UTF-8 a run of rows at a time.
        for values in utf8_rows(self.conn, query):
            row = dict(zip(names, values, strict=True))
            self.ids.append(row["Z_PK"])
            with guard(f"ZWAMESSAGE.Z_PK={row['Z_PK']}"):
                yield self._message(row)

    def _thumbnail(self, recorded: str | None, media_pk: int) -> Thumbnail | None:
        """The preview file ``ZXMPPTHUMBPATH`` names, when it is in the extraction (relative to
        the same ``Message/`` folder as the media)."""
        if not recorded:
            return None
        candidates = [f"Message/{c}" for c in media_candidates(recorded)]
        found, _ = find_media(self.file, candidates + media_candidates(recorded))
        if found is None:
            return None
        return Thumbnail(f"ZWAMEDIAITEM.Z_PK={media_pk} ZXMPPTHUMBPATH", path=found.logical)

    def _message(self, row: dict[str, Any]) -> Message | Call:
        pk = row["Z_PK"]
        locator = f"ZWAMESSAGE.Z_PK={pk}"
        chat = self.chats.get(row["ZCHATSESSION"])
        if chat is None:
            self.warn("message in a chat session not in ZWACHATSESSION", locator)
            chat = {
                "jid": None,
                "group": False,
                "status": False,
                "partner": None,
                "conversation": Conversation(id=conversation_id(None)),
            }
        mtype = row["ZMESSAGETYPE"]
        event = row.get("ZGROUPEVENTTYPE")
        from_me = bool(row["ZISFROMME"])
        extra: dict[str, Any] = {"message_type": mtype, "chat_session": row["ZCHATSESSION"]}
        for col, key in (("ZSTANZAID", "key_id"), ("ZGROUPEVENTTYPE", "group_event_type")):
            if row.get(col) is not None:
                extra[key] = row[col]
        if mtype == 10 and event in MISSED_CALL_EVENTS:
            kind, label = "call", MISSED_CALL_EVENTS[event]
        elif mtype in IOS_TYPES:
            kind, label = IOS_TYPES[mtype]
        else:
            kind, label = "other", f"unknown type {mtype}"
            self.warn("unknown ZMESSAGETYPE", f"{locator}: ZMESSAGETYPE={mtype}")
        extra["type"] = label
        if kind == "call":
            return self._call(row, chat, locator, from_me, label, extra)
        direction = "system" if kind == "system" else ("outgoing" if from_me else "incoming")
        if from_me:
            counterpart = self.owner if direction == "system" else chat["partner"]
        else:
            counterpart = self.member_party(row.get("ZGROUPMEMBER"))
            if counterpart is None:
                from_jid = row.get("ZFROMJID")
                if not chat["group"] and (not from_jid or from_jid == chat["jid"]):
                    counterpart = chat["partner"]
                elif from_jid and from_jid != chat["jid"]:
                    counterpart = self.parties.get((from_jid, row.get("ZPUSHNAME")))
        sender, recipients = sender_and_recipients(
            direction,
            self.owner,
            counterpart,
            chat["conversation"].participants,
            bool(chat["group"] or chat["status"]),
        )
        attachments = []
        if row.get("media.Z_PK") is not None:
            path = row.get("media.ZMEDIALOCALPATH")
            if mtype == LOCATION_TYPE:
                # Latitude/longitude hold image sizes on other rows (iLEAPP guards the same way).
                extra["latitude"] = row.get("media.ZLATITUDE")
                extra["longitude"] = row.get("media.ZLONGITUDE")
            if kind == "media" or path:
                candidates = [f"Message/{c}" for c in media_candidates(path)]
                candidates += media_candidates(path)
                attachments.append(
                    build_attachment(
                        self.file,
                        path,
                        name=None,
                        size=row.get("media.ZFILESIZE"),
                        candidates=candidates,
                    )
                )
                if path:
                    extra["media_path"] = path
                thumb = self._thumbnail(row.get("media.ZXMPPTHUMBPATH"), row["media.Z_PK"])
                if thumb is not None:
                    attachments[-1] = dataclasses.replace(attachments[-1], thumbnail=thumb)
            if row.get("media.ZTITLE"):
                extra["media_title"] = row["media.ZTITLE"]
        raw_date = row["ZMESSAGEDATE"]
        timestamp = from_apple(raw_date)
        if timestamp is None:
            self.warn("message without a date", locator)
        deleted = kind == "deleted"
        key_id = row.get("ZSTANZAID")
        duplicate = None
        if key_id:
            duplicate = f"{PLATFORM}:{chat['jid']}:{int(from_me)}:{key_id}" + (
                ":deleted" if deleted else ""
            )
        body, binary = text_value(row["ZTEXT"])
        if binary:
            self.warn("binary message text decoded", locator)
        if not body and kind == "media" and row.get("media.ZTITLE"):
            body = row["media.ZTITLE"]  # the caption (KnugiHK ios_handler.py media: ZTITLE)
        return Message(
            platform=PLATFORM,
            conversation=chat["conversation"],
            timestamp_utc=timestamp,
            timestamp_raw=str(raw_date),
            zone_assumed=False,
            direction=direction,
            sender=sender,
            recipients=[r for r in recipients if r is not None],
            body=body if body != "" else None,
            kind=kind,
            source=self.parser.provenance(self.file, locator),
            deleted=deleted,
            attachments=attachments,
            record_id=pk,
            order_key=row.get("ZSORT"),
            extra=extra,
            duplicate_key=duplicate,
            copy_key=copy_key(sender, key_id, kind, deleted),
            id_space="ZWAMESSAGE",
            status_update=bool(chat["status"]),
        )

    def _call(
        self,
        row: dict[str, Any],
        chat: dict[str, Any],
        locator: str,
        from_me: bool,
        label: str,
        extra: dict[str, Any],
    ) -> Call:
        """A call row of the chat (``ZMESSAGETYPE`` 59, or a type 10 missed-call event). The
        chat row holds no duration or outcome; WhatsApp's ``CallHistory.sqlite`` has them
        (``parsers/whatsapp_ios_calls.py``)."""
        caller = None
        if not from_me:
            caller = self.member_party(row.get("ZGROUPMEMBER"))
            from_jid = row.get("ZFROMJID")
            if caller is None and from_jid and from_jid != chat["jid"]:
                caller = self.parties.get((from_jid, row.get("ZPUSHNAME")))
        counterpart = caller or (None if chat["group"] else chat["partner"])
        missed = label.startswith("missed")
        raw_date = row["ZMESSAGEDATE"]
        timestamp = from_apple(raw_date)
        if timestamp is None:
            self.warn("call without a date", locator)
        return Call(
            network="whatsapp",
            timestamp_utc=timestamp,
            timestamp_raw=str(raw_date),
            direction="outgoing" if from_me else "incoming",
            result="missed" if missed and not from_me else "unknown",
            source=self.parser.provenance(self.file, locator),
            counterpart=counterpart,
            is_group=bool(chat["group"]),
            video="video" in label if missed else None,
            conversation_id=chat["conversation"].id,
            app="net.whatsapp.WhatsApp",
            result_code=f"ZMESSAGETYPE={row['ZMESSAGETYPE']}"
            + (f",ZGROUPEVENTTYPE={row['ZGROUPEVENTTYPE']}" if missed else ""),
            record_id=row["Z_PK"],
            order_key=row.get("ZSORT"),
            extra=extra,
        )

    # -- deletion evidence ----------------------------------------------------------------------
    def high_water(self) -> int | None:
        if not self.has("Z_PRIMARYKEY"):
            return None
        row = self.conn.execute(
            "SELECT Z_MAX FROM Z_PRIMARYKEY WHERE Z_NAME = 'WAMessage'"
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def id_space(self) -> IdSpace:
        return self.parser.sqlite_id_space(
            self.file,
            self.conn,
            "ZWAMESSAGE",
            "Z_PK",
            self.ids,
            order_key="ZSORT",
            high_water=self.high_water(),
            note=(
                "Core Data numbers Z_PK from Z_PRIMARYKEY.Z_MAX (WAMessage), which only grows, so "
                "a Z_PK hole or Z_MAX above the highest Z_PK means rows were removed; system rows "
                "included"
            ),
        )

    def traces(self) -> Iterator[DeletionTrace]:
        for pk, chat in self.chats.items():
            conv = chat["conversation"].id
            last = chat.get("last")
            if (
                last
                and not self.conn.execute(
                    "SELECT 1 FROM ZWAMESSAGE WHERE Z_PK=?", (last,)
                ).fetchone()
            ):
                yield DeletionTrace(
                    kind="dangling chat pointer",
                    detail=(
                        f"ZWACHATSESSION.ZLASTMESSAGE={last} for chat {chat['jid']} names a "
                        "message that is not in ZWAMESSAGE (removed after it was the last message)"
                    ),
                    source=self.parser.provenance(
                        self.file, f"ZWACHATSESSION.Z_PK={pk} ZLASTMESSAGE"
                    ),
                    strength="probable",
                    conversation_id=conv,
                    missing_ids=[int(last)],
                )
            counter = chat.get("counter")
            if counter:
                top = self.conn.execute(
                    "SELECT MAX(ZSORT) FROM ZWAMESSAGE WHERE ZCHATSESSION=?", (pk,)
                ).fetchone()[0]
                if top is not None and int(counter) > int(top) + 1:
                    yield DeletionTrace(
                        kind="message counter above last sort",
                        detail=(
                            f"ZWACHATSESSION.ZMESSAGECOUNTER={counter} but the highest ZSORT in "
                            f"chat {chat['jid']} is {top}: messages after ZSORT {top} may have "
                            "been removed (counter observed to equal max(ZSORT)+1)"
                        ),
                        source=self.parser.provenance(
                            self.file, f"ZWACHATSESSION.Z_PK={pk} ZMESSAGECOUNTER"
                        ),
                        strength="possible",
                        conversation_id=conv,
                        count=int(counter) - int(top) - 1,
                    )
        if self.has("ZWAMEDIAITEM"):
            orphans = [
                r[0]
                for r in self.conn.execute(
                    "SELECT DISTINCT i.ZMESSAGE FROM ZWAMEDIAITEM i WHERE i.ZMESSAGE IS NOT NULL "
                    "AND NOT EXISTS (SELECT 1 FROM ZWAMESSAGE m WHERE m.Z_PK = i.ZMESSAGE) "
                    "ORDER BY i.ZMESSAGE"
                )
            ]
            if orphans:
                yield DeletionTrace(
                    kind="dangling media items",
                    detail=(
                        f"ZWAMEDIAITEM rows name {len(orphans)} message(s) no longer in ZWAMESSAGE"
                    ),
                    source=self.parser.provenance(self.file, "ZWAMEDIAITEM.ZMESSAGE"),
                    strength="probable",
                    missing_ids=orphans,
                    count=len(orphans),
                )
