"""The live rows of one target table, held compactly and decoded only where a record needs them.

Recovery compares each record it finds with the live rows (``triage.recovery.scan``), and learns
from them which storage classes each column holds (``triage.recovery.signature``). Holding every
live row decoded costs about 400 bytes a row and most of the scan's time on a large table, yet a
scan finds few records. So one pass over the table's cells keeps, per row, only its rowid, where
its cell is (page and offset), where its payload starts and what its record header says (shared
by the rows of one header); the shapes of the records (storage class per field, from the serial
types of the record header, https://www.sqlite.org/fileformat2.html section 2.1) are kept once
per distinct shape. A hash of each key column's value is read from those when a found record is
first compared by key (a scan that finds nothing, as in free space zeroed, never reads a key:
the pass over 300,000 WhatsApp rows took 6.95 -> 5.03 G instructions without them), and a row's
values are decoded from its cell again when a found record is compared with it.

What the scan sees is exactly what decoding every row would give: a record that does not decode
(a header or body that does not add up, text that is not in the database encoding) counts as a
row of NULLs, as before; duplicate rowids (a damaged tree) keep the last cell, keys the first row.

The pass runs once per row of a table of hundreds of thousands, so it reads a cell inline when
its varints are short and its payload stays on the page (nearly every message row), and what a
record header says (shape, length, where its TEXT values and keys lie) once per distinct header,
not per row; any other cell goes the general way (``table_leaf_cell``, ``DatabaseImage.payload``).
It also notes each leaf page's free spans, so the scan carves them without reading the cells again.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from triage.recovery.signature import TableSignature
from triage.sqlitefile.btree import free_spans, table_leaf_cell
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
# How a key column's value is read from a record: the rowid, a constant, or decoded.
_ROWID, _CONST, _TEXT_KEY, _DECODE = range(4)
_UNSEEN = object()
# A row whose record decodes but was read the general way: its keys are decoded from its cell.
_GENERAL = object()


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


def _header_facts(header: bytes, keys: list[int], rc: int | None) -> tuple | None:
    """What a record header alone says (``header``: the record's first bytes, up to its first
    value): (class code per field, record length, TEXT value spans, how to read each key, whether
    every key is NULL); ``None`` for a header that does not parse or holds a reserved type."""
    try:
        serials, head = parse_header(header)
    except (Corrupt, IndexError):
        return None
    classes = bytes(_CLASS_OF[s] if s < 128 else (_TEXT if s % 2 else _BLOB) for s in serials)
    if _RESERVED in classes:
        return None
    offsets = list(accumulate(map(serial_size, serials), initial=head))
    texts = tuple((offsets[i], offsets[i + 1]) for i, c in enumerate(classes) if c == _TEXT)
    how: list[tuple] = []
    for k in keys:
        serial = serials[k] if k < len(serials) else 0
        if k < len(serials) and k == rc:
            how.append((_ROWID,))
        elif serial in (0, 8, 9):
            how.append((_CONST, (None, 0, 1)[serial - 7 if serial else 0]))
        elif serial >= 13 and serial % 2:
            how.append((_TEXT_KEY, offsets[k], offsets[k + 1]))
        else:
            how.append((_DECODE, serial, offsets[k]))
    keyless = all(h[0] == _ROWID or (h[0] == _CONST and h[1] is None) for h in how)
    return classes, offsets[-1], texts, how, keyless


class LiveRows:
    """The live rows of the table of ``sig`` in ``image``: rowids, cell places, key hashes."""

    def __init__(self, image: DatabaseImage, sig: TableSignature, keys: list[int]) -> None:
        self.image = image
        self.sig = sig
        self.keys = keys
        self.width = len(sig.columns)
        self.rowids = array("q")
        self._places = array("q")
        # Per row: where its payload starts on its page and its header's facts (_header_facts),
        # or _GENERAL, or None for a record that does not decode.
        self._starts = array("q")
        self._heads: list[Any] = []
        # Read when first wanted (_read_keys): the hash of each key column's value per row, and
        # the rows whose keys are all NULL (others never match by value).
        self._key_hashes: list[array] | None = None
        self._no_key: list[int] = []
        self._shapes: dict[bytes | None, None] = {}  # distinct shapes, in first-seen order
        self._by_rowid: dict[int, int] | None = None
        self._sorted_keys: list[list[int] | None] = [None for _ in keys]
        self._lookups = 0
        self._contents: set[tuple] | None = None
        #: Free spans of each leaf page read, for the scan to carve without reading cells again.
        self.gaps: dict[int, list[tuple[int, int]]] = {}
        self._read()

    # --- the one pass --------------------------------------------------------------------------

    def _read(self) -> None:
        """Every cell of the table, page by page. A cell whose varints are short and whose
        payload stays on its page (nearly all) is read inline; any other goes through
        ``table_leaf_cell`` and ``DatabaseImage.payload``, which give the same for these."""
        image, rc, encoding, usable = (
            self.image,
            self.sig.rowid_column,
            self.image.encoding,
            self.image.usable,
        )
        max_local = usable - 35
        rowids, places, shapes = self.rowids, self._places, self._shapes
        starts, heads = self._starts, self._heads
        facts: dict[bytes, tuple | None] = {}
        keys = self.keys
        utf8 = encoding == "utf-8"
        ascending, last = True, -(1 << 63) - 1
        for page_no, page, header, pointers in image.table_leaves(self.sig.root):
            pb = bytes(page)
            used = [(0, header.pointers_end)]
            base = page_no << 16
            for ptr in pointers:
                # Inline: payload length and rowid of at most 2 and 3 varint bytes, no overflow.
                plen = -1
                b = pb[ptr]
                if b < 0x80:
                    plen, p = b, ptr + 1
                elif ptr + 1 < usable and pb[ptr + 1] < 0x80:
                    plen, p = (b & 0x7F) << 7 | pb[ptr + 1], ptr + 2
                if 0 <= plen <= max_local and p + 3 <= usable:
                    b = pb[p]
                    if b < 0x80:
                        rowid, p = b, p + 1
                    elif pb[p + 1] < 0x80:
                        rowid, p = (b & 0x7F) << 7 | pb[p + 1], p + 2
                    elif pb[p + 2] < 0x80:
                        rowid, p = ((b & 0x7F) << 7 | (pb[p + 1] & 0x7F)) << 7 | pb[p + 2], p + 3
                    else:
                        plen = -1
                    if p + plen > usable:
                        plen = -1
                else:
                    plen = -1
                if plen < 0:
                    try:
                        cell = table_leaf_cell(page, ptr, usable)
                    except Corrupt:
                        used.append((ptr, ptr + 4))
                        continue
                    used.append((ptr, cell.end))
                    if cell.rowid <= last:
                        ascending = False
                    last = cell.rowid
                    rowids.append(cell.rowid)
                    places.append(base | ptr)
                    self._note(image.payload(page, cell)[0], encoding)
                    continue
                end = p + plen
                used.append((ptr, end))
                if rowid <= last:
                    ascending = False
                last = rowid
                rowids.append(rowid)
                places.append(base | ptr)
                head = pb[p] if plen else 0
                if not 0 < head < 0x80 or head > plen:
                    self._note(pb[p:end], encoding)
                    continue
                record_header = pb[p : p + head]
                fact = facts.get(record_header, _UNSEEN)
                if fact is _UNSEEN:
                    fact = facts[record_header] = _header_facts(record_header, keys, rc)
                if fact is not None and fact[1] == plen:
                    try:
                        for lo, hi in fact[2]:
                            # ASCII is valid UTF-8: only other text needs decoding to know.
                            if not (utf8 and pb[p + lo : p + hi].isascii()):
                                pb[p + lo : p + hi].decode(encoding)
                    except UnicodeDecodeError:
                        fact = None
                else:
                    fact = None
                shapes[None if fact is None else fact[0]] = None
                starts.append(p)
                heads.append(fact)
            self.gaps[page_no] = free_spans(used, usable)
        if not ascending:
            self._dedupe()

    def _note(self, payload: bytes, encoding: str) -> None:
        """The shape of a row read the general way (its keys are read from its cell later)."""
        shaped = _shape(payload, encoding)
        self._shapes[None if shaped is None else shaped[0]] = None
        self._starts.append(0)
        self._heads.append(None if shaped is None else _GENERAL)

    def _read_keys(self) -> list[array]:
        """The hash of each key column's value per row (and the rows whose keys are all NULL),
        read once, when first wanted, from where the pass found each row's payload and what its
        record header said: the same values the pass would have read."""
        if self._key_hashes is not None:
            return self._key_hashes
        key_hashes = [array("q") for _ in self.keys]
        no_key: list[int] = []
        image, rc, encoding = self.image, self.sig.rowid_column, self.image.encoding
        none_hash = hash(None)
        page_no, pb = -1, b""
        rows = zip(self._heads, self._starts, self._places, self.rowids, strict=True)
        for i, (fact, p, place, rowid) in enumerate(rows):
            if fact is None:
                for hashes in key_hashes:
                    hashes.append(none_hash)
                no_key.append(i)
            elif fact is _GENERAL:
                payload = self._payload(place)
                _classes, serials, offsets = _shape(payload, encoding)  # type: ignore[misc]
                all_null = True
                for hashes, k in zip(key_hashes, self.keys, strict=True):
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
                    no_key.append(i)
            else:
                if place >> 16 != page_no:
                    page_no = place >> 16
                    pb = bytes(image.page(page_no))
                for hashes, how in zip(key_hashes, fact[3], strict=True):
                    if how[0] == _TEXT_KEY:
                        hashes.append(hash(pb[p + how[1] : p + how[2]].decode(encoding)))
                    elif how[0] == _CONST:
                        hashes.append(hash(how[1]))
                    elif how[0] == _ROWID:
                        hashes.append(hash(rowid))
                    else:
                        hashes.append(hash(decode_value(how[1], pb, p + how[2], encoding)))
                if fact[4]:
                    no_key.append(i)
        self._key_hashes, self._no_key = key_hashes, no_key
        return key_hashes

    def _dedupe(self) -> None:
        """A damaged tree with rowids out of order or repeated: as a dict of rowid -> last cell
        in first-seen order, read again."""
        places: dict[int, int] = {}
        for rowid, place in zip(self.rowids, self._places, strict=True):
            places[rowid] = place
        self.rowids, self._places = array("q"), array("q")
        self._starts, self._heads, self._shapes = array("q"), [], {}
        encoding = self.image.encoding
        for rowid, place in places.items():
            self.rowids.append(rowid)
            self._places.append(place)
            self._note(self._payload(place), encoding)
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
        hashes, target = self._read_keys()[slot], hash(value)
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
            self._read_keys()
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
