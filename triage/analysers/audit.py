"""The subject officer's police-system lookups, joined to the phone (docs/FINDINGS.md, "audit").

Only rows of the user ids the case file's ``audit.users`` names are analysed. Each lookup is
matched to the case contacts on what it records of the person looked up:

- ``record reference``: the record reference looked up is one of the contact's ``records`` in
  the case file (after case and space folding): exact;
- ``number``: the phone number looked up is one of the contact's numbers (exact, after
  normalisation): strong;
- ``name and date of birth``: the name looked up is one of hers and the date of birth is her
  case-file ``date_of_birth``, or both are those of another of these lookups that matched her by
  number: strong;
- ``name``: the name looked up is the contact's name, alias or name identifier after case and
  space folding: medium (two people can share a name);
- ``first name and initial``: the first names agree and the contact's alias gives only the
  initial of the surname looked up: weak;
- ``date of birth``: only the date of birth is hers (no name looked up, or another name): weak,
  as many people share a date of birth.

The strongest method names the match; ``fields`` lists every mapped subject field of the lookup
that agrees with the case file (reference, phone, name, date_of_birth).

For each lookup: the lag to the next device contact of any kind with her (a message or a call;
app notices and Status updates are not contact), the rostered duty status at its time (the duty
analyser's roster, :mod:`triage.roster`), whether it falls after her case-closure date, and,
when a tasking list is supplied, the tasking that explains it (:mod:`triage.tasking`) or that
none was found in the list supplied. People looked up who are not case contacts are searched for
on the phone by number (strong) and by name (name only: medium).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.contacts import CLOSURE_KEYS
from triage.analysers.parties import ContactIndex, local_day_text, local_text, plural
from triage.casefile import Case, CaseContact
from triage.identity import normalise_name
from triage.model import iso_utc
from triage.roster import OUTSIDE_DUTY, Roster, RosterError, load_roster
from triage.store import Finding, Store, StoredAudit
from triage.tasking import WINDOW_DAYS, Tasking, TaskingError, explains, read_tasking

STRENGTH = {
    "record reference": "exact",
    "number": "strong",
    "name and date of birth": "strong",
    "name": "medium",
    "first name and initial": "weak",
    "date of birth": "weak",
}


def _ref(text: str) -> str:
    """A record reference folded for comparison: case and spaces are not part of it."""
    return "".join(text.split()).casefold()


@dataclass
class DeviceContact:
    """One message or call with a person, as the chronology and the lags need it."""

    when: dt.datetime
    kind: str  # message | call
    id: int
    channel: str  # platform of a message, network of a call
    file: str
    sha256: str
    locator: str

    def ref(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            f"{self.kind}_id": self.id,
            "channel": self.channel,
            "time_utc": iso_utc(self.when),
            "file": self.file,
            "sha256": self.sha256,
            "locator": self.locator,
        }


def device_contacts(store: Store, case: Case) -> dict[str, list[DeviceContact]]:
    """Per case-contact key, every message and call with her in time order (undated left out)."""
    out: dict[str, list[DeviceContact]] = {c.key: [] for c in case.contacts}
    per_contact: dict[str, list[int]] = {c.key: [] for c in case.contacts}
    for mid, keys in store.labels("contacts", "contacts").items():
        for key in keys:
            if key in per_contact:
                per_contact[key].append(mid)
    for key, ids in per_contact.items():
        facts = [f for f in store.facts_by_ids(ids) if f.counted and f.timestamp_utc is not None]
        where = store.provenance_of(f.id for f in facts)
        for f in facts:
            src = where[f.id][1]
            out[key].append(
                DeviceContact(
                    f.timestamp_utc, "message", f.id, f.platform, src.file, src.sha256, src.locator
                )
            )
    index = ContactIndex(case)
    parties = store.parties()
    by_party: dict[int, list[str]] = {}
    for pid, p in parties.items():
        for c in index.contacts_for(p):
            by_party.setdefault(pid, []).append(c.key)
    call_keys: dict[int, set[str]] = {}
    for cid, pid in store.party_calls(by_party):
        call_keys.setdefault(cid, set()).update(by_party[pid])
    for stored in store.calls_by_ids(call_keys):
        call = stored.call
        if call.timestamp_utc is None:
            continue
        for key in sorted(call_keys[stored.id]):
            out[key].append(
                DeviceContact(
                    call.timestamp_utc,
                    "call",
                    stored.id,
                    call.network,
                    call.source.file,
                    call.source.sha256,
                    call.source.locator,
                )
            )
    for rows in out.values():
        rows.sort(key=lambda d: (d.when, d.kind, d.id))
    return out


def lag_text(seconds: float) -> str:
    """A lag for a sentence: minutes under two hours, hours under two days, else days."""
    minutes = round(seconds / 60)
    if minutes < 120:
        return plural(minutes, "minute")
    hours = round(seconds / 3600)
    if hours < 48:
        return plural(hours, "hour")
    return plural(round(seconds / 86400), "day")


def _dob(text: str | None) -> str | None:
    """A date of birth as YYYY-MM-DD where it reads as one (ISO or day-first), else as given."""
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return text.strip()


def _contact_names(contact: CaseContact) -> set[str]:
    names = {normalise_name(contact.name)}
    names.update(normalise_name(a) for a in contact.aliases)
    names.update(normalise_name(i.value) for i in contact.identifiers if i.kind == "name")
    return names


def _initial_match(looked_up: str, names: set[str]) -> bool:
    parts = looked_up.split()
    if len(parts) < 2:
        return False
    for name in names:
        other = name.split()
        if len(other) == 2 and len(other[1]) == 1 and other[0] == parts[0]:
            if parts[-1].startswith(other[1]):
                return True
    return False


@dataclass
class _Lookup:
    stored: StoredAudit
    status: str = "unknown"
    matches: dict[str, str] = field(default_factory=dict)  # contact key -> method
    fields: dict[str, list[str]] = field(default_factory=dict)  # contact key -> fields that agree
    tasking: Tasking | None = None

    @property
    def when(self) -> dt.datetime | None:
        return self.stored.event.timestamp_utc


class AuditAnalyser(Analyser):
    name = "audit"
    version = "1"

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        if case.audit is None:
            return []
        lookups = [_Lookup(s) for s in store.audit_events(case.audit.users)]
        rows_by_user = store.audit_counts()
        roster, roster_error = self._roster(case, lookups)
        tasks: list[Tasking] | None = None
        tasking_error = None
        if case.tasking is not None:
            try:
                tasks = read_tasking(case.tasking, case.region)
            except TaskingError as exc:
                tasking_error = str(exc)
        for lk in lookups:
            if roster is not None and lk.when is not None:
                lk.status = roster.status(lk.when)
            if tasks is not None and lk.when is not None:
                e = lk.stored.event
                day = lk.when.astimezone(case.zone).date()
                lk.tasking = next(
                    (
                        t
                        for t in tasks
                        if explains(t, day, e.subject_phone, e.subject_name, e.subject_ref)
                    ),
                    None,
                )
        self._match(case, lookups)
        contact_rows = device_contacts(store, case)
        settings.values.setdefault("audit", {})["rules"] = {
            "match_strength": STRENGTH,
            "tasking_window_days": WINDOW_DAYS,
            "outside_duty_statuses": list(OUTSIDE_DUTY),
            "closure_keys": list(CLOSURE_KEYS),
        }

        findings = [
            self._summary(case, lookups, rows_by_user, roster, roster_error, tasks, tasking_error)
        ]
        for contact in case.contacts:
            mine = [lk for lk in lookups if contact.key in lk.matches]
            if mine:
                findings.extend(
                    self._contact(case, contact, mine, contact_rows[contact.key], tasks)
                )
        outside = [lk for lk in lookups if lk.status in OUTSIDE_DUTY]
        if outside:
            findings.append(self._outside(case, outside))
        findings.extend(self._on_phone(store, case, [lk for lk in lookups if not lk.matches]))
        if tasks is not None and lookups:
            findings.append(self._tasking(case, lookups))
        return findings

    # -- matching --------------------------------------------------------------------------------
    @staticmethod
    def _roster(case: Case, lookups: list[_Lookup]) -> tuple[Roster | None, str | None]:
        dated = [lk.when for lk in lookups if lk.when is not None]
        if not dated or case.roster is None:
            return None, None
        try:
            return (
                load_roster(
                    case,
                    min(dated).astimezone(case.zone).date(),
                    max(dated).astimezone(case.zone).date(),
                ),
                None,
            )
        except (RosterError, OSError, ValueError) as exc:
            return None, str(exc)

    @staticmethod
    def _match(case: Case, lookups: list[_Lookup]) -> None:
        numbers = {c.key: c.match_ids() for c in case.contacts}
        names = {c.key: _contact_names(c) for c in case.contacts}
        records = {c.key: {_ref(r) for r in c.records} for c in case.contacts}
        linked: dict[tuple[str, str], str] = {}
        for lk in lookups:
            e = lk.stored.event
            looked = normalise_name(e.subject_name) if e.subject_name else None
            dob = _dob(e.subject_dob)
            for contact in case.contacts:
                agree = []
                if e.subject_ref and _ref(e.subject_ref) in records[contact.key]:
                    agree.append("reference")
                if e.subject_phone and e.subject_phone in numbers[contact.key]:
                    agree.append("phone")
                if looked and looked in names[contact.key]:
                    agree.append("name")
                if dob and contact.date_of_birth and dob == contact.date_of_birth.isoformat():
                    agree.append("date_of_birth")
                if agree:
                    lk.fields[contact.key] = agree
                if "reference" in agree:
                    lk.matches[contact.key] = "record reference"
                elif "phone" in agree:
                    lk.matches[contact.key] = "number"
                elif "name" in agree and "date_of_birth" in agree:
                    lk.matches[contact.key] = "name and date of birth"
                if "phone" in agree and looked and dob:
                    linked[(looked, dob)] = contact.key
        for lk in lookups:
            e = lk.stored.event
            looked = normalise_name(e.subject_name) if e.subject_name else None
            dob = _dob(e.subject_dob)
            key = linked.get((looked, dob)) if looked and dob else None
            if key is not None and key not in lk.matches:
                lk.matches[key] = "name and date of birth"
                lk.fields[key] = sorted({*lk.fields.get(key, []), "name", "date_of_birth"})
            for contact in case.contacts:
                if contact.key in lk.matches:
                    continue
                agree = lk.fields.get(contact.key, [])
                if "name" in agree:
                    lk.matches[contact.key] = "name"
                elif looked and _initial_match(looked, names[contact.key]):
                    lk.matches[contact.key] = "first name and initial"
                    lk.fields[contact.key] = [*agree, "name"]
                elif "date_of_birth" in agree:
                    lk.matches[contact.key] = "date of birth"

    # -- findings --------------------------------------------------------------------------------
    def _view(self, case: Case, lk: _Lookup, tasks: list[Tasking] | None) -> dict[str, Any]:
        e = lk.stored.event
        return {
            **lk.stored.ref(),
            "time_utc": iso_utc(e.timestamp_utc),
            "time_raw": e.timestamp_raw,
            "local": lk.stored.ts_local,
            "zone_assumed": e.zone_assumed,
            "user": e.user,
            "system": e.system,
            "action": e.action,
            "subject": {
                "name": e.subject_name,
                "date_of_birth": e.subject_dob,
                "phone": e.subject_phone_raw,
                "phone_normalised": e.subject_phone,
                "address": e.subject_address,
                "reference": e.subject_ref,
            },
            "duty_status": lk.status,
            "outside_duty": lk.status in OUTSIDE_DUTY,
            "tasking": None
            if tasks is None
            else (
                {"incident_ref": lk.tasking.reference, "date": lk.tasking.date.isoformat()}
                if lk.tasking
                else "none found in the list supplied"
            ),
            "matches": [
                {
                    "contact": key,
                    "method": method,
                    "strength": STRENGTH[method],
                    "fields": lk.fields.get(key, []),
                }
                for key, method in lk.matches.items()
            ],
        }

    def _summary(
        self,
        case: Case,
        lookups: list[_Lookup],
        rows_by_user: dict[str, int],
        roster: Roster | None,
        roster_error: str | None,
        tasks: list[Tasking] | None,
        tasking_error: str | None,
    ) -> Finding:
        assert case.audit is not None
        users = ", ".join(case.audit.users)
        matched = sum(1 for lk in lookups if lk.matches)
        outside = sum(1 for lk in lookups if lk.status in OUTSIDE_DUTY)
        why = (
            f"{plural(sum(rows_by_user.values()), 'audit row')} were read; "
            f"{plural(len(lookups), 'row')} are by the subject officer's user id ({users}), "
            f"{matched} of them of a case contact; {outside} fall outside rostered duty."
        )
        if roster is None:
            why += " No roster could be applied, so duty status is unknown for every lookup."
        return Finding(
            analyser=self.name,
            rule="audit.summary",
            title="Police-system lookups by the subject officer",
            why=why,
            weight=0.5,
            data={
                "users": case.audit.users,
                "rows_by_user": rows_by_user,
                "lookups": [self._view(case, lk, tasks) for lk in lookups],
                "matched": matched,
                "outside_duty": outside,
                "undated": sum(1 for lk in lookups if lk.when is None),
                "roster": roster.description if roster else None,
                "roster_error": roster_error,
                "tasking_error": tasking_error,
            },
        )

    def _contact(
        self,
        case: Case,
        contact: CaseContact,
        mine: list[_Lookup],
        rows: list[DeviceContact],
        tasks: list[Tasking] | None,
    ) -> list[Finding]:
        first_contact = rows[0] if rows else None
        closure = next((contact.dates[k] for k in CLOSURE_KEYS if k in contact.dates), None)
        views = []
        for lk in mine:
            view = self._view(case, lk, tasks)
            view["method"] = lk.matches[contact.key]
            view["strength"] = STRENGTH[view["method"]]
            view["fields"] = lk.fields.get(contact.key, [])
            nxt = next((d for d in rows if lk.when is not None and d.when >= lk.when), None)
            view["next_contact"] = None
            if nxt is not None and lk.when is not None:
                seconds = (nxt.when - lk.when).total_seconds()
                view["next_contact"] = {
                    **nxt.ref(),
                    "lag_seconds": int(seconds),
                    "lag": lag_text(seconds),
                }
            view["before_first_contact"] = bool(
                lk.when is not None and (first_contact is None or lk.when < first_contact.when)
            )
            view["after_closure"] = bool(
                closure is not None
                and lk.when is not None
                and lk.when.astimezone(case.zone).date() > closure
            )
            views.append(view)
        lags = [
            f"{local_text(lk.when, case)} ({v['method']}, {v['strength']}; "
            f"fields matched: {', '.join(v['fields']).replace('_', ' ')}): "
            + (
                f"next contact {v['next_contact']['lag']} later by {v['next_contact']['kind']}"
                if v["next_contact"]
                else "no later contact found"
            )
            for lk, v in zip(mine, views, strict=True)
        ]
        why = (
            f"{plural(len(mine), 'lookup')} by the subject officer {'matches' if len(mine) == 1 else 'match'} "
            f"{contact.name} ({contact.role}). " + "; ".join(lags) + "."
        )
        if first_contact is not None and views[0]["before_first_contact"]:
            why += (
                f" The first lookup is {lag_text((first_contact.when - mine[0].when).total_seconds())}"  # type: ignore[operator]
                " before the first contact with her found on the phone."
            )
        findings = [
            Finding(
                analyser=self.name,
                rule="audit.contact-lookups",
                title=f"Police-system lookups matching {contact.name}",
                why=why,
                weight=0.85,
                subject=contact.key,
                data={
                    "name": contact.name,
                    "lookups": views,
                    "first_contact": first_contact.ref() if first_contact else None,
                },
                refs=sorted(
                    v["next_contact"]["message_id"]
                    for v in views
                    if v["next_contact"] and "message_id" in v["next_contact"]
                ),
            )
        ]
        after = [v for v in views if v["after_closure"]]
        if after and closure is not None:
            findings.append(
                Finding(
                    analyser=self.name,
                    rule="audit.after-closure",
                    title=f"Lookups matching {contact.name} after her case was closed",
                    why=(
                        f"{plural(len(after), 'lookup')} matching {contact.name} "
                        f"{'is' if len(after) == 1 else 'are'} dated after the case closure date in "
                        f"the case file ({local_day_text(closure)}): "
                        + "; ".join(
                            f"{v['local'].replace('T', ' ')} on {v['system']} ({v['action']})"
                            for v in after
                        )
                        + "."
                    ),
                    weight=0.8,
                    subject=contact.key,
                    data={"closure_date": closure.isoformat(), "lookups": after},
                )
            )
        return findings

    def _outside(self, case: Case, outside: list[_Lookup]) -> Finding:
        return Finding(
            analyser=self.name,
            rule="audit.outside-duty",
            title="Lookups made outside rostered duty",
            why=(
                f"{plural(len(outside), 'lookup')} by the subject officer "
                f"{'was' if len(outside) == 1 else 'were'} made while the roster shows him not on "
                "duty: "
                + "; ".join(
                    f"{local_text(lk.when, case)} ({lk.status.replace('_', ' ')})" for lk in outside
                )
                + ". The roster supplied may not show every change of shift."
            ),
            weight=0.7,
            data={"lookups": [self._view(case, lk, None) for lk in outside]},
        )

    def _on_phone(self, store: Store, case: Case, lookups: list[_Lookup]) -> list[Finding]:
        """People looked up who are not case contacts and appear on the phone afterwards."""
        parties = store.parties()
        by_phone: dict[str, list[int]] = {}
        by_name: dict[str, list[int]] = {}
        for pid, p in parties.items():
            if p.id and p.id.startswith("+"):
                by_phone.setdefault(p.id, []).append(pid)
            if p.name:
                by_name.setdefault(normalise_name(p.name), []).append(pid)
        for _entry_id, entry in store.contact_entries():
            if entry.name:
                for p in entry.identifiers:
                    for pid, q in parties.items():
                        if q.id and q.id == p.id:
                            by_name.setdefault(normalise_name(entry.name), []).append(pid)
        findings = []
        seen: set[tuple[str, str]] = set()
        for lk in lookups:
            e = lk.stored.event
            if lk.when is None:
                continue
            hits: list[tuple[str, list[int]]] = []
            if e.subject_phone and e.subject_phone in by_phone:
                hits.append(("number", by_phone[e.subject_phone]))
            if e.subject_name and normalise_name(e.subject_name) in by_name:
                hits.append(("name", by_name[normalise_name(e.subject_name)]))
            for method, pids in hits:
                key = (
                    method,
                    e.subject_phone if method == "number" else normalise_name(e.subject_name or ""),
                )
                if key in seen:
                    continue
                later = self._later(store, pids, lk.when)
                if later is None:
                    continue
                seen.add(key)
                kind, rid, when, file, sha, locator = later
                lag = lag_text((when - lk.when).total_seconds())
                who = e.subject_name or e.subject_phone_raw or "the person"
                findings.append(
                    Finding(
                        analyser=self.name,
                        rule="audit.looked-up-on-phone",
                        title=f"{who}, looked up, later on the phone",
                        why=(
                            f"{who} was looked up on {e.system} at {local_text(lk.when, case)}; "
                            f"a {kind} with the same {'number' if method == 'number' else 'name'} "
                            f"is on the phone {lag} later ({local_text(when, case)}). Match "
                            f"strength: {STRENGTH[method]} ("
                            + (
                                "the same number"
                                if method == "number"
                                else "the same name only; another person may share it"
                            )
                            + ")."
                        ),
                        weight=0.75 if method == "number" else 0.5,
                        subject=None,
                        data={
                            "lookup": self._view(case, lk, None),
                            "method": method,
                            "strength": STRENGTH[method],
                            "first_after": {
                                "kind": kind,
                                f"{kind}_id": rid,
                                "time_utc": iso_utc(when),
                                "file": file,
                                "sha256": sha,
                                "locator": locator,
                                "lag_seconds": int((when - lk.when).total_seconds()),
                            },
                        },
                        refs=[rid] if kind == "message" else [],
                    )
                )
        return findings

    @staticmethod
    def _later(
        store: Store, pids: list[int], after: dt.datetime
    ) -> tuple[str, int, dt.datetime, str, str, str] | None:
        best = None
        mids = sorted({row[0] for row in store.party_messages(pids)})
        for f in store.facts_by_ids(mids):
            if f.counted and f.timestamp_utc is not None and f.timestamp_utc >= after:
                src = store.provenance_of([f.id])[f.id][1]
                cand = ("message", f.id, f.timestamp_utc, src.file, src.sha256, src.locator)
                if best is None or cand[2] < best[2]:
                    best = cand
                break
        for stored in store.calls_by_ids({cid for cid, _ in store.party_calls(pids)}):
            when = stored.call.timestamp_utc
            if when is not None and when >= after:
                s = stored.call.source
                if best is None or when < best[2]:
                    best = ("call", stored.id, when, s.file, s.sha256, s.locator)
                break
        return best

    def _tasking(self, case: Case, lookups: list[_Lookup]) -> Finding:
        dated = [lk for lk in lookups if lk.when is not None]
        unexplained = [lk for lk in dated if lk.tasking is None]
        share = len(unexplained) / len(dated) if dated else 0.0
        return Finding(
            analyser=self.name,
            rule="audit.tasking",
            title="Lookups with no tasking found in the list supplied",
            why=(
                f"{len(unexplained)} of {plural(len(dated), 'dated lookup')} by the subject officer "
                f"({share:.0%}) have no tasking found in the list supplied that explains them (the "
                f"same person, number or incident reference within {WINDOW_DAYS} days of a "
                "tasking's date). The list may not hold every tasking he was given."
            ),
            weight=0.6,
            data={
                "dated_lookups": len(dated),
                "no_tasking_found": len(unexplained),
                "share": round(share, 4),
                "window_days": WINDOW_DAYS,
                "lookups": [self._view(case, lk, []) for lk in unexplained],
            },
        )
