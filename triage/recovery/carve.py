"""Carving a table's records out of bytes that no longer belong to any live cell.

What a deleted cell looks like (https://www.sqlite.org/fileformat2.html, sections 1.6 and 2.1):
a table leaf cell is ``[payload length varint][rowid varint][record header length varint][serial
types][values][4-byte overflow page, when the payload spills]``. When SQLite frees a cell it
writes a free-block header (2-byte next offset, 2-byte size) over the cell's first 4 bytes, unless
the cell bordered the content area, which then just shrinks; ``secure_delete`` zeroes the whole
cell first. A free block later merged behind another keeps all of its bytes. So a deleted record is
found in one of four states, tried at every offset of a free region, best first:

``cell``
    payload length and rowid in front of the record header are intact and agree with it;
``record``
    the record header is intact but the bytes in front do not rebuild a cell: the rowid is lost;
``types``
    the header-length varint is gone too; the serial types start the surviving bytes;
``rebuilt``
    the first serial type is gone as well, and re-inserted because the first column is the
    rowid alias, always stored as NULL (as FQLite does, ``fqlite/base/RecoveryTask.java``).

A candidate stands only if its serial types fit the table's signature, its values fit in the
region (or continue on an overflow chain that is not part of a live b-tree) and its text decodes.
Values cut off by the region's end or a broken overflow chain are reported as lost fields of a
partial record, never guessed. Overlapping candidates are resolved best first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from triage.recovery.signature import TableSignature, first_bytes
from triage.sqlitefile.btree import local_size
from triage.sqlitefile.record import Corrupt, decode_value, read_varint, serial_size, varint_size

STATES = ("cell", "record", "types", "rebuilt")
#: Reads an overflow page for a carved record: its bytes, or ``None`` when the page may not be
#: used (beyond the file, or part of a live b-tree now, so its bytes are someone else's).
OverflowReader = Callable[[int], bytes | memoryview | None]


@dataclass(slots=True)
class Carved:
    """One record carved from a region. ``values`` has one entry per column, ``None`` for a lost
    field too (``lost`` says which); ``start``/``end`` bound the bytes it was read from."""

    table: str
    start: int
    end: int
    state: str
    rowid: int | None
    values: list[Any]
    lost: set[int] = field(default_factory=set)
    overflow_pages: list[int] = field(default_factory=list)
    anchor: int = -1  # the offset and state it was carved at, to carve it again shorter
    mode: str = ""

    @property
    def partial(self) -> bool:
        return bool(self.lost)


def _types(
    buf: bytes | memoryview, pos: int, limit: int, sig: TableSignature, first: int, count: int
) -> tuple[list[int], int] | None:
    """``count - first`` serial types from ``pos`` for columns ``first`` on, each allowed."""
    out = []
    for column in range(first, count):
        if pos >= limit:
            return None
        byte = buf[pos]
        if byte < 0x80:
            serial, pos = byte, pos + 1
        else:
            try:
                serial, pos = read_varint(buf, pos)
            except IndexError:
                return None
        if not sig.allows(column, serial):
            return None
        out.append(serial)
    return out, pos


def _rowid_before(
    buf: bytes | memoryview, lo: int, payload_start: int, payload_len: int
) -> int | None:
    """The rowid of a cell whose payload starts at ``payload_start``, if the cell's two leading
    varints survive and agree with the payload length (SQLite writes varints shortest-form)."""
    a = varint_size(payload_len)
    for b in range(1, 10):
        c = payload_start - b - a
        if c < lo:
            return None
        try:
            value, pos = read_varint(buf, c)
            if value != payload_len or pos != c + a:
                continue
            rowid, end = read_varint(buf, pos)
        except IndexError:
            continue
        if end == payload_start and varint_size(rowid) == b:
            return rowid - (1 << 64) if rowid >= 1 << 63 else rowid
    return None


class Carver:
    """Carves one table's records; ``overflow`` reads overflow pages for spilled payloads."""

    def __init__(
        self, sig: TableSignature, usable: int, encoding: str, overflow: OverflowReader
    ) -> None:
        self.sig = sig
        self.usable = usable
        self.encoding = encoding
        self.overflow = overflow
        self.counts = sorted(sig.field_counts, reverse=True)
        self.max_count = max(self.counts)
        self.min_header = min(self.counts) + 1
        self.max_header = 9 * self.max_count + 2
        self.ipk_first = sig.rowid_column == 0
        self._zero_run = re.compile(b"\x00{%d,}" % max(self.max_count - 1, 2))
        # Cheap first-byte tests that rule out most offsets before any parsing.
        self._ok0 = first_bytes(sig, 0)
        self._ok1 = first_bytes(sig, 1)

    def carve(self, buf: bytes | memoryview, lo: int, hi: int) -> list[Carved]:
        """Records found in ``buf[lo:hi]``, non-overlapping, in offset order."""
        if hi - lo < 4:
            return []
        region = bytes(buf[lo:hi])
        skip = [
            (m.start() + lo, m.end() + lo - self.max_count + 1)
            for m in self._zero_run.finditer(region)
        ]
        found: list[Carved] = []
        skip_i = 0
        for p in range(lo, hi - 1):
            while skip_i < len(skip) and skip[skip_i][1] <= p:
                skip_i += 1
            zeroed = skip_i < len(skip) and skip[skip_i][0] <= p
            byte = buf[p]
            for state in STATES[1:]:
                if state == "record":
                    first = p + 1 if byte < 0x80 else p + 2  # after a 1- or 2-byte length
                    if byte < self.min_header or first >= hi or not self._ok0[buf[first]]:
                        continue
                elif zeroed:
                    continue
                elif state == "types":
                    if not self._ok0[byte]:
                        continue
                elif not (self.ipk_first and self._ok1[byte]):
                    continue
                carved = self._try(buf, lo, hi, p, state)
                if carved is not None:
                    carved.anchor, carved.mode = p, state
                    found.append(carved)
                    break
        return self._resolve(self._overwritten(buf, lo, found))

    def _overwritten(self, buf: bytes | memoryview, lo: int, found: list[Carved]) -> list[Carved]:
        """A record that another record starts inside was partly overwritten by it (a cell
        written later into the freed space): its bytes from there on are the other's, so it is
        carved again up to that point and keeps only the fields before it."""
        starts = sorted(c.start for c in found)
        out = []
        for c in found:
            inner = [s for s in starts if c.start < s < c.end]
            if not inner:
                out.append(c)
                continue
            shorter = self._try(buf, lo, inner[0], c.anchor, c.mode)
            if shorter is not None:
                shorter.anchor, shorter.mode = c.anchor, c.mode
                out.append(shorter)
        return out

    def _try(self, buf: bytes | memoryview, lo: int, hi: int, p: int, state: str) -> Carved | None:
        sig = self.sig
        byte = buf[p]
        for count in self.counts:
            if state == "record":
                if byte < self.min_header or (byte >= 0x80 and self.max_header < 0x80):
                    return None
                try:
                    header_len, types_at = read_varint(buf, p)
                except IndexError:
                    return None
                if header_len > self.max_header or p + header_len > hi:
                    return None
                parsed = _types(buf, types_at, p + header_len, sig, 0, count)
                if parsed is None or parsed[1] != p + header_len:
                    continue
                serials, body = parsed
                payload_start = p
            elif state == "types":
                parsed = _types(buf, p, hi, sig, 0, count)
                if parsed is None:
                    continue
                serials, body = parsed
                n = body - p
                header_len = n + 1 if n + 1 < 0x80 else n + 2
                payload_start = body - header_len
            else:
                if not self.ipk_first:
                    return None
                parsed = _types(buf, p, hi, sig, 1, count)
                if parsed is None:
                    continue
                serials, body = [0, *parsed[0]], parsed[1]
                n = body - p + 1
                header_len = n + 1 if n + 1 < 0x80 else n + 2
                payload_start = body - header_len
            carved = self._body(buf, lo, hi, serials, header_len, payload_start, body, state)
            if carved is not None:
                return carved
        return None

    def _body(
        self,
        buf: bytes | memoryview,
        lo: int,
        hi: int,
        serials: list[int],
        header_len: int,
        payload_start: int,
        body: int,
        state: str,
    ) -> Carved | None:
        sig = self.sig
        if sum(s != 0 for s in serials) < sig.min_non_null:
            return None
        sizes = [serial_size(s) for s in serials]
        payload_len = header_len + sum(sizes)
        local = local_size(payload_len, self.usable)
        local_end = payload_start + local
        spill = b""
        overflow_pages: list[int] = []
        end = min(local_end, hi)
        if local < payload_len and local_end + 4 <= hi:
            first = int.from_bytes(buf[local_end : local_end + 4], "big")
            spill, overflow_pages = self._chain(first, payload_len - local)
            end = local_end + 4
        rowid = None
        if state == "record":
            rowid = _rowid_before(buf, lo, payload_start, payload_len)
            if rowid is not None:
                state = "cell"
        local_part = bytes(buf[body : min(local_end, hi)])
        data = local_part + spill
        values: list[Any] = []
        lost: set[int] = set()
        rel = 0
        for i, (serial, size) in enumerate(zip(serials, sizes, strict=True)):
            if i == sig.rowid_column:
                values.append(rowid)
                if rowid is None:
                    lost.add(i)
            elif rel + size <= len(data):
                try:
                    value = decode_value(serial, data, rel, self.encoding)
                    if isinstance(value, str) and "\x00" in value:
                        raise Corrupt("NUL inside text: bytes of something else")
                    if isinstance(value, bytes) and len(value) >= 4 and not any(value):
                        raise Corrupt("a zero-filled BLOB is cleared space, not a value")
                    values.append(value)
                except Corrupt:
                    if rel + size <= len(local_part):
                        return None  # text inside the carved bytes that does not decode
                    values.append(None)
                    lost.add(i)
            else:
                values.append(None)
                lost.add(i)
            rel += size
        values.extend([None] * (len(sig.columns) - len(values)))
        surviving = sum(1 for i, s in enumerate(serials) if s and i not in lost)
        if surviving < sig.min_non_null:
            return None
        cell_start = payload_start
        if rowid is not None:
            cell_start -= varint_size(payload_len) + varint_size(rowid)
        return Carved(
            sig.table, max(cell_start, lo), end, state, rowid, values, lost, overflow_pages
        )

    def _chain(self, first: int, need: int) -> tuple[bytes, list[int]]:
        parts: list[bytes] = []
        pages: list[int] = []
        nxt = first
        while need > 0 and nxt and nxt not in pages:
            page = self.overflow(nxt)
            if page is None:
                break
            pages.append(nxt)
            chunk = bytes(page[4 : 4 + min(need, self.usable - 4)])
            parts.append(chunk)
            need -= len(chunk)
            nxt = int.from_bytes(page[:4], "big")
        return b"".join(parts), pages

    @staticmethod
    def _resolve(candidates: list[Carved]) -> list[Carved]:
        """Best first (state, then surviving fields), dropping any that overlaps a better one."""
        ranked = sorted(candidates, key=lambda c: (STATES.index(c.state), len(c.lost), c.start))
        taken: list[Carved] = []
        for cand in ranked:
            if all(cand.end <= t.start or cand.start >= t.end for t in taken):
                taken.append(cand)
        return sorted(taken, key=lambda c: c.start)
