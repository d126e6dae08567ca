"""``triage.xlsx``: the report's tables as one Excel workbook, for investigators who work in Excel.

One sheet per table: messages, findings, contacts, gaps, exhibits. Every sheet has a frozen,
filterable header row; times are real date cells (in the case timezone, the zone named in the
header; Excel cells carry no zone) beside the UTC text; counts are numbers.

The messages sheet is for working on the case: it lists every message with a case contact, and
the other messages in time order while the sheet holds fewer rows than the limit
``xlsx_message_rows`` (:mod:`triage.limits`; writing a spreadsheet row costs far more than a CSV
row). Its rows stay in time order; a closing row says how many messages are not listed, and
``messages.csv`` lists every message.

Evidence text is written as text cells only (``write_string``, with xlsxwriter's conversion of
strings to formulas, numbers and links switched off), so a message body such as ``=HYPERLINK(...)``
or ``+44 7700...`` is shown exactly as the source holds it and can never run as a formula. The
CSVs beside it guard the same cells with a leading apostrophe instead (a CSV has no cell types).
Rows of plain text, whole numbers and dates are written as the XML xlsxwriter itself would write
for them, without its calls per cell (``_Sheet._direct``); every other row goes through
xlsxwriter.

The workbook is a zip; its members carry xlsxwriter's fixed 1980 timestamps and the document's
"created" property is a fixed date, so two runs of the same case give the same bytes (the run's
own times are in the manifest). Its members are deflated at zlib's fastest level, not the
default 6 (:func:`_fast_deflate`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import xl_col_to_name

from triage.casefile import Case
from triage.limits import limit
from triage.model import parse_iso_utc
from triage.report.exports import (
    MESSAGE_COLUMNS,
    finding_devices,
    message_rows,
    message_runs,
    read_findings,
)
from triage.report.headlines import counterparty_text, roster_used
from triage.store import Finding, Store

WORKBOOK_NAME = "triage.xlsx"
# Excel's last row; a sheet that would pass it continues on "messages (2)" and so on.
MAX_ROWS = 1_048_576
# A fixed "created" date keeps the bytes of the file the same from run to run.
CREATED = dt.datetime(2000, 1, 1)
_OPTIONS = {
    "constant_memory": True,  # rows are streamed to disk: a million messages fit in little memory
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
_CONTACT = MESSAGE_COLUMNS.index("case_contact_key")
# Text xlsxwriter writes with changes (the patterns of its xmlwriter and utility modules): control
# characters and non-characters, markup characters (and the "<r>" of its rich strings), its own
# _xHHHH_ escapes; and text with leading or trailing whitespace (its ^\s and \s$ are what
# str.isspace() says of the first and last characters). Two patterns: one alternation of them all
# would be tried at every position of every text.
_MARKUP = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]")
_ESCAPE = re.compile("_x[0-9a-fA-F]{4}_")
# Longer text may pass its limit of 32,767 UTF-16 units, which it cuts.
_PLAIN_MOST = 32_767 // 2
# Text up to this long has its cell's XML kept (conversation, party, file and label texts repeat
# from row to row; bodies seldom), in at most this many entries at a time.
_KEPT_TEXT = 200
_KEPT_MOST = 100_000
# Whole numbers whose "%.16G" text (xlsxwriter's) is their digits.
_DIGITS_EXACT = 10**15
_NONE_KEPT = (False,)
# The runs of the messages sheet's row whose XML is kept (triage.report.exports.MESSAGE_RUNS).
_MESSAGE_KEPT = (False, True, False, True, False, True)


# The worksheet's internals the direct rows use: a release of xlsxwriter without any of them
# gets every row through its own calls (a test holds the two paths to the same bytes).
_WORKSHEET_INTERNALS = (
    "_write_single_row",
    "_convert_date_time",
    "fh",
    "dim_rowmin",
    "dim_rowmax",
    "dim_colmin",
    "dim_colmax",
    "constant_memory",
    "excel_version",
    "default_row_height",
    "original_row_height",
    "row_info",
    "col_info",
)


class _Sheet:
    """One table written row by row, continued on a new sheet past Excel's row limit."""

    def __init__(self, book: _Book, name: str, header: Sequence[str], widths: dict[str, int]):
        self.book, self.name, self.header, self.widths = book, name, list(header), widths
        self.part = 0
        self._new()

    def _new(self) -> None:
        self.part += 1
        name = self.name if self.part == 1 else f"{self.name} ({self.part})"
        self.ws = self.book.wb.add_worksheet(name)
        for col, title in enumerate(self.header):
            self.ws.set_column(col, col, self.widths.get(title, 16))
            self.ws.write_string(0, col, title, self.book.bold)
        self.ws.freeze_panes(1, 0)
        self.row = 1
        ws = self.ws
        # The rows are written as xlsxwriter would write them only where it would add nothing
        # to a plain cell: no column or row formats, default row heights, Excel 2007 rows.
        self.direct = (
            all(hasattr(ws, name) for name in _WORKSHEET_INTERNALS)
            and ws.constant_memory
            and ws.excel_version == 2007
            and ws.default_row_height == ws.original_row_height
            and not ws.row_info
            and all(info.column_format is None for info in ws.col_info.values())
        )
        # Whether xlsxwriter holds a row it has not written (the header, now), and the rows
        # written here but not yet out.
        self.pending = True
        self.written: list[str] = []
        # Each cell's XML up to its row number.
        self.starts = [f'<c r="{xl_col_to_name(col)}' for col in range(len(self.header))]
        # id of a run of cells -> (the run, its first column, the pieces of its XML between
        # row numbers)
        self.runs_kept: dict[int, tuple[Sequence[Any], int, list[str]]] = {}

    def add(self, values: Sequence[Any]) -> None:
        self.add_runs((values,), _NONE_KEPT)

    def add_runs(self, runs: Sequence[Sequence[Any]], kept: Sequence[bool]) -> None:
        """Add a row given as runs of consecutive cells. The XML of a run marked ``kept`` is
        made once per run object and joined with each row's number: the messages sheet hands
        the same tuple for each row of the same conversation and sender, file and labels."""
        if self.row >= MAX_ROWS:
            self._finish()
            self._new()
        row = self.row
        if self.direct and self._direct(row, runs, kept):
            self.row = row + 1
            return
        # xlsxwriter writes this row after those held, when a later row or the end comes.
        self._flush()
        self.pending = True
        ws, put = self.ws, self.book.put
        write_string, write_number = ws.write_string, ws.write_number
        # Most cells are text or whole numbers: those go straight to xlsxwriter's typed writers,
        # any other value through put.
        col = 0
        for run in runs:
            for value in run:
                kind = type(value)
                if kind is str:
                    if value:
                        write_string(row, col, value)
                elif kind is int:
                    write_number(row, col, value)
                else:
                    put(ws, row, col, value)
                col += 1
        self.row = row + 1

    def _direct(self, row: int, runs: Sequence[Sequence[Any]], kept: Sequence[bool]) -> bool:
        """Write one row's XML as xlsxwriter's constant_memory mode writes it, when every cell is
        plain text, a whole number, a date cell or empty; False, writing nothing, for a row with
        any other cell, which the caller writes through xlsxwriter. xlsxwriter's calls per cell
        cost about 150 us a row of the messages sheet, this about a tenth of it; a test holds
        the two to the same bytes."""
        starts = self.starts
        if sum(map(len, runs)) > len(starts):
            return False
        ws = self.ws
        if self.pending:
            # What xlsxwriter does on the first cell of a new row: the row it holds is written
            # out (first, as there: it gives the formats of its cells their numbers in order).
            ws._write_single_row(row)
            self.pending = False
        number = f"{row + 1}"
        end_of, runs_kept = self._end, self.runs_kept
        cells = []
        col = 0
        for run, keep in zip(runs, kept, strict=True):
            if keep:
                found = runs_kept.get(id(run))
                # (the run itself is kept beside its XML, so its id is not another's meanwhile;
                # its XML names its columns)
                if found is None or found[0] is not run or found[1] != col:
                    pieces = self._pieces(col, run)
                    if pieces is None:
                        return False
                    if len(runs_kept) > _KEPT_MOST:
                        runs_kept.clear()
                    found = runs_kept[id(run)] = (run, col, pieces)
                if found[2]:
                    cells.append(number.join(found[2]))
                col += len(run)
                continue
            for value in run:
                end = end_of(value)
                if end is None:
                    return False
                if end:
                    cells.append(f"{starts[col]}{number}{end}")
                col += 1
        if not cells:
            return True
        # xlsxwriter's _check_dimensions: the header row set the columns' (the row has no more
        # cells than the header), the rows' follow.
        if ws.dim_rowmin is None or row < ws.dim_rowmin:
            ws.dim_rowmin = row
        if ws.dim_rowmax is None or row > ws.dim_rowmax:
            ws.dim_rowmax = row
        written = self.written
        written.append(f'<row r="{number}">{"".join(cells)}</row>')
        if len(written) >= 100:
            self._flush()
        return True

    def _pieces(self, col: int, run: Sequence[Any]) -> list[str] | None:
        """The XML of the cells of ``run`` from column ``col`` as the pieces between their row
        numbers (none for a run of empty cells); None when a cell goes through xlsxwriter."""
        pieces: list[str] = []
        before = ""
        for at, value in enumerate(run, col):
            end = self._end(value)
            if end is None:
                return None
            if end:
                pieces.append(before + self.starts[at])
                before = end
        if pieces:
            pieces.append(before)
        return pieces

    def _end(self, value: Any) -> str | None:
        """A cell's XML after its row number, as xlsxwriter writes it: "" for an empty cell,
        None for a value xlsxwriter itself must write."""
        kind = type(value)
        if kind is str:
            if not value:
                return ""
            # The cell's XML after its row number, kept for text that repeats.
            texts = self.book.texts
            end = texts.get(value)
            if end is None:
                # What xlsxwriter writes unchanged: no control character, markup character,
                # _xHHHH_ escape or edge whitespace, and under its 32,767-unit limit.
                if (
                    len(value) > _PLAIN_MOST
                    or value[0].isspace()
                    or value[-1].isspace()
                    or _MARKUP.search(value)
                    or ("_x" in value and _ESCAPE.search(value))
                ):
                    return None
                end = f'" t="inlineStr"><is><t>{value}</t></is></c>'
                if len(value) <= _KEPT_TEXT:
                    if len(texts) > _KEPT_MOST:
                        texts.clear()
                    texts[value] = end
            return end
        if kind is int:
            # "%.16G" writes a whole number below 10**15 as its digits.
            if -_DIGITS_EXACT < value < _DIGITS_EXACT:
                return f'"><v>{value}</v></c>'
            return f'"><v>{value:.16G}</v></c>'
        if value is None:
            return ""
        if kind is dt.datetime and value.year >= 1900:
            return (
                f'" s="{self.book.when._get_xf_index()}">'
                f"<v>{self.ws._convert_date_time(value):.16G}</v></c>"
            )
        return None

    def _flush(self) -> None:
        """Write out the rows :meth:`_direct` holds (a write per hundred rows, not per row)."""
        if self.written:
            self.ws.fh.write("".join(self.written))
            self.written.clear()

    def _finish(self) -> None:
        self._flush()
        self.ws.autofilter(0, 0, max(self.row - 1, 0), len(self.header) - 1)

    def close(self) -> None:
        self._finish()


