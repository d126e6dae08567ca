"""Android telephony provider database ``mmssms.db``: SMS and MMS (AOSP and Samsung).

Format: AOSP ``TelephonyProvider`` (``MmsSmsDatabaseHelper.java``, database versions up to 69) at
``/data/user_de/0/com.android.providers.telephony/databases/mmssms.db`` (``/data/data/...``
before Android 7), with MMS binary parts under ``.../app_parts/PART_*``.

* ``sms``: ``_id`` (no AUTOINCREMENT in AOSP, so ids of the newest rows can be reused),
  ``thread_id``, ``address`` (the other party as stored), ``date`` (ms since the Unix epoch, UTC),
  ``type`` (1 inbox, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued;
  ``Telephony.TextBasedSmsColumns``), ``body``, ``read``, ``status``, ``date_sent``, ``sub_id``.
* ``threads`` + ``canonical_addresses``: ``recipient_ids`` is a space-separated list of
  ``canonical_addresses._id``, which gives each thread its participants.
* MMS: ``pdu`` (``date`` in **seconds**, ``msg_box`` 1 inbox, 2 sent, 3 drafts, 4 outbox, 5 failed;
  ``m_type`` 128 send_req, 130 notification_ind, 132 retrieve_conf), ``part`` (``mid`` -> pdu,
  ``ct``; ``application/smil`` is layout only; ``text`` holds text parts; ``_data`` is the absolute
  path of the binary under ``app_parts``) and ``addr`` (``msg_id`` -> pdu, ``type`` 137 FROM,
  151 TO, 130 CC, 129 BCC).
* Samsung builds declare ``sms._id`` AUTOINCREMENT (so ``sqlite_sequence`` has an ``sms`` row)
  and mirror every SMS into a Samsung-only ``messages`` table by trigger; only ``sms`` is read,
  so the mirror is never counted twice.

Sources: aosp-mirror/platform_packages_providers_telephonyprovider
``src/com/android/providers/telephony/MmsSmsDatabaseHelper.java`` and ``MmsProvider.java``
(``app_parts``); abrignoni/ALEAPP ``scripts/artifacts/smsmms.py`` (type and msg_box meanings,
``pdu.date`` in seconds, addr types 0x89/0x97/0x82/0x81); kenn-io/msgvault
``internal/synctechsms/types.go`` (addr types). See ``fixtures/sms/README.md``.
"""

from __future__ import annotations

import hashlib
import posixpath
import sqlite3
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from triage.parsers.android_mmssms_recovered import recovered_sms

from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms, from_unix_s
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import Attachment, Conversation, Message, Party, Record
from triage.registry import Match, ParseContext, Parser, Probe
from triage.sqlite_meta import is_autoincrement, table_columns
from triage.sqlite_rows import ChildRows, RecordGuard

SMS_TYPES = {
    1: ("incoming", "inbox"),
    2: ("outgoing", "sent"),
    3: ("outgoing", "draft"),
    4: ("outgoing", "outbox"),
    5: ("outgoing", "failed"),
    6: ("outgoing", "queued"),
    # LG extensions (ALEAPP _LG_EXTENDED_TYPES): 7 blocked, 8 scheduled, 19 broadcast.
    7: ("incoming", "blocked"),
    8: ("outgoing", "scheduled"),
    19: ("incoming", "broadcast"),
}
MMS_BOXES = {
    1: ("incoming", "inbox"),
    2: ("outgoing", "sent"),
    3: ("outgoing", "draft"),
    4: ("outgoing", "outbox"),
    5: ("outgoing", "failed"),
}
ADDR_FROM, ADDR_TO, ADDR_CC, ADDR_BCC = 137, 151, 130, 129
ADDR_ROLES = {ADDR_FROM: "from", ADDR_TO: "to", ADDR_CC: "cc", ADDR_BCC: "bcc"}
# The owner's own FROM address on a sent MMS is often this placeholder (AOSP PduPersister).
OWNER_PLACEHOLDERS = {"insert-address-token"}
SMIL = "application/smil"

