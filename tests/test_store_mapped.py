"""The analysers read the store through a memory map (``Store.mapped``): what they write is the
same, byte for byte, as when every page is read by copying it, and the map is gone by the report."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import triage.store
from triage.analysers.contacts import ContactsAnalyser
from triage.casefile import load_case
from triage.run import run_case
from triage.store import Store


def _outputs(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def _run_watching(case: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run ``case`` into ``out``; the mmap size in force when contacts ran, then at the report."""
    seen: list[int] = []
    plain = ContactsAnalyser.run

    def watched(self, store, case, settings):  # noqa: ANN001, ANN202
        seen.append(store.conn.execute("PRAGMA mmap_size").fetchone()[0])
        return plain(self, store, case, settings)

    def report(store: Store, out: Path) -> Path:
        seen.append(store.conn.execute("PRAGMA mmap_size").fetchone()[0])
        return reporting(store, out)

    import triage.report

    reporting = triage.report.report_from_store
    monkeypatch.setattr(ContactsAnalyser, "run", watched)
    monkeypatch.setattr(triage.report, "report_from_store", report)
    run_case(load_case(case), out)
    monkeypatch.undo()
    return seen


def test_mapped_analysers_write_the_same_bytes(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapped = _run_watching(demo_case, tmp_path / "mapped", monkeypatch)
    assert mapped == [triage.store.MAPPED_BYTES, 0]
    monkeypatch.setattr(triage.store, "MAPPED_BYTES", 0)
    copied = _run_watching(demo_case, tmp_path / "copied", monkeypatch)
    assert copied == [0, 0]
    first, second = _outputs(tmp_path / "mapped"), _outputs(tmp_path / "copied")
    assert "case.sqlite" in first and "findings.json" in first
    assert first == second


def test_the_map_is_dropped_when_the_block_fails(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "case.sqlite")
    with pytest.raises(RuntimeError), store.mapped(2**20):
        assert store.conn.execute("PRAGMA mmap_size").fetchone()[0] == 2**20
        raise RuntimeError("an analyser failed")
    assert store.conn.execute("PRAGMA mmap_size").fetchone()[0] == 0
    store.close()
