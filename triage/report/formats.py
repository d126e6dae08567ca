"""One way to write numbers, counts, dates and times on every page of the report.

"1 message", "6,483 messages", "10 Apr 2026", "10 Apr 2026 22:45 BST", "Friday 10 Apr 2026"
for a day heading, "33.3 per 100 messages" for a rate. Templates reach these as filters
(``|number``, ``|count("message")``, ``|date``, ``|per100``) and Python code calls them
directly, so no page formats a number or a date its own way. The analysers' sentences (a
finding's ``why``) write local times the same way (``triage.analysers.parties.local_text``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def number(value: Any) -> Any:
    """Thousands separated: 6,483. Anything that is not a number is given back as it is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return value


def count(n: Any, one: str, many: str | None = None) -> str:
    """``1 message``, ``2 messages``, ``6,483 messages`` (``many`` for irregular plurals)."""
    if not isinstance(n, int) or isinstance(n, bool):
        return f"{n} {many or one + 's'}"
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def date(value: Any) -> str:
    """``10 Apr 2026`` from a date, a datetime or an ISO date text; other text as it is."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.date):
        return f"{value.day} {value:%b %Y}"
    return "" if value is None else str(value)


def moment(local: dt.datetime) -> str:
    """A local time: ``10 Apr 2026 22:45 BST`` (the zone's abbreviation, DST included)."""
    return f"{local.day} {local:%b %Y %H:%M %Z}".rstrip()


def day_heading(local: dt.datetime | dt.date) -> str:
    """A day heading in a list of messages: ``Friday 10 Apr 2026``."""
    return f"{local:%A} {local.day} {local:%b %Y}"


def per_100(value: Any) -> str:
    """A gap rate in its one unit; ``None`` (nothing to count against) says so."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "no rate (no message with record numbers)"
    return f"{float(value):,.1f} per 100 messages"
