"""Messenger call entries (downloads, E2EE export, threads_db2) read as calls, not messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from tests.test_analysers_support import run, write_case
from triage.cli import main
from triage.ingest import iter_records
from triage.jsonl import read_records
from triage.model import Call, Message
from triage.registry import ParseContext

GEN = Path(__file__).resolve().parent.parent / "fixtures" / "messenger" / "generated"
DYI_2023 = GEN / "dyi_json_2023"
HTML_2023 = GEN / "dyi_html_2023"
ANDROID = GEN / "android/data/data/com.facebook.orca/databases"
OWNER = "Zoë Ward"


def calls(paths: list[Path], ctx: ParseContext | None = None) -> list[Call]:
    return [r for _, r in iter_records(paths, ctx or ParseContext()) if isinstance(r, Call)]


def jsonl(path: Path) -> list[dict]:
    result = CliRunner().invoke(main, ["parse", str(path), "--jsonl"])
    assert result.exit_code == 0, result.output
    return list(read_records(result.stdout.splitlines()))


def test_dyi_json_call_entries_are_calls() -> None:
    lines = jsonl(DYI_2023)
    bob = [r for r in lines if r.get("record") == "call"]
    assert not any(r.get("kind") == "call" for r in lines)
    # "You called Bob." 65 s, sent by the owner; "You missed a call from Bob Smith.", missed.
    assert [(c["direction"], c["result"], c["duration_s"]) for c in bob] == [
        ("outgoing", "answered", 65),
        ("incoming", "missed", 0),
    ]
    assert [c["timestamp_utc"] for c in bob] == [
        "2023-06-10T14:07:00Z",
        "2023-06-10T23:41:07.500Z",
    ]
    assert {c["counterpart"]["id"] for c in bob} == {"bob smith"}
    assert {c["network"] for c in bob} == {"messenger"}
    assert bob[0]["conversation"] == "messenger:dyi:inbox/bobsmith_1234567890"
    assert bob[1]["source"]["locator"] == "message_1.json messages[0]"
    assert bob[1]["result_code"] == "type=Call; call_duration=0; missed=True"
    assert not bob[0]["zone_assumed"] and bob[0]["is_group"] is False


def test_html_call_blocks_are_calls_that_meet_their_json_copies() -> None:
    html = calls([HTML_2023])
    assert [(c.direction, c.result, c.duration_s) for c in html] == [
        ("outgoing", "unknown", None),  # the page does not say how long
        ("incoming", "missed", None),
    ]
    assert all(c.zone_assumed for c in html)
    # 00:41 BST on 11 June is 23:41 UTC on the 10th.
    assert html[1].timestamp_utc == datetime(2023, 6, 10, 23, 41, tzinfo=UTC)
    assert html[1].timestamp_raw == "Jun 11, 2023, 12:41 AM"
    assert [c.duplicate_key for c in html] == [c.duplicate_key for c in calls([DYI_2023])]


def test_threads_db2_call_rows_are_calls() -> None:
    found = calls([ANDROID])
    db2 = [c for c in found if c.source.format == "messenger_threads_db2"]
    placed, missed = db2
    # Stamped when the call ended (19:10:00); it lasted 42 s, so it started at 19:09:18.
    assert placed.timestamp_utc == datetime(2024, 7, 1, 19, 9, 18, tzinfo=UTC)
    assert placed.extra["ended_utc"] == "2024-07-01T19:10:00+00:00"
    assert (placed.direction, placed.result, placed.duration_s, placed.video) == (
        "outgoing",
        "answered",
        42,
        False,
    )
    assert placed.counterpart.id == "fb:100000000000002"
    assert placed.result_code == "msg_type=9; admin_text_thread_rtc_event=one_to_one_call_ended"
    assert placed.source.locator == "messages.msg_id=mid.$cAAAAAA4"
    assert (missed.direction, missed.result, missed.duration_s) == ("incoming", "missed", 0)
    assert missed.counterpart.name == "Greg Hall"
    assert missed.conversation_id == placed.conversation_id
    # Through the command line, the two call rows and the msys call_log row.
    lines = jsonl(ANDROID)
    assert sum(1 for r in lines if r.get("record") == "call") == 3
    assert not any(r.get("kind") == "call" for r in lines)


def test_group_call_rows_threads_db2(tmp_path: Path) -> None:
    import shutil
    import sqlite3

    db = tmp_path / "threads_db2"
    shutil.copy(ANDROID / "threads_db2", db)
    shutil.copy(ANDROID / "threads_db2-uid", tmp_path / "threads_db2-uid")
    conn = sqlite3.connect(db)
    sender = json.dumps({"user_key": "FACEBOOK:100000000000003", "name": "Ivy Lane"})
    start_ms = 1_720_000_000_000
    for msg_id, stamp, event, admin in (
        ("mid.g1", start_ms, "group_call_started", None),
        ("mid.g2", start_ms + 300_000, "group_call_ended", {"call_duration": 300, "video": True}),
    ):
        conn.execute(
            "INSERT INTO messages (msg_id, thread_key, sender, timestamp_ms, msg_type,"
            " generic_admin_message_extensible_data, admin_text_thread_rtc_event)"
            " VALUES (?, 'GROUP:777', ?, ?, 203, ?, ?)",
            (msg_id, sender, stamp, json.dumps(admin) if admin else None, event),
        )
    conn.execute("CREATE TABLE thread_participants (thread_key TEXT, user_key TEXT)")
    conn.executemany(
        "INSERT INTO thread_participants VALUES ('GROUP:777', ?)",
        [(f"FACEBOOK:{n}",) for n in (100000000000001, 100000000000003, 100000000000004)],
    )
    conn.commit()
    conn.close()
    records = [r for _, r in iter_records([tmp_path], ParseContext())]
    (group,) = [r for r in records if isinstance(r, Call) and r.is_group]
    assert (group.direction, group.result, group.video) == ("incoming", "answered", True)
    assert group.counterpart.id == "fb:100000000000003"
    assert [p.id for p in group.participants] == ["fb:100000000000004"]
    assert group.timestamp_utc == datetime.fromtimestamp(start_ms / 1000, UTC)
    # The started row of the same call is a notice, not a second call.
    (notice,) = [r for r in records if isinstance(r, Message) and r.extra["msg_id"] == "mid.g1"]
    assert notice.kind == "system"


def test_e2ee_call_entry(tmp_path: Path) -> None:
    export = tmp_path / "Eve Lewis_1.json"
    stamp = 1_712_000_000_000
    export.write_text(
        json.dumps(
            {
                "participants": [OWNER, "Eve Lewis"],
                "threadName": "Eve Lewis",
                "messages": [
                    {
                        "senderName": "Eve Lewis",
                        "timestamp": stamp,
                        "text": "Eve Lewis called you.",
                        "type": "call",
                        "isUnsent": False,
                        "media": [],
                        "reactions": [],
                    },
                    {
                        "senderName": OWNER,
                        "timestamp": stamp + 60_000,
                        "text": "ok",
                        "type": "text",
                        "isUnsent": False,
                        "media": [],
                        "reactions": [],
                    },
                ],
            }
        ),
        "utf-8",
    )
    records = [r for _, r in iter_records([tmp_path], ParseContext(owner_names=[OWNER]))]
    (call,) = [r for r in records if isinstance(r, Call)]
    assert (call.direction, call.result, call.counterpart.id) == (
        "incoming",
        "unknown",
        "eve lewis",
    )
    assert call.timestamp_utc == datetime.fromtimestamp(stamp / 1000, UTC)
    assert [r.body for r in records if isinstance(r, Message)] == ["ok"]


def test_analysers_count_a_call_seen_in_json_and_html_once(tmp_path: Path) -> None:
    case = write_case(
        tmp_path,
        "contacts:\n  - name: Bob Smith\n    role: witness\n"
        '    identifiers: [{name: "Bob Smith"}]\n'
        f"sources:\n  - {DYI_2023}\n  - {HTML_2023}\n",
    )
    r = run(case, tmp_path / "out", report=False)
    bob = r.one("contact.summary", "contact-1").data
    # Two calls in the thread, each in both copies: counted once each, the JSON copy kept.
    assert bob["calls"]["count"] == 2
    assert (bob["calls"]["outgoing"], bob["calls"]["incoming"]) == (1, 1)
    assert bob["calls"]["answered"] == 1 and bob["calls"]["unanswered_incoming"] == 1
    assert bob["calls"]["talk_seconds"] == 65
    stored = list(r.store.calls())
    assert {s.call.source.format for s in stored} == {"messenger_dyi_json"}
    copies = r.store.call_duplicates()
    assert len(copies) == 2 and all(c["file"].endswith("message_1.html") for c in copies)
    assert timedelta(0) < stored[1].call.timestamp_utc - stored[0].call.timestamp_utc
