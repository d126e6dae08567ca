"""Deleted-row recovery in a second process (triage/recovery/job.py) gives what it gives in-process.

The databases are churned by SQLite (tests/sqlite_churn.py); each case runs the recovery both
ways, on the same evidence, and compares the records, the run's decision and its warnings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import triage.recovery.job as job
from tests.sqlite_churn import churn
from triage.evidence import Evidence, EvidenceFile
from triage.recovery.evidence import recover_evidence
from triage.recovery.job import PendingRecovery
from triage.registry import ParseContext

TARGETS = {"message": ("key_id",)}


def _db(evidence: Evidence, folder: Path) -> EvidenceFile:
    evidence.add_input(folder, "phone")
    return next(f for f in evidence.files() if f.name.endswith(".db"))


def _both(file: EvidenceFile, **kw: object) -> tuple[tuple, tuple]:
    seen = []
    for parallel in (False, True):
        ctx = ParseContext()
        pending = PendingRecovery(file, TARGETS, parallel=parallel)
        assert (pending._child is not None) == (parallel and not kw.get("no_child"))
        result = pending.result(ctx)
        records = [(r.rowid, r.fields, r.facts()) for r in result.records] if result else None
        warnings = [(w.file, w.category, w.examples) for w in ctx.warnings.values()]
        seen.append((records, ctx.decisions, warnings))
    return seen[0], seen[1]


@pytest.mark.parametrize("wal", [False, True])
def test_second_process_finds_what_the_scan_finds_in_process(tmp_path: Path, wal: bool) -> None:
    c = churn(tmp_path / "phone", "whatsapp", wal=wal)
    with Evidence() as evidence:
        file = _db(evidence, tmp_path / "phone")
        here, there = _both(file)
        direct = recover_evidence(file, ParseContext(), TARGETS)
    assert here == there
    assert direct is not None and len(direct.records) == len(here[0]) > 20
    assert c.db.is_file()


def test_not_a_database_is_said_the_same_way(tmp_path: Path) -> None:
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "msgstore.db").write_bytes(b"SQLite format 3\x00" + b"\x00\x03" + bytes(200))
    with Evidence() as evidence:
        file = _db(evidence, folder)
        here, there = _both(file)
    assert here == there
    assert here[0] is None and here[2] and "recovery not possible" in here[2][0][1]


def test_a_failing_second_process_is_replaced_by_the_scan_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    churn(tmp_path / "phone", "whatsapp")
    with Evidence() as evidence:
        file = _db(evidence, tmp_path / "phone")
        good = _both(file)[0]
        monkeypatch.setattr(job, "_CHILD", "import sys; sys.stdin.buffer.read(); sys.exit(3)")
        assert _both(file)[1] == good
        monkeypatch.setattr(job, "_CHILD", "import sys; sys.stdout.write('not a pickle')")
        assert _both(file)[1] == good
        monkeypatch.setattr(job.sys, "executable", str(tmp_path / "no-such-python"))
        assert _both(file, no_child=True)[1] == good


def test_a_recovery_no_longer_wanted_is_stopped(tmp_path: Path) -> None:
    churn(tmp_path / "phone", "whatsapp")
    with Evidence() as evidence:
        file = _db(evidence, tmp_path / "phone")
        pending = PendingRecovery(file, TARGETS, parallel=True)
        child = pending._child
        assert child is not None
        pending.close()
        assert child.returncode is not None
        assert pending.result(ParseContext()) is not None  # then scanned in-process


def test_whatsapp_parse_gives_the_same_records_with_the_scan_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_recovery_run import _whatsapp_folder
    from triage.ingest import iter_records

    evidence = _whatsapp_folder(tmp_path)
    started = []
    popen = job.subprocess.Popen
    monkeypatch.setattr(
        job.subprocess, "Popen", lambda *a, **k: started.append(1) or popen(*a, **k)
    )
    seen = []
    for threshold in (job.PARALLEL_FROM, 0):  # in-process, then in a second process
        monkeypatch.setattr(job, "PARALLEL_FROM", threshold)
        started.clear()
        ctx = ParseContext()
        records = [repr(r) for _res, r in iter_records([evidence], ctx)]
        seen.append((records, ctx.decisions, [repr(w) for w in ctx.warnings.values()]))
        assert len(started) == (1 if threshold == 0 else 0)
    assert seen[0] == seen[1]
    assert sum("recovered" in r for r in seen[0][0]) >= 4
