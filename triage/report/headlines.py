"""The first screen's headline sentences, built only from findings' data (docs/FINDINGS.md).

Each headline carries the numbers it states, so tests and the page can be checked against
``findings.json``. A rule no analyser produced gives no sentence, and the report says which
analyses are missing instead of implying "nothing found".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from triage.casefile import Case
from triage.devices import device_phrase
from triage.report.formats import count, date
from triage.report.naming import found_of
from triage.roster import OUTSIDE_DUTY
from triage.store import Finding


@dataclass
class Headline:
    rule: str
    text: str
    href: str | None = None
    numbers: dict[str, Any] = field(default_factory=dict)


def plural(n: int, one: str, many: str | None = None) -> str:
    return count(n, one, many)


def outside_duty(data: dict[str, Any]) -> int:
    """Messages outside rostered duty: the analyser's own count when it gives one, else the sum
    of the outside-duty statuses."""
    if isinstance(data.get("outside_duty"), int):
        return int(data["outside_duty"])
    counts = data.get("status_counts") or {}
    return sum(int(counts.get(s, 0) or 0) for s in OUTSIDE_DUTY)


def roster_used(data: dict[str, Any]) -> bool:
    """Whether a duty split was made against a roster: the analyser writes ``outside_duty`` as
    null when none was given, and "0 of N outside duty" would then read as "never off duty"."""
    return "outside_duty" not in data or data["outside_duty"] is not None


def sent_outside(data: dict[str, Any]) -> tuple[int, int] | None:
    """(messages he sent outside rostered duty, messages he sent), as the duty analyser counted
    them; ``None`` when it gave no such count (no roster, or nothing sent)."""
    sent, outside = data.get("outgoing_total"), data.get("outgoing_outside_duty")
    if isinstance(sent, int) and isinstance(outside, int) and sent:
        return outside, sent
    return None


def night_count(value: Any) -> int:
    """``night`` is a count, or an object with a ``count`` (analysers may add detail)."""
    if isinstance(value, dict):
        value = value.get("count")
    return int(value) if isinstance(value, int | float) else 0


def by_rule(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.rule, []).append(f)
    return out


def counterparty_text(entry: dict[str, Any], names: dict[str, str]) -> str:
    """How an exhibit message's other party is named: the case contact, or the number as found."""
    key = entry.get("contact_key")
    party = entry.get("counterparty") or {}
    # A formatted phone number reads better than a WhatsApp jid, and the same number reached
    # over two apps is then named once.
    shown = found_of(party)
    if key and key in names:
        return names[key]
    if shown:
        digits = str(party.get("id") or shown).replace(" ", "").lstrip("+")
        kind = "number" if digits.isdigit() else "party"
        return f"an unknown {kind} ({shown})"
    return "an unidentified party"


