"""Spreadsheet- and machine-friendly exports written beside the HTML report.

``findings.json`` (schema in the README), ``messages.csv`` and ``findings.csv`` (UTF-8 with a BOM
so spreadsheet programs open them as UTF-8; cells that start with = + - @ are prefixed with an
apostrophe so a message body can never run as a formula).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from triage.casefile import Case
from triage.model import iso_utc
from triage.store import Store

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FINDINGS_SCHEMA = 1


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_findings_json(store: Store, path: Path) -> None:
    findings = store.findings()
    messages = {m.id: m for m in store.messages_by_ids(r for f in findings for r in f.refs)}
    data = {
        "schema": FINDINGS_SCHEMA,
        "case": store.meta(),
        "findings": [
            {
                "id": f.id,
                "analyser": f.analyser,
                "rule": f.rule,
                "subject": f.subject,
                "title": f.title,
                "why": f.why,
                "weight": f.weight,
                "data": f.data,
                "refs": [
                    {
                        "message_id": ref,
                        "timestamp_utc": iso_utc(messages[ref].message.timestamp_utc),
                        "file": messages[ref].message.source.file,
                        "sha256": messages[ref].message.source.sha256,
                        "format": messages[ref].message.source.format,
                        "locator": messages[ref].message.source.locator,
                    }
                    for ref in f.refs
                    if ref in messages
                ],
            }
            for f in findings
        ],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", "utf-8")


MESSAGE_COLUMNS = (
    "message_id",
    "timestamp_utc",
    "timestamp_local",
    "zone_assumed",
    "platform",
    "conversation",
    "conversation_title",
    "direction",
    "sender",
    "sender_id",
    "recipients",
    "kind",
    "deleted",
    "edited",
    "body",
    "attachments",
    "source_file",
    "source_sha256",
    "source_format",
    "source_locator",
    "case_contact_key",
    "case_contact",
    "duty_status",
    "night",
)


def write_messages_csv(store: Store, path: Path, case: Case | None = None) -> None:
    """One row per message; the case contact and duty columns come from the analysers' labels
    and are empty when no analyser labelled the message."""
    contact_labels = store.labels("contacts", "contact")
    status_labels = store.labels("duty", "status")
    night_labels = store.labels("duty", "night")
    names = {c.key: c.name for c in case.contacts} if case else {}
    zone = ZoneInfo(case.timezone) if case else None
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MESSAGE_COLUMNS)
        for stored in store.messages():
            m = stored.message
            contact = contact_labels.get(stored.id)
            night = night_labels.get(stored.id)
            local = (
                m.timestamp_utc.astimezone(zone).isoformat()
                if zone is not None and m.timestamp_utc is not None
                else ""
            )
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        stored.id,
                        iso_utc(m.timestamp_utc),
                        local,
                        int(m.zone_assumed),
                        m.platform,
                        m.conversation.id,
                        m.conversation.title,
                        m.direction,
                        m.sender.raw if m.sender else "",
                        m.sender.id if m.sender else "",
                        "; ".join(p.raw for p in m.recipients),
                        m.kind,
                        int(m.deleted),
                        int(m.edited),
                        m.body or "",
                        "; ".join(a.path or a.name or "" for a in m.attachments),
                        m.source.file,
                        m.source.sha256,
                        m.source.format,
                        m.source.locator,
                        contact or "",
                        names.get(contact or "", ""),
                        status_labels.get(stored.id) or "",
                        "" if night is None else int(bool(night)),
                    )
                ]
            )


def write_findings_csv(store: Store, path: Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ("finding_id", "analyser", "rule", "subject", "title", "why", "weight", "message_ids")
        )
        for f in store.findings():
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        f.id,
                        f.analyser,
                        f.rule,
                        f.subject or "",
                        f.title,
                        f.why,
                        f.weight,
                        " ".join(str(r) for r in f.refs),
                    )
                ]
            )
