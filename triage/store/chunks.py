"""Values bound to a SQL ``IN (...)`` list, a slice at a time.

SQLite caps the host parameters of one statement (999 before 3.32.0,
https://www.sqlite.org/limits.html#max_variable_number), so every store query that looks up a
list of ids or keys binds them in slices of :data:`CHUNK`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

CHUNK = 500

T = TypeVar("T")


def in_chunks(values: Sequence[T]) -> Iterator[tuple[Sequence[T], str]]:
    """Each slice of ``values``, in order, with the ``?,?,...`` marks of its ``IN`` list."""
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        yield chunk, ",".join("?" * len(chunk))
