"""The picture stage's and the analysers' imports and the report's templates prepared by a thread while the store's indexes
are built (triage.run._LaterStages): the report renders what that thread compiled, nothing is
forked while it runs, and what fails there fails where the stage does it, as before."""

from __future__ import annotations

import threading
from pathlib import Path

import jinja2
import pytest

import triage.media.stage as stage
import triage.run as run
from triage.casefile import load_case
from triage.report import report_from_store
from triage.report.writer import compile_templates, environment
from triage.store import Store


def test_the_report_renders_the_templates_compiled_ahead(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run.run_case(load_case(demo_case), tmp_path / "out", report=False)
    environment.cache_clear()  # a fresh environment: nothing compiled in it by earlier tests
    compile_templates()

    def compile_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template compiled again by the report")

    monkeypatch.setattr(jinja2.Environment, "compile", compile_again)
    store = Store.open(result.store_path)
    try:
        index = report_from_store(store, result.out)
    finally:
        store.close()
    assert index.is_file()
    assert len(list((result.out / "conversations").glob("*.html"))) > 3


def test_nothing_is_forked_while_the_thread_runs(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The picture stage may start a pool of processes: by then the thread has ended.
    seen: list[int] = []
    media = stage.run_media

    def counting(*args: object, **kwargs: object) -> object:
        seen.append(threading.active_count())
        return media(*args, **kwargs)

    monkeypatch.setattr(stage, "run_media", counting)
    slow = compile_templates

    def slow_compile() -> None:
        threading.Event().wait(0.3)  # still compiling when the indexes are built
        slow()

    monkeypatch.setattr("triage.report.writer.compile_templates", slow_compile)
    run.run_case(load_case(demo_case), tmp_path / "out")
    assert seen == [threading.active_count()] == [1]


def test_a_failure_in_the_thread_is_met_where_the_stage_meets_it(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("templates cannot be compiled")

    monkeypatch.setattr("triage.report.writer.compile_templates", broken)
    # The report compiles its templates itself, as it did before.
    result = run.run_case(load_case(demo_case), tmp_path / "one")
    assert result.report_path is not None and result.report_path.is_file()

    calls: list[str] = []

    def failing() -> list:
        calls.append(threading.current_thread().name)
        raise ValueError("an analyser module cannot be imported")

    monkeypatch.setattr(run, "analysers", failing)
    with pytest.raises(ValueError, match="cannot be imported"):
        run.run_case(load_case(demo_case), tmp_path / "two")
    # Raised by the stage in this thread; the thread's own attempt ended quietly before it.
    assert calls[-1] == threading.main_thread().name and len(calls) == 2
