"""Time conversions shared by parsers: every epoch a phone uses, and zone-less local time.

All results are timezone-aware UTC datetimes. Local times without a zone (WhatsApp ``.txt``
exports, Messenger HTML) are converted with the case timezone; the caller marks the record
``zone_assumed`` and this module reports whether the wall-clock time was ambiguous (the repeated
hour when clocks go back) or did not exist (the skipped hour when they go forward).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)


# Whole minutes (ms // 60000) -> their aware datetime, and milliseconds into a minute -> their
# timedelta, for from_unix_ms: building a timedelta from a number is most of the cost of a time
# (about 4,900 of 5,400 instructions), adding a ready one to a ready minute about 750.
_MINUTES: dict[int, datetime] = {}
_INTO_MINUTE: dict[int, timedelta] = {}
# Minutes kept before the cache is emptied (about 140 days of minutes, 26 MiB at most).
_CACHED_MINUTES = 200_000
# Below this many ms (2**32 s, year 2106) a float of seconds holds every millisecond within a
# quarter of a microsecond, so fromtimestamp rounds it to the exact instant.
_EXACT_MS = 2**32 * 1000


def from_unix_ms(value: int | float | None) -> datetime | None:
    if value is None or value == 0:
        return None
    if type(value) is int:
        # Every message of a large database comes through here: its minute is looked up (a
        # phone's messages come in runs within minutes) and its milliseconds into it added.
        minute, into = divmod(value, 60000)
        base = _MINUTES.get(minute)
        if base is not None:
            step = _INTO_MINUTE.get(into)
            if step is None:
                step = _INTO_MINUTE[into] = timedelta(0, into // 1000, into % 1000 * 1000)
            return base + step
        if not 0 < value < _EXACT_MS:
            return UNIX_EPOCH + timedelta(0, 0, 0, value)
        if len(_MINUTES) >= _CACHED_MINUTES:
            _MINUTES.clear()
        _MINUTES[minute] = datetime.fromtimestamp(minute * 60, UTC)
        return datetime.fromtimestamp(value / 1000, UTC)
    return UNIX_EPOCH + timedelta(milliseconds=float(value))


def from_unix_s(value: int | float | None) -> datetime | None:
    if value is None or value == 0:
        return None
    return UNIX_EPOCH + timedelta(seconds=float(value))


def from_apple(value: int | float | None) -> datetime | None:
    """Seconds (Core Data, iOS <= 10 sms.db) or nanoseconds (iOS 11+ sms.db) since 2001-01-01 UTC,
    told apart by magnitude: no plausible date in seconds exceeds 1e11."""
    if value is None or value == 0:
        return None
    seconds = float(value) / 1e9 if abs(value) > 1e11 else float(value)
    return APPLE_EPOCH + timedelta(seconds=seconds)


def local_to_utc(naive: datetime, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """Convert a wall-clock time in ``zone`` to UTC.

    Returns the UTC time and a note: ``"ambiguous"`` when the wall time occurred twice (the first
    occurrence, ``fold=0``, is used), ``"nonexistent"`` when it fell in a skipped hour (read as
    the offset before the change), otherwise ``None``.
    """
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    note = None
    if first.utcoffset() != second.utcoffset():
        # Ambiguous and nonexistent times both differ by fold; a round-trip tells them apart.
        round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        note = "ambiguous" if round_trip == naive else "nonexistent"
    return first.astimezone(UTC), note


def to_local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone)