# zlib's level for the workbook's members: the messages sheet's XML (27 MB at 300,000 messages)
# deflated at level 1 takes 0.08 s of CPU instead of 0.26 s at the default 6, for a file of
# 2.9 MB instead of 2.3 MB.
DEFLATE_LEVEL = 1


class _FastZip(zipfile.ZipFile):
    """The ZipFile xlsxwriter writes the workbook with, at :data:`DEFLATE_LEVEL` unless told."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", DEFLATE_LEVEL)
        super().__init__(*args, **kwargs)


@contextlib.contextmanager
def _fast_deflate() -> Iterator[None]:
    """xlsxwriter deflates the members at :data:`DEFLATE_LEVEL` while this holds: it takes no
    level, so the ZipFile its workbook module names is the one replaced, and only when it is
    the standard library's (a release that zips another way is left as it is)."""
    module = xlsxwriter.workbook
    if getattr(module, "ZipFile", None) is not zipfile.ZipFile:
        yield
        return
    module.ZipFile = _FastZip  # type: ignore[attr-defined, misc]
    try:
        yield
    finally:
        module.ZipFile = zipfile.ZipFile  # type: ignore[attr-defined, misc]


class _Book:
    def __init__(self, path: Path) -> None:
        self.wb = xlsxwriter.Workbook(str(path), _OPTIONS)
        self.bold = self.wb.add_format({"bold": True})
        self.when = self.wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.day = self.wb.add_format({"num_format": "yyyy-mm-dd"})
        # text -> its cell's XML after the row number, for every sheet (_Sheet._direct)
        self.texts: dict[str, str] = {}

    def put(self, ws: Any, row: int, col: int, value: Any) -> None:
        # Any value but exact text and whole numbers, which _Sheet.add writes itself.
        if value is None or value == "":
            return
        if isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, int | float):
            ws.write_number(row, col, value)
        elif isinstance(value, dt.datetime):
            if value.year < 1900:  # before Excel's calendar: kept as text
                ws.write_string(row, col, value.isoformat(sep=" "))
            else:
                ws.write_datetime(row, col, value, self.when)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, value, self.day)
        else:
            ws.write_string(row, col, str(value))


