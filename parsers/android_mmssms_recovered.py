"""Deleted and changed rows of Android ``mmssms.db`` ``sms``, recovered from the file's bytes.

The live rows come from SQLite (``parsers/android_mmssms.py``, whose column meanings apply:
``thread_id``, ``address``, ``date`` in Unix ms, ``type`` 1 inbox / 2 sent..., ``body``). This
module reads the database and its ``-wal`` as bytes with :mod:`triage.recovery` (WAL frames,
freelist pages, free blocks, unallocated space; https://www.sqlite.org/fileformat2.html) and turns
each recovered ``sms`` record into a message marked ``recovered``. The platform's SQLite is built
with ``SQLITE_SECURE_DELETE`` (aosp-mirror/platform_external_sqlite ``dist/Android.bp``), so in
the framework's own database freed space is usually zeroed and only WAL frames still hold
deleted rows; the run's decision for the file says which it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.model import Conversation, Message, Party, Provenance
from triage.recovery.evidence import recover_evidence
from triage.registry import ParseContext

TARGETS = {"sms": ()}


def recovered_sms(
    file: EvidenceFile,
    ctx: ParseContext,
    threads: dict[int, list[str]],
    conversation: Callable[[Any, list[str], ParseContext], Conversation],
    party: Callable[[str, str], Party | None],
    types: dict[int, tuple[str, str]],
    provenance: Callable[[EvidenceFile, str], Provenance],
) -> Iterator[Message]:
    """Messages for every ``sms`` record recovered from ``file``; the callables are the parser's
    own rules (conversation of a thread, party of an address, provenance)."""
    result = recover_evidence(file, ctx, TARGETS)
    report = result.tables.get("sms") if result else None
    if report is None:
        return
    owner = ctx.owner_party()
    for record in report.records:
        f = record.fields
        facts = record.facts()
        thread_id, address = f.get("thread_id"), f.get("address")
        members = threads.get(thread_id) or ([address] if isinstance(address, str) else [])
        conv = conversation(thread_id, members, ctx)
        sms_type = f.get("type")
        direction, box = types.get(sms_type, ("unknown", f"type {sms_type}"))
        counterpart = party(address, ctx.region) if isinstance(address, str) else None
        sender, recipients = sender_and_recipients(
            direction,
            owner,
            counterpart if direction in ("incoming", "outgoing") else None,
            conv.participants,
        )
        date = f.get("date")
        body = f.get("body")
        yield Message(
            platform="sms",
            conversation=conv,
            timestamp_utc=from_unix_ms(date) if isinstance(date, int) else None,
            timestamp_raw=str(date),
            zone_assumed=False,
            direction=direction,
            sender=sender,
            recipients=[r for r in recipients if r is not None],
            body=body if isinstance(body, str) else None,
            kind="text",
            source=provenance(file, f"sms (recovered: {facts['source']})"),
            record_id=record.rowid,
            extra={"box": box, "type": sms_type, "recovered": facts},
            id_space="sms",
            recovered=True,
        )
