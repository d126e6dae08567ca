"""Duty split through the real SMS parser: overnight shifts, the change to BST, every status."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_analysers_support import Sms, build_mmssms, run, write_case
from triage.analysers import Settings
from triage.analysers.contacts import ContactsAnalyser
from triage.analysers.duty import DutyAnalyser
from triage.casefile import load_case
from triage.model import Conversation, Message, Party, Provenance
from triage.roster import RosterError
from triage.store import Store

A = "07700 900123"
CONTACT = """contacts:
  - name: Female A
    role: victim
    identifiers:
      - phone: "+44 7700 900123"
"""
ROSTER = """start,end,type
2026-03-27 19:00,2026-03-28 05:00,duty
2026-03-28 19:00,2026-03-29 05:00,duty
2026-03-29 00:00,2026-03-30 00:00,rest
2026-03-30 07:00,2026-03-30 17:00,duty
2026-03-31 00:00,2026-04-01 00:00,leave
2026-04-01 09:00,2026-04-01 17:00,training
2026-04-02 00:00,2026-04-03 00:00,sick
"""


def z(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text + "+00:00")


# (row, expected status, night?) -- clocks go forward at 01:00 UTC on Sunday 29 March 2026.
ROWS = [
    (Sms(1, A, z("2026-03-28T19:30"), "in"), "on_duty", False),  # 19:30 GMT, night shift
    (Sms(2, A, z("2026-03-29T00:30"), "out"), "on_duty", True),  # 00:30 GMT, same shift
    (Sms(3, A, z("2026-03-29T01:30"), "out"), "on_duty", True),  # 02:30 BST, same shift
    (Sms(4, A, z("2026-03-29T04:10"), "out"), "rest_day", True),  # 05:10 BST, shift over
    (Sms(5, A, z("2026-03-30T18:00"), "out"), "off_duty", False),  # 19:00 BST after a day shift
    (Sms(6, A, z("2026-03-31T12:00"), "in"), "leave", False),
    (Sms(7, A, z("2026-04-01T10:00"), "out"), "training", False),
    (Sms(8, A, z("2026-04-02T21:30"), "out"), "sick", True),  # 22:30 BST
    (Sms(9, A, z("2026-04-05T12:00"), "out"), "unknown", False),  # after the roster
    (Sms(10, A, z("2026-03-28T12:00"), "in"), "off_duty", False),  # night-shift day, before it
    (Sms(11, "+447700900777", z("2026-03-29T01:45"), "in"), "on_duty", True),  # not a contact
]


def make_case(tmp_path: Path, roster: bool = True) -> Path:
    build_mmssms(tmp_path / "evidence" / "mmssms.db", [r for r, _, _ in ROWS])
    body = CONTACT
    if roster:
        (tmp_path / "roster.csv").write_text(ROSTER, "utf-8")
        body += "roster:\n  csv: roster.csv\n"
    return write_case(tmp_path, body + "sources:\n  - evidence\n")


def test_every_message_labelled_across_the_clock_change(tmp_path: Path) -> None:
    r = run(make_case(tmp_path), tmp_path / "out", report=False)
    status = r.store.labels("duty", "status")
    night = r.store.labels("duty", "night")
    loc = r.by_locator()
    for row, expected, is_night in ROWS:
        mid = loc[f"sms._id={row.id}"]
        assert status[mid] == expected, row
        assert night[mid] is is_night, row


def test_contact_split_numbers_and_sentences(tmp_path: Path) -> None:
    r = run(make_case(tmp_path), tmp_path / "out", report=False)
    split = r.one("duty.contact-split", "contact-1")
    d = split.data
    # Female A: rows 1-10. on duty 1, 2, 3; off duty 5, 10; rest 4; leave 6; training 7;
    # sick 8; unknown 9. Outside duty = off + rest + leave + sick = 5. Sent by him: 2, 3, 4, 5,
    # 7, 8, 9 (7), of which 4, 5, 8 outside duty (3).
    assert d["total"] == 10
    assert d["status_counts"] == {
        "on_duty": 3,
        "off_duty": 2,
        "rest_day": 1,
        "leave": 1,
        "sick": 1,
        "training": 1,
        "unknown": 1,
    }
    assert d["outside_duty"] == 5
    assert d["outgoing_total"] == 7 and d["outgoing_outside_duty"] == 3
    assert d["by_direction"]["incoming"] == {
        "on_duty": 1,
        "off_duty": 1,
        "rest_day": 0,
        "leave": 1,
        "sick": 0,
        "training": 0,
        "unknown": 0,
    }
    assert split.why.startswith(
        "5 of 10 messages with Female A were sent or received outside rostered duty "
        "(1 could not be placed: the roster does not cover their time). "
        "3 of 7 messages he sent to Female A were sent outside rostered duty."
    )
    # Night (22:00-06:00 local): rows 2, 3, 4, 8; outside duty 4 (rest) and 8 (sick).
    assert d["night"]["count"] == 4 and d["night"]["outside_duty"] == 2
    assert d["zone_assumed"] == 0
    assert sorted(r.locators(split.refs)) == sorted(f"sms._id={n}" for n in range(1, 11))

    heat = d["heatmap"]  # Monday first; 28 March 2026 is a Saturday (5), 29th a Sunday (6)
    assert sum(map(sum, heat)) == 10
    assert heat[5][19] == 1 and heat[5][12] == 1
    assert heat[6][0] == 1 and heat[6][2] == 1 and heat[6][5] == 1 and heat[6][1] == 0
    duty = d["duty_heatmap"]  # period 28 March - 5 April; the roster covers 27 March - 2 April
    assert duty[5][19] == 1.0  # Sat 28 March 19:00 on duty (4 April not covered)
    assert duty[5][12] == 0.0
    assert duty[6][3] == 1.0  # Sun 29 March 03:00 BST, still on the night shift
    hours = d["duty_heatmap_hours"]
    assert (duty[6][1], hours[6][1]) == (0.0, 0)  # 01:00 did not exist on 29 March; 5 April
    assert (duty[6][3], hours[6][3]) == (1.0, 1)  # is after the roster: one hour counted
    assert duty[0][12] == 1.0 and duty[1][12] == 0.0 and duty[2][9] == 1.0
    assert hours[1][12] == 1  # Tuesday 31 March, on leave: covered, no duty
    assert hours[4][12] == 0  # the period's only Friday, 3 April, is after the roster

    on = r.one("duty.on-duty-contact", "contact-1")
    assert on.data["count"] == 3
    assert r.locators(on.data["message_ids"]) == ["sms._id=1", "sms._id=2", "sms._id=3"]
    assert "sent during rostered duty" in on.why
    assert "cannot know whether there was a policing reason" in on.why

    roster = r.one("duty.roster").data
    assert roster["roster_given"] is True
    assert roster["status_counts"]["on_duty"] == 4  # includes the non-contact row 11


def test_no_roster_means_unknown(tmp_path: Path) -> None:
    r = run(make_case(tmp_path, roster=False), tmp_path / "out", report=False)
    assert set(r.store.labels("duty", "status").values()) == {"unknown"}
    finding = r.one("duty.roster")
    assert finding.why.startswith("No duty roster was given in the case file")
    assert finding.data["status_counts"]["unknown"] == 11
    split = r.one("duty.contact-split", "contact-1")
    assert split.data["status_counts"]["unknown"] == 10
    assert split.data["outside_duty"] is None and split.data["duty_heatmap"] is None
    assert split.data["duty_heatmap_hours"] is None
    assert split.why.startswith("No roster was given, so none of the 10 messages with Female A")
    assert r.findings("duty.on-duty-contact") == []


def test_system_rows_not_counted_and_assumed_zones_reported(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, "utf-8")
    case = load_case(
        write_case(tmp_path, CONTACT + "roster:\n  csv: roster.csv\nsources:\n  - case.yaml\n")
    )
    her = Party(raw="+447700900123", id="+447700900123", scheme="phone")
    owner = Party(raw="(device owner)", id="owner", scheme="owner")
    chat = Conversation("whatsapp:447700900123@s.whatsapp.net", participants=[her])

    def msg(when: str, direction: str, kind: str = "text", assumed: bool = False) -> Message:
        return Message(
            platform="whatsapp",
            conversation=chat,
            timestamp_utc=z(when),
            timestamp_raw=when,
            zone_assumed=assumed,
            direction=direction,
            sender=owner if direction == "outgoing" else her,
            recipients=[],
            body="x",
            kind=kind,
            source=Provenance("chat.txt", "2" * 64, "whatsapp_txt", f"line {when}"),
        )

    store = Store.create(tmp_path / "store.sqlite")
    src = store.add_source("chat.txt", "2" * 64, 1, "whatsapp_txt", "1")
    store.ingest(
        src,
        [
            msg("2026-03-29T04:10", "outgoing", assumed=True),  # 05:10 BST, rest day
            msg("2026-03-29T04:20", "system", "system", assumed=True),  # an app notice
            msg("2026-03-28T20:00", "incoming", assumed=True),  # on duty
        ],
    )
    ContactsAnalyser().run(store, case, Settings())
    findings = list(DutyAnalyser().run(store, case, Settings()))
    split = next(f for f in findings if f.rule == "duty.contact-split")
    assert split.data["total"] == 2 and split.data["zone_assumed"] == 2
    assert split.why.startswith(
        "1 of 2 messages with Female A were sent or received outside rostered duty."
    )
    assert "The times of 2 messages were stored without a zone and read as Europe/London time." in (
        split.why
    )
    # The notice is still labelled.
    assert sorted(store.labels("duty", "status").values()) == ["on_duty", "rest_day", "rest_day"]


def test_unreadable_roster_stops_the_run_before_reading(tmp_path: Path) -> None:
    case = make_case(tmp_path)
    (tmp_path / "roster.csv").write_text("start,end,type\n2026-03-01 07:00,2026-03-01 17:00,x\n")
    with pytest.raises(RosterError) as raised:
        run(case, tmp_path / "out", report=False)
    assert str(raised.value) == (
        "roster.csv line 2: type: 'x' is not one of duty, rest, leave, sick, training"
    )
    assert not (tmp_path / "out" / "case.sqlite").exists()
