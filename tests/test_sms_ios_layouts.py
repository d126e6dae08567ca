"""iOS sms.db layouts beyond the iOS 6+ schema with its chat tables: a partial copy holding only
``message`` and ``handle``, and the iOS 5 and earlier layout (fixtures ``ios_partial`` and
``ios5``, see fixtures/sms/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT
from triage.cli import main
from triage.ingest import iter_records
from triage.jsonl import read_records
from triage.model import IdSpace
from triage.registry import ParseContext

GEN = ROOT / "fixtures" / "sms" / "generated"


def _jsonl(cli, path: Path) -> tuple[list[dict], str]:
    result = cli.invoke(main, ["parse", str(path), "--jsonl"])
    assert result.exit_code == 0, result.stderr
    return list(read_records(result.stdout.splitlines())), result.stderr


def test_partial_copy_without_chat_tables_is_read_and_the_gap_reported(cli) -> None:
    partial, stderr = _jsonl(cli, GEN / "ios_partial")
    full, _ = _jsonl(cli, GEN / "ios10")

    # Every message of the full copy is read from the partial one, with the same text, time,
    # direction and sender; only the conversation differs (no chat tables: by handle).
    def key(r: dict) -> tuple:
        return (
            r["source"]["locator"],
            r["body"],
            r["timestamp_utc"],
            r["direction"],
            (r["sender"] or {}).get("id"),
            len(r["attachments"]),
        )

    assert [key(r) for r in partial] == [key(r) for r in full]
    by_row = {r["source"]["locator"]: r for r in partial}
    assert by_row["message.ROWID=1"]["conversation"]["id"] == "ios:handle:+447700900123"
    assert by_row["message.ROWID=3"]["conversation"]["id"] == "ios:handle:alice@example.com"
    assert all(a["path"] for a in by_row["message.ROWID=3"]["attachments"])
    text = " ".join(stderr.split())
    assert "chat tables missing" in text
    assert "chat, chat_message_join, chat_handle_join not in the database" in text


def test_ios5_layout_direction_from_flags_and_per_row_epochs(cli) -> None:
    records, stderr = _jsonl(cli, GEN / "ios5")
    got = [
        (
            r["source"]["locator"],
            r["platform"],
            r["direction"],
            r["timestamp_utc"],
            r["sender"]["id"],
            r["conversation"]["id"],
        )
        for r in records
    ]
    assert got == [
        # SMS rows: flags 2 received / 3 sent, Unix seconds.
        (
            "message.ROWID=1",
            "sms",
            "incoming",
            "2011-10-30T18:40:00Z",
            "+447700900123",
            "ios5:group:1",
        ),
        ("message.ROWID=2", "sms", "outgoing", "2011-10-30T18:41:00Z", "owner", "ios5:group:1"),
        # iMessage rows: madrid_flags 12289 received / 36869 sent, seconds since 2001.
        (
            "message.ROWID=3",
            "imessage",
            "incoming",
            "2011-10-30T18:42:00Z",
            "alice@example.com",
            "ios5:imessage:alice@example.com",
        ),
        (
            "message.ROWID=4",
            "imessage",
            "outgoing",
            "2011-10-30T18:43:00Z",
            "owner",
            "ios5:imessage:alice@example.com",
        ),
        ("message.ROWID=5", "sms", "outgoing", "2011-10-30T18:44:00Z", "owner", "ios5:group:2"),
        (
            "message.ROWID=6",
            "mms",
            "incoming",
            "2011-10-30T18:45:00Z",
            "+447700900789",
            "ios5:group:3",
        ),
    ]
    by_row = {r["source"]["locator"]: r for r in records}
    assert by_row["message.ROWID=5"]["extra"]["send_failed"] is True
    assert by_row["message.ROWID=2"]["recipients"][0]["id"] == "+447700900123"
    mms = by_row["message.ROWID=6"]
    assert mms["body"] == "Look at this"  # from the text/plain piece
    assert [a["name"] for a in mms["attachments"]] == ["IMG_0001.jpg"]
    assert mms["conversation"]["is_group"] is True
    assert {p["id"] for p in mms["conversation"]["participants"]} == {
        "+447700900123",
        "+447700900789",
    }
    assert "warning" not in stderr  # every flag value is a documented one


def test_ios5_id_space_keeps_the_trailing_deletion() -> None:
    spaces = [r for _s, r in iter_records([GEN / "ios5"], ParseContext()) if isinstance(r, IdSpace)]
    (space,) = spaces
    assert space.ids == [1, 2, 3, 4, 5, 6]
    assert space.autoincrement and space.high_water == 7


def test_ios5_through_run(cli, tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(
        f"case:\n  reference: TEST/8\nsubject:\n  name: PC 1\nsources:\n  - {GEN / 'ios5'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    (source,) = manifest["sources"]
    assert source["parser"] == "ios_sms_legacy"
    assert source["counts"]["messages"] == 6
    decision = next(iter(manifest["decisions"].values()))["ios_sms_layout"]
    assert decision.startswith("iOS 5 and earlier")
