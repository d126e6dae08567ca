"""Facts about a SQLite database's own bookkeeping that deletion analysis needs."""

from __future__ import annotations

import re
import sqlite3

_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)


def is_autoincrement(conn: sqlite3.Connection, table: str) -> bool:
    """True when ``table`` was created with AUTOINCREMENT (read from ``sqlite_master.sql``)."""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)
    ).fetchone()
    return bool(row and row[0] and _AUTOINCREMENT.search(row[0]))


def sequence_value(conn: sqlite3.Connection, table: str) -> int | None:
    """``sqlite_sequence.seq`` for ``table``, the highest id ever handed out, if recorded."""
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name=?", (table,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row and row[0] is not None else None


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
