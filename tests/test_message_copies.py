"""One SMS or iMessage held on two of the subject's devices is one event seen twice
(triage.message_copies; iMessage by its shared ``message.guid``).

Every figure follows from the rows written here: the AOSP-shaped ``mmssms.db`` of
tests/test_devices.py, an AOSP ``mmssms.db`` with MMS (``pdu``/``part``/``addr`` and the
``app_parts`` files) and an iOS 16 ``sms.db``, both with the schema of
fixtures/sms/make_fixtures.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import sqlite3
from pathlib import Path

import pytest

from tests.test_devices import FEMALE_A, PERSONAL, T0, TWO_DEVICES, WORK
from tests.test_run import SMS_SCHEMA
from triage.casefile import load_case
from triage.message_copies import RULE, RULE_MMS, WINDOW_S, TextFacts, same_texts
from triage.run import run_case
from triage.store import Store

ROOT = Path(__file__).resolve().parents[1]
COLLEAGUE = "+447700900333"
_spec = importlib.util.spec_from_file_location(
    "sms_fixtures_for_copies", ROOT / "fixtures" / "sms" / "make_fixtures.py"
)
assert _spec is not None and _spec.loader is not None
SMS_FX = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SMS_FX)

OWN = {"work": frozenset({WORK}), "personal": frozenset({PERSONAL})}
AT = dt.datetime(2026, 4, 15, 18, 55, tzinfo=dt.UTC)


def text(mid: int, device: str, direction: str, sender: str | None, parties: set[str],
         body: str = "on my way", seconds: float = 0) -> TextFacts:  # fmt: skip
    return TextFacts(
        mid, device, direction, sender, frozenset(parties), body, AT + dt.timedelta(seconds=seconds)
    )


# -- the rule ------------------------------------------------------------------------------------
def test_sms_between_his_own_numbers_is_one_event() -> None:
    sent = text(1, "work", "outgoing", None, {WORK, PERSONAL})
    received = text(2, "personal", "incoming", WORK, {WORK, PERSONAL}, seconds=40)
    assert same_texts([received, sent], OWN) == [(1, [2])]


def test_two_phones_each_texting_her_are_two_events() -> None:
    """Same words, seconds apart, but two senders: she received two messages."""
    a = text(1, "work", "outgoing", None, {WORK, FEMALE_A})
    b = text(2, "personal", "outgoing", None, {PERSONAL, FEMALE_A}, seconds=5)
    assert same_texts([a, b], OWN) == []


def test_her_texting_each_of_his_numbers_is_two_events() -> None:
    """One sender, but delivered to different members (each number its own exchange)."""
    a = text(1, "work", "incoming", FEMALE_A, {FEMALE_A, WORK})
    b = text(2, "personal", "incoming", FEMALE_A, {FEMALE_A, PERSONAL}, seconds=1)
    assert same_texts([a, b], OWN) == []


def test_group_text_to_both_his_numbers_is_one_event() -> None:
    members = {COLLEAGUE, WORK, PERSONAL}
    a = text(1, "work", "incoming", COLLEAGUE, members)
    b = text(2, "personal", "incoming", COLLEAGUE, members, seconds=3)
    assert same_texts([a, b], OWN) == [(1, [2])]


def test_window_and_nearest_copy() -> None:
    """The same "ok" sent twice, 60 s apart; each received copy meets the nearest sent one. A copy
    WINDOW_S + 1 s away meets nothing."""
    rows = [
        text(1, "work", "outgoing", None, {WORK, PERSONAL}, "ok", 0),
        text(2, "work", "outgoing", None, {WORK, PERSONAL}, "ok", 60),
        text(3, "personal", "incoming", WORK, {WORK, PERSONAL}, "ok", 2),
        text(4, "personal", "incoming", WORK, {WORK, PERSONAL}, "ok", 61),
        text(5, "work", "outgoing", None, {WORK, PERSONAL}, "late", 0),
        text(6, "personal", "incoming", WORK, {WORK, PERSONAL}, "late", WINDOW_S + 1),
    ]
    assert same_texts(rows, OWN) == [(1, [3]), (2, [4])]


def test_pictures_compared_by_content_and_a_missing_file_never_meets() -> None:
    """Same sender, members and (empty) text, seconds apart: the picture decides."""
    sent = text(1, "work", "outgoing", None, {WORK, PERSONAL}, "")
    same = [
        sent,
        TextFacts(2, "personal", "incoming", WORK, frozenset({WORK, PERSONAL}), "", AT, ("a",)),
    ]
    assert same_texts(same, OWN) == []  # no picture on one copy
    picture = TextFacts(1, "work", "outgoing", None, frozenset({WORK, PERSONAL}), "", AT, ("a",))
    assert same_texts([picture, same[1]], OWN) == [(1, [2])]
    other = TextFacts(2, "personal", "incoming", WORK, frozenset({WORK, PERSONAL}), "", AT, ("b",))
    assert same_texts([picture, other], OWN) == []
    lost = TextFacts(2, "personal", "incoming", WORK, frozenset({WORK, PERSONAL}), "", AT, None)
    assert same_texts([picture, lost], OWN) == []


def test_device_with_no_number_never_meets() -> None:
    a = text(1, "work", "outgoing", None, {WORK, PERSONAL})
    b = text(2, "old", "incoming", WORK, {WORK, PERSONAL})
    assert same_texts([a, b], {**OWN, "old": frozenset()}) == []


# -- through a run: Android mmssms.db on both phones -------------------------------------------
def mmssms(path: Path, rows: list[tuple[str, int, int, str, int]]) -> None:
    """(address, seconds after T0, type 1 inbox / 2 sent, body, date_sent seconds after T0 or
    -1 for none): the AOSP columns; each address its own thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(SMS_SCHEMA)
    threads: dict[str, int] = {}
    for n, (address, second, kind, body, sent) in enumerate(rows, start=1):
        if address not in threads:
            conn.execute("INSERT INTO canonical_addresses (address) VALUES (?)", (address,))
            conn.execute("INSERT INTO threads (recipient_ids) VALUES (?)", (str(len(threads) + 1),))
            threads[address] = len(threads) + 1
        conn.execute(
            "INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                n,
                threads[address],
                address,
                T0 + second * 1000,
                0 if sent < 0 else T0 + sent * 1000,
                kind,
                body,
            ),
        )
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def android_run(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Work phone: sends "note to self" to his personal number at T0 and "Running late" to her at
    T0 + 10 min. Personal phone: receives "note to self" from the work number at T0 + 15 min
    (switched off meanwhile; the service centre stamped it T0 + 4 s: date_sent), sends
    "Running late" to her at T0 + 10 min + 20 s, and receives "call me" from the work number
    with no date_sent at T0 + 30 min, which the work phone never sent. Expected: one copy met
    (the personal phone's "note to self"), nothing else."""
    root = tmp_path_factory.mktemp("android-copies")
    mmssms(
        root / "work" / "mmssms.db",
        [(PERSONAL, 0, 2, "note to self", -1), (FEMALE_A, 600, 2, "Running late", -1)],
    )
    mmssms(
        root / "personal" / "mmssms.db",
        [
            (WORK, 900, 1, "note to self", 4),
            (FEMALE_A, 620, 2, "Running late", -1),
            (WORK, 1800, 1, "call me", -1),
        ],
    )
    (root / "case.yaml").write_text(TWO_DEVICES, "utf-8")
    result = run_case(load_case(root / "case.yaml"), root / "out")
    store = Store.open(result.store_path)
    yield store
    store.close()


def test_sms_copy_on_the_other_phone_is_listed_not_counted(android_run: Store) -> None:
    stored = sorted((s.message.device, s.message.body) for s in android_run.messages())
    assert stored == [
        ("device-1", "Running late"),
        ("device-1", "note to self"),
        ("device-2", "Running late"),
        ("device-2", "call me"),
    ]
    (copy,) = [d for d in android_run.duplicates() if d["duplicate_key"] == RULE]
    assert (copy["file"], copy["locator"]) == ("personal-phone/mmssms.db", "sms._id=1")
    (kept,) = android_run.messages_by_ids([copy["kept_message_id"]])
    # The sent copy is kept: the sender's own record.
    assert (kept.message.device, kept.message.direction) == ("device-1", "outgoing")
    assert android_run.copies_of([kept.id]) == {
        kept.id: [
            {"device": "device-2", "file": "personal-phone/mmssms.db", "locator": "sms._id=1"}
        ]
    }


def test_own_devices_and_contact_counts_count_events(android_run: Store) -> None:
    """Between his own numbers: "note to self" (one event, two copies) and "call me" (work
    number to personal, one copy); Female A has two events, one from each phone."""
    findings = {(f.rule, f.subject): f for f in android_run.findings()}
    assert findings[("device.own-devices", None)].data["count"] == 2
    split = findings[("device.contact-split", "contact-1")]
    assert (split.data["events"], split.data["copies"]) == (2, 2)
    assert [(r["device"], r["messages"]) for r in split.data["per_device"]] == [
        ("device-1", 1),
        ("device-2", 1),
    ]


# -- through a run: Android MMS with pictures on both phones ---------------------------------------
def mms_phone(root: Path, own: str, rows: list[tuple[int, str, int, bytes | None]]) -> None:
    """An AOSP ``mmssms.db`` under ``root`` with one picture MMS per row: (seconds after T0,
    other party, ``msg_box`` 1 inbox / 2 sent, PNG bytes, or None for a ``part._data`` whose
    ``app_parts`` file is not in the extraction); each other party its own thread."""
    db = root / "mmssms.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    parts = root / "app_parts"
    parts.mkdir(exist_ok=True)
    conn = sqlite3.connect(db)
    for ddl in (SMS_FX.AOSP_SMS, SMS_FX.THREADS, SMS_FX.CANONICAL, SMS_FX.PDU, SMS_FX.PART):
        conn.execute(ddl)
    conn.execute(SMS_FX.ADDR)
    threads: dict[str, int] = {}
    for pdu, (second, other, box, picture) in enumerate(rows, start=1):
        if other not in threads:
            conn.execute("INSERT INTO canonical_addresses (address) VALUES (?)", (other,))
            conn.execute("INSERT INTO threads (recipient_ids) VALUES (?)", (str(len(threads) + 1),))
            threads[other] = len(threads) + 1
        date = T0 // 1000 + second
        conn.execute(
            "INSERT INTO pdu (_id, thread_id, date, msg_box, m_type, m_id, read) VALUES"
            " (?,?,?,?,?,?,1)",
            (pdu, threads[other], date, box, 128 if box == 2 else 132, f"{own}-{pdu}"),
        )
        name = f"PART_{date * 1000}_photo.png"
        conn.execute(
            "INSERT INTO part (mid, seq, ct, cl, _data) VALUES (?, 0, 'image/png', 'photo.png', ?)",
            (pdu, SMS_FX.DEVICE_PARTS + name),
        )
        if picture is not None:
            (parts / name).write_bytes(picture)
        sender, to = ("insert-address-token", other) if box == 2 else (other, own)
        conn.execute("INSERT INTO addr (msg_id, address, type) VALUES (?, ?, 137)", (pdu, sender))
        conn.execute("INSERT INTO addr (msg_id, address, type) VALUES (?, ?, 151)", (pdu, to))
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def mms_run(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Picture MMS, no text. T0: the work phone sends RED to his personal number, which
    receives it 30 s later (one event). T0 + 10 min: each phone sends RED to Female A (two).
    T0 + 20 min: the work phone sends BLUE to his personal number, which receives RED 10 s later
    (two). T0 + 30 min: work to personal again, the received copy's file not extracted (two).
    T0 + 40 min: work to personal, the file extracted on neither phone (two)."""
    root = tmp_path_factory.mktemp("mms-copies")
    red, blue = SMS_FX.RED, SMS_FX.BLUE
    mms_phone(
        root / "work",
        WORK,
        [(0, PERSONAL, 2, red), (600, FEMALE_A, 2, red), (1200, PERSONAL, 2, blue),
         (1800, PERSONAL, 2, red), (2400, PERSONAL, 2, None)],
    )  # fmt: skip
    mms_phone(
        root / "personal",
        PERSONAL,
        [
            (30, WORK, 1, red),
            (605, FEMALE_A, 2, red),
            (1210, WORK, 1, red),
            (1805, WORK, 1, None),
            (2410, WORK, 1, None),
        ],
    )
    case = TWO_DEVICES.replace("path: work/mmssms.db", "path: work").replace(
        "label: work-mmssms.db", "label: work-phone"
    )
    (root / "case.yaml").write_text(case, "utf-8")
    result = run_case(load_case(root / "case.yaml"), root / "out")
    store = Store.open(result.store_path)
    yield store
    store.close()


def test_picture_mms_between_his_numbers_is_one_event(mms_run: Store) -> None:
    red = hashlib.sha256(SMS_FX.RED).hexdigest()
    (copy,) = [d for d in mms_run.duplicates() if d["duplicate_key"] == RULE_MMS]
    assert (copy["file"], copy["locator"]) == ("personal-phone/mmssms.db", "pdu._id=1")
    (kept,) = mms_run.messages_by_ids([copy["kept_message_id"]])
    assert (kept.message.device, kept.message.direction) == ("device-1", "outgoing")
    # The kept copy keeps its own picture file; the other phone's file is listed with the copy.
    assert [(a.path, a.sha256) for a in kept.message.attachments] == [
        ("work-phone/app_parts/PART_1772744400000_photo.png", red)
    ]
    assert mms_run.copies_of([kept.id]) == {
        kept.id: [
            {
                "device": "device-2",
                "file": "personal-phone/mmssms.db",
                "locator": "pdu._id=1",
                "attachments": [
                    {
                        "name": "photo.png",
                        "path": "personal-phone/app_parts/PART_1772744430000_photo.png",
                        "sha256": red,
                    }
                ],
            }
        ]
    }


def test_report_shows_the_other_phones_picture_file_in_provenance(mms_run: Store) -> None:
    pages = "".join(p.read_text("utf-8") for p in mms_run.path.parent.rglob("*.html"))
    held = pages.split("also held", 1)[1].split("</dd>", 1)[0]
    assert "personal-phone/mmssms.db pdu._id=1" in held
    assert "personal-phone/app_parts/PART_1772744430000_photo.png" in held
    assert hashlib.sha256(SMS_FX.RED).hexdigest() in held


def test_mms_that_differ_or_lack_a_file_stay_two_events(mms_run: Store) -> None:
    """Each phone's picture to Female A, the different picture and the missing files: all kept."""
    stored = sorted((s.message.device, s.message.source.locator) for s in mms_run.messages())
    assert stored == [
        ("device-1", "pdu._id=1"),
        ("device-1", "pdu._id=2"),
        ("device-1", "pdu._id=3"),
        ("device-1", "pdu._id=4"),
        ("device-1", "pdu._id=5"),
        ("device-2", "pdu._id=2"),
        ("device-2", "pdu._id=3"),
        ("device-2", "pdu._id=4"),
        ("device-2", "pdu._id=5"),
    ]
    assert len(mms_run.duplicates()) == 1
    lost = [s for s in mms_run.messages() if not s.message.attachments[0].path]
    assert sorted((s.message.device, s.message.source.locator) for s in lost) == [
        ("device-1", "pdu._id=5"),
        ("device-2", "pdu._id=4"),
        ("device-2", "pdu._id=5"),
    ]
    assert all("not in the extraction" in (s.message.attachments[0].note or "") for s in lost)


# -- through a run: iOS sms.db on two iPhones --------------------------------------------------
def ios_sms(
    path: Path, handles: list[str], rows: list[tuple[str, str, int, int, str, int]]
) -> None:
    """(guid, service, handle ROWID, is_from_me, text, seconds after T0); one chat per handle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(SMS_FX.IOS16_MESSAGE)
    for ddl in SMS_FX.IOS_COMMON:
        conn.execute(ddl)
    for rowid, ident in enumerate(handles, start=1):
        SMS_FX._insert(conn, "handle", ROWID=rowid, id=ident, country="gb", service="iMessage")
        SMS_FX._insert(
            conn,
            "chat",
            ROWID=rowid,
            guid=f"iMessage;-;{ident}",
            style=45,
            chat_identifier=ident,
            service_name="iMessage",
        )
        SMS_FX._insert(conn, "chat_handle_join", chat_id=rowid, handle_id=rowid)
    for rowid, (guid, service, handle, mine, body, second) in enumerate(rows, start=1):
        date = SMS_FX.apple(T0 // 1000 + second, True)
        SMS_FX._insert(
            conn,
            "message",
            ROWID=rowid,
            guid=guid,
            service=service,
            handle_id=handle,
            is_from_me=mine,
            text=body,
            date=date,
        )
        SMS_FX._insert(
            conn, "chat_message_join", chat_id=handle, message_id=rowid, message_date=date
        )
    conn.commit()
    conn.close()


def test_imessage_and_sms_between_two_iphones(tmp_path: Path) -> None:
    """The work iPhone sends an iMessage (guid G-1) and an SMS to his personal number; the
    personal iPhone holds the iMessage under the same guid, 90 min later by its own clock (the
    guid meets whatever the times), and the SMS under its own guid 30 s later (met by the text
    rule). Female A's iMessage to the work phone is on that phone only."""
    ios_sms(
        tmp_path / "work" / "sms.db",
        [PERSONAL, FEMALE_A],
        [
            ("G-1", "iMessage", 1, 1, "Home by 8", 0),
            ("W-SMS-1", "SMS", 1, 1, "No data here", 60),
            ("G-2", "iMessage", 2, 0, "Thanks", 120),
        ],
    )
    ios_sms(
        tmp_path / "personal" / "sms.db",
        [WORK],
        [
            ("G-1", "iMessage", 1, 0, "Home by 8", 5400),
            ("P-SMS-9", "SMS", 1, 0, "No data here", 90),
        ],
    )
    case = TWO_DEVICES.replace("path: work/mmssms.db", "path: work/sms.db").replace(
        "label: work-mmssms.db", "label: work-sms.db"
    )
    (tmp_path / "case.yaml").write_text(case, "utf-8")
    result = run_case(load_case(tmp_path / "case.yaml"), tmp_path / "out")
    store = Store.open(result.store_path)
    stored = sorted(
        (s.message.device, s.message.direction, s.message.body) for s in store.messages()
    )
    # The iMessage meets at ingest, where the first copy read is kept (the personal phone's
    # folder is read first, by name); the SMS meets after ingest, where the sent copy is kept.
    assert stored == [
        ("device-1", "incoming", "Thanks"),
        ("device-1", "outgoing", "No data here"),
        ("device-2", "incoming", "Home by 8"),
    ]
    copies = {(d["file"], d["locator"]): d["duplicate_key"] for d in store.duplicates()}
    assert copies == {
        ("work-sms.db", "message.ROWID=1"): "ios-message:G-1",
        ("personal-phone/sms.db", "message.ROWID=2"): RULE,
    }
    own = [f for f in store.findings() if f.rule == "device.own-devices"]
    assert own[0].data == {"count": 2, "devices": ["device-1", "device-2"]}
    store.close()
