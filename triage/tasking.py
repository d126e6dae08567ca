"""The tasking/incident list an investigator may supply with an audit trail.

A CSV with the header ``incident_ref,date,people``: the reference of an incident or task the
officer was given, its date (YYYY-MM-DD, or a start date for a task that ran on), and the people
involved, separated by ``;`` (names, phone numbers, or both). A lookup is explained by a tasking
row when it falls from the row's date to :data:`WINDOW_DAYS` days after it and names one of its
people (same number, or the same name after normalisation) or its incident reference.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from triage.casefile import CaseFileError
from triage.identity import normalise_name, normalise_phone

COLUMNS = ("incident_ref", "date", "people")
#: Days after a tasking's date during which a lookup of its people is taken as explained by it.
WINDOW_DAYS = 14


class TaskingError(CaseFileError):
    """A tasking CSV problem, worded as one line naming the file, line and field."""


@dataclass(frozen=True)
class Tasking:
    reference: str
    date: dt.date
    people: tuple[str, ...]
    phones: frozenset[str]
    names: frozenset[str]
    line: int


def read_tasking(path: Path, region: str) -> list[Tasking]:
    name = path.name
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskingError(f"{name}: cannot read the tasking list ({exc})") from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    for column in COLUMNS:
        if column not in header:
            raise TaskingError(
                f"{name} line 1: {column}: missing column; the header line is {','.join(header)}"
            )
    at = {c: header.index(c) for c in COLUMNS}
    out = []
    for line, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
        if not cells["incident_ref"]:
            raise TaskingError(f"{name} line {line}: incident_ref: expected a value")
        try:
            day = dt.date.fromisoformat(cells["date"])
        except ValueError:
            raise TaskingError(f"{name} line {line}: date: expected a date as YYYY-MM-DD") from None
        people = tuple(p.strip() for p in cells["people"].split(";") if p.strip())
        phones = {normalise_phone(p, region) for p in people}
        out.append(
            Tasking(
                cells["incident_ref"],
                day,
                people,
                frozenset(p for p in phones if p and p.startswith("+")),
                frozenset(normalise_name(p) for p in people if not any(ch.isdigit() for ch in p)),
                line,
            )
        )
    return out


def explains(
    task: Tasking, when: dt.date, phone: str | None, name: str | None, ref: str | None
) -> bool:
    """Whether a lookup on local date ``when`` of these subject fields is explained by ``task``."""
    if not task.date <= when <= task.date + dt.timedelta(days=WINDOW_DAYS):
        return False
    if ref and ref.strip().lower() == task.reference.lower():
        return True
    if phone and phone in task.phones:
        return True
    return bool(name) and normalise_name(name) in task.names
