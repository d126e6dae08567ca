"""A WhatsApp call recorded by WhatsApp and by the phone's call log is one call, not two."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from tests.test_analysers_support import run, write_case
from triage.call_copies import RULE, WINDOW_S, CallFacts, same_calls
from triage.cli import main
from triage.jsonl import read_records

TWICE = Path(__file__).resolve().parent.parent / "fixtures/calls/generated/ios_whatsapp_twice"
T0 = datetime(2026, 3, 18, 21, 0, tzinfo=UTC)


def facts(cid: int, source: int, seconds: float, direction: str = "incoming", **kw) -> CallFacts:
    values = {"device": "device-1", "counterpart": "phone:+447700900123", "fullness": 1, **kw}
    return CallFacts(
        cid, source, start=T0 + timedelta(seconds=seconds), direction=direction, **values
    )


def test_rule_pairs_nearest_copy_from_another_source_only() -> None:
    calls = [
        facts(1, 1, 0, fullness=4),
        facts(2, 2, 2),  # the same call in the phone's log
        facts(3, 1, 90, fullness=4),  # a second real call, 90 s later, in both
        facts(4, 2, 91),
        facts(5, 2, 95),  # a third record in source 2: no partner left in source 1
        facts(6, 3, 1, direction="outgoing"),  # other direction: never a copy
        facts(7, 3, 0, counterpart="phone:+447700900777"),  # someone else
        facts(8, 4, 3, device="device-2"),  # another phone
        facts(9, 4, 95 + WINDOW_S + 1),  # too far from every event
    ]
    assert same_calls(calls) == [(1, [2]), (3, [4])]
    # The fuller copy is kept whichever came first.
    assert same_calls([facts(1, 1, 0), facts(2, 2, 1, fullness=3)]) == [(2, [1])]
    # An unknown direction may pair with either.
    assert same_calls([facts(1, 1, 0), facts(2, 2, 1, direction="unknown")]) == [(1, [2])]


def test_parse_prints_every_record_as_read() -> None:
    result = CliRunner().invoke(main, ["parse", str(TWICE), "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = list(read_records(result.stdout.splitlines()))
    calls = [c for c in lines if c["record"] == "call"]
    assert (
        sorted(c["source"]["format"] for c in calls)
        == ["ios_callhistory"] * 5 + ["whatsapp_ios_calls"] * 4
    )


def test_calls_seen_by_whatsapp_and_callkit_counted_once(tmp_path: Path) -> None:
    case = write_case(
        tmp_path,
        "contacts:\n  - name: Katie\n    role: complainant\n"
        '    identifiers: [{phone: "07700 900123"}]\n'
        f"sources:\n  - {TWICE}\n",
    )
    r = run(case, tmp_path / "out", report=False)
    # Calls and no messages: "none found" for messages, with her calls.
    katie = r.one("contact.none-found", "contact-1").data["calls"]
    # 4 calls in WhatsApp's CallHistory.sqlite, 5 in CallKit's log; 3 of those 5 are the same
    # calls as WhatsApp's: 6 calls.
    assert katie["count"] == 6
    assert (katie["incoming"], katie["outgoing"]) == (4, 2)
    assert katie["answered"] == 3 and katie["unanswered_incoming"] == 2
    assert katie["not_answered_outgoing"] == 1
    # WhatsApp's copies are kept (outcome, video, chat): 75 s + 310 s, and CallKit's 20 s call.
    assert katie["talk_seconds"] == 75 + 310 + 20
    copies = r.store.call_duplicates()
    assert len(copies) == 3 and {c["duplicate_key"] for c in copies} == {RULE}
    assert all(c["file"].endswith("CallHistory.storedata") for c in copies)
    refs = {ref["locator"]: ref for ref in katie["refs"]}
    first = refs["ZWACDCALLEVENT.Z_PK=1"]
    assert [c["locator"] for c in first["copies"]] == ["ZCALLRECORD.Z_PK=1"]
    assert first["copies"][0]["file"].endswith("CallHistory.storedata")
    assert refs["ZCALLRECORD.Z_PK=4"]["copies"] == []
    assert r.store.counts()["calls"] == 6
