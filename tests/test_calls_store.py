"""Calls in the case store: stored once per call, read back equal, found by party."""

from __future__ import annotations

from pathlib import Path

from triage.ingest import iter_records
from triage.model import Call, Message
from triage.registry import ParseContext
from triage.store import Store

WA_CURRENT = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp_db" / "android_current"


def _parsed() -> list[Call | Message]:
    return [
        r for _, r in iter_records([WA_CURRENT], ParseContext()) if isinstance(r, Call | Message)
    ]


def test_calls_round_trip_and_copies_counted_once(tmp_path: Path) -> None:
    records = _parsed()
    calls = [r for r in records if isinstance(r, Call)]
    assert len(calls) == 2
    store = Store.create(tmp_path / "case.sqlite")
    source = store.add_source("msgstore.db", "0" * 64, 1, "whatsapp_android", "1")
    store.ingest(source, records)
    # The same database read a second time (a second copy in the extraction): its calls carry
    # the same WhatsApp call ids and are listed as copies, not stored again.
    again = store.add_source("copy/msgstore.db", "0" * 64, 1, "whatsapp_android", "1")
    store.ingest(again, [r for r in _parsed() if isinstance(r, Call)])
    stored = list(store.calls())
    assert [s.call for s in sorted(stored, key=lambda s: s.id)] == [
        Call(**{**_fields(c), "duration_s": float(c.duration_s)}) for c in calls
    ]
    assert [d["kept_call_id"] for d in store.call_duplicates()] == [1, 2]
    assert store.counts()["calls"] == 2 and store.call_counts_by_source() == {source: 2}
    # Alice's party id finds her call (the counterpart of call_log._id=2), and only it.
    alice = next(pid for pid, p in store.parties().items() if p.id == "+447700900123")
    assert [cid for cid, _ in store.party_calls([alice])] == [2]
    store.close()
    reopened = Store.open(tmp_path / "case.sqlite")
    times = [s.call.timestamp_utc for s in reopened.calls()]
    assert times == sorted(times) and len(times) == 2


def _fields(call: Call) -> dict:
    return {name: getattr(call, name) for name in Call.__slots__}


def test_app_calls_shown_in_their_conversation(tmp_path: Path) -> None:
    from tests.test_analysers_support import run, write_case
    from triage.report.writer import page_name, slug

    case = write_case(
        tmp_path,
        'contacts:\n  - name: Bob\n    role: witness\n    identifiers: [{phone: "07700 900456"}]\n'
        f"sources:\n  - {WA_CURRENT}\n",
    )
    r = run(case, tmp_path / "out")
    bob = r.one("contact.summary", "contact-1").data
    assert bob["calls"]["count"] == 1 and bob["calls"]["talk_seconds"] == 95
    key = "whatsapp:447700900456@s.whatsapp.net"
    page = (tmp_path / "out" / "conversations" / page_name(slug(key), 1)).read_text()
    assert page.count('<li class="msg call ') == 1 and "message._id=13" in page
    alice = (
        tmp_path
        / "out"
        / "conversations"
        / page_name(slug("whatsapp:447700900123@s.whatsapp.net"), 1)
    ).read_text()
    assert "video call (whatsapp) placed by the device owner to" in alice
