"""The meta aggregate: run settings, sources read, warnings, skipped files, analysers that ran."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triage.store.codec import dumps, loads

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE sources (
  id INTEGER PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT, size INTEGER, format TEXT,
  parser_version TEXT, messages INTEGER DEFAULT 0, contacts INTEGER DEFAULT 0,
  duplicates INTEGER DEFAULT 0, error TEXT, device TEXT);
CREATE TABLE warnings (
  id INTEGER PRIMARY KEY, file TEXT, category TEXT, count INTEGER, examples TEXT);
CREATE TABLE skipped (id INTEGER PRIMARY KEY, file TEXT, reason TEXT);
CREATE TABLE analysers_run (name TEXT PRIMARY KEY, version TEXT, position INTEGER);
"""


class MetaAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = SCHEMA
    conn: Any

    def set_meta(self, **values: Any) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, dumps(v)) for k, v in sorted(values.items())],
            )

    def meta(self) -> dict[str, Any]:
        return {
            k: (loads(v) if k != "schema_version" else v)
            for k, v in self.conn.execute("SELECT key, value FROM meta ORDER BY key")
        }

    def add_source(
        self,
        file: str,
        sha256: str,
        size: int,
        fmt: str,
        parser_version: str,
        device: str | None = None,
    ) -> int:
        """A source read; ``device`` is the key of the case file device it came from."""
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO sources (file, sha256, size, format, parser_version, device)"
                " VALUES (?,?,?,?,?,?)",
                (file, sha256, size, fmt, parser_version, device),
            )
        return int(cur.lastrowid)

    def finish_source(self, source_id: int, error: str | None = None) -> None:
        with self.conn:
            self.conn.execute(
                """UPDATE sources SET
                     messages = (SELECT COUNT(*) FROM messages WHERE source_id = :s),
                     contacts = (SELECT COUNT(*) FROM contact_entries WHERE source_id = :s),
                     duplicates = (SELECT COUNT(*) FROM duplicates WHERE source_id = :s),
                     error = :e
                   WHERE id = :s""",
                {"s": source_id, "e": error},
            )

    def sources(self) -> list[dict[str, Any]]:
        cols = (
            "id",
            "file",
            "sha256",
            "size",
            "format",
            "parser_version",
            "messages",
            "contacts",
            "duplicates",
            "error",
            "device",
        )
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM sources ORDER BY id")
        ]

    def add_warnings(self, warnings: Iterable[tuple[str, str, int, list[str]]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO warnings (file, category, count, examples) VALUES (?,?,?,?)",
                [(f, c, n, dumps(e)) for f, c, n, e in warnings],
            )

    def warnings(self) -> list[dict[str, Any]]:
        return [
            {"file": f, "category": c, "count": n, "examples": loads(e)}
            for f, c, n, e in self.conn.execute(
                "SELECT file, category, count, examples FROM warnings ORDER BY id"
            )
        ]

    def add_skipped(self, rows: Iterable[tuple[str, str]]) -> None:
        with self.conn:
            self.conn.executemany("INSERT INTO skipped (file, reason) VALUES (?, ?)", list(rows))

    def skipped(self) -> list[dict[str, str]]:
        return [
            {"file": f, "reason": r}
            for f, r in self.conn.execute("SELECT file, reason FROM skipped ORDER BY id")
        ]

    def record_analyser(self, name: str, version: str) -> None:
        """Say that an analyser ran to completion (the report names analyses that did not)."""
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO analysers_run VALUES (?, ?,"
                " (SELECT COUNT(*) FROM analysers_run WHERE name <> ?))",
                (name, version, name),
            )

    def analysers_run(self) -> dict[str, str]:
        """name -> version of every analyser that ran, in the order they ran."""
        return dict(
            self.conn.execute("SELECT name, version FROM analysers_run ORDER BY position, name")
        )
