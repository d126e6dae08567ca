"""A batch of records prepared for the store, and the texts of a message's time.

A row of ``messages`` is five store ids (the message's own, its source's, its conversation's,
its sender's and its file's), given in the order messages are stored by the one process that
writes the store, then what the message says itself: its locator, ``extra`` as JSON, its wall
time in the case zone and its scalar columns (:data:`triage.store.codec.MESSAGE_SCALARS`).

:meth:`MessageCells.prepare` turns a batch of records into a :class:`Prepared`: the objects its
messages share by value (recipient lists, files) and its records other than messages, each
once; and per record in order either a message's plain values (its locator, its scalar fields
but its time, its ``extra`` as JSON, its time as bytes) with the places of those objects and
its conversation and sender themselves, or the place of the other record. It needs nothing of
the store, so the parse worker (:mod:`triage.parse_worker`) runs it in the process beside the
store and sends the values as a :mod:`marshal` (text, numbers and containers of them), the
objects as a pickle; a source read in the store's process is prepared there, by the same code.
At 300,000 WhatsApp messages, sending the messages themselves (their datetimes, dicts and
provenance tuples, a pickle memo entry for each value) and building them again took about 2.5 s
of CPU time between the two processes.

A message's conversation and sender are objects the parser shares between its messages: they
cross in that pickle as two columns of the objects themselves, which the pickle's memo writes
once each and names by reference after (in C, at about a fifth of what placing them by identity
in Python cost the parse worker); the store, which takes each one's id once per batch, finds it
by identity there.
"""

from __future__ import annotations

import datetime as dt
import itertools
import marshal
import operator
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from triage.model import Message, Record
from triage.store.codec import (
    MESSAGE_RAW_NAMES,
    RAW_CELL_ENCODERS,
    _utc_text,
    dumps_each,
    raw_cell_source,
)


def _values_source() -> str:
    """Source of a function giving the values of each of a list of messages: its locator, then
    its MESSAGE_RAW_NAMES fields as their columns take them (:func:`raw_cell_source`), so the
    store makes a row by putting its own values in front of them, with no work per field.
    Written out once: the interpreter's attribute loads of a known slot cost about two thirds
    of what an attrgetter's lookups do (0.10 -> 0.07 s at 100,000 messages)."""
    fields = ", ".join(raw_cell_source(name, f"r.{name}") for name in MESSAGE_RAW_NAMES)
    return f"def values(messages):\n    return [(r.source.locator, {fields}) for r in messages]\n"


_namespace: dict[str, Any] = dict(RAW_CELL_ENCODERS)
exec(_values_source(), _namespace)  # noqa: S102 - our own generated code, no input
_values = _namespace["values"]
#: Where a field is in a prepared message's values.
VALUE = {name: 1 + n for n, name in enumerate(MESSAGE_RAW_NAMES)}
#: Where its locator is.
VALUE_LOCATOR = 0
# The seconds of a time as its texts end, ":SS" and ":SSZ", made once rather than per message.
_SECONDS = tuple(f":{n:02d}" for n in range(60))
_SECONDS_Z = tuple(f"{text}Z" for text in _SECONDS)
# A time in UTC crosses as its datetime's pickle state (see MessageCells.instant): year (two
# bytes), month (its top bit the fold), day, hour, minute, second, microsecond (three bytes).
# Its first six bytes name its minute; those from 1970 to 2106 take the cache of minutes, as
# POSIX times of 0 to 2**32 s did when they crossed as floats (any other from its datetime).
_MINUTE_BYTES = 6
_FIRST_MINUTE, _END_MINUTE = 0, 2**32
# The milliseconds of a time as its UTC text ends, ".mmmZ", made once rather than per message.
_MILLIS_Z = tuple(f".{n:03d}Z" for n in range(1000))
# Minutes kept in the cache of times before it is emptied (about 140 days of minutes).
_CACHED_MINUTES = 200_000


