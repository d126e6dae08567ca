""" "SMS Backup & Restore" XML backups (SyncTech, ``com.riteshsahu.SMSBackupRestore``).

Versions: the ``<smses count=...>`` format written by the app from at least v7 (2014) to the
current releases; optional attributes (``backup_set``, ``backup_date``, ``sub_id``,
``readable_date``, ``contact_name``) may be present or not.

* ``<sms>``: ``address``, ``date`` (ms since the Unix epoch, UTC), ``type`` (1 received, 2 sent,
  3 draft, 4 outbox, 5 failed, 6 queued), ``body``, ``read``, ``status``, ``date_sent``,
  ``contact_name``; values are copied as-is from the phone's database.
* ``<mms>``: ``date`` (ms here, unlike ``pdu.date``), ``msg_box`` (1 inbox, 2 sent, 3 draft,
  4 outbox, 5 failed), ``address`` (``~``-joined for group messages), ``m_type``, ``m_id``,
  ``<parts><part seq ct name chset cl fn text data/>`` (``application/smil`` is layout,
  ``text/plain`` parts carry ``text``, binaries carry base64 ``data``) and
  ``<addrs><addr address type/>`` (137 FROM, 151 TO, 130 CC, 129 BCC).
* The literal string ``"null"`` means NULL. ``readable_date``/``contact_name`` are renderings in
  the phone's locale and zone: never used for time.
* ``<smses count>`` is advisory; a mismatch with the elements present is reported.

The file is read by streaming (``defusedxml.ElementTree.iterparse``, every element cleared once
read), because backups with inline media reach several GB. Locators are XPath-style, 1-based:
``smses/sms[12]``, ``smses/mms[3]``, ``smses/mms[3]/parts/part[2]``.

Sources: SyncTech "Fields in XML Backup Files"
(https://synctech.com.au/sms-backup-restore/fields-in-xml-backup-files/); kenn-io/msgvault
``internal/synctechsms/parser.go`` and ``types.go``; phillipgreenii/mobilecombackup
``testdata/it/scenerio-00/to_process/sms-test.xml`` (real sample) and
``pkg/calls/xml_reader_test.go`` (count mismatch). See ``fixtures/sms/README.md``.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from triage.parsers.android_mmssms import (
    ADDR_ROLES,
    MMS_BOXES,
    OWNER_PLACEHOLDERS,
    SMIL,
    SMS_TYPES,
    cached_party,
    duplicate_key_mms,
    duplicate_key_sms,
    mms_parties,
)
from triage.parsers.sms_backup_stream import UNKNOWN_NAMES, BackupElements, as_int, value

from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.model import Attachment, Conversation, Message, Party, Record
from triage.registry import Match, ParseContext, Parser, Probe

_ROOT = re.compile(r"<smses[\s>]")
# base64 is decoded in slices of this many characters (a multiple of 4) so a large inline
# video never needs its decoded bytes in memory at once.
B64_SLICE = 4 * 256 * 1024


class SmsBackupXml(Parser):
    name = "sms_backup_xml"
    version = "2"
    description = '"SMS Backup & Restore" XML backup (SMS and MMS)'
    # A backup is a copy of the phone's mmssms.db: when both are present, the database is kept.
    priority = 10

    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        head = probe.text_head()
        if not _ROOT.search(head):
            return None
        score = 30 + (10 if "SMS Backup & Restore" in head else 0)
        return Match(self, score)

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        stream = BackupElements(file, ctx, "smses", ("sms", "mms"), "records")
        for tag, n, elem in stream:
            locator = f"smses/{tag}[{n}]"
            try:
                if tag == "sms":
                    yield self._sms(file, ctx, elem, locator)
                else:
                    yield self._mms(file, ctx, elem, locator)
            except (ValueError, OSError) as exc:
                ctx.warn(file.logical, "unreadable element", f"{locator}: {exc}")
        seen, declared = stream.seen, stream.declared
        total = seen["sms"] + seen["mms"]
        if declared is not None and declared != total:
            ctx.warn(
                file.logical,
                "count mismatch",
                f'<smses count="{declared}"> but the file holds {total} messages '
                f"({seen['sms']} sms, {seen['mms']} mms)",
            )
        ctx.decide(file.logical, sms_elements=seen["sms"], mms_elements=seen["mms"])

    # -- SMS -------------------------------------------------------------------------------------
    def _sms(self, file: EvidenceFile, ctx: ParseContext, elem: Element, locator: str) -> Message:
        address = value(elem, "address")
        date = value(elem, "date")
        sms_type = as_int(value(elem, "type"))
        body = value(elem, "body")
        if sms_type not in SMS_TYPES:
            ctx.warn(file.logical, "unknown sms type", f"{locator}: type={elem.get('type')}")
        direction, box = SMS_TYPES.get(sms_type or -1, ("unknown", f"type {sms_type}"))
        name = value(elem, "contact_name")
        name = None if name in UNKNOWN_NAMES else name
        addresses = [a for a in (address or "").split("~") if a]
        parties = [p for a in addresses if (p := cached_party(a, ctx.region, name)) is not None]
        owner = ctx.owner_party()
        sender, recipients = sender_and_recipients(
            direction,
            owner,
            parties[0] if parties and direction == "incoming" else None,
            parties,
            is_group=direction != "incoming",
        )
        timestamp = from_unix_ms(as_int(date))
        if timestamp is None:
            ctx.warn(file.logical, "message without a date", locator)
        extra: dict[str, Any] = {"box": box, "type": sms_type}
        for key in ("read", "status", "date_sent", "sub_id", "subject", "locked", "protocol"):
            v = value(elem, key)
            if v is not None:
                extra[key] = as_int(v) if key != "subject" else v
        if name:
            extra["contact_name"] = name
        return Message(
            platform="sms",
            conversation=self._conversation(addresses, parties, name),
            timestamp_utc=timestamp,
            timestamp_raw=str(date),
            zone_assumed=False,
            direction=direction,
            sender=sender,
            recipients=recipients,
            body=body,
            kind="text",
            source=self.provenance(file, locator),
            extra=extra,
            duplicate_key=duplicate_key_sms(address, date, sms_type, body),
        )

    @staticmethod
    def _conversation(
        addresses: list[str], parties: list[Party], title: str | None
    ) -> Conversation:
        key = sorted({p.id or p.raw for p in parties}) or ["(no address)"]
        return Conversation(
            id="sms:addresses:" + "~".join(key),
            title=title or ", ".join(addresses) or None,
            is_group=len(key) > 1,
            participants=parties,
        )

    # -- MMS -------------------------------------------------------------------------------------
    def _mms(self, file: EvidenceFile, ctx: ParseContext, elem: Element, locator: str) -> Message:
        date = value(elem, "date")
        box = as_int(value(elem, "msg_box"))
        if box not in MMS_BOXES:
            ctx.warn(file.logical, "unknown mms msg_box", f"{locator}: {elem.get('msg_box')}")
        direction, box_name = MMS_BOXES.get(box or -1, ("unknown", f"msg_box {box}"))
        address = value(elem, "address")
        addresses = [a for a in (address or "").split("~") if a]
        names = [n.strip() for n in (value(elem, "contact_name") or "").split(",")]

        by_role: dict[str, list[Party]] = {"from": [], "to": [], "cc": [], "bcc": []}
        for index, addr in enumerate(elem.iterfind("addrs/addr"), start=1):
            role = ADDR_ROLES.get(as_int(value(addr, "type")) or -1)
            raw = value(addr, "address")
            if role is None:
                ctx.warn(
                    file.logical,
                    "unknown addr type",
                    f"{locator}/addrs/addr[{index}]: {addr.get('type')}",
                )
                continue
            if raw and raw not in OWNER_PLACEHOLDERS:
                p = cached_party(raw, ctx.region)
                if p is not None:
                    by_role[role].append(p)

        texts: list[str] = []
        attachments: list[Attachment] = []
        for index, part in enumerate(elem.iterfind("parts/part"), start=1):
            ct = (value(part, "ct") or "").lower()
            part_loc = f"{locator}/parts/part[{index}]"
            if ct == SMIL:
                continue
            data = value(part, "data")
            text = value(part, "text")
            if data is None:
                if text is not None:
                    texts.append(text)
                elif ct:
                    ctx.warn(file.logical, "MMS part without text or data", part_loc)
                continue
            attachments.append(self._decode_part(file, ctx, part, data, part_loc))

        parties = [p for a in addresses if (p := cached_party(a, ctx.region)) is not None]
        sender, recipients = mms_parties(direction, by_role, ctx, fallback=parties)

        timestamp = from_unix_ms(as_int(date))
        if timestamp is None:
            ctx.warn(file.logical, "message without a date", locator)
        extra: dict[str, Any] = {"box": box_name, "msg_box": box}
        for key in ("m_type", "read", "text_only", "sub_id", "date_sent"):
            v = as_int(value(elem, key))
            if v is not None:
                extra[key] = v
        for key in ("m_id", "tr_id", "sub"):
            v = value(elem, key)
            if v:
                extra[key] = v
        if any(n and n not in UNKNOWN_NAMES for n in names):
            extra["contact_name"] = value(elem, "contact_name")
        date_s = as_int(date) // 1000 if as_int(date) is not None else None
        title = value(elem, "contact_name")
        return Message(
            platform="mms",
            conversation=self._conversation(
                addresses, parties, None if title in UNKNOWN_NAMES else title
            ),
            timestamp_utc=timestamp,
            timestamp_raw=str(date),
            zone_assumed=False,
            direction=direction,
            sender=sender,
            recipients=recipients,
            body="\n".join(texts) if texts else None,
            kind="media" if attachments else "text",
            source=self.provenance(file, locator),
            attachments=attachments,
            extra=extra,
            duplicate_key=duplicate_key_mms(date_s, box, extra.get("m_id"), extra.get("tr_id")),
        )

    def _decode_part(
        self, file: EvidenceFile, ctx: ParseContext, part: Element, data: str, locator: str
    ) -> Attachment:
        """Decode a base64 part to this run's scratch space, hashing as it is written."""
        name = value(part, "cl") or value(part, "fn") or value(part, "name")
        mime = value(part, "ct")
        if any(c in data for c in " \r\n\t"):
            data = "".join(data.split())
        target = file.container.evidence.scratch("mms-part", name or "part")
        digest = hashlib.sha256()
        size = 0
        try:
            with open(target, "wb") as out:
                for start in range(0, len(data), B64_SLICE):
                    chunk = binascii.a2b_base64(data[start : start + B64_SLICE])
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except binascii.Error as exc:
            ctx.warn(file.logical, "bad base64 in MMS part", f"{locator}: {exc}")
            return Attachment(name=name, mime=mime, note=f"{locator}: base64 data not decodable")
        return Attachment(
            name=name,
            path=f"{file.logical}#{locator}",
            sha256=digest.hexdigest(),
            mime=mime,
            size=size,
            note="decoded from the base64 data attribute of the backup",
        )
