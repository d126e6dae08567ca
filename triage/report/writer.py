"""Render the HTML report from the case store (jinja2, autoescaped: evidence text is hostile)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from triage import __version__
from triage.analysers import Settings
from triage.casefile import Case
from triage.report.exports import write_findings_csv, write_findings_json, write_messages_csv
from triage.store import Store

REPORT_DIR = "report"


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("triage.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_report(store: Store, case: Case, out: Path, settings: Settings) -> Path:
    """Write ``index.html`` and the exports into ``out``; returns the index path."""
    env = environment()
    index = out / "index.html"
    context = {
        "version": __version__,
        "meta": store.meta(),
        "subject": case.subject_name,
        "sources": store.sources(),
        "skipped": store.skipped(),
        "warnings": store.warnings(),
        "counts": store.counts(),
        "findings": store.findings(),
        "settings": settings.values,
    }
    index.write_text(env.get_template("index.html.j2").render(**context), "utf-8")
    write_findings_json(store, out / "findings.json")
    write_messages_csv(store, out / "messages.csv")
    write_findings_csv(store, out / "findings.csv")
    return index
