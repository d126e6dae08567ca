"""The media aggregate: picture hash records (the cache), pictures found, exhibits, matches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from triage.store.chunks import in_chunks
from triage.store.codec import dumps, loads

SCHEMA = """
CREATE TABLE media (
  sha256 TEXT PRIMARY KEY, data TEXT);
CREATE TABLE media_files (
  id INTEGER PRIMARY KEY, file TEXT, sha256 TEXT, size INTEGER, format TEXT, error TEXT,
  device TEXT);
CREATE INDEX media_files_file ON media_files (file);
CREATE TABLE exhibits (
  id TEXT, reference TEXT, kind TEXT, description TEXT, sensitive INTEGER, sha256 TEXT,
  md5 TEXT, sha1 TEXT, copy TEXT, data TEXT);
CREATE TABLE media_matches (
  id INTEGER PRIMARY KEY, exhibit_id TEXT, reference TEXT, file TEXT, sha256 TEXT, method TEXT,
  distance INTEGER, band TEXT, orientation TEXT, via TEXT, copy TEXT, data TEXT,
  attachment_id INTEGER);
"""


def media_records_at(path: Path) -> list[dict[str, Any]]:
    """The hash records of the store at ``path`` (an earlier run's), or none when there is no
    readable store there."""
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT data FROM media ORDER BY sha256").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return []
    return [loads(data) for (data,) in rows]


class MediaAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = SCHEMA
    conn: Any

    def media_get_many(self, sha256s: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = sorted(set(sha256s))
        out: dict[str, dict[str, Any]] = {}
        for chunk, marks in in_chunks(keys):
            for sha, data in self.conn.execute(
                f"SELECT sha256, data FROM media WHERE sha256 IN ({marks})",
                chunk,
            ):
                out[sha] = loads(data)
        return out

    def media_put_many(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO media (sha256, data) VALUES (?, ?)",
                [(sha, dumps(data)) for sha, data in records],
            )

    def add_media_files(
        self, rows: Iterable[tuple[str, str | None, int, str | None, str | None]]
    ) -> None:
        """(logical path, sha256, size, format, error) of every picture inventoried."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO media_files (file, sha256, size, format, error) VALUES (?,?,?,?,?)",
                list(rows),
            )

    def set_media_devices(self, rows: Iterable[tuple[str, str | None]]) -> None:
        """(logical path, device key) of pictures: the case file device each was found on."""
        with self.conn:
            self.conn.executemany(
                "UPDATE media_files SET device = ? WHERE file = ?",
                [(device, file) for file, device in rows],
            )

    def media_devices(self) -> dict[str, str | None]:
        """logical path -> device key of every picture inventoried."""
        return dict(self.conn.execute("SELECT file, device FROM media_files ORDER BY id"))

    def media_files(self) -> list[dict[str, Any]]:
        cols = ("file", "sha256", "size", "format", "error")
        return [
            dict(zip(cols, row, strict=True))
            for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM media_files ORDER BY id")
        ]

    def add_exhibits(self, rows: Iterable[dict[str, Any]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO exhibits VALUES (:id, :reference, :kind, :description, :sensitive,"
                " :sha256, :md5, :sha1, :copy, :data)",
                [{**r, "data": dumps(r.get("data", {}))} for r in rows],
            )

    def exhibits(self) -> list[dict[str, Any]]:
        cols = (
            "id",
            "reference",
            "kind",
            "description",
            "sensitive",
            "sha256",
            "md5",
            "sha1",
            "copy",
            "data",
        )
        out = []
        for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM exhibits ORDER BY rowid"):
            item = dict(zip(cols, row, strict=True))
            item["data"] = loads(item["data"])
            item["sensitive"] = bool(item["sensitive"])
            out.append(item)
        return out

    def add_media_matches(self, rows: Iterable[dict[str, Any]]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO media_matches (exhibit_id, reference, file, sha256, method, distance,"
                " band, orientation, via, copy, data, attachment_id) VALUES (:exhibit_id,"
                " :reference, :file, :sha256, :method, :distance, :band, :orientation, :via,"
                " :copy, :data, :attachment_id)",
                [{"attachment_id": None, **r, "data": dumps(r.get("data", {}))} for r in rows],
            )

    def media_matches(self) -> list[dict[str, Any]]:
        cols = (
            "exhibit_id",
            "reference",
            "file",
            "sha256",
            "method",
            "distance",
            "band",
            "orientation",
            "via",
            "copy",
            "data",
            "attachment_id",
        )
        out = []
        for row in self.conn.execute(f"SELECT {', '.join(cols)} FROM media_matches ORDER BY id"):
            item = dict(zip(cols, row, strict=True))
            item["data"] = loads(item["data"])
            out.append(item)
        return out