def build(case: Case, findings: list[Finding]) -> list[Headline]:
    rules = by_rule(findings)
    names = {c.key: c.name for c in case.contacts}
    order = {c.key: i for i, c in enumerate(case.contacts)}
    out: list[Headline] = []

    summaries = {f.subject: f for f in rules.get("contact.summary", [])}
    if summaries or rules.get("contact.none-found"):
        found = sum(1 for c in case.contacts if _total(summaries.get(c.key)) > 0)
        text = f"Messages were found with {found} of {plural(len(case.contacts), 'case contact')}."
        none = [
            names.get(f.subject or "", f.data.get("name", "?"))
            for f in rules.get("contact.none-found", [])
        ]
        if none:
            text += f" No messages were found with {', '.join(none)} in the sources read."
        numbers = {"found": found, "contacts": len(case.contacts)}
        with_calls = sum(
            1
            for f in [*summaries.values(), *rules.get("contact.none-found", [])]
            if int((f.data.get("calls") or {}).get("count") or 0)
        )
        if with_calls:
            text += f" Calls were found with {with_calls} of them."
            numbers["with_calls"] = with_calls
        out.append(Headline("contact.summary", text, "#contacts", numbers))

    for f in sorted(
        rules.get("duty.contact-split", []), key=lambda f: order.get(f.subject or "", 99)
    ):
        total = int(f.data.get("total") or 0)
        calls = f.data.get("calls") or {}
        n_calls = int(calls.get("total") or 0)
        if not total and not n_calls:
            continue
        counts = f.data.get("status_counts") or {}
        outside = outside_duty(f.data)
        name = names.get(f.subject or "", f.subject or "?")
        unknown = int(counts.get("unknown", 0) or 0)
        numbers: dict[str, Any] = {"outside": outside, "total": total, "contact": f.subject}
        if not total:
            text = f"No messages with {name} were found"
        elif unknown == total:
            text = f"The duty status of the {plural(total, 'message')} with {name} is unknown " + (
                "(no roster period covers them)"
                if roster_used(f.data)
                else "(no duty roster was given)"
            )
        else:
            text = (
                f"{outside:,} of {plural(total, 'message')} with {name} "
                f"{'was' if total == 1 else 'were'} sent or received outside rostered duty"
            )
            if unknown:
                text += f" (duty status unknown for {unknown:,})"
            sent = sent_outside(f.data)
            if sent:
                text += f", including {sent[0]:,} of the {plural(sent[1], 'message')} he sent"
                numbers.update(sent_outside=sent[0], sent=sent[1])
        night = night_count(f.data.get("night"))
        if night:
            text += f"; {night:,} at night"
        text += "."
        if n_calls:
            # Messages and calls separately and together, as investigators count both.
            text += (
                f" {plural(n_calls, 'call')} and {plural(total, 'message')} with {name} "
                f"({n_calls + total:,} in all)"
            )
            if calls.get("outside_duty") is not None:
                text += f"; {calls['outside_duty']:,} of the calls outside rostered duty"
            call_night = night_count(calls.get("night"))
            if call_night:
                text += f", {call_night:,} at night"
            text += "."
            numbers.update(calls=n_calls, calls_outside=calls.get("outside_duty"))
        out.append(Headline("duty.contact-split", text, f"contacts/{f.subject}.html", numbers))

    # Several devices: each contact's messages by device and combined, and the work devices.
    for f in sorted(
        rules.get("device.contact-split", []), key=lambda f: order.get(f.subject or "", 99)
    ):
        per_device = {r["device"]: r["messages"] for r in f.data.get("per_device") or []}
        out.append(
            Headline(
                "device.contact-split",
                f.why,
                f"contacts/{f.subject}.html",
                {"events": f.data.get("events"), "copies": f.data.get("copies"), **per_device},
            )
        )
    for f in rules.get("device.work-phone-contact", []):
        out.append(
            Headline(
                "device.work-phone-contact",
                f"Case contacts reached from {_work_device(case, f)} (a work device in the"
                " case file): "
                + "; ".join(
                    f"{r['name']} ({plural(r['messages'], 'message')},"
                    f" {plural(r['calls'], 'call')})"
                    for r in f.data.get("contacts") or []
                )
                + ".",
                None,
                {"contacts": len(f.data.get("contacts") or [])},
            )
        )

    for f in sorted(
        rules.get("contact.after-closure", []), key=lambda f: order.get(f.subject or "", 99)
    ):
        count = int(f.data.get("count") or 0)
        if count:
            name = names.get(f.subject or "", f.subject or "?")
            out.append(
                Headline(
                    "contact.after-closure",
                    f"{plural(count, 'message')} with {name} after the case closed "
                    f"({date(f.data.get('closure_date'))}).",
                    f"contacts/{f.subject}.html",
                    {"count": count, "contact": f.subject},
                )
            )

    matches = rules.get("exhibit.match", [])
    if matches:
        sent: list[str] = []
        received: list[str] = []
        for f in matches:
            for entry in f.data.get("messages") or []:
                who = counterparty_text(entry, names)
                target = sent if entry.get("direction") == "outgoing" else received
                if who not in target:
                    target.append(who)
        text = plural(len(matches), "exhibit match", "exhibit matches")
        clauses = []
        if sent:
            clauses.append("sent to " + _join(sent))
        if received:
            clauses.append("received from " + _join(received))
        text += (", " + "; ".join(clauses)) if clauses else ", not found in any message"
        out.append(
            Headline(
                "exhibit.match",
                text + ".",
                "exhibits.html",
                {"matches": len(matches), "sent": len(sent), "received": len(received)},
            )
        )

    gaps = rules.get("gap.id", [])
    if gaps:
        # Each gap once, where the gaps analyser placed it (docs/FINDINGS.md).
        placed = sum(1 for f in gaps if f.data.get("contact_key"))
        between = sum(
            1
            for f in gaps
            if not f.data.get("contact_key")
            and f.subject == "unattributed"
            and f.data.get("adjacent_contacts")
        )
        text = (
            f"{plural(len(gaps), 'gap')} in the record numbers of message databases, "
            f"{placed:,} in conversations with case contacts"
        )
        if between:
            text += f" and {between:,} between a case contact's conversation and another"
        out.append(
            Headline(
                "gap.id",
                text + ".",
                "gaps.html",
                {"gaps": len(gaps), "in_contact_conversations": placed, "between": between},
            )
        )
    markers = rules.get("gap.marker", [])
    if markers:
        count = sum(int(f.data.get("count") or 0) for f in markers)
        adjacent = sum(int(f.data.get("count") or 0) for f in markers if f.data.get("contact_key"))
        out.append(
            Headline(
                "gap.marker",
                f"{plural(count, 'message')} marked deleted or unsent by the app, "
                f"{adjacent:,} in case-contact conversations.",
                "gaps.html",
                {"markers": count, "adjacent": adjacent},
            )
        )
    return out


def _work_device(case: Case, f: Finding) -> str:
    device = case.device(f.subject) if f.subject else None
    return device_phrase(device) if device else str(f.data.get("label") or f.subject)


def _total(f: Finding | None) -> int:
    if f is None:
        return 0
    counts = f.data.get("counts") or {}
    return sum(int(v or 0) for v in counts.values())


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def missing_analyses(case: Case, findings: list[Finding], analysers: dict[str, str]) -> list[str]:
    """Plain sentences for analyses that produced nothing the report could use, so an empty
    section is never mistaken for a negative result."""
    present = {f.rule for f in findings}
    out = []
    if case.contacts and not present & {"contact.summary", "contact.none-found"}:
        out.append(
            "No contact analysis is in this run: messages with case contacts are not identified."
        )
    if case.contacts and "duty.contact-split" not in present and "duty" not in analysers:
        out.append("No duty analysis is in this run: duty status is not shown.")
    if "gap.id" not in present and "gaps" not in analysers:
        out.append("No deletion-gap analysis is in this run.")
    if case.exhibits and "media" not in analysers and not present & {"exhibit.match"}:
        out.append("No picture matching is in this run: exhibits were not compared.")
    return out
