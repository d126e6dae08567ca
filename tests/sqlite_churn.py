"""Message databases with known insert/update/delete history, for recovery tests and the benchmark.

Each table is one of the real message tables recovery targets, with its real CREATE statement
(taken from the fixture generators, which cite where each schema comes from): WhatsApp Android
``message``, AOSP ``sms``, iOS ``message`` and Messenger ``threads_db2`` ``messages``. Every row
carries a unique token in its key or text column, so a test can tell which deleted rows are still
physically in the file (their token's bytes are) and whether a recovered record is a real one.
"""

from __future__ import annotations

import importlib.util
import random
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _fixture_module(folder: str):  # noqa: ANN202 - a module object
    spec = importlib.util.spec_from_file_location(
        f"{folder}_churn_fixtures", ROOT / "fixtures" / folder / "make_fixtures.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _create(schema: str, table: str) -> str:
    start = schema.index(f"CREATE TABLE {table} ")
    return schema[start : schema.index(";", start)] if ";" in schema[start:] else schema[start:]


WORDS = "ok see you later where are you call me now please stop tonight sorry thanks".split()
T0 = 1_774_000_000_000  # March 2026, in ms


def _text(rng: random.Random, token: str, long: bool) -> str:
    n = rng.randint(60, 400) if long else rng.randint(1, 12)
    return f"{token} " + " ".join(rng.choice(WORDS) for _ in range(n))


def _whatsapp(i: int, rng: random.Random, long: bool) -> dict[str, Any]:
    t = T0 + i * 61_000
    return {
        "_id": i,
        "chat_row_id": rng.randint(1, 9),
        "from_me": rng.randint(0, 1),
        "key_id": f"3EB0{i:016X}",
        "sender_jid_row_id": 0,
        "status": rng.choice([0, 5, 13]),
        "broadcast": 0,
        "recipient_count": 0,
        "origination_flags": 0,
        "origin": 0,
        "timestamp": t,
        "received_timestamp": t + 900,
        "receipt_server_timestamp": -1,
        "message_type": 0,
        "text_data": _text(rng, f"wa{i}", long),
        "starred": 0,
        "lookup_tables": 0,
        "sort_id": i,
        "message_add_on_flags": 0,
        "view_mode": 0,
    }


def _sms(i: int, rng: random.Random, long: bool) -> dict[str, Any]:
    t = T0 + i * 47_000
    return {
        "_id": i,
        "thread_id": rng.randint(1, 6),
        "address": f"+4477009{rng.randint(0, 99999):05d}",
        "date": t,
        "date_sent": t - 2000,
        "read": 1,
        "status": -1,
        "type": rng.choice([1, 2]),
        "body": _text(rng, f"sms{i}", long),
        "locked": 0,
        "sub_id": 1,
        "error_code": 0,
        "seen": 1,
    }


def _ios(i: int, rng: random.Random, long: bool) -> dict[str, Any]:
    return {
        "ROWID": i,
        "guid": f"6F9619FF-8B86-D011-B42D-{i:012X}",
        "text": _text(rng, f"ios{i}", long),
        "handle_id": rng.randint(1, 5),
        "service": rng.choice(["iMessage", "SMS"]),
        "account": "e:owner@example.com",
        "date": 795_000_000_000_000_000 + i * 10**9,
        "date_read": 0,
        "date_delivered": 0,
        "is_from_me": rng.randint(0, 1),
        "is_read": 1,
        "is_sent": 1,
    }


def _messenger(i: int, rng: random.Random, long: bool) -> dict[str, Any]:
    t = T0 + i * 33_000
    return {
        "msg_id": f"mid.$cAAAA{i:010d}",
        "thread_key": f"ONE_TO_ONE:{rng.randint(100, 105)}:100000000000001",
        "text": _text(rng, f"fb{i}", long),
        "sender": '{"user_key":"FACEBOOK:100000000000001","name":"Dan Reeve"}',
        "timestamp_ms": t,
        "timestamp_sent_ms": t,
        "msg_type": 0,
    }


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    create: str
    make: Any
    token_column: str
    key_columns: tuple[str, ...]
    rowid_column: str | None


def kinds() -> dict[str, Kind]:
    wa = _fixture_module("whatsapp_db")
    sms = _fixture_module("sms")
    messenger_create = (
        "CREATE TABLE messages (msg_id TEXT PRIMARY KEY, thread_key TEXT, action_id INTEGER,"
        " subject TEXT, text TEXT, sender TEXT, timestamp_ms INTEGER, timestamp_sent_ms INTEGER,"
        " msg_type INTEGER, attachments TEXT, shares TEXT, snippet TEXT,"
        " generic_admin_message_extensible_data TEXT)"
    )
    assert messenger_create.split("(", 1)[1][:40] in " ".join(
        Path(ROOT / "fixtures/messenger/make_fixtures.py").read_text().split()
    )
    return {
        "whatsapp": Kind(
            "whatsapp",
            "message",
            _create(wa.CURRENT_SCHEMA, "message"),
            _whatsapp,
            "text_data",
            ("key_id",),
            "_id",
        ),
        "sms": Kind("sms", "sms", sms.AOSP_SMS, _sms, "body", (), "_id"),
        "ios": Kind("ios", "message", sms.IOS16_MESSAGE, _ios, "text", ("guid",), "ROWID"),
        "messenger": Kind(
            "messenger", "messages", messenger_create, _messenger, "text", ("msg_id",), None
        ),
    }


@dataclass
class Churned:
    """A churned database and what happened to each row (by its token)."""

    kind: Kind
    db: Path
    wal: Path | None
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated: set[str] = field(default_factory=set)
    live: set[str] = field(default_factory=set)

    def physically_present(self) -> set[str]:
        """Tokens of deleted rows whose token bytes are still in the database or its WAL."""
        data = self.db.read_bytes() + (self.wal.read_bytes() if self.wal else b"")
        return {t for t in self.deleted if (t + " ").encode() in data}


def token_of(kind: Kind, row: dict[str, Any]) -> str | None:
    text = row.get(kind.token_column)
    return text.split(" ", 1)[0] if isinstance(text, str) else None


def churn(
    folder: Path,
    kind_name: str,
    page_size: int = 4096,
    auto_vacuum: str = "none",
    secure_delete: bool = False,
    wal: bool = False,
    rows: int = 240,
    seed: int = 7,
) -> Churned:
    """Insert ``rows`` rows (a tenth of them long enough to spill to overflow pages at small page
    sizes), then delete, update and insert in rounds, committing as an app would."""
    kind = kinds()[kind_name]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind_name}-{page_size}-{auto_vacuum}-{int(secure_delete)}-{int(wal)}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA page_size={page_size}")
    conn.execute(f"PRAGMA auto_vacuum={auto_vacuum.upper()}")
    conn.execute(f"PRAGMA secure_delete={'ON' if secure_delete else 'OFF'}")
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(kind.create)
    out = Churned(kind, path, None)
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({kind.table})")]
    next_id = 1

    def insert(n: int) -> None:
        nonlocal next_id
        conn.execute("BEGIN")
        for _ in range(n):
            row = kind.make(next_id, rng, rng.random() < 0.1)
            next_id += 1
            names = [c for c in row if c in columns]
            conn.execute(
                f"INSERT INTO {kind.table} ({','.join(names)}) VALUES ({','.join('?' * len(names))})",
                [row[c] for c in names],
            )
            token = token_of(kind, row)
            out.versions[token] = [row]
            out.live.add(token)
        conn.execute("COMMIT")

    def delete(fraction: float) -> None:
        victims = rng.sample(sorted(out.live), int(len(out.live) * fraction))
        conn.execute("BEGIN")
        for token in victims:
            row = out.versions[token][-1]
            key = kind.rowid_column or kind.key_columns[0]
            conn.execute(f"DELETE FROM {kind.table} WHERE {key} = ?", (row[key],))
            out.live.discard(token)
            out.deleted[token] = row
        conn.execute("COMMIT")

    def update(fraction: float) -> None:
        victims = rng.sample(sorted(out.live), int(len(out.live) * fraction))
        conn.execute("BEGIN")
        for token in victims:
            row = dict(out.versions[token][-1])
            row[kind.token_column] = f"{token} edited {rng.choice(WORDS)} {rng.randint(0, 999)}"
            key = kind.rowid_column or kind.key_columns[0]
            conn.execute(
                f"UPDATE {kind.table} SET {kind.token_column} = ? WHERE {key} = ?",
                (row[kind.token_column], row[key]),
            )
            out.versions[token].append(row)
            out.updated.add(token)
        conn.execute("COMMIT")

    insert(rows)
    delete(0.15)
    update(0.05)
    insert(rows // 4)
    delete(0.1)
    if auto_vacuum == "incremental":
        conn.execute("PRAGMA incremental_vacuum(2)")
    if wal:
        copy = folder / ("copy-" + path.name)
        shutil.copyfile(path, copy)
        shutil.copyfile(str(path) + "-wal", str(copy) + "-wal")
        conn.close()
        path.unlink()
        Path(str(path) + "-wal").unlink(missing_ok=True)
        Path(str(path) + "-shm").unlink(missing_ok=True)
        copy.rename(path)
        Path(str(copy) + "-wal").rename(str(path) + "-wal")
        out.wal = Path(str(path) + "-wal")
    else:
        conn.close()
    return out


@dataclass
class Score:
    present: int = 0
    recovered: int = 0
    complete: int = 0
    false_records: int = 0
    changed_found: int = 0
    changed_total: int = 0
    records: int = 0
    missed: list[str] = field(default_factory=list)
    false_examples: list[Any] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.recovered / self.present if self.present else 1.0


def score(churned: Churned, result: Any) -> Score:
    """Compare recovered records with the known history.

    A recovered record is true when its token names a row and every surviving field equals that
    row's value in one of its versions; otherwise it is a false record. A deleted row still
    physically present counts as recovered when a true ``deleted`` record of it was found.
    """
    kind = churned.kind
    s = Score()
    present = churned.physically_present()
    s.present = len(present)
    s.changed_total = len(churned.updated & churned.live)
    recovered: set[str] = set()
    complete: set[str] = set()
    for record in result.records:
        if record.table != kind.table:
            continue
        s.records += 1
        token = token_of(kind, record.fields)
        if token is None:  # text lost: match the surviving fields against every row
            versions = [v for vs in churned.versions.values() for v in vs]
        else:
            versions = churned.versions.get(token, [])
        true = any(
            all(v.get(c) == value for c, value in record.fields.items() if c in v or value)
            for v in versions
        )
        if not true:
            s.false_records += 1
            if len(s.false_examples) < 3:
                s.false_examples.append((record.source.describe(), record.fields))
            continue
        if record.status == "deleted" and token in churned.deleted:
            recovered.add(token)
            if not record.lost or record.lost == (kind.rowid_column,):
                complete.add(token)
        if record.status == "changed" and token in churned.updated:
            s.changed_found += 1
    s.recovered = len(recovered & present)
    s.complete = len(complete & present)
    s.missed = sorted(present - recovered)
    return s
