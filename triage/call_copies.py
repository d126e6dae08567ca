"""One WhatsApp call seen twice on one phone: the rule that makes it one call.

On an iPhone a WhatsApp call is written by WhatsApp itself (``CallHistory.sqlite`` in its app
group, and a call row in the chat, ``ChatStorage.sqlite``) and, because WhatsApp reports its calls
to CallKit, by iOS in ``CallHistory.storedata`` (``ZSERVICE_PROVIDER`` ``net.whatsapp.WhatsApp``;
abrignoni/iLEAPP ``scripts/artifacts/callHistory.py`` lists such rows beside phone calls). On
Android the system call log can hold the same call through WhatsApp's phone account. These
copies share no id, so they are matched by what they say:

two calls are the same call when both are WhatsApp calls, come from different source files of
the same device, have the same counterpart (the same party, so ``+447700900123`` and
``447700900123@s.whatsapp.net`` meet), the same direction (or one of them says "unknown"), and
start at most :data:`WINDOW_S` seconds apart. Each call joins at most one event, never two calls
of one source, and the nearest in time wins, so two real calls a minute apart stay two calls.

The copy kept is the fullest (duration, result, video flag and chat known; ties go to the first
stored, which follows parser priority); the others are listed as its copies, with their file and
record, and are not counted again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

#: How far apart two sources may stamp the start of one call. Our choice: CallKit and WhatsApp
#: both record the start, the chat row when the call was placed; no source states a bound.
WINDOW_S = 120
RULE = f"same WhatsApp call on one device: counterpart, direction, start within {WINDOW_S} s"


@dataclass(frozen=True)
class CallFacts:
    """What the rule reads of one stored call."""

    call_id: int
    source_id: int
    device: str | None
    # The counterpart's identifier as compared (scheme and normalised id), not its raw form.
    counterpart: str
    direction: str
    start: datetime
    fullness: int


@dataclass
class _Event:
    start: datetime
    members: list[CallFacts] = field(default_factory=list)

    def sources(self) -> set[int]:
        return {m.source_id for m in self.members}

    def direction(self) -> str:
        known = {m.direction for m in self.members if m.direction != "unknown"}
        return next(iter(known)) if known else "unknown"


def same_calls(calls: Iterable[CallFacts]) -> list[tuple[int, list[int]]]:
    """(kept call id, ids of its copies) for every call seen more than once."""
    groups: dict[tuple[str | None, str], list[CallFacts]] = {}
    for c in calls:
        groups.setdefault((c.device, c.counterpart), []).append(c)
    out: list[tuple[int, list[int]]] = []
    for members in groups.values():
        members.sort(key=lambda c: (c.start, c.call_id))
        events: list[_Event] = []
        for c in members:
            best: _Event | None = None
            gap = WINDOW_S + 1.0
            for event in events:
                delta = abs((c.start - event.start).total_seconds())
                if delta > WINDOW_S or c.source_id in event.sources():
                    continue
                way = event.direction()
                if "unknown" not in (way, c.direction) and way != c.direction:
                    continue
                if delta < gap:
                    best, gap = event, delta
            if best is None:
                events.append(_Event(c.start, [c]))
            else:
                best.members.append(c)
        for event in events:
            if len(event.members) > 1:
                ranked = sorted(event.members, key=lambda c: (-c.fullness, c.call_id))
                out.append((ranked[0].call_id, sorted(c.call_id for c in ranked[1:])))
    out.sort()
    return out


__all__ = ["RULE", "WINDOW_S", "CallFacts", "same_calls"]
