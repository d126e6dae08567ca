"""Several devices in one case: the case file's ``devices:``, attribution of every record to its
device, and the single-device form meaning one device."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_run import SMS_SCHEMA
from triage.casefile import CaseFileError, load_case
from triage.evidence import sha256_file
from triage.run import run_case
from triage.store import Store

WORK = "+447700900001"
PERSONAL = "+447700900002"
FEMALE_A = "+447700900123"
T0 = int(dt.datetime(2026, 3, 5, 21, 0, tzinfo=dt.UTC).timestamp() * 1000)


def mmssms(path: Path, rows: list[tuple[str, int, int, str]]) -> Path:
    """An AOSP-shaped mmssms.db: (address, minutes after T0, type 1 inbox / 2 sent, body); every
    address gets its own thread, numbered from 1 on each phone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(SMS_SCHEMA)
    threads: dict[str, int] = {}
    for n, (address, minute, kind, body) in enumerate(rows, start=1):
        if address not in threads:
            conn.execute("INSERT INTO canonical_addresses (address) VALUES (?)", (address,))
            conn.execute("INSERT INTO threads (recipient_ids) VALUES (?)", (str(len(threads) + 1),))
            threads[address] = len(threads) + 1
        conn.execute(
            "INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?,?,?,?,?,?)",
            (n, threads[address], address, T0 + minute * 60_000, kind, body),
        )
    conn.commit()
    conn.close()
    return path


HEAD = """case:
  reference: TEST/DEVICES
subject:
  name: PC 1 Test
contacts:
  - name: Female A
    role: victim
    identifiers:
      - phone: "07700 900123"
"""

TWO_DEVICES = (
    HEAD
    + """devices:
  - label: Work phone
    kind: work
    identifiers:
      - phone: "07700 900001"
    sources:
      - path: work/mmssms.db
        label: work-mmssms.db
  - label: Personal phone
    kind: personal
    identifiers:
      - phone: "07700 900002"
    roster:
      pattern: 4on4off
      anchor: 2026-03-01
    sources:
      - path: personal
        label: personal-phone
"""
)


@pytest.fixture
def two_phones(tmp_path: Path) -> Path:
    mmssms(
        tmp_path / "work" / "mmssms.db",
        [(FEMALE_A, 0, 2, "work to her"), (PERSONAL, 5, 2, "note to self"), (FEMALE_A, 9, 1, "hi")],
    )
    mmssms(
        tmp_path / "personal" / "mmssms.db",
        [(FEMALE_A, 20, 2, "personal to her"), (WORK, 5, 1, "note to self")],
    )
    path = tmp_path / "case.yaml"
    path.write_text(TWO_DEVICES, "utf-8")
    return path


def test_devices_list_is_read_with_each_device_its_sources(two_phones: Path) -> None:
    case = load_case(two_phones)
    assert [(d.key, d.label, d.kind) for d in case.devices] == [
        ("device-1", "Work phone", "work"),
        ("device-2", "Personal phone", "personal"),
    ]
    assert [(s.label, s.device) for s in case.sources] == [
        ("work-mmssms.db", "device-1"),
        ("personal-phone", "device-2"),
    ]
    assert case.devices[1].roster is not None and case.devices[1].roster.pattern == "4on4off"
    assert case.devices[0].roster is None
    # Each device's owner is its own number first, then the subject's; with no device named,
    # every number of his is him.
    assert [p.id for p in case.owner_parties("device-2")] == [PERSONAL]
    assert {p.id for p in case.owner_parties()} == {WORK, PERSONAL}
    assert case.several_devices


