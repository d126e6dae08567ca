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
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from parsers.android_mmssms import (
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
from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.model import Attachment, Conversation, Message, Party, Record
from triage.registry import Match, ParseContext, Parser, Probe

_ROOT = re.compile(r"<smses[\s>]")
# base64 is decoded in slices of this many characters (a multiple of 4) so a large inline
# video never needs its decoded bytes in memory at once.
B64_SLICE = 4 * 256 * 1024
UNKNOWN_NAMES = {"(Unknown)", ""}
# iterparse asks its source for 16 KiB at a time; expat rescans an unfinished token on every
# feed, so a multi-megabyte base64 attribute fed in 16 KiB pieces costs quadratic time.
# Larger reads keep it linear while memory stays bounded by one chunk plus one element.
READ_CHUNK = 4 * 1024 * 1024
# With its "store emojis" option the app writes each UTF-16 surrogate as its own character
# reference ("&#55357;&#56846;"), which XML forbids and expat rejects ("reference to invalid
# character number"; see README). Pairs are rejoined into one reference, lone halves become
# U+FFFD, and the repair is counted and reported.
_CHARREF = re.compile(rb"&#(x[0-9a-fA-F]+|[0-9]+);")
_SURROGATE_PAIR = re.compile(rb"&#(x[0-9a-fA-F]+|[0-9]+);&#(x[0-9a-fA-F]+|[0-9]+);")


def _codepoint(ref: bytes) -> int:
    return int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)


class _RepairingReader:
    """A binary stream for iterparse: large reads, surrogate character references repaired."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.pending = b""
        self.repaired = 0

    def _pair(self, match: re.Match[bytes]) -> bytes:
        high, low = _codepoint(match.group(1)), _codepoint(match.group(2))
        if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
            self.repaired += 1
            combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            return b"&#%d;" % combined
        return match.group(0)

    def _lone(self, match: re.Match[bytes]) -> bytes:
        if 0xD800 <= _codepoint(match.group(1)) <= 0xDFFF:
            self.repaired += 1
            return b"&#65533;"
        return match.group(0)

    def read(self, size: int = -1) -> bytes:
        data = self.pending + self.stream.read(max(size, READ_CHUNK))
        self.pending = b""
        if not data:
            return b""
        # Hold back a possibly split reference (a surrogate pair is 16 bytes) for the next read.
        cut = data.find(b"&", max(0, len(data) - 32))
        if cut != -1 and len(data) >= READ_CHUNK:
            data, self.pending = data[:cut], data[cut:]
        if b"&#" in data:
            data = _SURROGATE_PAIR.sub(self._pair, data)
            data = _CHARREF.sub(self._lone, data)
        return data


def value(elem: Element, key: str) -> str | None:
    """An attribute with the literal ``"null"`` read as NULL."""
    raw = elem.get(key)
    return None if raw is None or raw == "null" else raw


def as_int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


class SmsBackupXml(Parser):
    name = "sms_backup_xml"
    version = "2"
    description = '"SMS Backup & Restore" XML backup (SMS and MMS)'
    # A backup is a copy of the phone's mmssms.db: when both are present, the database is kept.
    priority = 10

    def match(self, probe: Probe) -> Match | None:
        if probe.is_sqlite:
            return None
        head = probe.text_head()
        if not head.lstrip().startswith("<") or not _ROOT.search(head):
            return None
        score = 30 + (10 if "SMS Backup & Restore" in head else 0)
        return Match(self, score)

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        declared: int | None = None
        seen = {"sms": 0, "mms": 0}
        root: Element | None = None
        depth = 0
        with file.open() as handle:
            reader = _RepairingReader(handle)
            events = iterparse(reader, events=("start", "end"))
            try:
                for event, elem in events:
                    if event == "start":
                        depth += 1
                        if depth == 1:
                            root = elem
                            if elem.tag != "smses":
                                ctx.warn(file.logical, "unexpected root element", elem.tag)
                            declared = as_int(elem.get("count"))
                            ctx.decide(
                                file.logical,
                                backup_count=elem.get("count"),
                                backup_date=elem.get("backup_date"),
                                backup_set=elem.get("backup_set"),
                            )
                        continue
                    depth -= 1
                    if depth != 1:
                        continue  # children of <mms> are read with their parent
                    tag = elem.tag
                    if tag in seen:
                        seen[tag] += 1
                        locator = f"smses/{tag}[{seen[tag]}]"
                        try:
                            if tag == "sms":
                                yield self._sms(file, ctx, elem, locator)
                            else:
                                yield self._mms(file, ctx, elem, locator)
                        except (ValueError, OSError) as exc:
                            ctx.warn(file.logical, "unreadable element", f"{locator}: {exc}")
                    else:
                        ctx.warn(file.logical, "unknown element", f"<{tag}> under <smses>")
                    # Drop what has been read: the element and the root's reference to it.
                    elem.clear()
                    if root is not None:
                        root.clear()
            except DefusedXmlException as exc:
                # DTD entities or external references: refused, as a backup never has them.
                ctx.warn(file.logical, "XML refused", f"{type(exc).__name__}: {exc}")
            except ParseError as exc:
                line, column = getattr(exc, "position", (0, 0))
                ctx.warn(
                    file.logical,
                    "XML not well-formed",
                    f"line {line} column {column}: {exc} (records before it were read)",
                )
            if reader.repaired:
                ctx.warn(
                    file.logical,
                    "surrogate character references repaired",
                    f"{reader.repaired} UTF-16 surrogate references (emoji) rejoined or replaced",
                )
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
