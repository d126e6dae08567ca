"""The store's IN-list slices (triage.store.chunks): every value bound once, in order, each
slice under SQLite's host-parameter limit."""

import sqlite3

from triage.store.chunks import CHUNK, in_chunks


def test_slices_cover_every_value_in_order_with_their_marks() -> None:
    values = list(range(2 * CHUNK + 201))
    slices = list(in_chunks(values))
    assert [len(chunk) for chunk, _ in slices] == [CHUNK, CHUNK, 201]
    assert [v for chunk, _ in slices for v in chunk] == values
    assert all(marks == ",".join("?" * len(chunk)) for chunk, marks in slices)
    assert list(in_chunks([])) == []


def test_a_lookup_of_more_ids_than_sqlite_binds_at_once_finds_them_all() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", ((n, f"v{n}") for n in range(5000)))
    wanted = list(range(0, 5000, 2))  # 2,500 ids: more than one statement may bind
    found = {}
    for chunk, marks in in_chunks(wanted):
        found.update(conn.execute(f"SELECT id, v FROM t WHERE id IN ({marks})", chunk))
    assert found == {n: f"v{n}" for n in wanted}
