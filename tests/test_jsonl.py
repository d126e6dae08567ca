"""The JSONL interface of ``triage parse`` (version 2): shared facts written once, referred to by
key, read back whole by :func:`triage.jsonl.read_records`."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from triage.cli import main
from triage.jsonl import JsonlWriter, SchemaError, read_records
from triage.model import Call, Conversation, Message, Party, Provenance

ANDROID = ROOT / "fixtures" / "whatsapp_txt" / "android"


def _parse(*paths: Path) -> list[dict]:
    result = CliRunner().invoke(main, ["parse", *map(str, paths), "--jsonl"])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_shared_facts_are_written_once_before_first_use() -> None:
    lines = _parse(ANDROID)
    assert lines[0] == {"record": "schema", "schema": "triage-jsonl", "version": 2}
    defined: dict[str, set[int]] = {"source": set(), "party": set(), "conversation": set()}
    messages = 0
    for line in lines[1:]:
        kind = line["record"]
        if kind in defined:
            assert line["key"] not in defined[kind], line  # each written once
            defined[kind].add(line["key"])
            if kind == "conversation":
                assert set(line["participants"]) <= defined["party"]
            continue
        assert kind == "message"
        messages += 1
        assert line["conversation"] in defined["conversation"]
        assert line["source"] in defined["source"]
        assert line["locator"].startswith("line ")
        refs = line["recipients"] + ([line["sender"]] if line["sender"] is not None else [])
        assert set(refs) <= defined["party"]
    # Two export files: two sources and two conversations for all their messages.
    assert len(defined["source"]) == 2 and len(defined["conversation"]) == 2
    assert messages > 10


def test_read_records_gives_each_message_whole() -> None:
    night = ANDROID / "WhatsApp Chat with Night shift.txt"
    lines = CliRunner().invoke(main, ["parse", str(night)]).stdout.splitlines()
    rows = list(read_records(lines))
    assert rows and all(r["record"] == "message" for r in rows)
    first = rows[0]
    assert first["source"]["file"] == str(night)
    assert first["source"]["format"] == "whatsapp_txt"
    assert first["source"]["locator"] == "line 1" and "locator" not in first
    assert first["conversation"]["title"] == "Night shift"
    assert {p["scheme"] for p in first["conversation"]["participants"]} <= {
        "name",
        "phone",
        "owner",
    }
    person = next(r for r in rows if r["sender"] is not None)
    assert person["sender"]["raw"] == person["extra"]["author"]


def test_parties_and_conversations_are_shared_across_records() -> None:
    alice = Party(raw="+44 7700 900123", id="+447700900123", scheme="phone")
    conv = Conversation(id="sms:thread:1", participants=[alice])
    src = "mmssms.db"

    def message(n: int) -> Message:
        return Message(
            platform="sms",
            conversation=conv,
            timestamp_utc=None,
            timestamp_raw=str(n),
            zone_assumed=False,
            direction="incoming",
            sender=Party(raw="+44 7700 900123", id="+447700900123", scheme="phone"),
            recipients=[],
            body=f"m{n}",
            kind="text",
            source=Provenance(src, "0" * 64, "android_mmssms", f"sms._id={n}"),
        )

    call = Call(
        network="cellular",
        timestamp_utc=None,
        timestamp_raw="9",
        direction="incoming",
        result="missed",
        source=Provenance("calllog.db", "1" * 64, "android_calllog", "calls._id=9"),
        counterpart=alice,
    )
    out = io.BytesIO()
    writer = JsonlWriter(out)
    writer.write(message(1))
    writer.write_call(call)
    writer.write(message(2))
    writer.flush()
    text = out.getvalue().decode()
    kinds = [json.loads(line)["record"] for line in text.splitlines()]
    # One party (equal values, two objects), one conversation, a source per file.
    assert kinds == [
        "schema",
        "party",
        "conversation",
        "source",
        "message",
        "source",
        "call",
        "message",
    ]
    rows = list(read_records(text.splitlines()))
    assert [r["record"] for r in rows] == ["message", "call", "message"]
    assert rows[1]["counterpart"] == rows[0]["sender"] == rows[2]["sender"]
    assert rows[1]["source"] == {
        "file": "calllog.db",
        "sha256": "1" * 64,
        "format": "android_calllog",
        "locator": "calls._id=9",
    }
    assert rows[2]["source"]["locator"] == "sms._id=2"


def test_nothing_written_without_records() -> None:
    out = io.BytesIO()
    JsonlWriter(out).flush()
    assert out.getvalue() == b""


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (['{"record":"message"}'], "no schema line"),
        (['{"record":"schema","schema":"triage-jsonl","version":1}'], "version 1"),
        (
            [
                '{"record":"schema","schema":"triage-jsonl","version":2}',
                '{"record":"call","counterpart":3,"participants":[],"source":1,"locator":"x"}',
            ],
            "line 2: call refers to undefined key 3",
        ),
        (
            ['{"record":"schema","schema":"triage-jsonl","version":2}', '{"record":"note"}'],
            "unknown record 'note'",
        ),
    ],
)
def test_read_records_refuses_what_it_cannot_resolve(lines: list[str], error: str) -> None:
    with pytest.raises(SchemaError, match=error):
        list(read_records(lines))


def test_times_are_written_alike_by_orjson_and_by_the_fallback_encoder() -> None:
    # A lone surrogate makes orjson refuse the line; the standard encoder then writes it, and a
    # time must read the same either way (the message's own and one inside extra).
    def line(body: str) -> dict:
        msg = Message(
            platform="sms",
            conversation=Conversation(id="sms:thread:1"),
            timestamp_utc=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            timestamp_raw="1704164645000",
            zone_assumed=False,
            direction="incoming",
            sender=None,
            recipients=[],
            body=body,
            kind="text",
            source=Provenance("mmssms.db", "0" * 64, "android_mmssms", "sms._id=1"),
            extra={"seen": datetime(2024, 1, 2, 3, 4, 6, 250000, tzinfo=UTC)},
        )
        out = io.BytesIO()
        writer = JsonlWriter(out)
        writer.write(msg)
        writer.flush()
        (row,) = read_records(out.getvalue().split(b"\n"))
        return row

    plain, odd = line("ok"), line("bad \udc80 half")
    assert plain["timestamp_utc"] == odd["timestamp_utc"] == "2024-01-02T03:04:05Z"
    assert plain["extra"] == odd["extra"] == {"seen": "2024-01-02T03:04:06.250000Z"}
    assert odd["body"] == "bad \udc80 half"
