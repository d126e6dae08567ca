"""Deleted and changed rows of WhatsApp Android ``message``, recovered from msgstore.db's bytes.

The live rows come from SQLite (``parsers/whatsapp_android.py``); this module reads the same
database file and its ``-wal`` as bytes with :mod:`triage.recovery` (every WAL frame, freelist
pages, free blocks and unallocated space; see that package for the SQLite file-format sections,
https://www.sqlite.org/fileformat2.html) and turns each recovered ``message`` record into a
message marked ``recovered`` (``Message.recovered``): ``extra["recovered"]`` names where it was found (WAL frame and
salt, or page and offset), its confidence, which fields did not survive, and whether it is a
deleted row or an earlier version of a live one (``changed``, with the live row's id). Recovered
messages never carry a duplicate key, so they can never replace or merge with a live message.

Column meanings are those of the current schema (see ``parsers/whatsapp_android.py``):
``chat_row_id`` -> ``chat._id``, ``from_me``, ``key_id``, ``timestamp`` (Unix ms), ``message_type``,
``text_data``, ``sort_id``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from triage.evidence import EvidenceFile
from triage.model import Message
from triage.recovery.evidence import recover_evidence
from triage.recovery.job import PendingRecovery
from triage.registry import ParseContext

#: Tables recovered, with the columns that identify a row besides its rowid.
TARGETS = {"message": ("key_id",)}


def start_recovery(file: EvidenceFile) -> PendingRecovery:
    """Start recovering ``file``'s ``message`` records (beside the parse, when it is large)."""
    return PendingRecovery(file, TARGETS)


def recovered_messages(
    reader: Any,
    file: EvidenceFile,
    ctx: ParseContext,
    types: dict[int, tuple[str, str]],
    pending: PendingRecovery | None = None,
) -> Iterator[Message]:
    """Messages for every ``message`` record recovered from ``file`` (a current-schema
    msgstore.db) and its ``-wal``; ``reader`` is the parser's current-schema reader (chats,
    parties and the one way a message is built); ``pending``: the recovery started with
    :func:`start_recovery` when the parse began."""
    result = pending.result(ctx) if pending else recover_evidence(file, ctx, TARGETS)
    report = result.tables.get("message") if result else None
    if report is None:
        return
    unknown_chat = reader.make_chat(None, None, None, [])
    for record in report.records:
        f = record.fields
        facts = record.facts()
        locator = f"message (recovered: {facts['source']})"
        chat = reader.chats.get(f.get("chat_row_id"), unknown_chat)
        mtype = f.get("message_type")
        kind, label = types.get(mtype, ("other", f"unknown type {mtype}"))
        if "message_type" in record.lost:
            kind, label = "other", "type not recovered"
        extra: dict[str, Any] = {
            "schema": "current",
            "key_id": f.get("key_id"),
            "message_type": mtype,
            "chat_row_id": f.get("chat_row_id"),
            "type": label,
            "recovered": facts,
        }
        sender = None
        sender_row = f.get("sender_jid_row_id")
        if not f.get("from_me") and isinstance(sender_row, int) and sender_row > 0:
            sender = reader.parties.get(sender_row)
        text = f.get("text_data")
        message = reader.message(
            chat=chat,
            locator=locator,
            rowid=record.rowid,
            order_key=f.get("sort_id"),
            from_me=bool(f.get("from_me")),
            sender=sender,
            timestamp_raw=f.get("timestamp") or 0,
            kind=kind,
            body=text if isinstance(text, str) else None,
            key_id=None,
            extra=extra,
            attachments=[],
        )
        changes: dict[str, Any] = {"id_space": "message", "duplicate_key": None, "recovered": True}
        if "from_me" in record.lost:
            changes["direction"] = "unknown"
        yield dataclasses.replace(message, **changes)
