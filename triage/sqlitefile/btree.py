"""B-tree pages, cells and overflow chains (https://www.sqlite.org/fileformat2.html, section 1.6).

A b-tree page starts with an 8-byte (leaf) or 12-byte (interior) header, after the 100-byte
database header on page 1: byte 0 the page type (2 index interior, 5 table interior, 10 index
leaf, 13 table leaf), bytes 1-2 the first free block (0 = none), 3-4 the number of cells, 5-6 the
start of the cell content area (0 means 65536), 7 the fragmented free bytes, 8-11 the right-most
child (interior pages). The cell pointer array follows: one 2-byte offset per cell. Free blocks
form a chain in ascending order: 2 bytes next offset (0 = last), 2 bytes size including these 4.

A table leaf cell is a varint payload length, a varint rowid, the local part of the payload and,
when the payload spills, a 4-byte first overflow page. Each overflow page holds a 4-byte next
page number (0 = last) and usable-size - 4 bytes of payload. The spill rule (section 1.6): with U
the usable size and P the payload length, X = U - 35 for table leaves and ((U - 12) * 64 / 255) -
23 for index pages, M = ((U - 12) * 32 / 255) - 23, K = M + ((P - M) mod (U - 4)); a payload of P
<= X bytes is all local, otherwise K bytes stay local when K <= X, else M.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from triage.sqlitefile.record import Corrupt, read_varint, signed64

TABLE_INTERIOR = 0x05
TABLE_LEAF = 0x0D
INDEX_INTERIOR = 0x02
INDEX_LEAF = 0x0A
PAGE_TYPES = (INDEX_INTERIOR, TABLE_INTERIOR, INDEX_LEAF, TABLE_LEAF)


def max_local(usable: int, table_leaf: bool) -> int:
    """X of the spill rule."""
    return usable - 35 if table_leaf else ((usable - 12) * 64 // 255) - 23


def min_local(usable: int) -> int:
    """M of the spill rule."""
    return ((usable - 12) * 32 // 255) - 23


def local_size(payload_len: int, usable: int, table_leaf: bool = True) -> int:
    """Bytes of a payload kept in the cell itself; the rest goes to overflow pages."""
    x = max_local(usable, table_leaf)
    if payload_len <= x:
        return payload_len
    m = min_local(usable)
    k = m + (payload_len - m) % (usable - 4)
    return k if k <= x else m


@dataclass(frozen=True, slots=True)
class PageHeader:
    """The header of one b-tree page. ``offset`` is where it starts (100 on page 1)."""

    offset: int
    kind: int
    first_freeblock: int
    cell_count: int
    content_start: int
    fragmented: int
    right_child: int | None

    @property
    def is_leaf(self) -> bool:
        return self.kind in (TABLE_LEAF, INDEX_LEAF)

    @property
    def size(self) -> int:
        return 8 if self.is_leaf else 12

    @property
    def pointers_end(self) -> int:
        """First byte after the cell pointer array."""
        return self.offset + self.size + 2 * self.cell_count


def page_header(page: bytes | memoryview, page_no: int, usable: int) -> PageHeader:
    """The b-tree header of ``page``; raises :class:`Corrupt` when it is not a b-tree page."""
    offset = 100 if page_no == 1 else 0
    kind = page[offset]
    if kind not in PAGE_TYPES:
        raise Corrupt(f"page {page_no}: type byte {kind} is not a b-tree page")
    first_free = int.from_bytes(page[offset + 1 : offset + 3], "big")
    cells = int.from_bytes(page[offset + 3 : offset + 5], "big")
    content = int.from_bytes(page[offset + 5 : offset + 7], "big") or 65536
    right = None
    if kind in (TABLE_INTERIOR, INDEX_INTERIOR):
        right = int.from_bytes(page[offset + 8 : offset + 12], "big")
    header = PageHeader(offset, kind, first_free, cells, content, page[offset + 7], right)
    if header.pointers_end > usable or (cells and content > usable):
        raise Corrupt(f"page {page_no}: cell pointer array runs past the page")
    return header


def cell_pointers(page: bytes | memoryview, header: PageHeader, usable: int) -> list[int]:
    """Offsets of the page's cells, each checked to lie inside the cell content area."""
    start = header.offset + header.size
    out = list(struct.unpack_from(f">{header.cell_count}H", page, start))
    if out:
        lowest, end = min(out), start + 2 * header.cell_count
        if lowest < end or max(out) >= usable:
            bad = next(p for p in out if p < end or p >= usable)
            raise Corrupt(f"cell pointer {bad} outside the page")
    return out


def freeblocks(page: bytes | memoryview, header: PageHeader, usable: int) -> list[tuple[int, int]]:
    """The free block chain as (offset, size), stopping at the first link that breaks the rules."""
    out: list[tuple[int, int]] = []
    ptr = header.first_freeblock
    while ptr:
        if ptr + 4 > usable or (out and ptr <= out[-1][0]):
            break
        size = int.from_bytes(page[ptr + 2 : ptr + 4], "big")
        if size < 4 or ptr + size > usable:
            break
        out.append((ptr, size))
        ptr = int.from_bytes(page[ptr : ptr + 2], "big")
    return out