SMS_OPTIONAL = ("read", "status", "date_sent", "sub_id", "subject", "locked", "seen", "creator")
PART_OPTIONAL = ("name", "fn", "cl", "cid", "chset")
PDU_OPTIONAL = ("date_sent", "read", "m_id", "sub", "tr_id", "sub_id", "text_only", "locked")

#: MMS tables: read when all are present with these columns.
MMS_TABLES: dict[str, set[str]] = {
    "pdu": {"_id", "thread_id", "date", "msg_box", "m_type"},
    "part": {"_id", "mid", "seq", "ct", "text", "_data"},
    "addr": {"_id", "msg_id", "address", "type"},
}
# Tables that hold message rows this parser does not turn into messages; their rows are
# counted and reported so nothing is dropped silently.
UNREAD_MESSAGE_TABLES = ("spam_sms", "spam_pdu", "im", "ft", "cmas", "sms_changes")

#: Every query this parser runs; ``{extra}`` is filled with the optional columns present.
QUERIES = {
    "canonical_addresses": "SELECT _id, address FROM canonical_addresses",
    "threads": "SELECT _id, recipient_ids FROM threads",
    "sms": "SELECT _id, thread_id, address, date, type, body{extra} FROM sms ORDER BY _id",
    "pdu": "SELECT _id, thread_id, date, msg_box, m_type{extra} FROM pdu ORDER BY _id",
    # Children sorted by parent id so they can be merged with pdu rows as they stream past.
    "part": "SELECT mid, _id, seq, ct, text, _data{extra} FROM part ORDER BY mid, seq, _id",
    "addr": "SELECT msg_id, _id, address, type FROM addr ORDER BY msg_id, _id",
    "count": 'SELECT COUNT(*) FROM "{table}"',
}


def query(name: str, extra: list[str] | None = None, **names: str) -> str:
    """The named query with optional columns appended (names come from our own constants)."""
    return QUERIES[name].format(extra="".join(f", {c}" for c in extra or []), **names)


AOSP_SMS_NOTE = (
    "AOSP sms._id has no AUTOINCREMENT: the newest ids can be reused after deletion, so only "
    "interior gaps mean anything"
)


@lru_cache(maxsize=8192)
def cached_party(raw: str | None, region: str, name: str | None = None) -> Party | None:
    """:func:`triage.identity.party`, memoised: a phone holds many messages from few numbers,
    and number parsing dominates the cost of a row. Parties are frozen, so sharing is safe."""
    return party(raw, region, name=name)


def duplicate_key_sms(address: Any, date: Any, sms_type: Any, body: Any) -> str:
    """Same SMS seen in another copy (an SMS Backup & Restore XML holds the fields as-is)."""
    digest = hashlib.sha256(str(body or "").encode("utf-8")).hexdigest()[:16]
    return f"android-sms:{address or ''}:{date}:{sms_type}:{digest}"


def duplicate_key_mms(date_s: Any, box: Any, m_id: Any, tr_id: Any) -> str:
    return f"android-mms:{date_s}:{box}:{m_id or ''}:{tr_id or ''}"


def mms_parties(
    direction: str, by_role: dict[str, list[Party]], ctx: ParseContext, fallback: list[Party]
) -> tuple[Party | None, list[Party]]:
    """Sender and recipients of an MMS from its addresses by PDU role (from/to/cc/bcc).

    Direction comes from the message box, never from the addresses: for sent MMS the FROM row
    is the owner, often only a placeholder token. ``fallback`` stands in for the other parties
    when the addresses name none (the thread's members, or every address given).
    """
    owner = ctx.owner_party()
    others = by_role["to"] + by_role["cc"] + by_role["bcc"]
    if direction == "incoming":
        sender = by_role["from"][0] if by_role["from"] else (fallback[0] if fallback else None)
        # The owner's own number in TO is already the owner party.
        members = [p for p in others if not ctx.is_owner(p)]
        return sender_and_recipients("incoming", owner, sender, members, is_group=True)
    if direction == "outgoing":
        return sender_and_recipients("outgoing", owner, None, others or fallback, is_group=True)
    # Unknown box: the PDU's own address rows still say who it was from and to.
    return (by_role["from"][0] if by_role["from"] else None), others


