"""Deleted-message gaps: AUTOINCREMENT vs plain ids, windows, discounts, markers, traces."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_analysers_support import Sms, build_mmssms, run, write_case
from triage.analysers import Settings
from triage.analysers.contacts import ContactsAnalyser
from triage.analysers.gaps import GapsAnalyser
from triage.casefile import load_case
from triage.evidence import sha256_file
from triage.identity import party
from triage.model import Conversation, DeletionTrace, IdSpace, Message, Party, Provenance
from triage.store import Finding, Store

A = "07700 900123"
MUM = "+447700900777"
CONTACT = """contacts:
  - name: Female A
    role: victim
    identifiers:
      - phone: "+44 7700 900123"
"""
# Ids 1-2, 5, 8-9 (and, for AUTOINCREMENT with high-water 12, 11-12) are missing.
ROWS = [
    Sms(3, A, "2026-03-02 10:00", "in"),
    Sms(4, A, "2026-03-02 11:00", "out"),
    Sms(6, A, "2026-03-02 13:00", "in"),
    Sms(7, A, "2026-03-02 14:00", "out"),
    Sms(10, MUM, "2026-03-02 17:00", "in"),
]


def gap_rows(findings: list[Finding]) -> list[tuple]:
    return [
        (
            f.data["missing_from"],
            f.data["missing_to"],
            f.data["missing_min"],
            f.data["position"],
            f.data["strength"],
            f.data["window_start_utc"],
            f.data["window_end_utc"],
            f.subject,
            f.data["contact_key"],
        )
        for f in findings
    ]


def run_gaps(tmp_path: Path, autoincrement: bool):
    db = build_mmssms(
        tmp_path / "evidence" / "mmssms.db", ROWS, autoincrement=autoincrement, high_water=12
    )
    r = run(write_case(tmp_path, CONTACT + "sources:\n  - evidence\n"), tmp_path / "out")
    return r, db


def test_autoincrement_gaps_are_certain_with_windows(tmp_path: Path) -> None:
    r, db = run_gaps(tmp_path, autoincrement=True)
    gaps = r.findings("gap.id")
    a_thread = r.store.messages_by_ids([r.by_locator()["sms._id=4"]])[0].message.conversation.id
    assert gap_rows(gaps) == [
        (1, 2, 2, "leading", "certain", None, "2026-03-02T10:00:00Z", "unattributed", None),
        (
            5,
            5,
            1,
            "interior",
            "certain",
            "2026-03-02T11:00:00Z",
            "2026-03-02T13:00:00Z",
            a_thread,
            "contact-1",
        ),
        # 7 is Female A's, 10 is mum's: no single conversation.
        (
            8,
            9,
            2,
            "interior",
            "certain",
            "2026-03-02T14:00:00Z",
            "2026-03-02T17:00:00Z",
            "unattributed",
            None,
        ),
        (11, 12, 2, "trailing", "certain", "2026-03-02T17:00:00Z", None, "unattributed", None),
    ]
    assert [r.locators(g.refs) for g in gaps] == [
        ["sms._id=3"],
        ["sms._id=4", "sms._id=6"],
        ["sms._id=7", "sms._id=10"],
        ["sms._id=10"],
    ]
    assert gaps[1].why.startswith("At least 1 id missing from sms._id (5; interior)")
    assert "not deleted messages" in gaps[1].why

    # findings.json: every reference resolves to the exact row of the exact file.
    exported = {f["id"]: f for f in r.findings_json()["findings"]}
    refs = exported[gaps[1].id]["refs"]
    assert [(x["file"], x["locator"], x["sha256"]) for x in refs] == [
        ("evidence/mmssms.db", "sms._id=4", sha256_file(db)),
        ("evidence/mmssms.db", "sms._id=6", sha256_file(db)),
    ]
    assert exported[gaps[1].id]["data"]["before_locator"] == "sms._id=4"

    space = r.one("gap.id-space").data
    assert (space["table"], space["autoincrement"], space["high_water"]) == ("sms", True, 12)
    assert (space["id_gaps"], space["missing_min"], space["rows"]) == (4, 7, 5)

    # Only gap 5 lies in Female A's thread (4 messages with row ids); the leading gap and 8-9
    # border her messages but lie in no single conversation: counted apart, in neither rate.
    # Elsewhere (mum's thread, 1 message) no gap is placed: the trailing one is unattributed.
    rate = r.one("gap.contact-rate", "contact-1").data
    assert (rate["gaps"], rate["messages"], rate["per_100"]) == (1, 4, 25.0)
    assert (rate["elsewhere_gaps"], rate["elsewhere_messages"], rate["elsewhere_per_100"]) == (
        0,
        1,
        0.0,
    )
    assert rate["unplaced_gaps"] == 2


def test_plain_integer_ids_give_possible_gaps_and_no_trailing(tmp_path: Path) -> None:
    r, _ = run_gaps(tmp_path, autoincrement=False)
    gaps = r.findings("gap.id")
    assert [(g.data["missing_from"], g.data["missing_to"], g.data["strength"]) for g in gaps] == [
        (1, 2, "possible"),
        (5, 5, "possible"),
        (8, 9, "possible"),
    ]
    assert all("sms._id is not AUTOINCREMENT" in g.data["reasons"][0] for g in gaps)
    assert r.one("gap.id-space").data["high_water"] is None


# -- rows built directly in a store: WhatsApp-shaped ids and order keys, text exports ----------
HER = Party(raw="447700900123@s.whatsapp.net", id="+447700900123", scheme="phone")
OTHER = Party(raw="447700900888@s.whatsapp.net", id="+447700900888", scheme="phone")
OWNER = Party(raw="(device owner)", id="owner", scheme="owner")
CHAT_A = Conversation("whatsapp:447700900123@s.whatsapp.net", participants=[HER])
CHAT_B = Conversation("whatsapp:447700900888@s.whatsapp.net", participants=[])
STATUS = Conversation("whatsapp:status@broadcast", is_group=True)
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def wa(
    rowid: int | None,
    conv: Conversation,
    sort: int | None,
    minute: int,
    direction: str = "incoming",
    file: str = "msgstore.db",
    **kw,
) -> Message:
    return Message(
        platform="whatsapp",
        conversation=conv,
        timestamp_utc=T0 + dt.timedelta(minutes=minute),
        timestamp_raw=str(minute),
        zone_assumed=file.endswith(".txt"),
        direction=direction,
        sender=kw.pop("sender", HER if direction == "incoming" else OWNER),
        recipients=[],
        body="x",
        kind=kw.pop("kind", "text"),
        source=Provenance(
            file, "1" * 64, "test", f"message._id={rowid}" if rowid else f"line {sort}"
        ),
        record_id=rowid,
        id_space="message" if rowid else None,
        order_key=sort,
        **kw,
    )


@pytest.fixture
def wa_store(tmp_path: Path):
    case = load_case(write_case(tmp_path, CONTACT + "sources:\n  - case.yaml\n"))
    store = Store.create(tmp_path / "store.sqlite")
    src = store.add_source("msgstore.db", "1" * 64, 1, "test", "1")
    records = [
        wa(1, CHAT_A, 10, 0),
        wa(2, STATUS, 1, 1, sender=OTHER, status_update=True),
        wa(4, CHAT_A, 12, 3),  # sort 11 missing between rows 1 and 4: probable
        wa(5, CHAT_A, 13, 4, direction="system", kind="system"),
        wa(7, CHAT_A, 14, 6, direction="outgoing"),
        wa(8, CHAT_A, 15, 7, direction="outgoing", kind="deleted", deleted=True),
        wa(9, CHAT_B, 1, 8, sender=OTHER),
        # Status updates are numbered too, with holes as they expire: never an order gap.
        wa(10, STATUS, 3, 9, sender=OTHER, status_update=True),
        IdSpace(
            "msgstore.db",
            "1" * 64,
            "test",
            "message",
            "_id",
            True,
            10,
            [1, 2, 4, 5, 7, 8, 9, 10],
            "sort_id",
        ),
        DeletionTrace(
            "deleted_chat_job",
            "chat cleared",
            Provenance("msgstore.db", "1" * 64, "test", "deleted_chat_job._id=1"),
            "certain",
            CHAT_A.id,
        ),
        # A text export of the same chat: line numbers are not row ids; only the marker counts.
        wa(None, CHAT_A, 1, 20, file="chat.txt"),
        wa(None, CHAT_A, 9, 21, file="chat.txt", kind="deleted", deleted=True),
    ]
    store.ingest(src, records)
    ContactsAnalyser().run(store, case, Settings())
    findings = list(GapsAnalyser().run(store, case, Settings()))
    ids = {s.message.source.locator + "@" + s.message.source.file: s.id for s in store.messages()}
    return findings, ids


def test_discounts_order_gaps_traces_and_markers(wa_store) -> None:
    findings, ids = wa_store

    def rule(name: str) -> list[Finding]:
        return [f for f in findings if f.rule == name]

    def mid(rowid: int) -> int:
        return ids[f"message._id={rowid}@msgstore.db"]

    id_gaps = rule("gap.id")
    assert [
        (g.data["missing_from"], g.data["strength"], g.refs, len(g.data["discounted"]))
        for g in id_gaps
    ] == [
        # 3: next to a Status update, which WhatsApp removes itself -> possible at most.
        (3, "possible", [mid(2), mid(4)], 1),
        # 6: next to a system row -> one step weaker than certain.
        (6, "probable", [mid(5), mid(7)], 1),
    ]
    assert "Status" in id_gaps[0].data["discounted"][0]
    assert "system row" in id_gaps[1].data["discounted"][0]
    assert id_gaps[1].subject == CHAT_A.id and id_gaps[1].data["contact_key"] == "contact-1"

    order = rule("gap.order")
    assert [
        (g.subject, g.data["missing_from"], g.data["missing_to"], g.data["strength"]) for g in order
    ] == [(CHAT_A.id, 11, 11, "probable")]
    assert order[0].refs == [mid(1), mid(4)] and order[0].data["id_column"] == "sort_id"

    trace = rule("gap.trace")
    assert len(trace) == 1
    assert (trace[0].data["kind"], trace[0].data["strength"], trace[0].data["contact_key"]) == (
        "deleted_chat_job",
        "certain",
        "contact-1",
    )
    assert trace[0].data["locator"] == "deleted_chat_job._id=1"

    markers = rule("gap.marker")
    assert [(m.subject, m.data["count"], m.data["contact_key"]) for m in markers] == [
        (CHAT_A.id, 2, "contact-1")
    ]
    assert sorted(markers[0].refs) == sorted([mid(8), ids["line 9@chat.txt"]])

    # Nothing from the text export is an id or order gap, though its line numbers have holes.
    for g in rule("gap.id") + rule("gap.order"):
        assert ids["line 1@chat.txt"] not in g.refs and ids["line 9@chat.txt"] not in g.refs

    rate = rule("gap.contact-rate")[0].data
    # Discounted gaps are not counted: none left next to Female A, none on the phone.
    assert (rate["gaps"], rate["elsewhere_gaps"], rate["messages"]) == (0, 0, 5)
    assert (rate["order_gaps"], rate["markers"], rate["messages_total"]) == (1, 2, 7)
    assert rate["traces"] == 1  # the deleted_chat_job of her chat


def test_party_helper_used_by_parsers_matches_resolved_lid() -> None:
    # What a WhatsApp parser yields after resolving a lid through jid_map: a phone party.
    resolved = party("447700900123@s.whatsapp.net", "GB")
    assert resolved == Party("447700900123@s.whatsapp.net", "+447700900123", None, "phone")


WA_CURRENT = Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp_db" / "android_current"
WA_CONTACTS = """contacts:
  - name: Alice
    role: victim
    identifiers: [{phone: "07700 900123"}]
  - name: Bob
    role: witness
    identifiers: [{phone: "07700 900456"}]
  - name: Carol
    role: witness
    identifiers: [{phone: "07700 900789"}]
  - name: Dave
    role: other
    identifiers: [{phone: "07700 900999"}]
