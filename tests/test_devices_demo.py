"""The demo case with his personal phone (fixtures/demo/case-two-phones.yaml): hand-derived
per-device and combined figures.

Derivation (fixtures/demo/generate.py):

Work phone (android-extraction.zip, sdcard-copy): the single-device demo's figures for Female A
(tests/test_analysers_demo.py): 38 SMS + 12 WhatsApp = 50 messages, 32 sent by him, 18 received;
31 of the 50 outside rostered duty. 12 calls with her (calllog.db). Female B: 4 SMS + 2 WhatsApp
= 6 messages, 1 outside duty; her 4 calls are on the old iPhone (a device of kind other), so
none is on the work phone.

Personal phone (personal-phone.zip, PERSONAL_SCRIPT), roster 4 on / 4 off from 1 March (offset
% 8: 0-1 day 07:00-17:00, 2-3 nights, 4-7 rest):
  15/04 (offset 45, phase 5: rest) 20:10 out, 20:40 in, 20:42 out -> 3 outside
  18/04 (phase 0: day shift) 12:30 out                            -> on duty
  19/04 (phase 1: day shift, ended 17:00) 18:30 out, 18:45 in     -> 2 off duty, outside
  -> 6 messages with Female A, 4 his, 2 hers, 5 outside rostered duty.
  15/04 19:55 an SMS from his work number to this phone (OWN_SMS): sent on the work phone
  (mmssms.db sms._id=52, to 07700 900002), received here (this phone's mmssms.db sms._id=1,
  from +447700900001, date 4 s and date_sent 1 s after the sent copy's date): one event between
  his own devices, the sent copy kept, the received one listed as its copy.
  Team 4: Hollis's picture (20/04 19:05) and his reply sent from the work number (19:07), copies
  of work msgstore rows 26 and 27 (key_ids 3EB0DE...1A and ...1B); rows 7 and 8 of this
  database (6 PERSONAL_SCRIPT rows come first in time).

Combined for Female A: 50 + 6 = 56 events, none held on both phones, so 56 copies.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import DEMO
from triage.casefile import load_case
from triage.run import run_case
from triage.store import Store


@pytest.fixture(scope="module")
def two_phones(tmp_path_factory: pytest.TempPathFactory) -> Store:
    out = tmp_path_factory.mktemp("two-phones")
    result = run_case(load_case(DEMO / "case-two-phones.yaml"), out)
    store = Store.open(result.store_path)
    yield store
    store.close()


def finding(store: Store, rule: str, subject: str | None = None):  # noqa: ANN201
    (found,) = [f for f in store.findings() if f.rule == rule and f.subject == subject]
    return found


def test_female_a_per_device_and_combined(two_phones: Store) -> None:
    split = finding(two_phones, "device.contact-split", "contact-1")
    assert split.why == (
        "56 messages with Female A: 50 on his work phone, 6 on his personal phone; 31 of the"
        " 50 on his work phone outside rostered duty."
    )
    assert (split.data["counts"], split.data["events"], split.data["copies"]) == (
        "events",
        56,
        56,
    )
    rows = {r["device"]: r for r in split.data["per_device"]}
    assert {
        k: (r["messages"], r["outgoing"], r["incoming"], r["outside_duty"]) for k, r in rows.items()
    } == {
        "device-1": (50, 32, 18, 31),
        "device-2": (6, 4, 2, 5),
    }
    # The contact summary counts events: the combined figure.
    assert finding(two_phones, "contact.summary", "contact-1").data["message_count"] == 56


def test_work_phone_contact_lists_contacts_reached_from_the_work_phone(two_phones: Store) -> None:
    work = finding(two_phones, "device.work-phone-contact", "device-1")
    assert [(r["name"], r["messages"], r["calls"]) for r in work.data["contacts"]] == [
        ("Female A", 50, 12),
        ("Female B", 6, 0),
    ]
    assert [f.subject for f in two_phones.findings() if f.rule == "device.work-phone-contact"] == [
        "device-1"
    ]


def test_messages_naming_several_are_those_whose_rows_name_two_identifiers(
    two_phones: Store,
) -> None:
    """The own-devices rule's candidates, counted in SQL, are the messages whose
    ``party_messages`` rows name two or more different identifiers among the parties asked
    for: for his identifiers, every party, each half of the parties and none."""
    parties = two_phones.parties()
    owner_ids = {"+447700900001", "+447700900002"}

    def naming_two(asked: list[int]) -> list[int]:
        named: dict[int, set[str | None]] = {}
        for mid, _role, _position, pid in two_phones.party_messages(asked):
            named.setdefault(mid, set()).add(parties[pid].id)
        return sorted(mid for mid, ids in named.items() if len(ids - {None}) > 1)

    his = [pid for pid, p in parties.items() if p.id in owner_ids]
    assert len(his) >= 2
    everyone = sorted(parties)
    for asked in (his, everyone, everyone[::2], everyone[1::2], []):
        assert two_phones.messages_naming_several(asked) == naming_two(asked)
    own = finding(two_phones, "device.own-devices")
    assert set(own.refs) <= set(two_phones.messages_naming_several(his))
    assert len(two_phones.messages_naming_several(everyone)) > 50


def test_coverage_lists_the_first_copies_and_counts_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coverage page reads only the copies it lists, and says how many there are."""
    monkeypatch.setattr("triage.report.writer.DUPLICATES_LISTED", 2)
    result = run_case(load_case(DEMO / "case-two-phones.yaml"), tmp_path / "out")
    store = Store.open(result.store_path)
    every, count = store.duplicates(), store.duplicate_count()
    store.close()
    assert count == len(every) > 2
    page = (tmp_path / "out" / "coverage.html").read_text("utf-8")
    section = page.split("<h2>Duplicate copies</h2>")[1].split("<h2>")[0]
    assert f"<p>{count} messages were found more than once" in section
    assert section.count('<tr><td class="path">') == 2
    assert "The first 2 are listed" in section
    assert every[0]["locator"] in section and every[2]["locator"] not in section


