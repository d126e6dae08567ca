"""How many messages with each case contact fall inside or outside the owner's rostered duty.

Every message gets the labels ``status`` (one of :data:`triage.roster.STATUSES`) and ``night``
(whether its local time is inside the case's night window; ``null`` when undated). Per case
contact with messages: ``duty.contact-split`` and, when some were exchanged on duty,
``duty.on-duty-contact``. One ``duty.roster`` describes the roster used, or says none was given.

Messages whose direction is ``system`` (or whose kind is ``system``) are labelled but not counted
as "sent or received": they are the app's own notices, not something either person sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.calls import call_ref, calls_by_contact
from triage.analysers.parties import ContactIndex, local_text, night_at, plural
from triage.casefile import Case
from triage.model import iso_utc
from triage.roster import OUTSIDE_DUTY, STATUSES, Roster, RosterError, is_night, load_roster
from triage.store import DutySegment, Finding, MessageFacts, Store, StoredCall

HOUR = dt.timedelta(hours=1)
LABEL_BATCH = 50_000


def counted(s: MessageFacts) -> bool:
    """Whether a message counts as sent or received: not an app notice, not a Status update."""
    return s.counted


class DutyAnalyser(Analyser):
    name = "duty"
    version = "2"

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        zone = case.zone
        contact_labels = store.labels("contacts", "contacts")
        first, last = store.time_span()
        # The roster must cover the calls too, which may start before the first message.
        spans = [t for t in (first, last, *store.call_time_span()) if t is not None]
        if spans:
            first, last = min(spans), max(spans)
        roster: Roster | None = None
        error: str | None = None
        some_day = dt.date(2000, 1, 1)
        try:
            if first is not None and last is not None:
                roster = load_roster(
                    case, first.astimezone(zone).date(), last.astimezone(zone).date()
                )
            else:
                roster = load_roster(case, some_day, some_day)
        except (RosterError, OSError, ValueError) as exc:
            # Reported as a finding rather than ending a run whose sources are already read.
            error = str(exc)

        # Every message's status and night from its times alone: nothing is decoded.
        status_of = _StatusClock(roster)
        # A device with its own roster in the case file is placed against it; every other
        # device against the case roster.
        own_clocks, own_rosters = _device_clocks(case, first, last)
        same_zone = store.zone.key == case.timezone
        night_start, night_end = (f"{t:%H:%M:%S}" for t in case.night)
        wanted = {key for labelled in contact_labels.values() for key in labelled}
        wanted &= {c.key for c in case.contacts}
        mine: dict[str, list[int]] = {c.key: [] for c in case.contacts}
        clocks = [status_of, *own_clocks.values()]
        if (
            same_zone
            and all(c.roster is None or c.by_minute for c in clocks)
            and store.local_times_complete()
        ):
            # Counted in SQL: the rosters as segments of equal status, joined by UTC minute.
            low, high = store.message_minute_span()
            devices = {device: n for n, device in enumerate(own_clocks, start=1)}
            segments = [
                DutySegment(n, start, st)
                for n, clock in enumerate(clocks)
                if clock.roster is not None and low is not None and high is not None
                for start, st in minute_segments(clock.roster, low, high)
            ]
            store.write_duty_labels(self.name, segments, devices, (night_start, night_end))
            overall: Counter[str] = Counter(store.duty_status_counts(self.name, segments, devices))
            placed = store.duty_labels_of(
                self.name, (mid for mid, keys in contact_labels.items() if wanted & set(keys))
            )
            status = {mid: p.status for mid, p in placed.items() if p.counted}
            night = {mid: p.night for mid, p in placed.items() if p.counted}
            for mid in sorted(status):
                for key in contact_labels[mid]:
                    if key in mine:
                        mine[key].append(mid)
        else:
            status, night, overall = self._label_each(
                store, case, status_of, own_clocks, contact_labels, mine
            )
        settings.values.setdefault("duty", {})["roster"] = (
            roster.description if roster is not None else None
        )

        findings = [self._roster_finding(case, roster, overall, error, bool(own_rosters))]
        # Devices whose own roster was read: their records are placed even with no case roster.
        own_labels = {r["device"]: r["label"] for r in own_rosters if r["error"] is None}
        if own_rosters:
            findings[0].data["device_rosters"] = own_rosters
            findings[0].why += "".join(
                f" Records of {r['label']} are placed against its own roster"
                + (f": {r['description']}." if r["description"] else f" ({r['error']}).")
                for r in own_rosters
            )
        calls = calls_by_contact(store, ContactIndex(case), case)
        for contact in case.contacts:
            items = store.facts_by_ids(mine[contact.key])
            if not items and not calls[contact.key]:
                continue
            heatmap = store.local_heatmap(mine[contact.key]) if same_zone else None
            finding = self._split(
                case, contact.key, contact.name, items, status, night, roster, heatmap, own_labels
            )
            if calls[contact.key]:
                part, why = _call_split(
                    case, contact.name, calls[contact.key], status_of, roster, own_clocks
                )
                finding.data["calls"] = part
                finding.why = why if not items else f"{finding.why} {why}"
            findings.append(finding)
            on_duty = [s for s in items if status[s.id] == "on_duty"]
            if on_duty:
                findings.append(self._on_duty(case, contact.key, contact.name, on_duty))
        return findings

    def _label_each(
        self,
        store: Store,
        case: Case,
        status_of: _StatusClock,
        own_clocks: dict[str, _StatusClock],
        contact_labels: dict[int, list[str]],
        mine: dict[str, list[int]],
    ) -> tuple[dict[int, str], dict[int, bool | None], Counter[str]]:
        """Status and night of every message worked out one by one: for a store in another
        zone than the case, or a roster with boundaries inside a minute."""
        zone = case.zone
        device_of = store.message_devices(own_clocks)
        same_zone = store.zone.key == case.timezone
        night_start, night_end = (f"{t:%H:%M:%S}" for t in case.night)
        status: dict[int, str] = {}
        night: dict[int, bool | None] = {}
        overall: Counter[str] = Counter()
        labels: list[tuple[int, str, Any]] = []
        for mid, ts, local, is_counted in store.message_times():
            st = own_clocks.get(device_of.get(mid, ""), status_of)(ts)
            if ts is None:
                nt = None
            elif same_zone and local is not None:
                nt = night_at(local[11:19], night_start, night_end)
            else:
                nt = is_night(dt.datetime.fromisoformat(ts).astimezone(zone), case.night)
            if is_counted:
                overall[st] += 1
                for key in contact_labels.get(mid, ()):
                    if key in mine:
                        mine[key].append(mid)
                        status[mid] = st
                        night[mid] = nt
            labels.append((mid, "status", st))
            labels.append((mid, "night", nt))
            if len(labels) >= LABEL_BATCH:
                store.add_labels(self.name, labels)
                labels = []
        store.add_labels(self.name, labels)
        return status, night, overall

    # -- findings --------------------------------------------------------------------------------
    def _roster_finding(
        self,
        case: Case,
        roster: Roster | None,
        counts: Counter[str],
        error: str | None = None,
        device_rosters: bool = False,
    ) -> Finding:
        data = {
            "roster_given": case.roster is not None,
            "error": error,
            "description": roster.description if roster is not None else None,
            "timezone": case.timezone,
            "night": [case.night[0].strftime("%H:%M"), case.night[1].strftime("%H:%M")],
            "periods": len(roster.periods) if roster is not None else 0,
            "status_counts": {k: counts.get(k, 0) for k in STATUSES},
            "notes": [n.text for n in roster.notes] if roster is not None else [],
        }
        if error is not None:
            why = (
                f"The duty roster in the case file could not be read ({error}), so no message "
                "can be placed inside or outside rostered duty; every message is shown as "
                "'unknown'."
            )
            title = "Duty roster could not be read"
        elif roster is None and device_rosters:
            why = (
                "No case roster was given in the case file: only the records of devices with a "
                "roster of their own are placed inside or outside rostered duty; every other "
                "message is shown as 'unknown'."
            )
            title = "No case roster given"
        elif roster is None:
            why = (
                "No duty roster was given in the case file, so no message can be placed inside "
                "or outside rostered duty; every message is shown as 'unknown'."
            )
            title = "No duty roster given"
        else:
            why = (
                f"Messages were placed against the duty roster ({roster.description}) in "
                f"{case.timezone} local time, clock changes included."
            )
            if counts.get("unknown"):
                why += (
                    f" {plural(counts['unknown'], 'message')} fall outside the dates the roster "
                    "covers (or are undated) and are shown as 'unknown'."
                )
            if roster.notes:
                why += (
                    f" The roster was read with {plural(len(roster.notes), 'doubt')}: "
                    + "; ".join(n.text for n in roster.notes[:5])
                    + (f"; and {len(roster.notes) - 5} more" if len(roster.notes) > 5 else "")
                    + "."
                )
            title = "Duty roster used"
        return Finding(
            analyser=self.name,
            rule="duty.roster",
            title=title,
            why=why,
            weight=0.1,
            subject=None,
            data=data,
        )

    def _split(
        self,
        case: Case,
        key: str,
        name: str,
        mine: list[MessageFacts],
        status: dict[int, str],
        night: dict[int, bool | None],
        roster: Roster | None,
        heatmap: list[list[int]] | None,
        own_labels: dict[str, str] | None = None,
    ) -> Finding:
        def tally(items: list[MessageFacts]) -> dict[str, int]:
            c = Counter(status[s.id] for s in items)
            return {k: c.get(k, 0) for k in STATUSES}

        total = len(mine)
        counts = tally(mine)
        outside = sum(counts[k] for k in OUTSIDE_DUTY)
        outgoing = [s for s in mine if s.direction == "outgoing"]
        incoming = [s for s in mine if s.direction == "incoming"]
        out_counts = tally(outgoing)
        out_outside = sum(out_counts[k] for k in OUTSIDE_DUTY)
        nights = [s for s in mine if night[s.id]]
        night_counts = tally(nights)
        zone = case.zone
        if heatmap is None:
            heatmap = [[0] * 24 for _ in range(7)]
            for s in mine:
                if s.timestamp_utc is not None:
                    local = s.timestamp_utc.astimezone(zone)
                    heatmap[local.weekday()][local.hour] += 1
        dated = [s for s in mine if s.timestamp_utc is not None]
        period = None
        duty_heatmap = None
        duty_covered = None
        if dated:
            first_day = dated[0].timestamp_utc.astimezone(zone).date()  # type: ignore[union-attr]
            last_day = dated[-1].timestamp_utc.astimezone(zone).date()  # type: ignore[union-attr]
            period = {"first_date": first_day.isoformat(), "last_date": last_day.isoformat()}
            if roster is not None:
                duty_heatmap, duty_covered = duty_share(roster, first_day, last_day)

        # With no case roster, a device's own roster still places the messages it holds.
        own_labels = own_labels or {}
        placed = [s for s in mine if roster is not None or (s.device or "") in own_labels]
        if roster is None and placed:
            held = [own_labels[k] for k in dict.fromkeys(s.device or "" for s in placed)]
            why = (
                f"No case roster was given. {len(placed)} of the {plural(total, 'message')} with"
                f" {name} {'is' if len(placed) == 1 else 'are'} on {' and '.join(held)}, placed"
                f" against {'its' if len(held) == 1 else 'their'} own roster: {outside} of them"
                " sent or received outside rostered duty."
            )
            if len(placed) < total:
                why += f" The other {total - len(placed)} cannot be placed (no roster)."
            placed_ids = {s.id for s in placed}
            placed_out = [s for s in outgoing if s.id in placed_ids]
            if placed_out:
                why += (
                    f" {out_outside} of {plural(len(placed_out), 'message')} he sent to {name}"
                    f" there {'was' if len(placed_out) == 1 else 'were'} sent outside rostered"
                    " duty."
                )
        elif roster is None:
            why = (
                f"No roster was given, so none of the {plural(total, 'message')} with {name} can "
                "be placed inside or outside rostered duty."
            )
        else:
            why = (
                f"{outside} of {total} messages with {name} were sent or received outside "
                f"rostered duty"
            )
            if counts["unknown"]:
                why += (
                    f" ({counts['unknown']} could not be placed: the roster does not cover their "
                    "time)"
                )
            why += "."
            if outgoing:
                why += (
                    f" {out_outside} of {len(outgoing)} messages he sent to {name} were sent "
                    "outside rostered duty."
                )
            parts = [
                f"{counts[k]} {label}"
                for k, label in (
                    ("off_duty", "on a working day outside his shift"),
                    ("rest_day", "on rest days"),
                    ("leave", "on leave"),
                    ("sick", "on sick leave"),
                    ("training", "during training"),
                )
                if counts[k]
            ]
            if parts:
                why += " Of all the messages: " + ", ".join(parts) + "."
        if nights:
            why += (
                f" {plural(len(nights), 'message')} fell in the night window "
                f"({case.night[0]:%H:%M}-{case.night[1]:%H:%M})."
            )
        zone_assumed = sum(1 for s in mine if s.zone_assumed)
        if zone_assumed:
            why += (
                f" The times of {plural(zone_assumed, 'message')} were stored without a zone and "
                f"read as {case.timezone} time."
            )
        return Finding(
            analyser=self.name,
            rule="duty.contact-split",
            title=f"Messages with {name} against the duty roster",
            why=why,
            weight=0.85 if placed else 0.3,
            subject=key,
            data={
                "name": name,
                "total": total,
                "outside_duty": outside if placed else None,
                "outgoing_total": len(outgoing),
                "outgoing_outside_duty": out_outside if placed else None,
                "status_counts": counts,
                "by_direction": {"outgoing": out_counts, "incoming": tally(incoming)},
                "night": {
                    "count": len(nights),
                    "outside_duty": sum(night_counts[k] for k in OUTSIDE_DUTY),
                    "status_counts": night_counts,
                    "window": [f"{case.night[0]:%H:%M}", f"{case.night[1]:%H:%M}"],
                },
                "zone_assumed": zone_assumed,
                # The messages behind each count, so a report can list exactly those.
                "outside_duty_ids": [s.id for s in mine if status[s.id] in OUTSIDE_DUTY]
                if placed
                else None,
                "outgoing_outside_duty_ids": [
                    s.id for s in outgoing if status[s.id] in OUTSIDE_DUTY
                ]
                if placed
                else None,
                "night_ids": [s.id for s in nights],
                "timezone": case.timezone,
                "period": period,
                "heatmap": heatmap,
                "duty_heatmap": duty_heatmap,
                "duty_heatmap_hours": duty_covered,
            },
            refs=[s.id for s in mine],
        )

    def _on_duty(self, case: Case, key: str, name: str, items: list[MessageFacts]) -> Finding:
        out = sum(1 for s in items if s.direction == "outgoing")
        first = items[0].timestamp_utc
        last = items[-1].timestamp_utc
        return Finding(
            analyser=self.name,
            rule="duty.on-duty-contact",
            title=f"Messages with {name} sent during rostered duty",
            why=(
                f"{plural(len(items), 'message')} with {name} were sent during rostered duty "
                f"({out} sent by the device owner, {len(items) - out} received), between "
                f"{local_text(first, case)} and {local_text(last, case)}. The tool cannot know "
                "whether there was a policing reason for any of them."
            ),
            weight=0.5,
            subject=key,
            data={
                "count": len(items),
                "message_ids": [s.id for s in items],
                "outgoing": out,
                "incoming": sum(1 for s in items if s.direction == "incoming"),
                "messages": [
                    {
                        "message_id": s.id,
                        "timestamp_utc": iso_utc(s.timestamp_utc),
                        "direction": s.direction,
                        "platform": s.platform,
                    }
                    for s in items
                ],
            },
            refs=[s.id for s in items],
        )


def duty_share(
    roster: Roster, first: dt.date, last: dt.date
) -> tuple[list[list[float]], list[list[int]]]:
    """7x24 (Monday first, local hours) over the local dates ``first`` .. ``last``: the share of
    each hour-of-week cell that was rostered duty, and how many hours of that cell the roster
    covers (a share of 0.0 with 0 covered hours means "no roster", not "no duty"). Walking real
    (UTC) hours keeps the 23- and 25-hour days of clock changes right."""
    zone = roster.zone
    start = dt.datetime.combine(first, dt.time(0)).replace(tzinfo=zone).astimezone(dt.UTC)
    end = (
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0))
        .replace(tzinfo=zone)
        .astimezone(dt.UTC)
    )
    duty = [[0.0] * 24 for _ in range(7)]
    known = [[0] * 24 for _ in range(7)]
    t = start
    while t < end:
        local = t.astimezone(zone)
        if roster.status(t + HOUR / 2) != "unknown":
            known[local.weekday()][local.hour] += 1
            duty[local.weekday()][local.hour] += roster.duty_seconds(t, t + HOUR)
        t += HOUR
    share = [
        [round(duty[d][h] / (known[d][h] * 3600), 3) if known[d][h] else 0.0 for h in range(24)]
        for d in range(7)
    ]
    return share, known


def minute_segments(roster: Roster, low: str, high: str) -> list[tuple[str, str]]:
    """The status of every UTC minute from ``low`` to ``high`` ("YYYY-MM-DDTHH:MM") as
    segments: (first minute, status), each lasting until the next, equal neighbours merged.

    ``Roster.status`` can change only where a period starts or ends and where the local date
    changes (local midnight: a date that is or is not covered, a working or rest day). A
    minute has the status of its first instant (as :class:`_StatusClock` reads it), so every
    such instant is rounded up to the next whole minute; both readings of a midnight repeated
    or skipped by a clock change are taken (a spare boundary only splits a segment)."""
    zone = roster.zone
    start = dt.datetime.fromisoformat(low + ":00+00:00")
    end = dt.datetime.fromisoformat(high + ":00+00:00")
    changes = set(roster.boundaries())
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = end.astimezone(zone).date() + dt.timedelta(days=1)
    while day <= last_day:
        midnight = dt.datetime.combine(day, dt.time(0))
        changes.update(midnight.replace(tzinfo=zone, fold=f).astimezone(dt.UTC) for f in (0, 1))
        day += dt.timedelta(days=1)
    minutes = {start}
    for t in changes:
        whole = t.replace(second=0, microsecond=0)
        if whole != t:
            whole += dt.timedelta(minutes=1)
        if start < whole <= end:
            minutes.add(whole)
    out: list[tuple[str, str]] = []
    for t in sorted(minutes):
        status = roster.status(t)
        if not out or out[-1][1] != status:
            out.append((t.isoformat()[:16], status))
    return out


def _device_clocks(
    case: Case, first: dt.datetime | None, last: dt.datetime | None
) -> tuple[dict[str, _StatusClock], list[dict[str, Any]]]:
    """The status clock of each device with its own roster (case file ``devices[i].roster``),
    and what ``duty.roster`` says of each: label, description or the error reading it."""
    clocks: dict[str, _StatusClock] = {}
    described: list[dict[str, Any]] = []
    zone = case.zone
    some_day = dt.date(2000, 1, 1)
    for device in case.devices:
        if device.roster is None:
            continue
        entry: dict[str, Any] = {
            "device": device.key,
            "label": device.label,
            "description": None,
            "error": None,
        }
        try:
            own = load_roster(
                dataclasses.replace(case, roster=device.roster),
                first.astimezone(zone).date() if first else some_day,
                last.astimezone(zone).date() if last else some_day,
            )
        except (RosterError, OSError, ValueError) as exc:
            entry["error"] = str(exc)
            own = None
        if own is not None:
            entry["description"] = own.description
        clocks[device.key] = _StatusClock(own)
        described.append(entry)
    return clocks, described


class _StatusClock:
    """``Roster.status`` for UTC time text, remembered per minute when every roster boundary
    falls on a whole minute (rosters are written in minutes, so a minute has one status)."""

    def __init__(self, roster: Roster | None) -> None:
        self.roster = roster
        self.by_minute = roster is not None and all(
            b.second == 0 and b.microsecond == 0 for b in roster.boundaries()
        )
        self.cache: dict[str, str] = {}

    def __call__(self, ts: str | None) -> str:
        if self.roster is None or ts is None:
            return "unknown"
        if not self.by_minute:
            return self.roster.status(dt.datetime.fromisoformat(ts))
        minute = ts[:16]
        found = self.cache.get(minute)
        if found is None:
            if len(self.cache) > 500_000:
                self.cache.clear()
            found = self.cache[minute] = self.roster.status(
                dt.datetime.fromisoformat(minute + ":00+00:00")
            )
        return found


def _call_split(
    case: Case,
    name: str,
    calls: list[StoredCall],
    status_of: _StatusClock,
    roster: Roster | None,
    own_clocks: dict[str, _StatusClock] | None = None,
) -> tuple[dict[str, Any], str]:
    """The ``calls`` object of ``duty.contact-split`` and its sentence: each call placed by its
    start time against the roster and the night window, as messages are."""
    clocks = own_clocks or {}
    statuses = {
        s.id: clocks.get(s.call.device or "", status_of)(iso_utc(s.call.timestamp_utc))
        for s in calls
    }
    nights = {
        s.id: s.call.timestamp_utc is not None
        and is_night(s.call.timestamp_utc.astimezone(case.zone), case.night)
        for s in calls
    }

    def tally(items: list[StoredCall]) -> dict[str, int]:
        c = Counter(statuses[s.id] for s in items)
        return {k: c.get(k, 0) for k in STATUSES}

    counts = tally(calls)
    outside = sum(counts[k] for k in OUTSIDE_DUTY)
    outgoing = [s for s in calls if s.call.direction == "outgoing"]
    out_outside = sum(tally(outgoing)[k] for k in OUTSIDE_DUTY)
    at_night = [s for s in calls if nights[s.id]]
    night_outside = sum(tally(at_night)[k] for k in OUTSIDE_DUTY)
    # With no case roster, a device's own roster still places the calls it holds.
    placed = [
        s
        for s in calls
        if roster is not None or getattr(clocks.get(s.call.device or ""), "roster", None)
    ]
    part = {
        "total": len(calls),
        "outside_duty": outside if placed else None,
        "outgoing_total": len(outgoing),
        "outgoing_outside_duty": out_outside if placed else None,
        "status_counts": counts,
        "night": {"count": len(at_night), "outside_duty": night_outside},
        "refs": [{**call_ref(s), "status": statuses[s.id], "night": nights[s.id]} for s in calls],
    }
    if roster is None and placed:
        why = (
            f"{outside} of the {plural(len(placed), 'call')} with {name} on devices with their own"
            " roster were outside rostered duty"
        )
        if len(placed) < len(calls):
            why += f"; the other {len(calls) - len(placed)} cannot be placed (no roster)"
        why += "."
    elif roster is None:
        why = f"{plural(len(calls), 'call')} with {name} cannot be placed against a roster."
    else:
        why = f"{outside} of {plural(len(calls), 'call')} with {name} were outside rostered duty"
        if outgoing:
            why += f" ({out_outside} of the {len(outgoing)} he placed)"
        why += "."
    if at_night:
        why += f" {plural(len(at_night), 'call')} fell in the night window."
    return part, why
