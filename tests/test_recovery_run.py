"""Recovered WhatsApp rows through the whole pipeline: parser, store, gaps, report (issue 19)."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
import zipfile
from pathlib import Path

from tests.test_analysers_support import Sms, build_mmssms, run
from triage.ingest import iter_records
from triage.model import Message
from triage.registry import ParseContext

ROOT = Path(__file__).resolve().parent.parent
DEMO_ZIP = ROOT / "fixtures/demo/evidence/android-extraction.zip"
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
    assert wal_row["source_kind"] == "superseded"
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


def test_recovered_sms_rows_from_mmssms(tmp_path: Path) -> None:
    base = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)
    rows = [
        Sms(
            i,
            "+447700900123",
            base + dt.timedelta(minutes=i),
            "out" if i % 2 else "in",
            f"text {i}",
        )
        for i in range(1, 41)
    ]
    db = build_mmssms(tmp_path / "evidence" / "mmssms.db", rows)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA secure_delete=OFF")  # an app-side setting; the platform default is ON
    conn.execute("DELETE FROM sms WHERE _id IN (7, 8, 30)")
    conn.commit()
    conn.close()
    ctx = ParseContext()
    messages = [r for _res, r in iter_records([db], ctx) if isinstance(r, Message)]
    recovered = sorted((m for m in messages if m.recovered), key=lambda m: m.body or "")
    assert [m.body for m in recovered] == ["text 30", "text 7", "text 8"]
    assert [m.direction for m in recovered] == ["incoming", "outgoing", "incoming"]
    assert all(m.extra["recovered"]["status"] == "deleted" for m in recovered)
    assert recovered[1].timestamp_utc == base + dt.timedelta(minutes=7)
    assert len([m for m in messages if not m.recovered]) == 37


def test_secure_delete_mmssms_recovers_nothing_and_says_so(tmp_path: Path) -> None:
    base = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)
    rows = [
        Sms(i, "+447700900123", base + dt.timedelta(minutes=i), "in", f"t{i}") for i in range(1, 30)
    ]
    db = build_mmssms(tmp_path / "evidence" / "mmssms.db", rows)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("DELETE FROM sms WHERE _id IN (3, 4, 5)")
    conn.commit()
    conn.close()
    ctx = ParseContext()
    messages = [r for _res, r in iter_records([db], ctx) if isinstance(r, Message)]
    assert not [m for m in messages if m.recovered]
    decision = next(d for f, d in ctx.decisions.items() if f.endswith("mmssms.db"))
    assert "0 deleted and 0 changed rows recovered" in decision["recovery"]
    assert "secure_delete" in decision["recovery"]


def test_recovered_ios_messages(tmp_path: Path) -> None:
    src = ROOT / "fixtures/sms/generated/ios16/private/var/mobile/Library/SMS"
    folder = tmp_path / "evidence" / "private/var/mobile/Library/SMS"
    shutil.copytree(src, folder)
    conn = sqlite3.connect(folder / "sms.db")
    conn.execute("PRAGMA secure_delete=OFF")
    conn.execute("DELETE FROM message WHERE ROWID IN (4, 8)")
    conn.commit()
    conn.close()
    messages = [r for _res, r in iter_records([tmp_path / "evidence"], ParseContext())]
    recovered = {m.body: m for m in messages if isinstance(m, Message) and m.recovered}
    assert set(recovered) == {"Delete those photos", "Everyone keep quiet about Friday"}
    photos = recovered["Delete those photos"]
    assert photos.direction == "incoming" and photos.platform == "imessage"
    assert photos.extra["guid"] and photos.extra["recovered"]["status"] == "deleted"
    assert photos.conversation.id.startswith("ios:handle:")


def test_recovered_messenger_threads_db2_messages(tmp_path: Path) -> None:
    src = ROOT / "fixtures/messenger/generated/android/data/data/com.facebook.orca/databases"
    folder = tmp_path / "evidence" / "data/data/com.facebook.orca/databases"
    shutil.copytree(src, folder)
    conn = sqlite3.connect(folder / "threads_db2")
    conn.execute("PRAGMA secure_delete=OFF")
    conn.execute("DELETE FROM messages WHERE msg_id = 'mid.$cAAAAAA2'")
    conn.commit()
    conn.close()
    messages = [r for _res, r in iter_records([tmp_path / "evidence"], ParseContext())]
    messages = [m for m in messages if isinstance(m, Message)]
    [recovered] = [m for m in messages if m.recovered]
    assert recovered.body == "Yes, at the station"
    assert recovered.direction == "outgoing"  # the sender is the local user (threads_db2-uid)
    assert recovered.extra["msg_id"] == "mid.$cAAAAAA2" and recovered.duplicate_key is None
    assert recovered.extra["recovered"]["status"] == "deleted"
    assert "mid.$cAAAAAA2" not in {m.extra.get("msg_id") for m in messages if not m.recovered}
