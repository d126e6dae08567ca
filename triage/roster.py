"""Duty rosters: when the device owner was rostered on duty, on rest, on leave, sick or training.

A roster comes from the case file either as a CSV of periods (``start,end,type`` in local time of
the case timezone; type one of duty, rest, leave, sick, training) or as a shift pattern from
``profiles/duty/<name>.yaml`` repeated from an anchor date, with whole-day overrides (leave, sick,
extra duty) on top of either.

Every local time is converted to UTC with the case timezone, so a 19:00 -> 05:00 night shift across
the change to summer time lasts nine real hours and across the change back eleven. A boundary in
the skipped or the repeated hour is read so that the rostered period is as long as it can be
(earliest reading for a start, latest for an end): the tool then never reports a moment as outside
duty because of how an impossible or repeated clock time was read.

Classification of one instant (``Roster.status``):

1. inside a rostered period: duty -> ``on_duty``; rest -> ``rest_day``; leave, sick, training as
   named. Where periods overlap, duty wins, then training, sick, leave, rest (a night shift that
   runs into the first morning of a rest or leave day was still worked);
2. on a local date the roster does not cover -> ``unknown``;
3. on a covered date on which a duty or training period starts (a working day) -> ``off_duty``;
4. on another covered date: the whole-day type found on it (sick, leave, rest, in that order),
   otherwise ``rest_day`` (a date inside a supplied roster with no shift on it).

A CSV roster covers the local dates from its first start to its last end; a pattern covers the
anchor date onwards; override dates are always covered.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from triage.casefile import Case, CaseFileError
from triage.shipped import profiles_dir as shipped_profiles

STATUSES: tuple[str, ...] = (
    "on_duty",
    "off_duty",
    "rest_day",
    "leave",
    "sick",
    "training",
    "unknown",
)
# Statuses counted as "outside rostered duty". Training is rostered working time, and "unknown"
# is neither inside nor outside: it is reported on its own.
OUTSIDE_DUTY: tuple[str, ...] = ("off_duty", "rest_day", "leave", "sick")
PERIOD_TYPES: tuple[str, ...] = ("duty", "rest", "leave", "sick", "training")
TYPE_STATUS = {
    "duty": "on_duty",
    "rest": "rest_day",
    "leave": "leave",
    "sick": "sick",
    "training": "training",
}
_PRECEDENCE = {"duty": 0, "training": 1, "sick": 2, "leave": 3, "rest": 4}
_WORKING = ("duty", "training")
_WHOLE_DAY_ORDER = ("sick", "leave", "rest")


class RosterError(CaseFileError):
    """A roster CSV or shift pattern problem, worded as one line naming the file and line."""


def profiles_dir() -> Path:
    """``profiles/duty/`` shipped with triage."""
    return shipped_profiles("duty")


@dataclass(frozen=True, slots=True)
class Period:
    """One rostered period in UTC, with the local wall times and where it came from."""

    start: dt.datetime
    end: dt.datetime
    type: str
    local_start: dt.datetime
    local_end: dt.datetime
    origin: str


@dataclass(frozen=True, slots=True)
class RosterNote:
    """Something read from a roster but doubtful: ``text`` is the whole line shown to the user."""

    file: str
    text: str


@dataclass(frozen=True, slots=True)
class Shift:
    """One day of a shift pattern: ``None`` times mean a rest day."""

    start: dt.time | None
    end: dt.time | None
    label: str

    @property
    def rest(self) -> bool:
        return self.start is None


@dataclass
class Pattern:
    name: str
    description: str
    days: list[Shift]
    path: Path


def utc_bound(naive: dt.datetime, zone: ZoneInfo, earliest: bool) -> dt.datetime:
    """The UTC instant of a local wall time, choosing between the two readings of a repeated or
    skipped wall time (see the module docstring for why)."""
    readings = [naive.replace(tzinfo=zone, fold=f).astimezone(dt.UTC) for f in (0, 1)]
    return min(readings) if earliest else max(readings)


def _parse_local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.strip().replace("T", " "))


HEADER = ("start", "end", "type")


def read_csv(path: Path, zone: ZoneInfo, notes: list[RosterNote] | None = None) -> list[Period]:
    """Periods of a roster CSV (header ``start,end,type``; other columns are ignored).

    Any row that cannot be read is a :class:`RosterError` naming the file, the line and the field:
    a roster read in part would place messages outside duty on the strength of periods that are
    not there. What is read but doubtful (a type written in capitals, overlapping periods) is
    appended to ``notes`` so the run can say so.
    """
    periods: list[Period] = []
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise RosterError(f"{path.name}: cannot read the roster ({exc.strerror})") from None
    with handle:
        try:
            rows = list(csv.reader(handle))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RosterError(f"{path.name}: not a readable CSV file ({exc})") from None
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if not set(HEADER) <= set(header):
        found = ",".join(h.strip() for h in rows[0]) if rows else "nothing"
        raise RosterError(
            f"{path.name} line 1: header: expected the columns start,end,type (found {found})"
        )
    column = {name: header.index(name) for name in HEADER}
    for line, row in enumerate(rows[1:], 2):
        if not any(v.strip() for v in row):
            continue
        if len(row) < len(header):
            missing = header[len(row)]
            raise RosterError(
                f"{path.name} line {line}: {missing}: missing (the row has {len(row)} of "
                f"{len(header)} columns)"
            )
        if len(row) > len(header):
            raise RosterError(
                f"{path.name} line {line}: the row has {len(row)} columns, the header {len(header)}"
            )
        values = {name: row[i].strip() for name, i in column.items()}
        times = {}
        for name in ("start", "end"):
            try:
                times[name] = _parse_local(values[name])
            except ValueError:
                raise RosterError(
                    f"{path.name} line {line}: {name}: {values[name]!r} is not a local time "
                    "written YYYY-MM-DD HH:MM"
                ) from None
        start, end = times["start"], times["end"]
        kind = values["type"].lower()
        if kind not in PERIOD_TYPES:
            raise RosterError(
                f"{path.name} line {line}: type: {values['type']!r} is not one of "
                f"{', '.join(PERIOD_TYPES)}"
            )
        if kind != values["type"] and notes is not None:
            notes.append(
                RosterNote(
                    path.name, f"{path.name} line {line}: type {values['type']!r} read as {kind!r}"
                )
            )
        if end <= start:
            raise RosterError(
                f"{path.name} line {line}: end: {values['end']} is not after the start "
                f"{values['start']}"
            )
        periods.append(
            Period(
                utc_bound(start, zone, earliest=True),
                utc_bound(end, zone, earliest=False),
                kind,
                start,
                end,
                f"{path.name} line {line}",
            )
        )
    if not periods:
        raise RosterError(f"{path.name}: no periods (the roster has a header and no rows)")
    if notes is not None:
        notes.extend(RosterNote(path.name, text) for text in overlaps(periods))
    return periods


def overlaps(periods: list[Period]) -> list[str]:
    """Overlapping periods that contradict each other, worded with both places.

    One overlap is what rosters normally hold and is not listed: a shift that began before a rest,
    leave or sick period and runs into it (a night shift into the first rest day); the module
    docstring says how it is classified. Every other overlap (two shifts, two whole-day periods,
    a shift starting inside a rest or leave day) is listed: duty still wins there, but the roster
    says two things at once.
    """
    out = []
    ordered = sorted(periods, key=lambda p: (p.start, p.end))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            working = (a.type in _WORKING, b.type in _WORKING)
            if working == (True, False):  # a shift begun before the rest day it runs into
                continue
            winner = min((a.type, b.type), key=_PRECEDENCE.__getitem__)
            out.append(
                f"{a.origin} ({_span(a)}) overlaps {b.origin} ({_span(b)}); "
                f"{winner} is used where they overlap"
            )
    return out


def _span(p: Period) -> str:
    return f"{p.type} {p.local_start:%Y-%m-%d %H:%M} to {p.local_end:%Y-%m-%d %H:%M}"


def _time(value: object, where: str) -> dt.time:
    text = str(value).strip()
    try:
        return dt.time.fromisoformat(text.zfill(5) if len(text) == 4 else text)
    except ValueError:
        raise RosterError(f"{where}: expected a time as HH:MM") from None


def find_pattern(name: str, base: Path | None = None) -> Path | None:
    """The file of a shift pattern named in the case file: a path (relative to ``base``) when the
    name looks like one, else ``profiles/duty/<name>.yaml``; ``None`` when there is none."""
    candidates = []
    if name.endswith((".yaml", ".yml")) or "/" in name:
        candidates.append((base or Path.cwd()) / name)
    candidates.append(profiles_dir() / f"{name}.yaml")
    return next((p for p in candidates if p.is_file()), None)


def unknown_pattern(name: str) -> str:
    known = ", ".join(sorted(p.stem for p in profiles_dir().glob("*.yaml")))
    return f"no shift pattern {name!r} (known: {known}; or a path to your own .yaml)"


def load_pattern(name: str, base: Path | None = None) -> Pattern:
    """A shift pattern by name (``profiles/duty/<name>.yaml``) or by path (relative to ``base``).

    The file holds ``name``, ``description`` and ``days``: one entry per day of the cycle, the
    first being the anchor date, each ``rest`` or ``{start: HH:MM, end: HH:MM, label: ...}`` (an end
    not after the start is on the next day).
    """
    path = find_pattern(name, base)
    if path is None:
        raise RosterError(f"roster.pattern: {unknown_pattern(name)}")
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RosterError(f"{path.name}: not a readable shift pattern ({exc})") from None
    if not isinstance(data, dict):
        raise RosterError(f"{path.name}: expected a mapping with name, description and days")
    days_raw = data.get("days")
    if not isinstance(days_raw, list) or not days_raw:
        raise RosterError(f"{path.name}: days: expected a list with one entry per day")
    days: list[Shift] = []
    for i, entry in enumerate(days_raw):
        where = f"{path.name}: days[{i}]"
        if isinstance(entry, str) and entry.strip().lower() == "rest":
            days.append(Shift(None, None, "rest"))
        elif isinstance(entry, dict) and {"start", "end"} <= set(entry):
            days.append(
                Shift(
                    _time(entry["start"], f"{where}.start"),
                    _time(entry["end"], f"{where}.end"),
                    str(entry.get("label", "shift")),
                )
            )
        else:
            raise RosterError(f"{where}: expected rest or {{start: HH:MM, end: HH:MM}}")
    return Pattern(str(data.get("name", path.stem)), str(data.get("description", "")), days, path)


def pattern_periods(
    pattern: Pattern, anchor: dt.date, first: dt.date, last: dt.date, zone: ZoneInfo
) -> list[Period]:
    """The pattern's periods for the local dates ``first`` .. ``last`` (never before ``anchor``)."""
    periods: list[Period] = []
    cycle = len(pattern.days)
    day = max(first, anchor)
    while day <= last:
        index = (day - anchor).days % cycle
        shift = pattern.days[index]
        origin = f"pattern {pattern.name} day {index + 1}"
        if shift.rest:
            start = dt.datetime.combine(day, dt.time(0))
            end = start + dt.timedelta(days=1)
            kind = "rest"
        else:
            assert shift.start is not None and shift.end is not None
            start = dt.datetime.combine(day, shift.start)
            end = dt.datetime.combine(day, shift.end)
            if end <= start:
                end += dt.timedelta(days=1)
            kind = "duty"
        periods.append(
            Period(
                utc_bound(start, zone, earliest=True),
                utc_bound(end, zone, earliest=False),
                kind,
                start,
                end,
                origin,
            )
        )
        day += dt.timedelta(days=1)
    return periods


