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
from triage.store.recipient_lists import RECIPIENT_IDS

#: The columns of one :class:`PageMessage` row over ``messages m``: its own values (id, times,
#: body, locator, ``extra`` only where it may hold ``recovered``), then as one JSON array what
#: it shares with many other messages (:data:`_SHARED`: conversation, platform, direction, kind,
#: flags, device, sender, recipients as "party id,party id", file).
#:
#: A live row's ``extra`` may hold ``recovered`` too (a parser's earlier version of the row):
#: it is read where its text holds ``vered"``, which every text holding the key ``"recovered"``
#: does, and the decoder looks for the key itself. SQLite's GLOB compares only where the text
#: has a ``v``; ``instr`` compared the whole needle at every byte (about 2,500 instructions a
#: message with 116 bytes of ``extra``, against 650).
PAGE_COLUMNS = (
    "m.id, m.timestamp_utc, m.timestamp_raw, m.body, m.locator,"
    " CASE WHEN m.recovered = 1 OR m.extra GLOB '*vered\"*' THEN m.extra END,"
    " json_array(m.conversation_id, m.platform, m.direction, m.kind, m.deleted, m.edited,"
    " m.zone_assumed, m.status_update, m.device, m.sender_party,"
    f" {RECIPIENT_IDS}, m.file_id)"
)


class PageMessage(NamedTuple):
    """One stored message as the report pages show it (``Message`` fields of the same names):
    its own values, then those it shares with the other messages of the same conversation,
    direction, parties and source (one tuple per read, added to each message's own)."""

    id: int
    utc: str | None  # ``timestamp_utc`` as stored: ``YYYY-MM-DDTHH:MM:SS[.mmm]Z``
    timestamp_raw: str
    body: str | None
    locator: str
    attachments: list[Attachment]
    recovered: dict[str, Any] | None  # ``extra["recovered"]``
    conversation: Conversation
    platform: str
    direction: str
    kind: str
    deleted: bool
    edited: bool
    zone_assumed: bool
    status_update: bool
    device: str | None
    sender: Party | None
    recipients: tuple[Party, ...]
    file: tuple[str, str, str]  # (file, SHA-256, parser format) of its source
    #: The values above from ``conversation`` on, as one tuple: the same object for every
    #: message of a read that shares them, so what a page makes of them (who wrote to whom,
    #: the flags) is made once per combination and found by its identity.
    shared: tuple[Any, ...]


_new = tuple.__new__


def page_message_decoder(
    conversations: dict[int, Conversation],
    parties: dict[int, Party],
    files: dict[int, tuple[str, str, str]],
    attachments: dict[int, list[Attachment]],
) -> Callable[[tuple], PageMessage]:
    """A function turning one row of :data:`PAGE_COLUMNS` into a :class:`PageMessage`.

    A phone's messages share a few hundred combinations of conversation, direction, kind,
    flags, device, parties and source: SQLite writes each message's as one JSON text, decoded
    here once per combination and kept. Eleven columns more per row cost more than the message's
    bubble (Python's sqlite3 lets go of the interpreter lock and takes it again for each column
    of each row: 300,000 rows, about 1 s of CPU more)."""
    lists: dict[str | None, tuple[Party, ...]] = {None: ()}
    shared_of: dict[str, tuple[Any, ...]] = {}
    none: list[Attachment] = []

    def shared(text: str) -> tuple[Any, ...]:
        (conv, platform, direction, kind, deleted, edited, zone, status, device, sender,
         recipients, file_id) = loads(text)  # fmt: skip
        found = lists.get(recipients)
        if found is None:
            found = lists[recipients] = tuple(parties[int(p)] for p in recipients.split(","))
        values = (
            conversations[conv],
            platform,
            direction,
            kind,
            deleted == 1,
            edited == 1,
            zone == 1,
            status == 1,
            device,
            None if sender is None else parties[sender],
            found,
            files[file_id],
        )
        value = shared_of[text] = (*values, values)
        return value

    def decode(row: tuple) -> PageMessage:
        mid, utc, raw, body, locator, extra, common = row
        # tuple.__new__ makes the named tuple in C: PageMessage(...) runs the generated
        # Python __new__, a third of this function's cost (300,000 rows: 1.0 -> 0.7 s).
        return _new(
            PageMessage,
            (
                mid,
                utc,
                raw,
                body,
                locator,
                attachments.get(mid, none),
                (loads(extra) or {}).get("recovered") if extra else None,
            )
            + (shared_of.get(common) or shared(common)),
        )

    return decode
