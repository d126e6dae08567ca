"""Recovery of deleted rows (issue 19) on databases built here with a known history.

Each database is churned by SQLite itself (inserts, deletes, updates, more inserts and deletes;
see tests/sqlite_churn.py) across page sizes, auto_vacuum modes, secure_delete and journal modes.
The ground truth is the history: a deleted row is "still physically present" when its unique token
is still in the file's bytes, and a recovered record is true only if its surviving fields equal
one of the versions that row really had.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.sqlite_churn import churn, kinds, score
from triage.recovery.scan import recover
from triage.sqlitefile.image import DatabaseImage
from triage.sqlitefile.record import decode_record, read_varint, varint_size
from triage.sqlitefile.wal import parse_wal


def _recover(c):  # noqa: ANN001, ANN202 - test helper
    wal = c.wal.read_bytes() if c.wal else None
    return recover(c.db.read_bytes(), wal, {c.kind.table: c.kind.key_columns})


@pytest.mark.parametrize("value", [0, 1, 127, 128, 16383, 16384, 2**32, 2**56, 2**63, 2**64 - 1])
def test_varints_read_as_the_format_writes_them(value: int) -> None:
    signed = value - 2**64 if value >= 2**63 else value
    encoded = _sqlite_varint(value)
    assert read_varint(encoded + b"\xff", 0) == (value, len(encoded))
    assert varint_size(signed) == len(encoded)


def _sqlite_varint(value: int) -> bytes:
    """Encoding per https://www.sqlite.org/fileformat2.html section 1.6 (independent of ours)."""
    if value > 0x00FFFFFFFFFFFFFF:
        out = [value & 0xFF]
        value >>= 8
        for _ in range(8):
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        return bytes(reversed(out))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


@pytest.mark.parametrize("kind", ["whatsapp", "sms", "ios", "messenger"])
@pytest.mark.parametrize("page_size", [1024, 65536])
def test_reader_sees_the_live_rows_sqlite_sees(tmp_path: Path, kind: str, page_size: int) -> None:
    c = churn(tmp_path, kind, page_size=page_size, rows=120)
    image = DatabaseImage(c.db.read_bytes())
    conn = sqlite3.connect(c.db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (c.kind.table,))
    root = root.fetchone()[0]
    ours = {}
    for page_no, cell in image.table_cells(root):
        payload, complete = image.payload(image.page(page_no), cell)
        assert complete
        ours[cell.rowid] = decode_record(payload, image.encoding)
    theirs = {r[0]: list(r[1:]) for r in conn.execute(f"SELECT rowid, * FROM {c.kind.table}")}
    assert ours.keys() == theirs.keys() and len(ours) > 50
    alias = c.kind.rowid_column
    for rowid, values in theirs.items():
        got = ours[rowid]
        if alias:  # the rowid alias is stored as NULL in the record
            assert got[0] is None
            got = [rowid, *got[1:]]
        assert got == values


@pytest.mark.parametrize("kind", ["whatsapp", "sms", "ios", "messenger"])
def test_deleted_rows_recovered_from_free_space(tmp_path: Path, kind: str) -> None:
    c = churn(tmp_path, kind)
    s = score(c, _recover(c))
    assert s.present >= 30
    assert s.rate >= 0.9, s.missed
    assert s.false_records == 0, s.false_examples


@pytest.mark.parametrize("page_size", [1024, 65536])
@pytest.mark.parametrize("auto_vacuum", ["none", "full", "incremental"])
def test_page_sizes_and_auto_vacuum(tmp_path: Path, page_size: int, auto_vacuum: str) -> None:
    c = churn(tmp_path, "whatsapp", page_size=page_size, auto_vacuum=auto_vacuum)
    result = _recover(c)
    s = score(c, result)
    assert s.rate >= 0.9 and s.false_records == 0, (s.missed, s.false_examples)
    assert result.auto_vacuum == auto_vacuum
    assert result.page_size == page_size


@pytest.mark.parametrize("kind", ["whatsapp", "sms"])
def test_every_wal_frame_is_read(tmp_path: Path, kind: str) -> None:
    c = churn(tmp_path, kind, wal=True)
    result = _recover(c)
    s = score(c, result)
    assert s.present == len(c.deleted)  # nothing checkpointed: every deleted row is in a frame
    assert s.rate == 1.0 and s.false_records == 0
    # Updated rows: the version before the update is a changed row, named after the live one.
    assert s.changed_found == s.changed_total > 0
    changed = [r for r in result.records if r.status == "changed"]
    assert all(r.live_rowid is not None for r in changed)
    from_wal = [r for r in result.records if r.source.kind == "wal"]
    assert from_wal and all(r.source.frame and r.source.salt for r in from_wal)
    assert "WAL frame" in from_wal[0].source.describe()
    assert result.wal_frames == result.wal_frames_by_state["committed"]


