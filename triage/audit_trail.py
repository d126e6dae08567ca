"""Police-system audit trails (CSV or XLSX) read through a mapping profile.

Force systems (records management, intelligence, command and control, PNC-style logs) export
their audit trails with different columns. A profile in ``profiles/audit/`` (or a YAML file next
to the case file) names the column of each field: time (with its strptime format and the zone of
times written without one), user, system, action, and the subject looked up (name, date of birth,
phone number, address, record reference). ``generic.yaml`` documents every key.

Rows are read as a stream: CSV through :mod:`csv`, XLSX through openpyxl's read-only mode, so an
export of millions of rows is read in bounded memory. A row whose time cannot be read is kept
(undated) and counted; an empty row is skipped and counted. A mapped column missing from the
header is an :class:`AuditMappingError`: one line naming the column and showing the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from triage.casefile import CaseFileError
from triage.identity import normalise_phone
from triage.model import AuditEvent, Provenance
from triage.shipped import profiles_dir as shipped_profiles

FIELDS = (
    "time",
    "user",
    "system",
    "action",
    "name",
    "date_of_birth",
    "phone",
    "address",
    "reference",
)
REQUIRED = ("time", "user")
FORMAT = "audit-trail"
VERSION = "1"


class AuditMappingError(CaseFileError):
    """A profile that does not fit the export (or is malformed), worded as one line."""


@dataclass
class AuditProfile:
    name: str
    path: Path
    sha256: str
    columns: dict[str, list[str]]
    time_format: str = "iso"
    time_zone: str = "case"
    system: str | None = None
    sheet: str | None = None
    description: str | None = None

    def settings(self) -> dict[str, object]:
        """What the manifest and method page record of the profile."""
        return {
            "name": self.name,
            "file": self.path.name,
            "sha256": self.sha256,
            "columns": {k: " + ".join(v) for k, v in self.columns.items()},
            "time_format": self.time_format,
            "time_zone": self.time_zone,
        }


def profiles_dir() -> Path:
    """``profiles/audit/`` shipped with triage."""
    return shipped_profiles("audit")


def load_profile(spec: str, base: Path | None = None) -> AuditProfile:
    """A profile by shipped name (``rms``) or by path (relative to ``base``, the case folder)."""
    candidates = [Path(spec)] if Path(spec).is_absolute() else []
    if base is not None and not candidates:
        candidates.append(base / spec)
    candidates.append(profiles_dir() / f"{spec}.yaml")
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise AuditMappingError(f"audit profile {spec!r}: not found (shipped: generic, rms)")
    raw = path.read_bytes()
    try:
        doc = yaml.safe_load(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AuditMappingError(f"{path.name}: not a readable YAML profile ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("columns"), dict):
        raise AuditMappingError(f"{path.name}: columns: expected a mapping of field: column")
    columns: dict[str, list[str]] = {}
    for key, value in doc["columns"].items():
        if key not in FIELDS:
            raise AuditMappingError(
                f"{path.name}: columns.{key}: unknown field; expected one of {', '.join(FIELDS)}"
            )
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(n, str) and n for n in names):
            raise AuditMappingError(f"{path.name}: columns.{key}: expected a column name")
        columns[key] = names
    for key in REQUIRED:
        if key not in columns:
            raise AuditMappingError(f"{path.name}: columns.{key}: missing (it is required)")
    zone = str(doc.get("time_zone", "case"))
    if zone != "case":
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise AuditMappingError(
                f"{path.name}: time_zone: {zone!r} is not a known zone"
            ) from None
    return AuditProfile(
        name=str(doc.get("name") or path.stem),
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        columns=columns,
        time_format=str(doc.get("time_format", "iso")),
        time_zone=zone,
        system=doc.get("system"),
        sheet=doc.get("sheet"),
        description=doc.get("description"),
    )


@dataclass
class AuditRead:
    """Counts of one file's reading, filled in while its rows are consumed."""

    rows: int = 0
    undated: int = 0
    empty: int = 0
    examples: list[str] = field(default_factory=list)


