"""The chronology export: every event of every contact's chronology as one CSV row.

A pure view of the ``chronology.timeline`` findings the chronology analyser wrote to the store.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from triage.report.exports import analyser_findings
from triage.store import Finding, Store

COLUMNS = (
    "contact",
    "seq",
    "time_utc",
    "local",
    "kind",
    "title",
    "source_kind",
    "source_id",
    "file",
    "sha256",
    "locator",
)


def timelines(store: Store, findings: Sequence[Finding] | None = None) -> list[Finding]:
    """The timeline findings (of ``findings`` when the caller has read the store's)."""
    chronologies = analyser_findings(store, "chronology", findings)
    return [f for f in chronologies if f.rule == "chronology.timeline"]


def write_chronology_csv(
    store: Store, path: Path, findings: Sequence[Finding] | None = None
) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for f in timelines(store, findings):
            for e in f.data["events"]:
                s = e["source"]
                ident = next(
                    (s[k] for k in ("message_id", "call_id", "audit_id", "finding_id") if k in s),
                    s.get("field") or s.get("week_start"),
                )
                writer.writerow(
                    [
                        f.data["name"],
                        e["seq"],
                        e["time_utc"],
                        e["local"],
                        e["kind"],
                        e["title"],
                        s["kind"],
                        ident,
                        s.get("file"),
                        s.get("sha256"),
                        s.get("locator"),
                    ]
                )
