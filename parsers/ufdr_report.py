"""Cellebrite UFDR: the decoded models of ``report.xml`` (UFED Physical Analyzer / Reader reports).

A ``.ufdr`` is a zip with ``report.xml`` at its root and the extracted files beside it
(DFIRScience/UFDR2DIR ``README.md``, ``ufdr2dir.py`` opens ``report.xml`` from the zip); the zip is
walked by :mod:`triage.evidence` like any archive, its tagged files are shown under their paths on
the phone (:mod:`triage.ufdr_files`), this parser reads ``report.xml`` (streamed by
:mod:`triage.parsers.ufdr_xml`) and the raw databases beside it are read by their own parsers.

Models read (field names as in sepinf-inc/IPED
``iped-parsers/iped-parsers-impl/src/main/java/iped/parsers/ufed/model/{Chat,InstantMessage,Party,
Contact,Accountable,UserAccount,BaseModel}.java`` and ``UfedXmlReader.java``):

* ``Chat`` (``Source``, ``Id``, ``Name``, ``ChatType``, ``Participants``, ``Messages``) and its
  nested ``InstantMessage`` (``From``, ``To``, ``Body``, ``TimeStamp``, ``Identifier``, ``Status``,
  ``Type``, ``Attachments``); an ``InstantMessage`` also at top level;
* ``SMS``, ``MMS``, ``Call`` (``Parties`` with ``Role`` From/To, ``Type`` Incoming/Outgoing/Missed,
  ``Folder``, ``Status``, ``Duration``, ``VideoCall``);
* ``Contact`` (``Name``, ``Source``, ``Account``, ``Entries`` of ``PhoneNumber``/``EmailAddress``/
  ``UserID``/``ContactEntry`` models with ``Value``) and ``UserAccount`` (the owner's accounts).

Facts kept: ``deleted_state`` on every record (``Deleted`` and ``Trash`` mean deleted, IPED
``BaseModel.isDeleted``), ``decoding_confidence``, the device time zone from the metadata item
``DeviceInfoTimeZone``; times are ISO 8601 with their offset (so UTC is exact). Models are not in
time order and a model id is read once (a message may appear in its chat and again at top level;
embedded/quoted messages inside a message are not messages of their own). Provenance names the
model type and id, ``source_index`` and the ``jumptargets`` file (the raw database Cellebrite
decoded it from, by its original path).

Calls are :class:`~triage.model.Call` records (network from ``Source``, direction and result from
``Type``, ``Duration`` as ``HH:MM:SS``).

Duplicates: when the raw database is inside the same UFDR, its own parser reads it too; this
parser has the lowest priority so that copy is ingested first and kept, and UFDR messages carry
the same ``duplicate_key`` the database parsers give: WhatsApp
``whatsapp:<chat jid>:<from_me>:<key id>`` from the chat ``Id`` and the message ``Identifier``
(that ``Identifier`` holds WhatsApp's ``key_id`` is unconfirmed on real reports: where it does
not, the keys do not meet and both copies are kept);
Android SMS from the address, millisecond time, type and body (``parsers/android_mmssms.py``);
iMessage ``ios-message:<Identifier>`` (``sms.db`` keys by ``message.guid``; that Cellebrite's
``Identifier`` is that guid is unconfirmed, and a key that is not simply meets nothing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from triage.parsers.android_mmssms import cached_party, duplicate_key_sms
from triage.parsers.ufdr_xml import ChatHeader, TaggedFile, UModel, read_report
from triage.parsers.whatsapp_common import conversation_id as whatsapp_conversation_id

from triage.addressing import sender_and_recipients
from triage.clock import local_to_utc
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import (
    Attachment,
    Call,
    CallDirection,
    CallNetwork,
    CallResult,
    ContactEntry,
    Conversation,
    Message,
    Party,
    Record,
)
from triage.registry import Match, ParseContext, Parser, Probe
from triage.views import shown_as

#: Namespace of Cellebrite's report schema (onbernard/ufdr-rs tests; IPED UfedXmlReader).
CELLEBRITE_NS = "http://pa.cellebrite.com/report/2.0"
MESSAGE_MODELS = {"InstantMessage", "SMS", "MMS"}
OWNER_ROLES_FROM = {"from"}


def platform_of(source: str | None, model_type: str) -> str:
    if model_type == "SMS":
        return "sms"
    if model_type == "MMS":
        return "mms"
    text = (source or "").lower()
    if "whatsapp" in text:
        return "whatsapp"
    if "messenger" in text or "facebook" in text:
        return "messenger"
    if "imessage" in text:
        return "imessage"
    if text in ("sms", "native messages"):
        return "sms"
    return "other"


def parse_timestamp(text: str | None) -> tuple[datetime | None, bool]:
    """A UFDR ``TimeStamp``: ISO 8601, normally with its offset. Returns (aware time, has zone)."""
    if not text:
        return None, False
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None, False
    if value.tzinfo is None:
        return value, False
    return value.astimezone(UTC), True


def parse_duration(text: str | None) -> float | None:
    """A UFDR ``Duration``: ``HH:MM:SS`` (a ``TimeSpan``) or plain seconds."""
    if not text:
        return None
    parts = text.strip().split(":")
    try:
        if len(parts) == 1:
            return float(parts[0])
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
        return seconds
    except ValueError:
        return None


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1", "yes")


class UfdrReport(Parser):
    name = "ufdr_report"
    version = "1"
    description = "Cellebrite UFDR report.xml (decoded chats, messages, SMS/MMS, calls, contacts)"
    # Lowest of all: a raw database inside the same UFDR is the copy kept.
    priority = 1

    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        head = probe.text_head()[:4096]
        if CELLEBRITE_NS in head or "reportVersion" in head:
            return Match(self, 100)
        return None

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        reader = _Reader(self, file, ctx)
        with file.open() as stream:
            yield from reader.run(stream)


class _Reader:
    def __init__(self, parser: UfdrReport, file: EvidenceFile, ctx: ParseContext) -> None:
        self.parser = parser
        self.file = file
        self.ctx = ctx
        self.tagged: dict[str, TaggedFile] = {}
        self.seen: set[int] = set()
        self.device_zone: str | None = None
        self.device: dict[str, str] = {}
        self.accounts: list[dict[str, Any]] = []
        self.owner_ids: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.not_read: Counter[str] = Counter()
        self.deleted = 0
        self.conversations: dict[str, Conversation] = {}

    # -- driver --------------------------------------------------------------------------------
    def run(self, stream: Any) -> Iterator[Record]:
        for event in read_report(stream):
            if event.kind == "tagged_file" and event.tagged is not None:
                self.tagged[event.tagged.id] = event.tagged
            elif event.kind == "metadata" and event.name and event.value:
                if event.name == "DeviceInfoTimeZone":
                    self.device_zone = event.value
                elif event.attrs.get("section") == "Device Info" and len(self.device) < 40:
                    self.device[event.name] = event.value
            elif event.kind == "chat_message" and event.model is not None:
                yield from self._once(event.model, event.chat)
            elif event.kind == "model" and event.model is not None:
                if event.model.type == "Chat":
                    continue  # its messages were handed over one by one
                yield from self._once(event.model, None)
        facts: dict[str, Any] = {
            "ufdr_models_read": dict(sorted(self.counts.items())),
            "ufdr_deleted_records": self.deleted,
            "ufdr_tagged_files": len(self.tagged),
        }
        if self.not_read:
            facts["ufdr_models_not_read"] = dict(sorted(self.not_read.items()))
        if self.device_zone:
            facts["ufdr_device_timezone"] = self.device_zone
        if self.device:
            facts["ufdr_device_info"] = dict(sorted(self.device.items()))
        if self.accounts:
            facts["ufdr_user_accounts"] = self.accounts
        self.ctx.decide(self.file.logical, **facts)

    def _once(self, model: UModel, chat: ChatHeader | None) -> Iterator[Record]:
        if model.id:
            key = hash(model.id)
            if key in self.seen:
                return
            self.seen.add(key)
        if model.type not in MESSAGE_MODELS | {"Call", "Contact", "UserAccount"}:
            self.not_read[model.type] += 1
            self.ctx.warn(
                self.file.logical,
                f"UFDR {model.type} models not read (not messages, calls or contacts)",
                self.locator(model),
            )
            return
        self.counts[model.type] += 1
        if model.is_deleted:
            self.deleted += 1
        if model.type == "Call":
            yield self._call(model)
        elif model.type in MESSAGE_MODELS:
            record = self._message(model, chat)
            if record is not None:
                yield record
        elif model.type == "Contact":
            yield self._contact(model)
        else:
            self._account(model)

    # -- provenance ----------------------------------------------------------------------------
    def locator(self, model: UModel) -> str:
        text = f"{model.type} model id={model.id}"
        index = model.attrs.get("source_index")
        if index:
            text += f" source_index={index}"
        for target, is_model in model.jumptargets[:2]:
            tagged = None if is_model else self.tagged.get(target)
            where = tagged.path if tagged and tagged.path else target
            text += f" jumptarget={where}"
        return text

    # -- parties -------------------------------------------------------------------------------
    def party_of(self, model: UModel) -> Party | None:
        raw = model.get("Identifier")
        name = model.get("Name")
        if raw is None and name is None:
            return None
        if raw is None:
            return Party(raw=name or "", id=None, name=name, scheme="name")
        return cached_party(raw, self.ctx.region, name)

    def is_owner(self, model: UModel) -> bool:
        if _truthy(model.get("IsPhoneOwner")):
            return True
        ident = model.get("Identifier")
        return bool(ident) and ident in self.owner_ids

    @staticmethod
    def is_system(model: UModel) -> bool:
        text = f"{model.get('Identifier') or ''} {model.get('Name') or ''}".lower()
        return "system message" in text

    # -- messages ------------------------------------------------------------------------------
    def _message(self, model: UModel, chat: ChatHeader | None) -> Message | None:
        ctx = self.ctx
        source_app = model.get("Source") or (chat.model.get("Source") if chat else None)
        platform = platform_of(source_app, model.type)
        when, has_zone = parse_timestamp(model.get("TimeStamp") or model.get("StartTime"))
        zone_assumed = False
        if when is not None and not has_zone:
            when, zone_assumed = self._local(model, when), True
        elif when is None:
            ctx.warn(self.file.logical, "message without a time", self.locator(model))

        sender_model = (model.children("From") or [None])[0]
        to_models = list(model.children("To"))
        for p in model.children("Parties") + model.children("Participants"):
            role = (p.get("Role") or "").lower()
            if role == "from" and sender_model is None:
                sender_model = p
            elif role in ("to", "cc", "bcc", "parties", ""):
                to_models.append(p)

        direction = self._direction(model, sender_model)
        participants = [
            p
            for p in (
                self.party_of(m)
                for m in (chat.participants if chat else [])
                if not self.is_owner(m) and not self.is_system(m)
            )
            if p is not None
        ]
        addressed = [p for p in (self.party_of(m) for m in to_models if not self.is_owner(m)) if p]
        if direction == "outgoing":
            counterpart = addressed[0] if addressed else None
            members = addressed or participants
        else:
            counterpart = self.party_of(sender_model) if sender_model is not None else None
            if counterpart is None and model.type in ("SMS", "MMS"):
                counterpart = addressed[0] if addressed else None
            members = participants
        if direction == "system":
            counterpart = None
        chat_type = (chat.model.get("ChatType") or "").lower() if chat else ""
        is_group = chat_type == "group" or (chat_type != "oneonone" and len(members) > 1)
        sender, recipients = sender_and_recipients(
            direction, self.ctx.owner_party(), counterpart, members, is_group
        )
        conversation = self._conversation(model, chat, platform, sender, recipients, direction)
        body = model.get("Body") or model.get("Snippet")
        attachments = self._attachments(model)
        kind = self._kind(model, body, attachments, direction)
        extra: dict[str, Any] = {
            "ufdr_model": model.type,
            "deleted_state": model.deleted_state,
        }
        for key in ("decoding_confidence", "source_index", "extractionId"):
            if model.attrs.get(key):
                extra[key] = model.attrs[key]
        for name in ("Status", "Type", "Folder", "Label", "Platform", "Subject", "Identifier"):
            if model.get(name):
                extra[name.lower()] = model.get(name)
        if source_app:
            extra["app"] = source_app
        if direction == "outgoing" and sender_model is not None and sender_model.get("Identifier"):
            # The owner is one party whatever his identifier; the one this app knows him by is kept.
            extra["owner_identifier"] = sender_model.get("Identifier")
        if self.device_zone:
            extra["device_timezone"] = self.device_zone
        embedded = sum(
            len(v) for k, v in model.models.items() if k not in ("From", "To", "Attachments")
        )
        if embedded:
            extra["embedded_models"] = embedded

        return Message(
            platform=platform,
            conversation=conversation,
            timestamp_utc=when,
            timestamp_raw=model.get("TimeStamp") or model.get("StartTime") or "",
            zone_assumed=zone_assumed,
            direction=direction,
            sender=sender,
            recipients=recipients,
            body=body,
            kind=kind,
            source=self.parser.provenance(self.file, self.locator(model)),
            deleted=model.is_deleted,
            edited="edited" in (model.get("Label") or "").lower(),
            attachments=attachments,
            extra=extra,
            duplicate_key=self._duplicate_key(model, conversation, direction, when, sender, body),
        )

    def _direction(self, model: UModel, sender: UModel | None) -> str:
        kind = (model.get("Type") or model.get("Direction") or "").lower()
        folder = (model.get("Folder") or "").lower()
        status = (model.get("Status") or "").lower()
        if model.type in ("SMS", "MMS", "Call"):
            if (
                kind in ("outgoing",)
                or folder in ("sent", "outbox")
                or status in ("sent", "unsent")
            ):
                return "outgoing"
            if kind in ("incoming", "missed", "rejected") or folder == "inbox":
                return "incoming"
        if sender is not None:
            if self.is_system(sender):
                return "system"
            return "outgoing" if self.is_owner(sender) else "incoming"
        if kind == "outgoing":
            return "outgoing"
        if kind == "incoming":
            return "incoming"
        return "unknown"

    @staticmethod
    def _kind(
        model: UModel, body: str | None, attachments: list[Attachment], direction: str
    ) -> str:
        if direction == "system":
            return "system"
        if attachments:
            return "media"
        if body:
            return "text"
        return "other"

    def _conversation(
        self,
        model: UModel,
        chat: ChatHeader | None,
        platform: str,
        sender: Party | None,
        recipients: list[Party],
        direction: str,
    ) -> Conversation:
        other = sender if direction == "incoming" else (recipients[0] if recipients else None)
        if chat is not None:
            header = chat.model
            chat_id = header.get("Id")
            parts = [
                p
                for p in (self.party_of(m) for m in chat.participants if not self.is_owner(m))
                if p
            ]
            if platform == "whatsapp":
                jid = chat_id if chat_id and "@" in chat_id else None
                if jid is None and len(parts) == 1 and "@" in parts[0].raw:
                    jid = parts[0].raw
                key = whatsapp_conversation_id(jid) if jid else f"ufdr:chat:{header.id}"
            else:
                key = f"ufdr:{platform}:{chat_id or header.id}"
            if key not in self.conversations:
                chat_type = (header.get("ChatType") or "").lower()
                is_group = chat_type == "group" or (
                    chat_type not in ("oneonone",)
                    and (len(parts) > 1 or bool(chat_id and chat_id.endswith("@g.us")))
                )
                title = header.get("Name") or ", ".join(p.name or p.raw for p in parts) or None
                self.conversations[key] = Conversation(
                    id=key, title=title, is_group=is_group, participants=parts
                )
            return self.conversations[key]
        ident = other.raw if other is not None else "unknown"
        if platform == "whatsapp" and "@" in ident:
            key = whatsapp_conversation_id(ident)
        else:
            key = f"ufdr:{platform}:{other.id if other and other.id else ident}"
        if key not in self.conversations:
            self.conversations[key] = Conversation(
                id=key,
                title=(other.name or other.raw) if other else None,
                participants=[other] if other else [],
            )
        return self.conversations[key]

    def _duplicate_key(
        self,
        model: UModel,
        conversation: Conversation,
        direction: str,
        when: datetime | None,
        sender: Party | None,
        body: str | None,
    ) -> str | None:
        ident = model.get("Identifier")
        if (
            conversation.id.startswith("whatsapp:")
            and ident
            and direction in ("incoming", "outgoing")
        ):
            jid = conversation.id.split(":", 1)[1]
            key = f"whatsapp:{jid}:{int(direction == 'outgoing')}:{ident}"
            return key + (
                ":deleted"
                if model.type == "InstantMessage" and not body and model.is_deleted
                else ""
            )
        if ident and conversation.id.startswith("ufdr:imessage:"):
            # iOS sms.db keys its rows by message.guid (parsers/ios_sms.py); a UFDR Identifier
            # that is that guid meets it, any other value meets nothing.
            return f"ios-message:{ident}"
        if model.type == "SMS" and when is not None and direction in ("incoming", "outgoing"):
            party_models = model.children("Parties") + model.children("From") + model.children("To")
            address = next(
                (
                    m.get("Identifier")
                    for m in party_models
                    if not self.is_owner(m) and m.get("Identifier")
                ),
                None,
            )
            ms = int(when.timestamp() * 1000)
            return duplicate_key_sms(address, ms, 2 if direction == "outgoing" else 1, body)
        return None

    # -- calls ---------------------------------------------------------------------------------
    def _call(self, model: UModel) -> Call:
        """A ``Call`` model as a call record: ``Type`` Incoming/Outgoing/Missed/Rejected
        (IPED ``UfedXmlReader.java``), the parties by ``Role``, ``Duration``, ``VideoCall``."""
        source_app = model.get("Source")
        text = (source_app or "").lower()
        network: CallNetwork = "cellular"
        if "whatsapp" in text:
            network = "whatsapp"
        elif "messenger" in text or "facebook" in text:
            network = "messenger"
        elif "facetime" in text:
            network = "facetime"
        elif text and text not in ("phone", "native", "call log", "cellular", "telephony"):
            network = "other"
        kind = (model.get("Type") or model.get("Direction") or "").lower()
        direction: CallDirection = "unknown"
        if kind == "outgoing":
            direction = "outgoing"
        elif kind in ("incoming", "missed", "rejected"):
            direction = "incoming"
        duration = parse_duration(model.get("Duration"))
        result: CallResult = "unknown"
        if kind == "missed":
            result = "missed"
        elif kind == "rejected":
            result = "rejected"
        elif duration:
            result = "answered"
        elif direction == "outgoing" and duration == 0:
            result = "not_answered"
        parties = [
            p
            for p in (
                self.party_of(m)
                for m in model.children("Parties") + model.children("From") + model.children("To")
                if not self.is_owner(m)
            )
            if p is not None
        ]
        when, has_zone = parse_timestamp(model.get("TimeStamp") or model.get("StartTime"))
        zone_assumed = False
        if when is not None and not has_zone:
            when, zone_assumed = self._local(model, when), True
        counterpart = parties[0] if parties else None
        conversation_id = None
        if network == "whatsapp" and counterpart is not None and "@" in counterpart.raw:
            conversation_id = whatsapp_conversation_id(counterpart.raw)
        video = model.get("VideoCall")
        extra: dict[str, Any] = {"ufdr_model": "Call", "deleted_state": model.deleted_state}
        for key in ("decoding_confidence", "source_index", "extractionId"):
            if model.attrs.get(key):
                extra[key] = model.attrs[key]
        if self.device_zone:
            extra["device_timezone"] = self.device_zone
        if model.get("Duration"):
            extra["duration_raw"] = model.get("Duration")
        return Call(
            network=network,
            timestamp_utc=when,
            timestamp_raw=model.get("TimeStamp") or model.get("StartTime") or "",
            direction=direction,
            result=result,
            source=self.parser.provenance(self.file, self.locator(model)),
            duration_s=duration,
            counterpart=counterpart,
            participants=parties[1:],
            is_group=len(parties) > 1,
            video=_truthy(video) if video is not None else None,
            conversation_id=conversation_id,
            app=source_app,
            result_code=f"Type={model.get('Type')}" if model.get("Type") else None,
            zone_assumed=zone_assumed,
            deleted=model.is_deleted,
            extra=extra,
            # msgstore.db keys its calls by call_log.call_id (parsers/whatsapp_android.py); a UFDR
            # Identifier that is that id meets it (unconfirmed), any other value meets nothing.
            duplicate_key=(
                f"whatsapp:call:{model.get('Identifier')}"
                if network == "whatsapp" and model.get("Identifier")
                else None
            ),
        )

    def _local(self, model: UModel, when: datetime) -> datetime:
        """A zone-less UFDR time read in the device's zone (else the case's), with a warning."""
        zone = self.device_zone or self.ctx.timezone_name
        try:
            utc, note = local_to_utc(when, ZoneInfo(zone))
        except (KeyError, ValueError):
            utc, note = local_to_utc(when, self.ctx.timezone)
        self.ctx.warn(
            self.file.logical,
            "time without offset read in the device time zone",
            f"{self.locator(model)}: {model.get('TimeStamp')} read in {zone}"
            + (f" ({note})" if note else ""),
        )
        return utc

    # -- attachments ---------------------------------------------------------------------------
    def _attachments(self, model: UModel) -> list[Attachment]:
        out: list[Attachment] = []
        seen: set[str] = set()
        for att in model.children("Attachments") + model.children("Attachment"):
            file_id = att.attrs.get("file_id")
            if file_id and file_id in seen:
                continue  # embedded copies repeat the same file (IPED test fixture)
            if file_id:
                seen.add(file_id)
            out.append(self._attachment(att, file_id))
        return out

    def _attachment(self, att: UModel, file_id: str | None) -> Attachment:
        tagged = self.tagged.get(file_id) if file_id else None
        local = (tagged.local_path if tagged else None) or att.get("attachment_extracted_path")
        name = att.get("Filename") or (
            (tagged.path or local or "").replace("\\", "/").rsplit("/", 1)[-1] or None
        )
        mime = att.get("ContentType")
        md5 = tagged.md5 if tagged else None
        recorded_sha = tagged.sha256 if tagged else None
        found = self.file.relative(local) if local else None
        if found is not None:
            found = shown_as(found)  # listed under its path on the phone (triage.ufdr_files)
        notes = []
        if md5:
            notes.append(f"MD5 recorded in the UFDR: {md5}")
        if tagged and tagged.path:
            notes.append(f"on the phone at {tagged.path}")
        if tagged and (tagged.deleted or "").lower() == "deleted":
            notes.append("file marked deleted in the UFDR")
        if found is None:
            if local:
                notes.append(f"not in the UFDR: {local}")
            elif file_id and tagged is None:
                notes.append(f"file_id {file_id} not in taggedFiles")
            else:
                notes.append("no file in the UFDR")
            return Attachment(
                name=name, mime=mime, source_hash=recorded_sha, note="; ".join(notes) or None
            )
        sha = found.sha256
        if recorded_sha and recorded_sha != sha:
            notes.append(f"SHA-256 recorded in the UFDR differs: {recorded_sha}")
        return Attachment(
            name=name,
            path=found.logical,
            sha256=sha,
            mime=mime,
            size=found.size,
            source_hash=recorded_sha,
            note="; ".join(notes) or None,
        )

    # -- contacts and accounts -----------------------------------------------------------------
    def _entries(self, model: UModel) -> list[tuple[str, str, str | None]]:
        out = []
        for name, children in model.models.items():
            if name not in ("Entries", "PhoneNumbers", "EmailAddresses", "UserIDs"):
                continue
            for entry in children:
                value = entry.get("Value")
                if value:
                    out.append((entry.type, value, entry.get("Category")))
        return out

    def _contact(self, model: UModel) -> ContactEntry:
        identifiers = []
        for kind, value, _category in self._entries(model):
            scheme = "email" if kind == "EmailAddress" else None
            found = cached_party(value, self.ctx.region, None) if scheme is None else None
            if scheme == "email":
                found = party(value, self.ctx.region, scheme="email")
            if found is not None:
                identifiers.append(found)
        extra: dict[str, Any] = {"deleted_state": model.deleted_state, "ufdr_model": "Contact"}
        for name in ("Source", "Account", "Type", "Group"):
            if model.get(name):
                extra[name.lower()] = model.get(name)
        return ContactEntry(
            name=model.get("Name"),
            identifiers=identifiers,
            source=self.parser.provenance(self.file, self.locator(model)),
            extra=extra,
        )

    def _account(self, model: UModel) -> None:
        values = [value for _kind, value, _cat in self._entries(model)]
        if model.get("Username"):
            values.append(model.get("Username") or "")
        self.owner_ids.update(values)
        self.accounts.append(
            {
                "app": model.get("Source"),
                "name": model.get("Name"),
                "username": model.get("Username"),
                "identifiers": values,
                "locator": self.locator(model),
            }
        )
