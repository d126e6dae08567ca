"""Facebook Messenger end-to-end-encrypted (E2EE) chat export ("secure storage" download).

Format: since Meta moved one-to-one chats to end-to-end encryption, the ordinary download holds
them only up to the switch (section ``e2ee_cutover``); later messages are downloaded separately
from ``messenger.com/secure_storage/dyi`` (sindresorhus/caprine#2195; stepva/chatalysis#104;
adurivault/FBMessage ``README.md``). One JSON file per thread (``<Name>_<N>.json``) beside a shared
``media/`` folder::

    {"participants": ["Me", "Them"], "threadName": "Them",
     "messages": [{"senderName": "Me", "timestamp": 1600000000000, "text": "...",
                   "type": "...", "isUnsent": false, "media": [{"uri": "./media/<uuid>.jpeg"}],
                   "reactions": [{"actor": "Them", "reaction": "..."}]}]}

(kenn-io/msgvault ``internal/fbmessenger/e2ee_parser.go`` ``rawE2EEExport``; ``timestamp`` is
UTC ms.) The text is normally proper UTF-8 (adurivault/FBMessage ``js/pre-processing.js`` applies
no repair), but some exports carry the DYI Latin-1 mojibake (``cafÃ©``): the repair is decided
per file from its own strings (:func:`triage.parsers.messenger_common.decide_mojibake`) and recorded. Messages that are also in the download's
``e2ee_cutover`` thread get the same ``duplicate_key`` as there; the DYI JSON copy has the higher
priority and is kept.

A call entry (``type`` ``Call``, the DYI JSON word, or a text that is one of the download's call
sentences, see :func:`triage.parsers.messenger_common.call_sentence`) is a
:class:`~triage.model.Call`; which ``type`` values an E2EE export writes is not publicly
documented, so this is an assumption named in the fixture README. No duration is given.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from typing import Any

from triage.parsers.messenger_common import (
    PLATFORM,
    DuplicateKeys,
    Owner,
    call_sentence,
    decide_mojibake,
    download_owner,
    download_root,
    entry_result,
    fix_all,
    name_party,
    owner_party,
    resolve_media,
    resolve_owner,
    thread_call,
    thread_participants_json,
)

from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.identity import normalise_name
from triage.model import Conversation, Message, Record
from triage.registry import Match, ParseContext, Parser, Probe
from triage.sqlite_rows import RecordGuard

KNOWN_KEYS = {"senderName", "timestamp", "text", "type", "isUnsent", "media", "reactions"}


def _load(file: EvidenceFile) -> dict[str, Any] | None:
    try:
        with file.open() as handle:
            data = json.loads(handle.read().decode("utf-8-sig"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_e2ee(data: dict[str, Any] | None) -> bool:
    if not data or not isinstance(data.get("participants"), list):
        return False
    if not all(isinstance(p, str) for p in data["participants"]):
        return False
    return isinstance(data.get("messages"), list)


class MessengerE2ee(Parser):
    name = "messenger_e2ee"
    version = "4"
    description = "Facebook Messenger end-to-end-encrypted chat export (secure storage JSON)"
    # Between the download's JSON (fuller thread metadata) and its HTML (minute times).
    priority = 30

    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        head = probe.text_head().lstrip()
        if '"participants"' not in head:
            return None
        if '"senderName"' not in head and '"threadName"' not in head:
            return None
        if '"sender_name"' in head:
            return None
        return Match(self, 30)

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        data = _load(file)
        if not _is_e2ee(data):
            ctx.warn(file.logical, "not an E2EE thread export", "participants/messages missing")
            return
        assert data is not None
        if decide_mojibake(ctx, file, _strings(data)):
            fixed = fix_all(data)
            assert isinstance(fixed, dict)
            data = fixed
        participants = [p for p in data["participants"] if p]
        owner = resolve_owner(file, ctx, participants, self._stated_owner(file, participants))
        title = data.get("threadName") or None
        cutover = self._cutover_thread(file, participants)
        ctx.decide(
            file.logical,
            copy="E2EE secure-storage export: messages after the switch to end-to-end encryption",
            overlaps=cutover.logical if cutover else "no matching DYI e2ee_cutover thread found",
        )
        stem = posixpath.splitext(file.name)[0]
        conv = Conversation(
            id=f"messenger:e2ee:{posixpath.join(file.folder, stem)}",
            title=title,
            is_group=len(participants) > 2,
            participants=[name_party(p) for p in participants],
        )
        rows = list(enumerate(data["messages"]))
        rows.sort(key=lambda r: (_stamp(r[1]), -r[0]))
        keys = DuplicateKeys(participants)
        me = owner_party(ctx, owner)
        guard = RecordGuard(ctx, file.logical)
        for index, raw in rows:
            locator = f"{file.name} messages[{index}]"
            with guard(locator):
                if not isinstance(raw, dict):
                    ctx.warn(file.logical, "message is not an object", locator)
                    continue
                unknown = set(raw) - KNOWN_KEYS
                if unknown:
                    ctx.warn(file.logical, "unknown message key", f"{locator}: {sorted(unknown)}")
                stamp = raw.get("timestamp")
                when = from_unix_ms(stamp) if isinstance(stamp, int | float) else None
                if when is None:
                    ctx.warn(file.logical, "message without a date", locator)
                sender_name = raw.get("senderName")
                text = raw.get("text") if isinstance(raw.get("text"), str) and raw["text"] else None
                attachments = [
                    resolve_media(file, str(m["uri"]), [file.folder], ctx, locator)
                    for m in raw.get("media") or []
                    if isinstance(m, dict) and m.get("uri")
                ]
                unsent = bool(raw.get("isUnsent"))
                kind = (
                    "deleted" if unsent else "media" if attachments else "text" if text else "other"
                )
                others = [name_party(p) for p in participants if not owner.is_name(p)]
                if owner.is_name(sender_name):
                    direction, author = "outgoing", me
                else:
                    author = name_party(sender_name) if sender_name else None
                    direction = "incoming" if owner.known else "unknown"
                sender, recipients = sender_and_recipients(
                    direction, me, author, others, is_group=True
                )
                key = keys.key(sender_name, when, text, len(attachments))
                said = call_sentence(text)
                if (
                    not unsent
                    and not attachments
                    and (str(raw.get("type") or "").casefold() == "call" or said is not None)
                ):
                    way = direction if direction in ("incoming", "outgoing") else "unknown"
                    yield thread_call(
                        direction=way,
                        caller=author if way != "outgoing" else None,
                        others=others,
                        is_group=conv.is_group,
                        source=self.provenance(file, locator),
                        timestamp_utc=when,
                        timestamp_raw=str(stamp),
                        result=entry_result(way, None, False, said[1] if said else None),
                        result_code=f"type={raw.get('type')}",
                        conversation_id=conv.id,
                        duplicate_key=key,
                        extra={
                            "sender_name": sender_name,
                            "content": text,
                            "time_basis": "time of the call entry in the thread",
                        },
                    )
                    continue
                extra: dict[str, Any] = {"sender_name": sender_name}
                if raw.get("type"):
                    extra["type"] = raw["type"]
                if raw.get("reactions"):
                    extra["reactions"] = raw["reactions"]
                if unsent:
                    extra["is_unsent"] = True
                yield Message(
                    platform=PLATFORM,
                    conversation=conv,
                    timestamp_utc=when,
                    timestamp_raw=str(stamp),
                    zone_assumed=False,
                    direction=direction,
                    sender=sender,
                    recipients=recipients,
                    body=text,
                    kind=kind,
                    source=self.provenance(file, locator),
                    deleted=unsent,
                    attachments=attachments,
                    extra=extra,
                    duplicate_key=key,
                )

    @staticmethod
    def _cutover_thread(file: EvidenceFile, participants: list[str]) -> EvidenceFile | None:
        """The download's ``e2ee_cutover`` thread with the same participants, if in the evidence."""
        wanted = {normalise_name(p) for p in participants}
        for member, other in _all_files(file):
            if "/e2ee_cutover/" not in f"/{member}" or other.name != "message_1.json":
                continue
            found = {normalise_name(p) for p in thread_participants_json(other)}
            if found == wanted:
                return other
        return None

    @staticmethod
    def _stated_owner(file: EvidenceFile, participants: list[str]) -> Owner:
        """Whose export this is: the owner a download in the same evidence names, else the one
        participant present in every E2EE thread file of this folder (two files at least)."""
        for _, other in _all_files(file):
            if other.name == "message_1.json" and download_root(other) is not None:
                stated = download_owner(other, "json")
                if stated.known and any(stated.is_name(p) for p in participants):
                    return Owner(
                        stated.name, None, f"download in the same evidence: {stated.basis}"
                    )
        common: set[str] | None = None
        names: dict[str, str] = {}
        count = 0
        for member, other in sorted(file.container.files.items()):
            if posixpath.dirname(member) != file.folder or not member.endswith(".json"):
                continue
            data = _load(other)
            if not _is_e2ee(data):
                continue
            assert data is not None
            count += 1
            folded = {normalise_name(p): p for p in data["participants"] if p}
            names.update(folded)
            common = set(folded) if common is None else common & set(folded)
        if count >= 2 and common is not None and len(common) == 1:
            only = next(iter(common))
            return Owner(names[only], None, f"only participant in all {count} E2EE thread files")
        return Owner(None, None, "export does not say whose it is")


def _all_files(file: EvidenceFile) -> Iterator[tuple[str, EvidenceFile]]:
    """Every file of every input of this run: the download may be given as a separate input."""
    for container in file.container.evidence.containers:
        yield from sorted(container.files.items())


def _strings(data: dict[str, Any]) -> Iterator[object]:
    """The human-written strings of an export, the evidence for or against mojibake."""
    yield from data.get("participants") or []
    yield data.get("threadName")
    for raw in data.get("messages") or []:
        if isinstance(raw, dict):
            yield raw.get("senderName")
            yield raw.get("text")
            for reaction in raw.get("reactions") or []:
                if isinstance(reaction, dict):
                    yield reaction.get("actor")
                    yield reaction.get("reaction")


def _stamp(raw: Any) -> float:
    stamp = raw.get("timestamp") if isinstance(raw, dict) else None
    return stamp if isinstance(stamp, int | float) else float("inf")
