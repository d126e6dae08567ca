"""A parse worker's offer to read a source's main table in two processes.

The parse worker (:mod:`triage.parse_worker`) reads a large source in a child process. A parser
whose records come mostly from one table read in row id order (WhatsApp for Android's
``message``) can take its offer, :attr:`triage.registry.ParseContext.halves`, at the point
where that table's rows are about to be read, before it has yielded any record: it works out
everything that does not depend on the rows (chats, parties, side tables), picks a middle row id
and calls :meth:`TableHalves.split`, which forks. This process then reads the rows before the
middle and ends its part of the source there (:data:`FIRST`); the fork reads the rows from the
middle on and everything the source has after them (:data:`SECOND`). The worker stores the
first part's records, then the second's, so the store is written as from one process, and adds
what each part recorded in its context (warnings, decisions, counts) in that order, as one pass
records them (the fork records from the split on in a context of its own).

The rule of what one pass would give stays with the worker: it takes the second part only when
the first ended without an error (a parse that stopped early stops there) and the second without
one too; otherwise the source is read again in the worker's parent (see ``read_batches``).
"""

from __future__ import annotations

from collections.abc import Callable

#: What :meth:`TableHalves.split` gives the process that reads the rows before the middle.
FIRST = "first"
#: What it gives the fork, which reads the rows from the middle on and the rest of the source.
SECOND = "second"
#: From this many rows the table is worth a second process (about what the parse worker starts
#: from, 8 MiB of WhatsApp ``message``): what the fork does besides its half, mostly its scan of
#: the ids before the middle, is about 0.04 s at 300,000 rows.
SPLIT_FROM = 40_000


class TableHalves:
    """The offer, made by the parse worker: ``fork`` forks and says which side this is."""

    def __init__(self, fork: Callable[[], str | None]) -> None:
        self._fork = fork
        #: :data:`FIRST`, :data:`SECOND`, or ``None`` until split (and when no fork could be had).
        self.side: str | None = None

    def split(self) -> str | None:
        """Fork (once): :data:`FIRST` in this process, :data:`SECOND` in the fork; ``None`` when
        no process could be had (this one then reads the whole table)."""
        if self.side is None:
            self.side = self._fork()
        return self.side

    @property
    def source_continues(self) -> bool:
        """Whether this process's part ends before the source does (the first part): the checks
        made when a source ends (:func:`triage.ingest.parse_detection`) are the second part's."""
        return self.side == FIRST