class MessageCells:
    """Batches prepared for the store, and the texts of times in one case zone (with a cache
    per UTC minute: zones change on whole minutes)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._minutes: dict[int, tuple[str, str]] = {}
        # The same texts by the first bytes of a time's state; None for a minute out of range.
        self._states: dict[bytes, tuple[str, str] | None] = {}

    def forget(self) -> None:
        """Let go of the cache of times (about 300,000 entries no later stage reads)."""
        self._minutes, self._states = {}, {}

    def times(self, when: dt.datetime | None) -> tuple[str | None, str | None]:
        """The UTC text (:func:`triage.model.iso_utc`) and the wall time in the case zone of one
        time."""
        return self.texts(self.instant(when))

    def instant(self, when: dt.datetime | None) -> bytes | tuple[str | None, str | None] | None:
        """A time as :meth:`texts` takes it: one in ``datetime.UTC`` as the bytes of its pickle
        state (``__reduce__``: exact, crosses to another process as a marshal, and takes half
        the instructions of its POSIX time, which ``timestamp`` works out in integers of any
        size), any other as its texts; ``None`` for none."""
        if when is None:
            return None
        if when.tzinfo is dt.UTC:
            return when.__reduce__()[1][0]
        return self._texts_of(when)

    def texts(
        self, instant: bytes | tuple[str | None, str | None] | None
    ) -> tuple[str | None, str | None]:
        """The UTC text and the local wall time of a time given by :meth:`instant`."""
        if type(instant) is not bytes:
            return (None, None) if instant is None else instant  # type: ignore[return-value]
        key = instant[:_MINUTE_BYTES]
        base = self._states.get(key, _UNSEEN)
        if base is _UNSEEN:
            base = self._state_minute(key)
        if base is None:
            return self._texts_of(_from_state(instant))
        second = instant[6]
        if instant[7] or instant[8] or instant[9]:
            micro = instant[7] << 16 | instant[8] << 8 | instant[9]
            return base[0] + _SECONDS[second] + _MILLIS_Z[micro // 1000], base[1] + _SECONDS[second]
        return base[0] + _SECONDS_Z[second], base[1] + _SECONDS[second]

    def _state_minute(self, key: bytes) -> tuple[str, str] | None:
        """The texts of the minute a time's state starts with, cached; ``None`` out of range."""
        if len(self._states) > _CACHED_MINUTES:
            self._states.clear()
        start = _from_state(key + bytes(4))
        minute = int(start.timestamp())
        base = self._states[key] = (
            self._minute(minute) if _FIRST_MINUTE <= minute < _END_MINUTE else None
        )
        return base

    def _texts_of(self, when: dt.datetime) -> tuple[str | None, str | None]:
        """The texts of a time outside the cache of minutes, worked out from the time itself."""
        stamp = int(when.timestamp())
        second = stamp % 60
        return _utc_text(when), self._minute(stamp - second)[1] + _SECONDS[second]

    def _minute(self, minute: int) -> tuple[str, str]:
        """The UTC and local texts of a whole minute ("YYYY-MM-DDTHH:MM"), cached."""
        base = self._minutes.get(minute)
        if base is None:
            if len(self._minutes) > _CACHED_MINUTES:
                self._minutes.clear()
            local = dt.datetime.fromtimestamp(minute, self.zone)
            base = self._minutes[minute] = (
                dt.datetime.fromtimestamp(minute, dt.UTC).isoformat()[:16],
                local.strftime("%Y-%m-%dT%H:%M"),
            )
        return base

    def prepare(self, records: list[Record]) -> Prepared:
        """The batch prepared for the store (see the module's docstring)."""
        objects: list[Any] = []
        places = _Places(objects)
        runs: list[Any] = []
        if all(map(isinstance, records, itertools.repeat(Message))):
            if records:
                runs.append(self._run(records, places))
            return Prepared(objects, runs, len(records))
        start = 0
        for n, record in enumerate(records):
            if not isinstance(record, Message):
                if start < n:
                    runs.append(self._run(records[start:n], places))
                runs.append(len(objects))
                objects.append(record)
                start = n + 1
        if start < len(records):
            runs.append(self._run(records[start:], places))
        return Prepared(objects, runs, len(records))

    def _run(self, messages: list[Message], places: _Places) -> tuple[list, ...]:
        """The columns of a run of messages (see :class:`Prepared`), each made by one loop over
        the run, most of them in C: a loop over the messages with the same work in Python took
        about three times as long."""
        slow = self._texts_of
        instants = [
            None if when is None else when.__reduce__()[1][0] if when.tzinfo is _UTC else slow(when)
            for when in map(_time, messages)
        ]
        return (
            _values(messages),
            dumps_each(list(map(_extra, messages))),
            instants,
            places.of_lists(list(map(_recipients, messages))),
            [None if not files else places.add(files) for files in map(_attachments, messages)],
            places.of_values(list(map(_file, map(_source, messages)))),
            list(map(_conversation, messages)),
            list(map(_sender, messages)),
        )


