"""Messages held on two of the subject's devices: the move of SMS copies
(:mod:`triage.message_copies`) to ``duplicates``, and what each conversation holds as copies.

No tables of its own: the copies go to the messages aggregate's ``duplicates``, where the copies
met at ingest (``duplicate_key``, ``copy_key``) are listed, so :meth:`Store.copies_of` lists
every copy of a message however it was met. A copy from another device keeps the conversation it
was read in (``duplicates.conversation_id``), so a conversation whose every message is a copy of
one counted on the other phone is still shown, as present on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from triage.message_copies import RULE, TextFacts, same_texts
from triage.store.codec import loads
from triage.store.messages import LIVE

SCHEMA = ""


class CopiesAggregate:
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
        touched: set[int] = set()
        with self.conn:
            for kept, copies in same_texts(facts, dict(own)):
                marks = ",".join("?" * len(copies))
                self.conn.execute(
                    "INSERT INTO duplicates (duplicate_key, kept_message_id, source_id, src_file,"
                    " src_locator, conversation_id) SELECT ?, ?, m.source_id, f.file, m.locator,"
                    " m.conversation_id FROM messages m JOIN provenance_files f ON f.id = m.file_id"
                    f" WHERE m.id IN ({marks}) ORDER BY m.id",
                    (RULE, kept, *copies),
                )
                touched.update(
                    sid
                    for (sid,) in self.conn.execute(
                        f"SELECT DISTINCT source_id FROM messages WHERE id IN ({marks})", copies
                    )
                )
                self.conn.execute(f"DELETE FROM recipients WHERE message_id IN ({marks})", copies)
                self.conn.execute(f"DELETE FROM messages WHERE id IN ({marks})", copies)
                moved += len(copies)
            # Each source's counts as finish_source wrote them, now with its copies moved.
            self.conn.executemany(
                "UPDATE sources SET"
                " messages = (SELECT COUNT(*) FROM messages WHERE source_id = :s),"
                " duplicates = (SELECT COUNT(*) FROM duplicates WHERE source_id = :s)"
                " WHERE id = :s",
                [{"s": sid} for sid in sorted(touched)],
            )
        return moved

    def conversation_copies(self) -> dict[str, dict[str, Any]]:
        """Conversation key -> the copies read in it of messages counted elsewhere (on another
        device): ``copies`` (how many), ``devices`` (the devices they were read from) and
        ``kept_in`` [{``key``, ``device``, ``copies``}] (the conversations counting them).
        Conversations holding no such copy are left out."""
        out: dict[str, dict[str, Any]] = {}
        for key, device, kept_key, kept_device, n in self.conn.execute(
            "SELECT c.key, s.device, kc.key, km.device, COUNT(*) FROM duplicates d"
            " JOIN conversations c ON c.id = d.conversation_id"
            " JOIN sources s ON s.id = d.source_id"
            " JOIN messages km ON km.id = d.kept_message_id"
            " JOIN conversations kc ON kc.id = km.conversation_id"
            " WHERE km.device IS NOT s.device"
            " GROUP BY c.key, s.device, kc.key, km.device ORDER BY c.key, kc.key"
        ):
            entry = out.setdefault(key, {"copies": 0, "devices": [], "kept_in": []})
            entry["copies"] += n
            if device not in entry["devices"]:
                entry["devices"].append(device)
            entry["kept_in"].append({"key": kept_key, "device": kept_device, "copies": n})
        return out


__all__ = ["CopiesAggregate"]
