"""Reading related SQLite tables in one pass each, without loading them whole."""

from __future__ import annotations

import sqlite3
from typing import Any


class ChildRows:
    """Rows of a child table sorted by parent id, consumed parent by parent (a merge join).

    The cursor must yield rows whose first column is the parent id, in ascending order. Rows
    whose parent never comes up (a NULL parent, or a parent id that was skipped) are counted in
    ``orphans`` so the caller can report them.
    """

    def __init__(self, cursor: sqlite3.Cursor, columns: list[str] | None = None) -> None:
        self.cursor = cursor
        self.columns = columns or []
        self.pending: tuple[Any, ...] | None = next(cursor, None)
        self.orphans = 0

    def take(self, parent: int) -> list[tuple[Any, ...]]:
        """The rows of ``parent``; earlier rows not yet taken are counted as orphans."""
        out = []
        while self.pending is not None and (self.pending[0] is None or self.pending[0] < parent):
            self.orphans += 1
            self.pending = next(self.cursor, None)
        while self.pending is not None and self.pending[0] == parent:
            out.append(self.pending)
            self.pending = next(self.cursor, None)
        return out

    def finish(self) -> None:
        """Count whatever is left after the last parent as orphans."""
        while self.pending is not None:
            self.orphans += 1
            self.pending = next(self.cursor, None)
