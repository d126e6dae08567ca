"""Reads for the lexicon and group analysers: message texts and group members' activity.

No tables of its own: these are queries over the messages aggregate's tables, kept here so the
analysers that use them never write SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from triage.store.chunks import in_chunks
from triage.store.codec import loads
from triage.store.messages import LIVE

SCHEMA = ""


class GroupsAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = SCHEMA
    conn: Any

    def message_bodies(self, batch: int = 20_000) -> Iterator[list[tuple[int, str]]]:
        """(message id, body) of every live message with text that is not a system row, in
        store order, ``batch`` at a time (the lexicon's prefilter runs over a batch at once)."""
        rows = self.conn.execute(
            "SELECT m.id, m.body FROM messages m"
            f" WHERE {LIVE} AND m.body IS NOT NULL AND m.body <> ''"
            " AND m.direction <> 'system' AND m.kind <> 'system' ORDER BY m.id"
        )
        while found := rows.fetchmany(batch):
            yield found

    def message_text_facts(self, ids: list[int]) -> dict[int, tuple[str, bool, int | None, str]]:
        """message id -> (conversation key, is group, sender party id, direction) of ``ids``."""
        out: dict[int, tuple[str, bool, int | None, str]] = {}
        for chunk, marks in in_chunks(ids):
            for mid, conv, is_group, sender, direction in self.conn.execute(
                "SELECT m.id, c.key, c.is_group, m.sender_party, m.direction"
                " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                f" WHERE m.id IN ({marks})",
                chunk,
            ):
                out[mid] = (conv, is_group, sender, direction)
        return out

    def group_conversations(self) -> list[tuple[str, str, str | None, list[int]]]:
        """(conversation key, platform, title, member party ids as the source lists them) of
        every group conversation."""
        out = []
        for cid, key, platform, title in self.conn.execute(
            "SELECT id, key, platform, title FROM conversations WHERE is_group = 1 ORDER BY key"
        ):
            members = [
                p
                for (p,) in self.conn.execute(
                    "SELECT party_id FROM participants WHERE conversation_id = ? ORDER BY position",
                    (cid,),
                )
            ]
            out.append((key, platform, title, members))
        return out

    def group_activity(self, key: str) -> Iterator[dict[str, Any]]:
        """Every live row of one conversation in time order, as the few facts a participation
        count needs: id, sender party id, direction, kind, UTC time, deleted, body length,
        attachment mime types, and ``extra`` decoded (system action codes, quoted message,
        receipts, reactions as the parser kept them)."""
        rows = self.conn.execute(
            "SELECT m.id, m.sender_party, m.direction, m.kind, m.timestamp_utc, m.deleted,"
            " m.extra, (SELECT group_concat(coalesce(a.mime, ''), '|') FROM attachments a"
            " WHERE a.message_id = m.id)"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            f" WHERE c.key = ? AND {LIVE}"
            " ORDER BY m.timestamp_utc IS NULL, m.timestamp_utc, m.id",
            (key,),
        )
        for mid, sender, direction, kind, ts, deleted, extra, mimes in rows:
            yield {
                "id": mid,
                "sender": sender,
                "direction": direction,
                "kind": kind,
                "timestamp_utc": ts,
                "deleted": bool(deleted),
                "extra": loads(extra) if extra else {},
                "mimes": mimes.split("|") if mimes is not None else [],
            }
