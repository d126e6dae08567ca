"""The cyclic collector is held off while a source is stored and while the report is written
(:mod:`triage.collector`), is back on afterwards, and the outputs are the same as with it on."""

from __future__ import annotations

import gc
import hashlib
from pathlib import Path

import pytest

import triage.report.writer
from triage.casefile import load_case
from triage.collector import collector_paused
from triage.run import run_case
from triage.store import Store


def test_paused_inside_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: still off, and the outer block turns it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_left_off_when_the_caller_had_it_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def _outputs(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_off_while_reading_and_writing_the_report_same_outputs(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, bool] = {}
    plain_write = triage.report.writer.Report.write

    def write(self):  # noqa: ANN001, ANN202
        seen["report"] = gc.isenabled()
        return plain_write(self)

    monkeypatch.setattr(triage.report.writer.Report, "write", write)
    run_case(load_case(demo_case), tmp_path / "paused")
    assert seen == {"report": False}
    assert gc.isenabled()
    # With the pause made a no-op, every output is the same.
    monkeypatch.setattr("triage.collector.gc.disable", lambda: None)
    run_case(load_case(demo_case), tmp_path / "running")
    assert seen == {"report": True}
    assert _outputs(tmp_path / "paused") == _outputs(tmp_path / "running")


def test_off_while_a_source_is_stored(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "case.sqlite")
    source = store.add_source("x.db", "0" * 64, 1, "test", "1", None)
    seen: list[bool] = []

    def records():  # noqa: ANN202
        seen.append(gc.isenabled())
        yield from ()

    store.ingest(source, records())
    store.close()
    assert seen == [False]
    assert gc.isenabled()
