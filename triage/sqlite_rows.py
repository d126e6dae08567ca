"""Reading SQLite rows: related tables in one pass each, and one bad row never ends a table."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from triage.reasons import describe

if TYPE_CHECKING:
    from triage.registry import ParseContext

SKIPPED = "bad record skipped"


class RecordGuard:
    """Contains an error to the one record being read, in every SQLite parser's row loop.

    A value of the wrong type (text in a numeric column), an integer out of any date's range or
    an unexpected NULL must cost that record only: it is skipped, counted with its locator under
    ``"bad record skipped"``, and the table is read on::

        guard = RecordGuard(ctx, file.logical)
        for row in conn.execute(...):
            with guard(f"sms._id={row[0]}"):
                ...
                yield message

    Only ``Exception`` is contained: a generator being closed (``GeneratorExit``) or an
    interrupt passes through.
    """

    def __init__(self, ctx: ParseContext, file: str) -> None:
        self.ctx = ctx
        self.file = file
        self.locator = ""
        self.skipped = 0

    def __call__(self, locator: str) -> RecordGuard:
        self.locator = locator
        return self

    def __enter__(self) -> RecordGuard:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        self.skip(self.locator, exc)
        return True

    def skip(self, locator: str, exc: Exception) -> None:
        """Count and report one skipped record: for a loop that catches the error itself (a
        ``try`` costs nothing per row where entering and leaving the guard costs three calls)."""
        self.skipped += 1
        self.ctx.warn(self.file, SKIPPED, f"{locator}: {describe(exc)}")


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


def utf8_rows(conn: sqlite3.Connection, query: str, size: int = 256) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query`` as ``conn`` gives them, for a large table read once.

    The evidence's connections decode text by a text factory that replaces bytes that are not
    UTF-8 (:func:`triage.sqlite_salvage.lenient_text`): a Python call per value, about 3,200
    instructions of a WhatsApp message row's two texts. Here rows are taken ``size`` at a time
    with the sqlite3 module's own strict decoding, and the connection's factory is put back
    before any is given, so whatever the caller reads meanwhile is read as before. From the
    first run of rows with a text that is not UTF-8 (or any other error taking them), the rest
    of the query is read again with the connection's factory from that run on (``OFFSET``):
    the same rows, decoded as the factory decodes them, and an error that was not about the
    text raised again after the rows before it, where the query would have raised it."""
    return itertools.chain.from_iterable(_utf8_runs(conn, query, size))


def _utf8_runs(
    conn: sqlite3.Connection, query: str, size: int
) -> Iterator[Sequence[tuple[Any, ...]]]:
    factory = conn.text_factory
    cursor = conn.execute(query)
    taken = 0
    while True:
        conn.text_factory = str
        try:
            rows = cursor.fetchmany(size)
        except (sqlite3.Error, UnicodeDecodeError):
            break
        finally:
            conn.text_factory = factory
        if not rows:
            return
        taken += len(rows)
        yield rows
    # Row by row, as the query itself gives them: up to an error, every row before it.
    for row in conn.execute(f"{query} LIMIT -1 OFFSET {taken}"):
        yield (row,)
