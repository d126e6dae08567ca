"""The write-ahead log, every frame of it (https://www.sqlite.org/fileformat2.html, section 4).

A ``-wal`` file is a 32-byte header (eight big-endian 32-bit words: magic 0x377f0682 or
0x377f0683, format version 3007000, page size, checkpoint sequence, salt-1, salt-2, checksum-1,
checksum-2) and frames of a 24-byte header (page number; for the last frame of a transaction the
database size in pages after the commit, else 0; salt-1; salt-2; checksum-1; checksum-2) followed by
the page image.

The checksum (section 4.3) runs over 32-bit words, little-endian when the magic's low bit is 0 and
big-endian when it is 1: ``s0 += x[i] + s1; s1 += x[i+1] + s0`` modulo 2**32, seeded with zeros
for the header and with the previous frame's checksum for a frame, over the frame header's first
8 bytes and the page. A frame is *valid* when its salts equal the header's and its checksum
continues the chain; frames up to the last valid frame that carries a database size are
*committed*. SQLite reads only those, and only the newest committed copy of each page; we keep
every frame: older copies of a page, frames of an unfinished transaction (``uncommitted``) and
frames left behind by an earlier generation of the log after a checkpoint restarted it with new
salts (``stale``: SQLite ignores them, but they are older page images), and frames of this
generation from the first one whose checksum fails on (``torn``: a write that never completed, or
damage; their content is not verified).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

WAL_MAGIC = (0x377F0682, 0x377F0683)
HEADER_SIZE = 32
FRAME_HEADER_SIZE = 24


@dataclass(frozen=True, slots=True)
class WalFrame:
    """One frame: ``index`` counts from 1 in file order; ``state`` is ``committed``,
    ``uncommitted``, ``torn`` or ``stale``; ``latest`` marks the copy SQLite would read for the page."""

    index: int
    offset: int
    page_no: int
    commit_size: int
    salt1: int
    salt2: int
    state: str
    latest: bool = False

    @property
    def salt(self) -> str:
        return f"{self.salt1:08x}-{self.salt2:08x}"


@dataclass
class Wal:
    """A parsed ``-wal``; ``frames`` holds every whole frame in the file."""

    data: bytes | memoryview
    page_size: int
    checkpoint_seq: int
    salt1: int
    salt2: int
    frames: list[WalFrame]
    header_valid: bool

    def page(self, frame: WalFrame) -> memoryview:
        start = frame.offset + FRAME_HEADER_SIZE
        return memoryview(self.data)[start : start + self.page_size]

    @property
    def db_size(self) -> int | None:
        """Database size in pages after the last committed transaction, if any."""
        sizes = [f.commit_size for f in self.frames if f.state == "committed" and f.commit_size]
        return sizes[-1] if sizes else None


def _checksum(data: bytes | memoryview, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    mask = 0xFFFFFFFF
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & mask
        s1 = (s1 + words[i + 1] + s0) & mask
    return s0, s1


def parse_wal(data: bytes | memoryview) -> Wal | None:
    """Every frame of a WAL file, or ``None`` when the bytes are not a WAL header."""
    if len(data) < HEADER_SIZE:
        return None
    magic, version, page_size, seq, salt1, salt2, c1, c2 = struct.unpack_from(">8I", data, 0)
    if magic not in WAL_MAGIC:
        return None
    if page_size == 1:
        page_size = 65536
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        return None
    big = magic & 1 == 1
    header_valid = _checksum(data[:24], 0, 0, big) == (c1, c2) and version == 3007000
    s0, s1 = c1, c2
    chain_ok = header_valid
    frames: list[WalFrame] = []
    raw: list[tuple[int, int, int, int, int, bool]] = []
    frame_size = FRAME_HEADER_SIZE + page_size
    offset = HEADER_SIZE
    while offset + frame_size <= len(data):
        page_no, commit, f1, f2, k1, k2 = struct.unpack_from(">6I", data, offset)
        valid = False
        if chain_ok and (f1, f2) == (salt1, salt2):
            s = _checksum(data[offset : offset + 8], s0, s1, big)
            s = _checksum(data[offset + 24 : offset + frame_size], s[0], s[1], big)
            if s == (k1, k2):
                valid = True
                s0, s1 = s
        if not valid:
            chain_ok = False  # SQLite stops at the first frame that does not verify
        raw.append((offset, page_no, commit, f1, f2, valid))
        offset += frame_size
    last_commit = max((i for i, r in enumerate(raw) if r[5] and r[2]), default=-1)
    states = [
        "committed"
        if r[5] and i <= last_commit
        else "uncommitted"
        if r[5]
        else "torn"
        if (r[3], r[4]) == (salt1, salt2)
        else "stale"
        for i, r in enumerate(raw)
    ]
    latest = {r[1]: i for i, r in enumerate(raw) if states[i] == "committed"}
    for i, (off, page_no, commit, f1, f2, _valid) in enumerate(raw):
        frames.append(
            WalFrame(i + 1, off, page_no, commit, f1, f2, states[i], latest.get(page_no) == i)
        )
    return Wal(data, page_size, seq, salt1, salt2, frames, header_valid)
