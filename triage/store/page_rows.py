"""Messages as the report's pages show them, read without building a :class:`triage.model.Message`.

The conversation pages show every message of a case once. Building a full ``Message`` per row
(a dataclass with a ``Provenance``, a datetime and a decoded ``extra``) cost more than writing
its bubble, so the pages read :class:`PageMessage` tuples instead: the columns a bubble, the
search index and the timelines use, sharing their conversation, party, recipient-list and file
objects with every other row of the same read. The time stays the stored ISO 8601 UTC text (the
pages word it per minute), and ``extra`` is decoded only where it holds what the pages show (the
``recovered`` facts of a row read from deleted content).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from triage.model import Attachment, Conversation, Party
from triage.store.codec import loads

#: The columns of one :class:`PageMessage` over ``messages m``, in field order (the recipients
#: as "party id,party id"; ``extra`` only where it may hold ``recovered``).
PAGE_COLUMNS = (
    "m.id, m.conversation_id, m.timestamp_utc, m.timestamp_raw, m.platform, m.direction, m.kind,"
    " m.body, m.deleted, m.edited, m.zone_assumed, m.status_update, m.device, m.sender_party,"
    " (SELECT group_concat(party_id) FROM recipients r WHERE r.message_id = m.id),"
    " m.file_id, m.locator,"
    " CASE WHEN m.recovered = 1 OR instr(m.extra, '\"recovered\"') THEN m.extra END"
)


class PageMessage(NamedTuple):
    """One stored message as the report pages show it (``Message`` fields of the same names)."""

    id: int
    conversation: Conversation
    utc: str | None  # ``timestamp_utc`` as stored: ``YYYY-MM-DDTHH:MM:SS[.mmm]Z``
    timestamp_raw: str
    platform: str
    direction: str
    kind: str
    body: str | None
    deleted: bool
    edited: bool
    zone_assumed: bool
    status_update: bool
    device: str | None
    sender: Party | None
    recipients: tuple[Party, ...]
    file: tuple[str, str, str]  # (file, SHA-256, parser format) of its source
    locator: str
    attachments: list[Attachment]
    recovered: dict[str, Any] | None  # ``extra["recovered"]``


_new = tuple.__new__


def page_message_decoder(
    conversations: dict[int, Conversation],
    parties: dict[int, Party],
    files: dict[int, tuple[str, str, str]],
    attachments: dict[int, list[Attachment]],
) -> Callable[[tuple], PageMessage]:
    """A function turning one row of :data:`PAGE_COLUMNS` into a :class:`PageMessage`."""
    lists: dict[str | None, tuple[Party, ...]] = {None: ()}
    none: list[Attachment] = []

    def decode(row: tuple) -> PageMessage:
        (mid, conv, utc, raw, platform, direction, kind, body, deleted, edited, zone, status,
         device, sender, recipients, file_id, locator, extra) = row  # fmt: skip
        shared = lists.get(recipients)
        if shared is None:
            shared = lists[recipients] = tuple(parties[int(p)] for p in recipients.split(","))
        # tuple.__new__ makes the named tuple in C: PageMessage(...) runs the generated
        # Python __new__, a third of this function's cost (300,000 rows: 1.0 -> 0.7 s).
        return _new(
            PageMessage,
            (
                mid,
                conversations[conv],
                utc,
                raw,
                platform,
                direction,
                kind,
                body,
                deleted == 1,
                edited == 1,
                zone == 1,
                status == 1,
                device,
                None if sender is None else parties[sender],
                shared,
                files[file_id],
                locator,
                attachments.get(mid, none),
                (loads(extra) or {}).get("recovered") if extra else None,
            ),
        )

    return decode
