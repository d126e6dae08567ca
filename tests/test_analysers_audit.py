"""Audit correlation and the chronology on the demo case (RMS export in fixtures/demo/generate.py).

Lookups by D2291, local time: 2 Mar 09:20:41 GMT by number (day shift; first SMS 10:15:00 ->
54 min 19 s); 5 Mar 20:58:03 by record reference PER-0048812, Female A's in the case file (rest
day; next SMS 21:40 -> 41 min 57 s);
17 Mar Mark Green (tasked); 20 Mar 10:04:19 Jess Tate by name (off duty between night shifts);
24 Mar 21:05:30 Female B by number (rest day); 1 Apr 20:40:07 BST Lauren Pike, +447700900999,
who receives a WhatsApp message 16 Apr 21:20 BST; 12 Apr 20:30:44 BST Female A after the 10 April
closure (night shift from 19:00; next SMS 21:00 -> 29 min 16 s).
"""

from __future__ import annotations

import datetime as dt

import pytest

from triage.analysers.audit import AuditAnalyser, _Lookup
from triage.casefile import CaseFileError, load_case
from triage.model import AuditEvent, Provenance
from triage.run import run_case
from triage.store import Store, StoredAudit


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Store:
    from tests.conftest import DEMO

    out = tmp_path_factory.mktemp("audit") / "out"
    run_case(load_case(DEMO / "case.yaml"), out, report=False)
    return Store.open(out / "case.sqlite")


def one(store: Store, rule: str, subject: str | None):
    (f,) = [f for f in store.findings() if f.rule == rule and f.subject == subject]
    return f


def test_lookup_to_first_contact_lags(demo_store: Store) -> None:
    f = one(demo_store, "audit.contact-lookups", "contact-1")
    got = [(v["locator"], v["method"], v["next_contact"]["lag_seconds"]) for v in f.data["lookups"]]
    assert got == [
        ("row 3", "number", 54 * 60 + 19),
        ("row 4", "record reference", 41 * 60 + 57),
        ("row 10", "number", 29 * 60 + 16),
    ]
    assert f.data["lookups"][0]["before_first_contact"]
    assert f.data["lookups"][0]["next_contact"]["time_utc"] == "2026-03-02T10:15:00Z"
    assert (
        f.data["lookups"][0]["sha256"]
        and f.data["lookups"][0]["file"] == "audit/rms-audit-export.csv"
    )


def test_off_duty_lookups_flagged_with_roster_status(demo_store: Store) -> None:
    f = one(demo_store, "audit.outside-duty", None)
    assert [(v["locator"], v["duty_status"]) for v in f.data["lookups"]] == [
        ("row 4", "rest_day"),
        ("row 6", "off_duty"),
        ("row 7", "rest_day"),
        ("row 8", "rest_day"),
    ]
    summary = one(demo_store, "audit.summary", None)
    status = {v["locator"]: v["duty_status"] for v in summary.data["lookups"]}
    assert status["row 3"] == "on_duty" and status["row 10"] == "on_duty"


def test_looked_up_person_found_on_the_phone(demo_store: Store) -> None:
    f = one(demo_store, "audit.looked-up-on-phone", None)
    assert f.data["lookup"]["subject"]["name"] == "Lauren Pike"
    assert f.data["method"] == "number" and f.data["strength"] == "strong"
    assert f.data["first_after"]["time_utc"] == "2026-04-16T20:20:00Z"
    c = one(demo_store, "audit.contact-lookups", "contact-3")
    assert [(v["method"], v["strength"]) for v in c.data["lookups"]] == [("name", "medium")]


def test_lookup_of_female_a_after_case_closure(demo_store: Store) -> None:
    f = one(demo_store, "audit.after-closure", "contact-1")
    assert [v["locator"] for v in f.data["lookups"]] == ["row 10"]
    assert f.data["closure_date"] == "2026-04-10"


def test_tasking_share_worded_neutrally(demo_store: Store) -> None:
    f = one(demo_store, "audit.tasking", None)
    # Explained: row 3 and row 4 (44/26/1187 from 2 March), row 5 (Mark Green, 17 March).
    assert (f.data["no_tasking_found"], f.data["dated_lookups"]) == (4, 7)
    assert "no tasking found in the list supplied" in f.why
    assert all("unauthori" not in x.why.lower() for x in demo_store.findings("audit"))


