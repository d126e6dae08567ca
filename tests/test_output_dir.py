"""Where a run writes, and what a failed run leaves: an output folder inside a source is refused
(exit 2, one line, nothing written), a crowded folder that is no earlier run is warned about, and
a run that fails after its report was written marks every page with why.

The evidence is a real AOSP mmssms.db (tests/test_analysers_support.py) read by the real parser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_analysers_duty import make_case
from triage.cli import main
from triage.report import rebuild_report


def test_out_inside_the_evidence_folder_is_refused(cli, tmp_path: Path) -> None:
    case = make_case(tmp_path)
    evidence = tmp_path / "evidence"
    before = sorted(p.name for p in evidence.iterdir())
    out = evidence / "report"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert line == (
        f"error: --out {out}: is inside the source evidence; nothing may be written into the "
        "evidence, choose an output folder outside every source"
    )
    assert not out.exists()
    assert sorted(p.name for p in evidence.iterdir()) == before


def test_out_beside_a_source_file_is_refused(cli, tmp_path: Path) -> None:
    case = make_case(tmp_path)
    text = case.read_text("utf-8").replace("  - evidence\n", "  - evidence/mmssms.db\n")
    case.write_text(text, "utf-8")
    out = tmp_path / "evidence"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "is the folder holding the source evidence/mmssms.db" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["mmssms.db"]


def test_crowded_folder_is_warned_about_but_an_earlier_run_is_not(cli, tmp_path: Path) -> None:
    case = make_case(tmp_path)
    out = tmp_path / "Documents"
    out.mkdir()
    for name in ("budget.xlsx", "index.html", "notes.txt", "photo.jpg"):
        (out / name).write_text("mine", "utf-8")
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert (
        f"warning: {out} is not empty and holds no earlier triage run (budget.xlsx, index.html, "
        "notes.txt and 1 more)"
    ) in flat
    # Run again into the same folder: it is now an earlier run, and nothing is said.
    again = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "is not empty" not in again.output
    # An empty or new folder: nothing is said either.
    fresh = cli.invoke(main, ["run", str(case), "--out", str(tmp_path / "new")])
    assert "is not empty" not in fresh.output


def _pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_run_failing_after_the_report_marks_every_page(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = make_case(tmp_path)
    out = tmp_path / "out"
    import triage.report as report_module

    real = report_module.report_from_store
    calls = []

    def write_then_tamper(store, folder):  # noqa: ANN001, ANN202 - wraps the real function
        index = real(store, folder)
        if not calls:  # the evidence changes once the report is written
            os.utime(tmp_path / "evidence" / "mmssms.db", ns=(1, 1))
        calls.append(folder)
        return index

    monkeypatch.setattr(report_module, "report_from_store", write_then_tamper)
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "evidence changed during the run" in result.output
    pages = _pages(out)
    assert len(pages) > 5
    for page in pages:
        html = page.read_text("utf-8")
        assert "This run failed; its results must not be used." in html, page
        assert "evidence changed during the run: evidence/mmssms.db: modification time" in html
    # The failure is in the store, so a rebuilt report says it too.
    monkeypatch.setattr(report_module, "report_from_store", real)
    rebuild_report(out)
    assert "This run failed" in (out / "index.html").read_text("utf-8")


def test_a_good_run_has_no_failure_banner(cli, tmp_path: Path) -> None:
    result = cli.invoke(main, ["run", str(make_case(tmp_path)), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert not any("This run failed" in p.read_text("utf-8") for p in _pages(tmp_path / "out"))


def test_run_stopping_before_its_report_marks_the_earlier_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.casefile import load_case
    from triage.roster import RosterError
    from triage.run import run_case
    from triage.store import Store

    case_path = make_case(tmp_path)
    out = tmp_path / "out"
    run_case(load_case(case_path), out)
    pages = _pages(out)
    assert pages and not any("This run failed" in p.read_text("utf-8") for p in pages)

    # Refused before anything is replaced: the earlier run's pages stay as they were.
    roster = tmp_path / "roster.csv"
    good = roster.read_text("utf-8")
    roster.write_text("start,end,type\n", "utf-8")
    with pytest.raises(RosterError):
        run_case(load_case(case_path), out)
    assert not any("This run failed" in p.read_text("utf-8") for p in _pages(out))
    roster.write_text(good, "utf-8")

    import triage.run as run_module

    def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - stands in for the analysers
        raise RuntimeError("disk full while analysing")

    monkeypatch.setattr(run_module, "run_analysers", boom)
    with pytest.raises(RuntimeError):
        run_case(load_case(case_path), out)
    for page in _pages(out):
        html = page.read_text("utf-8")
        assert html.count("This run failed; its results must not be used.") == 1, page
        assert "internal error: RuntimeError: disk full while analysing" in html, page
    assert "RuntimeError" in Store.open(out / "case.sqlite").meta()["run_failed"]
