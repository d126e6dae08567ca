"""Thumbnails kept by Android's gallery in cache files, as pictures the media stage can match.

Two kinds of file hold them (each format in its own module, with its sources):

* the Gallery app's blob cache (:mod:`triage.media.blob_cache`): ``imgcache.0``/``.1``,
  ``mini.*``, ``micro.*``..., whose keys often name the original file and its time;
* the media provider's mini-thumb files (:mod:`triage.media.mini_thumb`):
  ``DCIM/.thumbnails/.thumbdata3-*``, fixed blocks numbered by the picture's database id.

Both are recognised by their structure, never their names. Every thumbnail found keeps its
provenance: the cache file, its SHA-256, the record's number and byte offset, and what the cache
says of the original. Damaged records are counted and reported, and the rest of the file is read.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from triage.evidence import EvidenceFile
from triage.media.blob_cache import (
    is_blob_cache,
    is_blob_index,
    read_blob_file,
    read_blob_index,
)
from triage.media.mini_thumb import BLOCK, looks_like_mini_thumb, read_mini_thumbs

BLOB_CACHE = "Gallery blob cache"
BLOB_INDEX = "Gallery blob cache index"  # read with its data files
MINI_THUMB = "media provider mini-thumb file"


@dataclass(frozen=True, slots=True)
class CachedThumbnail:
    """One thumbnail read from a gallery cache file."""

    key: str  # how matches name it: "<cache file>@<offset>"
    cache: str  # logical path of the cache file
    cache_sha256: str
    cache_format: str
    number: int  # blob number (from 1) or block number (from 0)
    offset: int  # of the record in the cache file
    data: bytes
    facts: dict[str, Any] = field(default_factory=dict)

    def locator(self) -> str:
        what = "blob" if self.cache_format == BLOB_CACHE else "block"
        return f"{posixpath.basename(self.cache)} {what} {self.number} at byte {self.offset:,}"


@dataclass(slots=True)
class GalleryCaches:
    thumbnails: list[CachedThumbnail] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  # one summary per cache file
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (cache file, what and where)


def cache_kind(file: EvidenceFile) -> str | None:
    """Which gallery cache ``file`` is, by its first bytes; None for any other file."""
    if file.size < 4:
        return None
    head = file.head(16)
    if is_blob_cache(head):
        return BLOB_CACHE
    if is_blob_index(head):
        return BLOB_INDEX
    if (
        head[:1] in (b"\x00", b"\x01")
        and file.size > 13
        and looks_like_mini_thumb(file.head(BLOCK))
    ):
        return MINI_THUMB
    return None


def read_gallery_caches(files: Iterable[EvidenceFile]) -> GalleryCaches:
    """The thumbnails of every gallery cache among ``files`` (the evidence's non-pictures)."""
    out = GalleryCaches()
    for file in files:
        try:
            kind = cache_kind(file)
            if kind == BLOB_CACHE:
                _read_blob_cache(file, out)
            elif kind == MINI_THUMB:
                _read_mini_thumb(file, out)
        except OSError as exc:
            out.damaged.append((file.logical, f"cannot read: {exc}"))
    return out


def _read_blob_cache(file: EvidenceFile, out: GalleryCaches) -> None:
    with file.open() as handle:
        data = handle.read()
    found = read_blob_file(data)
    # BlobCache(path) writes path.idx, path.0 and path.1: region n is the data file ".n".
    stem, _, suffix = file.name.rpartition(".")
    index, sibling = None, None
    if stem and suffix in ("0", "1"):
        sibling = file.sibling(f"{stem}.idx")
        if sibling is not None:
            with sibling.open() as handle:
                raw = handle.read()
            index = read_blob_index(raw) if is_blob_index(raw) else None
    live = index.live[int(suffix)] if index is not None else None
    sha = file.sha256
    for blob in found.blobs:
        facts: dict[str, Any] = {
            "cache_key": blob.key.text or None,
            "gallery_item": blob.key.item_path,
            "cache_kind": blob.key.kind,
            "original_path": blob.key.original_path,
            "original_time_utc": _utc(blob.key.timestamp),
            "checksum_ok": blob.checksum_ok,
        }
        if live is not None:
            # A blob its region's index no longer lists was replaced or dropped: still readable.
            facts["in_index"] = (blob.key_hash, blob.offset) in live
        out.thumbnails.append(
            CachedThumbnail(
                key=f"{file.logical}@{blob.offset}",
                cache=file.logical,
                cache_sha256=sha,
                cache_format=BLOB_CACHE,
                number=blob.number,
                offset=blob.offset,
                data=blob.jpeg,
                facts={k: v for k, v in facts.items() if v is not None},
            )
        )
    for offset, reason in found.problems:
        out.damaged.append((file.logical, f"at byte {offset:,}: {reason}"))
    out.files.append(
        {
            "file": file.logical,
            "sha256": sha,
            "format": BLOB_CACHE,
            "thumbnails": len(found.blobs),
            "damaged": len(found.problems),
            "without_picture": found.without_picture,
            "index": sibling.logical if index is not None else None,
            "listed_in_index": sum(
                1 for b in found.blobs if live and (b.key_hash, b.offset) in live
            )
            if live is not None
            else None,
        }
    )


def _read_mini_thumb(file: EvidenceFile, out: GalleryCaches) -> None:
    with file.open() as handle:
        found = read_mini_thumbs(handle)
    if found is None:
        return
    sha = file.sha256
    version = _thumbdata_version(file.name)
    for thumb in found.thumbs:
        facts: dict[str, Any] = {"magic": thumb.magic}
        if version == 3:
            # AOSP version 3 stores block n for the picture whose media database _id is n.
            facts["media_id"] = thumb.block
        out.thumbnails.append(
            CachedThumbnail(
                key=f"{file.logical}@{thumb.offset}",
                cache=file.logical,
                cache_sha256=sha,
                cache_format=MINI_THUMB,
                number=thumb.block,
                offset=thumb.offset,
                data=thumb.jpeg,
                facts=facts,
            )
        )
    for offset, reason in found.problems:
        out.damaged.append((file.logical, f"at byte {offset:,}: {reason}"))
    out.files.append(
        {
            "file": file.logical,
            "sha256": sha,
            "format": MINI_THUMB,
            "thumbnails": len(found.thumbs),
            "damaged": len(found.problems),
            "blocks": found.blocks,
        }
    )


def _thumbdata_version(name: str) -> int | None:
    """The version AOSP writes into the name (``.thumbdata3-<hash>``): it says how blocks are
    numbered; the format itself was recognised by its structure."""
    if name.startswith(".thumbdata") and "-" in name:
        digits = name[len(".thumbdata") : name.index("-")]
        return int(digits) if digits.isdigit() else None
    return None


def _utc(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def originals_present(original: str | None, logicals: Iterable[str]) -> list[str]:
    """Evidence files at the place a cache names for the original (same folder and file name:
    ``/storage/emulated/0/DCIM/Camera/x.jpg`` is ``.../data/media/0/DCIM/Camera/x.jpg`` in a
    full file system extraction)."""
    if not original:
        return []
    tail = "/".join(original.rstrip("/").split("/")[-2:])
    return sorted(lg for lg in logicals if lg.endswith("/" + tail))
