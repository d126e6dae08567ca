"""Case-contact cross-reference: every identifier form meets, per-contact facts are exact."""

from __future__ import annotations

from pathlib import Path

from tests.test_analysers_support import Sms, build_mmssms, run, write_case
from triage.analysers import Settings
from triage.analysers.contacts import ContactsAnalyser
from triage.analysers.parties import ContactIndex
from triage.casefile import load_case
from triage.identity import party
from triage.model import ContactEntry, Conversation, Message, Party, Provenance
from triage.store import Store

A = "+447700900123"
CONTACTS = """contacts:
  - name: Female A
    role: victim
    identifiers:
      - phone: "+44 7700 900123"
      - lid: "88001122334455@lid"
      - facebook: "100000000000123"
    aliases: [Katie L]
    dates:
      first_policing_contact: 2026-03-02
      case_closed: 2026-03-20
  - name: Female B
    role: witness
    identifiers:
      - phone: "07700 900456"
      - email: B.Witness@Example.org
"""

# The same number written five ways, each stored by the phone as its own thread.
FIVE_FORMS = [
    "07700 900123",
    "+44 7700 900123",
    "0044 7700 900123",
    "447700900123",
    "\u202a+44 (0)7700-900123\u202c",
]


def sms_rows() -> list[Sms]:
    rows = [
        Sms(1, FIVE_FORMS[0], "2026-03-03 19:00", "in", "first, from her"),
        Sms(2, FIVE_FORMS[1], "2026-03-04 20:00", "out"),
        Sms(3, FIVE_FORMS[2], "2026-03-05 21:00", "out"),
        Sms(4, FIVE_FORMS[3], "2026-03-06 22:00", "in"),
        Sms(5, FIVE_FORMS[4], "2026-03-09 23:00", "out"),
        Sms(6, FIVE_FORMS[0], "2026-03-21 10:00", "out", "after closure"),
        Sms(7, FIVE_FORMS[0], "2026-03-22 10:00", "in", "after closure"),
        Sms(13, FIVE_FORMS[0], "2026-03-20 09:00", "in", "on the closure date: not after it"),
        # Others: mum at night twice, a bank, the owner texting his own number.
        Sms(8, "+447700900777", "2026-03-03 23:30", "in"),
        Sms(9, "07700 900777", "2026-03-04 08:00", "out"),
        Sms(10, "+447700900777", "2026-03-05 01:00", "in"),
        Sms(11, "HSBC-UK", "2026-03-05 12:00", "in"),
        Sms(12, "07700 900001", "2026-03-05 12:30", "out", "note to self"),
    ]
    return rows


def test_contacts_matched_from_every_number_form(tmp_path: Path) -> None:
    build_mmssms(tmp_path / "evidence" / "mmssms.db", sms_rows())
    r = run(write_case(tmp_path, CONTACTS + "sources:\n  - evidence\n"), tmp_path / "out")
    loc = r.by_locator()

    labels = r.store.labels("contacts", "contact")
    assert sorted(r.locators([m for m, k in labels.items() if k == "contact-1"])) == sorted(
        [f"sms._id={n}" for n in range(1, 8)] + ["sms._id=13"]
    )
    assert set(labels.values()) == {"contact-1"}

    summary = r.one("contact.summary", "contact-1").data
    assert summary["matched_identifiers"] == [{"scheme": "phone", "id": A, "raw": FIVE_FORMS[0]}]
    assert summary["platforms"] == ["sms"]
    assert len(summary["conversations"]) == 5
    assert summary["message_count"] == 8
    assert summary["counts"] == {"outgoing": 4, "incoming": 4, "other": 0}
    assert summary["first_sender"] == "contact"
    assert summary["first_utc"] == "2026-03-03T19:00:00Z"
    assert summary["last_utc"] == "2026-03-22T10:00:00Z"
    assert summary["first_message_id"] == loc["sms._id=1"]
    # Days 3, 4, 5, 6 March in a row, then 9, 20, 21, 22 March.
    assert summary["longest_streak"] == {"days": 4, "start": "2026-03-03", "end": "2026-03-06"}
    assert summary["key_dates"] == {
        "case_closed": {"date": "2026-03-20", "days_to_first_message": -17},
        "first_policing_contact": {"date": "2026-03-02", "days_to_first_message": 1},
    }
    assert summary["after_closure"] == 2

    after = r.one("contact.after-closure", "contact-1")
    assert after.data["count"] == 2 and after.data["closure_date"] == "2026-03-20"
    assert r.locators(after.refs) == ["sms._id=6", "sms._id=7"]

    none = r.one("contact.none-found", "contact-2")
    assert none.why == (
        "No messages with Female B were found in the sources read. "
        "This does not show that there was no contact."
    )
    assert {i["id"] for i in none.data["identifiers_searched"]} == {
        "+447700900456",
        "b.witness@example.org",
    }

    top = r.one("correspondents.top").data["correspondents"]
    # The owner's own number (id 12) and Female A are excluded; mum's three forms are one.
    assert [(c["id"], c["count"], c["night"], c["platforms"]) for c in top] == [
        ("+447700900777", 3, 2, ["sms"]),
        ("HSBC-UK", 1, 0, ["sms"]),
    ]


