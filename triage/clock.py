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


def from_unix_ms(value: int | float | None) -> datetime | None:
    if value is None or value == 0:
        return None
    if type(value) is int:
        # The same instant as the float form below, in about half the time: every message of a
        # large database comes through here.
        return UNIX_EPOCH + timedelta(0, 0, 0, value)
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