def test_message_between_his_own_numbers_is_labelled_and_never_contact(two_phones: Store) -> None:
    own = finding(two_phones, "device.own-devices")
    assert own.data == {"count": 1, "devices": ["device-1", "device-2"]}
    (stored,) = two_phones.messages_by_ids(own.refs)
    assert stored.message.body == "Test from the work phone"
    # One SMS seen twice: the work phone's sent copy counted, the personal phone's listed.
    assert (stored.message.device, stored.message.direction) == ("device-1", "outgoing")
    assert stored.message.source.locator == "sms._id=52"
    assert two_phones.copies_of([stored.id]) == {
        stored.id: [
            {
                "device": "device-2",
                "file": "personal-phone.zip!/data/user_de/0/com.android.providers.telephony"
                "/databases/mmssms.db",
                "locator": "sms._id=1",
            }
        ]
    }
    assert two_phones.labels("devices", "own_device") == {stored.id: True}
    assert stored.id not in two_phones.labels("contacts", "contact")
    top = finding(two_phones, "correspondents.top").data["correspondents"]
    assert not {"+447700900001", "+447700900002"} & {r["id"] for r in top}


def test_group_on_both_phones_is_one_event_seen_twice(two_phones: Store) -> None:
    personal = "personal-phone.zip!/data/data/com.whatsapp/databases/msgstore.db"
    copies = [d for d in two_phones.duplicates() if d["file"] == personal]
    assert [(d["locator"], d["duplicate_key"]) for d in copies] == [
        ("message._id=7", "whatsapp:120363000000000077@g.us:0:3EB0DE0000000000001A"),
        ("message._id=8", "whatsapp:+447700900001:3EB0DE0000000000001B"),
    ]
    kept = two_phones.messages_by_ids(d["kept_message_id"] for d in copies)
    # The kept copies are the work phone's: Hollis's post, and his own reply (outgoing there).
    assert [(s.message.device, s.message.direction, s.message.extra["key_id"]) for s in kept] == [
        ("device-1", "incoming", "3EB0DE0000000000001A"),
        ("device-1", "outgoing", "3EB0DE0000000000001B"),
    ]
    provenance = two_phones.copies_of(s.id for s in kept)
    assert [c for s in kept for c in provenance[s.id]] == [
        {"device": "device-2", "file": personal, "locator": "message._id=7"},
        {"device": "device-2", "file": personal, "locator": "message._id=8"},
    ]


def test_report_names_every_device_and_each_message_device(two_phones: Store) -> None:
    out = Path(two_phones.path).parent
    index = (out / "index.html").read_text()
    for label in ("Work phone", "Personal phone", "Old iPhone", "Facebook download"):
        assert f"{label} (" in index
    # The first screen gives her messages by device and combined, and the work phone's contacts.
    assert (
        "56 messages with Female A: 50 on his work phone, 6 on his personal phone; 31 of the"
        " 50 on his work phone outside rostered duty."
    ) in index
    assert (
        "Case contacts reached from his work phone (a work device in the case file): Female A"
        " (50 messages, 12 calls); Female B (6 messages, 0 calls)."
    ) in index
    devices = {d["key"]: d for d in two_phones.meta()["devices"]}
    assert devices["device-2"]["sources"][0]["sha256"] in index
    pages = "".join(p.read_text() for p in (out / "conversations").glob("*.html"))
    assert 'badge device">Personal phone' in pages and 'badge device">Work phone' in pages
    assert "also held (on Personal phone)" in pages
    # Her page gives the per-device and combined figures.
    contact = (out / "contacts" / "contact-1.html").read_text("utf-8")
    assert (
        '<dt>By device</dt><dd class="by-device">56 messages with Female A: 50 on his work'
        " phone, 6 on his personal phone; 31 of the 50 on his work phone outside rostered duty."
    ) in contact


