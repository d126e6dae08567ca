"""Values bound a slice at a time: to a SQL ``IN (...)`` list, or as the rows of one insert.

SQLite caps the host parameters of one statement (999 before 3.32.0,
https://www.sqlite.org/limits.html#max_variable_number), so every store query that looks up a
list of ids or keys binds them in slices of :data:`CHUNK`, and a narrow table's rows are
inserted :data:`ROWS_PER_INSERT` at a time (:func:`insert_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

CHUNK = 500
#: Rows of a narrow table inserted by one statement (times its width, within the cap).
ROWS_PER_INSERT = 100

T = TypeVar("T")


def in_chunks(values: Sequence[T]) -> Iterator[tuple[Sequence[T], str]]:
    """Each slice of ``values``, in order, with the ``?,?,...`` marks of its ``IN`` list."""
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        yield chunk, ",".join("?" * len(chunk))


def insert_rows(insert: str, width: int, flat: list[Any]) -> list[tuple[str, list[Any]]]:
    """(statement, parameter sets) inserting, in order, the rows whose ``width`` values follow
    each other in ``flat``: :data:`ROWS_PER_INSERT` rows by one statement
    (``insert VALUES (?,?),(?,?)...``), the rest one a statement. For a row of a few numbers,
    what the sqlite3 module and SQLite do per statement run (a reset, a step, the interpreter
    lock let go and taken back) costs more than binding its values: 345,000 recipients rows
    took 0.28 s one a statement, 0.13 s a hundred at a time. The rows, their order and so the
    file written are the same."""
    one = "(" + ",".join("?" * width) + ")"
    span = width * ROWS_PER_INSERT
    whole = len(flat) // span * span
    return [
        (
            f"{insert} VALUES {','.join([one] * ROWS_PER_INSERT)}",
            [flat[start : start + span] for start in range(0, whole, span)],
        ),
        (
            f"{insert} VALUES {one}",
            [flat[start : start + width] for start in range(whole, len(flat), width)],
        ),
    ]
