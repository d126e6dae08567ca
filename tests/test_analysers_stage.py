"""The analysers stage (``triage.analysers.stage``): with the beside analysers computed in a second
process the store holds the same rows and the settings are the same as in one process, and the
file is the same whether that process finished them or failed."""

from __future__ import annotations

import copy
import dataclasses
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import triage.analysers.stage as stage
import triage.run
from triage.analysers import Settings, analysers
from triage.casefile import Case, load_case
from triage.store import Store

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
TABLES = ("findings", "finding_refs", "message_labels", "analysers_run")


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Case, dict[str, Any]]:
    """The two-phone demo's store as the analysers stage finds it, its case and settings."""
    root = tmp_path_factory.mktemp("stage")
    target = root / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    kept: dict[str, Any] = {}

    def keep(
        store: Store, case: Case, settings: Settings, chosen: object = None, second: object = None
    ) -> int:
        assert second is None  # a case this small gets no second process
        kept["case"], kept["settings"] = case, copy.deepcopy(settings.values)
        shutil.copy(store.path, root / "before.sqlite")
        return 0

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(triage.run, "run_analysers", keep)
        triage.run.run_case(load_case(target / "case-two-phones.yaml"), root / "out", report=False)
    return root / "before.sqlite", kept["case"], kept["settings"]


