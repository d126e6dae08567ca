"""The exports written by a second process are the files the report writes in-process, and a
failure there stops the report with a message naming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.casefile import case_from_data
from triage.report.export_job import Exports, ExportsFailed
from triage.store import Store

EXPORTS = (
    "findings.json",
    "messages.csv",
    "triage.xlsx",
    "calls.csv",
    "findings.csv",
    "chronology.csv",
    "group_members.csv",
    "lexicon_hits.csv",
    "pictures.csv",
)


def _open(demo_run: Path, tmp_path: Path) -> Store:
    copy = tmp_path / "case.sqlite"
    shutil.copyfile(demo_run / "case.sqlite", copy)
    return Store.open(copy)


def test_exports_from_a_second_process_are_the_same_bytes(demo_run: Path, tmp_path: Path) -> None:
    store = _open(demo_run, tmp_path)
    case = case_from_data(store.meta()["case"])
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    try:
        Exports(store, case, here, parallel=False).finish()
        second = Exports(store, case, there, parallel=True)
        assert second._child is not None  # the second process was started
        second.finish()
    finally:
        store.close()
    for name in EXPORTS:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
        # ... and the run's own exports, written in-process for a case this small.
        assert (here / name).read_bytes() == (demo_run / name).read_bytes(), name


def test_a_failure_in_the_second_process_is_raised_with_what_failed(
    demo_run: Path, tmp_path: Path
) -> None:
    store = _open(demo_run, tmp_path)
    case = case_from_data(store.meta()["case"])
    out = tmp_path / "out"
    (out / "messages.csv").mkdir(parents=True)  # the export cannot be written
    try:
        exports = Exports(store, case, out, parallel=True)
        with pytest.raises(ExportsFailed) as failed:
            exports.finish()
    finally:
        store.close()
    message = str(failed.value)
    assert "IsADirectoryError" in message and "messages.csv" in message
    assert "\n" not in message


def test_exports_from_findings_read_once_are_those_read_each_time(
    demo_run: Path, tmp_path: Path
) -> None:
    """write_exports reads the findings once and hands them to every export made from them;
    each writes what it writes when it reads the store itself."""
    from triage.report import chronology
    from triage.report.exports import (
        write_calls_csv,
        write_findings_csv,
        write_findings_json,
        write_group_members_csv,
    )
    from triage.report.workbook import write_workbook

    store = _open(demo_run, tmp_path)
    case = case_from_data(store.meta()["case"])
    each, once = tmp_path / "each", tmp_path / "once"
    each.mkdir()
    once.mkdir()
    try:
        findings = store.findings()
        assert {f.analyser for f in findings} >= {"chronology", "groups", "gaps", "duty"}
        write_findings_json(store, each / "findings.json")
        write_calls_csv(store, each / "calls.csv", case)
        write_findings_csv(store, each / "findings.csv")
        chronology.write_chronology_csv(store, each / "chronology.csv")
        write_group_members_csv(store, each / "group_members.csv")
        write_workbook(store, case, each / "triage.xlsx")
        Exports(store, case, once, parallel=False).finish()
    finally:
        store.close()
    for name in (
        "findings.json",
        "calls.csv",
        "findings.csv",
        "chronology.csv",
        "group_members.csv",
        "triage.xlsx",
    ):
        assert (each / name).stat().st_size > 0, name
        assert (each / name).read_bytes() == (once / name).read_bytes(), name
