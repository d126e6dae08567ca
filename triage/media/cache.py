"""Hash records and the cache that keeps them, keyed by the SHA-256 of the file's bytes.

The same picture appears many times on a phone (WhatsApp ``Sent``, gallery, backups) and a case is
run again and again, so perceptual hashes are computed once per distinct content and pipeline.
The case store implements :class:`HashCache` too; :class:`SqliteHashCache` is the standalone form
behind ``--cache FILE``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from triage.media.pipeline import PIPELINE_VERSION


@dataclass(slots=True)
class HashRecord:
    """Everything hashed from one file's content. Hashes are lowercase hex strings.

    ``phash``/``dhash`` are 64-bit imagehash values (16 hex), ``pdq`` 256 bits (64 hex) with its
    quality 0–100. ``*_trim`` are the same hashes after bars/borders were cut (``trim_box`` =
    left, top, right, bottom in working-image pixels), ``None`` when nothing was cut. ``error``
    is set, and the perceptual fields left empty, when the picture could not be decoded.
    """

    sha256: str
    md5: str
    sha1: str
    size: int
    format: str | None
    pipeline: str = PIPELINE_VERSION
    width: int | None = None
    height: int | None = None
    phash: str | None = None
    dhash: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    trim_box: list[int] | None = None
    phash_trim: str | None = None
    dhash_trim: str | None = None
    pdq_trim: str | None = None
    pdq_trim_quality: int | None = None
    # Candidate regions for the crop-resistant tier (triage.media.regions): box in the picture's
    # own pixels, phash, dhash; empty for pictures that are one textured whole (most photos).
    regions: list[dict[str, Any]] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HashRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@runtime_checkable
class HashCache(Protocol):
    """Where hash records are kept between runs.

    ``get_many`` returns the records it holds for the given SHA-256 values *made by the current*
    :data:`PIPELINE_VERSION` (records of another pipeline are never comparable); ``put_many``
    stores records, replacing any with the same (sha256, pipeline).
    """

    def get_many(self, sha256s: Iterable[str]) -> dict[str, HashRecord]: ...

    def put_many(self, records: Iterable[HashRecord]) -> None: ...


class MemoryHashCache:
    """A dict-backed :class:`HashCache` for one process."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], HashRecord] = {}

    def get_many(self, sha256s: Iterable[str]) -> dict[str, HashRecord]:
        out = {}
        for sha in sha256s:
            record = self._records.get((sha, PIPELINE_VERSION))
            if record is not None:
                out[sha] = record
        return out

    def put_many(self, records: Iterable[HashRecord]) -> None:
        for record in records:
            self._records[(record.sha256, record.pipeline)] = record

    def __len__(self) -> int:
        return len(self._records)


class SqliteHashCache:
    """A :class:`HashCache` in a standalone SQLite file (never an evidence file)."""

    BATCH = 500  # stay well under SQLite's bound-parameter limit

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS media_hash ("
            " sha256 TEXT NOT NULL, pipeline TEXT NOT NULL, record TEXT NOT NULL,"
            " PRIMARY KEY (sha256, pipeline))"
        )
        self.conn.commit()

    def get_many(self, sha256s: Iterable[str]) -> dict[str, HashRecord]:
        wanted = list(dict.fromkeys(sha256s))
        out: dict[str, HashRecord] = {}
        for start in range(0, len(wanted), self.BATCH):
            batch = wanted[start : start + self.BATCH]
            marks = ",".join("?" * len(batch))
            rows = self.conn.execute(
                f"SELECT sha256, record FROM media_hash WHERE pipeline = ? AND sha256 IN ({marks})",
                [PIPELINE_VERSION, *batch],
            )
            for sha, text in rows:
                out[sha] = HashRecord.from_dict(json.loads(text))
        return out

    def put_many(self, records: Iterable[HashRecord]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO media_hash (sha256, pipeline, record) VALUES (?, ?, ?)",
            ((r.sha256, r.pipeline, json.dumps(r.to_dict())) for r in records),
        )
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SqliteHashCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StoreHashCache:
    """:class:`HashCache` over a store with ``media_get_many``/``media_put_many`` of plain dicts
    keyed by SHA-256 (the case store's media table holds one record per content, so a record made
    by another pipeline is treated as absent and replaced when the content is hashed again)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get_many(self, sha256s: Iterable[str]) -> dict[str, HashRecord]:
        out = {}
        for sha, data in self.store.media_get_many(sha256s).items():
            if data.get("pipeline") == PIPELINE_VERSION:
                out[sha] = HashRecord.from_dict(data)
        return out

    def put_many(self, records: Iterable[HashRecord]) -> None:
        self.store.media_put_many((r.sha256, r.to_dict()) for r in records)
