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
)


def write_messages_csv(store: Store, path: Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MESSAGE_COLUMNS)
        for stored in store.messages():
            m = stored.message
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        stored.id,
                        iso_utc(m.timestamp_utc),
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
