"""Text messages held on two of the subject's devices (:mod:`triage.message_copies`): the
query that reads the candidates and the move of each copy to ``duplicates``.

No tables of its own: the copies go to the messages aggregate's ``duplicates``, where the copies
met at ingest (``duplicate_key``, ``copy_key``) are listed, so :meth:`Store.copies_of` lists
every copy of a message however it was met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from triage.message_copies import RULE, TextFacts, same_texts
from triage.store.codec import loads
from triage.store.messages import LIVE

SCHEMA = ""


class TextCopiesAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = SCHEMA
    conn: Any

    def merge_text_copies(self, own: Mapping[str, frozenset[str]]) -> int:
        """Apply :mod:`triage.message_copies` to the stored SMS/MMS text of every device in
        ``own`` (device key -> its own numbers as party ids): each copy moves to ``duplicates``
        under the message kept. Returns how many copies were moved."""
        if len(own) < 2:
            return 0
        marks = ",".join("?" * len(own))
        rows = self.conn.execute(
            "SELECT m.id, m.device, m.direction, s.pid, m.body, m.timestamp_utc, m.extra,"
            " (SELECT group_concat(p.pid, char(31)) FROM recipients r"
            "  JOIN parties p ON p.id = r.party_id WHERE r.message_id = m.id)"
            " FROM messages m LEFT JOIN parties s ON s.id = m.sender_party"
            f" WHERE {LIVE} AND m.platform = 'sms' AND m.direction IN ('incoming', 'outgoing')"
            " AND m.kind = 'text' AND m.body IS NOT NULL AND m.body <> ''"
            " AND m.timestamp_utc IS NOT NULL"
            f" AND m.device IN ({marks})"
            " AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)"
            " ORDER BY m.id",
            sorted(own),
        ).fetchall()
        facts = []
        for mid, device, direction, sender, body, when, extra, recipients in rows:
            parties = {p for p in (recipients or "").split("\x1f") if p}
            if sender:
                parties.add(sender)
            sent = (loads(extra) or {}).get("date_sent_utc") if direction == "incoming" else None
            facts.append(
                TextFacts(
                    mid,
                    device,
                    direction,
                    sender if direction == "incoming" else None,
                    frozenset(parties),
                    body,
                    dt.datetime.fromisoformat(sent or when),
                )
            )
        moved = 0
        with self.conn:
            for kept, copies in same_texts(facts, dict(own)):
                marks = ",".join("?" * len(copies))
                self.conn.execute(
                    "INSERT INTO duplicates (duplicate_key, kept_message_id, source_id, src_file,"
                    " src_locator) SELECT ?, ?, m.source_id, f.file, m.locator FROM messages m"
                    " JOIN provenance_files f ON f.id = m.file_id"
                    f" WHERE m.id IN ({marks}) ORDER BY m.id",
                    (RULE, kept, *copies),
                )
                self.conn.execute(f"DELETE FROM recipients WHERE message_id IN ({marks})", copies)
                self.conn.execute(f"DELETE FROM messages WHERE id IN ({marks})", copies)
                moved += len(copies)
        return moved


__all__ = ["TextCopiesAggregate"]
