"""Benchmark: the Android WhatsApp parser on a 1,000,000-row current-schema msgstore.db.

    python bench/bench_whatsapp_db.py [--rows 1000000] [--keep DIR]

Builds the database in a temporary folder (the schema of fixtures/whatsapp_db/make_fixtures.py:
500 chats, 2% media rows, 1% revoked, 1% system rows, a group with lid senders), then streams it
through ``WhatsAppAndroid.parse`` without keeping the records, and reports messages per second and
peak resident memory (``resource.getrusage``). Not run in CI.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.parsers.whatsapp_android import WhatsAppAndroid  # noqa: E402

from triage.evidence import Evidence  # noqa: E402
from triage.model import IdSpace, Message  # noqa: E402
from triage.registry import ParseContext  # noqa: E402


def _fixture_module():  # noqa: ANN202 - a module object
    spec = importlib.util.spec_from_file_location(
        "make_fixtures", ROOT / "fixtures" / "whatsapp_db" / "make_fixtures.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def build(path: Path, rows: int, chats: int = 500) -> None:
    schema = _fixture_module().CURRENT_SCHEMA
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + schema)
    conn.executemany(
        "INSERT INTO jid(_id, user, server, agent, device, type, raw_string) "
        "VALUES (?, ?, 's.whatsapp.net', 0, 0, 0, ?)",
        [(i, f"4477009{i:05d}", f"4477009{i:05d}@s.whatsapp.net") for i in range(1, chats + 1)],
    )
    group_jid = chats + 1
    conn.execute(
        "INSERT INTO jid VALUES (?, '120363000000000001', 'g.us', 0, 0, 1, "
        "'120363000000000001@g.us')",
        (group_jid,),
    )
    conn.execute(
        "INSERT INTO jid VALUES (?, '98765432100001', 'lid', 0, 0, 0, '98765432100001@lid')",
        (group_jid + 1,),
    )
    conn.execute("INSERT INTO jid_map VALUES (?, 1, 1)", (group_jid + 1,))
    conn.executemany(
        "INSERT INTO chat(_id, jid_row_id, hidden, subject) VALUES (?, ?, 0, ?)",
        [(i, i, None) for i in range(1, chats + 1)] + [(chats + 1, group_jid, "Bench group")],
    )
    # Every 10th message is in the group; its senders cycle over 20 members and one @lid.
    conn.execute(
        f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
        INSERT INTO message(_id, chat_row_id, from_me, key_id, sender_jid_row_id, status,
                            timestamp, received_timestamp, message_type, text_data, sort_id)
        SELECT i,
               CASE WHEN i % 10 = 0 THEN {chats + 1} ELSE 1 + (i % {chats}) END,
               i % 3 = 0,
               printf('3EB0%016X', i),
               CASE WHEN i % 10 = 0 AND i % 3 <> 0
                    THEN (CASE WHEN i % 70 = 0 THEN {group_jid + 1} ELSE 1 + (i % 20) END)
                    ELSE 0 END,
               CASE WHEN i % 100 = 7 THEN 6 ELSE 13 END,
               1710230400000 + i * 1000, 1710230400000 + i * 1000 + 500,
               CASE WHEN i % 100 = 7 THEN 7 WHEN i % 100 = 13 THEN 15
                    WHEN i % 50 = 1 THEN 1 ELSE 0 END,
               CASE WHEN i % 100 IN (7, 13) THEN NULL
                    ELSE 'Message number ' || i || ' with some ordinary text in it' END,
               i
        FROM n
        """
    )
    conn.execute(
        "INSERT INTO message_media(message_row_id, chat_row_id, file_path, file_size, mime_type, "
        "file_hash) SELECT _id, chat_row_id, printf('Media/WhatsApp Images/IMG-20240312-WA%04d.jpg', "
        "_id % 10000), 50000, 'image/jpeg', 'lLIJ1o90GSIJY8g/vq2D33pM1mjaMVADop/ayuh/ldM=' "
        "FROM message WHERE message_type = 1"
    )
    conn.execute(
        "INSERT INTO message_revoked(message_row_id, revoked_key_id, revoke_timestamp) "
        "SELECT _id, key_id || 'R', timestamp + 60000 FROM message WHERE message_type = 15"
    )
    conn.execute(
        "INSERT INTO message_system(message_row_id, action_type) "
        "SELECT _id, 12 FROM message WHERE message_type = 7"
    )
    conn.execute("DELETE FROM message WHERE _id % 1000 = 500")  # deleted-for-me gaps
    conn.commit()
    conn.close()


def rss_mib() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "msgstore.db"
        if not db.exists():
            started = time.perf_counter()
            build(db, args.rows)
            print(
                f"built {db} ({db.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s"
            )
        baseline = rss_mib()
        ctx = ParseContext()
        messages = 0
        ids = 0
        with Evidence() as evidence:
            evidence.add_input(db, "msgstore.db")
            (file,) = list(evidence.files())
            started = time.perf_counter()
            for record in WhatsAppAndroid().parse(file, ctx):
                if isinstance(record, Message):
                    messages += 1
                elif isinstance(record, IdSpace):
                    ids = len(record.ids)
            elapsed = time.perf_counter() - started
        peak = rss_mib()
    print(f"messages parsed:   {messages:,} (IdSpace ids: {ids:,})")
    print(f"elapsed:           {elapsed:.1f}s (includes the private copy of the database)")
    print(f"messages/second:   {messages / elapsed:,.0f}")
    print(f"peak RSS:          {peak:.0f} MiB (before parsing: {baseline:.0f} MiB)")
    for warning in ctx.warnings.values():
        print(f"warning: {warning.category} x{warning.count} (e.g. {warning.examples[0]})")


if __name__ == "__main__":
    main()