class _Places:
    """Where the objects a batch's messages share by value are in its ``objects``, each put
    there once: recipient lists by the identity of their parties (the messages keep them alive
    meanwhile), provenance files by value."""

    def __init__(self, objects: list[Any]) -> None:
        self.objects = objects
        self._by_key: dict[Any, int] = {}

    def add(self, obj: Any) -> int:
        self.objects.append(obj)
        return len(self.objects) - 1

    def of_lists(self, column: list[list[Any]]) -> list[int]:
        # A list of one party (nearly every message's recipients) is known by that party's id,
        # any other by the tuple of its parties' ids: half the cost of a tuple for each.
        keys = [id(items[0]) if len(items) == 1 else tuple(map(id, items)) for items in column]
        return self._placed(self._by_key, keys, column)

    def of_values(self, column: list[Any]) -> list[int]:
        distinct = dict.fromkeys(column)
        if len(distinct) == 1:
            # One value for the whole column (a batch's messages come from one file): placed
            # without a second look-up per message.
            (only,) = distinct
            place = self._by_key.get(only)
            if place is None:
                place = self._by_key[only] = self.add(only)
            return [place] * len(column)
        return self._placed(self._by_key, column, column)

    def _placed(self, places: dict[Any, int], keys: list[Any], column: list[Any]) -> list[int]:
        for key, obj in dict(zip(keys, column, strict=True)).items():
            if key not in places:
                places[key] = self.add(obj)
        return list(map(places.__getitem__, keys))


_time = operator.attrgetter("timestamp_utc")
_extra = operator.attrgetter("extra")
_conversation = operator.attrgetter("conversation")
_sender = operator.attrgetter("sender")
_recipients = operator.attrgetter("recipients")
_attachments = operator.attrgetter("attachments")
_source = operator.attrgetter("source")
_file = operator.itemgetter(0, 1, 2)
_UTC = dt.UTC
_UNSEEN = object()


def _from_state(state: bytes) -> dt.datetime:
    """The UTC datetime of a state made by :meth:`MessageCells.instant`."""
    return dt.datetime(
        state[0] << 8 | state[1],
        state[2] & 0x7F,
        state[3],
        state[4],
        state[5],
        state[6],
        state[7] << 16 | state[8] << 8 | state[9],
        dt.UTC,
        fold=state[2] >> 7,
    )


class Prepared:
    """One batch prepared for the store: ``objects`` (shared by its messages, or records other
    than messages) and ``runs``, in order: the place in ``objects`` of a record other than a
    message, or the columns of a run of messages, each one value per message: values (see
    :class:`MessageCells`), ``extra`` as JSON or ``None``, instant, the places of its recipient
    list, its attachment list (or ``None`` when it has none) and the (file, sha256, format) of
    its provenance, then its conversation and its sender (or ``None``) themselves."""

    __slots__ = ("objects", "runs", "count")

    def __init__(self, objects: list[Any], runs: list[Any], count: int) -> None:
        self.objects, self.runs, self.count = objects, runs, count

    def __len__(self) -> int:
        """How many records the batch holds."""
        return self.count

    def messages(self) -> Iterator[Any]:
        """Per record in order: a message's tuple of its values in the columns' order, or the
        record other than a message itself."""
        objects = self.objects
        return itertools.chain.from_iterable(
            (objects[run],) if type(run) is int else zip(*run, strict=True) for run in self.runs
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Prepared)
            and self.objects == other.objects
            and self.runs == other.runs
            and self.count == other.count
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        # The plain columns as a marshal where all they hold is text, numbers and containers of
        # them (a pickle memoises each value, and writes and reads them at about a third of the
        # speed); the columns of objects in the pickle, with the objects.
        plain = [run if type(run) is int else run[:_OBJECT_COLUMNS] for run in self.runs]
        shared = [None if type(run) is int else run[_OBJECT_COLUMNS:] for run in self.runs]
        try:
            return (_from_marshal, (self.objects, marshal.dumps(plain), shared, self.count))
        except ValueError:
            return (Prepared, (self.objects, self.runs, self.count))


#: Where a run's columns of objects (conversations, senders) start.
_OBJECT_COLUMNS = 6


def _from_marshal(objects: list[Any], plain: bytes, shared: list[Any], count: int) -> Prepared:
    runs = [
        run if columns is None else run + columns
        for run, columns in zip(marshal.loads(plain), shared, strict=True)
    ]
    return Prepared(objects, runs, count)
