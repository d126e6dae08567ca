"""Find the deleted and changed rows of chosen tables in a database file and its WAL.

Where deleted records survive (https://www.sqlite.org/fileformat2.html):

* **WAL frames** (section 4): every frame is an image of one page at one commit; frames older than
  a page's newest committed copy, frames of an unfinished transaction and frames a restarted log
  left behind with old salts all hold earlier versions of rows. The database file's own copy of a
  page the WAL replaces is an earlier version too.
* **Freelist pages** (section 1.5): a page freed as a freelist leaf keeps its old content; one that
  became a trunk loses its first 8 bytes plus 4 per leaf it lists.
* **Free space of b-tree pages** (section 1.6): free blocks, fragments and the unallocated gap
  between the cell pointer array and the cell content area hold freed cells until reused.
* **Unreferenced pages**: pages inside the database that no b-tree, freelist or pointer map uses.

Each record found is compared with the live rows (the database as SQLite reads it, WAL applied):
a record equal to a live row is a stale copy and dropped; one whose rowid or key column matches a
live row with other values is a ``changed`` version of it; the rest are ``deleted``. Records from
``torn`` WAL frames (checksum fails: content unverified) have low confidence and are never shown
as changes of a live row. Copies of one
record found in several places are reported once, with the other places counted.

``secure_delete`` (https://www.sqlite.org/pragma.html#pragma_secure_delete) zeroes freed content;
no header field records it, so when all free space scanned is zero the result says so rather than
reporting nothing silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from triage.recovery.carve import Carved, Carver
from triage.recovery.live import LiveRows
from triage.recovery.signature import TableSignature, fits
from triage.sqlitefile.btree import (
    TABLE_LEAF,
    cell_pointers,
    freeblocks,
    leaf_free_spans,
    page_header,
    table_leaf_cell,
)
from triage.sqlitefile.image import DatabaseImage
from triage.sqlitefile.record import Corrupt, decode_record, parse_header
from triage.sqlitefile.schema import read_schema, table_columns
from triage.sqlitefile.wal import Wal, WalFrame, parse_wal

CONFIDENCES = ("high", "medium", "low")
ZEROED_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class RecoverySource:
    """Where a recovered record was read. ``kind``: ``wal`` (an older WAL frame's cell),
    ``wal-free`` (free space of a WAL frame's page), ``superseded`` (the database file's copy of a
    page the WAL replaces), ``free-block``, ``unallocated`` (free space of a live page),
    ``freelist`` (``detail`` trunk or leaf) or ``unreferenced`` (a page nothing uses)."""

    kind: str
    page: int
    offset: int
    frame: int | None = None
    salt: str | None = None
    frame_state: str | None = None
    detail: str | None = None

    def describe(self) -> str:
        where = f"page {self.page} offset {self.offset}"
        if self.frame is not None:
            free = ", free space" if self.kind == "wal-free" else ""
            return f"WAL frame {self.frame} (salt {self.salt}, {self.frame_state}{free}) {where}"
        if self.kind == "freelist":
            return f"freelist page {self.page} ({self.detail}) offset {self.offset}"
        label = {
            "superseded": "database file copy superseded by the WAL",
            "free-block": "free block",
            "unallocated": "unallocated space",
            "unreferenced": "unreferenced page",
        }[self.kind]
        return f"{where} ({label})"


@dataclass(slots=True)
class RecoveredRecord:
    """A row that is not live. ``fields`` holds the surviving values by column name; ``lost``
    names the columns whose value did not survive. ``status`` is ``deleted`` or ``changed``
    (``live_rowid`` then names the live row it is another version of). ``also_found`` counts
    the other copies of it found in other places (byte-identical cells repeated in later page
    images are read once and not counted)."""

    table: str
    rowid: int | None
    fields: dict[str, Any]
    lost: tuple[str, ...]
    source: RecoverySource
    state: str
    confidence: str
    status: str = "deleted"
    live_rowid: int | None = None
    also_found: int = 0

    def value(self, column: str) -> Any:
        return self.fields.get(column)

    def facts(self) -> dict[str, Any]:
        """What a recovered message carries about its recovery (JSON-ready)."""
        return {
            "status": self.status,
            "confidence": self.confidence,
            "source": self.source.describe(),
            "source_kind": self.source.kind,
            "page": self.source.page,
            "offset": self.source.offset,
            "wal_frame": self.source.frame,
            "wal_salt": self.source.salt,
            "wal_frame_state": self.source.frame_state,
            "record_state": self.state,
            "rowid": self.rowid,
            "lost_fields": list(self.lost),
            "live_rowid": self.live_rowid,
            "also_found": self.also_found,
        }


@dataclass
class TableReport:
    table: str
    live_rows: int
    records: list[RecoveredRecord] = field(default_factory=list)


@dataclass
class RecoveryResult:
    """What a scan found, and what it looked at (so "nothing found" can be explained)."""

    tables: dict[str, TableReport]
    page_size: int
    auto_vacuum: str
    wal_frames: int = 0
    wal_frames_by_state: dict[str, int] = field(default_factory=dict)
    pages_scanned: dict[str, int] = field(default_factory=dict)
    free_bytes: int = 0
    nonzero_free_bytes: int = 0
    zeroed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[RecoveredRecord]:
        return [r for t in self.tables.values() for r in t.records]

    def summary(self) -> str:
        """One line for the run's decisions: what was found where, and the notes."""
        records = self.records
        deleted = sum(r.status == "deleted" for r in records)
        changed = len(records) - deleted
        places = sorted({r.source.kind for r in records})
        text = (
            f"{deleted} deleted and {changed} changed rows recovered"
            + (f" (from {', '.join(places)})" if places else "")
            + f"; {self.wal_frames} WAL frames read; free bytes scanned {self.free_bytes}"
        )
        return "; ".join([text, *self.notes])


@dataclass(slots=True)
class _Found:
    table: str
    rowid: int | None
    values: list[Any]
    lost: set[int]
    state: str
    source: RecoverySource


def _confidence(state: str, lost: set[int], rowid_column: int | None) -> str:
    other_lost = lost - {rowid_column}
    if other_lost:
        return "low"
    return "high" if state in ("cell", "intact") else "medium"


class Scanner:
    """One scan of one database (bytes of the file and of its ``-wal``, if any)."""

    def __init__(
        self,
        db: bytes | memoryview,
        wal: bytes | memoryview | None,
        targets: Mapping[str, tuple[str, ...]],
    ) -> None:
        parsed = parse_wal(wal) if wal else None
        self.image = DatabaseImage(db, parsed)
        self.wal: Wal | None = self.image.wal
        self.result = RecoveryResult({}, self.image.page_size, self.image.header.auto_vacuum)
        if self.image.wal_ignored:
            self.result.notes.append("the -wal's page size differs from the database's: not read")
        self.sigs: dict[str, TableSignature] = {}
        self.live: dict[str, LiveRows] = {}
        self.owner: dict[int, tuple[str, str]] = {}
        schema = read_schema(self.image)
        for entry in schema:
            if entry.rootpage > 0:
                for page_no, role in self.image.tree_pages(entry.rootpage):
                    self.owner.setdefault(page_no, (role, entry.tbl_name))
            if entry.type != "table" or entry.name not in targets or not entry.sql:
                continue
            parsed_cols = table_columns(entry.sql)
            if parsed_cols is None or not parsed_cols[1]:
                continue
            sig = TableSignature(entry.name, entry.rootpage, parsed_cols[0], targets[entry.name])
            self.sigs[entry.name] = sig
        for page_no, role in self.image.tree_pages(1):
            self.owner.setdefault(page_no, (role, "sqlite_master"))
        trunks, leaves = self.image.freelist()
        self.trunks = dict(trunks)
        for page_no, _count in trunks:
            self.owner[page_no] = ("freelist", "trunk")
        for page_no in leaves:
            self.owner[page_no] = ("freelist", "leaf")
        for page_no in self.image.pointer_map_pages():
            self.owner.setdefault(page_no, ("ptrmap", ""))
        for name, sig in self.sigs.items():
            keys = [sig.names.index(k) for k in sig.key_columns if k in sig.names]
            live = self.live[name] = LiveRows(self.image, sig, keys)
            sig.learn(live.samples())
            self.result.tables[name] = TableReport(name, len(live))
        self.carvers = {
            name: Carver(sig, self.image.usable, self.image.encoding, self._overflow_page)
            for name, sig in self.sigs.items()
        }
        self.found: list[_Found] = []
        self._seen_images: set[bytes] = set()
        self._seen_regions: set[bytes] = set()
        self._seen_cells: set[bytes] = set()

    def _overflow_page(self, page_no: int) -> memoryview | None:
        if not 1 < page_no <= self.image.page_count:
            return None
        # Live b-tree and pointer-map pages hold other data now; a freelist trunk's first 8 bytes
        # were rewritten, so the chain cannot be followed through it.
        role = self.owner.get(page_no, ("", ""))
        if role[0] in ("btree", "overflow", "ptrmap") or role == ("freelist", "trunk"):
            return None
        return self.image.page(page_no)

    # --- the scan ------------------------------------------------------------------------------

    def run(self) -> RecoveryResult:
        if not self.sigs:
            return self.result
        self._current_pages()
        self._dead_pages()
        self._wal_frames()
        self._settle()
        r = self.result
        damaged = sorted(p for p, (role, _t) in self.owner.items() if role == "damaged")
        if damaged:
            r.notes.append(
                f"{len(damaged)} page(s) of live b-trees are damaged (not b-tree pages: "
                f"{', '.join(map(str, damaged[:5]))}); their rows are not live-readable and were "
                "not carved as deleted"
            )
        from_free = [x for x in r.records if x.source.kind not in ("wal", "superseded")]
        # Stale cell-pointer slots and merged free-block headers stay non-zero even under
        # secure_delete, so "zeroed" allows a small share of non-zero bytes.
        if r.free_bytes and r.nonzero_free_bytes <= r.free_bytes * ZEROED_SHARE and not from_free:
            zero = r.free_bytes - r.nonzero_free_bytes
            r.zeroed = True
            r.notes.append(
                f"free space is zeroed ({zero} of {r.free_bytes} free bytes are zero), as "
                "secure_delete leaves it: no deleted record can be recovered from it"
            )
        return self.result

    def _count(self, what: str) -> None:
        self.result.pages_scanned[what] = self.result.pages_scanned.get(what, 0) + 1

    def _current_pages(self) -> None:
        tables = {sig.table for sig in self.sigs.values()}
        for page_no, (role, name) in sorted(self.owner.items()):
            if role != "btree" or name not in tables:
                continue
            self._count("table pages")
            gaps = self.live[name].gaps.get(page_no)
            self._page_free_space(self.image.page(page_no), page_no, [name], None, gaps=gaps)

    def _dead_pages(self) -> None:
        for page_no in range(2, self.image.page_count + 1):
            role, detail = self.owner.get(page_no, ("unreferenced", ""))
            if role not in ("freelist", "unreferenced"):
                continue
            self._count(f"{role} pages")
            page = self.image.page(page_no)
            if role == "freelist" and detail == "trunk":
                lo = 8 + 4 * self.trunks.get(page_no, 0)
                self._carve_all(page, page_no, lo, self.image.usable, "freelist", detail, None)
                continue
            kind = "freelist" if role == "freelist" else "unreferenced"
            if not self._old_leaf(page, page_no, kind, detail or None, None):
                self._carve_all(page, page_no, 0, self.image.usable, kind, detail or None, None)

    def _wal_frames(self) -> None:
        wal = self.wal
        if wal is None:
            return
        self.result.wal_frames = len(wal.frames)
        for frame in wal.frames:
            state = self.result.wal_frames_by_state
            state[frame.state] = state.get(frame.state, 0) + 1
        for page_no in sorted(self.image.overlay):
            if page_no * self.image.page_size <= len(self.image.data):
                self._count("superseded file pages")
                self._old_page(self.image.file_page(page_no), page_no, None)
        # Free space is carved in the oldest image of each page per log generation only: what a
        # later image has in free space was deleted after the oldest, which holds it as a cell.
        first: set[tuple[int, int, int]] = set()
        for frame in wal.frames:
            key = (frame.page_no, frame.salt1, frame.salt2)
            oldest = key not in first
            first.add(key)
            if frame.latest or not frame.page_no:
                continue
            self._count("older WAL frames")
            self._old_page(wal.page(frame), frame.page_no, frame, oldest)

    # --- one page ------------------------------------------------------------------------------

    def _source(
        self, kind: str, page_no: int, offset: int, frame: WalFrame | None, detail: str | None
    ) -> RecoverySource:
        if frame is not None:
            kind = "wal-free" if kind in ("free-block", "unallocated") else "wal"
            return RecoverySource(
                kind, page_no, offset, frame.index, frame.salt, frame.state, detail
            )
        return RecoverySource(kind, page_no, offset, detail=detail)

    def _old_page(
        self, page: memoryview, page_no: int, frame: WalFrame | None, free: bool = True
    ) -> None:
        """An earlier image of a page (WAL frame or superseded file copy); ``free``: carve its
        free space too."""
        digest = hashlib.sha1(page).digest()
        if digest in self._seen_images:
            return
        self._seen_images.add(digest)
        kind = "superseded" if frame is None else "wal"
        self._old_leaf(page, page_no, kind, None, frame, free)

    def _old_leaf(
        self,
        page: memoryview,
        page_no: int,
        kind: str,
        detail: str | None,
        frame: WalFrame | None,
        free: bool = True,
    ) -> bool:
        """Cells and free space of a page that may still be a table leaf; ``False`` when its
        header is not a table leaf's (the caller then carves the whole page)."""
        try:
            header = page_header(page, page_no, self.image.usable)
            pointers = cell_pointers(page, header, self.image.usable)
        except Corrupt:
            return False
        if header.kind != TABLE_LEAF:
            return header.kind in (0x02, 0x05, 0x0A)
        owners: set[str] = set()
        for ptr in pointers:
            try:
                cell = table_leaf_cell(page, ptr, self.image.usable)
                # The same cell in many frames: decoded once (later copies would be duplicates).
                cell_key = bytes(page[ptr : cell.end])
                if cell.overflow_page is None:
                    if cell_key in self._seen_cells:
                        continue
                    self._seen_cells.add(cell_key)
                as_of = True if kind in ("freelist", "unreferenced") else frame
                payload, complete = self.image.payload(page, cell, as_of)
                serials, _ = parse_header(payload)
            except (Corrupt, IndexError):
                continue
            for name, sig in self.sigs.items():
                if not fits(sig, serials):
                    continue
                owners.add(name)
                if not complete:
                    break
                try:
                    values = decode_record(payload, self.image.encoding)
                except (Corrupt, IndexError):
                    break
                if sig.rowid_column is not None:
                    values[sig.rowid_column] = cell.rowid
                values += [None] * (len(sig.columns) - len(values))
                source = self._source(kind, page_no, ptr, frame, detail)
                self.found.append(_Found(name, cell.rowid, values, set(), "intact", source))
                break
        tables = sorted(owners) or list(self.sigs)
        free_kind = kind if kind in ("freelist", "unreferenced", "superseded") else "free-block"
        if free:
            self._page_free_space(page, page_no, tables, frame, free_kind, detail)
        return True

    def _page_free_space(
        self,
        page: memoryview,
        page_no: int,
        tables: list[str],
        frame: WalFrame | None,
        kind: str = "free-block",
        detail: str | None = None,
        gaps: list[tuple[int, int]] | None = None,
    ) -> None:
        """Carve the free spans of a table leaf page (``gaps``: already known for this page)."""
        usable = self.image.usable
        try:
            header = page_header(page, page_no, usable)
            pointers = cell_pointers(page, header, usable)
        except Corrupt:
            return
        if header.kind != TABLE_LEAF:
            return
        if gaps is None:
            gaps = leaf_free_spans(page, header, pointers, usable)
        blocks = freeblocks(page, header, usable)
        for lo, hi in gaps:
            self._free_region(page, page_no, lo, hi, tables, frame, kind, detail, blocks)

    def _free_region(
        self,
        page: memoryview,
        page_no: int,
        lo: int,
        hi: int,
        tables: list[str],
        frame: WalFrame | None,
        kind: str,
        detail: str | None,
        blocks: list[tuple[int, int]],
    ) -> None:
        chunk = page[lo:hi]
        if frame is None and kind == "free-block":
            # A free block's own 4-byte header (next, size) is never zero; the rest is what
            # secure_delete would have zeroed.
            starts = [s for s, _n in blocks if lo <= s < hi]
            content = bytes(chunk)
            self.result.free_bytes += hi - lo - 4 * len(starts)
            header_nonzero = sum(4 - bytes(page[s : s + 4]).count(0) for s in starts)
            self.result.nonzero_free_bytes += len(content) - content.count(0) - header_nonzero
        if not any(chunk):
            return
        for carved in self._carve(page, lo, hi, tables):
            in_block = any(s <= carved.start < s + n for s, n in blocks)
            if kind == "free-block":
                place = "free-block" if in_block else "unallocated"
            else:
                place = kind
            source = self._source(place, page_no, carved.start, frame, detail)
            self._add(carved, source)

    def _carve_all(
        self,
        page: memoryview,
        page_no: int,
        lo: int,
        hi: int,
        kind: str,
        detail: str | None,
        frame: WalFrame | None,
    ) -> None:
        chunk = page[lo:hi]
        self.result.free_bytes += hi - lo
        self.result.nonzero_free_bytes += (hi - lo) - bytes(chunk).count(0)
        if not any(chunk):
            return
        for carved in self._carve(page, lo, hi, list(self.sigs)):
            self._add(carved, self._source(kind, page_no, carved.start, frame, detail))

    def _carve(self, page: memoryview, lo: int, hi: int, tables: Iterable[str]) -> list[Carved]:
        # Older images of a page mostly repeat the same free bytes: carving bytes already
        # carved could only find copies of records already found.
        tables = list(tables)
        digest = hashlib.sha1(page[lo:hi]).digest() + ",".join(tables).encode()
        if digest in self._seen_regions:
            return []
        self._seen_regions.add(digest)
        found: list[Carved] = []
        for name in tables:
            found.extend(self.carvers[name].carve(page, lo, hi))
        if len(found) > 1 and len({c.table for c in found}) > 1:
            found = Carver._resolve(found)
        return found

    def _add(self, carved: Carved, source: RecoverySource) -> None:
        self.found.append(
            _Found(carved.table, carved.rowid, carved.values, carved.lost, carved.state, source)
        )

    # --- comparison with live rows and de-duplication ------------------------------------------

    def _settle(self) -> None:
        by_table: dict[str, list[_Found]] = {}
        for f in self.found:
            by_table.setdefault(f.table, []).append(f)
        for name, found in by_table.items():
            self.result.tables[name].records = self._settle_table(name, found)

    def _settle_table(self, name: str, found: list[_Found]) -> list[RecoveredRecord]:
        sig = self.sigs[name]
        live = self.live[name]
        ipk = sig.rowid_column

        rank = {"intact": 0, "cell": 0, "record": 1, "types": 2, "rebuilt": 3}
        found.sort(key=lambda f: (len(f.lost), rank[f.state]))
        kept: list[RecoveredRecord] = []
        index: dict[tuple, RecoveredRecord] = {}
        for f in found:
            match_rowid = f.rowid if f.rowid is not None and f.rowid in live else None
            if match_rowid is None:
                for k in live.keys:
                    if k not in f.lost:
                        match_rowid = live.by_key(k, f.values[k])
                        if match_rowid is not None:
                            break
            torn = f.source.frame_state == "torn"
            if match_rowid is not None:
                if torn or self._agrees(f, live.values(match_rowid), ipk):
                    # A stale copy of a live row; from a frame whose checksum fails, a
                    # difference may be the damage itself, so it is not shown as a change.
                    continue
            elif not f.lost - {ipk} and live.has_content(self._content(f.values, ipk, set()), ipk):
                continue  # same values as a live row, rowid lost
            dup = self._duplicate(f, index, ipk)
            if dup is not None:
                dup.also_found += 1
                continue
            record = RecoveredRecord(
                table=name,
                rowid=f.rowid,
                fields={
                    c: v
                    for i, (c, v) in enumerate(zip(sig.names, f.values, strict=False))
                    if i not in f.lost
                },
                lost=tuple(sig.names[i] for i in sorted(f.lost)),
                source=f.source,
                state=f.state,
                confidence="low" if torn else _confidence(f.state, f.lost, ipk),
                status="changed" if match_rowid is not None else "deleted",
                live_rowid=match_rowid,
            )
            kept.append(record)
            index[self._content(f.values, ipk, f.lost)] = record
        kept.sort(key=lambda r: (r.rowid is None, r.rowid or 0, r.source.page, r.source.offset))
        return kept

    @staticmethod
    def _content(values: list[Any], ipk: int | None, lost: set[int]) -> tuple:
        return tuple(None if i == ipk or i in lost else v for i, v in enumerate(values))

    @staticmethod
    def _agrees(f: _Found, live: list[Any], ipk: int | None) -> bool:
        return all(
            i == ipk or i in f.lost or v == live[i] for i, v in enumerate(f.values[: len(live)])
        )

    def _duplicate(
        self, f: _Found, index: dict[tuple, RecoveredRecord], ipk: int | None
    ) -> RecoveredRecord | None:
        content = self._content(f.values, ipk, f.lost)
        exact = index.get(content)
        if exact is not None and (exact.rowid is None or f.rowid in (None, exact.rowid)):
            return exact
        if not f.lost - {ipk}:
            return None
        names = self.sigs[f.table].names
        for record in index.values():
            if f.rowid is not None and record.rowid not in (None, f.rowid):
                continue
            if all(
                i == ipk or i in f.lost or record.fields.get(names[i]) == v
                for i, v in enumerate(f.values)
            ):
                return record
        return None


def recover(
    db: bytes | memoryview,
    wal: bytes | memoryview | None,
    targets: Mapping[str, tuple[str, ...]],
) -> RecoveryResult:
    """Deleted and changed rows of the ``targets`` tables (name -> key columns that identify a
    row besides its rowid, e.g. WhatsApp ``key_id``)."""
    return Scanner(db, wal, targets).run()
