"""One identifier given for two or more of the case's contacts.

The case file may name the same phone number, account or alias for two people (a shared family
phone, a number passed on, a typing slip). Every message with that identifier then counts for each
of them, so their figures are not separate. Accepting it without comment would let two contact
pages show the same messages as if they were two people's; the run says so instead, in the
terminal, on the first screen and on both contact pages (``contact.shared-identifier``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from triage.casefile import CaseContact
from triage.identity import normalise_name


@dataclass(frozen=True)
class SharedIdentifier:
    """``identifier`` (normalised) given for the contacts ``keys``, written as in ``written``."""

    identifier: str
    written: tuple[str, ...]
    keys: tuple[str, ...]
    names: tuple[str, ...]

    def sentence(self) -> str:
        forms = " / ".join(self.written)
        return (
            f"The identifier {forms} is given in the case file for {_and(self.names)}: every "
            "message with it counts for each of them, so their figures are not separate"
        )


def shared_identifiers(contacts: Iterable[CaseContact]) -> list[SharedIdentifier]:
    """Every identifier or alias the case file gives for more than one contact, in case order."""
    holders: dict[str, list[CaseContact]] = {}
    written: dict[str, list[str]] = {}
    for contact in contacts:
        forms = [(i.party.id, i.value) for i in contact.identifiers if i.party.id]
        forms += [(normalise_name(a), a) for a in contact.aliases]
        for ident, raw in forms:
            if contact not in holders.setdefault(ident, []):
                holders[ident].append(contact)
            if raw not in written.setdefault(ident, []):
                written[ident].append(raw)
    return [
        SharedIdentifier(
            ident,
            tuple(written[ident]),
            tuple(c.key for c in found),
            tuple(c.name for c in found),
        )
        for ident, found in holders.items()
        if len(found) > 1
    ]


def _and(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
