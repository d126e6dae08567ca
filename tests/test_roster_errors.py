"""A roster given but unreadable stops `triage run` with one line naming file, line and field
(exit 2); what is read but doubtful (a type in capitals, overlapping periods) is reported; and
without any roster the report says "no roster", never "0 of N".

The evidence is a real AOSP mmssms.db (tests/test_analysers_support.py) read by the real parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_analysers_duty import ROSTER, ROWS, make_case
from tests.test_analysers_support import run
from triage.cli import main

GOOD = ROSTER.splitlines()


def _with_row(line: str, at: int = 3) -> str:
    rows = list(GOOD)
    rows[at - 1] = line
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        (
            _with_row("2026-03-28 19:00,2026-03-29 05:00,dutty"),
            "roster.csv line 3: type: 'dutty' is not one of duty, rest, leave, sick, training",
        ),
        (
            _with_row("2026-03-28 19:00,2026-03-28 24:00,duty"),
            "roster.csv line 3: end: '2026-03-28 24:00' is not a local time written "
            "YYYY-MM-DD HH:MM",
        ),
        (
            _with_row("2026-03-28 19:00,2026-03-28 05:00,duty"),
            "roster.csv line 3: end: 2026-03-28 05:00 is not after the start 2026-03-28 19:00",
        ),
        (
            _with_row("2026-03-28 19:00,2026-03-29 05:00"),
            "roster.csv line 3: type: missing (the row has 2 of 3 columns)",
        ),
        (
            _with_row("2026-03-28 19:00,2026-03-29 05:00,duty,extra"),
            "roster.csv line 3: the row has 4 columns, the header 3",
        ),
        (
            "start,finish,type\n" + "\n".join(GOOD[1:]) + "\n",
            "roster.csv line 1: header: expected the columns start,end,type "
            "(found start,finish,type)",
        ),
        ("start,end,type\n", "roster.csv: no periods (the roster has a header and no rows)"),
    ],
)
def test_unreadable_roster_csv_is_a_case_file_error(
    cli, tmp_path: Path, csv_text: str, message: str
) -> None:
    case = make_case(tmp_path)
    (tmp_path / "roster.csv").write_text(csv_text, "utf-8")
    out = tmp_path / "out"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == f"error: {message}"
    assert "Traceback" not in result.output
    # Refused before anything was read or written.
    assert not (out / "case.sqlite").exists()


def test_mistyped_shift_pattern_names_the_case_file_line(cli, tmp_path: Path) -> None:
    case = make_case(tmp_path, roster=False)
    text = case.read_text("utf-8").replace(
        "sources:", "roster:\n  pattern: 4on4of\n  anchor: 2026-03-01\nsources:"
    )
    case.write_text(text, "utf-8")
    line = text.splitlines().index("  pattern: 4on4of") + 1
    result = cli.invoke(main, ["run", str(case), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(
        f"error: case.yaml line {line}: roster.pattern: no shift pattern '4on4of' (known: "
    )
    assert "4on4off" in last


def test_wrong_case_type_and_overlaps_are_reported(cli, tmp_path: Path) -> None:
    case = make_case(tmp_path)
    rows = list(GOOD)
    rows[2] = "2026-03-28 19:00,2026-03-29 05:00,Duty"
    # A second shift inside the first night shift, and a leave day overlapping a rest day; the
    # night shift running into the rest day of 29 March is what rosters hold and not reported.
    rows.append("2026-03-28 22:00,2026-03-29 02:00,duty")
    rows.append("2026-03-29 12:00,2026-03-30 00:00,leave")
    (tmp_path / "roster.csv").write_text("\n".join(rows) + "\n", "utf-8")
    r = run(case, tmp_path / "out")
    finding = r.one("duty.roster")
    notes = finding.data["notes"]
    assert notes == [
        "roster.csv line 3: type 'Duty' read as 'duty'",
        "roster.csv line 3 (duty 2026-03-28 19:00 to 2026-03-29 05:00) overlaps roster.csv "
        "line 9 (duty 2026-03-28 22:00 to 2026-03-29 02:00); duty is used where they overlap",
        "roster.csv line 4 (rest 2026-03-29 00:00 to 2026-03-30 00:00) overlaps roster.csv "
        "line 10 (leave 2026-03-29 12:00 to 2026-03-30 00:00); leave is used where they overlap",
    ]
    assert "The roster was read with 3 doubts: roster.csv line 3: type 'Duty'" in finding.why
    warnings = [w for w in r.store.warnings() if w["category"] == "doubtful roster entry"]
    assert warnings and warnings[0]["file"] == "roster.csv" and warnings[0]["count"] == 3
    method = (tmp_path / "out" / "method.html").read_text("utf-8")
    assert "type &#39;Duty&#39; read as &#39;duty&#39;" in method
    # The run still classifies with the roster it read.
    assert finding.data["status_counts"]["on_duty"] > 0


def test_demo_roster_has_no_doubts(tmp_path: Path) -> None:
    """The demo's night shifts run into rest and leave days: an overlap rosters always hold."""
    from tests.conftest import DEMO
    from triage.casefile import load_case
    from triage.roster import check_roster

    assert check_roster(load_case(DEMO / "case.yaml")) == []


def test_without_a_roster_the_report_says_no_roster(tmp_path: Path) -> None:
    r = run(make_case(tmp_path, roster=False), tmp_path / "out")
    total = sum(1 for row, _, _ in ROWS if row.address != "+447700900777")
    assert r.one("duty.contact-split", "contact-1").data["total"] == total
    index = (tmp_path / "out" / "index.html").read_text("utf-8")
    row = index.split('id="row-contact-1"', 1)[1].split("</tr>", 1)[0]
    assert "no roster" in row
    assert f"0 of {total}" not in row
    contact = (tmp_path / "out" / "contacts" / "contact-1.html").read_text("utf-8")
    assert "no roster given" in contact
    assert f"0 of {total} outside" not in contact
