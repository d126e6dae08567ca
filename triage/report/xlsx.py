"""A streaming writer of XLSX workbooks (Office Open XML SpreadsheetML), for large tables.

A general library builds an object per cell and checks every call; a messages sheet has millions
of cells, so this writes each row as one piece of XML instead. It writes only what the report's
workbook needs: text as inline strings, numbers, booleans, date and date-time cells, a bold
header row, column widths, a frozen header and an autofilter per sheet, document properties.

The parts and their meaning are those of ECMA-376 Part 1 (SpreadsheetML: ``workbook``,
``worksheet``, ``sheetData``, ``c`` with ``t="inlineStr"``/``"b"``, ``styleSheet``, ``cellXfs``,
``definedName _xlnm._FilterDatabase``) and Part 2 (Open Packaging Conventions: content types and
relationships), https://ecma-international.org/publications-and-standards/standards/ecma-376/.
Text follows the ST_Xstring rules: control characters, which XML 1.0 cannot hold, are written
as ``_xHHHH_`` and a literal ``_xHHHH_`` gets its underscore escaped (``_x005F_``), as Excel does;
a cell holds at most 32,767 UTF-16 units ("Excel specifications and limits",
https://support.microsoft.com/en-us/office/excel-specifications-and-limits-1672b34d-7043-467e-8e27-269d656771c3).
Dates are serial days from 1899-12-31, counting Excel's 29 February 1900.

Every zip member carries the same fixed time, so the same tables give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

MAX_TEXT = 32_767
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_EPOCH = dt.datetime(1899, 12, 31)
_SPECIAL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("([\x00-\x08\x0b-\x1f])")
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
# Style indexes of cellXfs below: 0 plain, 1 bold (headers), 2 date-time, 3 date.
BOLD, DATETIME, DATE = 1, 2, 3
_SELECTED = ' tabSelected="1"'
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}"><numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def column_name(index: int) -> str:
    """``A`` for 0, ``Z`` for 25, ``AA`` for 26..."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xml_text(value: str) -> str:
    """``value`` as element text: ST_Xstring escapes, then ``&``, ``<`` and ``>``."""
    if not _SPECIAL.search(value):
        return value
    value = _LITERAL_ESCAPE.sub(r"_x005F\1", value)
    value = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)
    value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    return xml_text(value).replace('"', "&quot;")


def truncated(text: str) -> str:
    """``text`` cut to what one cell holds (UTF-16 units; a character above U+FFFF is two)."""
    if len(text) <= MAX_TEXT // 2:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_TEXT:
            return text[:index]
    return text


def excel_serial(value: dt.datetime | dt.date) -> float:
    """Serial day number of a naive date or date-time (the 1900 date system)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromordinal(value.toordinal())
    delta = value.replace(tzinfo=None) - _EPOCH
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86_400
    return serial + 1 if serial > 59 else serial


def _string_cell(ref: str, text: str, style: int = 0) -> str:
    text = truncated(text)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>'


def cell(ref: str, value: Any) -> str:
    """One cell's XML; empty for ``None`` and ``""`` (no cell is written)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return _string_cell(ref, value)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return _string_cell(ref, str(value))  # a cell cannot hold NaN or infinity
        return f'<c r="{ref}"><v>{value:.16G}</v></c>'
    if isinstance(value, dt.datetime):
        if value.year < 1900:  # before Excel's calendar: kept as text
            return _string_cell(ref, value.isoformat(sep=" "))
        return f'<c r="{ref}" s="{DATETIME}"><v>{excel_serial(value):.16G}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{DATE}"><v>{excel_serial(value):.16G}</v></c>'
    return _string_cell(ref, str(value))


def _width(characters: float) -> float:
    """A column width in characters as the file stores it (maximum digit width 7 pixels,
    5 pixels of padding, in 1/256ths)."""
    return int((int(characters * 7 + 0.5) + 5) / 7 * 256) / 256


class Sheet:
    """One worksheet: a bold header row, then rows streamed to a temporary file."""

    def __init__(self, book: Workbook, name: str, header: Sequence[str], widths: list[float]):
        self.book, self.name, self.widths = book, name, widths
        self.width = len(header)
        self.columns = [column_name(i) for i in range(max(self.width, 1))]
        self.rows = 0
        self.last_column = 0
        self._data: IO[bytes] = tempfile.TemporaryFile(dir=book.path.parent)
        self._pending: list[str] = []
        self.add(header, BOLD)

    def add(self, values: Sequence[Any], style: int = 0) -> None:
        self.rows += 1
        n = self.rows
        columns = self.columns
        if len(values) > len(columns):
            columns.extend(column_name(i) for i in range(len(columns), len(values)))
            self.last_column = len(values) - 1
        cells = []
        special = _SPECIAL.search
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            if style:
                cells.append(_string_cell(f"{columns[i]}{n}", str(v), style))
            elif type(v) is str:
                # Most text needs no escape, no cut and no preserved space: written as it is.
                if len(v) <= MAX_TEXT // 2 and not (
                    special(v) or v[0].isspace() or v[-1].isspace()
                ):
                    cells.append(f'<c r="{columns[i]}{n}" t="inlineStr"><is><t>{v}</t></is></c>')
                else:
                    cells.append(_string_cell(f"{columns[i]}{n}", v))
            elif type(v) is int:
                cells.append(f'<c r="{columns[i]}{n}"><v>{v:.16G}</v></c>')
            else:
                cells.append(cell(f"{columns[i]}{n}", v))
        self._pending.append(f'<row r="{n}">{"".join(cells)}</row>')
        if len(self._pending) >= 2000:
            self._flush()

    def _flush(self) -> None:
        self._data.write("".join(self._pending).encode("utf-8"))
        self._pending = []

    @property
    def filter_range(self) -> str:
        return f"A1:{column_name(max(self.width, 1) - 1)}{max(self.rows, 1)}"

    def write_to(self, archive: zipfile.ZipFile, member: str, selected: bool) -> None:
        self._flush()
        last = max(self.last_column, self.width - 1, 0)
        cols = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{_width(w):.16g}" customWidth="1"/>'
            for i, w in enumerate(self.widths)
        )
        head = (
            f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
            f'<dimension ref="A1:{column_name(last)}{max(self.rows, 1)}"/>'
            f'<sheetViews><sheetView{_SELECTED if selected else ""} workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + "<sheetData>"
        )
        tail = (
            f'</sheetData><autoFilter ref="{self.filter_range}"/>'
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
            ' footer="0.3"/></worksheet>'
        )
        size = self._data.tell()
        self._data.seek(0)
        info = _member(member)
        with archive.open(info, "w", force_zip64=size > 1 << 30) as out:
            out.write(head.encode("utf-8"))
            shutil.copyfileobj(self._data, out, 1 << 20)
            out.write(tail.encode("utf-8"))
        self._data.close()


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


