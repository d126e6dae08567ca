"""The analysers' labels the pages show on each message (duty status, night, case contact),
looked up by message id in one compact table.

A bubble and a search row each asked three dicts of every labelled message (300,000 entries
each at 300,000 messages) for its labels: between pages, those dicts had left the processor's
caches, and the lookups were about a third of the search rows' CPU time. Here each message id
indexes one byte (or two) naming the combination of its labels, :attr:`Marks.kinds` holding the
combinations (a few dozen), so a message costs one lookup in a table a few hundred kilobytes
long.
"""

from __future__ import annotations

from array import array
from itertools import repeat
from operator import add, mul
from typing import Any


class Marks:
    """``codes[mid]`` (for ``mid < end``; 0 beyond) is the index in ``kinds`` of the message's
    ``(status, night, contact)``: its duty status (``None`` without one), whether it is at night
    and its case contact's key (``""`` without one), as the labels hold them."""

    def __init__(
        self,
        status: tuple[int, list[Any]],
        night: tuple[int, list[Any]],
        contact: dict[int, Any],
    ) -> None:
        """``status`` and ``night`` as :meth:`triage.store.Store.label_column` gives them (the
        value of each id from the first on), ``contact`` by message id."""
        self.end = 1 + max(
            status[0] + len(status[1]) - 1,
            night[0] + len(night[1]) - 1,
            max(contact, default=0),
            0,
        )
        status_of, night_of = _by_id(status, self.end), _by_id(night, self.end)
        statuses = [None, *sorted(set(status[1]) - {None}, key=repr)]
        contacts = ["", *sorted(set(contact.values()) - {""}, key=repr)]
        status_code = {value: n for n, value in enumerate(statuses)}
        contact_code = {value: n for n, value in enumerate(contacts)}
        step = len(statuses)
        # code = status + step * night + 2 * step * contact, made by C loops over every id.
        codes = list(
            map(
                add,
                map(status_code.__getitem__, status_of),
                map(mul, map(bool, night_of), repeat(step)),
            )
        )
        for mid, value in contact.items():
            codes[mid] += 2 * step * contact_code[value]
        self.codes = array("B" if 2 * step * len(contacts) <= 256 else "I", codes)
        self.kinds: list[tuple[Any, bool, Any]] = [
            (statuses[code % step], bool(code // step % 2), contacts[code // (2 * step)])
            for code in range(2 * step * len(contacts))
        ]


def _by_id(column: tuple[int, list[Any]], end: int) -> list[Any]:
    """A label's values from id ``first`` on made the value of each id below ``end``."""
    first, values = column
    return [None] * first + values + [None] * (end - first - len(values))