def test_messages_csv_names_the_device_of_each_message(two_phones: Store) -> None:
    """messages.csv carries the case file's device label: Female A's 56 messages are 50 rows from
    the work phone and 6 from the personal phone (the same split as device.contact-split)."""
    out = Path(two_phones.path).parent
    with (out / "messages.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    hers = Counter(r["device"] for r in rows if r["case_contact_key"] == "contact-1")
    assert hers == {"Work phone": 50, "Personal phone": 6}
    assert all(r["device"] for r in rows)


def test_findings_exports_name_the_devices(two_phones: Store) -> None:
    """findings.csv, findings.json and the workbook name the devices holding the records each
    finding rests on (copies included) or the device it is about."""
    out = Path(two_phones.path).parent
    with (out / "findings.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = {(r["rule"], r["subject"]): r["devices"] for r in csv.DictReader(fh)}
    assert rows[("device.work-phone-contact", "device-1")] == "Work phone"
    # Female A: 50 messages on the work phone and 6 on the personal phone.
    assert rows[("device.contact-split", "contact-1")] == "Work phone; Personal phone"
    # The SMS between his numbers: sent copy on one phone, received copy on the other.
    assert rows[("device.own-devices", "")] == "Work phone; Personal phone"
    # Female C's messages are all in the Facebook download.
    assert rows[("contact.summary", "contact-3")] == "Facebook download"
    data = json.loads((out / "findings.json").read_text("utf-8"))
    (own,) = [f for f in data["findings"] if f["rule"] == "device.own-devices"]
    assert own["devices"] == [
        {"key": "device-1", "label": "Work phone"},
        {"key": "device-2", "label": "Personal phone"},
    ]
    book = openpyxl.load_workbook(out / "triage.xlsx", read_only=True)
    sheet = list(book["findings"].iter_rows(values_only=True))
    column = sheet[0].index("devices")
    assert {r[column] for r in sheet[1:] if r[2] == "device.work-phone-contact"} == {"Work phone"}


def test_conversation_held_only_as_copies_is_present_on_both_devices(two_phones: Store) -> None:
    """The personal phone's Team 4 (both its rows are copies of the work phone's rows 26 and 27)
    and its SMS thread with the work number (its one row, a copy of the work phone's sms._id=52)
    count no message, and say they are present on both devices with their copies."""
    copies = two_phones.conversation_copies()
    assert copies == {
        "device-2/sms:thread:1": {
            "copies": 1,
            "devices": ["device-2"],
            "kept_in": [{"key": "device-1/sms:thread:7", "device": "device-1", "copies": 1}],
        },
        "device-2/whatsapp:120363000000000077@g.us": {
            "copies": 2,
            "devices": ["device-2"],
            "kept_in": [
                {
                    "key": "device-1/whatsapp:120363000000000077@g.us",
                    "device": "device-1",
                    "copies": 2,
                }
            ],
        },
    }
    group = finding(two_phones, "group.participation", "device-2/whatsapp:120363000000000077@g.us")
    assert group.data["copies"] == copies["device-2/whatsapp:120363000000000077@g.us"]
    assert group.why.endswith(
        "2 messages held here on Personal phone are copies of messages counted once, where the"
        " first copy was read (2 messages on Work phone): the conversation is present on both"
        " devices, and these copies are not counted again."
    )
    out = Path(two_phones.path).parent / "conversations"
    (page,) = out.glob("device-2-whatsapp-120363000000000077-*.html")
    (kept,) = out.glob("device-1-whatsapp-120363000000000077-*.html")
    text = page.read_text("utf-8")
    assert "Present on more than one device: 2 messages held here on Personal phone" in text
    assert f'<a href="{kept.name}">Team 4</a> on Work phone' in text
    # The work phone's own group page holds no copies of another's: no such sentence.
    assert "Present on more than one device" not in kept.read_text("utf-8")
    # The sources' counts say where the copies went: the personal mmssms.db stored none.
    sources = {s["file"]: (s["messages"], s["duplicates"]) for s in two_phones.sources()}
    assert sources[
        "personal-phone.zip!/data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
    ] == (0, 1)
