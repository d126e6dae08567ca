"""Files no parser reads: ``triage parse`` and ``triage run`` say what each is and why it was not
read, and exit with the documented status (fixtures: ``fixtures/unreadable/``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from triage.cli import main
from triage.evidence import sha256_file
from triage.jsonl import read_records

GEN = ROOT / "fixtures" / "unreadable" / "generated"
DB = "data/user_de/0/com.android.providers.telephony/databases"
AOSP = ROOT / "fixtures" / "sms" / "generated" / "android_aosp"


def _snapshot(path: Path) -> dict[str, tuple[str, int]]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): (sha256_file(p), p.stat().st_mtime_ns) for p in files}


CASES = [
    (f"empty/{DB}/mmssms.db", "mmssms.db: empty file (0 bytes)"),
    ("noise/msgstore.db", "msgstore.db: not a SQLite database (binary data of no known format)"),
    (f"truncated/{DB}/mmssms.db", "file is truncated at 8,192 of 40,960 bytes"),
    (f"header_only/{DB}/mmssms.db", "SQLite header only (100 bytes, less than one page)"),
    (f"header_damaged/{DB}/mmssms.db", "mmssms.db: not a SQLite database (header damaged"),
    (
        f"malformed/{DB}/mmssms.db",
        "could not be read: database disk image is malformed (page 1 malformed: the schema",
    ),
    (
        f"unknown_schema/{DB}/mmssms.db",
        "mmssms.db: SQLite database with no known schema (tables: android_metadata, carriers)",
    ),
    (
        f"wal_without_database/{DB}/mmssms.db-wal",
        "mmssms.db-wal: SQLite write-ahead log (WAL) without its database: 2 frame(s)",
    ),
    ("text/notes-utf16.txt", "UTF-16 text of 3 line(s) that no parser recognised"),
    ("text/one-line.txt", "text of 1 line(s) that no parser recognised (first line: 'Remember"),
    ("case_file/case.yaml", "a triage case file, not evidence"),
]


@pytest.mark.parametrize(("relative", "expected"), CASES, ids=[c[0].split("/")[0] for c in CASES])
def test_parse_says_what_a_file_is_and_exits_nothing_read(cli, relative, expected) -> None:
    path = GEN / relative
    before = _snapshot(path.parent)
    result = cli.invoke(main, ["parse", str(path)])
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    assert expected in " ".join(result.stderr.split()), result.stderr
    assert "nothing readable" in result.stderr
    assert _snapshot(path.parent) == before  # evidence untouched, nothing written beside it


def test_parse_of_an_empty_folder(cli, tmp_path: Path) -> None:
    result = cli.invoke(main, ["parse", str(tmp_path)])
    assert result.exit_code == 4
    assert f"{tmp_path}: empty folder (no files in it)" in result.stderr


def test_torn_wal_reads_the_committed_rows_and_says_how_many_frames_were_ignored(cli) -> None:
    folder = GEN / "torn_wal"
    before = _snapshot(folder)
    result = cli.invoke(main, ["parse", str(folder)])
    assert result.exit_code == 3, result.output  # partly read
    lines = list(read_records(result.stdout.splitlines()))
    bodies = [m["body"] for m in lines if not m["recovered"]]
    # Rows 1-3 are in the main file, row 4 in the WAL's committed transaction; row 5 is in the
    # transaction whose checksum breaks, which SQLite (and so the tool) does not apply.
    assert bodies == [
        "Are you on shift tonight?",
        "Yes, 10pm to 6am",
        "See you there",
        "On my way",
    ]
    # Row 5 is still in the WAL's torn frame: shown as a recovered row, never as a live one.
    torn = [m for m in lines if m["recovered"]]
    assert [m["body"] for m in torn] == ["This row is in a torn transaction"]
    assert torn[0]["extra"]["recovered"]["wal_frame_state"] == "torn"
    assert torn[0]["extra"]["recovered"]["confidence"] == "low"
    stderr = " ".join(result.stderr.split())
    assert "mmssms.db-wal: WAL frames ignored" in stderr
    assert "1 of 2 frame(s) ignored, as SQLite does (after the last valid commit" in stderr
    assert "partly read" in stderr
    assert _snapshot(folder) == before


def test_a_good_source_beside_a_damaged_one_is_partly_read(cli, tmp_path: Path) -> None:
    shutil.copytree(AOSP, tmp_path / "phone")
    shutil.copy(GEN / "truncated" / DB / "mmssms.db", tmp_path / "phone" / "old-mmssms.db")
    result = cli.invoke(main, ["parse", str(tmp_path / "phone")])
    assert result.exit_code == 3, result.output
    assert len(result.stdout.splitlines()) > 0
    assert "old-mmssms.db: SQLite database truncated" in " ".join(result.stderr.split())


def test_every_fixture_source_read_in_full_exits_zero(cli) -> None:
    result = cli.invoke(main, ["parse", str(AOSP)])
    assert result.exit_code == 0, result.stderr
    assert "not read:" not in result.stderr


def test_run_exit_status_and_coverage_name_the_unread_file(cli, tmp_path: Path) -> None:
    shutil.copytree(GEN / "torn_wal", tmp_path / "evidence")
    shutil.copy(GEN / "truncated" / DB / "mmssms.db", tmp_path / "evidence" / "old.db")
    case = tmp_path / "case.yaml"
    case.write_text(
        "case:\n  reference: TEST/13\nsubject:\n  name: PC 1\nsources:\n  - evidence\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 3, result.output
    assert "old.db: SQLite database truncated" in " ".join(result.stderr.split())
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    skipped = {Path(s["file"]).name: s["reason"] for s in manifest["skipped"]}
    assert skipped["old.db"].startswith("SQLite database truncated")
    assert skipped["mmssms.db-wal"].startswith("torn WAL: 2 frame(s)")
    coverage = (out / "coverage.html").read_text("utf-8")
    assert "mmssms.db-wal" in coverage and "torn WAL" in coverage


def test_run_with_nothing_readable_exits_4(cli, tmp_path: Path) -> None:
    shutil.copytree(GEN / "noise", tmp_path / "evidence")
    case = tmp_path / "case.yaml"
    case.write_text(
        "case:\n  reference: TEST/14\nsubject:\n  name: PC 1\nsources:\n  - evidence\n",
        encoding="utf-8",
    )
    result = cli.invoke(main, ["run", str(case), "--out", str(tmp_path / "out")])
    assert result.exit_code == 4, result.output
    assert "msgstore.db: not a SQLite database" in " ".join(result.stderr.split())


def test_hash_names_pictures_that_are_not_pictures(cli) -> None:
    result = cli.invoke(main, ["hash", str(GEN / "pictures")])
    stderr = " ".join(result.stderr.split())
    assert "IMG_0001.jpg: named as a picture but empty (0 bytes)" in stderr
    assert "IMG_0002.jpg: named as a picture but its content is HTML" in stderr


@pytest.mark.parametrize("command", ["parse", "detect"])
def test_output_cut_short_by_head_ends_quietly(command: str) -> None:
    """``triage parse ... | head -1``: the reader goes away; no BrokenPipeError, no traceback."""
    source = ROOT / "fixtures" / "demo" / "evidence" / "android-extraction.zip"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from triage.cli import main; main()", command, str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what head does after its first line
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "BrokenPipe" not in stderr and "Traceback" not in stderr, stderr
    assert "internal error" not in stderr


def test_run_of_pictures_only_is_not_nothing_readable(cli, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "fixtures" / "demo" / "evidence" / "sdcard-copy", tmp_path / "sd")
    case = tmp_path / "case.yaml"
    case.write_text(
        "case:\n  reference: TEST/15\nsubject:\n  name: PC 1\nsources:\n  - sd\n",
        encoding="utf-8",
    )
    result = cli.invoke(main, ["run", str(case), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
