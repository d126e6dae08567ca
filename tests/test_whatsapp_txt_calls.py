"""Call lines of WhatsApp "Export chat" text files read as calls, not messages."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from triage.parsers.whatsapp_txt_grammar import call_line

from tests.test_analysers_support import run, write_case
from triage.cli import main
from triage.jsonl import read_records

KATE = (
    Path(__file__).resolve().parent.parent / "fixtures/whatsapp_txt/calls/WhatsApp Chat - Kate.txt"
)
CAROL = (
    Path(__file__).resolve().parent.parent
    / "fixtures/whatsapp_txt/media/WhatsApp Chat with Carol.zip"
)


def jsonl(*paths: Path) -> list[dict]:
    result = CliRunner().invoke(main, ["parse", *map(str, paths), "--jsonl"])
    assert result.exit_code == 0, result.output
    return list(read_records(result.stdout.splitlines()))


def test_ios_call_lines_are_calls_with_what_the_line_says() -> None:
    lines = jsonl(KATE)
    calls = [r for r in lines if r.get("record") == "call"]
    texts = [r["body"] for r in lines if r.get("record") != "call"]
    # Typed text that mentions calls stays a message.
    assert texts[-3:] == ["Video call tonight?", "Voice call", "Video call, later?"]
    assert not any(r.get("kind") == "call" for r in lines)
    assert [(c["direction"], c["result"], c["duration_s"], c["video"]) for c in calls] == [
        ("incoming", "missed", None, False),  # Kate: Missed voice call, Tap to call back
        ("outgoing", "not_answered", None, False),  # Sam: Voice call, No answer
        ("outgoing", "answered", 720, True),  # Sam: Video call, 12 min
        ("incoming", "answered", 3900, False),  # Kate: Voice call, 1 hr 5 min
        ("incoming", "missed", None, False),  # Kate: Silenced voice call, Focus mode
        ("incoming", "answered_elsewhere", None, False),
    ]
    first = calls[0]
    # Local time without a zone, read in the case zone: 22:01:12 BST is 21:01:12 UTC.
    assert first["timestamp_utc"] == "2023-06-14T21:01:12Z" and first["zone_assumed"]
    assert first["timestamp_raw"] == "14/06/2023, 22:01:12"
    assert first["extra"]["from_text_export"] is True
    assert first["source"]["format"] == "whatsapp_txt" and first["source"]["locator"] == "line 3"
    assert first["result_code"] == "line text=Missed voice call, Tap to call back"
    assert {c["counterpart"]["raw"] for c in calls} == {"Kate"}
    assert calls[4]["extra"]["silenced"] == "focus mode"
    assert {c["network"] for c in calls} == {"whatsapp"}
    assert len({c["conversation"] for c in calls}) == 1


def test_android_missed_call_line() -> None:
    (call,) = [r for r in jsonl(CAROL) if r.get("record") == "call"]
    # "Dave: Missed voice call" and Dave is the owner: his call that Carol did not pick up.
    assert (call["direction"], call["result"], call["counterpart"]["raw"]) == (
        "outgoing",
        "not_answered",
        "Carol",
    )


def test_call_line_grammar() -> None:
    assert call_line("Missed group voice call").group
    assert call_line("\u200eVideo call, \u200e2 min").seconds == 120
    assert call_line("Voice call, 45 sec").seconds == 45
    for text in ("Voice call", "Video call tonight?", "Voice call, see you", "missed the call"):
        assert call_line(text) is None


def test_a_call_seen_in_two_copies_of_the_export_is_counted_once(tmp_path: Path) -> None:
    for folder in ("phone", "email"):
        (tmp_path / folder).mkdir()
        shutil.copy(KATE, tmp_path / folder / KATE.name)
    case = write_case(
        tmp_path,
        "contacts:\n  - name: Kate\n    role: witness\n    identifiers: [{name: Kate}]\n"
        f"sources:\n  - {tmp_path / 'phone'}\n  - {tmp_path / 'email'}\n",
    )
    r = run(case, tmp_path / "out", report=False)
    kate = r.one("contact.summary", "contact-1").data
    assert kate["calls"]["count"] == 6
    assert (kate["calls"]["outgoing"], kate["calls"]["incoming"]) == (2, 4)
    assert kate["calls"]["answered"] == 3 and kate["calls"]["unanswered_incoming"] == 2
    assert kate["calls"]["not_answered_outgoing"] == 1
    assert kate["calls"]["talk_seconds"] == 720 + 3900
    assert len(r.store.call_duplicates()) == 6