def resolve_part(file: EvidenceFile, data_path: str) -> EvidenceFile | None:
    """The ``app_parts`` file a ``part._data`` absolute path names, found by basename inside the
    extraction (device paths mean nothing here; ALEAPP resolves them the same way)."""
    base = posixpath.basename(data_path.replace("\\", "/"))
    if not base:
        return None
    found = file.container.find_suffix(f"app_parts/{base}") or file.container.find_suffix(base)
    return found[0] if found else None


class AndroidMmsSms(Parser):
    name = "android_mmssms"
    version = "3"
    description = "Android telephony database mmssms.db (SMS and MMS; AOSP and Samsung)"
    # A phone's own database is a fuller copy than an SMS Backup & Restore XML of the same data.
    priority = 20
    required_tables = {
        "sms": {"_id", "thread_id", "address", "date", "type", "body"},
        "threads": {"_id", "recipient_ids"},
        "canonical_addresses": {"_id", "address"},
    }

    def match(self, probe: Probe) -> Match | None:
        found = super().match(probe)
        if found is not None and all(
            t in probe.schema and cols <= probe.schema[t] for t, cols in MMS_TABLES.items()
        ):
            found.score += sum(len(c) for c in MMS_TABLES.values())
        return found

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            threads = self._threads(conn)
            samsung = self._samsung(conn, file, ctx)
            yield from self._sms(conn, file, ctx, threads, samsung)
            yield from recovered_sms(
                file, ctx, threads, self._conversation, cached_party, SMS_TYPES, self.provenance
            )
            if all(cols <= table_columns(conn, t) for t, cols in MMS_TABLES.items()):
                yield from self._mms(conn, file, ctx, threads)
            else:
                ctx.warn(file.logical, "no MMS tables", "pdu/part/addr missing or incomplete")
            for table in UNREAD_MESSAGE_TABLES:
                if self._has_table(conn, table):
                    count = conn.execute(query("count", table=table)).fetchone()[0]
                    if count:
                        ctx.warn(
                            file.logical,
                            "message table not read",
                            f"{table}: {count} rows (not turned into messages)",
                        )

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _has_table(conn: sqlite3.Connection, table: str) -> bool:
        return (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
            ).fetchone()
            is not None
        )

    def _threads(self, conn: sqlite3.Connection) -> dict[int, list[str]]:
        addresses = dict(conn.execute(query("canonical_addresses")))
        threads: dict[int, list[str]] = {}
        for thread_id, recipient_ids in conn.execute(query("threads")):
            ids = [int(x) for x in str(recipient_ids or "").split() if x.isdigit()]
            threads[thread_id] = [addresses[i] for i in ids if i in addresses]
        return threads

    def _samsung(self, conn: sqlite3.Connection, file: EvidenceFile, ctx: ParseContext) -> bool:
        """Recognise Samsung's variant: AUTOINCREMENT ``sms`` plus its mirror ``messages``."""
        mirror = self._has_table(conn, "messages")
        auto = is_autoincrement(conn, "sms")
        if not (mirror or auto):
            return False
        facts: dict[str, Any] = {"variant": "samsung" if mirror and auto else "oem"}
        if mirror:
            mirrored = conn.execute(query("count", table="messages")).fetchone()[0]
            sms_rows = conn.execute(query("count", table="sms")).fetchone()[0]
            facts["messages_table"] = (
                f"Samsung mirror of sms ({mirrored} rows, sms has {sms_rows}); read sms only so "
                "no message is counted twice"
            )
            if mirrored != sms_rows:
                ctx.warn(
                    file.logical,
                    "Samsung mirror table differs from sms",
                    f"messages has {mirrored} rows, sms has {sms_rows}",
                )
        ctx.decide(file.logical, **facts)
        return mirror and auto

    @staticmethod
    def _conversation(thread_id: Any, members: list[str], ctx: ParseContext) -> Conversation:
        parties = [cached_party(a, ctx.region) for a in members]
        return Conversation(
            id=f"sms:thread:{thread_id}",
            title=", ".join(members) or None,
            is_group=len(members) > 1,
            participants=[p for p in parties if p is not None],
        )

    # -- SMS -------------------------------------------------------------------------------------
    def _sms(
        self,
        conn: sqlite3.Connection,
        file: EvidenceFile,
        ctx: ParseContext,
        threads: dict[int, list[str]],
        samsung: bool,
    ) -> Iterator[Record]:
        columns = table_columns(conn, "sms")
        optional = [c for c in SMS_OPTIONAL if c in columns]
        ids: list[int] = []
        guard = RecordGuard(ctx, file.logical)
        owner = ctx.owner_party()
        for row in conn.execute(query("sms", optional)):
            rowid, thread_id, address, date, sms_type, body = row[:6]
            ids.append(rowid)
            locator = f"sms._id={rowid}"
            with guard(locator):
                members = threads.get(thread_id) or ([address] if address else [])
                conversation = self._conversation(thread_id, members, ctx)
                if sms_type not in SMS_TYPES:
                    ctx.warn(file.logical, "unknown sms.type", f"{locator}: type={sms_type}")
                direction, box = SMS_TYPES.get(sms_type, ("unknown", f"type {sms_type}"))
                counterpart = cached_party(address, ctx.region) if address else None
                # A draft's or failed message's address is whom it was for, not who sent it: no
                # sender is named for a message of unknown direction.
                sender, recipients = sender_and_recipients(
                    direction,
                    owner,
                    counterpart if direction in ("incoming", "outgoing") else None,
                    conversation.participants,
                )
                timestamp = from_unix_ms(date)
                if timestamp is None:
                    ctx.warn(file.logical, "message without a date", locator)
                extra: dict[str, Any] = {"box": box, "type": sms_type}
                extra.update(
                    {k: v for k, v in zip(optional, row[6:], strict=True) if v is not None}
                )
                sent = extra.get("date_sent")
                if isinstance(sent, int) and sent > 0:
                    stamp = from_unix_ms(sent)
                    extra["date_sent_utc"] = stamp.isoformat() if stamp else None
                yield Message(
                    platform="sms",
                    conversation=conversation,
                    timestamp_utc=timestamp,
                    timestamp_raw=str(date),
                    zone_assumed=False,
                    direction=direction,
                    sender=sender,
                    recipients=[r for r in recipients if r is not None],
                    body=body,
                    kind="text",
                    source=self.provenance(file, locator),
                    record_id=rowid,
                    extra=extra,
                    duplicate_key=duplicate_key_sms(address, date, sms_type, body),
                    id_space="sms",
                )
        auto = is_autoincrement(conn, "sms")
        note = AOSP_SMS_NOTE
        if auto:
            note = (
                "sms._id is AUTOINCREMENT (Samsung): ids are never reused; sqlite_sequence "
                "holds the high-water mark"
                + ("; the Samsung 'messages' mirror table was not read" if samsung else "")
            )
        yield self.sqlite_id_space(file, conn, "sms", "_id", ids, note=note)

    # -- MMS -------------------------------------------------------------------------------------
    def _mms(
        self,
        conn: sqlite3.Connection,
        file: EvidenceFile,
        ctx: ParseContext,
        threads: dict[int, list[str]],
    ) -> Iterator[Record]:
        pdu_cols = table_columns(conn, "pdu")
        optional = [c for c in PDU_OPTIONAL if c in pdu_cols]
        part_cols = table_columns(conn, "part")
        part_optional = [c for c in PART_OPTIONAL if c in part_cols]
        pdus = conn.execute(query("pdu", optional))
        # Children are read in the same order as the pdu rows and merged as we go, so memory
        # stays bounded by one message whatever the size of the table.
        parts = ChildRows(conn.cursor().execute(query("part", part_optional)))
        addrs = ChildRows(conn.cursor().execute(query("addr")))
        ids: list[int] = []
        guard = RecordGuard(ctx, file.logical)
        for row in pdus:
            pdu_id, thread_id, date, box, m_type = row[:5]
            ids.append(pdu_id)
            locator = f"pdu._id={pdu_id}"
            with guard(locator):
                extra: dict[str, Any] = {"m_type": m_type, "msg_box": box}
                extra.update(
                    {k: v for k, v in zip(optional, row[5:], strict=True) if v is not None}
                )
                if box not in MMS_BOXES:
                    ctx.warn(file.logical, "unknown pdu.msg_box", f"{locator}: msg_box={box}")
                direction, box_name = MMS_BOXES.get(box, ("unknown", f"msg_box {box}"))
                extra["box"] = box_name

                by_role: dict[str, list[Party]] = {"from": [], "to": [], "cc": [], "bcc": []}
                for _, addr_id, address, addr_type in addrs.take(pdu_id):
                    role = ADDR_ROLES.get(addr_type)
                    if role is None:
                        ctx.warn(
                            file.logical, "unknown addr.type", f"addr._id={addr_id}: {addr_type}"
                        )
                        continue
                    if not address or address in OWNER_PLACEHOLDERS:
                        continue
                    p = cached_party(address, ctx.region)
                    if p is not None:
                        by_role[role].append(p)

                texts: list[str] = []
                attachments: list[Attachment] = []
                part_notes: list[dict[str, Any]] = []
                for part_row in parts.take(pdu_id):
                    _, part_id, seq, ct, text, data_path = part_row[:6]
                    names = dict(zip(part_optional, part_row[6:], strict=True))
                    ct_lower = (ct or "").lower()
                    if ct_lower == SMIL:
                        continue  # presentation layout, not content
                    if ct_lower.startswith("text/plain") and text is not None:
                        texts.append(text)
                        continue
                    if not data_path:
                        if text is not None:
                            texts.append(text)
                        else:
                            ctx.warn(
                                file.logical,
                                "MMS part without text or file",
                                f"part._id={part_id} ({ct})",
                            )
                        continue
                    label = names.get("cl") or names.get("fn") or names.get("name")
                    found = resolve_part(file, data_path)
                    if found is None:
                        attachments.append(
                            Attachment(
                                name=label or posixpath.basename(data_path),
                                mime=ct,
                                note=f"part._id={part_id}: {data_path} not in the extraction",
                            )
                        )
                        ctx.warn(file.logical, "MMS part file missing", f"part._id={part_id}")
                    else:
                        attachments.append(
                            Attachment(
                                name=label or found.name,
                                path=found.logical,
                                sha256=found.sha256,
                                mime=ct,
                                size=found.size,
                            )
                        )
                    part_notes.append({"part_id": part_id, "seq": seq, "_data": data_path})
                if part_notes:
                    extra["parts"] = part_notes

                members = threads.get(thread_id) or [p.raw for p in by_role["to"] + by_role["from"]]
                conversation = self._conversation(thread_id, members, ctx)
                sender, recipients = mms_parties(
                    direction, by_role, ctx, fallback=list(conversation.participants)
                )

                timestamp = from_unix_s(date)
                if timestamp is None:
                    ctx.warn(file.logical, "message without a date", locator)
                body = "\n".join(texts) if texts else None
                # When a part file is missing here, a backup copy of the same MMS (an SMS Backup &
                # Restore XML holds the bytes inline) may be the only source of the picture: then
                # both copies are kept rather than this incomplete one winning de-duplication.
                key: str | None = duplicate_key_mms(
                    date, box, extra.get("m_id"), extra.get("tr_id")
                )
                if any(a.path is None for a in attachments):
                    key = None
                    extra["not_deduplicated"] = "a part file is missing; other copies are kept"
                subject = extra.get("sub")
                if subject:
                    extra["subject"] = subject
                yield Message(
                    platform="mms",
                    conversation=conversation,
                    timestamp_utc=timestamp,
                    timestamp_raw=str(date),
                    zone_assumed=False,
                    direction=direction,
                    sender=sender,
                    recipients=recipients,
                    body=body,
                    kind="media" if attachments else "text",
                    source=self.provenance(file, locator),
                    attachments=attachments,
                    record_id=pdu_id,
                    extra=extra,
                    duplicate_key=key,
                    id_space="pdu",
                )
        parts.finish()
        addrs.finish()
        leftover = parts.orphans + addrs.orphans
        if leftover:
            ctx.warn(
                file.logical,
                "MMS parts or addresses without a pdu row",
                f"{parts.orphans} part rows, {addrs.orphans} addr rows point at missing pdu ids",
            )
        yield self.sqlite_id_space(
            file,
            conn,
            "pdu",
            "_id",
            ids,
            note="pdu date is in seconds; part and addr rows are deleted with their pdu",
        )
