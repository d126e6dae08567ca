"""Reading around the damage in a malformed SQLite database.

A seized phone's database can hold a corrupt page in the middle of a table. SQLite then stops a
full scan at that page ("database disk image is malformed"), and a parser reading the table gets
the rows before it and nothing after. Every row that sits on a sound page can still be reached by
rowid: a lookup descends the b-tree to one leaf, so ``rowid >= N`` past the damaged range works.

When ``PRAGMA quick_check`` finds a problem, :func:`salvage` copies the database into a fresh one
table by table (schema as declared, so AUTOINCREMENT and ``sqlite_sequence`` are kept), each rowid
table in rowid ranges around the damage, and records exactly what could not be read. Parsers then
read the salvaged copy like any other database; the damage is reported with the source.

Indexes and triggers are not copied (an index is derived data, and a trigger would fire while the
copy is written: Samsung's ``mmssms.db`` mirrors ``sms`` into ``messages`` by trigger).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from triage.limits import limit

# SQLite's own error text can hold bytes from the damaged file; Python then fails to decode the
# message itself and raises UnicodeDecodeError instead of DatabaseError.
SQLITE_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)
_LOWEST = -(2**63)
_HIGHEST = 2**63 - 1


@dataclass
class Salvage:
    """What a salvage copy holds and what it could not read."""

    check: str
    rows: dict[str, int] = field(default_factory=dict)
    #: One line per loss, naming the table and the rowids or rows that could not be read.
    lost: list[str] = field(default_factory=list)


def lenient_text(data: bytes) -> str:
    """SQLite TEXT as str; bytes that are not UTF-8 are replaced (U+FFFD) instead of ending the
    query, as text files are read (``triage.evidence.read_text``)."""
    return data.decode("utf-8", errors="replace")


def quick_check(conn: sqlite3.Connection) -> str | None:
    """``None`` when the database passes ``PRAGMA quick_check``, else its first complaint."""
    conn.text_factory = lenient_text
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except UnicodeDecodeError:
        return "malformed (SQLite's own message about it is not readable text)"
    except sqlite3.DatabaseError as exc:
        return str(exc)
    if rows and rows[0][0] == "ok":
        return None
    return str(rows[0][0]) if rows else "quick_check returned nothing"


def salvage(src: Path, dst: Path, check: str) -> Salvage:
    """Copy every readable row of ``src`` into a new database at ``dst``."""
    report = Salvage(check=check)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    source.text_factory = lenient_text
    target = sqlite3.connect(dst)
    try:
        schema = source.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view') "
            "ORDER BY rowid"
        ).fetchall()
        virtual = [n for t, n, sql in schema if t == "table" and _is_virtual(sql)]
        for kind, name, sql in schema:
            if kind != "table" or name.startswith("sqlite_") or not sql:
                continue
            if name in virtual or any(name.startswith(v + "_") for v in virtual):
                report.lost.append(f"{name}: virtual table (or its storage) not copied")
                continue
            try:
                target.execute(sql)
            except SQLITE_ERRORS as exc:
                report.lost.append(f"{name}: table could not be recreated ({exc})")
                continue
            _copy_table(source, target, name, report)
        _copy_sequence(source, target, report)
        for kind, name, sql in schema:
            if kind == "view" and sql:
                try:
                    target.execute(sql)
                except SQLITE_ERRORS as exc:
                    report.lost.append(f"{name}: view could not be recreated ({exc})")
        target.commit()
    finally:
        source.close()
        target.close()
    return report


def _copy_sequence(source: sqlite3.Connection, target: sqlite3.Connection, report: Salvage) -> None:
    """AUTOINCREMENT high-water marks: deletion analysis reads them from ``sqlite_sequence``."""
    try:
        rows = source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
    except sqlite3.OperationalError:
        return  # no AUTOINCREMENT table
    except SQLITE_ERRORS as exc:
        report.lost.append(f"sqlite_sequence: could not be read ({exc})")
        return
    try:
        target.execute("DELETE FROM sqlite_sequence")
        target.executemany("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", rows)
    except sqlite3.OperationalError as exc:
        report.lost.append(f"sqlite_sequence: could not be copied ({exc})")


def _is_virtual(sql: str | None) -> bool:
    return bool(sql) and sql.lstrip().upper().startswith("CREATE VIRTUAL")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_table(
    source: sqlite3.Connection, target: sqlite3.Connection, table: str, report: Salvage
) -> None:
    columns = [r[1] for r in source.execute(f"PRAGMA table_info({_quoted(table)})")]
    names = ", ".join(_quoted(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    has_rowid = _has_rowid(source, table)
    if not has_rowid:
        _copy_scan(source, target, table, names, marks, report)
        return
    insert = f"INSERT INTO {_quoted(table)} (_rowid_, {names}) VALUES (?, {marks})"
    select = f"SELECT _rowid_, {names} FROM {_quoted(table)} WHERE _rowid_ >= ? ORDER BY _rowid_"
    one = f"SELECT _rowid_, {names} FROM {_quoted(table)} WHERE _rowid_ = ?"
    last = _LOWEST
    copied = ranges = 0
    while True:
        try:
            for row in source.execute(select, (last + 1,)):
                target.execute(insert, row)
                last = row[0]
                copied += 1
            break
        except SQLITE_ERRORS as exc:
            error = exc
        # The scan stopped near ``last`` (the cursor reads one row ahead): step row by row to
        # the damage, where a lookup itself fails, then find the first sound rowid after it.
        for _ in range(8):
            ok, rowid = _first_from(source, table, last + 1)
            if not ok or rowid is None:
                break
            try:
                row = source.execute(one, (rowid,)).fetchone()
            except SQLITE_ERRORS as exc:
                report.lost.append(f"{table}: row rowid {rowid} could not be read ({exc})")
            else:
                target.execute(insert, row)
                copied += 1
            last = rowid
        else:
            continue  # past it: back to the fast scan
        if ok and rowid is None:
            break  # nothing after the last row read
        ranges += 1
        resume = _next_readable(source, table, last + 1)
        start = "the first row" if last == _LOWEST else f"rowid {last + 1}"
        if resume is None:
            report.lost.append(f"{table}: rows from {start} on could not be read ({error})")
            break
        report.lost.append(
            f"{table}: rows from {start} to rowid {resume - 1} could not be read ({error})"
        )
        last = resume - 1
        if ranges >= limit("damaged_ranges"):
            report.lost.append(f"{table}: more than {ranges} damaged ranges; the rest not read")
            break
    report.rows[table] = copied


def _copy_scan(
    source: sqlite3.Connection,
    target: sqlite3.Connection,
    table: str,
    names: str,
    marks: str,
    report: Salvage,
) -> None:
    """A WITHOUT ROWID table has no rowid to read around damage: rows up to it are kept."""
    copied = 0
    try:
        for row in source.execute(f"SELECT {names} FROM {_quoted(table)}"):
            target.execute(f"INSERT INTO {_quoted(table)} ({names}) VALUES ({marks})", row)
            copied += 1
    except SQLITE_ERRORS as exc:
        report.lost.append(f"{table}: rows after the first {copied} could not be read ({exc})")
    report.rows[table] = copied


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    try:
        conn.execute(f"SELECT _rowid_ FROM {_quoted(table)} LIMIT 0")
    except sqlite3.OperationalError:
        return False
    return True


def _first_from(conn: sqlite3.Connection, table: str, start: int) -> tuple[bool, int | None]:
    """(readable, first rowid >= start): whether the leaf holding ``start`` can be read."""
    try:
        row = conn.execute(
            f"SELECT _rowid_ FROM {_quoted(table)} WHERE _rowid_ >= ? ORDER BY _rowid_ LIMIT 1",
            (start,),
        ).fetchone()
    except SQLITE_ERRORS:
        return False, None
    return True, (row[0] if row else None)


def _next_readable(conn: sqlite3.Connection, table: str, base: int) -> int | None:
    """The first readable rowid at or after ``base``, where lookups from ``base`` fail; ``None``
    when no row after the damage can be read."""
    step = 1
    while base + step <= _HIGHEST:  # gallop forward until a lookup succeeds
        if _first_from(conn, table, base + step)[0]:
            break
        step *= 2
    else:
        return None
    low, high = base, base + step  # lookups from ``low`` fail, from ``high`` succeed
    while high - low > 1:
        middle = (low + high) // 2
        if _first_from(conn, table, middle)[0]:
            high = middle
        else:
            low = middle
    return _first_from(conn, table, high)[1]