class Workbook:
    """The workbook being written. Its messages sheet takes the rows of
    :func:`triage.report.exports.message_rows` it :meth:`wants` one by one, so the one pass
    that writes ``messages.csv`` fills it too; :meth:`close` writes the other sheets."""

    def __init__(self, store: Store, case: Case, path: Path) -> None:
        self.store, self.case = store, case
        self.book = _Book(path)
        self.book.wb.set_properties(
            {
                "title": f"{case.reference}: triage tables",
                "subject": "Messages, findings, contacts, gaps and exhibits from the case store",
                "comments": f"Times in {case.timezone} unless a column says UTC",
                "created": CREATED,
            }
        )
        self.local = _Local(ZoneInfo(case.timezone))
        header = [
            f"timestamp_local ({case.timezone})" if c == "timestamp_local" else c
            for c in MESSAGE_COLUMNS
        ]
        self.sheet = _Sheet(
            self.book, "messages", header, {"body": 60, header[2]: 20, "timestamp_utc": 22}
        )
        self.most = limit("xlsx_message_rows")
        self.listed = 0
        self.unlisted = 0

    def wants(self, case_contact_key: str) -> bool:
        """Whether the sheet lists the next message in time order: every message with a case
        contact, and the others while the sheet holds fewer rows than the limit (those left
        out are counted for the sheet's closing row)."""
        if case_contact_key or self.listed < self.most:
            return True
        self.unlisted += 1
        return False

    def message(self, runs: tuple[tuple[Any, ...], ...]) -> None:
        """Add the row of a message the sheet :meth:`wants`, in its runs of columns
        (:data:`triage.report.exports.MESSAGE_RUNS`; the repeating runs' XML is made once)."""
        first = runs[0]
        self.sheet.add_runs(((first[0], first[1], self.local(first[1])), *runs[1:]), _MESSAGE_KEPT)
        self.listed += 1

    def _closing_row(self) -> None:
        n = self.unlisted
        if not n:
            return
        self.sheet.add(
            [None, None, None, None, None, None, None, None, None, None, None, None, None, None,
             f"... {n:,} {'message is' if n == 1 else 'messages are'} not listed here (limit "
             f"TRIAGE_LIMIT_XLSX_MESSAGE_ROWS={self.most:,}): every message with a case contact "
             "is listed, and the others in time order up to the limit; messages.csv lists every "
             "message"]
        )  # fmt: skip

    def close(self, findings: Sequence[Finding] | None = None) -> None:
        """Write the other sheets (from ``findings`` when the caller has read the store's) and
        the file."""
        self._closing_row()
        self.sheet.close()
        store, book, local = self.store, self.book, self.local
        findings = read_findings(store, findings)
        _table(book, "findings", *_findings(store, findings))
        _table(book, "contacts", *_contacts(findings, self.case, local))
        _table(book, "gaps", *_gaps(findings, local))
        _table(book, "exhibits", *_exhibits(findings, self.case, local))
        with _fast_deflate():
            book.wb.close()


