"""The Android Gallery app's thumbnail cache: ``imgcache.0``/``imgcache.1`` with ``imgcache.idx``.

The AOSP Gallery (``packages/apps/Gallery2``, ``com.android.gallery3d``) and the Gallery3D forks
phone makers ship keep every thumbnail they draw in a *blob cache*
(``gallerycommon/src/com/android/gallery3d/common/BlobCache.java``), usually under
``/data/data/<gallery package>/cache/``: ``imgcache.idx`` and two data files ``imgcache.0`` and
``imgcache.1`` (one per "region": the writer fills one, then truncates and fills the other, so the
inactive file keeps the older thumbnails). ``mini.*``/``micro.*`` and Samsung's
``imgcacheMicro``/``imgcacheMini``/``imgcacheBig`` have the same layout. The thumbnails often
outlive the pictures: a deleted photo's thumbnail stays until its region is overwritten.

Layout, all numbers little-endian (``BlobCache.java``; slo-sleuth/android_blob_cache README.md
for Android 9 and 10; cheeky4n6monkey/4n6-scripts ``Android/imgcache-parse.py`` for a Samsung
Android 5.1 Gallery3D):

* data file: magic ``0xBD248510`` (bytes ``10 85 24 BD``), then blobs back to back, each a
  20-byte header (``key`` i64 = CRC-64 of the key bytes, ``checksum`` u32 = Adler-32 of the
  blob, ``offset`` u32 = the header's own file offset, ``length`` u32 of the blob) and the blob;
* blob of ``ImageCacheService.putImageData``: the key (``Path.toString() + "+" + type`` as
  UTF-16-LE, e.g. ``/local/image/item/44+1``; type 1 thumbnail, 2 micro-thumbnail,
  ``MediaItem.java``) followed by the JPEG. Later Gallery versions put more in the key:
  Samsung 5.1 ``/local/image/item/44+1469075274+1`` (a Unix time), Android 9/10
  ``<item path>+<type>+<original file path>+<Unix time>[+<account>]``, sometimes in UTF-32-LE;
  the key has no length of its own, so the JPEG is found by its SOI marker;
* index file: magic ``0xB3273030``, max entries, max bytes, active region, active entries,
  active bytes, version, checksum (32 bytes), then per region ``max entries`` slots of 12 bytes
  (key i64, offset u32; offset 0 = free). A blob listed in its region's slots is live; one that
  is not was replaced or dropped, but its bytes are still there.

The reader walks the headers; a header whose ``offset`` field is not its own position is damage,
and the walk resumes at the next position that names itself (the field makes every header
self-locating). Damaged and unreadable blobs are counted and reported, never skipped silently.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

DATA_MAGIC = b"\x10\x85\x24\xbd"  # 0xBD248510 written little-endian
INDEX_MAGIC = b"\x30\x30\x27\xb3"  # 0xB3273030
HEADER = 20
INDEX_HEADER = 32
SLOT = 12
JPEG_SOI = b"\xff\xd8\xff"
RESYNC_CHUNK = 1 << 20
KEY_TYPES = {"1": "thumbnail", "2": "micro-thumbnail"}  # MediaItem.TYPE_*


@dataclass(frozen=True, slots=True)
class BlobKey:
    """What a blob's key says about the picture it was drawn from (fields as found)."""

    text: str  # the decoded key, as a reader shows it
    item_path: str | None = None  # the Gallery's own path of the item, /local/image/item/44
    kind: str | None = None  # "thumbnail", "micro-thumbnail" or the number found
    original_path: str | None = None  # the picture's file path on the phone, when the key has it
    timestamp: int | None = None  # Unix seconds in the key (the original's modification time)


@dataclass(frozen=True, slots=True)
class Blob:
    """One blob of a data file that holds a picture."""

    number: int  # its place among the file's blobs, from 1
    offset: int  # of its 20-byte header in the file
    key_hash: str  # the header's CRC-64 key as 16 hex digits
    checksum_ok: bool  # the Adler-32 in the header matches the blob
    key: BlobKey
    jpeg: bytes


@dataclass(slots=True)
class BlobFile:
    blobs: list[Blob] = field(default_factory=list)
    # (offset, reason) of damaged headers and blobs that hold no picture
    problems: list[tuple[int, str]] = field(default_factory=list)
    without_picture: int = 0  # whole blobs whose bytes hold no JPEG (another kind of cache)


def is_blob_cache(head: bytes) -> bool:
    return head[:4] == DATA_MAGIC


def is_blob_index(head: bytes) -> bool:
    return head[:4] == INDEX_MAGIC


def read_blob_file(data: bytes) -> BlobFile:
    """Every blob of a data file (``imgcache.0``...), with the damage found on the way."""
    out = BlobFile()
    if not is_blob_cache(data):
        out.problems.append((0, "no blob cache signature (10 85 24 BD)"))
        return out
    number = 0
    for offset, header, problem in _walk(data):
        if problem is not None:
            out.problems.append((offset, problem))
            continue
        assert header is not None
        key_hash, checksum, length = header
        number += 1
        blob = data[offset + HEADER : offset + HEADER + length]
        start = blob.find(JPEG_SOI)
        if start < 0:
            out.without_picture += 1
            continue
        ok = (zlib.adler32(blob) & 0xFFFFFFFF) == checksum
        if not ok:
            out.problems.append((offset, f"blob {number}: checksum does not match its bytes"))
        out.blobs.append(
            Blob(
                number=number,
                offset=offset,
                key_hash=f"{key_hash:016x}",
                checksum_ok=ok,
                key=parse_key(blob[:start]),
                jpeg=blob[start:],
            )
        )
    return out


