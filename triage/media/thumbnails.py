"""Previews apps keep of pictures, matched against the exhibits as "thumbnail matches".

A messaging app keeps a small JPEG of every picture it shows in a chat, and that preview often
outlives the picture: WhatsApp for Android stores it in ``msgstore.db``
(``message_thumbnail.thumbnail``, legacy ``message_thumbnails``/``messages.raw_data``), WhatsApp
for iOS as a ``.thumb`` file named by ``ZWAMEDIAITEM.ZXMPPTHUMBPATH``, and Android's gallery as
files under ``DCIM/.thumbnails``. The parsers carry the previews forward on the message's
:class:`~triage.model.Attachment` (``thumbnail``); the case store keeps them; this module hashes the
ones held as bytes through the same pipeline as every other picture, so a thumbnail is compared
with the exhibits exactly like a file, and says which matches are previews and how small they are.

A preview is a lead of lower weight than a full copy: at about 100 px it keeps the picture's
layout (what pHash measures) but not its detail, so the report states its resolution next to the
exhibit's.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from triage.media.cache import HashRecord
from triage.media.hashes import hash_bytes

# Folder names Android's media scanner and gallery apps keep previews in (AOSP MediaStore kept
# MINI_KIND thumbnails under DCIM/.thumbnails; WhatsApp for iOS writes ``<uuid>.thumb`` files).
THUMBNAIL_FOLDERS = (".thumbnails", ".thumbs", "thumbs", ".thumbcache")
THUMBNAIL_SUFFIXES = (".thumb",)


@dataclass(frozen=True, slots=True)
class StoredThumbnail:
    """One app-kept preview from the case store, with its hash record."""

    key: str  # "thumbnail:<store id>", how matches name it
    message_id: int
    locator: str
    record: HashRecord
    data: bytes


def hash_thumbnails(rows: Iterable[dict[str, Any]]) -> list[StoredThumbnail]:
    """Hash the previews the store holds as bytes (``Store.thumbnails()`` rows). They are ~100 px
    JPEGs of a few kB, so they are decoded in this process; undecodable ones keep their error."""
    out = []
    for row in rows:
        data = row.get("data")
        if not data:
            continue
        out.append(
            StoredThumbnail(
                key=f"thumbnail:{row['id']}",
                message_id=int(row["message_id"]),
                locator=str(row.get("locator") or ""),
                record=hash_bytes(bytes(data)),
                data=bytes(data),
            )
        )
    return out


def is_thumbnail_file(logical: str, known: Collection[str] = ()) -> bool:
    """Whether the evidence file at ``logical`` is a preview: named as one by an app's record
    (``known``), or kept in a preview folder or with a preview suffix."""
    if logical in known:
        return True
    inner = logical.rsplit("!/", 1)[-1]
    parts = inner.split("/")
    if any(part.lower() in THUMBNAIL_FOLDERS for part in parts[:-1]):
        return True
    return posixpath.splitext(parts[-1])[1].lower() in THUMBNAIL_SUFFIXES


def thumbnail_facts(
    record: HashRecord, exhibit_size: tuple[int | None, int | None], **more: Any
) -> dict[str, Any]:
    """What the report says about a preview: its size next to the exhibit's."""
    width, height = record.width, record.height
    facts: dict[str, Any] = {"width": width, "height": height, **more}
    ex_w, ex_h = exhibit_size
    if ex_w and ex_h:
        facts["exhibit_width"], facts["exhibit_height"] = ex_w, ex_h
    if width and height:
        facts["resolution"] = f"{width}x{height}"
        facts["pixels"] = width * height
    return facts
