"""The live rows recovery compares found records with, read page by page from the file's bytes.

``triage.recovery.live.LiveRows`` reads most cells inline (short varints, payload on the page)
and the rest through ``table_leaf_cell``; both must give what SQLite itself reads from the same
file. The databases are WhatsApp Android ``message`` tables (the real CREATE statement, see
tests/sqlite_churn.py) written by SQLite with values chosen to reach every branch: rowids from one
to nine varint bytes and negative ones, record headers of one- and two-byte serial types, texts
that spill to overflow pages, non-ASCII and invalid UTF-8 text, a BLOB and a REAL in TEXT and
INTEGER columns, repeated keys; with and without the WAL kept.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from tests.sqlite_churn import kinds
from triage.recovery.live import LiveRows
from triage.recovery.signature import TableSignature, value_class
from triage.sqlitefile.btree import (
    TABLE_LEAF,
    cell_pointers,
    leaf_free_spans,
    page_header,
    spill_candidates,
    spills,
)
from triage.sqlitefile.image import DatabaseImage
from triage.sqlitefile.record import read_varint
from triage.sqlitefile.schema import read_schema, table_columns
from triage.sqlitefile.wal import parse_wal

ROWIDS = [
    1,
    2,
    127,
    128,
    129,
    16383,
    16384,
    2097151,
    2097152,
    2**35,
    2**56,
    2**63 - 1,
    -1,
    -(2**63),
]


def _build(path: Path, page_size: int, wal: bool) -> sqlite3.Connection:
    rng = random.Random(page_size * 2 + wal)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA page_size={page_size}")
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(kinds()["whatsapp"].create)
    conn.execute("CREATE INDEX message_text ON message (text_data)")
    rowids = ROWIDS + rng.sample(range(3, 3_000_000), 400)
    conn.execute("BEGIN")
    for n, rowid in enumerate(rowids):
        length = rng.choice([0, 1, 20, 57, 58, 59, 63, 64, 300, 2000, 9000])
        text = "".join(rng.choice("abcdefgh é😀дом") for _ in range(length))
        key = f"3EB0{n % 350:016X}"  # some keys repeat
        conn.execute(
            "INSERT INTO message (_id, chat_row_id, from_me, key_id, timestamp, text_data,"
            " sort_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rowid,
                rng.randint(1, 9),
                n % 2,
                key,
                1_774_000_000_000 + n,
                text or None,
                n,
                rng.choice([None, 0, 5, 1.5]),
            ),
        )
    conn.execute("UPDATE message SET key_id = X'00ff' WHERE _id = 129")  # a BLOB in a TEXT column
    conn.execute("UPDATE message SET text_data = CAST(X'c328ff' AS TEXT) WHERE _id = 16384")
    conn.execute("DELETE FROM message WHERE _id % 7 = 3")
    conn.execute("COMMIT")
    return conn


def _live(image: DatabaseImage) -> LiveRows:
    entry = next(e for e in read_schema(image) if e.name == "message")
    columns = table_columns(entry.sql)
    assert columns is not None
    sig = TableSignature("message", entry.rootpage, columns[0], ("key_id",))
    return LiveRows(image, sig, [sig.names.index("key_id")])


@pytest.mark.parametrize("page_size", [512, 1024, 4096, 65536])
@pytest.mark.parametrize("wal", [False, True])
def test_live_rows_are_what_sqlite_reads(tmp_path: Path, page_size: int, wal: bool) -> None:
    path = tmp_path / "msgstore.db"
    conn = _build(path, page_size, wal)
    wal_bytes = Path(str(path) + "-wal").read_bytes() if wal else None
    image = DatabaseImage(path.read_bytes(), parse_wal(wal_bytes) if wal_bytes else None)
    live = _live(image)
    conn.text_factory = bytes
    rows = conn.execute("SELECT * FROM message ORDER BY _id").fetchall()
    assert list(live.rowids) == [r[0] for r in rows] and len(rows) > 300

    bad = {16384}  # its text is not UTF-8: the record does not decode, as if all NULL
    expected_shapes = {("null",) * len(rows[0])}
    first_by_key: dict[object, int] = {}
    for row in rows:
        got = live.values(row[0])
        if row[0] in bad:
            assert got == [None] * len(row)
            continue
        want = [v.decode() if isinstance(v, bytes) and i != 3 else v for i, v in enumerate(row)]
        if row[0] == 129:
            assert want[3] == b"\x00\xff"
        else:
            want[3] = want[3].decode()
        assert got == want
        expected_shapes.add(tuple(value_class(v) for v in want))
        first_by_key.setdefault(want[3], row[0])
    samples = {tuple(value_class(v) for v in s) for s in live.samples()}
    assert samples == expected_shapes
    for key, rowid in first_by_key.items():
        assert live.by_key(3, key) == rowid
    assert live.by_key(3, "3EB0-not-a-key") is None

    checked = 0
    for page_no, gaps in live.gaps.items():
        page = image.page(page_no)
        header = page_header(page, page_no, image.usable)
        assert header.kind == TABLE_LEAF
        pointers = cell_pointers(page, header, image.usable)
        assert gaps == leaf_free_spans(page, header, pointers, image.usable)
        checked += 1
    assert checked > 1


def _index_spills(page: bytes, ptr: int, usable: int) -> bool:
    from triage.sqlitefile.btree import local_size

    length, _ = read_varint(page, ptr)
    return local_size(length, usable, table_leaf=False) < length


@pytest.mark.parametrize("usable", [480, 512, 1000, 1024, 4096, 65536])
def test_spill_candidates_never_miss_a_spilling_cell(usable: int) -> None:
    rng = random.Random(usable)
    for _ in range(300):
        page = bytes(
            rng.choice([0, 0x7F, 0x80, 0x81, 0xFF, rng.randrange(256)]) for _ in range(usable)
        )
        pointers = rng.sample(range(usable), 40)
        for table_leaf in (True, False):
            found = set(spill_candidates(page, pointers, usable, table_leaf))
            for ptr in pointers:
                try:
                    spilling = (
                        spills(page, ptr, usable)
                        if table_leaf
                        else _index_spills(page, ptr, usable)
                    )
                except IndexError:
                    continue  # the length runs past the page: the caller skips such a cell
                if spilling:
                    assert ptr in found, (usable, table_leaf, ptr, page[ptr : ptr + 9])