@dataclass(slots=True)
class LeafCell:
    """A table leaf cell: its rowid, payload length and where the local payload sits."""

    offset: int
    rowid: int
    payload_len: int
    payload_start: int
    local_len: int
    overflow_page: int | None

    @property
    def end(self) -> int:
        return self.payload_start + self.local_len + (4 if self.overflow_page is not None else 0)


def table_leaf_cell(page: bytes | memoryview, offset: int, usable: int) -> LeafCell:
    """The table leaf cell at ``offset`` (bounds checked against the usable size)."""
    try:
        # Most payload lengths take one or two bytes: read those inline (this runs per cell).
        first = page[offset]
        if first < 0x80:
            payload_len, pos = first, offset + 1
        elif page[offset + 1] < 0x80:
            payload_len, pos = (first & 0x7F) << 7 | page[offset + 1], offset + 2
        else:
            payload_len, pos = read_varint(page, offset)
        rowid, pos = read_varint(page, pos)
    except IndexError as exc:
        raise Corrupt("cell header runs past the page") from exc
    local = payload_len if payload_len <= usable - 35 else local_size(payload_len, usable)
    overflow = None
    if local < payload_len:
        if pos + local + 4 > usable:
            raise Corrupt("cell runs past the page")
        overflow = int.from_bytes(page[pos + local : pos + local + 4], "big")
    elif pos + local > usable:
        raise Corrupt("cell runs past the page")
    return LeafCell(
        offset, signed64(rowid) if rowid >= 1 << 63 else rowid, payload_len, pos, local, overflow
    )


def free_spans(used: list[tuple[int, int]], usable: int) -> list[tuple[int, int]]:
    """The byte ranges of a page that nothing in ``used`` covers, up to the usable size;
    ``used`` holds (start, end) of the page header with its cell pointer array and of each cell
    (sorted here)."""
    used.sort()
    gaps: list[tuple[int, int]] = []
    cursor = 0
    for start, end in used:
        if start > cursor:
            gaps.append((cursor, start))
        if end > cursor:
            cursor = end
    if usable > cursor:
        gaps.append((cursor, usable))
    return gaps


def leaf_free_spans(
    page: bytes | memoryview, header: PageHeader, pointers: list[int], usable: int
) -> list[tuple[int, int]]:
    """Free spans of a table leaf page: free blocks, fragments and the unallocated gap, as the
    complement of its cells (a cell that runs past the page counts as its first 4 bytes)."""
    used = [(0, header.pointers_end)]
    for ptr in pointers:
        try:
            used.append((ptr, table_leaf_cell(page, ptr, usable).end))
        except Corrupt:
            used.append((ptr, ptr + 4))
    return free_spans(used, usable)


@functools.cache
def _may_spill(usable: int, table_leaf: bool) -> bytes:
    """Per first byte of a payload-length varint: 1 when a length starting with it (one byte,
    or two with the second below 0x80) can be over the spill threshold X."""
    x = max_local(usable, table_leaf)
    return bytes(int(b > x if b < 0x80 else ((b & 0x7F) << 7 | 0x7F) > x) for b in range(256))


def spill_candidates(
    page: bytes | memoryview, pointers: list[int], usable: int, table_leaf: bool
) -> list[int]:
    """The cells of a leaf page whose payload may spill to overflow pages, judged from the first
    one or two bytes of their payload length; every other cell keeps its payload on the page."""
    first = _may_spill(usable, table_leaf)
    data = bytes(page) + b"\x00"
    return [p for p in pointers if first[data[p]] or (data[p] >= 0x80 and data[p + 1] >= 0x80)]


def spills(page: bytes | memoryview, offset: int, usable: int) -> bool:
    """Whether the table leaf cell at ``offset`` may have an overflow page (its payload length
    is over the spill threshold); a cell that does not spill needs no more reading to know."""
    payload_len, _pos = read_varint(page, offset)
    return payload_len > usable - 35


def interior_child(page: bytes | memoryview, offset: int) -> int:
    """Left child page number of a table interior cell (4 bytes, then a varint key)."""
    return int.from_bytes(page[offset : offset + 4], "big")


def index_cell_span(page: bytes | memoryview, offset: int, interior: bool, usable: int) -> int:
    """End of an index cell's local bytes (index cells only matter to us as occupied space)."""
    pos = offset + (4 if interior else 0)
    payload_len, pos = read_varint(page, pos)
    local = local_size(payload_len, usable, table_leaf=False)
    return pos + local + (4 if local < payload_len else 0)


def index_overflow(
    page: bytes | memoryview, offset: int, interior: bool, usable: int
) -> int | None:
    pos = offset + (4 if interior else 0)
    payload_len, pos = read_varint(page, pos)
    local = local_size(payload_len, usable, table_leaf=False)
    if local < payload_len:
        return int.from_bytes(page[pos + local : pos + local + 4], "big")
    return None