class Workbook:
    """Sheets in the order added; :meth:`close` writes the file."""

    def __init__(self, path: Path, properties: dict[str, str], created: dt.datetime) -> None:
        self.path = Path(path)
        self.properties = properties
        self.created = created
        self.sheets: list[Sheet] = []

    def add_sheet(self, name: str, header: Sequence[str], widths: list[float]) -> Sheet:
        sheet = Sheet(self, name, header, widths)
        self.sheets.append(sheet)
        return sheet

    def close(self) -> None:
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_member("[Content_Types].xml"), self._content_types())
            archive.writestr(_member("_rels/.rels"), self._package_rels())
            archive.writestr(_member("docProps/app.xml"), self._app())
            archive.writestr(_member("docProps/core.xml"), self._core())
            archive.writestr(_member("xl/_rels/workbook.xml.rels"), self._workbook_rels())
            archive.writestr(_member("xl/styles.xml"), _DECLARATION + _STYLES)
            archive.writestr(_member("xl/workbook.xml"), self._workbook())
            for n, sheet in enumerate(self.sheets, 1):
                sheet.write_to(archive, f"xl/worksheets/sheet{n}.xml", selected=n == 1)

    def _content_types(self) -> str:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml"'
            f' ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
            for n in range(1, len(self.sheets) + 1)
        )
        return (
            f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/docProps/app.xml" ContentType='
            f'"{_CT}.extended-properties+xml"/><Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType='
            f'"{_CT}.spreadsheetml.sheet.main+xml"/>{sheets}</Types>'
        )

    def _package_rels(self) -> str:
        return (
            f'{_DECLARATION}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'
        )

    def _workbook_rels(self) -> str:
        rels = "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(self.sheets) + 1)
        )
        styles = len(self.sheets) + 1
        return (
            f'{_DECLARATION}<Relationships xmlns="{_PKG_REL}">{rels}'
            f'<Relationship Id="rId{styles}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>"
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f'<sheet name="{_attribute(s.name)}" sheetId="{n}" r:id="rId{n}"/>'
            for n, s in enumerate(self.sheets, 1)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{xml_text(_absolute(s.name, s.filter_range))}</definedName>"
            for n, s in enumerate(self.sheets)
        )
        return (
            f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095"'
            f' windowHeight="9660"/></bookViews><sheets>{sheets}</sheets>'
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )

    def _app(self) -> str:
        titles = "".join(f"<vt:lpstr>{xml_text(s.name)}</vt:lpstr>" for s in self.sheets)
        count = len(self.sheets)
        return (
            f'{_DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
            '2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/'
            'officeDocument/2006/docPropsVTypes"><Application>triage</Application>'
            '<DocSecurity>0</DocSecurity><HeadingPairs><vt:vector size="2" baseType="variant">'
            "<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant>"
            f"<vt:i4>{count}</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts>"
            f'<vt:vector size="{count}" baseType="lpstr">{titles}</vt:vector></TitlesOfParts>'
            "</Properties>"
        )

    def _core(self) -> str:
        when = self.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        p = {k: xml_text(v) for k, v in self.properties.items()}
        return (
            f'{_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/'
            'dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{p.get('title', '')}</dc:title>"
            f"<dc:subject>{p.get('subject', '')}</dc:subject>"
            f"<dc:description>{p.get('comments', '')}</dc:description>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
            "</cp:coreProperties>"
        )


def _absolute(sheet: str, ref: str) -> str:
    """``sheet!$A$1:$X$9``, the sheet name quoted when it is not a plain word."""
    start, end = ref.split(":")
    split = re.compile(r"([A-Z]+)(\d+)")
    a, b = split.fullmatch(start), split.fullmatch(end)
    assert a is not None and b is not None
    name = sheet if re.fullmatch(r"\w+", sheet) else "'" + sheet.replace("'", "''") + "'"
    return f"{name}!${a.group(1)}${a.group(2)}:${b.group(1)}${b.group(2)}"
