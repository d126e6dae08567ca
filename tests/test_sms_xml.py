""" "SMS Backup & Restore" XML: SMS, group MMS with a base64 image, nulls, count mismatch."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from triage.parsers.android_mmssms import AndroidMmsSms
from triage.parsers.sms_backup_xml import SmsBackupXml

from tests.test_sms_helpers import GEN, Parsed, cli_jsonl

XML = GEN / "xml" / "sms-20231115080000.xml"
MISMATCH = GEN / "xml_count_mismatch" / "sms-20231115080000.xml"


@pytest.fixture(scope="module")
def backup() -> Parsed:
    return Parsed(XML)


def test_detected_and_counted(backup: Parsed) -> None:
    assert backup.parsers == {"sms_backup_xml"}
    assert [m.source.locator for m in backup.messages] == [
        "smses/sms[1]",
        "smses/sms[2]",
        "smses/sms[3]",
        "smses/sms[4]",
        "smses/sms[5]",
        "smses/mms[1]",
    ]
    assert not backup.warnings("count mismatch")


def test_sms_fields(backup: Parsed) -> None:
    first = backup.by_locator("smses/sms[1]")
    assert first.direction == "incoming" and first.sender.id == "+447700900123"
    assert first.sender.name == "Alice"
    # readable_date says 23:13:20 (phone-local rendering); date (ms UTC) wins.
    assert first.timestamp_utc == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert first.timestamp_raw == "1700000000000"
    sent = backup.by_locator("smses/sms[2]")
    assert sent.direction == "outgoing" and sent.body == "Tell them nothing & wait"
    assert [r.id for r in sent.recipients] == ["+447700900456"]
    assert "subject" not in sent.extra  # "null" is NULL
    assert backup.by_locator("smses/sms[3]").sender.scheme == "shortcode"
    bank = backup.by_locator("smses/sms[4]")
    assert bank.sender.scheme == "alphanumeric" and bank.body == "HSBC: card used at <Tesco>"
    assert bank.sender.name is None  # "(Unknown)" is not a name
    draft = backup.by_locator("smses/sms[5]")
    assert draft.extra["box"] == "draft" and draft.recipients == []


def test_group_mms_with_image(backup: Parsed) -> None:
    mms = backup.by_locator("smses/mms[1]")
    assert mms.platform == "mms" and mms.kind == "media" and mms.direction == "incoming"
    assert mms.body == "Group photo from tonight"
    assert mms.timestamp_utc == datetime(2023, 11, 14, 22, 17, 20, tzinfo=UTC)  # ms here
    assert mms.sender.id == "+447700900123"
    assert mms.conversation.is_group
    assert sorted(p.id for p in mms.conversation.participants) == [
        "+447700900123",
        "+447700900789",
    ]
    assert "+447700900789" in [r.id for r in mms.recipients]
    (att,) = mms.attachments
    data = re.search(r'data="([^"]+)"', XML.read_text()).group(1)
    raw = base64.b64decode(data)
    assert raw.startswith(b"\x89PNG")
    assert att.sha256 == hashlib.sha256(raw).hexdigest() and att.size == len(raw)
    assert att.path.endswith("sms-20231115080000.xml#smses/mms[1]/parts/part[3]")
    assert att.mime == "image/png" and att.name == "duck.png"


def test_count_mismatch_reported() -> None:
    parsed = Parsed(MISMATCH)
    assert len(parsed.messages) == 6
    (example,) = parsed.warnings("count mismatch")
    assert 'count="8"' in example and "6 messages" in example


def test_truncated_file_keeps_what_was_read(tmp_path: Path) -> None:
    text = XML.read_text()
    cut = tmp_path / "sms-truncated.xml"
    cut.write_text(text[: text.index("<mms") + 200])
    parsed = Parsed(cut)
    assert len(parsed.messages) == 5  # every <sms> before the cut
    assert parsed.warnings("XML not well-formed")


def test_not_claimed_by_other_xml(tmp_path: Path) -> None:
    other = tmp_path / "calls.xml"
    other.write_text("<?xml version='1.0'?>\n<calls count=\"0\"></calls>\n")
    assert Parsed(other).messages == []


def test_entities_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "sms-bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE smses [<!ENTITY a "aaaaaaaa">]>\n'
        '<smses count="1"><sms address="1" date="1" type="1" body="&a;" /></smses>\n'
    )
    parsed = Parsed(bomb)
    assert parsed.messages == []
    (example,) = parsed.warnings("XML refused")
    assert "entit" in example.lower()


def test_cli_jsonl() -> None:
    lines, stderr = cli_jsonl(MISMATCH)
    assert len(lines) == 6
    assert "count mismatch" in stderr


def test_surrogate_references_from_emoji_option(tmp_path: Path) -> None:
    # The app's "store emojis" option writes each UTF-16 half as its own reference.
    path = tmp_path / "sms-emoji.xml"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        '<smses count="2">\n'
        '  <sms address="+447700900123" date="1700000000000" type="1" '
        'body="Nice &#55357;&#56846; ok" />\n'
        '  <sms address="+447700900123" date="1700000001000" type="1" body="half &#55357;" />\n'
        "</smses>\n"
    )
    parsed = Parsed(path)
    assert [m.body for m in parsed.messages] == ["Nice \U0001f60e ok", "half \ufffd"]
    (example,) = parsed.warnings("surrogate character references repaired")
    assert example.startswith("2 ")


def test_surrogate_pair_split_across_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from triage.parsers import sms_backup_stream

    monkeypatch.setattr(sms_backup_stream, "READ_CHUNK", 40)
    text = b'<smses><sms body="' + b"x" * 21 + b'&#55357;&#56846;" /></smses>'
    for shift in range(0, 20):
        padded = text.replace(b"x" * 21, b"x" * (21 + shift))
        reader = sms_backup_stream.RepairingReader(io.BytesIO(padded))
        out = b"".join(iter(lambda r=reader: r.read(16), b""))
        assert b"&#128526;" in out and b"&#55357;" not in out, shift


def test_same_sms_in_backup_and_database_share_a_duplicate_key(backup: Parsed) -> None:
    database = Parsed(GEN / "android_aosp")
    in_db = database.by_locator("sms._id=1")
    in_xml = backup.by_locator("smses/sms[1]")
    assert in_db.duplicate_key == in_xml.duplicate_key is not None
    # The phone's own database is the fuller copy, so it is ingested first and kept.
    assert AndroidMmsSms.priority > SmsBackupXml.priority
    other = backup.by_locator("smses/sms[2]")
    assert other.duplicate_key != in_xml.duplicate_key
