"""Recovered WhatsApp rows through the whole pipeline: parser, store, gaps, report (issue 19)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import zipfile
from pathlib import Path

from tests.test_analysers_support import run
from triage.ingest import iter_records
from triage.model import Message
from triage.registry import ParseContext

DEMO_ZIP = Path(__file__).resolve().parent.parent / "fixtures/demo/evidence/android-extraction.zip"
DB_DIR = "data/data/com.whatsapp/databases"


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _whatsapp_folder(tmp_path: Path) -> Path:
    """The demo msgstore.db and wa.db, plus a -wal holding one more deletion (row 21, the last
    live row), copied while the writer is still open, as on a seized phone."""
    work = tmp_path / "work"
    work.mkdir()
    with zipfile.ZipFile(DEMO_ZIP) as z:
        for name in ("msgstore.db", "wa.db"):
            (work / name).write_bytes(z.read(f"{DB_DIR}/{name}"))
    conn = sqlite3.connect(work / "msgstore.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA secure_delete=ON")  # zeroes the page copy, not the older WAL frame
    conn.execute("UPDATE message SET text_data='Sorry' WHERE _id=20")
    conn.execute("DELETE FROM message WHERE _id=21")
    evidence = tmp_path / "evidence" / DB_DIR
    evidence.mkdir(parents=True)
    for name in ("msgstore.db", "msgstore.db-wal", "wa.db"):
        shutil.copyfile(work / name, evidence / name)
    conn.close()
    return tmp_path / "evidence"


def test_recovered_rows_from_free_space_and_wal_frames_evidence_untouched(tmp_path: Path) -> None:
    evidence = _whatsapp_folder(tmp_path)
    before = _snapshot(evidence)
    ctx = ParseContext()
    messages = [r for _res, r in iter_records([evidence], ctx) if isinstance(r, Message)]
    assert _snapshot(evidence) == before  # same files, bytes and modification times

    live = [m for m in messages if "recovered" not in m.extra]
    recovered = {m.body: m for m in messages if "recovered" in m.extra}
    assert 21 not in {m.record_id for m in live}
    assert {
        "You owe me after everything I've done",
        "Don't make me come round",
        "Nobody will believe you",
    } <= set(recovered)
    # Row 21 was deleted in the WAL: the page's copy in the database file and the WAL frame of
    # the update before the deletion both hold it whole, rowid included (the page's newest copy
    # was zeroed by secure_delete).
    wal_row = recovered["No. I'm reporting you"].extra["recovered"]
    assert wal_row["source_kind"] == "superseded" and wal_row["also_found"] == 1
    assert "superseded by the WAL" in wal_row["source"]
    assert wal_row["status"] == "deleted" and wal_row["confidence"] == "high"
    assert recovered["No. I'm reporting you"].record_id == 21
    # Row 20 was changed: its earlier text is a changed version of the live row 20.
    before_update = recovered["Can we talk"]
    assert before_update.extra["recovered"]["status"] == "changed"
    assert before_update.extra["recovered"]["live_rowid"] == 20
    assert next(m for m in live if m.record_id == 20).body == "Sorry"
    # Never merged with live messages, and always saying where they came from.
    assert all(m.duplicate_key is None for m in recovered.values())
    assert all("recovered:" in m.source.locator for m in recovered.values())
    decision = next(d for f, d in ctx.decisions.items() if f.endswith("msgstore.db"))
    assert "recovered" in decision["recovery"]


def test_report_shows_recovered_rows_in_their_conversation(demo_case: Path, tmp_path: Path) -> None:
    r = run(demo_case, tmp_path / "out")
    recovered = list(r.store.recovered_messages())
    assert len(recovered) == 3
    assert all(
        s.message.conversation.id == "whatsapp:447700900123@s.whatsapp.net" for s in recovered
    )
    pages = [
        p.read_text("utf-8")
        for p in (tmp_path / "out" / "conversations").glob("*.html")
        if "Nobody will believe you" in p.read_text("utf-8")
    ]
    assert len(pages) == 1
    page = pages[0]
    assert page.count("recovered: deleted row, medium confidence") == 3
    assert "page 9 offset" in page and "Recovered from deleted database content" in page
    # Live counts are unchanged: the store's live messages never include recovered ones.
    assert {s.id for s in r.store.messages()}.isdisjoint({s.id for s in recovered})
