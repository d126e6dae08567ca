"""One database as SQLite would read it: file pages, the WAL overlay, header, freelist, page owners.

Header fields used (https://www.sqlite.org/fileformat2.html, section 1.3): page size at offset 16
(1 means 65536), reserved bytes per page at 20 (usable size = page size - reserved), file change
counter at 24, database size in pages at 28 (valid only when the version-valid-for number at 92
equals the change counter), first freelist trunk page at 32, freelist page count at 36, schema
cookie at 40, schema format at 44, largest root page at 52 (non-zero: auto_vacuum or
incremental_vacuum, so pointer-map pages exist, section 1.7), text encoding at 56, incremental
vacuum flag at 64.

The freelist (section 1.5) is a chain of trunk pages, each a 4-byte next trunk, a 4-byte leaf
count L and L 4-byte leaf page numbers. Pointer-map pages (section 1.7) start at page 2 and repeat
every usable/5 + 1 pages.

With a WAL, a page's current content is its newest committed frame, else the file's copy (the
"reader rule" of section 4.4); the database size is the last commit frame's size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from triage.sqlitefile.btree import (
    INDEX_INTERIOR,
    TABLE_INTERIOR,
    TABLE_LEAF,
    LeafCell,
    PageHeader,
    cell_pointers,
    index_overflow,
    interior_child,
    page_header,
    spill_candidates,
    spills,
    table_leaf_cell,
)
from triage.sqlitefile.record import ENCODINGS, Corrupt
from triage.sqlitefile.wal import Wal, WalFrame

MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class DbHeader:
    page_size: int
    reserved: int
    change_counter: int
    size_in_header: int
    version_valid_for: int
    freelist_trunk: int
    freelist_count: int
    schema_cookie: int
    schema_format: int
    largest_root: int
    encoding: str
    incremental_vacuum: int

    @property
    def usable(self) -> int:
        return self.page_size - self.reserved

    @property
    def auto_vacuum(self) -> str:
        if not self.largest_root:
            return "none"
        return "incremental" if self.incremental_vacuum else "full"

    @classmethod
    def parse(cls, page1: bytes | memoryview) -> DbHeader:
        if bytes(page1[:16]) != MAGIC:
            raise Corrupt("not an SQLite database (no header magic)")
        (raw_size,) = struct.unpack_from(">H", page1, 16)
        page_size = 65536 if raw_size == 1 else raw_size
        if page_size < 512 or page_size & (page_size - 1):
            raise Corrupt(f"page size {raw_size} is not a power of two from 512 to 65536")
        fields = struct.unpack_from(">IIII", page1, 24)
        cookie, fmt = struct.unpack_from(">II", page1, 40)
        (largest_root,) = struct.unpack_from(">I", page1, 52)
        (enc,) = struct.unpack_from(">I", page1, 56)
        (incremental,) = struct.unpack_from(">I", page1, 64)
        (valid_for,) = struct.unpack_from(">I", page1, 92)
        return cls(
            page_size=page_size,
            reserved=page1[20],
            change_counter=fields[0],
            size_in_header=fields[1],
            version_valid_for=valid_for,
            freelist_trunk=fields[2],
            freelist_count=fields[3],
            schema_cookie=cookie,
            schema_format=fmt,
            largest_root=largest_root,
            encoding=ENCODINGS.get(enc, "utf-8"),
            incremental_vacuum=incremental,
        )


class DatabaseImage:
    """Read-only view of a database file's bytes and, optionally, its WAL."""

    def __init__(self, db: bytes | memoryview, wal: Wal | None = None) -> None:
        self.data = memoryview(db)
        file_header = DbHeader.parse(self.data[:100])
        self.page_size = file_header.page_size
        self.wal = wal if wal is not None and wal.page_size == self.page_size else None
        self.wal_ignored = wal is not None and self.wal is None
        self.overlay: dict[int, WalFrame] = {}
        if self.wal is not None:
            self.overlay = {f.page_no: f for f in self.wal.frames if f.latest}
        self.header = DbHeader.parse(self.page(1)[:100])
        self.usable = self.header.usable
        self.encoding = self.header.encoding
        file_pages = len(self.data) // self.page_size
        size = self.wal.db_size if self.wal is not None else None
        if size is None:
            h = self.header
            size = (
                h.size_in_header
                if h.size_in_header and h.version_valid_for == h.change_counter
                else file_pages
            )
        self.page_count = size

    def file_page(self, page_no: int) -> memoryview:
        """The copy of a page in the database file itself (zeros past the file's end)."""
        start = (page_no - 1) * self.page_size
        chunk = self.data[start : start + self.page_size]
        if len(chunk) < self.page_size:
            return memoryview(bytes(chunk) + bytes(self.page_size - len(chunk)))
        return chunk

    def page(self, page_no: int) -> memoryview:
        """The page as SQLite reads it now: newest committed WAL frame, else the file's copy."""
        frame = self.overlay.get(page_no)
        if frame is not None and self.wal is not None:
            return self.wal.page(frame)
        return self.file_page(page_no)

    # --- freelist and pointer maps -------------------------------------------------------------

    def freelist(self) -> tuple[list[tuple[int, int]], list[int]]:
        """Trunk pages as (page, leaf count) and leaf pages, following the chain from the header."""
        trunks: list[tuple[int, int]] = []
        leaves: list[int] = []
        seen: set[int] = set()
        trunk = self.header.freelist_trunk
        while trunk and trunk not in seen and trunk <= self.page_count:
            seen.add(trunk)
            page = self.page(trunk)
            nxt, count = struct.unpack_from(">II", page, 0)
            count = min(count, self.usable // 4 - 2)
            trunks.append((trunk, count))
            for i in range(count):
                (leaf,) = struct.unpack_from(">I", page, 8 + 4 * i)
                if 1 < leaf <= self.page_count:
                    leaves.append(leaf)
            trunk = nxt
        return trunks, leaves

    def pointer_map_pages(self) -> list[int]:
        if not self.header.largest_root:
            return []
        step = self.usable // 5 + 1
        return list(range(2, self.page_count + 1, step))

    # --- b-tree traversal ----------------------------------------------------------------------

    def table_leaves(self, root: int) -> Iterator[tuple[int, memoryview, PageHeader, list[int]]]:
        """Every leaf page of the table b-tree at ``root`` as (page number, page, header, cell
        pointers), in rowid order. Pages that are not table pages, loops and bad pointers end
        that branch only."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            page_no = stack.pop()
            if page_no in seen or not 1 <= page_no <= self.page_count:
                continue
            seen.add(page_no)
            page = self.page(page_no)
            try:
                header = page_header(page, page_no, self.usable)
                pointers = cell_pointers(page, header, self.usable)
            except Corrupt:
                continue
            if header.kind == TABLE_INTERIOR:
                children = [interior_child(page, p) for p in pointers]
                stack.extend(reversed([*children, header.right_child or 0]))
            elif header.kind == TABLE_LEAF:
                yield page_no, page, header, pointers

    def table_cells(self, root: int) -> Iterator[tuple[int, LeafCell]]:
        """Every cell of the table b-tree at ``root`` as (page number, cell), in rowid order
        (cells that run past their page are left out)."""
        for page_no, page, _header, pointers in self.table_leaves(root):
            for ptr in pointers:
                try:
                    yield page_no, table_leaf_cell(page, ptr, self.usable)
                except Corrupt:
                    continue

    def page_as_of(self, page_no: int, frame: WalFrame | None) -> memoryview:
        """The page as it stood when ``frame``'s transaction committed (``None``: as the database
        file holds it), for reading the overflow chain of a cell in an older page image."""
        if self.wal is None:
            return self.file_page(page_no)
        if frame is None:
            return self.file_page(page_no)
        end = next(
            (f.index for f in self.wal.frames[frame.index - 1 :] if f.commit_size),
            len(self.wal.frames),
        )
        best = None
        for f in self.wal.frames[:end]:
            if f.page_no == page_no and (f.salt1, f.salt2) == (frame.salt1, frame.salt2):
                best = f
        return self.wal.page(best) if best is not None else self.file_page(page_no)

    def payload(
        self, page: bytes | memoryview, cell: LeafCell, as_of: WalFrame | None | bool = True
    ) -> tuple[bytes, bool]:
        """The cell's whole payload, following its overflow chain; ``False`` when the chain
        broke (the bytes returned are then what could be read). Overflow pages are read as they
        are now, or as of a WAL frame (``None``: the file's copies)."""
        local = bytes(page[cell.payload_start : cell.payload_start + cell.local_len])
        if cell.overflow_page is None:
            return local, True
        parts = [local]
        need = cell.payload_len - cell.local_len
        nxt = cell.overflow_page
        seen: set[int] = set()
        while need > 0:
            if not 1 < nxt <= self.page_count or nxt in seen:
                return b"".join(parts), False
            seen.add(nxt)
            over = self.page(nxt) if as_of is True else self.page_as_of(nxt, as_of or None)
            chunk = bytes(over[4 : 4 + min(need, self.usable - 4)])
            parts.append(chunk)
            need -= len(chunk)
            nxt = int.from_bytes(over[:4], "big")
        return b"".join(parts), True

    def tree_pages(self, root: int) -> Iterator[tuple[int, str]]:
        """Pages of the b-tree at ``root`` (table or index) with their role: ``btree``,
        ``overflow``, or ``damaged`` (a child page whose header is not a b-tree page's)."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            page_no = stack.pop()
            if page_no in seen or not 1 <= page_no <= self.page_count:
                continue
            seen.add(page_no)
            page = self.page(page_no)
            try:
                header = page_header(page, page_no, self.usable)
                pointers = cell_pointers(page, header, self.usable)
            except Corrupt:
                yield page_no, "damaged"
                continue
            yield page_no, "btree"
            overflows: list[int] = []
            if header.is_leaf:
                pointers = spill_candidates(page, pointers, self.usable, header.kind == TABLE_LEAF)
            for ptr in pointers:
                try:
                    if header.kind == TABLE_INTERIOR:
                        stack.append(interior_child(page, ptr))
                    elif header.kind == TABLE_LEAF:
                        if not spills(page, ptr, self.usable):
                            continue
                        cell = table_leaf_cell(page, ptr, self.usable)
                        if cell.overflow_page:
                            overflows.append(cell.overflow_page)
                    else:
                        interior = header.kind == INDEX_INTERIOR
                        if interior:
                            stack.append(interior_child(page, ptr))
                        first = index_overflow(page, ptr, interior, self.usable)
                        if first:
                            overflows.append(first)
                except (Corrupt, IndexError):
                    continue
            if header.kind in (TABLE_INTERIOR, INDEX_INTERIOR) and header.right_child:
                stack.append(header.right_child)
            for first in overflows:
                nxt, hops = first, 0
                while 1 < nxt <= self.page_count and nxt not in seen and hops < self.page_count:
                    seen.add(nxt)
                    yield nxt, "overflow"
                    nxt = int.from_bytes(self.page(nxt)[:4], "big")
                    hops += 1
