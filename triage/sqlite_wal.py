"""What a SQLite write-ahead log holds, read from its own header and frames (no SQLite needed).

SQLite applies a WAL's frames up to the last valid *commit* frame and silently ignores the rest:
frames whose salts differ from the header's (left over from an earlier generation of the log),
frames whose running checksum breaks (torn writes), and valid frames after the last commit (a
transaction that never finished). The examiner must be told how many frames were ignored, since
they may hold the newest rows. The layout is sqlite.org's "Database File Format", section
"The Write-Ahead Log": a 32-byte header (magic 0x377f0682/0x377f0683, format 3007000, page size,
checkpoint sequence, two salts, two checksums) and frames of a 24-byte header (page number,
database size after a commit or 0, the two salts, two checksums) followed by one page.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

WAL_MAGICS = (0x377F0682, 0x377F0683)
WAL_HEADER = 32
FRAME_HEADER = 24


def is_wal_header(head: bytes) -> bool:
    """True when ``head`` starts with a WAL header of a known format version."""
    if len(head) < WAL_HEADER:
        return False
    magic, version = struct.unpack(">II", head[:8])
    return magic in WAL_MAGICS and version == 3007000


@dataclass(frozen=True)
class WalSummary:
    """The frames of one WAL file, as SQLite would use them."""

    page_size: int
    frames: int  # whole frames in the file
    applied: int  # frames up to and including the last valid commit: what SQLite reads
    commits: int  # valid commit frames
    ignored: int  # frames SQLite does not use (after the last valid commit)
    broken_at: int | None  # 1-based frame where salts or checksums first fail, if any
    trailing_bytes: int  # bytes after the last whole frame (a write cut short)

    def describe(self) -> str:
        """One line for the examiner."""
        text = (
            f"{self.frames:,} frame(s) of {self.page_size:,} bytes, "
            f"{self.commits:,} committed transaction(s)"
        )
        if self.ignored:
            where = (
                f"; salt or checksum broken at frame {self.broken_at:,}" if self.broken_at else ""
            )
            text += (
                f"; {self.ignored:,} of {self.frames:,} frame(s) ignored, as SQLite does "
                f"(after the last valid commit{where})"
            )
        if self.trailing_bytes:
            text += f"; {self.trailing_bytes:,} byte(s) of a partial frame at the end"
        return text


def _checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def read_wal(stream: BinaryIO, size: int) -> WalSummary | None:
    """Summarise a WAL file; ``None`` when it has no valid WAL header."""
    header = stream.read(WAL_HEADER)
    if not is_wal_header(header):
        return None
    magic, _version, page_size, _seq, salt1, salt2, c0, c1 = struct.unpack(">8I", header)
    big_endian = bool(magic & 1)
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        return WalSummary(page_size, 0, 0, 0, 0, 1, max(size - WAL_HEADER, 0))
    frame_size = FRAME_HEADER + page_size
    frames = max(size - WAL_HEADER, 0) // frame_size
    trailing = max(size - WAL_HEADER, 0) - frames * frame_size
    s0, s1 = _checksum(header[:24], 0, 0, big_endian)
    header_ok = (s0, s1) == (c0, c1)
    applied = commits = 0
    broken_at: int | None = None if header_ok else 1
    if header_ok:
        for index in range(1, frames + 1):
            frame = stream.read(frame_size)
            if len(frame) < frame_size:
                break
            _page, db_size, fsalt1, fsalt2, f0, f1 = struct.unpack(">6I", frame[:FRAME_HEADER])
            if (fsalt1, fsalt2) != (salt1, salt2):
                broken_at = index
                break
            s0, s1 = _checksum(frame[:8], s0, s1, big_endian)
            s0, s1 = _checksum(frame[FRAME_HEADER:], s0, s1, big_endian)
            if (s0, s1) != (f0, f1):
                broken_at = index
                break
            if db_size:
                commits += 1
                applied = index
    return WalSummary(
        page_size=page_size,
        frames=frames,
        applied=applied,
        commits=commits,
        ignored=frames - applied,
        broken_at=broken_at,
        trailing_bytes=trailing,
    )