def _stage(
    before: tuple[Path, Case, dict[str, Any]], at: Path, parallel: bool
) -> tuple[list[tuple], dict[str, Any], int]:
    """Run the stage on a copy of the store at ``at``: the rows written, the settings, the count."""
    source, case, values = before
    shutil.copy(source, at)
    store = Store(sqlite3.connect(at), at)
    settings = Settings(copy.deepcopy(values))
    count = stage.run_analysers(store, case, settings, parallel=parallel)
    mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    store.close()
    assert mode == "delete"
    assert sorted(p.name for p in at.parent.glob(at.name + "*")) == [at.name]
    conn = sqlite3.connect(at)
    rows = [(t, *r) for t in TABLES for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3")]
    conn.close()
    return rows, settings.values, count


def _beside_refuse_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The beside analysers raise if run in this process."""

    def refuse(self, store, case, settings):  # noqa: ANN001, ANN202
        raise AssertionError(f"{self.name} ran in this process")

    for analyser in analysers():
        if analyser.beside:
            monkeypatch.setattr(type(analyser), "run", refuse)


def test_beside_analysers_are_computed_in_the_second_process(
    before: tuple[Path, Case, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _stage(before, tmp_path / "alone.sqlite", parallel=False)
    assert {a.name for a in analysers() if a.beside} == {"gaps", "lexicon", "groups"}
    _beside_refuse_here(monkeypatch)
    beside = _stage(before, tmp_path / "beside.sqlite", parallel=True)
    assert beside == alone
    assert list(beside[1]) == list(alone[1])  # the settings' keys in the same order
    assert any(r[0] == "message_labels" and r[1] == "groups" for r in beside[0])
    assert any(r[0] == "findings" and r[2] == "gaps" for r in beside[0])


@pytest.mark.parametrize(
    "child",
    [
        "import sys; sys.exit(3)",  # stops at once
        # sends a frame for gaps that cannot be read, then ends
        "import sys; sys.stdout.buffer.write(bytes([7, 0, 0, 0, 0, 0, 0, 0]) + b'gaps\\nxx')",
        # reads the start of its job, then ends before sending anything
        "import sys; sys.stdin.buffer.read(8)",
    ],
)
def test_a_failed_second_process_leaves_the_same_store(
    before: tuple[Path, Case, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    child: str,
) -> None:
    beside = _stage(before, tmp_path / "beside.sqlite", parallel=True)
    monkeypatch.setattr(stage, "_CHILD", child)
    failed = _stage(before, tmp_path / "failed.sqlite", parallel=True)
    assert failed == beside
    # The same bytes: the same writes in the same order, in the same journal mode.
    assert (tmp_path / "failed.sqlite").read_bytes() == (tmp_path / "beside.sqlite").read_bytes()


def test_an_analyser_failing_in_the_second_process_fails_here_as_in_one_process(
    before: tuple[Path, Case, dict[str, Any]], tmp_path: Path
) -> None:
    # Lexicon cannot read its lexicon (a file that is not there), in either process.
    source, case, values = before
    bad = dataclasses.replace(case, lexicons=[tmp_path / "missing.yaml"])
    raised = []
    for parallel in (False, True):
        at = tmp_path / f"{parallel}.sqlite"
        shutil.copy(source, at)
        store = Store(sqlite3.connect(at), at)
        with pytest.raises(Exception) as failure:
            stage.run_analysers(store, bad, Settings(copy.deepcopy(values)), parallel=parallel)
        raised.append((type(failure.value), str(failure.value)))
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        store.close()
        assert not (tmp_path / f"{parallel}.sqlite-wal").exists()
    assert raised[0] == raised[1]


def test_a_small_case_is_analysed_in_one_process(
    before: tuple[Path, Case, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(stage._Beside, "start", lambda *a: started.append(a))
    alone = _stage(before, tmp_path / "alone.sqlite", parallel=False)
    default = _stage(before, tmp_path / "default.sqlite", parallel=None)
    assert default == alone and started == []
    # In one process the store never leaves its rollback journal: the same file as before.
    assert (tmp_path / "default.sqlite").read_bytes() == (tmp_path / "alone.sqlite").read_bytes()


def test_a_second_process_started_ahead_is_used_or_let_go(
    before: tuple[Path, Case, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _stage(before, tmp_path / "alone.sqlite", parallel=False)
    source, case, values = before
    shutil.copy(source, tmp_path / "ahead.sqlite")
    store = Store(sqlite3.connect(tmp_path / "ahead.sqlite"), tmp_path / "ahead.sqlite")
    monkeypatch.setattr(stage, "is_large", lambda store: True)
    monkeypatch.setattr(stage, "_second_core", lambda: True)
    second = stage.ahead(store)
    assert second is not None
    store.close()
    _beside_refuse_here(monkeypatch)
    started: list[object] = []
    monkeypatch.setattr(stage.SecondProcess, "start", lambda: started.append(1))
    # run_analysers is given the one started ahead and starts no other.
    real = stage.run_analysers
    monkeypatch.setattr(stage, "run_analysers", lambda *a, **k: real(*a, **{**k, "second": second}))
    assert _stage(before, tmp_path / "ahead.sqlite", parallel=None) == alone
    assert started == [] and second.child.returncode is not None
    # One not wanted (the stage in one process) is ended.
    monkeypatch.undo()
    idle = stage.SecondProcess.start()
    assert idle is not None
    monkeypatch.setattr(stage, "run_analysers", lambda *a, **k: real(*a, **{**k, "second": idle}))
    assert _stage(before, tmp_path / "idle.sqlite", parallel=False) == alone
    assert idle.child.returncode is not None


def test_a_large_case_on_one_core_writes_the_same_file(
    before: tuple[Path, Case, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stage, "PARALLEL_FROM", 1)
    beside = _stage(before, tmp_path / "beside.sqlite", parallel=None)
    monkeypatch.setattr(stage.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(stage.SecondProcess, "start", lambda: pytest.fail("started on one core"))
    one = _stage(before, tmp_path / "one.sqlite", parallel=None)
    assert one == beside
    assert (tmp_path / "one.sqlite").read_bytes() == (tmp_path / "beside.sqlite").read_bytes()


def test_a_failure_in_the_stage_is_the_one_raised(
    before: tuple[Path, Case, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the journal cannot be put back after it (the store stays in its log mode)."""

    def boom(self, store, case, settings):  # noqa: ANN001, ANN202
        raise RuntimeError("disk full while analysing")

    monkeypatch.setattr(type(analysers()[1]), "run", boom)
    monkeypatch.setattr(Store, "rollback_journal", lambda self: 1 / 0)
    source, case, values = before
    shutil.copy(source, tmp_path / "s.sqlite")
    store = Store(sqlite3.connect(tmp_path / "s.sqlite"), tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError, match="disk full"):
        stage.run_analysers(store, case, Settings(copy.deepcopy(values)), parallel=True)
    store.close()
