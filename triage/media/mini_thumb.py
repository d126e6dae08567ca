"""Android's legacy thumbnail files: ``DCIM/.thumbnails/.thumbdata3-<n>`` (and ``-4``/``-5``).

Until Android 10 the media provider kept a small JPEG of every picture and video it scanned in a
"mini-thumb file" (AOSP ``frameworks/base`` ``media/java/android/media/MiniThumbFile.java``):
``<external storage>/DCIM/.thumbnails/.thumbdata<version>-<hash of the content URI>``, one file
for images and one for videos. The file is a row of fixed blocks of ``BYTES_PER_MINTHUMB`` =
10 000 bytes; block ``n`` holds

* 1 byte status (1 = a thumbnail is stored, 0 = empty),
* 8 bytes "magic" (big-endian ``long``, the value the media database keeps as the picture's
  ``mini_thumb_magic``),
* 4 bytes length (big-endian) and that many bytes of JPEG; the rest of the block is unused.

In AOSP's version 3 the block number is the picture's ``_id`` in the media database, so an
empty stretch of blocks is a run of ids with no thumbnail; vendor versions 4 and 5 (a
``.thumbindex`` file beside it) allocate blocks in order instead. Nothing in the file names the
original picture. Forensic write-ups (behindthebits.blogspot.com, "Android phone Thumbdata -
Part 3", 2012) describe the same 10 000-byte records of JPEGs, which survive the pictures.

The file has no signature: it is recognised by its structure (every block starts with status 0
or 1, at least one block holds a JPEG of a fitting length) and read block by block, streaming.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

BLOCK = 10_000
HEADER = 13
JPEG_SOI = b"\xff\xd8\xff"


@dataclass(frozen=True, slots=True)
class MiniThumb:
    block: int  # block number (the picture's media database id in AOSP version 3)
    offset: int  # of the block in the file
    magic: int
    jpeg: bytes


@dataclass(slots=True)
class MiniThumbFile:
    thumbs: list[MiniThumb] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (offset, reason)
    blocks: int = 0


def _status(block: bytes) -> tuple[str, int, int]:
    """("empty" | "thumb" | "damaged" | "foreign", magic, length) of one block."""
    if len(block) < HEADER:
        return ("empty" if not any(block) else "damaged"), 0, 0
    status = block[0]
    magic, length = struct.unpack_from(">qI", block, 1)
    if status == 0:
        return "empty", magic, length
    if status != 1:
        return "foreign", magic, length
    if 0 < length <= BLOCK - HEADER and block[HEADER : HEADER + 3] == JPEG_SOI:
        return ("thumb" if HEADER + length <= len(block) else "damaged"), magic, length
    return "damaged", magic, length


def looks_like_mini_thumb(head: bytes) -> bool:
    """Whether a file's first block (or the whole file if shorter) could open a mini-thumb
    file: a JPEG of a fitting length, or never written (all zeros, as AOSP leaves block 0: media
    database ids start at 1)."""
    if len(head) < HEADER:
        return False
    state, _, _ = _status(head[:BLOCK])
    return state == "thumb" or (len(head) >= BLOCK and not any(head[:BLOCK]))


def _blocks(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        block = stream.read(BLOCK)
        if not block:
            return
        yield number, block
        number += 1


def read_mini_thumbs(stream: BinaryIO) -> MiniThumbFile | None:
    """Every stored thumbnail, or None when the file is not a mini-thumb file (a block with
    another status before any thumbnail, or no thumbnail at all)."""
    out = MiniThumbFile()
    for number, block in _blocks(stream):
        out.blocks += 1
        state, magic, length = _status(block)
        offset = number * BLOCK
        if state == "thumb":
            out.thumbs.append(MiniThumb(number, offset, magic, block[HEADER : HEADER + length]))
        elif state == "foreign" and not out.thumbs:
            return None
        elif state in ("foreign", "damaged"):
            out.problems.append(
                (offset, f"block {number}: no readable thumbnail (status {block[0]})")
            )
    return out if out.thumbs else None
