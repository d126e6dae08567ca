"""Charts for the report, drawn as inline SVG by our own code.

No chart library and no script: the report must open offline under a strict Content-Security-
Policy, and must print. Colours are chosen to stay distinguishable in greyscale (dark vs. pale,
filled vs. outlined), every chart has a text title and description for screen readers, and all
text in a chart is escaped because labels can come from evidence (contact names, key-date names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from triage.report.formats import count as plural_count

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9dee3"
OUTGOING = "#243b53"
INCOMING = "#9fb3c8"
DUTY = "#c6dbef"
DOT = "#102a43"
FONT = 'font-family="system-ui, sans-serif"'


def _num(value: float) -> str:
    # Short, stable number formatting keeps the SVG small and byte-identical between runs.
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(width: int, height: int, title: str, desc: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" '
        f'viewBox="0 0 {width} {height}" role="img" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]


def _nice_step(peak: int) -> int:
    """A whole-number grid step giving at most about four lines (1, 2, 5, 10, 20, 50...)."""
    step = 1
    while peak / step > 4:
        for factor in (2, 5 / 2, 2):
            step = int(step * factor)
            if peak / step <= 4:
                break
    return step


def timeline(
    days: Sequence[tuple[dt.date, int, int]],
    markers: Sequence[tuple[dt.date, str]] = (),
    title: str = "Messages over time",
) -> Markup:
    """Stacked bars of outgoing/incoming messages per day (per week over long spans).

    ``days`` holds (local date, outgoing, incoming) for days with messages; ``markers`` are key
    dates drawn as labelled vertical lines.
    """
    width, height = 900, 230
    left, right, top, bottom = 44, 16, 34, 40
    if not days:
        parts = _open(width, 60, title, "No dated messages.", "timeline")
        parts.append(f'<text x="10" y="35" {FONT} font-size="14" fill="{MUTED}">')
        parts.append("No dated messages to draw.</text></svg>")
        return Markup("".join(parts))
    dates = [d for d, _, _ in days] + [d for d, _ in markers]
    start, end = min(dates), max(dates)
    span = (end - start).days + 1
    weekly = span > 120
    if weekly:
        start = start - dt.timedelta(days=start.weekday())
    buckets: dict[int, list[int]] = {}
    for day, out_n, in_n in days:
        index = (day - start).days // (7 if weekly else 1)
        bucket = buckets.setdefault(index, [0, 0])
        bucket[0] += out_n
        bucket[1] += in_n
    slots = max((end - start).days // (7 if weekly else 1) + 1, 1)
    peak = max(sum(v) for v in buckets.values())
    plot_w, plot_h = width - left - right, height - top - bottom
    slot_w = plot_w / slots
    bar_w = max(min(slot_w * 0.8, 24), 1.0)
    unit = "week" if weekly else "day"
    desc = (
        f"Bars show messages per {unit} from {start.isoformat()} to {end.isoformat()}; "
        f"the busiest {unit} had {peak}. Dark: sent by the device owner; pale: received."
    )
    parts = _open(width, height, title, desc, "timeline")
    parts.append(f'<g {FONT} font-size="12" fill="{MUTED}">')
    step = _nice_step(peak)
    peak = max(peak, step)
    top_value = -(-peak // step) * step
    for value in range(0, top_value + 1, step):
        y = top + plot_h * (1 - value / top_value)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">{value}</text>'
        )
    peak = top_value
    # Axis ticks: days for short spans, Mondays up to three months, then the first of each month.
    days_per_slot = 7 if weekly else 1
    span_days = (end - start).days + 1
    if span_days <= 10:
        ticks = [start + dt.timedelta(days=n) for n in range(span_days)]
        label = "%d %b"
    elif span_days <= 92:
        first = start + dt.timedelta(days=(7 - start.weekday()) % 7)
        ticks = [first + dt.timedelta(days=n) for n in range(0, (end - first).days + 1, 7)]
        label = "%d %b"
    else:
        ticks = []
        month = dt.date(start.year, start.month, 1)
        while month <= end:
            if month >= start:
                ticks.append(month)
            month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        label = "%b %Y"
    # Thin the labels so they never overlap (about 70 units of width per label).
    every = max(1, -(-len(ticks) * 70 // plot_w))
    for tick in ticks[::every]:
        x = left + ((tick - start).days / days_per_slot + 0.5) * slot_w
        parts.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{top + plot_h}" y2="{top + plot_h + 5}" '
            f'stroke="{MUTED}"/><text x="{_num(x)}" y="{top + plot_h + 18}" '
            f'text-anchor="middle">{_tick(tick, label)}</text>'
        )
    parts.append("</g>")
    for index in sorted(buckets):
        out_n, in_n = buckets[index]
        x = left + index * slot_w + (slot_w - bar_w) / 2
        y = top + plot_h
        for count, colour in ((out_n, OUTGOING), (in_n, INCOMING)):
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar_w)}" height="{_num(h)}" '
                f'fill="{colour}"/>'
            )
    for number, (day, label) in enumerate(sorted(markers)):
        x = left + ((day - start).days / (7 if weekly else 1) + 0.5) * slot_w
        y_label = 12 + 12 * (number % 2)
        # Labels near the right edge are drawn to the left of their line so they stay visible.
        anchor, dx = ("end", -3) if x > width * 0.7 else ("start", 3)
        parts.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{y_label + 3}" y2="{top + plot_h}" '
            f'stroke="#b44d12" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{_num(x + dx)}" y="{y_label}" text-anchor="{anchor}" {FONT} '
            f'font-size="12" fill="#8a3b0e">{escape(label)} {day.day} {day:%b}</text>'
        )
    legend_y = height - 8
    parts.append(
        f'<g {FONT} font-size="12" fill="{INK}">'
        f'<rect x="{left}" y="{legend_y - 10}" width="12" height="12" fill="{OUTGOING}"/>'
        f'<text x="{left + 17}" y="{legend_y}">sent by the device owner</text>'
        f'<rect x="{left + 190}" y="{legend_y - 10}" width="12" height="12" fill="{INCOMING}"/>'
        f'<text x="{left + 207}" y="{legend_y}">received</text>'
        f'<text x="{width - right}" y="{legend_y}" text-anchor="end" fill="{MUTED}">'
        f"one bar per {unit}</text></g></svg>"
    )
    return Markup("".join(parts))


def heatmap(
    counts: Sequence[Sequence[float]],
    duty: Sequence[Sequence[float]] | None = None,
    title: str = "Messages by hour and weekday",
) -> Markup:
    """A weekday x hour grid: dots sized by message count, cells shaded by rostered-duty share.

    ``counts`` and ``duty`` are 7 rows (Monday first) of 24 hours in the case timezone; ``duty``
    holds the share (0-1) of that hour-of-week that was rostered duty in the period, or is None
    when no roster was available.
    """
    cell, left, top = 32, 44, 26
    width = left + 24 * cell + 10
    height = top + 7 * cell + 44
    peak = max((max(row) for row in counts), default=0) or 1
    total = int(sum(sum(row) for row in counts))
    desc = (
        f"{plural_count(total, 'message')} placed by weekday and hour. A larger dot means more messages "
        f"(largest: {_num(peak)})."
        + (
            " Shaded cells were rostered duty for at least part of the period."
            if duty
            else " No duty roster overlay."
        )
    )
    parts = _open(width, height, title, desc, "heatmap")
    parts.append(f'<g {FONT} font-size="12" fill="{MUTED}">')
    for hour in range(0, 24, 3):
        parts.append(
            f'<text x="{left + hour * cell + cell / 2:.0f}" y="{top - 8}" text-anchor="middle">'
            f"{hour:02d}</text>"
        )
    for day, name in enumerate(DAYS):
        parts.append(
            f'<text x="{left - 8}" y="{top + day * cell + cell / 2 + 4:.0f}" '
            f'text-anchor="end">{name}</text>'
        )
    parts.append("</g>")
    for day in range(7):
        for hour in range(24):
            x, y = left + hour * cell, top + day * cell
            share = float(duty[day][hour]) if duty else 0.0
            fill = DUTY if share >= 0.5 else ("#e4eef8" if share > 0 else "#ffffff")
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" '
                f'stroke="{GRID}" stroke-width="1"/>'
            )
            count = counts[day][hour]
            if count:
                radius = 3 + 11 * (count / peak) ** 0.5
                parts.append(
                    f'<circle cx="{x + cell / 2:.0f}" cy="{y + cell / 2:.0f}" r="{_num(radius)}" '
                    f'fill="{DOT}"><title>{DAYS[day]} {hour:02d}:00-{hour:02d}:59: '
                    f"{plural_count(int(count), 'message')}</title></circle>"
                )
    legend_y = top + 7 * cell + 26
    parts.append(
        f'<g {FONT} font-size="12" fill="{INK}">'
        f'<circle cx="{left + 6}" cy="{legend_y - 4}" r="6" fill="{DOT}"/>'
        f'<text x="{left + 18}" y="{legend_y}">messages (larger = more)</text>'
    )
    if duty:
        parts.append(
            f'<rect x="{left + 200}" y="{legend_y - 11}" width="14" height="14" fill="{DUTY}" '
            f'stroke="{GRID}"/><text x="{left + 220}" y="{legend_y}">rostered duty in at least '
            f"half of the weeks</text>"
            f'<rect x="{left + 500}" y="{legend_y - 11}" width="14" height="14" fill="#e4eef8" '
            f'stroke="{GRID}"/><text x="{left + 520}" y="{legend_y}">in some weeks</text>'
        )
    else:
        parts.append(
            f'<text x="{left + 200}" y="{legend_y}" fill="{MUTED}">no roster overlay '
            f"available</text>"
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))


def share_bar(parts_in: Sequence[tuple[str, int, str]], total: int, label: str) -> Markup:
    """One horizontal 100% bar (e.g. duty status split), with a text legend beneath in HTML."""
    width, height = 300, 18
    parts = _open(width, height, label, label, "sharebar")
    x = 0.0
    for name, count, colour in parts_in:
        if not count or not total:
            continue
        w = width * count / total
        parts.append(
            f'<rect x="{_num(x)}" y="0" width="{_num(w)}" height="{height}" fill="{colour}">'
            f"<title>{escape(name)}: {count}</title></rect>"
        )
        x += w
    parts.append(
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="none" stroke="{GRID}"/></svg>'
    )
    return Markup("".join(parts))


def _tick(day: dt.date, label: str) -> str:
    """An axis label as the report writes dates (``2 Mar``, ``Mar 2026``: no leading zero)."""
    return f"{day.day} {day:%b}" if label == "%d %b" else day.strftime(label)
