"""Call-log and address-book parsers against fixtures/calls (see its README), through
``triage parse`` where the output is JSONL: every number here follows from make_fixtures.py."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from triage.cli import main
from triage.ingest import iter_records
from triage.jsonl import read_records
from triage.model import ContactEntry
from triage.registry import ParseContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "calls" / "generated"
KATIE = "+447700900123"
SARAH = "+447700900456"


def _parse(path: Path) -> tuple[list[dict], str]:
    result = CliRunner().invoke(main, ["parse", str(path), "--jsonl"])
    assert result.exit_code == 0, result.output
    rows = list(read_records(result.stdout.splitlines()))
    assert all(r["record"] == "call" for r in rows)
    return rows, result.stderr


def _facts(rows: list[dict]) -> list[tuple]:
    return [
        (
            r["source"]["locator"],
            r["network"],
            r["direction"],
            r["result"],
            r["duration_s"],
            (r["counterpart"] or {}).get("id"),
        )
        for r in rows
    ]


def test_android_calllog() -> None:
    rows, stderr = _parse(FIXTURES / "android_calllog")
    assert {r["source"]["format"] for r in rows} == {"android_calllog"}
    assert _facts(rows) == [
        ("calls._id=1", "cellular", "incoming", "answered", 125, KATIE),
        ("calls._id=2", "cellular", "outgoing", "answered", 610, KATIE),
        ("calls._id=3", "cellular", "outgoing", "not_answered", 0, KATIE),
        ("calls._id=4", "cellular", "incoming", "missed", 0, SARAH),
        ("calls._id=5", "cellular", "incoming", "rejected", 0, KATIE),
        ("calls._id=6", "cellular", "incoming", "blocked", 0, "+447700900999"),
        ("calls._id=7", "cellular", "incoming", "voicemail", 0, SARAH),
        ("calls._id=8", "cellular", "incoming", "answered", 40, None),
        ("calls._id=9", "cellular", "incoming", "answered_elsewhere", 300, KATIE),
        ("calls._id=10", "whatsapp", "outgoing", "answered", 60, KATIE),
        ("calls._id=11", "cellular", "unknown", "unknown", 5, "+447700900777"),
    ]
    first = rows[0]
    assert (
        first["timestamp_utc"] == "2026-03-02T10:00:00Z"
        and first["timestamp_raw"] == "1772445600000"
    )
    assert first["counterpart"]["name"] == "Katie DV job" and first["result_code"] == "type=1"
    assert rows[7]["extra"]["withheld"] == "restricted"
    assert rows[8]["video"] is True and rows[0]["video"] is False
    assert rows[9]["app"].startswith("com.whatsapp/")
    assert "unknown calls.type x1 (e.g. calls._id=11: type=99)" in stderr
    assert "11 calls" in stderr


def test_android_contacts2_address_book_and_old_calls() -> None:
    rows, _ = _parse(FIXTURES / "android_contacts2")
    assert {r["source"]["format"] for r in rows} == {"android_contacts"}
    assert _facts(rows) == [
        ("calls._id=1", "cellular", "incoming", "answered", 30, KATIE),
        ("calls._id=2", "cellular", "incoming", "missed", 0, SARAH),
    ]
    # The old table has no features column: whether it was video is not known.
    assert all(r["video"] is None for r in rows)
    entries = [
        r
        for _, r in iter_records([FIXTURES / "android_contacts2"], ParseContext())
        if isinstance(r, ContactEntry)
    ]
    got = [(e.name, [p.id for p in e.identifiers], e.source.locator) for e in entries]
    assert got == [
        ("Katie DV job", [KATIE], "raw_contacts._id=1"),
        ("Sarah witness", [SARAH, "sarah@example.org"], "raw_contacts._id=2"),
        ("Old contact", ["+447700900888"], "raw_contacts._id=3"),
        ("Katie", [KATIE], "raw_contacts._id=4"),
    ]
    assert entries[0].identifiers[0].raw == "07700 900123"
    assert entries[0].extra["account_type"] == "com.google"
    assert entries[0].extra["phone_labels"] == ["mobile"]
    assert "deleted" in entries[2].extra and "deleted" not in entries[0].extra
    assert entries[3].extra["account_type"] == "com.whatsapp"


def test_ios_callhistory() -> None:
    rows, _ = _parse(FIXTURES / "ios_callhistory")
    assert _facts(rows) == [
        ("ZCALLRECORD.Z_PK=1", "cellular", "incoming", "answered", 95.5, SARAH),
        ("ZCALLRECORD.Z_PK=2", "cellular", "incoming", "missed", 0.0, SARAH),
        # ZANSWERED is 0 on every outgoing row: the duration decides.
        ("ZCALLRECORD.Z_PK=3", "cellular", "outgoing", "answered", 240.0, SARAH),
        ("ZCALLRECORD.Z_PK=4", "cellular", "outgoing", "not_answered", 0.0, SARAH),
        ("ZCALLRECORD.Z_PK=5", "facetime", "outgoing", "answered", 600.0, "sarah@example.org"),
        ("ZCALLRECORD.Z_PK=6", "whatsapp", "incoming", "answered", 33.0, KATIE),
        ("ZCALLRECORD.Z_PK=7", "facetime", "outgoing", "answered", 120.0, KATIE),
    ]
    # Apple epoch: 2026-03-10T18:00:00Z is 794858400 s after 2001-01-01.
    assert rows[0]["timestamp_utc"] == "2026-03-10T18:00:00Z"
    assert float(rows[0]["timestamp_raw"]) == 794858400.0
    assert rows[2]["counterpart"]["name"] == "Sarah witness"
    assert rows[4]["video"] is True and rows[4]["counterpart"]["raw"] == "sarah@example.org"
    assert rows[5]["app"] == "net.whatsapp.WhatsApp"
    group = rows[6]
    assert group["is_group"] and [p["id"] for p in group["participants"]] == ["+447700900777"]
    assert rows[1]["result_code"] == "ZORIGINATED=0,ZANSWERED=0"


def test_ios_addressbook() -> None:
    result = CliRunner().invoke(main, ["parse", str(FIXTURES / "ios_addressbook"), "--jsonl"])
    assert result.exit_code == 0, result.output
    # An address book holds no calls or messages: nothing on the JSONL stream.
    assert result.stdout == ""
    entries = [
        r
        for _, r in iter_records([FIXTURES / "ios_addressbook"], ParseContext())
        if isinstance(r, ContactEntry)
    ]
    got = [(e.name, [p.id for p in e.identifiers], e.source.locator) for e in entries]
    assert got == [
        ("Katie DV job", [KATIE], "ABPerson.ROWID=1"),
        ("Sarah witness", [SARAH, "sarah@example.org"], "ABPerson.ROWID=2"),
        ("Area car desk", ["+447700900777"], "ABPerson.ROWID=3"),
        ("Mum", [], "ABPerson.ROWID=4"),
    ]
    assert {e.source.format for e in entries} == {"ios_addressbook"}
    assert entries[0].identifiers[0].raw == "07700 900123"
    # Built-in labels are stored wrapped (_$!<Mobile>!$_); a user label is kept as typed.
    assert entries[0].extra["phone_labels"] == ["Mobile"]
    assert entries[2].extra["phone_labels"] == ["desk line"]
    assert entries[2].extra["organization"] == "Area car desk"


def test_whatsapp_ios_call_history() -> None:
    rows, stderr = _parse(FIXTURES / "whatsapp_ios_calls")
    assert {(r["source"]["format"], r["network"]) for r in rows} == {
        ("whatsapp_ios_calls", "whatsapp")
    }
    assert _facts(rows) == [
        ("ZWACDCALLEVENT.Z_PK=1", "whatsapp", "incoming", "answered", 75.0, KATIE),
        ("ZWACDCALLEVENT.Z_PK=2", "whatsapp", "incoming", "missed", 0.0, KATIE),
        ("ZWACDCALLEVENT.Z_PK=3", "whatsapp", "incoming", "rejected", 0.0, KATIE),
        # The owner created the call: the creator jid is no participant's.
        ("ZWACDCALLEVENT.Z_PK=4", "whatsapp", "outgoing", "answered", 310.0, KATIE),
        ("ZWACDCALLEVENT.Z_PK=5", "whatsapp", "outgoing", "not_answered", 0.0, KATIE),
        ("ZWACDCALLEVENT.Z_PK=6", "whatsapp", "outgoing", "unknown", 95.0, KATIE),
    ]
    # Apple epoch: 2026-03-18T21:00:00Z is 795560400 s after 2001-01-01.
    assert rows[0]["timestamp_utc"] == "2026-03-18T21:00:00Z"
    assert rows[0]["timestamp_raw"] == "795560400"
    assert [r["video"] for r in rows] == [False, False, True, True, False, False]
    assert rows[0]["conversation"] == "whatsapp:447700900123@s.whatsapp.net"
    group = rows[5]
    assert group["is_group"] and group["conversation"] is None
    assert [p["id"] for p in group["participants"]] == ["+447700900777"]
    assert group["result_code"] == "ZOUTCOME=7"
    assert rows[0]["duplicate_key"] == "whatsapp:call:CALL0001ABCDEF"
    assert "unknown ZOUTCOME x1 (e.g. ZWACDCALLEVENT.Z_PK=6: ZOUTCOME=7)" in stderr


def test_sms_backup_calls_xml() -> None:
    rows, _ = _parse(FIXTURES / "sms_backup_calls")
    assert {r["source"]["format"] for r in rows} == {"sms_backup_calls_xml"}
    assert _facts(rows) == [
        ("calls/call[1]", "cellular", "incoming", "answered", 45, KATIE),
        ("calls/call[2]", "cellular", "outgoing", "not_answered", 0, KATIE),
        ("calls/call[3]", "cellular", "incoming", "missed", 0, KATIE),
        ("calls/call[4]", "cellular", "incoming", "answered", 12, None),
        ("calls/call[5]", "cellular", "incoming", "blocked", 0, "+447700900999"),
    ]
    assert rows[0]["counterpart"]["name"] == "Katie DV job"
    assert rows[3]["extra"]["withheld"] == "restricted" and rows[3]["counterpart"] is None
    assert rows[4]["counterpart"]["name"] is None  # "(Unknown)" is no name
    assert "readable_date" in rows[0]["extra"]


def test_sms_backup_calls_count_mismatch(tmp_path: Path) -> None:
    text = (FIXTURES / "sms_backup_calls" / "calls-20260501120000.xml").read_text()
    (tmp_path / "calls.xml").write_text(text.replace('count="5"', 'count="7"'))
    rows, stderr = _parse(tmp_path / "calls.xml")
    assert len(rows) == 5 and "count mismatch" in stderr


def test_detection_by_content() -> None:
    result = CliRunner().invoke(main, ["detect", "--json", str(FIXTURES)])
    formats = {
        Path(row["file"]).name: row["format"] for row in map(json.loads, result.stdout.splitlines())
    }
    assert formats == {
        "calllog.db": "android_calllog",
        "contacts2.db": "android_contacts",
        "CallHistory.storedata": "ios_callhistory",
        "AddressBook.sqlitedb": "ios_addressbook",
        "CallHistory.sqlite": "whatsapp_ios_calls",
        "calls-20260501120000.xml": "sms_backup_calls_xml",
    }