def test_chronology_events_in_order_each_with_a_source(demo_store: Store) -> None:
    f = one(demo_store, "chronology.timeline", "contact-1")
    events = f.data["events"]
    assert [e["time_utc"] for e in events] == sorted(e["time_utc"] for e in events)
    kinds = [e["kind"] for e in events if e["kind"] != "week"]
    assert kinds[:5] == ["case_date", "lookup", "first_message", "first_call", "channel_change"]
    order = [e["kind"] for e in events]
    assert order.index("case_date") < order.index("lookup") < order.index("first_message")
    closed = next(i for i, e in enumerate(events) if e["title"].startswith("Case closed"))
    assert [
        e["kind"] for e in events[closed + 1 :] if e["kind"] in ("lookup", "after_closure")
    ] == [
        "lookup",
        "after_closure",
    ]
    assert any(e["kind"] == "channel_change" and "whatsapp" in e["title"] for e in events)
    for e in events:
        assert e["source"]["kind"] in (
            "case_file",
            "audit",
            "message",
            "call",
            "finding",
            "summary",
        )
        if e["source"]["kind"] in ("audit", "message", "call"):
            assert e["source"]["sha256"] and e["source"]["locator"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_report_chronology_page_and_csv_are_views_of_the_store(demo_case, tmp_path) -> None:
    import csv

    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    store = Store.open(out / "case.sqlite")
    events = one(store, "chronology.timeline", "contact-1").data["events"]
    page = (out / "chronology" / "contact-1.html").read_text("utf-8")
    assert page.count('<tr id="event-') == len(events)
    assert "audit/rms-audit-export.csv" in page and "<script" not in page.split("</head>")[1]
    assert "chronology/contact-1.html" in (out / "contacts" / "contact-1.html").read_text("utf-8")
    with open(out / "chronology.csv", encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["contact"] == "Female A"]
    assert [r["title"] for r in rows] == [e["title"] for e in events]
    assert rows[2]["kind"] == "lookup" and rows[2]["locator"] == "row 3"


def test_record_reference_and_date_of_birth_matches_state_their_fields(demo_store: Store) -> None:
    # Case file: Female A born 1994-06-14, record PER-0048812. Export rows 3 and 10 give her
    # number and DOB 14/06/1994 (name "Katie Lewis" is not one of her case-file names); row 4
    # gives the DOB and PER-0048812 but no number; row 10's 44/26/1187 is the crime, not hers.
    f = one(demo_store, "audit.contact-lookups", "contact-1")
    got = [(v["locator"], v["method"], v["strength"], v["fields"]) for v in f.data["lookups"]]
    assert got == [
        ("row 3", "number", "strong", ["phone", "date_of_birth"]),
        ("row 4", "record reference", "exact", ["reference", "date_of_birth"]),
        ("row 10", "number", "strong", ["phone", "date_of_birth"]),
    ]
    assert "(record reference, exact; fields matched: reference, date of birth)" in f.why
    summary = one(demo_store, "audit.summary", None)
    (row4,) = [v for v in summary.data["lookups"] if v["locator"] == "row 4"]
    assert row4["matches"] == [
        {
            "contact": "contact-1",
            "method": "record reference",
            "strength": "exact",
            "fields": ["reference", "date_of_birth"],
        }
    ]


def _lookup(n: int, name: str | None, dob: str | None, ref: str | None = None) -> _Lookup:
    event = AuditEvent(
        timestamp_utc=dt.datetime(2026, 3, 6, 12, 0, tzinfo=dt.UTC),
        timestamp_raw="06/03/2026 12:00:00",
        user="D2291",
        source=Provenance("audit/x.csv", "0" * 64, "audit_rms", f"row {n}"),
        subject_name=name,
        subject_dob=dob,
        subject_ref=ref,
    )
    return _Lookup(StoredAudit(n, event, None))


def test_name_with_date_of_birth_is_strong_and_date_of_birth_alone_is_weak() -> None:
    from tests.conftest import DEMO

    case = load_case(DEMO / "case.yaml")
    lookups = [
        _lookup(2, "Katie L", "14/06/1994"),  # her alias and her DOB
        _lookup(3, None, "1994-06-14"),  # DOB only
        _lookup(4, "Ann Other", "14.06.1994"),  # another name, her DOB
        _lookup(5, "Katie L", "15/06/1994"),  # her alias, another DOB
        _lookup(6, None, None, " per-0048812 "),  # her record, other case and spacing
        _lookup(7, None, "01/01/1990"),
    ]
    AuditAnalyser._match(case, lookups)
    got = [(lk.matches, lk.fields) for lk in lookups]
    assert got == [
        ({"contact-1": "name and date of birth"}, {"contact-1": ["name", "date_of_birth"]}),
        ({"contact-1": "date of birth"}, {"contact-1": ["date_of_birth"]}),
        ({"contact-1": "date of birth"}, {"contact-1": ["date_of_birth"]}),
        ({"contact-1": "name"}, {"contact-1": ["name"]}),
        ({"contact-1": "record reference"}, {"contact-1": ["reference"]}),
        ({}, {}),
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "date_of_birth: 1994-06-14",
            "date_of_birth: 14/06/1994",
            r"contacts\[0\]\.date_of_birth: expected a date as YYYY-MM-DD$",
        ),
        (
            "records: [PER-0048812]",
            "records: PER-0048812",
            r"contacts\[0\]\.records: expected a list",
        ),
        (
            "records: [PER-0048812]",
            "records: [PER-0048812, PER-0048812]",
            r"contacts\[0\]\.records\[1\]: PER-0048812 is listed twice$",
        ),
    ],
)
def test_contact_date_of_birth_and_records_errors_name_line_and_field(
    demo_case, old: str, new: str, message: str
) -> None:
    text = demo_case.read_text("utf-8")
    assert old in text
    demo_case.write_text(text.replace(old, new), "utf-8")
    with pytest.raises(CaseFileError, match=r"^case\.yaml line \d+: " + message):
        load_case(demo_case)
