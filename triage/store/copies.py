"""Messages held on two of the subject's devices: the move of SMS and MMS copies
(:mod:`triage.message_copies`) to ``duplicates``, and what each conversation holds as copies.

A copy moved keeps its attachment files in ``duplicates.attachments`` (name, path and SHA-256 of
each), so the picture file on the other device stays reachable from the copy's provenance.

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

from triage.message_copies import RULE, RULE_MMS, TextFacts, same_texts
from triage.store.codec import dumps, loads
from triage.store.messages import LIVE

SCHEMA = ""


class CopiesAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = SCHEMA
    conn: Any

    def merge_text_copies(self, own: Mapping[str, frozenset[str]]) -> int:
        """Apply :mod:`triage.message_copies` to the stored SMS/MMS of every device in
        ``own`` (device key -> its own numbers as party ids): each copy moves to ``duplicates``
        under the message kept. Returns how many copies were moved."""
        if len(own) < 2:
            return 0
        marks = ",".join("?" * len(own))
        rows = self.conn.execute(
            "SELECT m.id, m.device, m.direction, s.pid, m.body, m.timestamp_utc, m.extra,"
            " (SELECT group_concat(p.pid, char(31)) FROM recipients r"
            "  JOIN parties p ON p.id = r.party_id WHERE r.message_id = m.id),"
            # Attachment files by content; a file not in the extraction has no path.
            " (SELECT group_concat(a.sha256, char(31)) FROM attachments a"
            "  WHERE a.message_id = m.id AND a.path IS NOT NULL AND a.sha256 IS NOT NULL),"
            " (SELECT COUNT(*) FROM attachments a WHERE a.message_id = m.id)"
            " FROM messages m LEFT JOIN parties s ON s.id = m.sender_party"
            f" WHERE {LIVE} AND m.platform IN ('sms', 'mms')"
            " AND m.direction IN ('incoming', 'outgoing')"
            " AND (m.kind = 'text' AND m.body IS NOT NULL AND m.body <> ''"
            "  OR m.kind = 'media' AND EXISTS (SELECT 1 FROM attachments a"
            "  WHERE a.message_id = m.id))"
            " AND m.timestamp_utc IS NOT NULL"
            f" AND m.device IN ({marks})"
            " AND NOT EXISTS (SELECT 1 FROM thumbnails t WHERE t.message_id = m.id)"
            " ORDER BY m.id",
            sorted(own),
        ).fetchall()
        facts = []
        with_pictures: set[int] = set()
        for mid, device, direction, sender, body, when, extra, recipients, hashes, n in rows:
            parties = {p for p in (recipients or "").split("\x1f") if p}
            if sender:
                parties.add(sender)
            sent = (loads(extra) or {}).get("date_sent_utc") if direction == "incoming" else None
            pictures = tuple(sorted(h for h in (hashes or "").split("\x1f") if h))
            if n:
                with_pictures.add(mid)
            facts.append(
                TextFacts(
                    mid,
                    device,
                    direction,
                    sender if direction == "incoming" else None,
                    frozenset(parties),
                    body or "",
                    dt.datetime.fromisoformat(sent or when),
                    pictures if len(pictures) == n else None,
                )
            )
        moved = 0
        touched: set[int] = set()
        with self.conn:
            for kept, copies in same_texts(facts, dict(own)):
                marks = ",".join("?" * len(copies))
                files: dict[int, list[dict[str, Any]]] = {}
                for mid, name, path, sha256 in self.conn.execute(
                    "SELECT message_id, name, path, sha256 FROM attachments"
                    f" WHERE message_id IN ({marks}) ORDER BY id",
                    copies,
                ):
                    files.setdefault(mid, []).append({"name": name, "path": path, "sha256": sha256})
                self.conn.executemany(
                    "INSERT INTO duplicates (duplicate_key, kept_message_id, source_id, src_file,"
                    " src_locator, conversation_id, attachments) SELECT ?, ?, m.source_id, f.file,"
                    " m.locator, m.conversation_id, ? FROM messages m"
                    " JOIN provenance_files f ON f.id = m.file_id WHERE m.id = ?",
                    [
                        (
                            RULE_MMS if kept in with_pictures else RULE,
                            kept,
                            dumps(files[c]) if c in files else None,
                            c,
                        )
                        for c in copies
                    ],
                )
                touched.update(
                    sid
                    for (sid,) in self.conn.execute(
                        f"SELECT DISTINCT source_id FROM messages WHERE id IN ({marks})", copies
                    )
                )
                self.conn.execute(f"DELETE FROM attachments WHERE message_id IN ({marks})", copies)
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
