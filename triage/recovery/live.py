"""The live rows of one target table, held compactly and decoded only where a record needs them.

Recovery compares each record it finds with the live rows (``triage.recovery.scan``), and learns
from them which storage classes each column holds (``triage.recovery.signature``). Holding every
live row decoded costs about 400 bytes a row and most of the scan's time on a large table, yet a
scan finds few records. So one pass over the table's cells keeps, per row, only its rowid, where
its cell is (page and offset), and a hash of each key column's value; the shapes of the records
(storage class per field, from the serial types of the record header,
https://www.sqlite.org/fileformat2.html section 2.1) are kept once per distinct shape. A row's
values are decoded from its cell again when a found record is compared with it.

What the scan sees is exactly what decoding every row would give: a record that does not decode
(a header or body that does not add up, text that is not in the database encoding) counts as a
row of NULLs, as before; duplicate rowids (a damaged tree) keep the last cell, keys the first row.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from triage.recovery.signature import TableSignature
from triage.sqlitefile.btree import table_leaf_cell
from triage.sqlitefile.image import DatabaseImage
from triage.sqlitefile.record import Corrupt, decode_record, decode_value, parse_header, serial_size

# Storage class codes of serial types 0-127 (one byte each, so a header of one-byte serial types
# maps to its shape with one bytes.translate): NULL, integer, float, BLOB, TEXT, reserved.
_NULL, _INT, _FLOAT, _BLOB, _TEXT, _RESERVED = range(6)
_CLASS_OF = bytes(
    _NULL
    if s == 0
    else _INT
    if s <= 6 or s in (8, 9)
    else _FLOAT
    if s == 7
    else _RESERVED
    if s in (10, 11)
    else (_TEXT if s % 2 else _BLOB)
    for s in range(128)
) + bytes(128)
_SIZE_OF = [max(serial_size(s), 0) for s in range(128)]
_SAMPLE = (None, 0, 0.0, b"", "", None)
# Linear search of the key hashes is quicker than sorting them for a few look-ups.
_LINEAR_LOOKUPS = 64


def _shape(payload: bytes, encoding: str) -> tuple[bytes, list[int], list[int]] | None:
    """(class code per field, serial types, value offsets) of a record that decodes; ``None``
    for one that would not (what ``decode_record`` raises on)."""
    head = payload[0] if payload else 0
    fast = 0 < head < 0x80 and head <= len(payload)
    if fast:
        header = payload[1:head]
        fast = not header or max(header) < 0x80
    if fast:
        serials = list(header)
        classes = header.translate(_CLASS_OF)
        offsets = list(accumulate(map(_SIZE_OF.__getitem__, serials), initial=head))
    else:
        try:
            serials, head = parse_header(payload)
        except (Corrupt, IndexError):
            return None
        classes = bytes(_CLASS_OF[s] if s < 128 else (_TEXT if s % 2 else _BLOB) for s in serials)
        offsets = list(accumulate(map(serial_size, serials), initial=head))
    if _RESERVED in classes or offsets[-1] != len(payload):
        return None
    start = classes.find(_TEXT)
    while start >= 0:
        try:
            payload[offsets[start] : offsets[start + 1]].decode(encoding)
        except UnicodeDecodeError:
            return None
        start = classes.find(_TEXT, start + 1)
    return classes, serials, offsets


class LiveRows:
    """The live rows of the table of ``sig`` in ``image``: rowids, cell places, key hashes."""

    def __init__(self, image: DatabaseImage, sig: TableSignature, keys: list[int]) -> None:
        self.image = image
        self.sig = sig
        self.keys = keys
        self.width = len(sig.columns)
        self.rowids = array("q")
        self._places = array("q")
        self._key_hashes = [array("q") for _ in keys]
        self._shapes: dict[bytes | None, int] = {}
        self._no_key: list[int] = []  # rows whose keys are all NULL (others never match by value)
        self._by_rowid: dict[int, int] | None = None
        self._sorted_keys: list[list[int] | None] = [None for _ in keys]
        self._lookups = 0
        self._contents: set[tuple] | None = None
        self._read(image.table_cells(sig.root))

    # --- the one pass --------------------------------------------------------------------------

    def _read(self, cells: Iterator) -> None:
        image, rc, encoding = self.image, self.sig.rowid_column, self.image.encoding
        page_no_seen, page = -1, None
        ascending, last = True, None
        for page_no, cell in cells:
            if page_no != page_no_seen:
                page, page_no_seen = image.page(page_no), page_no
            if last is not None and cell.rowid <= last:
                ascending = False
            last = cell.rowid
            self.rowids.append(cell.rowid)
            self._places.append(page_no << 16 | cell.offset)
            payload, _complete = image.payload(page, cell)
            self._note(payload, cell.rowid, rc, encoding)
        if not ascending:
            self._dedupe()

    def _note(self, payload: bytes, rowid: int, rc: int | None, encoding: str) -> None:
        shaped = _shape(payload, encoding)
        if shaped is None:
            self._shapes[None] = self._shapes.get(None, 0) + 1
            for hashes in self._key_hashes:
                hashes.append(hash(None))
            self._no_key.append(len(self.rowids) - 1)
            return
        classes, serials, offsets = shaped
        self._shapes[classes] = self._shapes.get(classes, 0) + 1
        all_null = True
        for hashes, k in zip(self._key_hashes, self.keys, strict=True):
            if k >= len(serials):
                value = None
            elif k == rc:
                value = rowid
            else:
                value = decode_value(serials[k], payload, offsets[k], encoding)
            if value is not None and k != rc:
                all_null = False
            hashes.append(hash(value))
        if all_null:
            self._no_key.append(len(self.rowids) - 1)

    def _dedupe(self) -> None:
        """A damaged tree with rowids out of order or repeated: as a dict of rowid -> last cell
        in first-seen order, read again."""
        places: dict[int, int] = {}
        for rowid, place in zip(self.rowids, self._places, strict=True):
            places[rowid] = place
        self.rowids, self._places = array("q"), array("q")
        self._key_hashes = [array("q") for _ in self.keys]
        self._shapes, self._no_key = {}, []
        rc, encoding = self.sig.rowid_column, self.image.encoding
        for rowid, place in places.items():
            self.rowids.append(rowid)
            self._places.append(place)
            self._note(self._payload(place), rowid, rc, encoding)
        self._by_rowid = {rowid: i for i, rowid in enumerate(self.rowids)}

    # --- what the scan asks --------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.rowids)

    def samples(self) -> Iterator[list[Any]]:
        """One row of stand-in values per distinct record shape: what ``TableSignature.learn``
        reads of live rows (field count, storage class per column, how many are not NULL)."""
        rc = self.sig.rowid_column
        for classes in self._shapes:
            if classes is None:
                yield [None] * self.width
                continue
            values = [_SAMPLE[c] for c in classes]
            if rc is not None and rc < len(values):
                values[rc] = 0
            yield values + [None] * (self.width - len(values))

    def index(self, rowid: int) -> int | None:
        if self._by_rowid is not None:
            return self._by_rowid.get(rowid)
        i = bisect.bisect_left(self.rowids, rowid)
        return i if i < len(self.rowids) and self.rowids[i] == rowid else None

    def __contains__(self, rowid: int) -> bool:
        return self.index(rowid) is not None

    def values(self, rowid: int) -> list[Any]:
        """The live row's values as decoding its record gives them (rowid alias filled in)."""
        i = self.index(rowid)
        if i is None:
            raise KeyError(rowid)
        return self._decode(i)

    def by_key(self, k: int, value: Any) -> int | None:
        """The rowid of the first live row whose column ``k`` equals ``value`` (not NULL)."""
        if value is None:
            return None
        slot = self.keys.index(k)
        hashes, target = self._key_hashes[slot], hash(value)
        self._lookups += 1
        if self._lookups > _LINEAR_LOOKUPS and self._sorted_keys[slot] is None:
            self._sorted_keys[slot] = sorted(range(len(hashes)), key=hashes.__getitem__)
        order = self._sorted_keys[slot]
        if order is None:
            candidates: Iterator[int] = self._linear(hashes, target)
        else:
            lo = bisect.bisect_left(order, target, key=hashes.__getitem__)
            candidates = iter(order[lo:])
        for i in candidates:
            if hashes[i] != target:
                break
            if self._decode(i)[k] == value:
                return self.rowids[i]
        return None

    @staticmethod
    def _linear(hashes: array, target: int) -> Iterator[int]:
        start = 0
        while True:
            try:
                start = hashes.index(target, start)
            except ValueError:
                return
            yield start
            start += 1

    def has_content(self, content: tuple, ipk: int | None) -> bool:
        """Whether a live row whose keys are all NULL holds exactly ``content`` (the rowid alias
        ignored); rows with a key are matched through the key instead."""
        if self._contents is None:
            self._contents = {
                tuple(None if j == ipk else v for j, v in enumerate(self._decode(i)))
                for i in self._no_key
            }
        return content in self._contents

    # --- decoding one row ----------------------------------------------------------------------

    def _payload(self, place: int) -> bytes:
        page = self.image.page(place >> 16)
        cell = table_leaf_cell(page, place & 0xFFFF, self.image.usable)
        return self.image.payload(page, cell)[0]

    def _decode(self, i: int) -> list[Any]:
        try:
            values = decode_record(self._payload(self._places[i]), self.image.encoding)
        except (Corrupt, IndexError):
            values = []
        rc = self.sig.rowid_column
        if rc is not None and rc < len(values):
            values[rc] = self.rowids[i]
        return values + [None] * (self.width - len(values))
