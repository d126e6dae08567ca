"""The escalation chronology of each case contact: one ordered timeline (docs/FINDINGS.md).

Events, each linked to its source record: the key dates of the case file; the subject officer's
system lookups matching her (read from the audit analyser's findings in the store); the first
message and the first call; each change of channel (the first message or call on a platform not
used with her before); the first picture exchanged; messages the source marks deleted, and gaps
in message ids in her conversations (from the gaps analyser's findings); contact after her case
was closed; and one ``week`` event per local week with contact, counting messages and calls and
the share of her messages at night and outside rostered duty (the duty analyser's labels).

Events are ordered by time; a case-file date (a whole local day) is placed at the start of that
day in the case zone, before anything else on it. The finding ``chronology.timeline`` holds the
events; the report draws it as one page per contact and ``chronology.csv`` lists every event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.audit import DeviceContact, device_contacts
from triage.analysers.contacts import CLOSURE_KEYS
from triage.analysers.parties import local_day_text, plural
from triage.casefile import Case, CaseContact
from triage.model import iso_utc
from triage.roster import OUTSIDE_DUTY
from triage.store import Finding, Store

# Kinds in the order they are placed when two events share a time.
KINDS = (
    "case_date",
    "lookup",
    "week",
    "first_message",
    "first_call",
    "channel_change",
    "first_picture",
    "deleted",
    "gap",
    "after_closure",
)


class ChronologyAnalyser(Analyser):
    name = "chronology"
    version = "1"

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        rows = device_contacts(store, case)
        lookups = {
            f.subject: f.data["lookups"]
            for f in store.findings("audit")
            if f.rule == "audit.contact-lookups"
        }
        gaps = [
            f
            for f in store.findings("gaps")
            if f.rule.startswith("gap.") and f.data.get("contact_key")
        ]
        message_ids = [d.id for r in rows.values() for d in r if d.kind == "message"]
        status = store.labels("duty", "status", message_ids)
        night = store.labels("duty", "night", message_ids)
        mimes = store.attachment_mimes(message_ids)
        deleted = {f.id for f in store.facts_by_ids(message_ids) if f.deleted}
        findings = []
        for n, contact in enumerate(case.contacts):
            events = self._events(
                case,
                n,
                contact,
                rows[contact.key],
                lookups.get(contact.key, []),
                [g for g in gaps if g.data["contact_key"] == contact.key],
                mimes,
                deleted,
                status,
                night,
            )
            if not [e for e in events if e["kind"] != "case_date"]:
                continue
            findings.append(
                Finding(
                    analyser=self.name,
                    rule="chronology.timeline",
                    title=f"Chronology: {contact.name}",
                    why=(
                        f"{len(events)} events with {contact.name} in time order, from the case "
                        "file, the police-system audit trail and the phone, each linked to its "
                        "source record."
                    ),
                    weight=0.4,
                    subject=contact.key,
                    data={"name": contact.name, "events": events},
                    refs=sorted(
                        {e["source"]["message_id"] for e in events if "message_id" in e["source"]}
                    ),
                )
            )
        return findings

    def _events(
        self,
        case: Case,
        index: int,
        contact: CaseContact,
        rows: list[DeviceContact],
        lookups: list[dict[str, Any]],
        gaps: list[Finding],
        mimes: dict[int, list[str]],
        deleted: set[int],
        status: dict[int, Any],
        night: dict[int, Any],
    ) -> list[dict[str, Any]]:
        zone = case.zone
        events: list[dict[str, Any]] = []

        def add(
            when: dt.datetime, kind: str, title: str, source: dict[str, Any], **extra: Any
        ) -> None:
            events.append(
                {
                    "time_utc": iso_utc(when),
                    "local": when.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"),
                    "kind": kind,
                    "title": title,
                    "source": source,
                    **extra,
                }
            )

        for name, day in sorted(contact.dates.items()):
            start = dt.datetime.combine(day, dt.time(0), zone).astimezone(dt.UTC)
            add(
                start,
                "case_date",
                f"{name.replace('_', ' ').capitalize()} (case file)",
                {
                    "kind": "case_file",
                    "file": case.path.name,
                    "sha256": case.sha256,
                    "field": f"contacts[{index}].dates.{name}",
                },
                date=day.isoformat(),
            )
        for lk in lookups:
            if not lk.get("time_utc"):
                continue
            when = dt.datetime.fromisoformat(lk["time_utc"].replace("Z", "+00:00"))
            add(
                when,
                "lookup",
                f"Lookup on {lk['system']} ({lk['action']}), matched by {lk['method']}"
                + (
                    f"; next contact {lk['next_contact']['lag']} later"
                    if lk.get("next_contact")
                    else ""
                ),
                {
                    "kind": "audit",
                    "audit_id": lk["audit_id"],
                    "file": lk["file"],
                    "sha256": lk["sha256"],
                    "locator": lk["locator"],
                },
                outside_duty=lk["outside_duty"],
                after_closure=lk.get("after_closure", False),
            )
        messages = [d for d in rows if d.kind == "message"]
        calls = [d for d in rows if d.kind == "call"]
        if messages:
            add(
                messages[0].when,
                "first_message",
                f"First message ({messages[0].channel})",
                messages[0].ref(),
            )
        if calls:
            add(calls[0].when, "first_call", f"First call ({calls[0].channel})", calls[0].ref())
        channels: list[str] = []
        for d in rows:
            if d.channel not in channels:
                if channels:
                    add(
                        d.when,
                        "channel_change",
                        f"First {d.kind} on {d.channel} (after {', '.join(channels)})",
                        d.ref(),
                    )
                channels.append(d.channel)
        picture = next(
            (d for d in messages if any(m.startswith("image/") for m in mimes.get(d.id, []))), None
        )
        if picture is not None:
            add(
                picture.when,
                "first_picture",
                f"First picture exchanged ({picture.channel})",
                picture.ref(),
            )
        for d in messages:
            if d.id in deleted:
                add(
                    d.when,
                    "deleted",
                    f"Message marked deleted by the source ({d.channel})",
                    d.ref(),
                )
        for g in gaps:
            start = g.data.get("window_start_utc")
            if start:
                add(
                    dt.datetime.fromisoformat(start.replace("Z", "+00:00")),
                    "gap",
                    f"Gap: {g.title} ({g.data.get('strength')})",
                    {
                        "kind": "finding",
                        "finding_id": g.id,
                        "file": g.data.get("file"),
                        "sha256": g.data.get("sha256"),
                        "locator": g.data.get("before_locator"),
                    },
                )
        closure = next((contact.dates[k] for k in CLOSURE_KEYS if k in contact.dates), None)
        if closure is not None:
            after = next((d for d in rows if d.when.astimezone(zone).date() > closure), None)
            if after is not None:
                n_after = sum(1 for d in rows if d.when.astimezone(zone).date() > closure)
                add(
                    after.when,
                    "after_closure",
                    f"First contact after case closure ({after.kind}, {n_after} in all)",
                    after.ref(),
                    count=n_after,
                )
        events.extend(self._weeks(rows, zone, status, night))
        order = {k: n for n, k in enumerate(KINDS)}
        events.sort(key=lambda e: (e["time_utc"], order[e["kind"]], e["title"]))
        for n, e in enumerate(events, 1):
            e["seq"] = n
        return events

    @staticmethod
    def _weeks(
        rows: list[DeviceContact], zone: Any, status: dict[int, Any], night: dict[int, Any]
    ) -> list[dict[str, Any]]:
        weeks: dict[dt.date, dict[str, Any]] = {}
        for d in rows:
            local = d.when.astimezone(zone)
            monday = local.date() - dt.timedelta(days=local.weekday())
            w = weeks.setdefault(monday, {"messages": 0, "calls": 0, "night": 0, "outside_duty": 0})
            if d.kind == "message":
                w["messages"] += 1
                w["night"] += 1 if night.get(d.id) else 0
                w["outside_duty"] += 1 if status.get(d.id) in OUTSIDE_DUTY else 0
            else:
                w["calls"] += 1
        out = []
        for monday, w in sorted(weeks.items()):
            start = dt.datetime.combine(monday, dt.time(0), zone).astimezone(dt.UTC)
            m = w["messages"]
            out.append(
                {
                    "time_utc": iso_utc(start),
                    "local": start.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"),
                    "kind": "week",
                    "title": (
                        f"Week of {local_day_text(monday)}: {plural(m, 'message')}, "
                        f"{plural(w['calls'], 'call')}"
                        + (
                            f"; {w['night'] / m:.0%} of messages at night, {w['outside_duty'] / m:.0%} outside rostered duty"
                            if m
                            else ""
                        )
                    ),
                    "source": {"kind": "summary", "week_start": monday.isoformat()},
                    "messages": m,
                    "calls": w["calls"],
                    "night_share": round(w["night"] / m, 4) if m else None,
                    "outside_duty_share": round(w["outside_duty"] / m, 4) if m else None,
                }
            )
        return out