def _is_xlsx(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _rows(path: Path, profile: AuditProfile) -> Iterator[list[object]]:
    """The header row first, then every row, as lists of cell values."""
    if _is_xlsx(path):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book[profile.sheet] if profile.sheet else book.worksheets[0]
            for row in sheet.iter_rows(values_only=True):
                yield list(row)
        finally:
            book.close()
        return
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        yield from csv.reader(text)


def check_header(path: Path, label: str, profile: AuditProfile) -> list[str]:
    """The header of ``path``; raises :class:`AuditMappingError` when a mapped column is missing."""
    rows = _rows(path, profile)
    header = [str(c).strip() if c is not None else "" for c in next(rows, [])]
    rows.close()
    for key, names in profile.columns.items():
        for name in names:
            if name not in header:
                raise AuditMappingError(
                    f"{label}: mapped column {name!r} ({key}, profile {profile.name}) is not in"
                    f" the header line: {','.join(header) or '(empty)'}"
                )
    return header


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


class _Clock:
    def __init__(self, profile: AuditProfile, case_zone: str) -> None:
        self.fmt = profile.time_format
        self.zone = ZoneInfo(case_zone if profile.time_zone == "case" else profile.time_zone)

    def __call__(self, value: object) -> tuple[dt.datetime | None, bool]:
        """(UTC time, zone assumed) of a cell; (None, False) when it cannot be read."""
        if isinstance(value, dt.datetime):
            moment = value
        else:
            text = _text(value)
            if text is None:
                return None, False
            try:
                if self.fmt == "iso":
                    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                else:
                    moment = dt.datetime.strptime(text, self.fmt)
            except ValueError:
                return None, False
        if moment.tzinfo is None:
            # Earliest reading of a repeated hour, as the roster does for starts (fold=0).
            return moment.replace(tzinfo=self.zone).astimezone(dt.UTC), True
        return moment.astimezone(dt.UTC), False


def read_audit(
    path: Path,
    label: str,
    sha256: str,
    profile: AuditProfile,
    case_zone: str,
    region: str,
    read: AuditRead,
) -> Iterator[AuditEvent]:
    """Every row of one audit export as an :class:`AuditEvent`, with its row number (the header
    is row 1, as a spreadsheet numbers it)."""
    rows = _rows(path, profile)
    header = [str(c).strip() if c is not None else "" for c in next(rows, [])]
    where = {key: [header.index(n) for n in names] for key, names in profile.columns.items()}
    clock = _Clock(profile, case_zone)
    fmt = f"{FORMAT}:{profile.name}"

    def cell(row: list[object], key: str) -> str | None:
        idx = where.get(key)
        if not idx:
            return None
        parts = [_text(row[i]) if i < len(row) else None for i in idx]
        joined = " ".join(p for p in parts if p)
        return joined or None

    time_col = where["time"][0]
    for number, row in enumerate(rows, 2):
        if not any(_text(v) for v in row):
            read.empty += 1
            continue
        raw_time = row[time_col] if time_col < len(row) else None
        when, assumed = clock(raw_time)
        if when is None:
            read.undated += 1
            if len(read.examples) < 5:
                read.examples.append(f"row {number}: time {_text(raw_time)!r}")
        phone_raw = cell(row, "phone")
        read.rows += 1
        yield AuditEvent(
            timestamp_utc=when,
            timestamp_raw=_text(raw_time) or "",
            user=cell(row, "user") or "",
            source=Provenance(label, sha256, fmt, f"row {number}"),
            system=cell(row, "system") or profile.system,
            action=cell(row, "action"),
            subject_name=cell(row, "name"),
            subject_dob=cell(row, "date_of_birth"),
            subject_phone=normalise_phone(phone_raw, region) if phone_raw else None,
            subject_phone_raw=phone_raw,
            subject_address=cell(row, "address"),
            subject_ref=cell(row, "reference"),
            zone_assumed=assumed,
        )
