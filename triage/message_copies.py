"""One SMS or MMS held on two of the subject's devices: the rule that makes it one event.

An SMS sent from his work phone to his personal phone is one event recorded twice: the sent
copy on one phone, the received copy on the other. The two rows share no id (each phone numbers
its own rows, and the SMS protocol carries no message id the receiving phone keeps), so they are
met by what they say. The exact keys are met elsewhere, at ingest: an iMessage keeps the
``message.guid`` the sending device gave it on every Apple device that holds it (a tapback sent
from one device names its target by that guid, ``p:0/<guid>``, and is resolved on the other:
ReagentX/imessage-exporter ``imessage-database/src/message_types/variants.rs``), which is the
``duplicate_key`` ``ios-message:<guid>`` of :mod:`triage.parsers.ios_sms`; WhatsApp copies meet
by ``Message.copy_key`` (author and ``key_id``).

The rule, for SMS and MMS (``platform`` ``sms`` or ``mms``) on **different** devices: two
copies are the same event when

* their text is the same, character for character (a picture MMS with no text has none on
  either copy);
* their attachments are the same files by content: the SHA-256 of every attachment file, as
  hashed by the run when the file was read from the extraction (``attachments.sha256``, the
  same digest the media stage records for the picture), compared as a sorted list, so a picture
  MMS meets only a copy carrying byte-identical pictures. The bytes are compared, not names or
  sizes: the two phones name the file each under its own ``app_parts/PART_<ms>_<name>`` (AOSP
  ``MmsProvider``; ``part._data`` is that absolute path, one file per binary ``part`` row, the
  ``application/smil`` layout part being no content), so nothing but the content is shared.
  A network may re-encode a picture on its way to the receiving phone; such copies differ and
  stay two events: the rule would rather leave one event counted twice than join two pictures.
  When an attachment's file is missing on either copy (``part._data`` names a file not in the
  extraction) there is nothing to compare and the copies do **not** meet: they stay two events,
  each listed with its own missing file. A copy whose attachment carries a thumbnail row is left
  as it is too, so no stored thumbnail is dropped;
* they have the same sender and the same members: every party of the exchange, each copy's own
  side being one of its device's numbers (the case file's ``devices[i].identifiers``; the
  subject's only for a device that lists none, since numbers listed for the subject mean him on
  every device and would make his phones indistinguishable). So a message between his two numbers meets (sent from 07700 900001 to
  07700 900002 on one phone, received from 07700 900001 by 07700 900002 on the other), and so
  does a group MMS a colleague sent to both of his numbers; but two phones each texting Female A
  are two events (two senders), and Female A texting each of his numbers is two events (two
  different members), however alike the text, pictures and times;
* they were sent at most :data:`WINDOW_S` seconds apart. The sending time of a received Android
  SMS is its ``date_sent`` (the service centre's time stamp, AOSP
  ``Telephony.TextBasedSmsColumns.DATE_SENT``), when the row has one, so a delivery delayed
  while the phone was off does not push the copies apart; otherwise (an MMS too) each copy's
  own time.

Each copy joins at most one event, never two copies from one device, and the nearest in time
wins, so the same "ok" sent twice a minute apart stays two events. A device with no number known
(neither its own identifiers nor the subject's) has no own side to compare, and its copies never
meet.

The copy kept is the sent one (the sender's record) when there is one, else the first stored;
the others are listed as its copies (``duplicates``, with this rule as their key, and each one's
device, file and record) and are not counted again. The kept copy keeps its own attachments
(the picture file on its own device); each other copy's attachment files (path and SHA-256) are
listed with that copy in ``duplicates``, so the picture file on the other phone stays reachable
from the copy's provenance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import product

#: How far apart the two copies' sending times may be. Our choice, as for calls
#: (:mod:`triage.call_copies`): a phone stamps a sent SMS when it hands it to the network and the
#: service centre stamps it on arrival, seconds apart; no source states a bound.
WINDOW_S = 120
RULE = f"same SMS on two of the subject's devices: sender, members, text, sent within {WINDOW_S} s"
#: The key of an MMS met with its attachments: the same, and byte-identical attachment files.
RULE_MMS = (
    "same MMS on two of the subject's devices: sender, members, text, attachment files by"
    f" SHA-256, sent within {WINDOW_S} s"
)


@dataclass(frozen=True)
class TextFacts:
    """What the rule reads of one stored message."""

    message_id: int
    device: str
    direction: str  # "outgoing" or "incoming"
    # Party ids: the sender (None when outgoing: the device itself) and every party named as
    # sender or recipient, the device's own numbers included.
    sender: str | None
    parties: frozenset[str]
    body: str
    sent: datetime
    # SHA-256 of each attachment file, sorted; empty for none, None when a file is missing (such
    # a copy meets no other).
    pictures: tuple[str, ...] | None = ()


def _sides(facts: TextFacts, own: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """(sender, members) of the exchange for each of the device's numbers as its own side."""
    others = facts.parties - own
    out = []
    for mine in sorted(own):
        sender = mine if facts.direction == "outgoing" else facts.sender
        if sender is not None:
            out.append((sender, others | {mine}))
    return out


def same_exchange(a: TextFacts, b: TextFacts, own: dict[str, frozenset[str]]) -> bool:
    """Whether the two copies have the same sender and members (the rule's second point)."""
    return any(
        x == y
        for x, y in product(
            _sides(a, own.get(a.device, frozenset())), _sides(b, own.get(b.device, frozenset()))
        )
    )


@dataclass
class _Event:
    members: list[TextFacts] = field(default_factory=list)

    def devices(self) -> set[str]:
        return {m.device for m in self.members}


def same_texts(
    messages: Iterable[TextFacts], own: dict[str, frozenset[str]]
) -> list[tuple[int, list[int]]]:
    """(kept message id, ids of its copies) for every text message held on several devices.
    ``own``: each device's own numbers (party ids)."""
    by_body: dict[tuple[str, tuple[str, ...]], list[TextFacts]] = {}
    for m in messages:
        if m.pictures is not None:
            by_body.setdefault((m.body, m.pictures), []).append(m)
    out: list[tuple[int, list[int]]] = []
    for members in by_body.values():
        if len({m.device for m in members}) < 2:
            continue
        members.sort(key=lambda m: (m.sent, m.message_id))
        events: list[_Event] = []
        # Events a later copy can still join (a common text such as "ok" recurs thousands of
        # times; copies are taken in time order, so an event whose last copy is more than the
        # window behind can take no more).
        open_events: list[_Event] = []
        for m in members:
            open_events = [
                e for e in open_events if (m.sent - e.members[-1].sent).total_seconds() <= WINDOW_S
            ]
            best: _Event | None = None
            gap = WINDOW_S + 1.0
            for event in open_events:
                if m.device in event.devices():
                    continue
                delta = min(abs((m.sent - e.sent).total_seconds()) for e in event.members)
                if delta > WINDOW_S or delta >= gap:
                    continue
                if all(same_exchange(m, e, own) for e in event.members):
                    best, gap = event, delta
            if best is None:
                events.append(_Event([m]))
                open_events.append(events[-1])
            else:
                best.members.append(m)
        for event in events:
            if len(event.members) > 1:
                ranked = sorted(
                    event.members, key=lambda m: (m.direction != "outgoing", m.message_id)
                )
                out.append((ranked[0].message_id, sorted(m.message_id for m in ranked[1:])))
    out.sort()
    return out


__all__ = ["RULE", "RULE_MMS", "WINDOW_S", "TextFacts", "same_exchange", "same_texts"]
