"""Calls with the case contacts: which calls are with whom, and their counts.

Not an analyser of its own: ``contact.summary`` (triage.analysers.contacts) and
``duty.contact-split`` (triage.analysers.duty) both read calls through these helpers, so a call
is matched to a contact by one rule: its counterpart or a participant of a group call holds one
of the contact's identifiers (the same party matching messages use).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from triage.analysers.parties import ContactIndex, local_text, plural
from triage.casefile import Case
from triage.model import iso_utc
from triage.store import Store, StoredCall

# Incoming calls that did not connect: the owner did not (or could not) take them.
UNANSWERED_INCOMING = ("missed", "rejected", "blocked", "voicemail")


def calls_by_contact(store: Store, index: ContactIndex, case: Case) -> dict[str, list[StoredCall]]:
    """Case-contact key -> the calls with that contact, in time order."""
    matching = {
        pid: found for pid, p in store.parties().items() if (found := index.contacts_for(p))
    }
    keys_of: dict[int, set[str]] = {}
    for call_id, pid in store.party_calls(matching):
        keys_of.setdefault(call_id, set()).update(c.key for c in matching[pid])
    out: dict[str, list[StoredCall]] = {c.key: [] for c in case.contacts}
    for stored in store.calls_by_ids(keys_of):
        for key in sorted(keys_of[stored.id]):
            out[key].append(stored)
    return out


def call_ref(s: StoredCall) -> dict[str, Any]:
    """Where a call came from, for a finding's data (findings' ``refs`` name messages only)."""
    c = s.call
    return {
        "call_id": s.id,
        "timestamp_utc": iso_utc(c.timestamp_utc),
        "file": c.source.file,
        "sha256": c.source.sha256,
        "format": c.source.format,
        "locator": c.source.locator,
        # The same call read from other records (a second copy, the phone's own call log).
        "copies": [{"file": f, "sha256": h, "locator": loc} for f, h, loc in s.copies],
    }


def summarise(calls: list[StoredCall], contact_key: str, index: ContactIndex) -> dict[str, Any]:
    """Counts of one contact's calls (the ``calls`` object of ``contact.summary``)."""
    dated = [s for s in calls if s.call.timestamp_utc is not None]
    first = dated[0] if dated else None
    results = Counter(s.call.result for s in calls)
    directions = Counter(s.call.direction for s in calls)
    first_caller = "unknown"
    if first is not None:
        if first.call.direction == "outgoing":
            first_caller = "subject"
        elif first.call.direction == "incoming" and any(
            c.key == contact_key for c in index.contacts_for(first.call.counterpart)
        ):
            first_caller = "contact"
    talk = sum(s.call.duration_s or 0 for s in calls if s.call.connected)
    return {
        "count": len(calls),
        "outgoing": directions.get("outgoing", 0),
        "incoming": directions.get("incoming", 0),
        "answered": sum(1 for s in calls if s.call.connected),
        "unanswered_incoming": sum(
            1
            for s in calls
            if s.call.direction == "incoming" and s.call.result in UNANSWERED_INCOMING
        ),
        "not_answered_outgoing": sum(
            1 for s in calls if s.call.direction == "outgoing" and not s.call.connected
        ),
        "results": dict(sorted(results.items())),
        "talk_seconds": round(talk),
        "video": sum(1 for s in calls if s.call.video),
        "networks": sorted({s.call.network for s in calls}),
        "first_utc": iso_utc(first.call.timestamp_utc) if first else None,
        "last_utc": iso_utc(dated[-1].call.timestamp_utc) if dated else None,
        "first_caller": first_caller,
        "undated": len(calls) - len(dated),
        "refs": [call_ref(s) for s in calls],
    }


def minutes(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return plural(whole, "second")
    hours, rest = divmod(whole // 60, 60)
    text = plural(rest, "minute")
    return f"{plural(hours, 'hour')} {text}" if hours else text


def sentence(summary: dict[str, Any], name: str, case: Case, calls: list[StoredCall]) -> str:
    """The neutral sentence on a contact's calls for ``contact.summary``."""
    n = summary["count"]
    who = {
        "subject": "the device owner",
        "contact": name,
        "unknown": "a party the data does not identify",
    }[summary["first_caller"]]
    dated = [s for s in calls if s.call.timestamp_utc is not None]
    span = (
        f" between {local_text(dated[0].call.timestamp_utc, case)} and "
        f"{local_text(dated[-1].call.timestamp_utc, case)}"
        if dated
        else ""
    )
    text = (
        f"{plural(n, 'call')} with {name} were found on {', '.join(summary['networks'])}{span}: "
        f"{summary['outgoing']} placed by the device owner, {summary['incoming']} received; "
        f"{summary['answered']} connected ({minutes(summary['talk_seconds'])} in all)"
    )
    if summary["unanswered_incoming"]:
        text += f", {summary['unanswered_incoming']} incoming not answered"
    if summary["not_answered_outgoing"]:
        text += f", {summary['not_answered_outgoing']} outgoing not answered"
    return text + f". The first call was placed by {who}."