def message(sender: Party, conversation: Conversation, direction: str = "incoming") -> Message:
    return Message(
        platform="whatsapp",
        conversation=conversation,
        timestamp_utc=None,
        timestamp_raw="",
        zone_assumed=False,
        direction=direction,
        sender=sender,
        recipients=[],
        body="x",
        kind="text",
        source=Provenance("f", "0" * 64, "test", "line 1"),
    )


def test_identifier_schemes_meet(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, CONTACTS + "sources:\n  - case.yaml\n"))
    index = ContactIndex(case)

    def keys(p: Party | None) -> list[str]:
        return [c.key for c in index.contacts_for(p)]

    # A WhatsApp jid (what a parser yields once a lid is resolved to a number) is a phone party.
    resolved = party("447700900123@s.whatsapp.net", "GB")
    assert resolved is not None and resolved.scheme == "phone"
    assert keys(resolved) == ["contact-1"]
    assert keys(party("88001122334455:7@lid", "GB")) == ["contact-1"]  # unresolved lid
    assert keys(party("99999999999999@lid", "GB")) == []
    assert keys(party("facebook:100000000000123", "GB")) == ["contact-1"]
    assert keys(party("b.witness@EXAMPLE.org", "GB")) == ["contact-2"]
    assert keys(party("KATIE  l", "GB", scheme="name")) == ["contact-1"]  # alias, folded
    # A display name on a phone party never matches: the number decides.
    assert (
        keys(Party(raw="+447700900999", id="+447700900999", name="Katie L", scheme="phone")) == []
    )
    assert keys(party("Katie L", "GB", scheme="alphanumeric")) == []

    # Conversation participants count for one-to-one chats only.
    her = party("07700 900123", "GB")
    other = party("07700 900999", "GB")
    owner = Party(raw="(device owner)", id="owner", scheme="owner")
    one_to_one = Conversation("c1", participants=[her])
    group = Conversation("g1", is_group=True, participants=[her, other])
    assert [
        x.contact.key for x in index.message_matches(message(owner, one_to_one, "outgoing"))
    ] == ["contact-1"]
    assert index.message_matches(message(other, group)) == []
    assert [x.contact.key for x in index.message_matches(message(her, group))] == ["contact-1"]
    assert index.is_owner(owner) and index.is_owner(party("+44 7700 900001", "GB"))


def test_address_book_names_for_case_contacts(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, CONTACTS + "sources:\n  - case.yaml\n"))
    store = Store.create(tmp_path / "store.sqlite")
    src = store.add_source("wa.db", "0" * 64, 1, "test", "1")
    prov = Provenance("wa.db", "0" * 64, "test", "wa_contacts._id=4")
    her = party("447700900123@s.whatsapp.net", "GB")
    b = party("+44 7700 900456", "GB")
    assert her is not None and b is not None
    store.ingest(
        src,
        [
            ContactEntry("Katie (DV job)", [her], prov),
            ContactEntry("Sarah witness", [b], Provenance("wa.db", "0" * 64, "test", "x=5")),
            message(her, Conversation("whatsapp:a", participants=[her])),
        ],
    )
    findings = list(ContactsAnalyser().run(store, case, Settings()))
    summary = next(f for f in findings if f.rule == "contact.summary")
    assert summary.data["address_book_names"] == ["Katie (DV job)"]
    assert summary.data["address_book_entries"][0]["locator"] == "wa_contacts._id=4"
    # Undated only: nobody can be said to have written first.
    assert summary.data["first_sender"] == "unknown"
    assert summary.data["first_utc"] is None and summary.data["undated"] == 1
    none = next(f for f in findings if f.rule == "contact.none-found")
    assert none.data["address_book_names"] == ["Sarah witness"]
    assert "'Sarah witness'" in none.why
    top = next(f for f in findings if f.rule == "correspondents.top")
    assert top.data["correspondents"] == []


def test_analysers_run_in_order() -> None:
    from triage.analysers import analysers

    # duty and gaps read the labels contacts writes, so contacts must run first; media reads the
    # labels of both contacts and duty.
    assert [a.name for a in analysers()] == [
        "contacts",
        "duty",
        # devices reads the labels of contacts and duty.
        "devices",
        "gaps",
        "media",
        "lexicon",
        "groups",
        # audit reads duty's roster logic and contacts' labels; chronology reads audit and gaps.
        "audit",
        "chronology",
    ]
