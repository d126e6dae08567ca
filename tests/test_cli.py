"""The command line as an examiner uses it: detect, parse, demo."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tests.conftest import DEMO
from triage.cli import main
from triage.jsonl import read_records


def test_detect_finds_demo_sources_in_zip_and_folder(cli) -> None:
    result = cli.invoke(main, ["detect", str(DEMO / "evidence"), "--json"])
    assert result.exit_code == 0, result.output
    rows = {
        Path(r["file"]).as_posix().split("evidence/", 1)[1]: r
        for r in map(json.loads, result.output.splitlines())
    }
    found = {f: r["format"] for f, r in rows.items() if r["format"]}
    assert found == {
        "android-extraction.zip!/data/user_de/0/com.android.providers.telephony/databases/mmssms.db": "android_mmssms",
        "android-extraction.zip!/data/data/com.whatsapp/databases/msgstore.db": "whatsapp_android",
        "android-extraction.zip!/data/data/com.whatsapp/databases/wa.db": "whatsapp_android_contacts",
        "facebook-danreeve-2026-05-01.zip!/your_facebook_activity/messages/inbox/"
        "jesstate_10157000000000123/message_1.json": "messenger_dyi_json",
        "android-extraction.zip!/data/data/com.android.providers.contacts/databases/calllog.db": "android_calllog",
        "android-extraction.zip!/data/data/com.android.providers.contacts/databases/contacts2.db": "android_contacts",
        "iphone-extract/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata": "ios_callhistory",
        "iphone-extract/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb": "ios_addressbook",
        # His personal phone, read by case-two-phones.yaml (case.yaml does not list it).
        "personal-phone.zip!/data/data/com.whatsapp/databases/msgstore.db": "whatsapp_android",
        "personal-phone.zip!/data/user_de/0/com.android.providers.telephony/databases/"
        "mmssms.db": "android_mmssms",
    }
    # Nothing in the demo is left without a reason.
    assert all(r["reason"] for r in rows.values())


def test_parse_prints_valid_jsonl(cli) -> None:
    result = cli.invoke(
        main, ["parse", str(DEMO / "evidence" / "android-extraction.zip"), "--jsonl"]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    records = list(read_records(lines))
    calls = [r for r in records if r.get("record") == "call"]
    records = [r for r in records if r["record"] == "message"]
    assert len(records) >= 40
    # The calls in calllog.db, in the call schema (README, "The JSONL schema").
    assert len(calls) == 14
    call_keys = {"network", "direction", "result", "duration_s", "counterpart", "participants"}
    assert all(call_keys <= set(c) and c["source"]["format"] == "android_calllog" for c in calls)
    keys = {
        "platform",
        "conversation",
        "timestamp_utc",
        "timestamp_raw",
        "zone_assumed",
        "direction",
        "sender",
        "recipients",
        "body",
        "kind",
        "deleted",
        "edited",
        "attachments",
        "source",
    }
    for record in records:
        assert keys <= set(record)
        assert {"id", "title", "is_group"} <= set(record["conversation"])
        assert set(record["source"]) == {"file", "sha256", "format", "locator"}
        assert record["timestamp_utc"] is None or record["timestamp_utc"].endswith("Z")
        if record["sender"] is not None:
            assert {"raw", "id", "name"} <= set(record["sender"])


def test_parse_of_missing_path_is_one_line(cli) -> None:
    result = cli.invoke(main, ["parse", "no/such/file.db"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: no/such/file.db: no such file or folder"


def test_demo_writes_report_directory(cli, tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    result = cli.invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {"case.sqlite", "manifest.json", "index.html"} <= {p.name for p in out.iterdir()}
    assert str(out / "index.html") in result.output
    # The demo is the two-phone case: the first screen names both phones.
    index = (out / "index.html").read_text("utf-8")
    assert "Work phone (" in index and "Personal phone (" in index


def test_every_command_has_help_with_an_example(cli) -> None:
    # Every command, those defined in other modules (imported when named) too.
    commands = main.list_commands(click.Context(main))
    assert {"parse", "run", "hash", "match"} <= set(commands)
    for command in commands:
        result = cli.invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, command
