"""The run manifest: everything needed to reproduce and check a run.

``manifest.json`` records the tool and Python versions, the case file's SHA-256, every input with
its size and SHA-256 before and after, every parser used with its version, the settings and
timezone, counts per source, every warning and every decision a parser made. Apart from
``run.started``/``run.finished``/``run.seconds`` the same inputs give the same manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from triage import __version__
from triage.casefile import Case
from triage.coverage import source_facts
from triage.ingest import SourceResult
from triage.registry import Parser
from triage.views import stored_as

MANIFEST_NAME = "manifest.json"
#: Keys that differ between otherwise identical runs.
VOLATILE = ("started", "finished", "seconds")


def write_manifest(
    out: Path,
    *,
    case: Case,
    started: dt.datetime,
    finished: dt.datetime,
    inputs: list[dict[str, Any]],
    sources: list[SourceResult],
    skipped: list[tuple[str, str]],
    warnings: list[dict[str, Any]],
    decisions: dict[str, dict[str, Any]],
    settings: dict[str, Any],
    counts: dict[str, int],
    changed: list[str],
    not_read: list[dict[str, Any]] | None = None,
    media_cache: dict[str, int] | None = None,
    devices: list[dict[str, Any]] | None = None,
    parsers: Iterable[Parser],
) -> Path:
    """Write ``manifest.json`` into ``out``; ``parsers`` are those detection chose for the
    sources (the ones read are listed: taken from detection, not by importing every parser
    module, which a run reading one database does not otherwise need)."""
    used = {s.parser for s in sources}
    listed = {p.name: p for p in parsers if p.name in used}
    manifest = {
        "tool": {"name": "triage", "version": __version__},
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "run": {
            "started": started.isoformat().replace("+00:00", "Z"),
            "finished": finished.isoformat().replace("+00:00", "Z"),
            "seconds": round((finished - started).total_seconds(), 3),
            "evidence_unchanged": not changed,
            "evidence_changes": changed,
        },
        "case": {
            "file": case.path.name,
            "sha256": case.sha256,
            "reference": case.reference,
            "timezone": case.timezone,
            "region": case.region,
        },
        "settings": settings,
        # Picture hashes decoded this run or reused from the previous store in the same output
        # folder; the case store and report are identical either way.
        "media_cache": media_cache or {},
        "parsers": [
            {"name": p.name, "version": p.version, "description": p.description}
            for _, p in sorted(listed.items())
        ],
        "inputs": inputs,
        # The devices examined (triage.devices.devices_examined): kind, identifiers, sources.
        "devices": devices or [],
        "sources": [
            {
                "file": s.file.logical,
                "sha256": s.file.sha256,
                "stored_as": stored_as(s.file),
                "size": s.file.size,
                "parser": s.parser,
                "parser_version": s.parser_version,
                "counts": dict(sorted(s.counts.items())),
                # Rows or parts skipped while reading it, by reason (details under "warnings").
                "skipped_by_reason": _problems(warnings, s.file.logical),
                "recognised": source_facts(decisions.get(s.file.logical, {})),
                "error": s.error,
            }
            for s in sources
        ],
        "skipped": [{"file": f, "reason": r} for f, r in skipped],
        "not_read": not_read or [],
        "decisions": decisions,
        "warnings": warnings,
        "counts": counts,
    }
    path = out / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    return path


def _problems(warnings: list[dict[str, Any]], file: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for warning in warnings:
        if warning["file"] == file:
            out[warning["category"]] = out.get(warning["category"], 0) + warning["count"]
    return dict(sorted(out.items()))


def stable_view(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without the run's own timestamps, for comparing two runs."""
    copy = json.loads(json.dumps(manifest))
    for key in VOLATILE:
        copy["run"].pop(key, None)
    return copy
