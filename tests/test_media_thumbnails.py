"""App-kept previews (issue 21 part 1): parsers carry them on the attachment, the media stage
matches them as "thumbnail matches" linked to their message, also when the full file is gone."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path

from PIL import Image
from triage.parsers.whatsapp_android import WhatsAppAndroid  # noqa: F401 - registers the parser

from triage.casefile import load_case
from triage.ingest import iter_records
from triage.media.thumbnails import is_thumbnail_file
from triage.model import Message, attachment_to_json
from triage.registry import ParseContext
from triage.run import run_case

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp_db"
DB = "data/data/com.whatsapp/databases/msgstore.db"
IOS_DIR = "private/var/mobile/Containers/Shared/AppGroup/3F2504E0-4F89-11D3-9A0C-0305E82C3301"


def small_jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (100, 75), colour).save(out, "JPEG", quality=60)
    return out.getvalue()


def messages(path: Path) -> dict[str, Message]:
    return {
        r.source.locator: r
        for _, r in iter_records([path], ParseContext())
        if isinstance(r, Message)
    }


def test_current_schema_preview_is_carried_on_the_attachment(tmp_path: Path) -> None:
    root = tmp_path / "android_current"
    shutil.copytree(FIXTURES / "android_current", root)
    thumb = small_jpeg((200, 30, 30))
    with sqlite3.connect(root / DB) as conn:
        # As WhatsApp creates it (IPED ExtractorAndroidNew.java joins it on message_row_id).
        conn.execute(
            "CREATE TABLE message_thumbnail (message_row_id INTEGER PRIMARY KEY, thumbnail BLOB)"
        )
        conn.execute("INSERT INTO message_thumbnail VALUES (8, ?)", (thumb,))
    by_locator = messages(root)
    (att,) = by_locator["message._id=8"].attachments
    assert att.thumbnail is not None and att.thumbnail.data == thumb
    assert att.thumbnail.locator == "message_thumbnail.message_row_id=8"
    assert att.path and att.path.endswith("IMG-20240312-WA0002.jpg")  # the file is still there
    assert all(a.thumbnail is None for a in by_locator["message._id=7"].attachments)
    # The JSONL describes the preview without inlining its bytes.
    described = attachment_to_json(att)["thumbnail"]
    assert described["size"] == len(thumb) and len(described["sha256"]) == 64
    json.dumps(described)


def test_legacy_previews_from_message_thumbnails_and_raw_data(tmp_path: Path) -> None:
    root = tmp_path / "android_legacy"
    shutil.copytree(FIXTURES / "android_legacy", root)
    in_row, in_table = small_jpeg((10, 200, 10)), small_jpeg((10, 10, 200))
    with sqlite3.connect(root / DB) as conn:
        conn.execute("UPDATE messages SET raw_data = ? WHERE _id = 10", (in_row,))
    (att,) = messages(root)["messages._id=10"].attachments
    assert att.thumbnail is not None and att.thumbnail.data == in_row
    assert att.thumbnail.locator == "messages._id=10 raw_data"

    with sqlite3.connect(root / DB) as conn:
        conn.execute(
            "CREATE TABLE message_thumbnails (thumbnail BLOB, timestamp DATETIME, key_remote_jid"
            " TEXT NOT NULL, key_from_me INTEGER, key_id TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO message_thumbnails SELECT ?, timestamp, key_remote_jid, key_from_me,"
            " key_id FROM messages WHERE _id = 10",
            (in_table,),
        )
        # raw_data of a non-media row is some other payload, never taken for a preview.
        conn.execute("UPDATE messages SET raw_data = ? WHERE _id = 6", (in_row,))
    by_locator = messages(root)
    (att,) = by_locator["messages._id=10"].attachments
    assert att.thumbnail is not None and att.thumbnail.data == in_table
    assert att.thumbnail.locator == "message_thumbnails for messages._id=10"
    assert all(a.thumbnail is None for a in by_locator["messages._id=6"].attachments)


def test_ios_thumb_file_named_by_the_media_item(tmp_path: Path) -> None:
    root = tmp_path / "ios"
    shutil.copytree(FIXTURES / "ios", root)
    recorded = "Media/447700900123@s.whatsapp.net/4/2/42a1b3c4-5d6e-4f70-8a9b-0c1d2e3f4a5b.thumb"
    (root / IOS_DIR / "Message" / recorded).parent.mkdir(parents=True, exist_ok=True)
    (root / IOS_DIR / "Message" / recorded).write_bytes(small_jpeg((90, 90, 10)))
    with sqlite3.connect(root / IOS_DIR / "ChatStorage.sqlite") as conn:
        conn.execute("UPDATE ZWAMEDIAITEM SET ZXMPPTHUMBPATH = ? WHERE Z_PK = 1", (recorded,))
    (message,) = [m for m in messages(root).values() if m.attachments and m.record_id == 6]
    thumb = message.attachments[0].thumbnail
    assert thumb is not None and thumb.data is None
    assert thumb.path is not None and thumb.path.endswith(recorded)
    assert thumb.locator == "ZWAMEDIAITEM.Z_PK=1 ZXMPPTHUMBPATH"
    assert is_thumbnail_file(thumb.path)


def test_preview_folders_are_recognised() -> None:
    assert is_thumbnail_file("x.zip!/sdcard/DCIM/.thumbnails/1712345678901.jpg")
    assert is_thumbnail_file("Message/Media/a@s.whatsapp.net/1/2/abc.thumb")
    assert not is_thumbnail_file("x.zip!/sdcard/DCIM/Camera/IMG_0001.jpg")
    assert is_thumbnail_file("x.zip!/a/b.jpg", known={"x.zip!/a/b.jpg"})


def test_demo_exhibit_known_only_from_its_whatsapp_preview(demo_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    data = json.loads((out / "findings.json").read_text())
    (finding,) = [
        f for f in data["findings"] if f["rule"] == "exhibit.match" and f["subject"] == "EX/KL/2"
    ]
    d = finding["data"]
    assert (d["via"], d["band"], d["method"]) == ("thumbnail", "match", "phash")
    assert d["file"] is None and d["full_copy_found"] is False
    thumb = d["thumbnail"]
    assert thumb["locator"] == "message_thumbnail.message_row_id=23"
    assert (thumb["width"], thumb["height"]) == (100, 75)
    assert (thumb["exhibit_width"], thumb["exhibit_height"]) == (1024, 768)
    assert "thumbnail match" in finding["why"] and "100x75" in finding["why"]
    assert "No full-size copy" in finding["why"]
    # Linked to the message that sent it: WhatsApp row 23, to the unknown number, 16 April.
    linked = [
        (m["locator"], m["direction"], m["counterparty"]["id"], m["timestamp_utc"])
        for m in d["messages"]
    ]
    assert linked == [("message._id=23", "outgoing", "+447700900999", "2026-04-16T20:20:00Z")]
    assert [r["locator"] for r in finding["refs"]] == ["message._id=23"]
    # The report shows the preview (a copy in the output, not the evidence) and says what it is.
    assert (out / d["file_copy"]).is_file()
    page = (out / "exhibits.html").read_text("utf-8")
    assert "Thumbnail match" in page and "100x75" in page
