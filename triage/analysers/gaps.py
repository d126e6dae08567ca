"""Where messages may be missing: id gaps, per-chat order gaps, deletion traces, explicit markers.

Strength follows what the numbering can prove:

* ``certain``: a hole in an AUTOINCREMENT id (SQLite never reuses those ids, so every missing id
  was once a row), including ids before the first surviving row and, from the high-water mark
  (``sqlite_sequence`` / ``Z_MAX``), after the last;
* ``probable``: a hole in a per-chat order key (WhatsApp ``sort_id``, iOS ``ZSORT``);
* ``possible``: a hole in a plain ``INTEGER PRIMARY KEY`` (AOSP ``sms._id``): SQLite gives a new row
  the largest id + 1, so interior holes usually mean removed rows, but nothing rules out a row
  written with an explicit id, and trailing removals leave no trace at all.

A gap is a count of missing *ids*, never of deleted messages: other rows (system rows, tapbacks,
Status updates) share the numbering. Known innocent causes lower the strength and are named in
``discounted``: WhatsApp removes Status updates (``status@broadcast``) itself after 24 hours, and
apps create and remove their own system rows in the same id space.

Text exports have no row ids; in them only explicit deleted/unsent markers count (``gap.marker``).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from triage.analysers import Analyser, Settings
from triage.analysers.parties import ContactIndex, local_text, plural
from triage.casefile import Case
from triage.identity import party
from triage.model import DeletionTrace, IdSpace, iso_utc
from triage.store import Finding, GapRow, Store, StoredMessage

_WEAKER = {"certain": "probable", "probable": "possible", "possible": "possible"}
STATUS_REASON = (
    "a neighbouring row is a WhatsApp Status update; WhatsApp removes Status updates itself "
    "after 24 hours"
)
SYSTEM_REASON = (
    "a neighbouring row is a system row; apps create and remove their own system rows in the "
    "same id space"
)
UNATTRIBUTED = "unattributed"
NEIGHBOURS = "both neighbours"
BASIS_WHY = {
    "recovered records": "records recovered from deleted database content",
    "deletion traces": "deletion traces the database keeps",
}
PLAIN_ID_REASON = (
    "{table}.{column} is not AUTOINCREMENT, so ids can be reused and a hole is only a possible "
    "sign of removed rows"
)


@dataclass(slots=True)
class _Row:
    """What gap analysis needs of one message (kept small: a phone can hold millions)."""

    id: int
    conversation: str
    ts: dt.datetime | None
    record_id: int | None
    order_key: int | None
    file: str
    id_space: str | None
    locator: str
    status_broadcast: bool
    system: bool
    deleted: bool
    direction: str
    platform: str

    @classmethod
    def of(cls, f: GapRow) -> _Row:
        return cls(
            f.id,
            f.conversation,
            f.timestamp_utc,
            f.record_id,
            f.order_key,
            f.file,
            f.id_space,
            f.locator,
            f.status_update,
            f.direction == "system" or f.kind == "system",
            f.deleted,
            f.direction,
            f.platform,
        )


@dataclass
class _Space:
    space: IdSpace
    n: int  # its number in the store's gap placement (``Store.place_gap_rows``)

    @property
    def prefix(self) -> str:
        return f"{self.space.table}.{self.space.id_column}="


@dataclass
class _Gap:
    rule: str
    space: IdSpace
    column: str
    missing_from: int
    missing_to: int
    position: str
    strength: str
    before: _Row | None
    after: _Row | None
    conversation: str
    reasons: list[str] = field(default_factory=list)
    discounted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recovered: list[dict] = field(default_factory=list)
    attributed_by: list[str] = field(default_factory=list)
    traces: list[DeletionTrace] = field(default_factory=list)

    @property
    def missing_min(self) -> int:
        return self.missing_to - self.missing_from + 1

    @property
    def key(self) -> str:
        """Names the gap in other findings (a deletion trace names the gap its ids fall in)."""
        return (
            f"{self.space.file}#{self.space.table}.{self.column}:"
            f"{self.missing_from}-{self.missing_to}"
        )


class GapsAnalyser(Analyser):
    name = "gaps"
    version = "3"
    beside = True
    reads = (("contacts", "labels"),)

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        contact_of_message: dict[int, list[str]] = store.labels("contacts", "contacts")
        traces = store.deletion_traces()
        names = {c.key: c.name for c in case.contacts}
        spaces = [_Space(sp, n) for n, sp in enumerate(store.id_spaces())]
        placed = Placed(store, spaces)
        conv_contacts, markers, totals = _scan(store, placed, contact_of_message, case)

        gaps: list[_Gap] = []
        for sp in spaces:
            gaps.extend(_id_gaps(sp, placed))
            if sp.space.order_key:
                gaps.extend(_order_gaps(sp, placed))

        _fill(store.recovered_messages(), spaces, gaps, placed)
        _attribute(gaps, traces)

        findings: list[Finding] = []
        for sp in spaces:
            findings.append(
                self._space_finding(sp, placed, [g for g in gaps if g.space is sp.space])
            )
        for g in gaps:
            findings.append(self._gap_finding(g, case, conv_contacts, names))
        for conv, items in sorted(markers.items()):
            findings.append(self._marker_finding(conv, items, conv_contacts, names))
        # Traces may name chats with no surviving message (a cleared chat): their key still
        # names the other party (``whatsapp:<jid>``), so the contact can be found from it.
        index = ContactIndex(case)
        for conv in {t.conversation_id for t in traces if t.conversation_id} - set(conv_contacts):
            ident = party(conv.split(":", 1)[-1], case.region)
            keys = [c.key for c in index.contacts_for(ident)]
            if keys:
                conv_contacts[conv] = keys
        gaps_of_trace: dict[int, list[str]] = {}
        for g in gaps:
            for t in g.traces:
                gaps_of_trace.setdefault(id(t), []).append(g.key)
        for trace in traces:
            findings.append(
                self._trace_finding(trace, conv_contacts, names, gaps_of_trace.get(id(trace), []))
            )
        placed_in = Counter(store.gap_conversation_counts(conv_contacts))
        findings.extend(
            self._rates(
                case, placed_in, placed.total(), gaps, markers, totals, conv_contacts, traces
            )
        )
        return findings

    # -- findings --------------------------------------------------------------------------------
    def _space_finding(self, sp: _Space, placed: Placed, gaps: list[_Gap]) -> Finding:
        space = sp.space
        id_gaps = [g for g in gaps if g.rule == "gap.id"]
        order_gaps = [g for g in gaps if g.rule == "gap.order"]
        ids = space.ids
        why = (
            f"{space.table}.{space.id_column} in {space.file}: {plural(len(ids), 'row')} present"
            + (f" (ids {min(ids)} to {max(ids)})" if ids else "")
            + (
                f", high-water mark {space.high_water}"
                if space.high_water is not None
                else ", no high-water mark"
            )
            + (
                "; AUTOINCREMENT, so missing ids are certain to have been used."
                if space.autoincrement
                else "; not AUTOINCREMENT, so holes are possible signs of removed rows at most."
            )
            + f" {plural(len(id_gaps), 'id gap')}"
            + (f", {plural(len(order_gaps), 'order-key gap')}" if space.order_key else "")
            + "."
        )
        return Finding(
            analyser=self.name,
            rule="gap.id-space",
            title=f"Row numbering of {space.table}",
            why=why,
            weight=0.1,
            subject=None,
            data={
                "file": space.file,
                "sha256": space.sha256,
                "format": space.format,
                "table": space.table,
                "id_column": space.id_column,
                "autoincrement": space.autoincrement,
                "high_water": space.high_water,
                "rows": len(ids),
                "min_id": min(ids) if ids else None,
                "max_id": max(ids) if ids else None,
                "messages": placed.count(sp.n),
                "order_key": space.order_key,
                "order_mode": placed.order_mode(sp.n) if space.order_key else None,
                "id_gaps": len(id_gaps),
                "order_gaps": len(order_gaps),
                "missing_min": sum(g.missing_min for g in id_gaps),
                "discounted": sum(1 for g in gaps if g.discounted),
                "note": space.note,
            },
        )

    def _gap_finding(
        self,
        g: _Gap,
        case: Case,
        conv_contacts: dict[str, list[str]],
        names: dict[str, str],
    ) -> Finding:
        contacts = conv_contacts.get(g.conversation, []) if g.conversation != UNATTRIBUTED else []
        contact_key = contacts[0] if contacts else None
        # The case contacts whose conversations the surviving neighbours belong to, even when the
        # two neighbours are in different conversations (then the gap is unattributed).
        adjacent = sorted(
            {
                key
                for n in (g.before, g.after)
                if n is not None
                for key in conv_contacts.get(n.conversation, [])
            }
        )
        start = g.before.ts if g.before else None
        end = g.after.ts if g.after else None
        where = (
            f"the conversation with {names[contact_key]}"
            if contact_key
            else (
                f"conversation {g.conversation}"
                if g.conversation != UNATTRIBUTED
                else "no single conversation (the surviving neighbours are in different "
                "conversations, or there is only one)"
            )
        )
        ids = (
            f"{g.missing_from}"
            if g.missing_from == g.missing_to
            else f"{g.missing_from} to {g.missing_to}"
        )
        what = "ids" if g.rule == "gap.id" else "order-key values"
        why = (
            f"At least {g.missing_min} {what[:-1] if g.missing_min == 1 else what} missing from "
            f"{g.space.table}.{g.column} ({ids}; {g.position}) in {g.space.file}, in {where}; "
            f"time window {local_text(start, case) if start else 'before the first record'} to "
            f"{local_text(end, case) if end else 'after the last record'}. Strength: {g.strength}."
            " This counts missing numbers, not deleted messages."
        )
        if g.attributed_by and g.attributed_by != [NEIGHBOURS]:
            why += (
                " It is placed in that conversation because "
                + " and ".join(BASIS_WHY[b] for b in g.attributed_by)
                + " name it for every missing id."
            )
        if adjacent and not contact_key:
            why += (
                " The surviving neighbours are messages with "
                + " and ".join(names[k] for k in adjacent)
                + "."
            )
        if g.reasons:
            why += " Why: " + "; ".join(g.reasons) + "."
        if g.discounted:
            why += " Discounted: " + "; ".join(g.discounted) + "."
        if g.traces:
            why += (
                " Deletion traces name these ids: "
                + "; ".join(f"{t.kind} ({t.source.locator})" for t in g.traces)
                + "."
            )
        if g.recovered:
            why += (
                f" {plural(len(g.recovered), 'record')} recovered from deleted database content "
                "fill this gap: "
                + "; ".join(
                    f"{what[:-1]} {r['key']} ({r['status']}, {r['confidence']} confidence, "
                    f"{r['source']})"
                    for r in g.recovered
                )
                + "."
            )
        refs = [s.id for s in (g.before, g.after) if s is not None]
        weight = {"certain": 0.7, "probable": 0.5, "possible": 0.3}[g.strength]
        return Finding(
            analyser=self.name,
            rule=g.rule,
            title=f"Missing {what} in {g.space.table}",
            why=why,
            weight=weight * (0.5 if g.discounted else 1.0),
            subject=g.conversation,
            data={
                "key": g.key,
                "file": g.space.file,
                "sha256": g.space.sha256,
                "format": g.space.format,
                "table": g.space.table,
                "id_column": g.column,
                "missing_from": g.missing_from,
                "missing_to": g.missing_to,
                "missing_min": g.missing_min,
                "window_start_utc": iso_utc(start),
                "window_end_utc": iso_utc(end),
                "before_message_id": g.before.id if g.before else None,
                "after_message_id": g.after.id if g.after else None,
                "before_locator": g.before.locator if g.before else None,
                "after_locator": g.after.locator if g.after else None,
                "strength": g.strength,
                "position": g.position,
                "conversation": g.conversation,
                "contact_key": contact_key,
                "adjacent_contacts": adjacent,
                "attributed_by": g.attributed_by,
                "between": sorted({n.conversation for n in (g.before, g.after) if n is not None})
                if g.conversation == UNATTRIBUTED
                else [],
                "traces": [
                    {"kind": t.kind, "locator": t.source.locator, "detail": t.detail}
                    for t in g.traces
                ],
                "reasons": g.reasons,
                "discounted": g.discounted,
                "notes": g.notes,
                "recovered": g.recovered,
            },
            refs=refs,
        )

    def _trace_finding(
        self,
        t: DeletionTrace,
        conv_contacts: dict[str, list[str]],
        names: dict[str, str],
        gap_keys: list[str],
    ) -> Finding:
        conv = t.conversation_id or UNATTRIBUTED
        contacts = conv_contacts.get(conv, [])
        contact_key = contacts[0] if contacts else None
        where = f" (conversation with {names[contact_key]})" if contact_key else ""
        count = f" count {t.count};" if t.count is not None else ""
        return Finding(
            analyser=self.name,
            rule="gap.trace",
            title=f"Deletion trace: {t.kind}",
            why=(
                f"{t.source.file} {t.source.locator}{where}: {t.detail} ({t.kind};{count} "
                f"strength: {t.strength}). Shown as the parser recorded it; it is a trace of "
                "removed data, not a count of deleted messages."
                + (
                    f" Its ids fall in {plural(len(gap_keys), 'gap')} in the record numbers."
                    if gap_keys
                    else ""
                )
            ),
            weight={"certain": 0.6, "probable": 0.45, "possible": 0.25}.get(t.strength, 0.3),
            subject=conv,
            data={
                "kind": t.kind,
                "detail": t.detail,
                "strength": t.strength,
                "conversation": conv,
                "missing_ids": t.missing_ids,
                "count": t.count,
                "file": t.source.file,
                "sha256": t.source.sha256,
                "format": t.source.format,
                "locator": t.source.locator,
                "contact_key": contact_key,
                "gaps": gap_keys,
            },
        )

    def _marker_finding(
        self,
        conv: str,
        items: list[_Row],
        conv_contacts: dict[str, list[str]],
        names: dict[str, str],
    ) -> Finding:
        contacts = conv_contacts.get(conv, [])
        contact_key = contacts[0] if contacts else None
        where = f"the conversation with {names[contact_key]}" if contact_key else conv
        directions = Counter(s.direction for s in items)
        return Finding(
            analyser=self.name,
            rule="gap.marker",
            title="Messages shown as deleted or unsent",
            why=(
                f"{plural(len(items), 'message')} in {where} "
                f"{'is' if len(items) == 1 else 'are'} marked by the source itself as deleted, "
                f"unsent or revoked ({directions.get('outgoing', 0)} sent by the device owner, "
                f"{directions.get('incoming', 0)} received)."
            ),
            weight=0.6,
            subject=conv,
            data={
                "count": len(items),
                "contact_key": contact_key,
                "outgoing": directions.get("outgoing", 0),
                "incoming": directions.get("incoming", 0),
                "platform": items[0].platform,
                "message_ids": [s.id for s in items],
            },
            refs=[s.id for s in items],
        )

    def _rates(
        self,
        case: Case,
        placed_in: Counter[str],
        all_placed: int,
        gaps: list[_Gap],
        markers: dict[str, list[_Row]],
        totals: dict[str, list[int]],
        conv_contacts: dict[str, list[str]],
        traces: list[DeletionTrace],
    ) -> list[Finding]:
        """Per contact: id gaps placed in her conversations per 100 messages with row ids there,
        against the same for every other conversation. A gap counts once, for the conversation
        it is placed in (docs/FINDINGS.md); a gap placed in no single conversation is in neither
        rate and is counted apart. ``placed_in``: how many messages are placed in each of the
        conversations in ``conv_contacts``; ``all_placed``: in all."""
        counted = [g for g in gaps if g.rule == "gap.id" and not g.discounted]
        out: list[Finding] = []
        for contact in case.contacts:
            convs = {c for c, keys in conv_contacts.items() if contact.key in keys}
            total = totals[contact.key][0]
            if not total:
                continue
            mine = [g for g in counted if g.conversation in convs]
            elsewhere = [
                g for g in counted if g.conversation != UNATTRIBUTED and g.conversation not in convs
            ]
            unplaced = [
                g
                for g in counted
                if g.conversation == UNATTRIBUTED
                and any(n is not None and n.conversation in convs for n in (g.before, g.after))
            ]
            messages = sum(placed_in[c] for c in convs)
            other_messages = all_placed - messages
            per_100 = _per_100(len(mine), messages)
            elsewhere_per_100 = _per_100(len(elsewhere), other_messages)
            order_adjacent = [g for g in gaps if g.rule == "gap.order" and g.conversation in convs]
            marker_count = sum(len(markers.get(c, [])) for c in convs)
            trace_count = sum(1 for t in traces if t.conversation_id in convs)
            by_strength = Counter(g.strength for g in mine)
            why = (
                f"{plural(len(mine), 'id gap')} in conversations with {contact.name} "
                f"({plural(messages, 'message')} with row ids"
                + (f": {per_100:.1f} per 100 messages" if per_100 is not None else "")
                + f"); elsewhere on the phone, {plural(len(elsewhere), 'id gap')} in "
                f"{plural(other_messages, 'message')} with row ids"
                + (
                    f" ({elsewhere_per_100:.1f} per 100 messages)"
                    if elsewhere_per_100 is not None
                    else ""
                )
                + "."
            )
            if unplaced:
                why += (
                    f" {plural(len(unplaced), 'more id gap')} next to her messages "
                    f"{'lies' if len(unplaced) == 1 else 'lie'} between conversations or at the "
                    "ends of the numbering and is counted in neither."
                )
            if marker_count:
                why += (
                    f" {plural(marker_count, 'message')} in those conversations "
                    f"{'is' if marker_count == 1 else 'are'} marked deleted or unsent."
                )
            if trace_count:
                why += f" The database records {plural(trace_count, 'deletion trace')} for them."
            if not messages:
                why += (
                    " No rate: none of the messages with this contact comes from a source with "
                    "row ids."
                )
            out.append(
                Finding(
                    analyser=self.name,
                    rule="gap.contact-rate",
                    title=f"Gaps in {contact.name}'s conversations compared with the phone",
                    why=why,
                    weight=0.4,
                    subject=contact.key,
                    data={
                        "gaps": len(mine),
                        "messages": messages,
                        "per_100": per_100,
                        "elsewhere_gaps": len(elsewhere),
                        "elsewhere_messages": other_messages,
                        "elsewhere_per_100": elsewhere_per_100,
                        "unplaced_gaps": len(unplaced),
                        "by_strength": {k: by_strength.get(k, 0) for k in _WEAKER},
                        "order_gaps": len(order_adjacent),
                        "markers": marker_count,
                        "traces": trace_count,
                        "messages_total": total,
                    },
                    refs=sorted({n.id for g in mine for n in (g.before, g.after) if n is not None}),
                )
            )
        return out


_Scan = tuple[dict[str, list[str]], dict[str, list[_Row]], dict[str, list[int]]]


class Placed:
    """The live messages placed in each id space (by ``Store.place_gap_rows``: in SQL, the
    first in time where a record id is met twice), asked of the store as the gaps need them;
    the rows around gaps are read once each."""

    def __init__(self, store: Store, spaces: list[_Space]) -> None:
        self._store = store
        store.place_gap_rows([(sp.space.file, sp.space.table) for sp in spaces])
        self._counts = store.gap_space_counts()
        self._rows: dict[int, _Row] = {}
        self._modes: dict[int, str | None] = {}

    def count(self, space: int) -> int:
        return self._counts.get(space, 0)

    def total(self) -> int:
        """How many messages are placed, in every space (each is in a conversation)."""
        return sum(self._counts.values())

    def row(self, message_id: int | None) -> _Row | None:
        if message_id is None:
            return None
        found = self._rows.get(message_id)
        if found is None:
            facts = self._store.gap_rows_of([message_id])[message_id]
            found = self._rows[message_id] = _Row.of(facts)
        return found

    def at(self, space: int, record_id: int) -> _Row | None:
        """The message placed at ``record_id``."""
        return self.row(self._store.gap_message_at(space, record_id))

    def neighbours(self, space: int, below: int, above: int) -> tuple[_Row | None, _Row | None]:
        """The nearest placed messages with record ids up to ``below`` and from ``above``."""
        before, after = self._store.gap_neighbours(space, below, above)
        return self.row(before), self.row(after)

    def order_mode(self, space: int) -> str | None:
        """See :func:`order_mode`."""
        if space not in self._modes:
            self._modes[space] = self._store.gap_order_mode(space)
        return self._modes[space]

    def order_steps(self, space: int) -> list[tuple[str, int, int, int, int]]:
        return self._store.gap_order_steps(space)

    def unused_order_keys(self, space: int) -> list[tuple[int, int]]:
        return self._store.gap_unused_order_keys(space)


def _scan(
    store: Store, placed: Placed, contact_of_message: dict[int, list[str]], case: Case
) -> _Scan:
    """Per conversation the case contacts it is with (in the order their messages come in
    time) and its live messages marked deleted (in time order); per contact, its live
    messages and those placed (the rate's denominators)."""
    labelled: list[tuple[tuple, str, list[str]]] = []
    # Per contact: [messages, messages with row ids] (the rate's denominators).
    totals: dict[str, list[int]] = {c.key: [0, 0] for c in case.contacts}
    for mid, (conversation, utc_text, is_placed) in store.gap_placed_of(contact_of_message).items():
        keys = contact_of_message[mid]
        if keys:
            labelled.append(((utc_text is None, utc_text or "", mid), conversation, keys))
        for key in keys:
            if key in totals:
                totals[key][0] += 1
                totals[key][1] += is_placed
    conv_contacts: dict[str, list[str]] = {}
    labelled.sort(key=lambda item: item[0])
    for _, conversation, keys in labelled:
        for key in keys:
            known = conv_contacts.setdefault(conversation, [])
            if key not in known:
                known.append(key)
    markers: dict[str, list[_Row]] = {}
    for facts in store.deleted_gap_rows():
        markers.setdefault(facts.conversation, []).append(_Row.of(facts))
    return conv_contacts, markers, totals


def _per_100(count: int, messages: int) -> float | None:
    """The one unit of every gap rate: gaps per 100 messages with row ids, one decimal."""
    return round(100 * count / messages, 1) if messages else None


def _attribute(gaps: list[_Gap], traces: list[DeletionTrace]) -> None:
    """Which conversation each gap belongs to, by one rule: the conversation that records
    recovered into the gap, or deletion traces the database keeps, name for every missing id;
    else the conversation both surviving neighbours are in; else none (``unattributed``: the
    gap lies between conversations or before the first or after the last record).

    Deletion traces whose ids fall in an id gap are linked to it either way."""
    by_file: dict[str, list[DeletionTrace]] = {}
    for t in traces:
        if t.missing_ids:
            by_file.setdefault(t.source.file, []).append(t)
    for g in gaps:
        if g.conversation != UNATTRIBUTED:
            g.attributed_by = [NEIGHBOURS]
        if g.rule != "gap.id":
            continue
        named: dict[int, set[str]] = {}
        basis: set[str] = set()
        for r in g.recovered:
            if isinstance(r.get("key"), int) and r.get("conversation"):
                named.setdefault(r["key"], set()).add(r["conversation"])
                basis.add("recovered records")
        for t in by_file.get(g.space.file, []):
            hits = [i for i in t.missing_ids if g.missing_from <= i <= g.missing_to]
            if not hits:
                continue
            g.traces.append(t)
            if t.conversation_id:
                for i in hits:
                    named.setdefault(i, set()).add(t.conversation_id)
                basis.add("deletion traces")
        conversations = set().union(*named.values()) if named else set()
        if len(named) == g.missing_min and len(conversations) == 1:
            g.conversation = conversations.pop()
            g.attributed_by = sorted(basis)


def _id_gaps(sp: _Space, placed: Placed) -> list[_Gap]:
    space = sp.space
    present = set(space.ids)
    ids = sorted(present)
    holes: list[tuple[int, int, str]] = []
    if ids and ids[0] > 1:
        holes.append((1, ids[0] - 1, "leading"))
    holes.extend(
        (a + 1, b - 1, "interior") for a, b in zip(ids, ids[1:], strict=False) if b > a + 1
    )
    top = ids[-1] if ids else 0
    if space.autoincrement and space.high_water is not None and space.high_water > top:
        holes.append((top + 1, space.high_water, "trailing" if ids else "leading"))
    out = []
    for lo, hi, position in holes:
        before, after = placed.neighbours(sp.n, lo - 1, hi + 1)
        strength = "certain" if space.autoincrement else "possible"
        reasons = (
            []
            if space.autoincrement
            else [PLAIN_ID_REASON.format(table=space.table, column=space.id_column)]
        )
        gap = _Gap(
            rule="gap.id",
            space=space,
            column=space.id_column,
            missing_from=lo,
            missing_to=hi,
            position=position,
            strength=strength,
            before=before,
            after=after,
            conversation=_shared_conversation(before, after, position),
            reasons=reasons,
        )
        _discount(gap, placed.at(sp.n, lo - 1), placed.at(sp.n, hi + 1), sp, placed, present)
        out.append(gap)
    return out


def order_mode(sp: _Space, placed: Placed) -> str | None:
    """How the order key numbers rows: ``mirror`` (equal to the row id for every row: its holes
    are the id gaps already reported), ``shared`` (one numbering across all chats, as WhatsApp's
    ``sort_id`` usually is: a value missing from one chat but used by another is no gap) or
    ``per-chat`` (each chat counts on its own, as iOS ``ZSORT``); ``None`` without order keys."""
    return placed.order_mode(sp.n)


def _order_gaps(sp: _Space, placed: Placed) -> list[_Gap]:
    """Holes in the per-chat order key: interior only, since a chat's first value is not known."""
    space = sp.space
    mode = order_mode(sp, placed)
    if mode in (None, "mirror"):
        return []
    # Runs of values no placed row uses (a value used in another chat is no gap when shared).
    unused = placed.unused_order_keys(sp.n) if mode == "shared" else []
    unused_starts = [lo for lo, _ in unused]
    out = []
    for conv, a_id, b_id, ka, kb in placed.order_steps(sp.n):
        runs: list[tuple[int, int]] = []
        if mode == "per-chat":
            runs.append((ka + 1, kb - 1))
        else:
            k = max(bisect.bisect_right(unused_starts, ka + 1) - 1, 0)
            while k < len(unused) and unused[k][0] < kb:
                lo, hi = max(unused[k][0], ka + 1), min(unused[k][1], kb - 1)
                if lo <= hi:
                    runs.append((lo, hi))
                k += 1
        a, b = placed.row(a_id), placed.row(b_id)
        for lo, hi in runs:
            gap = _Gap(
                rule="gap.order",
                space=space,
                column=str(space.order_key),
                missing_from=lo,
                missing_to=hi,
                position="interior",
                strength="probable",
                before=a,
                after=b,
                conversation=conv,
                reasons=[
                    f"{space.order_key} numbers the messages of "
                    + ("one chat" if mode == "per-chat" else "all chats")
                    + " in order and no surviving row uses these values; a hole is a "
                    "probable sign of removed rows"
                ],
            )
            _discount(gap, a, b, sp, placed, None)
            out.append(gap)
    return out


def _discount(
    gap: _Gap,
    left: _Row | None,
    right: _Row | None,
    sp: _Space,
    placed: Placed,
    present: set[int] | None,
) -> None:
    neighbours = [n for n in (left, right) if n is not None]
    if any(n.status_broadcast for n in neighbours):
        gap.discounted.append(STATUS_REASON)
        gap.strength = "possible"
    elif any(n.system for n in neighbours):
        gap.discounted.append(SYSTEM_REASON)
        gap.strength = _WEAKER[gap.strength]
    if present is not None:
        edge = [x for x in (gap.missing_from - 1, gap.missing_to + 1) if x in present]
        other = [x for x in edge if placed.at(sp.n, x) is None]
        if other:
            gap.notes.append(
                f"row(s) {', '.join(map(str, other))} next to the gap are not messages read by "
                "triage (other rows share the id space); the nearest messages are referenced"
            )


def _shared_conversation(before: _Row | None, after: _Row | None, position: str) -> str:
    if position != "interior" or before is None or after is None:
        return UNATTRIBUTED
    a, b = before.conversation, after.conversation
    return a if a == b else UNATTRIBUTED


def _fill(
    recovered: Iterable[StoredMessage], spaces: list[_Space], gaps: list[_Gap], placed: Placed
) -> None:
    """Attach each recovered message to the gap its id places it in: its rowid for id gaps (or
    its order key where the order key mirrors the id on every live row, as a record whose rowid
    was overwritten keeps its ``sort_id``), its order key for order gaps in its conversation."""
    modes = {id(sp.space): order_mode(sp, placed) if sp.space.order_key else None for sp in spaces}
    for s in recovered:
        m = s.message
        facts = m.extra.get("recovered") or {}
        for g in gaps:
            space = g.space
            if space.file != m.source.file or space.table != m.id_space:
                continue
            placed_by = None
            if g.rule == "gap.id":
                key = m.record_id
                placed_by = "rowid"
                if key is None and modes[id(space)] == "mirror":
                    key, placed_by = (
                        m.order_key,
                        f"{space.order_key} (equal to the id on live rows)",
                    )
            else:
                key = m.order_key if g.conversation == m.conversation.id else None
                placed_by = space.order_key
            if key is None or not g.missing_from <= key <= g.missing_to:
                continue
            g.recovered.append(
                {
                    "message_id": s.id,
                    "key": key,
                    "placed_by": placed_by,
                    "status": facts.get("status"),
                    "confidence": facts.get("confidence"),
                    "source": facts.get("source"),
                    "time_utc": iso_utc(m.timestamp_utc),
                    "direction": m.direction,
                    "conversation": m.conversation.id,
                }
            )
