"""Facebook Messenger "Download Your Information" (DYI) JSON download.

Formats: every DYI message download layout seen up to 2025 —
``messages/<section>/<slug>_<id>/message_N.json`` (pre-2024),
``your_activity_across_facebook/messages/...`` (2024) and ``your_facebook_activity/messages/...``
(2025+), sections ``inbox``, ``archived_threads``, ``filtered_threads``, ``message_requests`` and
``e2ee_cutover`` (kenn-io/msgvault ``internal/fbmessenger/discover.go``).

* One thread is every ``message_N.json`` in its folder, read in numeric order
  (``json_parser.go`` ``^message_(\\d+)\\.json$``); detection of one of them claims the others.
* Thread: ``participants[{name}]`` (as of export), ``title``, ``thread_path``, ``thread_type``,
  ``is_still_participant``. Message: ``sender_name``, ``timestamp_ms`` (UTC ms), ``content``,
  ``type`` (``Generic``/``Share``/``Call``/``Subscribe``/``Unsubscribe``; absent since 2024),
  ``is_unsent``, ``photos``/``videos``/``audio_files``/``files``/``gifs`` ``[{uri,
  creation_timestamp (s)}]``, ``sticker{uri}``, ``share{link, share_text}``, ``call_duration``,
  ``missed``, ``users``, ``reactions[{reaction, actor}]`` (msgvault ``json_parser.go``;
  mlomb/chat-analytics ``tests/samples/messenger/2A_7M.json``).
* Messages are newest first in each file (mlomb/chat-analytics ``MessengerParser.ts`` reverses
  them); they are yielded oldest first per thread.
* Every string is Latin-1-decoded UTF-8 (mojibake) and is repaired per string; some files start
  with a BOM. Media ``uri`` values are relative to the download root (``messages/inbox/...``, in
  newer layouts sometimes without the activity folder), resolved inside the evidence only.
* There are no user ids: parties are display names (scheme ``name``).
* A ``Call`` entry (``type`` ``Call``, or ``call_duration`` present when ``type`` is gone) is a
  :class:`~triage.model.Call`, not a message: its sender placed the call, ``call_duration`` is in
  seconds, ``missed`` flags a missed call; missed or 0 s is not connected, longer is answered
  (msgvault ``json_parser.go`` ``renderCallBody``). Its time is the entry's ``timestamp_ms``
  (whether that is the start or the end of the call is not documented). Its ``duplicate_key`` is
  the one the entry would have as a message, so the HTML copy of the call meets it.
* A shared link (``share.link``) is kept in the body after the text. A damaged
  ``message_N.json`` (cut short, broken part-way) is named in the warnings with the reason; the
  messages before the damage are read, and its siblings are read in full. One bad message (a
  time out of range, a value of the wrong type) is skipped and counted with its locator.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from triage.parsers.messenger_common import (
    MESSAGE_JSON,
    PLATFORM,
    DuplicateKeys,
    Owner,
    call_sentence,
    download_owner,
    download_root,
    entry_result,
    fix_all,
    name_party,
    numbered_siblings,
    owner_party,
    resolve_media,
    resolve_owner,
    thread_call,
)

from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.model import Attachment, Call, Conversation, Message, Party, Record
from triage.registry import Match, ParseContext, Parser, Probe
from triage.sqlite_rows import RecordGuard

MEDIA_LISTS = ("photos", "videos", "audio_files", "files", "gifs")
SYSTEM_TYPES = {"Subscribe", "Unsubscribe"}
KNOWN_TYPES = {"Generic", "Share", "Call", *SYSTEM_TYPES}
KNOWN_KEYS = {
    "sender_name",
    "timestamp_ms",
    "content",
    "type",
    "is_unsent",
    "is_geoblocked_for_viewer",
    "is_unsent_image_by_messenger_kid_parent",
    "reactions",
    "share",
    "call_duration",
    "missed",
    "users",
    "sticker",
    "ip",
    *MEDIA_LISTS,
}


def load_thread_file(file: EvidenceFile) -> dict[str, Any]:
    """One ``message_N.json`` decoded (BOM tolerated) with every string repaired."""
    with file.open() as handle:
        data = json.loads(handle.read().decode("utf-8-sig"))
    if not isinstance(data, dict):
        raise ValueError("top level is not an object")
    fixed = fix_all(data)
    assert isinstance(fixed, dict)
    return fixed


_ARRAY = re.compile(r'"messages"\s*:\s*\[')
_FIELDS = ("participants", "title", "thread_path", "thread_type", "is_still_participant")


def salvage_thread_file(file: EvidenceFile) -> dict[str, Any] | None:
    """What can be read from a damaged ``message_N.json`` (cut short, or broken part-way): the
    thread fields and every message object before the damage, each decoded on its own."""
    with file.open() as handle:
        text = handle.read().decode("utf-8-sig", errors="replace")
    decoder = json.JSONDecoder()
    out: dict[str, Any] = {}
    for key in _FIELDS:
        found = re.search(rf'"{key}"\s*:\s*', text)
        if found:
            try:
                out[key] = decoder.raw_decode(text, found.end())[0]
            except ValueError:
                pass
    array = _ARRAY.search(text)
    messages: list[Any] = []
    if array:
        pos = array.end()
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                break
            try:
                value, pos = decoder.raw_decode(text, pos)
            except ValueError:
                break
            messages.append(value)
    out["messages"] = messages
    if not messages and "participants" not in out:
        return None
    fixed = fix_all(out)
    assert isinstance(fixed, dict)
    return fixed


def read_thread_file(
    file: EvidenceFile, ctx: ParseContext | None
) -> tuple[dict[str, Any] | None, str | None]:
    """``(data, problem)``: a thread file, or what could be salvaged from it and why it could
    not be read whole. With ``ctx`` the problem is reported against the file itself (named in
    the warnings, on stderr and in coverage)."""
    try:
        return load_thread_file(file), None
    except (ValueError, OSError) as exc:
        if isinstance(exc, json.JSONDecodeError):
            problem = (
                f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
                f"(byte {exc.pos:,} of {file.size:,})"
            )
        else:
            problem = f"not readable: {exc}"
    try:
        data = salvage_thread_file(file)
    except OSError:
        data = None
    read = len(data["messages"]) if data else 0
    if ctx is not None:
        if read:
            ctx.file_not_read(
                file.logical,
                f"{problem}; {read:,} message(s) before the damage read",
                category="file partly read",
            )
        else:
            ctx.file_not_read(file.logical, f"{problem}; no message could be read from it")
    return data, problem


class MessengerDyiJson(Parser):
    name = "messenger_dyi_json"
    version = "4"
    description = "Facebook Messenger download (DYI) JSON thread, message_N.json"
    # The fullest copy of a download: ids of sections, reactions, exact ms times.
    priority = 40

    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        head = probe.text_head().lstrip()
        if '"participants"' not in head:
            return None
        if '"sender_name"' not in head and '"thread_path"' not in head:
            return None
        if '"timestamp_ms"' not in head and '"thread_path"' not in head:
            return None
        siblings = []
        if MESSAGE_JSON.match(probe.file.name):
            siblings = [
                f for f in numbered_siblings(probe.file, MESSAGE_JSON) if f is not probe.file
            ]
        return Match(self, 30, claims=siblings)

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        files = numbered_siblings(file, MESSAGE_JSON) if MESSAGE_JSON.match(file.name) else []
        if file not in files:
            files = [file]
        # Each file is read on its own: a damaged one is named and what it holds before the
        # damage is kept; the others are read as usual. Only damaged files stay in memory.
        ranges: dict[int, tuple[float, float] | None] = {}
        salvaged: dict[int, dict[str, Any]] = {}
        first: dict[str, Any] | None = None
        readable = []
        for f in files:
            data, problem = read_thread_file(f, ctx)
            if data is None:
                continue
            readable.append(f)
            ranges[id(f)] = _time_range(data)
            if problem is not None:
                salvaged[id(f)] = data
            if first is None or (problem is None and "participants" not in first):
                first = data
        if first is None:
            return
        participants = [
            p["name"]
            for p in first.get("participants") or []
            if isinstance(p, dict) and p.get("name")
        ]
        title = first.get("title") or None
        thread_path = first.get("thread_path") or self._thread_path(file)
        section = thread_path.split("/")[0] if thread_path else None
        owner = resolve_owner(file, ctx, participants, download_owner(file, "json"))
        decision = {"thread_files": [f.name for f in files], "section": section}
        if section == "e2ee_cutover":
            decision["copy"] = (
                "DYI e2ee_cutover section: messages up to the switch to end-to-end encryption; "
                "later ones are only in the secure-storage (E2EE) export"
            )
        ctx.decide(file.logical, **decision)

        conv = Conversation(
            id=f"messenger:dyi:{thread_path or file.folder}",
            title=title,
            is_group=len(participants) > 2 or first.get("thread_type") == "RegularGroup",
            participants=[name_party(p) for p in participants],
        )
        keys = DuplicateKeys(participants)
        extra_thread = {k: first[k] for k in ("thread_type", "is_still_participant") if k in first}
        guard = RecordGuard(ctx, file.logical)
        for data_file, index, raw in self._in_time_order(readable, ranges, salvaged, ctx):
            with guard(f"{data_file.name} messages[{index}]"):
                yield self._message(
                    file, data_file, index, raw, conv, participants, owner, keys, extra_thread, ctx
                )

    @staticmethod
    def _thread_path(file: EvidenceFile) -> str | None:
        where = download_root(file)
        if where is None:
            return None
        return posixpath.relpath(file.folder, where[1])

    def _in_time_order(
        self,
        files: list[EvidenceFile],
        ranges: dict[int, tuple[float, float] | None],
        salvaged: dict[int, dict[str, Any]],
        ctx: ParseContext,
    ) -> Iterator[tuple[EvidenceFile, int, dict[str, Any]]]:
        """Messages oldest first across the thread's files.

        Files hold consecutive time ranges (message_1 newest), so when their ranges do not overlap
        each file is read and sorted alone, oldest file first, keeping one file in memory; when
        they do overlap, the whole thread is sorted at once (and that is recorded).
        """

        def data(f: EvidenceFile) -> dict[str, Any]:
            return salvaged.get(id(f)) or load_thread_file(f)

        order = list(range(len(files)))[::-1]  # highest N holds the oldest messages
        spans = [r for r in (ranges[id(files[i])] for i in order) if r is not None]
        disjoint = all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
        if not disjoint:
            ctx.decide(
                files[0].logical,
                file_order="time ranges of message_N files overlap; whole thread sorted by time",
            )
            rows = []
            for i in order:
                for j, m in enumerate(data(files[i]).get("messages") or []):
                    rows.append((files[i], j, m))
            yield from sorted(rows, key=_sort_key)
            return
        for i in order:
            rows = [(files[i], j, m) for j, m in enumerate(data(files[i]).get("messages") or [])]
            yield from sorted(rows, key=_sort_key)

    def _message(
        self,
        file: EvidenceFile,
        data_file: EvidenceFile,
        index: int,
        raw: Any,
        conv: Conversation,
        participants: list[str],
        owner: Owner,
        keys: DuplicateKeys,
        extra_thread: dict[str, Any],
        ctx: ParseContext,
    ) -> Message | Call:
        locator = f"{data_file.name} messages[{index}]"
        if not isinstance(raw, dict):
            ctx.warn(file.logical, "message is not an object", locator)
            raw = {}
        unknown = set(raw) - KNOWN_KEYS
        if unknown:
            ctx.warn(file.logical, "unknown message key", f"{locator}: {sorted(unknown)}")
        sender_name = raw.get("sender_name")
        stamp = raw.get("timestamp_ms")
        when = from_unix_ms(stamp) if isinstance(stamp, int | float) else None
        if when is None:
            ctx.warn(file.logical, "message without a date", locator)
        msg_type = raw.get("type")
        if msg_type is not None and msg_type not in KNOWN_TYPES:
            ctx.warn(file.logical, "unknown message type", f"{locator}: type={msg_type}")

        attachments, media_meta = self._attachments(data_file, raw, ctx, locator)
        content = raw.get("content") if isinstance(raw.get("content"), str) else None
        unsent = bool(raw.get("is_unsent"))
        if unsent:
            kind = "deleted"
        elif msg_type == "Call" or "call_duration" in raw:
            kind = "call"
        elif msg_type in SYSTEM_TYPES:
            kind = "system"
        elif attachments:
            kind = "media"
        elif content is not None or raw.get("share"):
            kind = "text"
        else:
            kind = "other"

        sender, recipients, direction = self._parties(
            sender_name, participants, owner, ctx, system=kind == "system"
        )
        if not sender_name:
            ctx.warn(file.logical, "message without a sender", locator)
        key = keys.key(sender_name, when, content or _share_link(raw), len(attachments))
        if kind == "call":
            return self._call(
                raw, data_file, locator, conv, owner, when, stamp, sender, direction, key, ctx
            )

        extra: dict[str, Any] = {"sender_name": sender_name, **extra_thread}
        for k in ("type", "share", "call_duration", "missed", "is_geoblocked_for_viewer"):
            if k in raw:
                extra[k] = raw[k]
        if raw.get("reactions"):
            extra["reactions"] = raw["reactions"]
        if raw.get("users"):
            extra["users"] = [u.get("name") for u in raw["users"] if isinstance(u, dict)]
        if media_meta:
            extra["media"] = media_meta
        if unsent:
            extra["is_unsent"] = True
        body = content
        link = _share_link(raw)
        if link and link not in (content or ""):
            # A shared link is part of what was sent: kept in the body, as the HTML form shows it.
            body = f"{content}\n{link}" if content else link
        return Message(
            platform=PLATFORM,
            conversation=conv,
            timestamp_utc=when,
            timestamp_raw=str(stamp),
            zone_assumed=False,
            direction=direction,
            sender=sender,
            recipients=recipients,
            body=body,
            kind=kind,
            source=self.provenance(data_file, locator),
            deleted=unsent,
            attachments=attachments,
            extra=extra,
            duplicate_key=key,
        )

    def _call(
        self,
        raw: dict[str, Any],
        data_file: EvidenceFile,
        locator: str,
        conv: Conversation,
        owner: Owner,
        when: datetime | None,
        stamp: Any,
        sender: Party | None,
        direction: str,
        key: str,
        ctx: ParseContext,
    ) -> Call:
        """A ``Call`` entry: placed by its sender, ``call_duration`` in seconds, ``missed``."""
        duration = raw.get("call_duration")
        if not isinstance(duration, int | float) or isinstance(duration, bool):
            if duration is not None:
                ctx.warn(data_file.logical, "call_duration is not a number", locator)
            duration = None
        missed = raw.get("missed") is True
        content = raw.get("content") if isinstance(raw.get("content"), str) else None
        said = call_sentence(content)
        way = direction if direction in ("incoming", "outgoing") else "unknown"
        result = entry_result(way, duration, missed, said[1] if said else None)
        others = [p for p in conv.participants if not owner.is_name(p.raw)]
        extra: dict[str, Any] = {
            "sender_name": raw.get("sender_name"),
            "time_basis": "time of the call entry in the thread",
        }
        if content:
            extra["content"] = content
        return thread_call(
            direction=way,
            caller=sender if way != "outgoing" else None,
            others=others,
            is_group=conv.is_group,
            source=self.provenance(data_file, locator),
            timestamp_utc=when,
            timestamp_raw=str(stamp),
            result=result,
            result_code=f"type={raw.get('type')}; call_duration={raw.get('call_duration')}; "
            f"missed={raw.get('missed')}",
            conversation_id=conv.id,
            duration_s=duration,
            duplicate_key=key,
            extra=extra,
        )

    @staticmethod
    def _parties(
        sender_name: str | None,
        participants: list[str],
        owner: Owner,
        ctx: ParseContext,
        system: bool,
    ) -> tuple[Party | None, list[Party], str]:
        me = owner_party(ctx, owner)
        others = [name_party(p) for p in participants if not owner.is_name(p)]
        if owner.is_name(sender_name):
            direction, author = "outgoing", me
        else:
            direction = "incoming" if owner.known else "unknown"
            author = name_party(sender_name) if sender_name else None
        if system:
            direction = "system"
        # Name-only participants: every list is "the group" here, so recipients are all members.
        sender, recipients = sender_and_recipients(direction, me, author, others, is_group=True)
        return sender, recipients, direction

    @staticmethod
    def _attachments(
        data_file: EvidenceFile, raw: dict[str, Any], ctx: ParseContext, locator: str
    ) -> tuple[list[Attachment], list[dict[str, Any]]]:
        items: list[tuple[str, dict[str, Any]]] = []
        for key in MEDIA_LISTS:
            for item in raw.get(key) or []:
                if isinstance(item, dict) and item.get("uri"):
                    items.append((key, item))
        sticker = raw.get("sticker")
        if isinstance(sticker, dict) and sticker.get("uri"):
            items.append(("sticker", sticker))
        if not items:
            return [], []
        bases = _uri_bases(data_file)
        attachments, meta = [], []
        for key, item in items:
            attachments.append(resolve_media(data_file, str(item["uri"]), bases, ctx, locator))
            entry = {"kind": key, "uri": item["uri"]}
            if "creation_timestamp" in item:
                entry["creation_timestamp"] = item["creation_timestamp"]
            meta.append(entry)
        return attachments, meta


def _time_range(data: dict[str, Any]) -> tuple[float, float] | None:
    stamps = [
        m.get("timestamp_ms")
        for m in data.get("messages") or []
        if isinstance(m, dict) and isinstance(m.get("timestamp_ms"), int | float)
    ]
    return (min(stamps), max(stamps)) if stamps else None


def _share_link(raw: dict[str, Any]) -> str | None:
    """A share-only message shows its link as the body in the HTML form; key on it likewise."""
    share = raw.get("share")
    link = share.get("link") if isinstance(share, dict) else None
    return link if isinstance(link, str) else None


def _sort_key(row: tuple[EvidenceFile, int, Any]) -> tuple[float, int]:
    raw = row[2]
    stamp = raw.get("timestamp_ms") if isinstance(raw, dict) else None
    # Within one millisecond the file's newest-first order is reversed, like the whole file.
    return (stamp if isinstance(stamp, int | float) else float("inf"), -row[1])


def _uri_bases(file: EvidenceFile) -> list[str]:
    """Folders a DYI ``uri`` may be relative to: the download root and its activity folder, else
    the folder above ``messages`` (uris start with ``messages/`` or the activity folder)."""
    where = download_root(file)
    if where is None:
        return [file.folder]
    root, messages = where
    bases = [root, posixpath.dirname(messages)]
    return list(dict.fromkeys(bases))