def _walk(data: bytes) -> Iterator[tuple[int, tuple[int, int, int] | None, str | None]]:
    """(offset, (key, checksum, length), None) per sound header, (offset, None, reason) where
    the chain breaks; the walk goes on at the next self-locating header."""
    pos, end = len(DATA_MAGIC), len(data)
    while pos < end:
        if pos + HEADER > end:
            yield pos, None, f"{end - pos} bytes after the last blob, too few for a header"
            return
        key, checksum, offset, length = struct.unpack_from("<QIII", data, pos)
        if offset == pos and pos + HEADER + length <= end:
            yield pos, (key, checksum, length), None
            pos += HEADER + length
            continue
        reason = (
            f"header says it is at {offset}"
            if offset != pos
            else f"blob of {length} bytes runs past the end of the file"
        )
        found = _next_header(data, pos + 1)
        if found is None:
            yield pos, None, f"damaged header ({reason}); nothing readable after it"
            return
        yield pos, None, f"damaged header ({reason}); {found - pos} bytes skipped"
        pos = found


def _next_header(data: bytes, start: int) -> int | None:
    """The first position at or after ``start`` holding a header whose offset field names that
    position and whose blob fits in the file."""
    import numpy as np  # here, not at the top: a run finds its gallery caches before numpy loads

    buffer = np.frombuffer(data, dtype=np.uint8)
    end = len(data) - HEADER
    for chunk in range(start, end + 1, RESYNC_CHUNK):
        stop = min(end + 1, chunk + RESYNC_CHUNK)
        at = np.arange(chunk, stop, dtype=np.int64)
        named = (
            buffer[at + 12].astype(np.int64)
            | buffer[at + 13].astype(np.int64) << 8
            | buffer[at + 14].astype(np.int64) << 16
            | buffer[at + 15].astype(np.int64) << 24
        )
        for pos in at[named == at].tolist():
            (length,) = struct.unpack_from("<I", data, pos + 16)
            if pos + HEADER + length <= len(data):
                return int(pos)
    return None


def parse_key(raw: bytes) -> BlobKey:
    """The fields of a blob's key (the bytes before its JPEG)."""
    text = _decode(raw)
    fields = text.split("+")
    item = fields[0] if fields and fields[0].startswith("/") else None
    kind = timestamp = original = None
    rest = fields[1:] if item else fields
    i = 0
    while i < len(rest):
        value = rest[i]
        if value.isdigit() and len(value) in (10, 13) and timestamp is None:
            number = int(value)
            timestamp = number // 1000 if len(value) == 13 else number
        elif value.isdigit() and len(value) <= 2 and kind is None:
            kind = KEY_TYPES.get(value, value)
        elif value.startswith("/") and original is None:
            # A file path may itself hold "+": it runs up to the time that follows it.
            parts = [value]
            while i + 1 < len(rest) and not (rest[i + 1].isdigit() and len(rest[i + 1]) >= 10):
                i += 1
                parts.append(rest[i])
            original = "+".join(parts)
        i += 1
    return BlobKey(
        text=text, item_path=item, kind=kind, original_path=original, timestamp=timestamp
    )


def _decode(raw: bytes) -> str:
    """UTF-16-LE (``GalleryUtils.getBytes``) or UTF-32-LE (seen on Android 9/10, which may end
    in a short UTF-16 string): the decoding whose text is printable."""
    if len(raw) >= 4 and raw[2:4] == b"\0\0" and raw[1:2] == b"\0":
        text = raw[: len(raw) // 4 * 4].decode("utf-32-le", errors="replace")
    else:
        text = raw[: len(raw) // 2 * 2].decode("utf-16-le", errors="replace")
    return "".join(c for c in text if c.isprintable()).strip()


@dataclass(frozen=True, slots=True)
class BlobIndex:
    """The index file's header and, per region (0 = ``.0``, 1 = ``.1``), its live blobs as
    (key, offset)."""

    active_region: int
    version: int
    live: tuple[frozenset[tuple[str, int]], frozenset[tuple[str, int]]]


def read_blob_index(data: bytes) -> BlobIndex | None:
    """The index file, or None when it is not one or is cut short."""
    import numpy as np  # see _next_header

    if not is_blob_index(data) or len(data) < INDEX_HEADER:
        return None
    _, max_entries, _, active, _, _, version, _ = struct.unpack_from("<8I", data, 0)
    if max_entries <= 0 or len(data) < INDEX_HEADER + 2 * max_entries * SLOT:
        return None
    regions = []
    for region in (0, 1):
        start = INDEX_HEADER + region * max_entries * SLOT
        slots = np.frombuffer(
            data,
            dtype=np.dtype([("key", "<u8"), ("offset", "<u4")]),
            count=max_entries,
            offset=start,
        )
        used = slots[slots["offset"] != 0]
        regions.append(
            frozenset(
                (f"{int(k):016x}", int(o)) for k, o in zip(used["key"], used["offset"], strict=True)
            )
        )
    return BlobIndex(active_region=int(active), version=int(version), live=(regions[0], regions[1]))
