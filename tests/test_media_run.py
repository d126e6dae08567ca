"""Pictures and exhibits inside a case run: linking, caching, bad pictures, hash lists."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

from PIL import Image

from triage.casefile import load_case
from triage.run import run_case
from triage.store import Store


def findings(out: Path, rule: str) -> list[dict]:
    data = json.loads((out / "findings.json").read_text())
    return [f for f in data["findings"] if f["rule"] == rule]


def test_demo_exhibit_copy_is_linked_to_the_messages_that_sent_it(
    demo_case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    (match,) = [f for f in findings(out, "exhibit.match") if f["subject"] == "EX/KL/1"]
    data = match["data"]
    assert (data["exhibit_id"], data["band"], data["method"]) == ("EX/KL/1", "match", "phash")
    assert data["files"] == [
        "android-extraction.zip!/data/media/0/Android/media/com.whatsapp/WhatsApp/Media/"
        "WhatsApp Images/Sent/IMG-20260314-WA0003.jpg",
        "android-extraction.zip!/data/user_de/0/com.android.providers.telephony/app_parts/"
        "PART_1773529800000",
    ]
    sent = [
        (
            m["platform"],
            m["direction"],
            m["counterparty"]["id"],
            m["contact_key"],
            m["duty_status"],
            m["timestamp_utc"],
            m["locator"],
        )
        for m in data["messages"]
    ]
    assert sent == [
        (
            "whatsapp",
            "outgoing",
            "+447700900999",
            None,
            "rest_day",
            "2026-03-14T23:05:00Z",
            "message._id=1",
        ),
        ("mms", "outgoing", "+447700900999", None, "rest_day", "2026-03-14T23:10:00Z", "pdu._id=1"),
    ]
    # The refs resolve to the exact source rows.
    assert [r["locator"] for r in match["refs"]] == ["message._id=1", "pdu._id=1"]
    # Copies for the report sit in the output, not in the evidence.
    assert (out / data["exhibit_copy"]).is_file() and (out / data["file_copy"]).is_file()
    assert hashlib.sha256((out / data["file_copy"]).read_bytes()).hexdigest() == data["sha256"]


def test_second_run_into_the_same_directory_decodes_nothing(
    demo_case: Path, tmp_path: Path
) -> None:
    case = load_case(demo_case)
    out = tmp_path / "out"
    first = json.loads(run_case(case, out, report=False).manifest_path.read_text())["media_cache"]
    stored = Store.open(out / "case.sqlite").meta()["media"]
    second = json.loads(run_case(case, out, report=False).manifest_path.read_text())["media_cache"]
    # 6 pictures (3 camera photos, EX/KL/1's WhatsApp copy and MMS part, EX/KL/3's screenshot), 5
    # distinct contents; EX/KL/2's preview lives in msgstore.db and is not a picture file.
    assert first == {"decoded": 5, "from_cache": 0}
    assert second == {"decoded": 0, "from_cache": 6}
    # The store says the same either way: cache use belongs in the manifest only.
    assert Store.open(out / "case.sqlite").meta()["media"] == stored


def test_corrupt_picture_and_decompression_bomb_are_reported_and_the_run_goes_on(
    demo_case: Path, tmp_path: Path
) -> None:
    camera = demo_case.parent / "evidence" / "sdcard-copy" / "DCIM" / "Camera"
    good = (camera / "IMG_20260310_18300.jpg").read_bytes()
    (camera / "truncated.jpg").write_bytes(good[: len(good) // 3])
    bomb = io.BytesIO()
    Image.new("L", (20000, 20000)).save(bomb, "PNG")  # 400 MP: over Pillow's bomb limit
    (camera / "bomb.png").write_bytes(bomb.getvalue())
    out = tmp_path / "out"
    result = run_case(load_case(demo_case), out)
    problems = {
        w["file"].rsplit("/", 1)[1]: w
        for w in result.warnings
        if w["category"] == "unreadable picture"
    }
    assert set(problems) == {"truncated.jpg", "bomb.png"}
    assert "pixels" in problems["bomb.png"]["examples"][0].lower()
    assert findings(out, "exhibit.match")  # the rest of the run still happened


def test_hash_list_exhibit_gives_an_exact_hit(demo_case: Path, tmp_path: Path) -> None:
    folder = demo_case.parent
    target = folder / "evidence" / "sdcard-copy" / "DCIM" / "Camera" / "IMG_20260311_18301.jpg"
    sha = hashlib.sha256(target.read_bytes()).hexdigest()
    (folder / "hashes.csv").write_text(f"reference,sha256\nEX/KL/9 row 1,{sha}\n", "utf-8")
    text = demo_case.read_text("utf-8").replace(
        "exhibits:\n", "exhibits:\n  - id: EX/KL/9\n    hash_list: hashes.csv\n"
    )
    demo_case.write_text(text, "utf-8")
    out = tmp_path / "out"
    run_case(load_case(demo_case), out, report=False)
    hits = [
        m for m in Store.open(out / "case.sqlite").media_matches() if m["exhibit_id"] == "EX/KL/9"
    ]
    assert [(m["method"], m["band"], m["file"].rsplit("/", 1)[1]) for m in hits] == [
        ("sha256", "exact", "IMG_20260311_18301.jpg")
    ]
    shutil.rmtree(out)
