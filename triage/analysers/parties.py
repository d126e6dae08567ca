"""Who a message is with: matching normalised parties against the case contacts and the owner.

Parsers already normalise every identifier (``triage.identity``), so matching is a lookup of the
normalised ``Party.id``. Display names only ever match name identifiers and aliases, never a
phone or account party's display name: two people can share a name, a number is one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from triage.casefile import Case, CaseContact
from triage.identity import normalise_name
from triage.model import Message, Party

# Parties whose id may be a display name written as found (exports that carry no identifier).
_NAME_SCHEMES = ("name", "other")
# Parties that are never a person one corresponds with.
_NOT_A_PERSON = ("whatsapp_group", "owner")


@dataclass(frozen=True, slots=True)
class Match:
    contact: CaseContact
    party: Party


class ContactIndex:
    """Normalised identifier -> case contacts, plus the owner's own identifiers."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.contacts = list(case.contacts)
        self.by_key = {c.key: c for c in self.contacts}
        self._ids: dict[str, list[CaseContact]] = {}
        self._names: dict[str, list[CaseContact]] = {}
        for contact in self.contacts:
            names = {normalise_name(a) for a in contact.aliases}
            names.update(i.party.id for i in contact.identifiers if i.kind == "name" and i.party.id)
            for ident in sorted(contact.match_ids() - names):
                self._ids.setdefault(ident, []).append(contact)
            for name in sorted(names):
                self._names.setdefault(name, []).append(contact)
        self.owner_ids = {p.id for p in case.owner_parties() if p.id}
        self.owner_ids.add("owner")
        self.owner_names = {normalise_name(n) for n in case.owner_names()}

    def contacts_for(self, p: Party | None) -> list[CaseContact]:
        """The case contacts one party stands for (usually none or one)."""
        if p is None or p.id is None:
            return []
        found = list(self._ids.get(p.id, []))
        if p.scheme in _NAME_SCHEMES:
            for c in self._names.get(normalise_name(p.id), []):
                if c not in found:
                    found.append(c)
        return found

    def is_owner(self, p: Party | None) -> bool:
        if p is None:
            return False
        if p.scheme == "owner" or p.id in self.owner_ids:
            return True
        return p.scheme in _NAME_SCHEMES and normalise_name(p.id or "") in self.owner_names

    def is_counterparty(self, p: Party) -> bool:
        """Whether a party can be someone one corresponds with: not the owner, not a group."""
        return p.scheme not in _NOT_A_PERSON and not self.is_owner(p)

    def message_matches(self, m: Message) -> list[Match]:
        """Every (contact, party) pair a message names, in case-file order of the contacts."""
        found: dict[str, Match] = {}
        for p in message_parties(m):
            for c in self.contacts_for(p):
                found.setdefault(c.key, Match(c, p))
        order = {c.key: n for n, c in enumerate(self.contacts)}
        return sorted(found.values(), key=lambda x: order[x.contact.key])

    def counterparties(self, m: Message) -> list[Party]:
        """The parties of a message that are neither the owner nor a group id, one per id."""
        out: dict[str, Party] = {}
        for p in message_parties(m):
            if not self.is_counterparty(p):
                continue
            key = p.id or p.raw
            if key and key not in out:
                out[key] = p
        return list(out.values())


def is_status_update(m: Message) -> bool:
    """A WhatsApp Status update: posted to all of the poster's contacts, not sent to anyone."""
    return m.status_update


def message_parties(m: Message) -> list[Party]:
    """Who a message is with: the sender and the recipients, and for a one-to-one chat its
    participants. In a group a received message is with its sender only: being one of the
    members it was delivered to (``triage.addressing``) is not corresponding with its sender."""
    parties: list[Party] = []
    if m.sender is not None:
        parties.append(m.sender)
    if not m.conversation.is_group:
        parties.extend(m.recipients)
        parties.extend(m.conversation.participants)
    elif m.direction != "incoming":
        parties.extend(m.recipients)
    return parties


def night_at(local_time: str, start: str, end: str) -> bool:
    """:func:`triage.roster.is_night` on wall-clock text ("HH:MM:SS", as the store keeps it)."""
    if start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def local_date(when: dt.datetime, case: Case) -> dt.date:
    return when.astimezone(case.zone).date()


def local_text(when: dt.datetime | None, case: Case) -> str:
    """A local time for a ``why`` sentence, with the zone abbreviation (GMT/BST) it was in."""
    if when is None:
        return "an unknown time"
    local = when.astimezone(case.zone)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"


def local_day_text(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def ordered_unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
