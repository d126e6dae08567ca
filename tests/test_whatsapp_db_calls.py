"""WhatsApp for Android: the placeholder row is not a message, and calls are read in both schemas
(fixtures ``android_placeholder`` and ``android_legacy_calls``, see fixtures/whatsapp_db/README.md).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT
from triage.cli import main
from triage.ingest import iter_records
from triage.jsonl import read_records
from triage.model import IdSpace
from triage.registry import ParseContext
from triage.store import Store

FIXTURES = ROOT / "fixtures" / "whatsapp_db"
ALICE_CONV = "whatsapp:447700900123@s.whatsapp.net"
BOB_CONV = "whatsapp:447700900456@s.whatsapp.net"


def _jsonl(cli, path: Path) -> list[dict]:
    result = cli.invoke(main, ["parse", str(path), "--jsonl"])
    assert result.exit_code == 0, result.stderr
    return list(read_records(result.stdout.splitlines()))


def _spaces(path: Path) -> list[IdSpace]:
    ctx = ParseContext()
    return [r for _s, r in iter_records([path], ctx) if isinstance(r, IdSpace)]


def test_current_schema_placeholder_row_is_not_a_message(cli) -> None:
    records = _jsonl(cli, FIXTURES / "android_placeholder")
    assert [r["source"]["locator"] for r in records] == ["message._id=2", "message._id=3"]
    assert all(r["conversation"]["id"] == ALICE_CONV for r in records)
    assert [r["direction"] for r in records] == ["incoming", "outgoing"]
    (space,) = _spaces(FIXTURES / "android_placeholder")
    assert space.ids == [1, 2, 3]  # the placeholder used an id, so it is not a gap
    assert "placeholder row(s) _id=1 (chat_row_id -1, no key" in (space.note or "")


def test_legacy_placeholder_is_noted_in_the_id_space() -> None:
    (space,) = _spaces(FIXTURES / "android_legacy")
    assert space.ids[0] == 1
    assert "placeholder row(s) _id=1 (key_remote_jid -1, no key" in (space.note or "")


def test_legacy_calls_with_direction_duration_and_result(cli) -> None:
    calls = [r for r in _jsonl(cli, FIXTURES / "android_legacy_calls") if r.get("record") == "call"]
    got = [
        (
            r["source"]["locator"],
            r["conversation"],
            r["direction"],
            r["timestamp_utc"],
            r["video"],
            r["duration_s"],
            r["result"],
        )
        for r in calls
    ]
    assert got == [
        # media_wa_type 10 with status 6: a missed call, not a system row.
        ("messages._id=3", ALICE_CONV, "incoming", "2019-04-05T18:05:00Z", False, None, "missed"),
        # The bubble and its call_log row (call_id) are one call, with the log's facts.
        ("messages._id=4", ALICE_CONV, "outgoing", "2019-04-05T18:20:00Z", True, 125, "answered"),
        # A call kept only in call_log.
        ("call_log._id=2", BOB_CONV, "incoming", "2019-04-05T18:40:00Z", False, 42, "answered"),
    ]
    assert calls[0]["counterpart"]["id"] == "+447700900123"
    assert calls[2]["counterpart"]["id"] == "+447700900456"
    assert [c["result_code"] for c in calls] == [None, "call_result=5", "call_result=5"]


def test_legacy_calls_through_run_are_counted_once(cli, tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(
        "case:\n  reference: TEST/6\nsubject:\n  name: PC 1\nsources:\n"
        f"  - {FIXTURES / 'android_legacy_calls'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 0, result.output
    store = Store.open(out / "case.sqlite")
    try:
        kinds = [m.message.kind for m in store.messages()]
        calls = [c.call.source.locator for c in store.calls()]
    finally:
        store.close()
    assert kinds == ["text", "text"]  # the placeholder is not a message, nor is a call
    assert calls == ["messages._id=3", "messages._id=4", "call_log._id=2"]


def test_current_schema_calls_keep_duration_and_result(cli) -> None:
    calls = [r for r in _jsonl(cli, FIXTURES / "android_current") if r.get("record") == "call"]
    facts = {r["source"]["locator"]: (r["direction"], r["duration_s"]) for r in calls}
    assert facts["message._id=13"] == ("incoming", 95)
    assert all(r["result"] == "answered" for r in calls)