def test_single_device_form_means_one_device(tmp_path: Path) -> None:
    mmssms(tmp_path / "mmssms.db", [(FEMALE_A, 0, 2, "x")])
    path = tmp_path / "case.yaml"
    path.write_text(HEAD + "sources:\n  - mmssms.db\n", "utf-8")
    case = load_case(path)
    assert [(d.key, d.declared) for d in case.devices] == [("device-1", False)]
    assert not case.several_devices
    assert [s.device for s in case.sources] == ["device-1"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("kind: personal", "kind: home"),
            "case.yaml line 19: devices[1].kind: expected one of work, personal, other",
        ),
        (
            ("label: Personal phone", "label: Work phone"),
            "case.yaml line 18: devices[1].label: 'Work phone' is already devices[0]",
        ),
        (
            ("path: personal\n", "path: work/mmssms.db\n"),
            "case.yaml line 26: devices[1].sources[0]: mmssms.db is also a source of Work phone;"
            " give each source once, with its own label",
        ),
        (
            ("label: personal-phone", "label: work-mmssms.db"),
            "case.yaml line 26: devices[1].sources[0]: label 'work-mmssms.db' is also a source of"
            " Work phone; give each source once, with its own label",
        ),
        (
            ("    kind: work\n", ""),
            "case.yaml line 11: devices[0].kind: missing",
        ),
        (
            ("      anchor: 2026-03-01\n", ""),
            "case.yaml line 23: devices[1].roster.anchor: a shift pattern needs an anchor date",
        ),
        (
            ("devices:", "sources: [work]\ndevices:"),
            "case.yaml line 12: devices: give sources: inside each device, or sources: alone",
        ),
    ],
)
def test_device_errors_name_line_and_field(
    two_phones: Path, edit: tuple[str, str], message: str
) -> None:
    two_phones.write_text(two_phones.read_text().replace(*edit, 1), "utf-8")
    with pytest.raises(CaseFileError) as err:
        load_case(two_phones)
    assert str(err.value) == message


def test_every_record_carries_its_device(two_phones: Path, tmp_path: Path) -> None:
    result = run_case(load_case(two_phones), tmp_path / "out")
    store = Store.open(result.store_path)
    rows = sorted(
        (s.message.device, s.message.conversation.id, s.message.direction, s.message.body)
        for s in store.messages()
    )
    # Both phones number their SMS threads from 1: the keys are each device's own.
    assert rows == [
        ("device-1", "device-1/sms:thread:1", "incoming", "hi"),
        ("device-1", "device-1/sms:thread:1", "outgoing", "work to her"),
        ("device-1", "device-1/sms:thread:2", "outgoing", "note to self"),
        ("device-2", "device-2/sms:thread:1", "outgoing", "personal to her"),
    ]
    # The personal phone's "note to self" is the same SMS received (triage.message_copies): a
    # copy of the work phone's, listed with its own device and record, not stored twice.
    (kept,) = [s.id for s in store.messages() if s.message.body == "note to self"]
    assert store.copies_of([kept]) == {
        kept: [{"device": "device-2", "file": "personal-phone/mmssms.db", "locator": "sms._id=2"}]
    }
    # The personal phone's outgoing message is sent by its own number, not the work number.
    (mine,) = [s.message for s in store.messages() if s.message.body == "personal to her"]
    assert mine.sender is not None and mine.sender.id == PERSONAL
    assert {s["file"]: s["device"] for s in store.sources()} == {
        "work-mmssms.db": "device-1",
        "personal-phone/mmssms.db": "device-2",
    }
    assert {f.device for f in store.message_facts()} == {"device-1", "device-2"}
    manifest = json.loads(result.manifest_path.read_text())
    devices = manifest["devices"]
    assert [(d["key"], d["label"], d["kind"]) for d in devices] == [
        ("device-1", "Work phone", "work"),
        ("device-2", "Personal phone", "personal"),
    ]
    # A single file is its extraction's hash; a folder says how many files were hashed.
    assert devices[0]["sources"] == [
        {
            "label": "work-mmssms.db",
            "sha256": sha256_file(tmp_path / "work" / "mmssms.db"),
            "files": 1,
        }
    ]
    assert devices[1]["sources"] == [{"label": "personal-phone", "sha256": None, "files": 1}]
    assert store.meta()["devices"] == devices
    store.close()


