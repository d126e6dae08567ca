"""End-to-end behaviour of a run: evidence safety, reproducibility, reporting what was skipped."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

from triage.casefile import load_case
from triage.cli import main
from triage.evidence import sha256_file
from triage.manifest import stable_view
from triage.run import run_case

SMS_SCHEMA = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER,
  date INTEGER, date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0,
  status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER, subject TEXT, body TEXT,
  service_center TEXT, locked INTEGER DEFAULT 0, sub_id INTEGER DEFAULT -1,
  error_code INTEGER DEFAULT -1, creator TEXT, seen INTEGER DEFAULT 0);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0,
  message_count INTEGER DEFAULT 0, recipient_ids TEXT, snippet TEXT);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT);
"""


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(folder)): (sha256_file(p), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_wal_database(folder: Path) -> Path:
    """An AOSP-shaped mmssms.db whose newest row exists only in its -wal file."""
    work = folder / "live"
    work.mkdir()
    conn = sqlite3.connect(work / "mmssms.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SMS_SCHEMA)
    conn.execute("INSERT INTO canonical_addresses (address) VALUES ('07700 900123')")
    conn.execute("INSERT INTO threads (recipient_ids) VALUES ('1')")
    conn.execute(
        "INSERT INTO sms (_id, thread_id, address, date, type, body)"
        " VALUES (1, 1, '07700 900123', 1773000000000, 1, 'in the main file')"
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(
        "INSERT INTO sms (_id, thread_id, address, date, type, body)"
        " VALUES (2, 1, '07700 900123', 1773000060000, 2, 'only in the WAL')"
    )
    conn.commit()
    evidence = folder / "evidence"
    evidence.mkdir()
    # Copy while the writer is still open, as an extraction of a live phone would.
    for name in ("mmssms.db", "mmssms.db-wal"):
        shutil.copy2(work / name, evidence / name)
    conn.close()
    shutil.rmtree(work)
    return evidence


def write_case(folder: Path, sources: list[str]) -> Path:
    path = folder / "case.yaml"
    lines = [
        "case:",
        "  reference: TEST/1",
        "contacts:",
        "  - name: Female A",
        "    role: victim",
        "    identifiers:",
        '      - phone: "07700 900123"',
        "sources:",
    ]
    lines += [f"  - {s}" for s in sources]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_wal_rows_are_read_and_evidence_is_untouched(tmp_path: Path) -> None:
    evidence = make_wal_database(tmp_path)
    assert (evidence / "mmssms.db-wal").stat().st_size > 0
    before = snapshot(evidence)
    case = load_case(write_case(tmp_path, ["evidence"]))
    result = run_case(case, tmp_path / "out")

    assert snapshot(evidence) == before  # same files, same hashes, same mtimes: no -shm created
    conn = sqlite3.connect(result.store_path)
    bodies = [r[0] for r in conn.execute("SELECT body FROM messages ORDER BY timestamp_utc")]
    assert bodies == ["in the main file", "only in the WAL"]
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["run"]["evidence_unchanged"] is True
    files = {i["file"]: i for i in manifest["inputs"]}
    assert set(files) == {"evidence/mmssms.db", "evidence/mmssms.db-wal"}
    for entry in files.values():
        assert entry["sha256_before"] == entry["sha256_after"]


def test_archive_member_escaping_is_refused_and_the_rest_is_read(tmp_path: Path) -> None:
    evidence = make_wal_database(tmp_path)
    archive = tmp_path / "extraction.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(evidence / "mmssms.db", "data/databases/mmssms.db")
        zf.write(evidence / "mmssms.db-wal", "data/databases/mmssms.db-wal")
        zf.writestr("../../etc/evil.txt", "escape attempt")
        zf.writestr("/abs/evil.txt", "absolute path")
    shutil.rmtree(evidence)
    case = load_case(write_case(tmp_path, ["extraction.zip"]))
    result = run_case(case, tmp_path / "out")

    refused = {f: r for f, r in result.skipped if "evil" in f}
    assert refused == {
        "extraction.zip!/../../etc/evil.txt": "path escapes the archive ('..') refused",
        "extraction.zip!//abs/evil.txt": "absolute path in archive refused",
    }
    assert [s.counts["messages"] for s in result.sources] == [2]
    assert not (tmp_path.parent / "etc").exists() and not Path("/abs/evil.txt").exists()
    html = (tmp_path / "out" / "index.html").read_text()
    assert "path escapes the archive" in html


def test_two_runs_give_identical_outputs(demo_case: Path, tmp_path: Path) -> None:
    case = load_case(demo_case)
    first = run_case(case, tmp_path / "one")
    second = run_case(case, tmp_path / "two")
    names = sorted(p.name for p in first.out.iterdir())
    assert names == sorted(p.name for p in second.out.iterdir())
    assert {"case.sqlite", "manifest.json", "index.html", "findings.json"} <= set(names)
    for name in names:
        if name == "manifest.json":
            one = stable_view(json.loads((first.out / name).read_text()))
            two = stable_view(json.loads((second.out / name).read_text()))
            assert one == two
        elif (first.out / name).is_file():
            assert (first.out / name).read_bytes() == (second.out / name).read_bytes(), name


def test_demo_evidence_is_unchanged_by_a_cli_run(demo_case: Path, tmp_path: Path, cli) -> None:
    folder = demo_case.parent
    before = snapshot(folder)
    result = cli.invoke(main, ["run", str(demo_case), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert snapshot(folder) == before
    assert (tmp_path / "out" / "index.html").exists()


def test_changed_evidence_fails_the_run(tmp_path: Path, monkeypatch) -> None:
    evidence = make_wal_database(tmp_path)
    case = load_case(write_case(tmp_path, ["evidence"]))
    import triage.run as run_module

    real = run_module.analysers

    def tamper():
        os.utime(evidence / "mmssms.db", ns=(1, 1))
        return real()

    monkeypatch.setattr(run_module, "analysers", tamper)
    try:
        run_case(case, tmp_path / "out")
    except run_module.EvidenceChanged as exc:
        assert "evidence/mmssms.db: modification time changed" in str(exc)
    else:
        raise AssertionError("a changed input must fail the run")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["run"]["evidence_unchanged"] is False
