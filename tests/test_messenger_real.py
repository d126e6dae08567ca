"""Messenger downloads as real ones come: damaged thread files, bad messages, shared links, the
JSON and HTML copies of one thread in one download, and E2EE exports written as mojibake
(fixtures ``dyi_json_damaged``, ``dyi_json_and_html``, ``e2ee_mojibake``; see
fixtures/messenger/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT
from triage.cli import main
from triage.jsonl import read_records
from triage.store import Store

GEN = ROOT / "fixtures" / "messenger" / "generated"
GINA = "your_facebook_activity/messages/inbox/ginaross_7770001"


def _parse(cli, path: Path, code: int = 0) -> tuple[list[dict], str]:
    result = cli.invoke(main, ["parse", str(path), "--jsonl"])
    assert result.exit_code == code, result.stderr
    return list(read_records(result.stdout.splitlines())), " ".join(result.stderr.split())


def _run(cli, tmp_path: Path, source: Path, code: int = 0) -> tuple[Path, str]:
    case = tmp_path / "case.yaml"
    case.write_text(
        "case:\n  reference: TEST/12\nsubject:\n  name: PC 1\n  identifiers:\n"
        "    - name: Zoë Ward\nsources:\n"
        f"  - {source}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == code, result.output
    return out, " ".join(result.stderr.split())


def test_truncated_thread_file_is_named_and_its_good_rows_kept(cli) -> None:
    records, stderr = _parse(cli, GEN / "dyi_json_damaged", code=3)
    assert [(r["source"]["locator"], r["body"]) for r in records] == [
        ("message_3.json messages[1]", "First"),
        ("message_3.json messages[0]", "Second"),
        # message_2.json is cut inside its oldest message: the two before the cut are read.
        ("message_2.json messages[1]", "Kept 1"),
        ("message_2.json messages[0]", "Kept 2"),
        ("message_1.json messages[5]", "Where are you?"),
        ("message_1.json messages[2]", "https://news.example.org/story/7"),
        ("message_1.json messages[1]", "Here's the route\nhttps://maps.example.org/route/42"),
        ("message_1.json messages[0]", "See you at 8"),
    ]
    blamed = f"{GINA}/message_2.json: file partly read"
    assert blamed in stderr
    assert "not valid JSON: Unterminated string" in stderr
    assert "2 message(s) before the damage read" in stderr
    assert f"{GINA}/message_1.json: file partly read" not in stderr
    # The message with a time out of range and the one whose sender is a number: skipped,
    # counted with their locators, and the thread read on.
    assert "bad record skipped x2" in stderr
    assert "message_1.json messages[4]" in stderr


def test_damaged_thread_file_in_manifest_and_coverage(cli, tmp_path: Path) -> None:
    out, stderr = _run(cli, tmp_path, GEN / "dyi_json_damaged", code=3)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    skipped = {Path(s["file"]).name: s["reason"] for s in manifest["skipped"]}
    assert skipped["message_2.json"].startswith("not valid JSON")
    assert "message_2.json" in (out / "coverage.html").read_text("utf-8")
    (source,) = manifest["sources"]
    assert source["counts"]["messages"] == 8


def test_shared_links_keep_their_url(cli) -> None:
    records, _ = _parse(cli, GEN / "dyi_json_and_html")
    share = [r for r in records if r["source"]["format"] == "messenger_dyi_json"][2]
    assert share["body"] == "This one\nhttps://maps.example.org/cafe/9"
    assert share["extra"]["share"] == {"link": "https://maps.example.org/cafe/9"}


def test_json_and_html_copies_of_one_thread_meet(cli, tmp_path: Path) -> None:
    records, _ = _parse(cli, GEN / "dyi_json_and_html")
    by_format: dict[str, list[str]] = {}
    for r in records:
        by_format.setdefault(r["source"]["format"], []).append(r["duplicate_key"])
    # Minute-precision local times, mojibake names on the page, "A and B" participants, the
    # link printed in the HTML body: still the same four keys.
    assert by_format["messenger_dyi_html"] == by_format["messenger_dyi_json"]
    assert len(set(by_format["messenger_dyi_json"])) == 4
    html_names = {
        r["sender"]["raw"] for r in records if r["source"]["format"] == "messenger_dyi_html"
    }
    assert html_names == {"Harry Kent", "Zoë Ward"}  # the page's mojibake repaired
    out, _ = _run(cli, tmp_path, GEN / "dyi_json_and_html")
    store = Store.open(out / "case.sqlite")
    try:
        kept = [m.message for m in store.messages()]
    finally:
        store.close()
    assert len(kept) == 4
    assert {m.source.format for m in kept} == {"messenger_dyi_json"}


def test_e2ee_mojibake_repaired_per_file_from_evidence(cli, tmp_path: Path) -> None:
    records, _ = _parse(cli, GEN / "e2ee_mojibake")
    bodies = {r["source"]["locator"]: r["body"] for r in records}
    assert bodies["Gina Ross_1.json messages[0]"] == "Meet at the café 😢"
    senders = {
        r["sender"]["raw"] for r in records if r["source"]["file"].endswith("Gina Ross_1.json")
    }
    assert senders == {"Gina Ross", "Zoë Ward"}
    reactions = next(r for r in records if r["source"]["locator"] == "Gina Ross_1.json messages[1]")
    assert reactions["extra"]["reactions"] == [{"actor": "Gina Ross", "reaction": "❤"}]
    # A proper UTF-8 file is left as written, even where a string looks like mojibake.
    assert bodies["Harry Kent_1.json messages[0]"] == "Ã la carte 🙂"
    out, _ = _run(cli, tmp_path, GEN / "e2ee_mojibake")
    decisions = json.loads((out / "manifest.json").read_text("utf-8"))["decisions"]
    by_file = {Path(f).name: d.get("mojibake", "") for f, d in decisions.items()}
    assert by_file["Gina Ross_1.json"].startswith("repaired (non-ASCII strings: 4 repairable")
    assert by_file["Harry Kent_1.json"].startswith("not repaired")