def test_single_device_run_keeps_its_conversation_keys(tmp_path: Path) -> None:
    mmssms(tmp_path / "mmssms.db", [(FEMALE_A, 0, 2, "x")])
    path = tmp_path / "case.yaml"
    path.write_text(HEAD + "sources:\n  - mmssms.db\n", "utf-8")
    result = run_case(load_case(path), tmp_path / "out")
    store = Store.open(result.store_path)
    (stored,) = list(store.messages())
    assert (stored.message.device, stored.message.conversation.id) == ("device-1", "sms:thread:1")
    # One device: every finding resting on messages is on it, named as messages.csv names it.
    with (tmp_path / "out" / "findings.csv").open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["devices"] for r in rows if r["message_ids"]} == {"the device"}
    assert {r["devices"] for r in rows if not r["message_ids"]} <= {""}
    store.close()


def test_device_roster_places_that_devices_records(two_phones: Path, tmp_path: Path) -> None:
    """The case gives no roster; the personal phone has its own, 4on4off from 1 March: 5 March
    is day 5 of the cycle, a rest day. The work phone's messages stay unknown."""
    result = run_case(load_case(two_phones), tmp_path / "out")
    store = Store.open(result.store_path)
    status = store.labels("duty", "status")
    by_device = {(s.message.device, s.message.body): status[s.id] for s in store.messages()}
    assert by_device == {
        ("device-1", "work to her"): "unknown",
        ("device-1", "note to self"): "unknown",
        ("device-1", "hi"): "unknown",
        ("device-2", "personal to her"): "rest_day",
    }
    (roster,) = [f for f in store.findings() if f.rule == "duty.roster"]
    assert [(r["device"], r["error"]) for r in roster.data["device_rosters"]] == [
        ("device-2", None)
    ]
    assert "Records of Personal phone are placed against its own roster: " in roster.why
    assert roster.title == "No case roster given"
    # Per device and combined, with no case roster: Female A's 3 messages are 2 on the work
    # phone (no roster: unknown) and 1 on the personal phone (its roster: a rest day).
    split = {f.subject: f for f in store.findings() if f.rule == "duty.contact-split"}["contact-1"]
    assert (split.data["total"], split.data["outside_duty"]) == (3, 1)
    assert split.data["status_counts"]["unknown"] == 2
    assert split.why == (
        "No case roster was given. 1 of the 3 messages with Female A is on Personal phone,"
        " placed against its own roster: 1 of them sent or received outside rostered duty. The"
        " other 2 cannot be placed (no roster). 1 of 1 message he sent to Female A there was"
        " sent outside rostered duty."
    )
    (devices,) = [
        f for f in store.findings() if f.rule == "device.contact-split" and f.subject == "contact-1"
    ]
    assert devices.why == (
        "3 messages with Female A: 2 on his work phone, 1 on his personal phone; the 2 on his"
        " work phone cannot be placed (no roster); 1 of 1 on his personal phone outside"
        " rostered duty (its own roster)."
    )
    assert [(r["device"], r["outside_duty"]) for r in devices.data["per_device"]] == [
        ("device-1", None),
        ("device-2", 1),
    ]
    store.close()


@pytest.mark.parametrize("qualify", [False, True])
def test_a_batch_is_tagged_as_the_records_one_by_one(qualify: bool) -> None:
    from triage.devices import DeviceTagger
    from triage.model import Call, Conversation, DeletionTrace, Message, Party, Provenance

    def records() -> list:
        chat = Conversation("whatsapp:a", "A", False, [Party("a", "+1", None, "phone")])
        source = Provenance("f", "0" * 64, "test", "row=1")
        when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        message = Message(
            "whatsapp", chat, when, "1", False, "incoming", None, [], "hi", "text", source
        )
        call = Call(when, "whatsapp", "incoming", None, [], None, "answered", source)
        call.conversation_id = "whatsapp:a"
        trace = DeletionTrace("kind", "detail", "weak", source, conversation_id="whatsapp:a")
        return [message, call, trace]

    one_by_one = list(DeviceTagger("device-2", qualify)(records()))
    batch = DeviceTagger("device-2", qualify).batch(records())
    assert batch == one_by_one
    assert [getattr(r, "device", None) for r in batch] == ["device-2", "device-2", None]