def write_workbook(store: Store, case: Case, path: Path) -> None:
    """Write the workbook of the case store's tables to ``path``."""
    book = Workbook(store, case, path)
    for row in message_rows(store, case):
        if book.wants(row[_CONTACT]):
            book.message(message_runs(row))
    book.close()


def _table(
    book: _Book, name: str, header: list[str], rows: Iterable[Sequence[Any]], wide: str = ""
) -> None:
    sheet = _Sheet(book, name, header, {wide: 60} if wide else {})
    for row in rows:
        sheet.add(row)
    sheet.close()


class _Local:
    """UTC text -> a naive local datetime in the case zone (what an Excel date cell holds)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def __call__(self, utc: Any) -> dt.datetime | None:
        if not isinstance(utc, str) or not utc:
            return None
        try:
            when = parse_iso_utc(utc)
        except ValueError:
            return None
        if when is None:
            return None
        return when.astimezone(self.zone).replace(tzinfo=None)


def _findings(
    store: Store, findings: Sequence[Finding]
) -> tuple[list[str], Iterator[list[Any]], str]:
    devices = finding_devices(store, findings)
    header = [
        "finding_id", "analyser", "rule", "subject", "title", "why", "weight", "message_ids",
        "devices",
    ]  # fmt: skip
    rows = (
        [
            f.id,
            f.analyser,
            f.rule,
            f.subject,
            f.title,
            f.why,
            f.weight,
            " ".join(str(r) for r in f.refs),
            "; ".join(d["label"] for d in devices.get(f.id, [])),
        ]
        for f in findings
    )
    return header, rows, "why"


def _contacts(
    findings: Sequence[Finding], case: Case, local: _Local
) -> tuple[list[str], Iterator[list[Any]], str]:
    header = [
        "contact_key",
        "name",
        "role",
        "identifiers",
        "messages",
        "sent_by_device_owner",
        "received",
        "platforms",
        f"first ({case.timezone})",
        f"last ({case.timezone})",
        "outside_rostered_duty",
        "sent_by_device_owner_outside_duty",
        "summary",
    ]
    by_subject: dict[tuple[str, str | None], Finding] = {}
    for f in findings:
        by_subject.setdefault((f.rule, f.subject), f)

    def rows() -> Iterator[list[Any]]:
        for c in case.contacts:
            summary = by_subject.get(("contact.summary", c.key))
            duty = by_subject.get(("duty.contact-split", c.key))
            s = summary.data if summary else {}
            counts = s.get("counts") or {}
            d = duty.data if duty else {}
            no_roster = bool(duty) and not roster_used(d)
            yield [
                c.key,
                c.name,
                c.role,
                "; ".join(f"{i.kind}: {i.value}" for i in c.identifiers)
                + "".join(f"; alias: {a}" for a in c.aliases),
                s.get("message_count", 0 if summary or duty else None),
                counts.get("outgoing"),
                counts.get("incoming"),
                ", ".join(s.get("platforms") or []),
                local(s.get("first_utc")),
                local(s.get("last_utc")),
                "no roster" if no_roster else d.get("outside_duty"),
                "no roster" if no_roster else d.get("outgoing_outside_duty"),
                summary.why if summary else "",
            ]

    return header, rows(), "summary"


def _gaps(findings: Sequence[Finding], local: _Local) -> tuple[list[str], Iterator[list[Any]], str]:
    header = [
        "finding_id",
        "conversation",
        "case_contact_key",
        "strength",
        "ids_missing_at_least",
        "missing_from",
        "missing_to",
        "file",
        "table",
        "id_column",
        "after (local)",
        "before (local)",
        "window_start_utc",
        "window_end_utc",
        "why",
    ]
    rows = (
        [
            f.id,
            f.subject,
            f.data.get("contact_key"),
            f.data.get("strength"),
            f.data.get("missing_min"),
            f.data.get("missing_from"),
            f.data.get("missing_to"),
            f.data.get("file"),
            f.data.get("table"),
            f.data.get("id_column"),
            local(f.data.get("window_start_utc")),
            local(f.data.get("window_end_utc")),
            f.data.get("window_start_utc"),
            f.data.get("window_end_utc"),
            f.why,
        ]
        for f in findings
        if f.rule == "gap.id"
    )
    return header, rows, "why"


def _exhibits(
    findings: Sequence[Finding], case: Case, local: _Local
) -> tuple[list[str], Iterator[list[Any]], str]:
    names = {c.key: c.name for c in case.contacts}
    header = [
        "finding_id",
        "exhibit_id",
        "description",
        "band",
        "method",
        "distance",
        "orientation",
        "file",
        "sha256",
        "message_id",
        "sent_or_received (local)",
        "timestamp_utc",
        "direction",
        "platform",
        "with",
        "duty_status",
        "why",
    ]

    def rows() -> Iterator[list[Any]]:
        for f in findings:
            if f.rule != "exhibit.match":
                continue
            d = f.data
            base = [
                f.id,
                d.get("exhibit_id") or f.subject,
                d.get("exhibit_description"),
                d.get("band"),
                d.get("method"),
                d.get("distance"),
                d.get("orientation"),
                d.get("file"),
                d.get("sha256"),
            ]
            messages = [m for m in d.get("messages") or [] if isinstance(m, dict)]
            # One row per message that carried the picture; one row when none did.
            for m in messages or [{}]:
                yield [
                    *base,
                    m.get("message_id"),
                    local(m.get("timestamp_utc")),
                    m.get("timestamp_utc"),
                    m.get("direction"),
                    m.get("platform"),
                    counterparty_text(m, names) if m else None,
                    m.get("duty_status"),
                    f.why,
                ]

    return header, rows(), "why"
