"""``sqlite_master`` read from the file, and what each table's columns may hold.

The schema table is the table b-tree rooted at page 1 with columns ``type``, ``name``,
``tbl_name``, ``rootpage``, ``sql`` (https://www.sqlite.org/fileformat2.html, section 2.6).
Column declarations are read by letting SQLite compile the stored ``CREATE TABLE`` text in an
empty in-memory database (only that text, never the evidence) and asking ``PRAGMA table_info``.

Column affinity follows "Datatypes In SQLite" section 3.1 (https://www.sqlite.org/datatype3.html):
a declared type containing INT is INTEGER; CHAR, CLOB or TEXT is TEXT; BLOB or no type is BLOB;
REAL, FLOA or DOUB is REAL; anything else NUMERIC. A column declared exactly ``INTEGER PRIMARY
KEY`` in a rowid table is an alias of the rowid and is stored as NULL in the record.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from triage.sqlitefile.image import DatabaseImage
from triage.sqlitefile.record import Corrupt, decode_record


@dataclass(frozen=True, slots=True)
class SchemaEntry:
    type: str
    name: str
    tbl_name: str
    rootpage: int
    sql: str | None


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    declared: str
    affinity: str
    not_null: bool
    rowid_alias: bool


def affinity(declared: str) -> str:
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if "BLOB" in t or not t:
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


def read_schema(image: DatabaseImage) -> list[SchemaEntry]:
    """Every ``sqlite_master`` row the file holds now (rows that do not decode are skipped)."""
    out = []
    for _page, cell in image.table_cells(1):
        payload, complete = image.payload(image.page(_page), cell)
        if not complete:
            continue
        try:
            values = decode_record(payload, image.encoding)
        except (Corrupt, IndexError):
            continue
        if len(values) < 5 or not isinstance(values[1], str):
            continue
        root = values[3] if isinstance(values[3], int) else 0
        out.append(SchemaEntry(str(values[0]), values[1], str(values[2]), root, values[4]))
    return out


_WITHOUT_ROWID = re.compile(r"\)\s*WITHOUT\s+ROWID\s*;?\s*$", re.IGNORECASE)


def table_columns(sql: str) -> tuple[list[Column], bool] | None:
    """Columns of a ``CREATE TABLE`` statement and whether it is a rowid table; ``None`` when the
    statement is not an ordinary table SQLite can compile on its own (virtual tables, say)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(sql)
        name = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchone()
        if name is None:
            return None
        info = conn.execute(f'PRAGMA table_info("{name[0]}")').fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    rowid_table = not _WITHOUT_ROWID.search(sql)
    pk_cols = [row for row in info if row[5]]
    columns = []
    for _cid, cname, ctype, notnull, _default, pk in info:
        alias = (
            rowid_table
            and bool(pk)
            and len(pk_cols) == 1
            and (ctype or "").strip().upper() == "INTEGER"
        )
        columns.append(Column(cname, ctype or "", affinity(ctype or ""), bool(notnull), alias))
    return columns, rowid_table