def test_wal_frames_states_and_checksums(tmp_path: Path) -> None:
    c = churn(tmp_path, "sms", wal=True, rows=60)
    data = bytearray(c.wal.read_bytes())
    wal = parse_wal(bytes(data))
    assert wal is not None and wal.header_valid
    assert all(f.state == "committed" for f in wal.frames)
    latest = [f for f in wal.frames if f.latest]
    assert len({f.page_no for f in latest}) == len(latest)
    # Break one byte of a middle frame's page: it and every later frame stop being valid.
    middle = wal.frames[len(wal.frames) // 2]
    data[middle.offset + 24 + 100] ^= 0xFF
    broken = parse_wal(bytes(data))
    assert broken is not None
    states = [f.state for f in broken.frames]
    assert set(states[middle.index - 1 :]) == {"torn"}


def test_frames_left_by_an_earlier_log_generation_are_read(tmp_path: Path) -> None:
    # After a checkpoint the next writer restarts the log at frame 1 with new salts; the frames
    # beyond its writes keep the old salts ("WAL slack"): SQLite ignores them, recovery reads them.
    db = tmp_path / "msgstore.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute(kinds()["whatsapp"].create)
    for i in range(1, 41):
        conn.execute(
            "INSERT INTO message (_id, chat_row_id, from_me, key_id, timestamp, text_data, sort_id)"
            " VALUES (?, 1, 1, ?, ?, ?, ?)",
            (i, f"KEY{i:04d}", 1_774_000_000_000 + i, f"old generation row {i} " * 3, i),
        )
    conn.execute("DELETE FROM message WHERE _id = 3")  # zeroed in the page (secure_delete)
    conn.execute("PRAGMA wal_checkpoint(RESTART)")
    conn.execute("UPDATE message SET starred = 1 WHERE _id = 40")  # the new generation's frame
    shutil.copyfile(db, tmp_path / "copy.db")
    shutil.copyfile(str(db) + "-wal", tmp_path / "copy.db-wal")
    conn.close()
    wal = parse_wal((tmp_path / "copy.db-wal").read_bytes())
    assert wal is not None
    states = [f.state for f in wal.frames]
    assert states[0] == "committed" and "stale" in states
    result = recover(
        (tmp_path / "copy.db").read_bytes(),
        (tmp_path / "copy.db-wal").read_bytes(),
        {"message": ("key_id",)},
    )
    [row] = [r for r in result.records if r.status == "deleted"]
    assert row.rowid == 3 and row.fields["key_id"] == "KEY0003"
    # The database file and the new generation hold row 3 zeroed; only old frames keep it.
    assert row.source.kind == "wal" and row.source.frame_state == "stale"
    assert result.zeroed


def test_secure_delete_leaves_nothing_and_says_so(tmp_path: Path) -> None:
    for kind in kinds():
        c = churn(tmp_path, kind, secure_delete=True)
        result = _recover(c)
        assert c.physically_present() == set()
        assert result.records == []
        assert result.zeroed and "secure_delete" in result.notes[0]


def test_secure_delete_does_not_reach_wal_frames(tmp_path: Path) -> None:
    c = churn(tmp_path, "whatsapp", secure_delete=True, wal=True)
    result = _recover(c)
    s = score(c, result)
    assert s.rate == 1.0 and s.false_records == 0
    assert {r.source.kind for r in result.records if r.status == "deleted"} == {"wal"}


def test_records_with_overwritten_header_and_partial_records(tmp_path: Path) -> None:
    c = churn(tmp_path, "whatsapp")
    result = _recover(c)
    states = {r.state for r in result.records}
    # Free-block headers overwrite a cell's first 4 bytes: the rowid and the record header length
    # are lost, the serial types survive (and the first, the rowid alias, is re-inserted).
    assert {"types", "rebuilt"} <= states
    rebuilt = next(r for r in result.records if r.state == "rebuilt")
    assert rebuilt.rowid is None and rebuilt.lost == ("_id",) and rebuilt.confidence == "medium"
    assert rebuilt.fields["sort_id"] > 0  # what places it among the live rows


def test_partial_record_when_its_overflow_chain_was_reused(tmp_path: Path) -> None:
    # At 1024-byte pages long texts spill to overflow pages; once a deleted row's overflow page
    # is reused by a live b-tree page the text is gone, while the local fields survive.
    c = churn(tmp_path, "whatsapp", page_size=1024)
    result = _recover(c)
    partial = [r for r in result.records if "text_data" in r.lost]
    assert partial and all(r.confidence == "low" for r in partial)
    assert score(c, result).false_records == 0  # the surviving fields are the row's real ones
    assert all(r.fields["key_id"].startswith("3EB0") for r in partial)


def test_recovery_reads_bytes_only(tmp_path: Path) -> None:
    c = churn(tmp_path, "whatsapp", wal=True)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(c.db, evidence / "msgstore.db")
    shutil.copy(c.wal, evidence / "msgstore.db-wal")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in evidence.iterdir()}
    db = (evidence / "msgstore.db").read_bytes()
    wal = (evidence / "msgstore.db-wal").read_bytes()
    assert recover(db, wal, {"message": ("key_id",)}).records
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in evidence.iterdir()}
    assert after == before
