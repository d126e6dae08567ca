"""triage.sqlite_rows.utf8_rows: the rows a connection's text factory gives, whatever the text."""

from __future__ import annotations

import sqlite3

import pytest

from triage.sqlite_rows import utf8_rows
from triage.sqlite_salvage import lenient_text


@pytest.mark.parametrize("bad", [[], [0], [6], [7], [8], [13, 14], [49]])
@pytest.mark.parametrize("size", [1, 7, 256])
def test_utf8_rows_as_the_factory_gives_them(bad: list[int], size: int) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t(_id INTEGER PRIMARY KEY, a TEXT, b)")
    conn.executemany(
        "INSERT INTO t VALUES (?, CAST(? AS TEXT), ?)",
        [(i, (b"bad\xff%d" if i in bad else b"ok %d") % i, i) for i in range(50)],
    )
    conn.text_factory = lenient_text
    query = "SELECT _id, a, b FROM t ORDER BY _id"
    rows = list(utf8_rows(conn, query, size))
    assert rows == list(conn.execute(query))
    assert [r[1] for r in rows if "\ufffd" in r[1]] == [f"bad\ufffd{i}" for i in bad]
    # Whatever the caller reads between rows is read with the connection's own factory.
    assert conn.text_factory is lenient_text


def test_utf8_rows_error_after_the_rows_before_it() -> None:
    # An error that is not about text (here a function failing at one row) comes after every
    # row before it, as from the query itself.
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t(_id INTEGER PRIMARY KEY, a TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"ok {i}") for i in range(20)])

    def boom(value: int) -> int:
        if value == 9:
            raise ValueError("row 9")
        return value

    conn.create_function("boom", 1, boom)
    conn.text_factory = lenient_text
    query = "SELECT _id, a, boom(_id) FROM t ORDER BY _id"
    want: list[tuple] = []
    with pytest.raises(sqlite3.OperationalError) as raised:
        want.extend(conn.execute(query))
    assert want and len(want) < 9
    for size in (1, 4, 256):
        got: list[tuple] = []
        with pytest.raises(sqlite3.OperationalError) as again:
            got.extend(utf8_rows(conn, query, size))
        assert got == want and str(again.value) == str(raised.value)