def _local_dates(start: dt.datetime, end: dt.datetime) -> Iterable[dt.date]:
    """Local dates a period touches (an end at exactly midnight does not touch that date)."""
    day = start.date()
    last = (end - dt.timedelta(microseconds=1)).date()
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


@dataclass
class Roster:
    """Rostered periods in one timezone, with the local dates the roster speaks for."""

    zone: ZoneInfo
    periods: list[Period]
    covered_from: dt.date | None = None  # every date from here on is covered (patterns)
    covered_dates: set[dt.date] = field(default_factory=set)
    description: str = ""
    # What was read but is doubtful (overlapping periods, a type in capitals), one line each.
    notes: list[RosterNote] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._day_types: dict[dt.date, set[str]] = {}
        for p in self.periods:
            if p.type in _WORKING:
                self._day_types.setdefault(p.local_start.date(), set()).add(p.type)
            else:
                for day in _local_dates(p.local_start, p.local_end):
                    self._day_types.setdefault(day, set()).add(p.type)
        # Elementary segments between every boundary, each with the type that wins there, so a
        # lookup is one bisection however many periods overlap.
        bounds = sorted({p.start for p in self.periods} | {p.end for p in self.periods})
        self._bounds = bounds
        self._types: list[str | None] = []
        ordered = sorted(self.periods, key=lambda p: p.start)
        active: list[Period] = []
        nxt = 0
        for lo in bounds[:-1]:
            while nxt < len(ordered) and ordered[nxt].start <= lo:
                active.append(ordered[nxt])
                nxt += 1
            active = [p for p in active if p.end > lo]
            best = min((p.type for p in active), key=_PRECEDENCE.__getitem__, default=None)
            self._types.append(best)

    def boundaries(self) -> list[dt.datetime]:
        """The UTC instants where the rostered status can change (period starts and ends)."""
        return list(self._bounds)

    def covers(self, day: dt.date) -> bool:
        if day in self.covered_dates:
            return True
        return self.covered_from is not None and day >= self.covered_from

    def period_type(self, when: dt.datetime) -> str | None:
        """The winning period type at ``when`` (UTC), or ``None`` outside every period."""
        i = bisect.bisect_right(self._bounds, when) - 1
        if i < 0 or i >= len(self._types):
            return None
        return self._types[i]

    def status(self, when: dt.datetime) -> str:
        """One of :data:`STATUSES` for an aware instant (see the module docstring)."""
        kind = self.period_type(when)
        if kind is not None:
            return TYPE_STATUS[kind]
        day = when.astimezone(self.zone).date()
        if not self.covers(day):
            return "unknown"
        types = self._day_types.get(day, set())
        if types & set(_WORKING):
            return "off_duty"
        for kind in _WHOLE_DAY_ORDER:
            if kind in types:
                return TYPE_STATUS[kind]
        return "rest_day"

    def duty_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of rostered duty (duty or training periods) between two instants."""
        total = 0.0
        i = max(bisect.bisect_right(self._bounds, start) - 1, 0)
        while i < len(self._types) and self._bounds[i] < end:
            if self._types[i] in _WORKING:
                lo = max(self._bounds[i], start)
                hi = min(self._bounds[i + 1], end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            i += 1
        return total


def _override_periods(case: Case, zone: ZoneInfo) -> list[tuple[dt.date, Period]]:
    out = []
    assert case.roster is not None
    for n, o in enumerate(case.roster.overrides):
        day = o["start"]
        while day <= o["end"]:
            start = dt.datetime.combine(day, dt.time(0))
            end = start + dt.timedelta(days=1)
            out.append(
                (
                    day,
                    Period(
                        utc_bound(start, zone, earliest=True),
                        utc_bound(end, zone, earliest=False),
                        o["type"],
                        start,
                        end,
                        f"roster.overrides[{n}]" + (f" ({o['note']})" if o.get("note") else ""),
                    ),
                )
            )
            day += dt.timedelta(days=1)
    return out


def load_roster(case: Case, first: dt.date, last: dt.date) -> Roster | None:
    """The case's roster, with pattern days generated for local dates ``first`` .. ``last``
    (padded a day each side for overnight shifts); ``None`` when the case file gives none.

    Overrides are whole local days (``end`` inclusive). A shift that *starts* on an overridden
    date is replaced by the override; one that started the evening before still runs into it.
    A ``duty`` override counts the whole day as duty, so an overridden day is never reported as
    outside duty on the strength of a pattern the examiner has corrected.
    """
    spec = case.roster
    if spec is None:
        return None
    zone = case.zone
    periods: list[Period] = []
    covered_from = None
    covered: set[dt.date] = set()
    descriptions = []
    notes: list[RosterNote] = []
    if spec.csv is not None:
        rows = read_csv(spec.csv, zone, notes)
        periods.extend(rows)
        if rows:
            lo = min(p.local_start.date() for p in rows)
            hi = max((p.local_end - dt.timedelta(microseconds=1)).date() for p in rows)
            covered.update(lo + dt.timedelta(days=n) for n in range((hi - lo).days + 1))
        descriptions.append(f"roster CSV {spec.csv.name} ({len(rows)} periods)")
    if spec.pattern is not None:
        assert spec.anchor is not None
        pattern = load_pattern(spec.pattern, case.path.parent)
        periods.extend(
            pattern_periods(
                pattern,
                spec.anchor,
                first - dt.timedelta(days=1),
                last + dt.timedelta(days=1),
                zone,
            )
        )
        covered_from = spec.anchor
        descriptions.append(
            f"shift pattern {pattern.name} ({len(pattern.days)}-day cycle) from {spec.anchor}"
        )
    overrides = _override_periods(case, zone)
    if overrides:
        replaced = {day for day, _ in overrides}
        periods = [p for p in periods if p.local_start.date() not in replaced]
        periods.extend(p for _, p in overrides)
        covered.update(replaced)
        descriptions.append(f"{len(replaced)} overridden days")
    periods.sort(key=lambda p: (p.start, p.end, p.type))
    return Roster(zone, periods, covered_from, covered, "; ".join(descriptions), notes)


def check_roster(case: Case) -> list[RosterNote]:
    """Read the case's roster in full before any evidence is read: a roster given but unreadable
    is a case-file error (:class:`RosterError`, one line naming file, line and field), never a
    run that reports every message as "unknown". Returns the notes on what was read but is
    doubtful, for the run's warnings."""
    notes: list[RosterNote] = []
    # The case roster, and each device's own (case file ``devices[i].roster``).
    for spec in [case.roster, *(d.roster for d in case.devices)]:
        if spec is None:
            continue
        anchor = spec.anchor or dt.date(2000, 1, 1)
        roster = load_roster(dataclasses.replace(case, roster=spec), anchor, anchor)
        assert roster is not None
        notes.extend(roster.notes)
    return notes


def is_night(local: dt.datetime, night: tuple[dt.time, dt.time]) -> bool:
    """Whether a local wall time falls in the case's night window (which may span midnight)."""
    start, end = night
    t = local.time()
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end
