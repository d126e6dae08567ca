"""The one addressing rule: who sent a message and who it was delivered to.

Every parser gives :func:`sender_and_recipients` what its source says (the direction, the owner, the other
party and the conversation's participants) and stores the sender and recipients it returns, so
the same message reads the same whichever app or format it came from.

Meaning, for every platform:

* **outgoing**: the sender is the device owner. The recipients are the conversation's other
  participants (in a group, every member the source lists except the owner; in a one-to-one
  chat, the counterpart).
* **incoming**: the sender is the counterpart (``None`` when the source does not name them).
  The recipients are the owner and, in a group, every other member the source lists except the
  sender: a group message is delivered to all of its members.
* **unknown** (the source does not say whether the owner sent it: a draft, an export whose
  owner is not named): the sender is the party the source names as author, or ``None``; the
  recipients are the participants the source lists other than that sender.
* **system**: the sender is the party the notice names (``None`` for the app itself); there are
  no recipients, since nobody sent a notice to anyone.

Who a message is *with* for contact matching is a separate question, answered in
``triage.analysers.parties``: in a group, a received message is with its sender only.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.model import Direction, Party


def sender_and_recipients(
    direction: Direction,
    owner: Party,
    counterpart: Party | None,
    participants: Iterable[Party] = (),
    is_group: bool = False,
) -> tuple[Party | None, list[Party]]:
    """(sender, recipients) of one message under the rule in the module docstring."""
    # The members are listed only where the rule needs them (most messages are one-to-one).
    if direction == "outgoing":
        if is_group or counterpart is None:
            return owner, _members(participants, owner)
        return owner, [counterpart]
    if direction == "incoming":
        if not is_group:
            return counterpart, [owner]
        others = _members(participants, owner, counterpart)
        return counterpart, [owner, *others]
    if direction == "unknown":
        return counterpart, _members(participants, owner, counterpart)
    return counterpart, []


def _members(
    participants: Iterable[Party], owner: Party, sender: Party | None = None
) -> list[Party]:
    """The participants other than the owner (and than ``sender`` when given)."""
    return [
        p
        for p in participants
        if p is not None and not _same(p, owner) and (sender is None or not _same(p, sender))
    ]


def _same(a: Party, b: Party) -> bool:
    if a is b:
        return True
    if a.id is not None and b.id is not None:
        return a.scheme == b.scheme and a.id == b.id
    return a.raw == b.raw and a.id == b.id
