"""Deleted and changed rows of iOS ``sms.db`` ``message``, recovered from the file's bytes.

The live rows come from SQLite (``parsers/ios_sms.py``, whose column meanings apply: ``guid``,
``text``, ``handle_id``, ``date`` in seconds or nanoseconds since 2001, ``is_from_me``,
``service``...). This module reads the database and its ``-wal`` as bytes with
:mod:`triage.recovery` (WAL frames, freelist pages, free blocks, unallocated space;
https://www.sqlite.org/fileformat2.html) and builds a message for each recovered record with the
parser's own rules, marked ``recovered``. A deleted row's ``chat_message_join`` row is deleted with
it, so a recovered message is placed in the conversation of its handle. Tapback rows are left out,
as the live parser attaches them to their target rather than counting them as messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from triage.evidence import EvidenceFile
from triage.model import Conversation, Message
from triage.recovery.evidence import recover_evidence
from triage.registry import ParseContext

TARGETS = {"message": ("guid",)}


def recovered_ios_messages(
    parser: Any,
    file: EvidenceFile,
    ctx: ParseContext,
    handles: dict[int, tuple[str, Any]],
    chats: dict[int, Conversation],
    optional: list[str],
    is_tapback: Callable[[Any], bool],
) -> Iterator[Message]:
    """Messages for every ``message`` record recovered from ``file``; ``parser`` is the iOS SMS
    parser (its ``_message`` is the one way a row becomes a message)."""
    result = recover_evidence(file, ctx, TARGETS)
    report = result.tables.get("message") if result else None
    if report is None:
        return
    owner = ctx.owner_party()
    for record in report.records:
        f = record.fields
        if is_tapback(f.get("associated_message_type")):
            continue
        facts = record.facts()
        core = (
            record.rowid,
            f.get("guid"),
            f.get("text"),
            f.get("handle_id"),
            f.get("date"),
            f.get("is_from_me"),
            None,
        )
        info = {k: f.get(k) for k in optional}
        message = parser._message(file, ctx, owner, handles, chats, {}, {}, core, info, [], [])
        yield dataclasses.replace(
            message,
            source=parser.provenance(file, f"message (recovered: {facts['source']})"),
            extra={**message.extra, "recovered": facts},
            duplicate_key=None,
            recovered=True,
        )
