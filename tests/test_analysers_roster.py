"""Roster classification at explicit UTC instants: CSV periods, shift patterns, clock changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_analysers_support import LONDON, write_case
from triage.casefile import load_case
from triage.roster import (
    Roster,
    RosterError,
    is_night,
    load_pattern,
    load_roster,
    pattern_periods,
    read_csv,
    utc_bound,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO_ROSTER = ROOT / "fixtures" / "demo" / "roster.csv"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def demo_roster() -> Roster:
    periods = read_csv(DEMO_ROSTER, LONDON)
    first = min(p.local_start.date() for p in periods)
    last = max((p.local_end - dt.timedelta(seconds=1)).date() for p in periods)
    days = {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}
    return Roster(LONDON, periods, None, days)


# The demo roster (fixtures/demo/generate.py roster_rows): from 1 March 2026, day d has phase
# (d - 1 March) % 8: 0-1 day shift 07:00-17:00, 2-3 night shift 19:00-05:00, 4-7 rest; 6-9 April
# leave. So 27/28 March are nights (phases 2, 3), 29 March-1 April rest, 2/3 April days, 4/5 April
# nights, 6-9 April leave. Clocks go forward at 01:00 UTC on 29 March 2026.
DEMO_CASES = [
    ("2026-02-28T12:00:00Z", "unknown"),  # before the roster's first day
    ("2026-03-02T06:59:00Z", "off_duty"),  # 06:59 GMT, day shift starts 07:00
    ("2026-03-02T07:00:00Z", "on_duty"),
    ("2026-03-02T16:59:00Z", "on_duty"),
    ("2026-03-02T17:00:00Z", "off_duty"),  # working day, after the shift
    ("2026-03-05T04:59:00Z", "on_duty"),  # end of the 4 March night shift, on a rest day
    ("2026-03-05T05:00:00Z", "rest_day"),
    ("2026-03-28T18:59:00Z", "off_duty"),  # 28 March night shift starts 19:00 GMT
    ("2026-03-28T19:00:00Z", "on_duty"),
    ("2026-03-29T00:30:00Z", "on_duty"),  # 00:30 GMT
    ("2026-03-29T01:30:00Z", "on_duty"),  # 02:30 BST: the same night, after the change
    ("2026-03-29T03:59:00Z", "on_duty"),  # 04:59 BST
    ("2026-03-29T04:00:00Z", "rest_day"),  # 05:00 BST: the shift has ended (9 real hours)
    ("2026-04-02T20:30:00Z", "off_duty"),  # 21:30 BST after a day shift
    ("2026-04-06T03:30:00Z", "on_duty"),  # 04:30 BST: 5 April night runs into the first leave day
    ("2026-04-06T04:00:00Z", "leave"),
    ("2026-04-08T21:20:00Z", "leave"),
    ("2026-04-30T22:59:00Z", "rest_day"),  # 23:59 BST on the roster's last (rest) day
    ("2026-04-30T23:00:00Z", "unknown"),  # 00:00 BST on 1 May: not covered
]


@pytest.mark.parametrize(("instant", "expected"), DEMO_CASES)
def test_demo_csv_roster_statuses(instant: str, expected: str) -> None:
    assert demo_roster().status(utc(instant)) == expected


def test_night_shift_across_spring_change_lasts_nine_real_hours() -> None:
    roster = demo_roster()
    night = [p for p in roster.periods if p.local_start == dt.datetime(2026, 3, 28, 19, 0)]
    assert len(night) == 1
    assert night[0].start == utc("2026-03-28T19:00:00Z")
    assert night[0].end == utc("2026-03-29T04:00:00Z")
    assert roster.duty_seconds(utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z")) == 9 * 3600


def test_night_shift_across_autumn_change_lasts_eleven_real_hours(tmp_path: Path) -> None:
    # Clocks go back at 01:00 UTC on 25 October 2026 (02:00 BST -> 01:00 GMT).
    csv = tmp_path / "roster.csv"
    csv.write_text(
        "start,end,type\n2026-10-24 19:00,2026-10-25 05:00,duty\n"
        "2026-10-25 00:00,2026-10-26 00:00,rest\n"
        "2026-10-26 09:00,2026-10-26 12:00,training\n",
        "utf-8",
    )
    periods = read_csv(csv, LONDON)
    assert periods[0].start == utc("2026-10-24T18:00:00Z")
    assert periods[0].end == utc("2026-10-25T05:00:00Z")
    roster = Roster(LONDON, periods, None, {dt.date(2026, 10, d) for d in (24, 25, 26)})
    assert roster.duty_seconds(periods[0].start, periods[0].end) == 11 * 3600
    assert roster.status(utc("2026-10-25T00:30:00Z")) == "on_duty"  # 01:30 BST, first pass
    assert roster.status(utc("2026-10-25T01:30:00Z")) == "on_duty"  # 01:30 GMT, second pass
    assert roster.status(utc("2026-10-25T04:59:00Z")) == "on_duty"
    assert roster.status(utc("2026-10-25T05:00:00Z")) == "rest_day"
    assert roster.status(utc("2026-10-26T11:59:00Z")) == "training"
    assert roster.status(utc("2026-10-26T12:00:00Z")) == "off_duty"  # a training day, after it


def test_repeated_and_skipped_wall_times_give_the_longest_period() -> None:
    repeated = dt.datetime(2026, 10, 25, 1, 30)  # happens twice
    skipped = dt.datetime(2026, 3, 29, 1, 30)  # never happens
    assert utc_bound(repeated, LONDON, earliest=True) == utc("2026-10-25T00:30:00Z")
    assert utc_bound(repeated, LONDON, earliest=False) == utc("2026-10-25T01:30:00Z")
    assert utc_bound(skipped, LONDON, earliest=True) == utc("2026-03-29T00:30:00Z")
    assert utc_bound(skipped, LONDON, earliest=False) == utc("2026-03-29T01:30:00Z")


def test_pattern_with_leave_override_equals_the_demo_csv(tmp_path: Path) -> None:
    case = load_case(
        write_case(
            tmp_path,
            "roster:\n  pattern: 4on4off\n  anchor: 2026-03-01\n  overrides:\n"
            "    - {start: 2026-04-06, end: 2026-04-09, type: leave}\n"
            "sources:\n  - case.yaml\n",
        )
    )
    pattern = load_roster(case, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert pattern is not None
    csv = demo_roster()
    t = utc("2026-03-01T00:00:00Z")
    compared = 0
    while t < utc("2026-04-30T23:00:00Z"):
        assert pattern.status(t) == csv.status(t), t
        t += dt.timedelta(minutes=30)
        compared += 1
    assert compared == 2 * (60 * 24 + 23)
    # Before the anchor a pattern says nothing.
    assert pattern.status(utc("2026-02-28T12:00:00Z")) == "unknown"


@pytest.mark.parametrize(
    ("name", "cycle", "duty_hours"),
    [
        ("4on4off", 8, 2 * 10 + 2 * 10),
        ("6on4off", 10, 6 * 10),
        ("5week-eln", 35, (5 + 5 + 7 + 3 + 3) * 8),
        ("pitman-2-2-3", 28, 14 * 12),
    ],
)
def test_shipped_patterns(name: str, cycle: int, duty_hours: int) -> None:
    pattern = load_pattern(name)
    assert len(pattern.days) == cycle
    # A January cycle (no clock change) holds exactly the pattern's rostered hours.
    anchor = dt.date(2026, 1, 5)
    last = anchor + dt.timedelta(days=cycle - 1)
    periods = pattern_periods(pattern, anchor, anchor, last, LONDON)
    roster = Roster(LONDON, periods, anchor)
    start = dt.datetime(2026, 1, 5, tzinfo=LONDON)
    end = start + dt.timedelta(days=cycle + 1)
    assert roster.duty_seconds(start, end) == duty_hours * 3600


def test_sick_and_duty_overrides_on_a_csv_roster(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(
        "start,end,type\n2026-01-05 07:00,2026-01-05 17:00,duty\n"
        "2026-01-06 07:00,2026-01-06 17:00,duty\n2026-01-07 00:00,2026-01-08 00:00,rest\n",
        "utf-8",
    )
    case = load_case(
        write_case(
            tmp_path,
            "roster:\n  csv: roster.csv\n  overrides:\n"
            "    - {start: 2026-01-06, end: 2026-01-06, type: sick}\n"
            "    - {start: 2026-01-07, end: 2026-01-07, type: duty}\n"
            "sources:\n  - case.yaml\n",
        )
    )
    roster = load_roster(case, dt.date(2026, 1, 5), dt.date(2026, 1, 7))
    assert roster is not None
    assert roster.status(utc("2026-01-05T18:00:00Z")) == "off_duty"
    assert roster.status(utc("2026-01-06T10:00:00Z")) == "sick"  # the shift was replaced
    assert roster.status(utc("2026-01-07T23:30:00Z")) == "on_duty"  # whole-day duty override
    assert roster.status(utc("2026-01-08T10:00:00Z")) == "unknown"


def test_roster_csv_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text("start,end,type\n2026-01-05 07:00,2026-01-05 17:00,holiday\n", "utf-8")
    with pytest.raises(RosterError, match=r"roster.csv line 2: type: 'holiday' is not one of"):
        read_csv(bad, LONDON)
    bad.write_text("start,end,type\n2026-01-05 17:00,2026-01-05 07:00,duty\n", "utf-8")
    with pytest.raises(
        RosterError, match=r"roster.csv line 2: end: 2026-01-05 07:00 is not after the start"
    ):
        read_csv(bad, LONDON)
    with pytest.raises(RosterError, match=r"no shift pattern 'nope'"):
        load_pattern("nope")


def test_night_window() -> None:
    night = (dt.time(22, 0), dt.time(6, 0))
    assert is_night(dt.datetime(2026, 3, 1, 22, 0), night)
    assert is_night(dt.datetime(2026, 3, 1, 5, 59), night)
    assert not is_night(dt.datetime(2026, 3, 1, 6, 0), night)
    assert not is_night(dt.datetime(2026, 3, 1, 21, 59), night)
    assert is_night(dt.datetime(2026, 3, 1, 1, 0), (dt.time(0, 0), dt.time(5, 0)))
    assert not is_night(dt.datetime(2026, 3, 1, 5, 0), (dt.time(0, 0), dt.time(5, 0)))
