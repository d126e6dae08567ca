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
        self, status: dict[int, Any], night: dict[int, Any], contact: dict[int, Any]
    ) -> None:
        self.end = 1 + max(max(status, default=0), max(night, default=0), max(contact, default=0))
        ids = range(self.end)
        statuses = [None, *sorted(set(status.values()) - {None}, key=repr)]
        contacts = ["", *sorted(set(contact.values()) - {""}, key=repr)]
        status_code = {value: n for n, value in enumerate(statuses)}
        contact_code = {value: n for n, value in enumerate(contacts)}
        step = len(statuses)
        # code = status + step * night + 2 * step * contact, made by C loops over every id.
        codes = list(
            map(
                add,
                map(status_code.__getitem__, map(status.get, ids)),
                map(mul, map(bool, map(night.get, ids)), repeat(step)),
            )
        )
        for mid, value in contact.items():
            codes[mid] += 2 * step * contact_code[value]
        self.codes = array("B" if 2 * step * len(contacts) <= 256 else "I", codes)
        self.kinds: list[tuple[Any, bool, Any]] = [
            (statuses[code % step], bool(code // step % 2), contacts[code // (2 * step)])
            for code in range(2 * step * len(contacts))
        ]
