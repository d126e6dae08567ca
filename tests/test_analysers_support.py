"""Builders shared by the analyser tests: small real mmssms.db files and case files.

The databases follow the AOSP ``MmsSmsDatabaseHelper`` schema (as ``tests/test_run.py``); the
Samsung variant declares ``sms._id`` AUTOINCREMENT so SQLite keeps its high-water mark in
``sqlite_sequence``. They are read by the real ``android_mmssms`` parser through ``run_case``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from triage.casefile import load_case
from triage.run import RunResult, run_case
from triage.store import Finding, Store

LONDON = ZoneInfo("Europe/London")

SMS_AOSP = """CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT,
  person INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0, protocol INTEGER,
  read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER,
  subject TEXT, body TEXT, service_center TEXT, locked INTEGER DEFAULT 0,
  sub_id INTEGER DEFAULT -1, error_code INTEGER DEFAULT -1, creator TEXT, seen INTEGER DEFAULT 0);"""
SMS_SAMSUNG = SMS_AOSP.replace("_id INTEGER PRIMARY KEY,", "_id INTEGER PRIMARY KEY AUTOINCREMENT,")
OTHER_TABLES = """
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0,
  message_count INTEGER DEFAULT 0, recipient_ids TEXT, snippet TEXT);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT);
"""


@dataclass
class Sms:
    """One row: ``when`` is local wall time in Europe/London ("2026-03-28 23:40") or an aware
    datetime; ``thread`` groups rows into one conversation (default: one per address)."""

    id: int
    address: str
    when: str | dt.datetime
    direction: str  # "in" | "out"
    body: str = "text"
    thread: str | None = None

    def utc(self) -> dt.datetime:
        if isinstance(self.when, dt.datetime):
            return self.when.astimezone(dt.UTC)
        return dt.datetime.fromisoformat(self.when).replace(tzinfo=LONDON).astimezone(dt.UTC)

    def ms(self) -> int:
        return int(self.utc().timestamp() * 1000)


def build_mmssms(
    path: Path, rows: list[Sms], autoincrement: bool = False, high_water: int | None = None
) -> Path:
    """Write an mmssms.db holding ``rows`` (ids as given: holes are holes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript((SMS_SAMSUNG if autoincrement else SMS_AOSP) + OTHER_TABLES)
    threads: dict[str, int] = {}
    for row in rows:
        key = row.thread or row.address
        if key not in threads:
            cur = conn.execute(
                "INSERT INTO canonical_addresses (address) VALUES (?)", (row.address,)
            )
            addr = cur.lastrowid
            cur = conn.execute("INSERT INTO threads (recipient_ids) VALUES (?)", (str(addr),))
            threads[key] = int(cur.lastrowid)
        conn.execute(
            "INSERT INTO sms (_id, thread_id, address, date, type, body, read, seen)"
            " VALUES (?,?,?,?,?,?,1,1)",
            (
                row.id,
                threads[key],
                row.address,
                row.ms(),
                1 if row.direction == "in" else 2,
                row.body,
            ),
        )
    if autoincrement and high_water is not None:
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'sms'", (high_water,))
    conn.commit()
    conn.close()
    return path


def write_case(folder: Path, body: str) -> Path:
    """A case file: ``body`` is YAML after the ``case:`` block (contacts, roster, sources...)."""
    path = folder / "case.yaml"
    path.write_text(
        "case:\n  reference: TEST/ANALYSERS\n  timezone: Europe/London\n  region: GB\n"
        'subject:\n  name: PC Test\n  identifiers:\n    - phone: "07700 900001"\n' + body,
        "utf-8",
    )
    return path


@dataclass
class Run:
    result: RunResult
    store: Store

    def findings(self, rule: str, subject: Any = ...) -> list[Finding]:
        return [
            f
            for f in self.store.findings()
            if f.rule == rule and (subject is ... or f.subject == subject)
        ]

    def one(self, rule: str, subject: Any = ...) -> Finding:
        found = self.findings(rule, subject)
        assert len(found) == 1, f"{rule} {subject}: {len(found)} findings"
        return found[0]

    def locator(self, message_id: int) -> str:
        return self.store.messages_by_ids([message_id])[0].message.source.locator

    def locators(self, ids: list[int]) -> list[str]:
        return [self.locator(i) for i in ids]

    def by_locator(self) -> dict[str, int]:
        return {s.message.source.locator: s.id for s in self.store.messages()}

    def findings_json(self) -> dict[str, Any]:
        return json.loads((self.result.out / "findings.json").read_text("utf-8"))


def run(case_path: Path, out: Path, report: bool = True) -> Run:
    result = run_case(load_case(case_path), out, report=report)
    return Run(result, Store.open(result.store_path))