"""


def test_whatsapp_database_through_the_parser(tmp_path: Path) -> None:
    # fixtures/whatsapp_db/README.md: message ids 1-17 with 11 removed ("deleted for me"),
    # 18-20 removed (sqlite_sequence 20), 12 revoked, 5 sent by an @lid that jid_map resolves to
    # Carol's number; sort_id equals _id on every row.
    case = write_case(tmp_path, WA_CONTACTS + f"sources:\n  - {WA_CURRENT}\n")
    r = run(case, tmp_path / "out", report=False)
    loc = r.by_locator()

    carol = r.one("contact.summary", "contact-3").data
    assert {"scheme": "phone", "id": "+447700900789", "raw": "98765432101234@lid"} in carol[
        "matched_identifiers"
    ]
    assert "contact-3" in r.store.labels("contacts", "contacts")[loc["message._id=5"]]
    # Bob's Status update (row 9) is labelled his but is not a message with him; nor is his call
    # (the call bubble, row 13, is a call record).
    bob = r.one("contact.summary", "contact-2").data
    assert (bob["message_count"], bob["status_updates"]) == (4, 1)
    assert "contact-2" in r.store.labels("contacts", "contacts")[loc["message._id=9"]]
    assert r.one("duty.contact-split", "contact-2").data["total"] == 4

    bob_chat = "whatsapp:447700900456@s.whatsapp.net"
    gaps = r.findings("gap.id")
    assert [(g.data["missing_from"], g.data["missing_to"], g.data["position"]) for g in gaps] == [
        (11, 11, "interior"),
        (18, 20, "trailing"),
    ]
    assert all(g.data["strength"] == "certain" for g in gaps)
    assert (gaps[0].subject, gaps[0].data["contact_key"]) == (bob_chat, "contact-2")
    assert r.locators(gaps[0].refs) == ["message._id=10", "message._id=12"]
    assert r.locators(gaps[1].refs) == ["message._id=17"] and gaps[1].subject == "unattributed"
    # A call_log row in the same file is not a row of the message table, and the call bubble
    # (row 13) is a call, not a message, though its id is present in the table.
    space = r.one("gap.id-space").data
    assert (space["messages"], space["order_mode"], space["order_gaps"]) == (15, "mirror", 0)

    marker = r.one("gap.marker", bob_chat)
    assert marker.data["count"] == 1 and r.locators(marker.refs) == ["message._id=12"]
    traces = r.findings("gap.trace")
    assert len(traces) == len(r.store.deletion_traces())
    job = [t for t in traces if t.data["kind"] == "deleted_chat_job"]
    assert [(t.subject, t.data["strength"], t.data["contact_key"]) for t in job] == [
        ("whatsapp:447700900999@s.whatsapp.net", "certain", "contact-4")
    ]


def test_shared_order_key_gaps_skip_values_used_by_other_chats(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, CONTACT + "sources:\n  - case.yaml\n"))
    store = Store.create(tmp_path / "store.sqlite")
    src = store.add_source("msgstore.db", "1" * 64, 1, "test", "1")
    store.ingest(
        src,
        [
            # One numbering across chats (sort differs from _id): A has 1, 5; B has 2; 3-4 unused.
            wa(1, CHAT_A, 101, 0),
            wa(2, CHAT_B, 102, 1, sender=OTHER),
            wa(3, CHAT_A, 105, 2),
            IdSpace(
                "msgstore.db", "1" * 64, "test", "message", "_id", True, 3, [1, 2, 3], "sort_id"
            ),
        ],
    )
    ContactsAnalyser().run(store, case, Settings())
    findings = list(GapsAnalyser().run(store, case, Settings()))
    order = [f for f in findings if f.rule == "gap.order"]
    assert [(f.subject, f.data["missing_from"], f.data["missing_to"]) for f in order] == [
        (CHAT_A.id, 103, 104)
    ]
    space = next(f for f in findings if f.rule == "gap.id-space")
    assert space.data["order_mode"] == "shared"


def test_ios_sms_database_through_the_parser(tmp_path: Path) -> None:
    # fixtures/sms: iOS 16 sms.db, message.ROWID AUTOINCREMENT (sqlite_sequence 21); ROWID 10 was
    # deleted (deleted_messages names its guid), 21 is gone from the end; ROWID 9 is a group
    # system row.
    ios16 = Path(__file__).resolve().parents[1] / "fixtures" / "sms" / "generated" / "ios16"
    r = run(
        write_case(tmp_path, CONTACT + f"sources:\n  - {ios16}\n"), tmp_path / "out", report=False
    )
    gaps = r.findings("gap.id")
    assert [
        (g.data["missing_from"], g.data["position"], g.data["strength"], len(g.data["discounted"]))
        for g in gaps
    ] == [(10, "interior", "probable", 1), (21, "trailing", "certain", 0)]
    assert r.locators(gaps[0].refs) == ["message.ROWID=9", "message.ROWID=11"]
    assert gaps[0].subject == "unattributed"
    kinds = sorted(t.data["kind"] for t in r.findings("gap.trace"))
    assert "deleted_messages" in kinds and "recently_deleted" in kinds
    assert len(kinds) == len(r.store.deletion_traces())
