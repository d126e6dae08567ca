"""Which of the case's people the phone exchanged messages with, on which app, from when to when.

Writes the per-message label ``contact`` (the first matching case contact's key) and ``contacts``
(every matching key, for the rare message that names two), and the findings ``contact.summary``,
``contact.after-closure``, ``contact.none-found``, ``correspondents.top`` and
``contact.shared-identifier`` (docs/FINDINGS.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.calls import calls_by_contact, sentence, summarise
from triage.analysers.parties import (
    ContactIndex,
    local_date,
    local_day_text,
    local_text,
    ordered_unique,
    plural,
)
from triage.casefile import Case, CaseContact
from triage.contact_overlap import shared_identifiers
from triage.identity import normalise_name
from triage.model import Party, iso_utc
from triage.store import Finding, MessageFacts, PartyCount, Store, StoredCall

TOP_CORRESPONDENTS = 10
# Key dates in the case file whose meaning is "the case was closed" (contact after it is counted).
CLOSURE_KEYS = ("case_closed",)


@dataclass
class _ContactTally:
    contact: CaseContact
    messages: list[MessageFacts] = field(default_factory=list)
    matched: dict[tuple[str, str], str] = field(default_factory=dict)  # (scheme, id) -> raw
    # Status updates she posted are labelled with her key but are not messages with her.
    status_updates: list[int] = field(default_factory=list)


@dataclass
class _Correspondent:
    id: str
    raw: str
    name: str | None
    scheme: str
    count: int = 0
    night: int = 0
    platforms: set[str] = field(default_factory=set)
    first: str | None = None
    last: str | None = None


class ContactsAnalyser(Analyser):
    name = "contacts"
    version = "2"
    labels_at_once = True

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        index = self._index = ContactIndex(case)
        self._store = store
        tallies = {c.key: _ContactTally(c) for c in case.contacts}
        top_n = int(settings.values.get("top_correspondents", TOP_CORRESPONDENTS))
        parties = store.parties()
        order = {c.key: n for n, c in enumerate(case.contacts)}
        contacts_of = {pid: index.contacts_for(p) for pid, p in parties.items()}
        matching = {pid: found for pid, found in contacts_of.items() if found}

        # Which contacts each message is with, matched in SQL on party ids; the first party
        # that names a contact (sender, then recipients, then participants) is the one kept.
        per_message: dict[int, dict[str, int]] = {}
        for mid, _role, _position, pid in store.party_messages(matching):
            found = per_message.setdefault(mid, {})
            for contact in matching[pid]:
                found.setdefault(contact.key, pid)
        labels: list[tuple[int, str, Any]] = []
        for facts in store.facts_by_ids(per_message):
            found = per_message[facts.id]
            keys = sorted(found, key=order.__getitem__)
            # The labels say whose conversation a row belongs to, app notices included; the
            # counts are of messages a person sent: never the encryption banner or "X joined".
            labels.append((facts.id, "contact", keys[0]))
            labels.append((facts.id, "contacts", keys))
            for key in keys:
                tally = tallies[key]
                if facts.status_update:
                    tally.status_updates.append(facts.id)
                elif not facts.is_system:
                    tally.messages.append(facts)
                party = parties[found[key]]
                tally.matched.setdefault((party.scheme, party.id or ""), party.raw)
        labels.sort()
        store.add_labels(self.name, labels)

        others, total_others = self._others(store, index, parties, contacts_of, case, top_n)
        book = self._address_book(store, index)
        calls = calls_by_contact(store, index, case)
        findings: list[Finding] = []
        for contact in case.contacts:
            tally = tallies[contact.key]
            mine = calls[contact.key]
            if tally.messages:
                findings.extend(self._summary(tally, case, book.get(contact.key, []), mine))
            else:
                findings.append(self._none_found(tally, book.get(contact.key, []), mine, case))
        findings.append(self._top(others, total_others, store))
        findings.extend(self._shared(case, tallies))
        return findings

    def _shared(self, case: Case, tallies: dict[str, _ContactTally]) -> list[Finding]:
        """``contact.shared-identifier``: one identifier given for two or more contacts."""
        out = []
        for shared in shared_identifiers(case.contacts):
            common = set.intersection(*({m.id for m in tallies[k].messages} for k in shared.keys))
            why = f"{shared.sentence()}. {plural(len(common), 'message')} counted for each of them."
            out.append(
                Finding(
                    analyser=self.name,
                    rule="contact.shared-identifier",
                    title=f"One identifier for {len(shared.keys)} case contacts",
                    why=why,
                    weight=0.6,
                    subject=None,
                    data={
                        "identifier": shared.identifier,
                        "written": list(shared.written),
                        "contacts": list(shared.keys),
                        "names": list(shared.names),
                        "messages_in_common": len(common),
                    },
                    refs=sorted(common),
                )
            )
        return out

    @staticmethod
    def _others(
        store: Store,
        index: ContactIndex,
        parties: dict[int, Party],
        contacts_of: dict[int, list[CaseContact]],
        case: Case,
        top_n: int,
    ) -> tuple[list[_Correspondent], int]:
        """The ``top_n`` with the most messages of everyone else the phone exchanged messages
        with (not the owner, not a group id, not a case contact), most first (then by id), and
        how many there are: ranked by how many messages each has (``correspondent_totals``),
        and only those ranked counted in full, from party ids in SQL."""
        excluded = {
            pid
            for pid, p in parties.items()
            if contacts_of[pid] or not index.is_counterparty(p) or not (p.id or p.raw)
        }
        # One key per correspondent (several parties can share an id: the same number with
        # and without a display name); the counting is SQL's, per key and party.
        key_ids: dict[str, int] = {}
        keys = {
            pid: key_ids.setdefault(p.id or p.raw, len(key_ids) + 1)
            for pid, p in parties.items()
            if pid not in excluded
        }
        # Every party of a key has the key's text as its id (or raw text): the ranking's id.
        texts = {key_id: text for text, key_id in key_ids.items()}
        night = (f"{case.night[0]:%H:%M:%S}", f"{case.night[1]:%H:%M:%S}")
        # A key of several parties is counted in full at once: naming its messages' parties,
        # the costly part, is the same for its total alone (at 300,000 messages, 0.39 G of the
        # contacts analyser's 3.9 G instructions for one such key).
        sizes = Counter(keys.values())
        counts: dict[int, list[PartyCount]] = {}
        for row in store.correspondent_counts(
            {pid: key for pid, key in keys.items() if sizes[key] > 1}, night
        ):
            counts.setdefault(row.key_id, []).append(row)
        totals = store.correspondent_totals(
            {pid: key for pid, key in keys.items() if sizes[key] == 1}
        )
        totals.update((key, sum(r.messages for r in rows)) for key, rows in counts.items())
        ranked = sorted(totals, key=lambda k: (-totals[k], texts[k]))[:top_n]
        shown = set(ranked) - set(counts)
        for row in store.correspondent_counts(
            {pid: key for pid, key in keys.items() if key in shown}, night
        ):
            counts.setdefault(row.key_id, []).append(row)
        # The party of a shared key met first in time gives its raw text and scheme. The name
        # is, as when counting message by message in time order (``name or party.name``), the
        # first party met with a name, or else the name (empty or none) of the one met last.
        others: list[_Correspondent] = []
        for key_id in ranked:
            rows = counts[key_id]
            first = parties[min(rows, key=lambda r: r.first_seen).party_id]
            named = [r for r in rows if parties[r.party_id].name]
            name = (
                parties[min(named, key=lambda r: r.first_seen).party_id].name
                if named
                else parties[max(rows, key=lambda r: r.last_seen).party_id].name
            )
            entry = _Correspondent(first.id or first.raw, first.raw, name, first.scheme)
            others.append(entry)
            for row in rows:
                entry.count += row.messages
                entry.night += row.night
                entry.platforms.update(row.platforms)
                # ISO text without its "Z" orders as time does, fractions of seconds included.
                if row.first_utc is not None and (
                    entry.first is None or row.first_utc[:-1] < entry.first[:-1]
                ):
                    entry.first = row.first_utc
                if row.last_utc is not None and (
                    entry.last is None or row.last_utc[:-1] > entry.last[:-1]
                ):
                    entry.last = row.last_utc
        return others, len(totals)

    # -- address book ----------------------------------------------------------------------------
    @staticmethod
    def _address_book(store: Store, index: ContactIndex) -> dict[str, list[dict[str, Any]]]:
        """Address-book entries holding one of a case contact's identifiers, per contact key."""
        out: dict[str, list[dict[str, Any]]] = {}
        for entry_id, entry in store.contact_entries():
            for p in entry.identifiers:
                for contact in index.contacts_for(p):
                    rows = out.setdefault(contact.key, [])
                    if any(r["entry_id"] == entry_id for r in rows):
                        continue
                    rows.append(
                        {
                            "entry_id": entry_id,
                            "name": entry.name,
                            "identifier": {"scheme": p.scheme, "id": p.id, "raw": p.raw},
                            "file": entry.source.file,
                            "sha256": entry.source.sha256,
                            "locator": entry.source.locator,
                        }
                    )
        return out

    # -- per contact -----------------------------------------------------------------------------
    def _summary(
        self,
        tally: _ContactTally,
        case: Case,
        book: list[dict[str, Any]],
        calls: list[StoredCall],
    ) -> list[Finding]:
        contact = tally.contact
        messages = tally.messages
        dated = [s for s in messages if s.timestamp_utc is not None]
        first = dated[0] if dated else None
        last = dated[-1] if dated else None
        counts = Counter(
            s.direction if s.direction in ("outgoing", "incoming") else "other" for s in messages
        )
        first_sender = "unknown"
        if first is not None:
            if first.direction == "outgoing":
                first_sender = "subject"
            elif first.direction == "incoming":
                sender = self._store.sender_of(first.id)
                if any(c.key == contact.key for c in self._index.contacts_for(sender)):
                    first_sender = "contact"
        days = sorted({local_date(s.timestamp_utc, case) for s in dated})  # type: ignore[arg-type]
        streak = _longest_streak(days)
        first_day = days[0] if days else None
        key_dates = {
            name: {
                "date": day.isoformat(),
                "days_to_first_message": (first_day - day).days if first_day else None,
            }
            for name, day in sorted(contact.dates.items())
        }
        closure = next((contact.dates[k] for k in CLOSURE_KEYS if k in contact.dates), None)
        after = (
            [s for s in dated if local_date(s.timestamp_utc, case) > closure]  # type: ignore[arg-type]
            if closure
            else []
        )
        conversations: dict[str, dict[str, Any]] = {}
        known = self._store.conversations()
        for s in messages:
            row = conversations.setdefault(
                s.conversation,
                {
                    "key": s.conversation,
                    "title": known[s.conversation].title,
                    "platform": s.platform,
                    "is_group": s.is_group,
                    "count": 0,
                },
            )
            row["count"] += 1
        platforms = sorted({s.platform for s in messages})
        names = ordered_unique(r["name"] for r in book if r["name"])
        data: dict[str, Any] = {
            "name": contact.name,
            "role": contact.role,
            "matched_identifiers": [
                {"scheme": scheme, "id": ident, "raw": raw}
                for (scheme, ident), raw in sorted(tally.matched.items())
            ],
            "platforms": platforms,
            "conversations": sorted(conversations.values(), key=lambda r: (-r["count"], r["key"])),
            "message_count": len(messages),
            "undated": len(messages) - len(dated),
            "first_utc": iso_utc(first.timestamp_utc) if first else None,
            "last_utc": iso_utc(last.timestamp_utc) if last else None,
            "first_message_id": first.id if first else None,
            "counts": {k: counts.get(k, 0) for k in ("outgoing", "incoming", "other")},
            "first_sender": first_sender,
            "longest_streak": streak,
            "days_with_messages": len(days),
            "key_dates": key_dates,
            "after_closure": len(after),
            "address_book_names": names,
            "address_book_entries": book,
            "status_updates": len(tally.status_updates),
        }
        call_summary = summarise(calls, contact.key, self._index)
        data["calls"] = call_summary
        data["first_contact"] = _first_contact(
            data["first_utc"], first_sender, call_summary["first_utc"], call_summary["first_caller"]
        )
        span = (
            f" between {local_text(first.timestamp_utc, case)} and "
            f"{local_text(last.timestamp_utc, case)}"
            if first and last
            else ""
        )
        who = {
            "subject": "the device owner",
            "contact": contact.name,
            "unknown": "a party the data does not identify",
        }[first_sender]
        why = (
            f"{plural(len(messages), 'message')} with {contact.name} ({contact.role}) were found "
            f"on {', '.join(platforms)}{span}: {counts.get('outgoing', 0)} sent by the device "
            f"owner, {counts.get('incoming', 0)} received. The first was sent by {who}."
        )
        if calls:
            why += " " + sentence(call_summary, contact.name, case, calls)
            if data["first_contact"]["kind"] == "call":
                why += " The first contact of any kind was a call."
        if "first_policing_contact" in key_dates and first_day is not None:
            gap = key_dates["first_policing_contact"]["days_to_first_message"]
            when = local_day_text(contact.dates["first_policing_contact"])
            if gap == 0:
                why += (
                    " The first message is on the day of the first policing contact recorded in "
                    f"the case file ({when})."
                )
            else:
                why += (
                    f" The first message is {plural(abs(gap), 'day')} "
                    f"{'after' if gap > 0 else 'before'} the first policing contact recorded in "
                    f"the case file ({when})."
                )
        findings = [
            Finding(
                analyser=self.name,
                rule="contact.summary",
                title=f"Messages with {contact.name}",
                why=why,
                weight=0.9,
                subject=contact.key,
                data=data,
                refs=[s.id for s in messages],
            )
        ]
        if after and closure is not None:
            findings.append(
                Finding(
                    analyser=self.name,
                    rule="contact.after-closure",
                    title=f"Messages with {contact.name} after the case closed",
                    why=(
                        f"{plural(len(after), 'message')} with {contact.name} "
                        f"{'is' if len(after) == 1 else 'are'} dated after the case closure date "
                        f"in the case file ({local_day_text(closure)}), the first at "
                        f"{local_text(after[0].timestamp_utc, case)}."
                    ),
                    weight=0.8,
                    subject=contact.key,
                    data={
                        "count": len(after),
                        "closure_date": closure.isoformat(),
                        "first_utc": iso_utc(after[0].timestamp_utc),
                        "last_utc": iso_utc(after[-1].timestamp_utc),
                        "outgoing": sum(1 for s in after if s.direction == "outgoing"),
                        "incoming": sum(1 for s in after if s.direction == "incoming"),
                    },
                    refs=[s.id for s in after],
                )
            )
        return findings

    def _none_found(
        self,
        tally: _ContactTally,
        book: list[dict[str, Any]],
        calls: list[StoredCall],
        case: Case,
    ) -> Finding:
        contact = tally.contact
        searched = [
            {"scheme": i.party.scheme, "id": i.party.id, "raw": i.value}
            for i in contact.identifiers
        ] + [{"scheme": "name", "id": normalise_name(a), "raw": a} for a in contact.aliases]
        why = (
            f"No messages with {contact.name} were found in the sources read. "
            "This does not show that there was no contact."
        )
        if tally.status_updates:
            why += (
                f" {plural(len(tally.status_updates), 'WhatsApp Status update')} posted by "
                f"{contact.name} {'is' if len(tally.status_updates) == 1 else 'are'} on the phone."
            )
        call_summary = summarise(calls, contact.key, self._index)
        if calls:
            why += " " + sentence(call_summary, contact.name, case, calls)
        names = ordered_unique(r["name"] for r in book if r["name"])
        if names:
            why += (
                f" The phone's address book holds {contact.name}'s identifier under "
                f"{', '.join(repr(n) for n in names)}."
            )
            if not calls:
                why += " No message or call with that entry was found."
        return Finding(
            analyser=self.name,
            rule="contact.none-found",
            title=f"No messages found with {contact.name}",
            why=why,
            weight=0.5,
            subject=contact.key,
            data={
                "name": contact.name,
                "role": contact.role,
                "identifiers_searched": searched,
                "address_book_names": names,
                "address_book_entries": book,
                "address_book_only": bool(book) and not calls,
                "status_updates": len(tally.status_updates),
                "calls": call_summary,
                "first_contact": _first_contact(
                    None, "unknown", call_summary["first_utc"], call_summary["first_caller"]
                ),
            },
            refs=tally.status_updates,
        )

    # -- everyone else ---------------------------------------------------------------------------
    def _top(self, ranked: list[_Correspondent], total: int, store: Store) -> Finding:
        """``correspondents.top``: the correspondents ``ranked`` of the ``total`` who are not
        case contacts."""
        names: dict[str, str] = {}
        for _, entry in store.contact_entries():
            for p in entry.identifiers:
                if p.id and entry.name:
                    names.setdefault(p.id, entry.name)
        rows = [
            {
                "id": c.id,
                "raw": c.raw,
                "scheme": c.scheme,
                "name": c.name or names.get(c.id),
                "count": c.count,
                "night": c.night,
                "platforms": sorted(c.platforms),
                "first_utc": c.first,
                "last_utc": c.last,
            }
            for c in ranked
        ]
        why = (
            f"The {plural(len(rows), 'correspondent')} with the most messages who are not case "
            "contacts (the device owner excluded), for comparison with the case contacts."
            if rows
            else "No correspondents other than the case contacts were found in the sources read."
        )
        return Finding(
            analyser=self.name,
            rule="correspondents.top",
            title="Top correspondents who are not case contacts",
            why=why,
            weight=0.2,
            subject=None,
            data={"correspondents": rows, "total_other_correspondents": total},
        )


def _longest_streak(days: list[dt.date]) -> dict[str, Any]:
    """Longest run of consecutive local dates with at least one message (earliest run on ties)."""
    if not days:
        return {"days": 0, "start": None, "end": None}
    best = (1, days[0], days[0])
    run_start = days[0]
    for prev, day in zip(days, days[1:], strict=False):
        if (day - prev).days != 1:
            run_start = day
        length = (day - run_start).days + 1
        if length > best[0]:
            best = (length, run_start, day)
    return {"days": best[0], "start": best[1].isoformat(), "end": best[2].isoformat()}


def _first_contact(
    message_utc: str | None, message_by: str, call_utc: str | None, call_by: str
) -> dict[str, Any]:
    """The first contact of any kind: the earlier of the first message and the first call
    (a message when both share the same second)."""
    options = [
        (t, kind, by)
        for t, kind, by in ((message_utc, "message", message_by), (call_utc, "call", call_by))
        if t is not None
    ]
    if not options:
        return {"kind": None, "utc": None, "by": "unknown"}
    utc, kind, by = min(options, key=lambda o: (o[0][:-1], o[1] != "message"))
    return {"kind": kind, "utc": utc, "by": by}
