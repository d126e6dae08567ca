"""Which of the subject's devices held each contact's messages (cases with ``devices:``).

Runs after the contacts and duty analysers and reads their labels. A message is one *event*
however many devices hold a *copy* of it (the store keeps one copy and lists the others:
:meth:`triage.store.Store.copies_of`); an event counts for every device holding a copy.

Writes the per-message label ``own_device`` (a one-to-one message whose every party is the
subject: sent between two of his own devices) and the findings ``device.contact-split``,
``device.work-phone-contact`` and ``device.own-devices`` (docs/FINDINGS.md). A case file
without ``devices:`` has one device, and this analyser writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.calls import call_ref, calls_by_contact
from triage.analysers.parties import ContactIndex, local_text, message_parties, plural
from triage.casefile import Case, Device
from triage.devices import device_phrase
from triage.model import iso_utc
from triage.roster import OUTSIDE_DUTY
from triage.store import Finding, MessageFacts, Store


class DevicesAnalyser(Analyser):
    name = "devices"
    version = "1"

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        if not case.several_devices:
            return []
        index = ContactIndex(case)
        contact_of = store.labels("contacts", "contacts")
        findings: list[Finding] = []
        own = self._own_devices(store, index, case)
        store.add_labels(self.name, [(mid, "own_device", True) for mid in sorted(own)])
        by_contact: dict[str, list[MessageFacts]] = {c.key: [] for c in case.contacts}
        for facts in store.facts_by_ids(contact_of):
            if not facts.counted or facts.id in own:
                continue
            for key in contact_of[facts.id]:
                by_contact[key].append(facts)
        everything = [f.id for facts in by_contact.values() for f in facts]
        status = store.labels("duty", "status", everything)
        copies = store.copies_of(everything)
        for contact in case.contacts:
            messages = by_contact[contact.key]
            if messages:
                findings.append(self._split(contact, messages, copies, status, case))
        calls = calls_by_contact(store, index, case)
        for device in case.devices:
            if device.kind == "work":
                finding = self._work_contact(device, by_contact, copies, calls, case)
                if finding is not None:
                    findings.append(finding)
        if own:
            findings.append(self._own_finding(store, sorted(own), case))
        return findings

    # -- one event, every device holding a copy --------------------------------------------------
    @staticmethod
    def _holders(facts: MessageFacts, copies: dict[int, list[dict[str, Any]]]) -> list[str]:
        held = [facts.device] + [c["device"] for c in copies.get(facts.id, [])]
        return [d for d in dict.fromkeys(held) if d is not None]

    def _split(
        self,
        contact: Any,
        messages: list[MessageFacts],
        copies: dict[int, list[dict[str, Any]]],
        status: dict[int, Any],
        case: Case,
    ) -> Finding:
        rows = []
        on_several = [m.id for m in messages if len(self._holders(m, copies)) > 1]
        for device in case.devices:
            held = [m for m in messages if device.key in self._holders(m, copies)]
            if not held:
                continue
            placed = case.roster is not None or device.roster is not None
            rows.append(
                {
                    "device": device.key,
                    "label": device.label,
                    "kind": device.kind,
                    "messages": len(held),
                    "outgoing": sum(1 for m in held if m.direction == "outgoing"),
                    "incoming": sum(1 for m in held if m.direction == "incoming"),
                    "outside_duty": sum(1 for m in held if status.get(m.id) in OUTSIDE_DUTY)
                    if placed
                    else None,
                    "own_roster": device.roster is not None,
                    "first_utc": iso_utc(next((m.timestamp_utc for m in held), None)),
                }
            )
        total_copies = sum(len(self._holders(m, copies)) for m in messages)
        parts = ", ".join(
            f"{r['messages']} on {device_phrase(case.device(r['device']))}"  # type: ignore[arg-type]
            for r in rows
        )
        why = f"{plural(len(messages), 'message')} with {contact.name}: {parts}"
        # Duty per device: every work device, and any device placed against its own roster.
        told = [r for r in rows if r["kind"] == "work" or r["own_roster"]]
        if told and any(r["outside_duty"] is not None for r in rows):
            # "of the 50 on his work phone": the number and the device named as elsewhere in
            # the sentence, not a label bent into an adjective.
            why += "; " + "; ".join(
                f"{r['outside_duty']} of {'the ' if r['messages'] > 1 else ''}{r['messages']} on"
                f" {device_phrase(case.device(r['device']))} outside rostered duty"  # type: ignore[arg-type]
                + (" (its own roster)" if r["own_roster"] else "")
                if r["outside_duty"] is not None
                else f"the {r['messages']} on {device_phrase(case.device(r['device']))}"  # type: ignore[arg-type]
                " cannot be placed (no roster)"
                for r in told
            )
        why += "."
        if on_several:
            why += (
                f" {plural(len(on_several), 'message is', 'messages are')} held on more than one"
                f" device: counted once in the total ({total_copies} copies in all) and on each"
                " device that holds it."
            )
        return Finding(
            analyser=self.name,
            rule="device.contact-split",
            title=f"Messages with {contact.name} by device",
            why=why,
            weight=0.7,
            subject=contact.key,
            data={
                "name": contact.name,
                "counts": "events",
                "events": len(messages),
                "copies": total_copies,
                "on_several_devices": len(on_several),
                "per_device": rows,
            },
            refs=[m.id for m in messages],
        )

    # -- contact reached from a work device ------------------------------------------------------
    def _work_contact(
        self,
        device: Device,
        by_contact: dict[str, list[MessageFacts]],
        copies: dict[int, list[dict[str, Any]]],
        calls: dict[str, list[Any]],
        case: Case,
    ) -> Finding | None:
        rows = []
        refs: list[int] = []
        for contact in case.contacts:
            held = [m for m in by_contact[contact.key] if device.key in self._holders(m, copies)]
            rang = [c for c in calls[contact.key] if c.call.device == device.key]
            if not held and not rang:
                continue
            dated = [m.timestamp_utc for m in held if m.timestamp_utc is not None]
            rows.append(
                {
                    "contact": contact.key,
                    "name": contact.name,
                    "role": contact.role,
                    "messages": len(held),
                    "calls": len(rang),
                    "first_utc": iso_utc(min(dated)) if dated else None,
                    "last_utc": iso_utc(max(dated)) if dated else None,
                    "call_refs": [call_ref(c) for c in rang],
                }
            )
            refs.extend(m.id for m in held)
        if not rows:
            return None
        named = "; ".join(
            f"{r['name']} ({r['role']}): {plural(r['messages'], 'message')}, "
            f"{plural(r['calls'], 'call')}"
            for r in rows
        )
        return Finding(
            analyser=self.name,
            rule="device.work-phone-contact",
            title=f"Case contacts reached from {device_phrase(device)} (a work device)",
            why=(
                f"{device.label} is recorded in the case file as a work device. It holds messages"
                f" or calls with {plural(len(rows), 'case contact')}: {named}. Whether there was"
                " a policing reason for each is for the investigator to establish."
            ),
            weight=0.8,
            subject=device.key,
            data={"device": device.key, "label": device.label, "contacts": rows},
            refs=sorted(set(refs)),
        )

    # -- between his own devices -----------------------------------------------------------------
    @staticmethod
    def _own_devices(store: Store, index: ContactIndex, case: Case) -> set[int]:
        """One-to-one messages every party of which is the subject (any of his identifiers)."""
        # Such a message names two of his identifiers at least (the rule below): SQL finds those
        # few, where every message names one (the owner's party is in each). The placeholder
        # owner party is no identifier of his.
        mine = [
            pid
            for pid, p in store.parties().items()
            if p.id and p.scheme != "owner" and index.is_owner(p)
        ]
        candidates = store.messages_naming_several(mine)
        own: set[int] = set()
        for stored in store.messages_by_ids(candidates):
            m = stored.message
            if m.conversation.is_group or m.is_system:
                continue
            parties = [p for p in message_parties(m) if p.scheme != "owner"]
            ids = {p.id for p in parties}
            # Two of his identifiers at least: a note to himself on one number is not between
            # devices.
            if parties and all(index.is_owner(p) for p in parties) and len(ids) > 1:
                own.add(stored.id)
        return own

    def _own_finding(self, store: Store, ids: list[int], case: Case) -> Finding:
        facts = store.facts_by_ids(ids)
        first = next((f.timestamp_utc for f in facts if f.timestamp_utc is not None), None)
        # Every device holding a copy: the sent copy on one phone, the received one on the other.
        copies = store.copies_of(ids)
        held = {f.device for f in facts} | {c["device"] for cs in copies.values() for c in cs}
        return Finding(
            analyser=self.name,
            rule="device.own-devices",
            title="Messages between the subject's own devices",
            why=(
                f"{plural(len(ids), 'message')} {'was' if len(ids) == 1 else 'were'} exchanged"
                " between identifiers of the subject's own devices"
                + (f", the first at {local_text(first, case)}" if first else "")
                + ". They are not contact with anyone and are not counted as contact with a case"
                " contact or a correspondent."
            ),
            weight=0.3,
            subject=None,
            data={"count": len(ids), "devices": sorted(held - {None})},  # type: ignore[operator]
            refs=ids,
        )
