"""WhatsApp database parsers against the fixtures in fixtures/whatsapp_db (see its README).

Every number asserted here follows from what make_fixtures.py wrote; a parser that drops, repeats
or misreads a row fails one of them.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from triage.parsers.whatsapp_android import WhatsAppAndroid

from triage.cli import main
from triage.evidence import Evidence
from triage.ingest import iter_records
from triage.jsonl import read_records
from triage.model import Call, ContactEntry, DeletionTrace, IdSpace, Message
from triage.registry import ParseContext, detect

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp_db"
CURRENT = FIXTURES / "android_current"
LEGACY = FIXTURES / "android_legacy"
TRANSITIONAL = FIXTURES / "android_transitional"
IOS = FIXTURES / "ios"
DB_DIR = "data/data/com.whatsapp/databases"
IOS_DIR = "private/var/mobile/Containers/Shared/AppGroup/3F2504E0-4F89-11D3-9A0C-0305E82C3301"
ALICE_CONV = "whatsapp:447700900123@s.whatsapp.net"
BOB_CONV = "whatsapp:447700900456@s.whatsapp.net"
GROUP_CONV = "whatsapp:120363012345678901@g.us"


@dataclass
class Parsed:
    ctx: ParseContext
    messages: list[Message] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    contacts: list[ContactEntry] = field(default_factory=list)
    spaces: list[IdSpace] = field(default_factory=list)
    traces: list[DeletionTrace] = field(default_factory=list)

    def by_id(self) -> dict[int | None, Message]:
        return {m.record_id: m for m in self.messages}


def parse(path: Path) -> Parsed:
    ctx = ParseContext()
    out = Parsed(ctx)
    for _result, record in iter_records([path], ctx):
        if isinstance(record, Message):
            out.messages.append(record)
        elif isinstance(record, Call):
            out.calls.append(record)
        elif isinstance(record, ContactEntry):
            out.contacts.append(record)
        elif isinstance(record, IdSpace):
            out.spaces.append(record)
        elif isinstance(record, DeletionTrace):
            out.traces.append(record)
    return out


@pytest.fixture(scope="module")
def current() -> Parsed:
    return parse(CURRENT)


@pytest.fixture(scope="module")
def legacy() -> Parsed:
    return parse(LEGACY)


@pytest.fixture(scope="module")
def ios() -> Parsed:
    return parse(IOS)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- Android, current schema ---------------------------------------------------------------------
def test_current_messages_counts_kinds_directions(current: Parsed) -> None:
    # 16 message rows; row 13 is a call bubble, read as a call with the one kept only in call_log.
    assert [m.record_id for m in current.messages] == [*range(1, 11), 12, *range(14, 18)]
    # A call_log row is no row of the message table: it has no record id there.
    assert [c.record_id for c in current.calls] == [13, None]
    assert Counter(m.kind for m in current.messages) == {
        "text": 9,
        "media": 3,
        "system": 1,
        "deleted": 1,
        "other": 1,
    }
    assert Counter(m.direction for m in current.messages) == {
        "incoming": 10,
        "outgoing": 4,
        "system": 1,
    }
    assert all(m.platform == "whatsapp" and not m.zone_assumed for m in current.messages)
    msgs = current.by_id()
    first = msgs[1]
    assert first.timestamp_utc.isoformat() == "2024-03-12T08:00:00+00:00"
    assert first.timestamp_raw == "1710230400000"
    assert first.body == "Are you on shift tonight?"
    assert first.sender.id == "+447700900123" and first.sender.name == "Alice Smith"
    assert first.conversation.id == ALICE_CONV and first.conversation.title == "Alice Smith"
    assert first.source.locator == "message._id=1"
    assert first.order_key == 1
    assert msgs[2].sender.id == "owner" and [r.id for r in msgs[2].recipients] == ["+447700900123"]
    senders = Counter(m.sender.id for m in current.messages if m.direction == "incoming")
    assert senders == {
        "+447700900123": 3,
        "+447700900456": 5,
        "+447700900999": 1,
        "+447700900789": 1,
    }


def test_current_wal_rows_are_read(current: Parsed, tmp_path: Path) -> None:
    msgs = current.by_id()
    assert msgs[15].body == "Call me when you're free"
    assert msgs[15].timestamp_utc.isoformat() == "2024-03-12T10:00:00+00:00"
    assert msgs[16].direction == "outgoing"
    # The same rows are not in the main file read on its own: they live only in the -wal.
    alone = tmp_path / "msgstore.db"
    shutil.copyfile(CURRENT / DB_DIR / "msgstore.db", alone)
    conn = sqlite3.connect(alone)
    main_ids = {r[0] for r in conn.execute("SELECT _id FROM message")}
    conn.close()
    assert {15, 16, 17}.isdisjoint(main_ids) and max(main_ids) == 14


def test_current_lid_sender_resolved_through_jid_map(current: Parsed) -> None:
    msg = current.by_id()[5]
    assert msg.sender.raw == "98765432101234@lid"
    assert msg.sender.scheme == "phone" and msg.sender.id == "+447700900789"
    assert msg.sender.name == "Carol Ng"
    assert msg.extra["sender_lid"] == "98765432101234@lid"


def test_current_group_participants_and_senders(current: Parsed) -> None:
    msgs = current.by_id()
    conv = msgs[4].conversation
    assert conv.id == GROUP_CONV and conv.is_group and conv.title == "Shift B"
    assert sorted(p.id for p in conv.participants) == ["+447700900789", "+447700900999"]
    assert msgs[4].sender.id == "+447700900999" and msgs[4].sender.name == "Dave W"
    assert msgs[6].direction == "outgoing"
    assert sorted(r.id for r in msgs[6].recipients) == ["+447700900789", "+447700900999"]
    assert not msgs[1].conversation.is_group


def test_current_revoked_message_kept_with_metadata(current: Parsed) -> None:
    msg = current.by_id()[12]
    assert msg.kind == "deleted" and msg.deleted is True and msg.body is None
    assert msg.sender.id == "+447700900456" and msg.conversation.id == BOB_CONV
    assert msg.timestamp_utc.isoformat() == "2024-03-12T08:42:00+00:00"
    assert msg.extra["key_id"] == "3EB0000000000000000C"
    assert msg.extra["revoked_key_id"] == "3EB0DEADBEEF00000012"
    assert msg.extra["revoke_timestamp"] == "2024-03-12T08:43:00Z"
    assert msg.duplicate_key.endswith(":deleted")
    assert [m.record_id for m in current.messages if m.deleted] == [12]


def test_current_call_system_and_status(current: Parsed) -> None:
    msgs = current.by_id()
    call, standalone = current.calls
    assert call.source.locator == "message._id=13" and call.network == "whatsapp"
    assert (call.direction, call.result, call.result_code) == (
        "incoming",
        "answered",
        "call_result=5",
    )
    assert call.duration_s == 95 and call.video is False and call.extra["call_log_id"] == 1
    assert call.counterpart.id == "+447700900456" and call.conversation_id == BOB_CONV
    assert call.duplicate_key == "whatsapp:call:CALL0000000000000001"
    assert standalone.source.locator == "call_log._id=2"
    assert (standalone.direction, standalone.result) == ("outgoing", "answered")
    assert standalone.conversation_id == ALICE_CONV
    assert standalone.counterpart.id == "+447700900123" and not standalone.is_group
    assert standalone.timestamp_utc.isoformat() == "2024-03-12T09:00:00+00:00"
    assert standalone.video is True and standalone.duration_s == 30
    system = msgs[3]
    assert system.kind == "system" and system.direction == "system"
    assert system.extra["action_type"] == 12
    status = [m for m in current.messages if m.status_update]
    assert [m.record_id for m in status] == [9]
    assert status[0].conversation.id == "whatsapp:status@broadcast"
    assert status[0].sender.id == "+447700900456"
    assert all(
        m.conversation.id != "whatsapp:status@broadcast" for m in msgs.values() if m.record_id != 9
    )


def test_current_media_attachments_hashes(current: Parsed) -> None:
    msgs = current.by_id()
    media_root = CURRENT / "data/media/0/Android/media/com.whatsapp/WhatsApp"
    received = media_root / "Media/WhatsApp Images/IMG-20240312-WA0001.jpg"
    att = msgs[7].attachments[0]
    assert msgs[7].body == "look at this"
    assert att.path.endswith("WhatsApp/Media/WhatsApp Images/IMG-20240312-WA0001.jpg")
    assert att.sha256 == _sha256(received)
    assert att.size == received.stat().st_size and att.mime == "image/jpeg"
    # message_media.file_hash is base64 of the raw SHA-256 digest (44 characters).
    assert len(att.source_hash) == 44
    assert base64.b64decode(att.source_hash).hex() == att.sha256
    assert "matches" in att.note
    sent = msgs[8].attachments[0]
    assert sent.sha256 == _sha256(media_root / "Media/WhatsApp Images/Sent/IMG-20240312-WA0002.jpg")
    missing = msgs[17].attachments[0]
    assert missing.path is None and missing.sha256 is None
    assert missing.source_hash and "not found in the extraction" in missing.note


def test_current_unknown_type_warned(current: Parsed) -> None:
    key = (f"{CURRENT}/{DB_DIR}/msgstore.db", "unknown message_type")
    warning = current.ctx.warnings[key]
    assert warning.count == 1
    assert warning.examples == ["message._id=14: message_type=77"]
    assert current.by_id()[14].kind == "other"


def test_current_id_space(current: Parsed) -> None:
    (space,) = [s for s in current.spaces if s.file.endswith("msgstore.db")]
    assert space.table == "message" and space.id_column == "_id"
    assert space.autoincrement is True
    assert space.high_water == 20
    assert space.ids == [*range(1, 11), *range(12, 18)]
    assert space.order_key == "sort_id"
    assert all(m.order_key == m.record_id for m in current.messages)


def test_current_deletion_traces(current: Parsed) -> None:
    pointers = [t for t in current.traces if t.kind == "dangling chat pointer"]
    assert sorted((t.conversation_id, t.missing_ids[0]) for t in pointers) == [
        (BOB_CONV, 11),
        (BOB_CONV, 18),
        (BOB_CONV, 18),
        ("whatsapp:447700900999@s.whatsapp.net", 20),
        ("whatsapp:447700900999@s.whatsapp.net", 20),
        ("whatsapp:447700900999@s.whatsapp.net", 20),
    ]
    (job,) = [t for t in current.traces if t.kind == "deleted_chat_job"]
    assert job.conversation_id == "whatsapp:447700900999@s.whatsapp.net"
    assert job.strength == "certain" and "deleted_message_row_id=20" in job.detail
    (receipts,) = [t for t in current.traces if t.kind == "dangling receipts"]
    assert receipts.missing_ids == [11] and receipts.count == 1


def test_wa_db_contacts_and_decisions(current: Parsed) -> None:
    names = sorted((c.name, c.identifiers[0].id) for c in current.contacts)
    assert names == [
        ("Alice Smith", "+447700900123"),
        ("Bob Jones", "+447700900456"),
        ("Carol Ng", "+447700900789"),
        ("Dave W", "+447700900999"),
    ]
    decision = current.ctx.decisions[f"{CURRENT}/{DB_DIR}/msgstore.db"]
    assert decision["whatsapp_schema"] == "current"
    assert decision["whatsapp_names"].endswith("wa.db (4 names)")


# --- Android, legacy and transitional ------------------------------------------------------------
def test_legacy_messages(legacy: Parsed) -> None:
    msgs = legacy.by_id()
    assert sorted(msgs) == [2, 3, 4, 5, 6, 7, 9, 10, 12]  # placeholder _id=1 filtered
    assert Counter(m.kind for m in legacy.messages) == {
        "text": 5,
        "system": 1,
        "deleted": 2,
        "media": 1,
    }
    assert msgs[2].timestamp_utc.isoformat() == "2019-04-05T18:00:00+00:00"
    assert msgs[5].sender.id == "+447700900999" and msgs[5].conversation.is_group
    assert msgs[5].conversation.title == "Night turn"
    # Two revocation signals: media_wa_type 15, and edit_version 7 with status 5/0.
    assert msgs[6].deleted and msgs[7].deleted and msgs[7].direction == "outgoing"
    assert msgs[7].extra["revoked_signal"] == ["edit_version=7,status=5"]
    (call,) = legacy.calls  # row 8 is a call bubble (media_wa_type 8, caption "audio")
    assert (call.record_id, call.video, call.direction) == (8, False, "incoming")
    assert msgs[9].status_update is True
    image = LEGACY / "sdcard/WhatsApp/Media/WhatsApp Images/IMG-20190405-WA0003.jpg"
    att = msgs[10].attachments[0]
    assert att.sha256 == _sha256(image) and base64.b64decode(att.source_hash).hex() == att.sha256
    assert "file name only" in att.note


def test_legacy_id_space_and_traces(legacy: Parsed) -> None:
    (space,) = legacy.spaces
    assert (space.table, space.autoincrement, space.high_water) == ("messages", True, 13)
    assert space.ids == [*range(1, 11), 12]
    assert sorted(t.missing_ids[0] for t in legacy.traces) == [11, 13]


def test_transitional_reads_each_message_once() -> None:
    parsed = parse(TRANSITIONAL)
    assert [m.record_id for m in parsed.messages] == [2, 3, 5, 4]
    keys = [m.extra["key_id"] for m in parsed.messages]
    assert len(keys) == len(set(keys)) == 4
    assert [m.extra["schema"] for m in parsed.messages] == ["current"] * 3 + ["legacy"]
    decision = parsed.ctx.decisions[f"{TRANSITIONAL}/{DB_DIR}/msgstore.db"]
    assert decision["whatsapp_schema"] == "transitional"
    assert "1 legacy-only rows read" in decision["whatsapp_read"]
    assert {(s.table, tuple(s.ids)) for s in parsed.spaces} == {
        ("message", (2, 3, 5)),
        ("messages", (1, 2, 3, 4)),
    }


# --- iOS -----------------------------------------------------------------------------------------
def test_ios_messages(ios: Parsed) -> None:
    msgs = ios.by_id()
    assert sorted(msgs) == [1, 2, 3, 4, 5, 6, 7, 8, 10]
    assert Counter(m.kind for m in ios.messages) == {
        "text": 6,
        "system": 1,
        "media": 1,
        "deleted": 1,
    }
    assert msgs[1].timestamp_utc.isoformat() == "2024-03-12T09:00:00+00:00"
    assert msgs[2].timestamp_utc.isoformat() == "2024-03-12T09:01:00.250000+00:00"
    assert msgs[1].conversation.id == ALICE_CONV
    assert msgs[7].kind == "deleted" and msgs[7].deleted and msgs[7].sender.id == "+447700900123"
    assert msgs[4].sender.id == "+447700900999" and msgs[4].sender.name == "Dave Wilson"
    assert msgs[5].sender.scheme == "whatsapp_lid" and msgs[5].sender.name == "Carol Ng"
    assert msgs[10].direction == "outgoing"
    (call,) = ios.calls
    assert call.record_id == 11 and call.source.locator == "ZWAMESSAGE.Z_PK=11"
    assert (call.network, call.direction, call.result) == ("whatsapp", "incoming", "unknown")
    assert call.counterpart.id == "+447700900456" and call.conversation_id == BOB_CONV
    assert call.order_key == 4
    assert [m.order_key for m in ios.messages if m.conversation.id == BOB_CONV] == [1, 3]
    image = IOS / IOS_DIR / "Message/Media/447700900123@s.whatsapp.net/4/2"
    att = msgs[6].attachments[0]
    assert att.sha256 == _sha256(next(image.iterdir()))
    assert msgs[6].body == "the van" and "latitude" not in msgs[6].extra


def test_ios_text_that_is_not_utf8_is_read_with_replacement(tmp_path: Path) -> None:
    """The message table is read in runs with strict UTF-8; a ZTEXT whose bytes are not UTF-8
    makes the rest be read through the evidence's lenient factory: that message's text with
    U+FFFD where the bytes were, every other message as in the shipped copy."""
    copy = tmp_path / "ios"
    shutil.copytree(IOS, copy)
    db = copy / IOS_DIR / "ChatStorage.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE ZWAMESSAGE SET ZTEXT = CAST(x'4f6b20ff21' AS TEXT) WHERE Z_PK = 2")
    conn.commit()
    conn.close()
    before = parse(IOS).by_id()
    after = parse(copy).by_id()
    assert sorted(after) == sorted(before)
    assert after[2].body == "Ok \ufffd!"
    for pk in sorted(before):
        if pk != 2:
            assert (after[pk].body, after[pk].kind) == (before[pk].body, before[pk].kind), pk


def test_ios_id_space_and_traces(ios: Parsed) -> None:
    (space,) = ios.spaces
    assert (space.table, space.id_column, space.high_water, space.order_key) == (
        "ZWAMESSAGE",
        "Z_PK",
        12,
        "ZSORT",
    )
    assert space.ids == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11] and space.autoincrement is False
    kinds = sorted((t.kind, t.conversation_id) for t in ios.traces)
    assert kinds == [
        ("dangling chat pointer", BOB_CONV),
        ("message counter above last sort", BOB_CONV),
    ]


def test_ios_contacts(ios: Parsed) -> None:
    ids = sorted((c.name, c.identifiers[0].id) for c in ios.contacts)
    assert ids == [
        ("Alice Smith", "+447700900123"),
        ("Bob Jones", "+447700900456"),
        ("Bob Jones", "+447700900457"),
        ("Dave Wilson", "+447700900999"),
    ]


def test_same_chat_shares_conversation_id_across_platforms(current: Parsed, ios: Parsed) -> None:
    android_ids = {m.conversation.id for m in current.messages}
    ios_ids = {m.conversation.id for m in ios.messages}
    assert android_ids & ios_ids == {ALICE_CONV, BOB_CONV, GROUP_CONV}


# --- command line, detection, integrity ------------------------------------------------------------
def test_cli_parse_jsonl() -> None:
    result = CliRunner().invoke(main, ["parse", str(CURRENT / DB_DIR / "msgstore.db"), "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = list(read_records(result.stdout.splitlines()))
    assert len(lines) == 17
    # 15 messages and 2 calls; a call line says so and carries its own fields.
    calls = [line for line in lines if line.get("record") == "call"]
    assert [
        (c["source"]["locator"], c["direction"], c["result"], c["duration_s"]) for c in calls
    ] == [
        ("message._id=13", "incoming", "answered", 95),
        ("call_log._id=2", "outgoing", "answered", 30),
    ]
    assert calls[1]["video"] is True and calls[1]["network"] == "whatsapp"
    assert (
        calls[1]["counterpart"]["id"] == "+447700900123" and calls[1]["conversation"] == ALICE_CONV
    )
    assert "2 calls" in result.stderr
    revoked = next(line for line in lines if line["record_id"] == 12)
    assert revoked["kind"] == "deleted" and revoked["deleted"] is True
    assert revoked["source"]["format"] == "whatsapp_android"
    assert revoked["timestamp_utc"] == "2024-03-12T08:42:00Z"
    # A single file given alone: its media folder is not part of the input, so not found.
    image = next(line for line in lines if line["record_id"] == 7)
    assert image["attachments"][0]["path"] is None
    assert image["attachments"][0]["source_hash"] == "lLIJ1o90GSIJY8g/vq2D33pM1mjaMVADop/ayuh/ldM="


def test_cli_ios_jsonl() -> None:
    result = CliRunner().invoke(main, ["parse", str(IOS), "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = list(read_records(result.stdout.splitlines()))
    assert len(lines) == 10
    assert {line["source"]["format"] for line in lines} == {"whatsapp_ios"}


def test_detection_by_content() -> None:
    with Evidence() as evidence:
        evidence.add_input(FIXTURES, "fx")
        found = {
            d.file.name: d.parser.name
            for d in detect(list(evidence.files()))
            if d.parser is not None
        }
    assert found == {
        "msgstore.db": "whatsapp_android",
        "wa.db": "whatsapp_android_contacts",
        "ChatStorage.sqlite": "whatsapp_ios",
        "ContactsV2.sqlite": "whatsapp_ios_contacts",
    }


def test_parser_reads_file_directly() -> None:
    with Evidence() as evidence:
        evidence.add_input(TRANSITIONAL, "t")
        db = next(f for f in evidence.files() if f.name == "msgstore.db")
        records = list(WhatsAppAndroid().parse(db, ParseContext()))
    names = [type(r).__name__ for r in records]
    assert names == ["Message"] * 3 + ["IdSpace", "Message", "IdSpace"]


def test_evidence_unchanged_by_parsing() -> None:
    def snapshot() -> dict[str, tuple[str, int, int]]:
        return {
            str(p.relative_to(FIXTURES)): (_sha256(p), p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(FIXTURES.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }

    before = snapshot()
    for path in (CURRENT, LEGACY, TRANSITIONAL, IOS):
        assert parse(path).messages
    assert snapshot() == before  # same files, bytes and times: no -shm or checkpoint next to them


def _fixture_module():  # noqa: ANN202 - a module object
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _group_chat_db(make, db: Path) -> sqlite3.Connection:  # noqa: ANN001 - the fixture module
    """A current-schema msgstore.db with three jids and one group chat (_id 1), still open for
    the test to add its messages."""
    conn = sqlite3.connect(db)
    conn.executescript(make.CURRENT_SCHEMA)
    for rowid, user, server, jtype, raw in make.JIDS[:3]:
        conn.execute(
            "INSERT INTO jid VALUES (?, ?, ?, 0, 0, ?, ?)", (rowid, user, server, jtype, raw)
        )
    conn.execute("INSERT INTO chat(_id, jid_row_id, subject) VALUES (1, 3, 'Shift B')")
    return conn


def test_empty_current_table_falls_back_to_legacy(tmp_path: Path) -> None:
    make = _fixture_module()
    db = tmp_path / "msgstore.db"
    conn = sqlite3.connect(db)
    conn.executescript(make.LEGACY_SCHEMA + make.CURRENT_SCHEMA)
    make._legacy(conn, 2, make.ALICE, 0, 0, data="only legacy rows here")
    make._legacy(conn, 3, make.ALICE, 0, 1, media_wa_type="42", data=None)
    conn.commit()
    conn.close()
    parsed = parse(db)
    assert [(m.record_id, m.body, m.kind) for m in parsed.messages] == [
        (2, "only legacy rows here", "text"),
        (3, None, "other"),
    ]
    decision = parsed.ctx.decisions[str(db)]
    assert decision["whatsapp_schema"] == "transitional"
    assert "present but empty" in decision["whatsapp_read"]
    assert sorted((s.table, tuple(s.ids)) for s in parsed.spaces) == [
        ("message", ()),
        ("messages", (2, 3)),
    ]
    warning = parsed.ctx.warnings[(str(db), "unknown media_wa_type")]
    assert warning.count == 1 and warning.examples == ["messages._id=3: media_wa_type=42"]


def test_revoked_by_message_type_alone(tmp_path: Path) -> None:
    # Older current-schema databases have revoked rows without a message_revoked row
    # (ALEAPP whatsAppExtended.py); 64 is "deleted by admin".
    make = _fixture_module()
    db = tmp_path / "msgstore.db"
    conn = _group_chat_db(make, db)
    make._msg(conn, 1, 1, 0, 1, 0, 15, None)
    make._msg(conn, 2, 1, 0, 2, 1, 64, None)
    make._msg(conn, 3, 1, 0, 2, 2, 0, "still here")
    make._msg(conn, 4, 1, 0, 2, 3, 0, "caf\u00e9 \ufffd".encode()[:-3] + b"\xff")
    conn.commit()
    conn.close()
    parsed = parse(db)
    msgs = parsed.by_id()
    assert [(m.kind, m.deleted, m.extra["type"]) for m in msgs.values()] == [
        ("deleted", True, "deleted for everyone"),
        ("deleted", True, "deleted by admin"),
        ("text", False, "text"),
        ("text", False, "text"),
    ]
    # A body stored as a BLOB is decoded (bad bytes replaced) and reported, never dropped.
    assert msgs[4].body == "caf\u00e9 \ufffd"
    assert parsed.ctx.warnings[(str(db), "binary message text decoded")].count == 1
    assert msgs[1].sender.id == "+447700900123" and msgs[2].sender.id == "+447700900456"
    assert msgs[1].extra["revoked"] == "message_type only (no message_revoked row)"


def test_text_not_utf8_read_with_replacement(tmp_path: Path) -> None:
    # The message table is read with strict UTF-8 while its text is UTF-8 (sqlite_rows.utf8_rows);
    # a TEXT value that is not is read as every evidence connection reads it, bad bytes
    # replaced, and so is every row after it.
    make = _fixture_module()
    db = tmp_path / "msgstore.db"
    conn = _group_chat_db(make, db)
    for rowid in range(1, 601):
        make._msg(conn, rowid, 1, 0, 2, rowid, 0, f"text {rowid}")
    bad = [3, 300, 301, 599]
    for rowid in bad:
        conn.execute(
            "UPDATE message SET text_data = CAST(? AS TEXT) WHERE _id = ?",
            (b"caf\xc3\xa9 \xff" + str(rowid).encode(), rowid),
        )
    conn.commit()
    conn.close()
    msgs = parse(db).by_id()
    assert sorted(msgs) == list(range(1, 601))
    for rowid, msg in msgs.items():
        assert msg.body == (f"caf\u00e9 \ufffd{rowid}" if rowid in bad else f"text {rowid}")


def test_side_tables_merged_read_as_joined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Side tables keyed by message_row_id are merged with the messages in _id order instead of
    # joined; both ways must give the same records, side rows of missing messages included.
    from triage.parsers.whatsapp_android import _CurrentReader

    shutil.copytree(CURRENT, tmp_path / "extraction")
    db = tmp_path / "extraction" / DB_DIR / "msgstore.db"
    conn = sqlite3.connect(db)
    top = conn.execute("SELECT MAX(_id) FROM message").fetchone()[0]
    # A side row before the first message, one for a row that is gone, one past the last.
    for rowid in (0, 2, top + 5):
        conn.execute("DELETE FROM message WHERE _id = ?", (rowid,))
        conn.execute(
            "INSERT OR REPLACE INTO message_media (message_row_id, file_path, mime_type)"
            " VALUES (?, 'Media/gone.jpg', 'image/jpeg')",
            (rowid,),
        )
        conn.execute(
            "INSERT OR REPLACE INTO message_revoked (message_row_id, revoked_key_id)"
            " VALUES (?, 'GONE')",
            (rowid,),
        )
    conn.commit()
    conn.close()
    merged = parse(db)
    assert merged.messages and merged.calls
    assert any(m.attachments for m in merged.messages)
    assert any(m.extra.get("revoked_key_id") for m in merged.messages)
    monkeypatch.setattr(_CurrentReader, "_integer_keys", lambda self, table, column: False)
    joined = parse(db)
    assert merged.messages == joined.messages
    assert merged.calls == joined.calls
    assert merged.ctx.warnings == joined.ctx.warnings


def test_positional_message_constructor_equals_keywords() -> None:
    from triage.parsers.whatsapp_android import _new_message

    from triage.model import Conversation, Party, Provenance
    from triage.model import positional as _positional

    her = Party("447700900123@s.whatsapp.net", "+447700900123", scheme="phone")
    given = {
        "platform": "whatsapp",
        "conversation": Conversation(ALICE_CONV, participants=[her]),
        "timestamp_utc": None,
        "timestamp_raw": "0",
        "zone_assumed": False,
        "direction": "incoming",
        "sender": her,
        "recipients": [her],
        "body": "hi",
        "kind": "text",
        "source": Provenance("msgstore.db", "0" * 64, "whatsapp_android", "message._id=2"),
        "deleted": True,
        "edited": True,
        "attachments": [],
        "record_id": 2,
        "order_key": 3,
        "extra": {"key_id": "K"},
        "duplicate_key": "d",
        "copy_key": "c",
        "id_space": "message",
        "status_update": True,
    }
    built = _new_message(*given.values())
    assert built == Message(**given)
    # Fields left out keep their defaults, each factory called per record.
    few = _positional(Message, tuple(n for n in given if n not in ("attachments", "extra")))
    args = [v for n, v in given.items() if n not in ("attachments", "extra")]
    one, two = few(*args), few(*args)
    assert one == Message(**{**given, "attachments": [], "extra": {}})
    assert one.extra is not two.extra
    with pytest.raises(TypeError, match="no default"):
        _positional(Message, ("platform",))


@dataclass(frozen=True)
class _Frozen:
    a: int
    b: list[int] = field(default_factory=list)


@dataclass
class _Checked:
    a: int
    doubled: int = 0

    def __post_init__(self) -> None:
        self.doubled = 2 * self.a


def test_positional_constructor_goes_through_the_class_when_its_init_does_more() -> None:
    # A frozen class or one with __post_init__ is built by its own __init__, not field by field.
    from triage.model import positional

    frozen = positional(_Frozen, ("a",))(1)
    assert frozen == _Frozen(1) and frozen.b == []
    with pytest.raises(AttributeError):
        frozen.a = 2  # type: ignore[misc]
    assert positional(_Checked, ("a",))(3).doubled == 6
