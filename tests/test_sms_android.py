"""Android mmssms.db (AOSP and Samsung): SMS, MMS with parts and addresses, id spaces."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.test_sms_helpers import GEN, Parsed, cli_jsonl

AOSP = GEN / "android_aosp"
SAMSUNG = GEN / "android_samsung"
PART = "data/user_de/0/com.android.providers.telephony/app_parts/PART_1700000100000_photo.png"


@pytest.fixture(scope="module")
def aosp() -> Parsed:
    return Parsed(AOSP)


@pytest.fixture(scope="module")
def samsung() -> Parsed:
    return Parsed(SAMSUNG)


def test_detected_and_counted(aosp: Parsed) -> None:
    assert aosp.parsers == {"android_mmssms"}
    sms = [m for m in aosp.messages if m.platform == "sms"]
    mms = [m for m in aosp.messages if m.platform == "mms"]
    # sms rows 1-8 with 4 deleted; pdu rows 1-3.
    assert sorted(m.record_id for m in sms) == [1, 2, 3, 5, 6, 7, 8]
    assert sorted(m.record_id for m in mms) == [1, 2, 3]


def test_sms_directions_times_and_boxes(aosp: Parsed) -> None:
    first = aosp.by_locator("sms._id=1")
    assert first.direction == "incoming"
    assert first.timestamp_utc == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert first.timestamp_raw == "1700000000000"
    assert first.sender is not None and first.sender.id == "+447700900123"
    assert first.recipients[0].id == "owner"
    reply = aosp.by_locator("sms._id=2")
    assert reply.direction == "outgoing" and reply.sender.id == "owner"
    assert [r.id for r in reply.recipients] == ["+447700900123"]
    assert aosp.by_locator("sms._id=7").extra["box"] == "draft"
    assert aosp.by_locator("sms._id=8").extra["box"] == "failed"


def test_parties_national_shortcode_alphanumeric(aosp: Parsed) -> None:
    bob = aosp.by_locator("sms._id=3").sender
    assert (bob.raw, bob.id, bob.scheme) == ("07700900456", "+447700900456", "phone")
    code = aosp.by_locator("sms._id=5").sender
    assert (code.id, code.scheme) == ("82223", "shortcode")
    bank = aosp.by_locator("sms._id=6").sender
    assert (bank.id, bank.scheme) == ("HSBC-UK", "alphanumeric")


def test_mms_text_and_image_is_one_message(aosp: Parsed) -> None:
    mms = aosp.by_locator("pdu._id=1")
    assert mms.platform == "mms" and mms.kind == "media"
    assert mms.body == "Look at this"  # SMIL layout part skipped
    # pdu.date is seconds, not milliseconds.
    assert mms.timestamp_utc == datetime(2023, 11, 14, 22, 15, 0, tzinfo=UTC)
    assert mms.direction == "incoming" and mms.sender.id == "+447700900123"
    (att,) = mms.attachments
    expected = hashlib.sha256((AOSP / PART).read_bytes()).hexdigest()
    assert att.sha256 == expected
    assert att.path.endswith(PART) and att.mime == "image/png" and att.name == "photo.png"


def test_group_mms_recipients_from_addr(aosp: Parsed) -> None:
    group = aosp.by_locator("pdu._id=2")
    assert group.direction == "outgoing" and group.sender.id == "owner"
    assert sorted(r.id for r in group.recipients) == ["+447700900123", "+447700900789"]
    assert group.conversation.is_group
    assert group.body == "Meet at the station" and group.kind == "text"


def test_missing_part_file_is_reported(aosp: Parsed) -> None:
    (att,) = aosp.by_locator("pdu._id=3").attachments
    assert att.path is None and att.sha256 is None and "not in the extraction" in att.note
    assert aosp.warnings("MMS part file missing") == ["part._id=5"]
    # An incomplete copy must not win de-duplication against a backup that holds the bytes.
    assert aosp.by_locator("pdu._id=3").duplicate_key is None
    assert aosp.by_locator("pdu._id=1").duplicate_key == "android-mms:1700000100:1:mid-0001:tr-0001"


def test_aosp_id_space_has_no_autoincrement(aosp: Parsed) -> None:
    spaces = {s.table: s for s in aosp.id_spaces}
    sms = spaces["sms"]
    assert sms.autoincrement is False and sms.high_water is None
    assert sms.ids == [1, 2, 3, 5, 6, 7, 8]
    assert "no AUTOINCREMENT" in sms.note
    assert spaces["pdu"].autoincrement is True and spaces["pdu"].high_water == 3


def test_samsung_not_double_counted(samsung: Parsed) -> None:
    with sqlite3.connect(
        SAMSUNG / "data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
    ) as conn:
        mirrored = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    sms = [m for m in samsung.messages if m.platform == "sms"]
    assert mirrored == len(sms) == 7  # the mirror exists and is not read again
    spaces = {s.table: s for s in samsung.id_spaces}
    assert spaces["sms"].autoincrement is True
    assert spaces["sms"].high_water == 9  # the trailing deleted row 9 is remembered
    assert max(spaces["sms"].ids) == 8
    (decision,) = samsung.ctx.decisions.values()
    assert decision["variant"] == "samsung"


def test_cli_jsonl(tmp_path: Path) -> None:
    lines, stderr = cli_jsonl(AOSP)
    assert len(lines) == 10
    mms = next(m for m in lines if m["source"]["locator"] == "pdu._id=1")
    assert mms["timestamp_utc"] == "2023-11-14T22:15:00Z"
    assert mms["attachments"][0]["sha256"]
    assert "MMS part file missing" in stderr


def test_owner_number_in_to_is_the_owner() -> None:
    from triage.identity import party
    from triage.ingest import iter_records
    from triage.model import Message
    from triage.registry import ParseContext

    owner = party("+447700900999", "GB")
    ctx = ParseContext(region="GB", owner=[owner])
    messages = [r for _, r in iter_records([AOSP], ctx) if isinstance(r, Message)]
    mms = next(m for m in messages if m.source.locator == "pdu._id=1")
    assert mms.recipients == [owner]
    sent = next(m for m in messages if m.source.locator == "sms._id=2")
    assert sent.sender == owner
