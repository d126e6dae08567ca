"""Helpers shared by the WhatsApp database parsers (Android ``msgstore.db``, iOS ``ChatStorage.sqlite``).

This module defines no parser. It holds what both platforms need to agree on so the same chat and
the same person meet in the case store whichever phone they came from:

* conversation ids are ``whatsapp:<chat jid>`` (``whatsapp:447700900123@s.whatsapp.net``,
  ``whatsapp:120363012345678901@g.us``); a chat stored under a linked-device ``@lid`` jid uses the
  phone jid ``jid_map`` resolves it to, as WhatsApp-Chat-Exporter does
  (KnugiHK/WhatsApp-Chat-Exporter:Whatsapp_Chat_Exporter/android_handler.py
  ``_get_messages_cursor_new``, ``COALESCE(lid_global.raw_string, jid_global.raw_string)``);
* Status updates (``status@broadcast``) are kept apart from chats: they expire after 24 hours and
  would otherwise look like deletions (app string ``status_expire_explanation`` in
  starkdmi/whats_json ``tool/patterns_generator/data/Android Strings/values/strings.xml``);
* media paths recorded by the app are relative to the app's media root, so they are looked up by
  path suffix anywhere in the extraction, never by building a path by hand.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Callable
from typing import Any

from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import Attachment, Party

STATUS_JID = "status@broadcast"
PLATFORM = "whatsapp"
# Both database parsers outrank the text-export parser: a database row carries ids, exact UTC times
# and deletion evidence that an export line lacks, so its copy is the one kept.
DB_PRIORITY = 20


def jid_string(user: str | None, server: str | None, raw: str | None) -> str | None:
    """The jid as written: ``raw_string`` when stored, else ``user@server`` (older ``jid`` rows)."""
    if raw:
        return str(raw)
    if user is None and server is None:
        return None
    return f"{user or ''}@{server or ''}"


def copy_key(sender: Party | None, key_id: Any, kind: str, deleted: bool) -> str | None:
    """``Message.copy_key`` of a WhatsApp message: its author and ``key_id``.

    The sending app assigns the message id and every copy keeps it (the sender's own, each
    recipient's, every group member's: ``key_id`` on Android, ``ZSTANZAID`` on iOS), while
    ``from_me`` and, in a one-to-one chat, the chat jid depend on whose phone holds the copy. The
    author is the normalised sender, the device owner's own identifier on his outgoing copy. App
    notices get none (each phone writes its own); a message deleted for everyone keeps apart
    from a live copy of it, so both are shown."""
    if not key_id or kind == "system" or sender is None or not sender.id:
        return None
    return f"{PLATFORM}:{sender.id}:{key_id}" + (":deleted" if deleted else "")


def text_value(value: Any) -> tuple[str | None, bool]:
    """A body as text. Some rows hold the body as a BLOB (KnugiHK android_handler.py
    ``_process_binary_message`` handles the same case); it is decoded with replacement and the
    second value says so, for the caller to warn."""
    if value is None or isinstance(value, str):
        return value, False
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace"), True
    return str(value), False


def is_status_jid(jid: str | None) -> bool:
    return jid == STATUS_JID


def conversation_id(chat_jid: str | None) -> str:
    return f"{PLATFORM}:{chat_jid or 'unknown'}"


def is_group_jid(jid: str | None) -> bool:
    return bool(jid) and str(jid).endswith("@g.us")


def jid_party(
    jid: str | None, region: str, name: str | None = None, resolved: str | None = None
) -> Party | None:
    """A party for a jid. ``resolved`` is the phone jid an ``@lid`` jid maps to: the party then
    keeps the ``@lid`` as its raw value but is identified (scheme "phone") by the number."""
    if jid is None:
        return None
    if resolved:
        found = party(resolved, region, name=name)
        if found is not None and found.scheme == "phone":
            return Party(raw=jid, id=found.id, name=name, scheme="phone")
    return party(jid, region, name=name)


def whatsapp_id_to_jid(value: str | None) -> str | None:
    """iOS ``ZWHATSAPPID`` holds either a full jid or only its user part (IPED
    WAContactsExtractorIOS.java appends ``@s.whatsapp.net`` when missing)."""
    if not value:
        return None
    value = str(value).strip()
    return value if "@" in value else f"{value}@s.whatsapp.net"


def file_hash_hex(value: Any) -> str | None:
    """Hex of a base64 digest as WhatsApp stores ``file_hash``/``media_hash`` (44 characters for a
    32-byte SHA-256), or ``None`` when it is not valid base64."""
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def find_media(file: EvidenceFile, candidates: list[str]) -> tuple[EvidenceFile | None, str | None]:
    """Find a media file recorded by the app inside the extraction.

    ``candidates`` are suffixes to try in order (most specific first). Returns the file and a note
    when the choice needs explaining (several files end the same way)."""
    for candidate in candidates:
        if not candidate:
            continue
        found = file.container.find_suffix(candidate)
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            names = ", ".join(f.logical for f in found[:3])
            return found[0], f"{len(found)} files end with {candidate!r}; first used ({names})"
    return None, None


def media_candidates(recorded: str | None) -> list[str]:
    """Suffixes to search for a recorded media path: as recorded, then from the media root on."""
    if not recorded:
        return []
    path = str(recorded).replace("\\", "/")
    out = [path.lstrip("/")]
    # Older rows hold absolute device paths (/storage/emulated/0/WhatsApp/Media/...); the part
    # from "Media/" on is what every extraction layout shares.
    marker = path.find("/Media/")
    if marker >= 0:
        out.append(path[marker + 1 :])
    return list(dict.fromkeys(out))


def build_attachment(
    file: EvidenceFile,
    recorded_path: str | None,
    *,
    name: str | None = None,
    mime: str | None = None,
    size: int | None = None,
    source_hash: str | None = None,
    candidates: list[str] | None = None,
    not_recorded_note: str = "no local file recorded (media not downloaded or already removed)",
) -> Attachment:
    """An :class:`Attachment` for a media row: located and hashed when the file is in the
    extraction; the digest the app recorded is kept either way."""
    search = candidates if candidates is not None else media_candidates(recorded_path)
    found, note = find_media(file, search)
    display = name or (posixpath.basename(str(recorded_path)) if recorded_path else None)
    if found is None:
        if recorded_path:
            note = f"not found in the extraction: {recorded_path}"
        else:
            note = not_recorded_note
        return Attachment(
            name=display, mime=mime, size=size, source_hash=source_hash or None, note=note
        )
    sha256 = found.sha256
    recorded_hex = file_hash_hex(source_hash)
    if recorded_hex is not None:
        verdict = (
            "recorded file_hash matches the file's SHA-256"
            if recorded_hex == sha256
            else "recorded file_hash differs from the file's SHA-256 (file changed or replaced)"
        )
        note = f"{note}; {verdict}" if note else verdict
    return Attachment(
        name=display or found.name,
        path=found.logical,
        sha256=sha256,
        mime=mime,
        size=found.size,
        source_hash=source_hash or None,
        note=note,
    )


class PartyCache:
    """Parties built once per identifier: a large database repeats the same few hundred jids
    millions of times, and phone-number parsing is the slow part of building one."""

    def __init__(self, build: Callable[[Any], Party | None]) -> None:
        self._build = build
        self._cache: dict[Any, Party | None] = {}

    def get(self, key: Any) -> Party | None:
        if key not in self._cache:
            self._cache[key] = self._build(key)
        return self._cache[key]
