"""iOS sms.db: iOS 10 (seconds) and iOS 16 (nanoseconds, attributedBody, edits, unsends)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from tests.test_sms_helpers import GEN, Parsed, cli_jsonl

IOS10 = GEN / "ios10"
IOS16 = GEN / "ios16"
ATTACH = "private/var/mobile/Library/SMS/Attachments"


@pytest.fixture(scope="module")
def ios10() -> Parsed:
    return Parsed(IOS10)


@pytest.fixture(scope="module")
def ios16() -> Parsed:
    return Parsed(IOS16)


def test_ios10_messages_and_seconds_dates(ios10: Parsed) -> None:
    assert ios10.parsers == {"ios_sms"}
    # rows 1-9 with 5 a tapback and 10 deleted.
    assert [m.record_id for m in ios10.messages] == [1, 2, 3, 4, 6, 7, 8, 9]
    first = ios10.by_locator("message.ROWID=1")
    assert first.timestamp_raw == str(1478000000 - 978307200)
    assert first.timestamp_utc == datetime(2016, 11, 1, 11, 33, 20, tzinfo=UTC)
    assert first.platform == "sms" and first.direction == "incoming"
    assert first.sender.id == "+447700900123" and first.sender.scheme == "phone"


def test_ios16_nanosecond_dates(ios16: Parsed) -> None:
    first = ios16.by_locator("message.ROWID=1")
    assert len(first.timestamp_raw) == 18
    assert first.timestamp_utc == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_three_attachments_one_message(ios10: Parsed) -> None:
    msg = ios10.by_locator("message.ROWID=3")
    assert msg.kind == "media" and msg.direction == "outgoing" and msg.platform == "imessage"
    assert msg.body is None  # only U+FFFC placeholders
    assert [a.name for a in msg.attachments] == ["IMG_0001.PNG", "IMG_0002.PNG", "IMG_0003.PNG"]
    for index, att in enumerate(msg.attachments, start=1):
        name = f"IMG_{index:04d}.PNG"
        disk = IOS10 / ATTACH / f"{index:02x}/{index:02d}/IOS10-ATT-{index:04d}" / name
        assert att.sha256 == hashlib.sha256(disk.read_bytes()).hexdigest()
        assert att.path.endswith(name) and att.mime == "image/png"
    assert sum(1 for m in ios10.messages if m.record_id == 3) == 1


def test_tapbacks_attached_not_counted(ios10: Parsed, ios16: Parsed) -> None:
    assert all(m.record_id != 5 for m in ios10.messages)
    (like,) = ios10.by_locator("message.ROWID=4").extra["reactions"]
    assert (like["reaction"], like["action"], like["from_me"]) == ("like", "added", True)
    reactions = ios16.by_locator("message.ROWID=12").extra["reactions"]
    assert [(r["reaction"], r["action"], r["by"]) for r in reactions] == [
        ("love", "added", "alice@example.com"),
        ("love", "removed", "alice@example.com"),
    ]
    assert all(m.record_id not in (15, 16, 20) for m in ios16.messages)


def test_sticker_tapback_keeps_its_attachment(ios16: Parsed) -> None:
    like, sticker = ios16.by_locator("message.ROWID=4").extra["reactions"]
    assert like["reaction"] == "like" and "attachments" not in like
    assert (sticker["reaction"], sticker["action"]) == ("sticker", "added")
    (att,) = sticker["attachments"]
    disk = IOS16 / ATTACH / "05/05/IOS16-ATT-0005/sticker.png"
    assert att["sha256"] == hashlib.sha256(disk.read_bytes()).hexdigest()


def test_attributed_body_only(ios16: Parsed) -> None:
    short = ios16.by_locator("message.ROWID=11")
    assert short.body == "Bin the CCTV \U0001f4f9"
    assert short.extra["body_from"] == "attributedBody"
    long = ios16.by_locator("message.ROWID=12")
    assert long.body.startswith("This body lives only in attributedBody")
    assert long.body.endswith("two-byte form. \U0001f46e")
    assert not ios16.warnings("attributedBody not decoded")


def test_edit_and_unsend(ios16: Parsed) -> None:
    edited = ios16.by_locator("message.ROWID=13")
    assert edited.edited and not edited.deleted and edited.body == "See you at 11"
    assert edited.extra["date_edited_utc"] == "2023-11-14T22:23:50Z"
    # The original wording survives in message_summary_info.
    history = [(v["time_utc"], v["text"]) for v in edited.extra["edit_history"]]
    assert history == [
        ("2023-11-14T22:23:20Z", "See you at 10"),
        ("2023-11-14T22:23:50Z", "See you at 11"),
    ]
    unsent = ios16.by_locator("message.ROWID=14")
    assert unsent.kind == "deleted" and unsent.deleted and unsent.body is None
    assert unsent.extra["date_retracted_utc"] == "2023-11-14T22:25:00Z"
    assert not unsent.edited  # an unsend also sets date_edited; it is not an edit


def test_services_and_parties(ios16: Parsed) -> None:
    assert ios16.by_locator("message.ROWID=17").extra["service"] == "RCS"
    assert ios16.by_locator("message.ROWID=1").platform == "sms"
    assert ios16.by_locator("message.ROWID=4").platform == "imessage"
    email = ios16.by_locator("message.ROWID=4").sender
    assert (email.id, email.scheme) == ("alice@example.com", "email")
    assert ios16.by_locator("message.ROWID=6").sender.scheme == "shortcode"
    assert ios16.by_locator("message.ROWID=7").sender.scheme == "alphanumeric"
    group = ios16.by_locator("message.ROWID=8")
    assert group.conversation.is_group and group.conversation.title == "Night shift"
    assert group.sender.id == "+447700900789"
    assert ios16.by_locator("message.ROWID=9").kind == "system"


def test_deletion_traces(ios16: Parsed) -> None:
    kinds = sorted(t.kind for t in ios16.traces)
    assert kinds == [
        "deleted_messages",
        "deleted_messages_counter",
        "recently_deleted",
        "sync_deleted_messages",
        "sync_deleted_messages_counter",
    ]
    counter = next(t for t in ios16.traces if t.kind == "deleted_messages_counter")
    assert counter.count == 2 and "1 rows remain" in counter.detail
    recent = next(t for t in ios16.traces if t.kind == "recently_deleted")
    assert "message.ROWID=18" in recent.detail
    binned = ios16.by_locator("message.ROWID=18")
    assert binned.deleted and binned.extra["recently_deleted"]


def test_id_space(ios16: Parsed) -> None:
    (space,) = ios16.id_spaces
    assert space.table == "message" and space.autoincrement is True
    assert space.high_water == 21
    # tapback rows consume ids too, so they are in the id space.
    assert space.ids == [1, 2, 3, 4, 5, 6, 7, 8, 9, *range(11, 21)]


def test_missing_attachment_file(ios16: Parsed) -> None:
    (att,) = ios16.by_locator("message.ROWID=19").attachments
    assert att.path is None and "not in the extraction" in att.note
    assert ios16.warnings("attachment file missing") == ["attachment.ROWID=4"]


def test_cli_jsonl() -> None:
    lines, _ = cli_jsonl(IOS16)
    assert len(lines) == 15
    bodies = {m["source"]["locator"]: m["body"] for m in lines}
    assert bodies["message.ROWID=11"] == "Bin the CCTV \U0001f4f9"
