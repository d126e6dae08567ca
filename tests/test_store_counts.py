"""Counting in SQL (triage/store/counts.py) gives what counting message by message gives.

Duty: the status and night labels written in SQL from roster segments equal those of the
per-message clock (``_StatusClock``, the rule the analyser used before), for rosters whose
periods and messages fall around clock changes in zones with whole-hour, half-hour and
unusual offsets, and on the demo case. Correspondents: the SQL counts equal a count written
out from ``Store.party_messages`` and the messages' times, message by message.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import shutil
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.analysers import Settings
from triage.analysers.contacts import ContactsAnalyser
from triage.analysers.duty import DutyAnalyser, _StatusClock, minute_segments
from triage.analysers.parties import ContactIndex, night_at
from triage.casefile import load_case
from triage.model import Conversation, Message, Party, Provenance
from triage.roster import PERIOD_TYPES, Period, Roster, utc_bound
from triage.run import run_case
from triage.store import DutySegment, Store
from triage.store.codec import loads
from triage.store.counts import _status_case

# Clock changes of the zones drawn from (local wall times), so periods and messages land on
# and around them: London and New York (one hour), Lord Howe (half an hour), Chatham
# (+12:45/+13:45), Havana and Santiago (at midnight: a local date starts in the skipped or
# the repeated hour), and Kolkata (none).
ZONES = {
    "Europe/London": [dt.datetime(2026, 3, 29, 1, 0), dt.datetime(2026, 10, 25, 2, 0)],
    "America/New_York": [dt.datetime(2026, 3, 8, 2, 0), dt.datetime(2026, 11, 1, 2, 0)],
    "Australia/Lord_Howe": [dt.datetime(2026, 4, 5, 2, 0), dt.datetime(2026, 10, 4, 2, 0)],
    "Pacific/Chatham": [dt.datetime(2026, 4, 5, 3, 45), dt.datetime(2026, 9, 27, 2, 45)],
    "America/Havana": [dt.datetime(2026, 3, 8, 0, 0), dt.datetime(2026, 11, 1, 0, 0)],
    "America/Santiago": [dt.datetime(2026, 4, 5, 0, 0), dt.datetime(2026, 9, 6, 0, 0)],
    "Asia/Kolkata": [dt.datetime(2026, 3, 29, 0, 0)],
}
NIGHT = ("22:00:00", "06:00:00")
OWNER = Party(raw="(device owner)", id="owner", scheme="owner")


def _message(
    n: int, when: dt.datetime | None, conv: Conversation, sender: Party | None, **kw: object
) -> Message:
    fields: dict[str, object] = {
        "platform": "sms",
        "conversation": conv,
        "timestamp_utc": when,
        "timestamp_raw": str(n),
        "zone_assumed": False,
        "direction": "incoming",
        "sender": sender,
        "recipients": [OWNER],
        "body": "x",
        "kind": "text",
        "source": Provenance("mmssms.db", "0" * 64, "test", f"sms._id={n}"),
    }
    fields.update(kw)
    return Message(**fields)  # type: ignore[arg-type]


@st.composite
def rosters(draw: st.DrawFn) -> tuple[str, list[tuple], list[dt.datetime | None], list[str]]:
    zone_name = draw(st.sampled_from(sorted(ZONES)))
    pivot = draw(st.sampled_from(ZONES[zone_name]))
    offsets = st.integers(min_value=-36 * 60, max_value=36 * 60)  # minutes from the change
    periods = draw(
        st.lists(
            st.tuples(
                offsets,
                st.integers(min_value=1, max_value=20 * 60),
                st.sampled_from(PERIOD_TYPES),
            ),
            max_size=6,
        )
    )
    # Seconds from the change: most within two hours of it, some up to two days away.
    seconds = st.one_of(
        st.integers(min_value=-2 * 3600, max_value=2 * 3600),
        st.integers(min_value=-48 * 3600, max_value=48 * 3600),
    )
    times = draw(
        st.lists(
            st.one_of(st.none(), st.tuples(seconds, st.integers(min_value=0, max_value=999))),
            min_size=1,
            max_size=40,
        )
    )
    covered = {pivot.date() + dt.timedelta(days=k) for k in range(-2, 3) if draw(st.booleans())}
    devices = draw(st.lists(st.sampled_from(["device-1", "device-2"]), min_size=len(times)))
    zone = ZoneInfo(zone_name)
    utc_pivot = utc_bound(pivot, zone, earliest=True)
    whens = [
        None if t is None else utc_pivot + dt.timedelta(seconds=t[0], milliseconds=t[1])
        for t in times
    ]
    made = []
    for start, minutes, kind in periods:
        local_start = pivot + dt.timedelta(minutes=start)
        local_end = local_start + dt.timedelta(minutes=minutes)
        made.append((local_start, local_end, kind))
    return zone_name, made, whens, devices[: len(times)], covered


def _roster(zone_name: str, periods: list[tuple], covered: set[dt.date]) -> Roster:
    zone = ZoneInfo(zone_name)
    made = [
        Period(
            utc_bound(start, zone, earliest=True),
            utc_bound(end, zone, earliest=False),
            kind,
            start,
            end,
            "test",
        )
        for start, end, kind in periods
    ]
    made.sort(key=lambda p: (p.start, p.end, p.type))
    return Roster(zone, made, None, covered, "test")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rosters(), st.booleans(), st.integers(min_value=1, max_value=7))
def test_duty_labels_in_sql_equal_the_clock(drawn: tuple, own: bool, batch: int) -> None:
    zone_name, periods, whens, devices, covered = drawn
    roster = _roster(zone_name, periods, covered)
    # device-2 has a roster of its own (the first half of the periods, other dates covered)
    # when ``own``.
    other = _roster(zone_name, periods[: len(periods) // 2], set()) if own else None
    with tempfile.TemporaryDirectory() as folder:
        store = Store.create(Path(folder) / "s.sqlite", zone_name)
        src = store.add_source("mmssms.db", "0" * 64, 1, "test", "1")
        her = Party(raw="+447700900123", id="+447700900123", scheme="phone")
        conv = Conversation("sms:1", participants=[her])
        store.ingest(
            src,
            [
                _message(n, when, conv, her, device=device, kind="system" if n % 4 == 3 else "text")
                for n, (when, device) in enumerate(zip(whens, devices, strict=True))
            ],
        )
        store.index()
        low, high = store.message_minute_span()
        clocks = [roster, *([other] if own else [])]
        segments = [
            DutySegment(n, start, status)
            for n, r in enumerate(clocks)
            if r is not None and low is not None
            for start, status in minute_segments(r, low, high)
        ]
        devices_of = {"device-2": 1} if own else {}
        store.write_duty_labels("duty", segments, devices_of, NIGHT, batch=batch)
        status = store.labels("duty", "status")
        night = store.labels("duty", "night")
        clock, own_clock = _StatusClock(roster), _StatusClock(other)
        assert clock.by_minute
        for mid, ts, local, _counted in store.message_times():
            device = devices[mid - 1]
            expected = (own_clock if own and device == "device-2" else clock)(ts)
            assert status[mid] == expected, (mid, ts, local)
            assert night[mid] == (None if ts is None else night_at(local[11:19], *NIGHT))
        # The counted messages' statuses, counted by time (one roster) or from the labels.
        assert store.duty_status_counts("duty", segments, devices_of) == dict(
            sorted(
                Counter(
                    status[mid] for mid, _, _, counted in store.message_times() if counted
                ).items()
            )
        )
        store.close()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=400), unique=True, max_size=60),
    st.lists(st.integers(min_value=-5, max_value=405), min_size=1, max_size=30),
    st.integers(min_value=2, max_value=9),
)
def test_status_case_equals_a_search_of_the_segments(
    starts: list[int], minutes: list[int], fan_out: int
) -> None:
    """The CASE tree of ``write_duty_labels`` gives the status of the last segment starting at
    or before a time's minute, ``unknown`` before the first, at any depth of the tree."""
    base = dt.datetime(2026, 3, 29, tzinfo=dt.UTC)

    def minute(n: int) -> str:
        return (base + dt.timedelta(minutes=n)).isoformat()[:16]

    segments = [(minute(n), f"s{n % 4}") for n in sorted(starts)]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE messages (timestamp_utc TEXT)")
    # Times on, just after and within a minute, with and without fractions of a second.
    times = [
        minute(n) + suffix for n in minutes for suffix in (":00Z", ":00.001Z", ":59.999Z", ":59Z")
    ]
    conn.executemany("INSERT INTO messages VALUES (?)", [(t,) for t in times])
    got = [
        loads(v)
        for (v,) in conn.execute(
            f"SELECT {_status_case(segments, fan_out)} FROM messages m ORDER BY rowid"
        )
    ]
    starts_at = [s for s, _ in segments]
    expected = []
    for t in times:
        i = bisect.bisect_right(starts_at, t[:16]) - 1
        expected.append(segments[i][1] if i >= 0 else "unknown")
    assert got == expected


def test_duty_on_the_demo_equals_the_clock(demo_case: Path, tmp_path: Path) -> None:
    """The whole duty analyser on the demo: its SQL path and its message-by-message path give
    the same findings and the same labels."""
    case = load_case(demo_case)
    run_case(case, tmp_path / "out", report=False)
    copy = tmp_path / "copy.sqlite"
    shutil.copy(tmp_path / "out" / "case.sqlite", copy)

    def duty(python: bool) -> tuple[list, dict, dict]:
        shutil.copy(tmp_path / "out" / "case.sqlite", copy)
        store = Store(sqlite3.connect(copy), copy)
        store.conn.execute("DELETE FROM message_labels WHERE analyser = 'duty'")
        if python:
            store.local_times_complete = lambda: False  # type: ignore[method-assign]
        found = list(DutyAnalyser().run(store, case, Settings()))
        out = ([dataclasses.asdict(f) for f in found], store.labels("duty", "status"))
        night = store.labels("duty", "night")
        store.close()
        return out[0], out[1], night

    sql, python = duty(False), duty(True)
    assert sql == python
    assert Counter(sql[1].values())["on_duty"] > 0 and any(sql[2].values())


@st.composite
def conversations(draw: st.DrawFn) -> list[tuple]:
    """Messages among a few parties, some sharing one id under different names (or none)."""
    ids = ["+447700900001", "+447700900002", "+447700900003", "x@example.org"]
    names = st.sampled_from([None, "", "Ann", "Bob"])
    people = [
        Party(raw=draw(st.sampled_from([i, i + " "])), id=i, name=draw(names), scheme="phone")
        for i in draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6))
    ]
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        group = draw(st.booleans())
        members = draw(st.lists(st.sampled_from(people), min_size=1, max_size=3))
        sender = draw(st.sampled_from([OWNER, None, *members]))
        recipients = draw(st.lists(st.sampled_from([OWNER, *people]), max_size=3))
        when = draw(
            st.one_of(
                st.none(),
                st.tuples(st.integers(0, 5), st.sampled_from([0, 0, 500])),
            )
        )
        rows.append(
            (
                group,
                tuple(members),
                sender,
                recipients,
                when,
                draw(st.sampled_from(["incoming", "outgoing"])),
                draw(st.sampled_from(["sms", "whatsapp"])),
                draw(st.booleans()),
            )
        )
    return rows


def _reference_others(store: Store, index: ContactIndex, night: tuple[str, str]) -> dict:
    """The correspondents count as it was written before it moved to SQL: every (message,
    party) in time order and role order, each key counted once per message."""
    parties = store.parties()
    excluded = {
        pid
        for pid, p in parties.items()
        if index.contacts_for(p) or not index.is_counterparty(p) or not (p.id or p.raw)
    }
    wanted = [pid for pid in parties if pid not in excluded]
    named: dict[int, list[tuple[int, int, int]]] = {}
    for mid, role, position, pid in store.party_messages(wanted):
        named.setdefault(mid, []).append((role, position, pid))
    facts = store.facts_by_ids(named)
    out: dict[str, dict] = {}
    for f in facts:
        seen: set[str] = set()
        for _role, _position, pid in sorted(named[f.id]):
            p = parties[pid]
            key = p.id or p.raw
            if key in seen:
                continue
            seen.add(key)
            e = out.setdefault(
                key,
                {"raw": p.raw, "name": p.name, "scheme": p.scheme, "count": 0, "night": 0},
            )
            e.setdefault("platforms", set()).add(f.platform)
            e["count"] += 1
            e["name"] = e["name"] or p.name
            ts = f.timestamp_utc
            if ts is not None:
                text = ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                text = text.replace(".000Z", "Z")
                if e.get("first") is None or text[:-1] < e["first"][:-1]:
                    e["first"] = text
                if e.get("last") is None or text[:-1] > e["last"][:-1]:
                    e["last"] = text
                if night_at(f.ts_local[11:19], *night):
                    e["night"] += 1
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_correspondent_counts_equal_counting_message_by_message(rows: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        case_file = Path(folder) / "case.yaml"
        case_file.write_text(
            "case:\n  reference: T/1\n  timezone: Europe/London\n  region: GB\n"
            "subject:\n  name: PC Test\n"
            "contacts:\n  - name: Female A\n    role: victim\n    identifiers:\n"
            '      - phone: "+447700900003"\n'
            "sources:\n  - case.yaml\n",
            "utf-8",
        )
        case = load_case(case_file)
        store = Store.create(Path(folder) / "s.sqlite")
        src = store.add_source("mmssms.db", "0" * 64, 1, "test", "1")
        base = dt.datetime(2026, 3, 28, 23, 58, tzinfo=dt.UTC)
        messages = []
        for n, (group, members, sender, recipients, when, direction, platform, gone) in enumerate(
            rows
        ):
            conv = Conversation(
                f"c:{int(group)}:{'|'.join(p.raw + str(p.name) for p in members)}",
                is_group=group,
                participants=list(members),
            )
            at = (
                None
                if when is None
                else base + dt.timedelta(minutes=when[0] * 3, milliseconds=when[1])
            )
            messages.append(
                _message(
                    n,
                    at,
                    conv,
                    sender,
                    recipients=recipients,
                    direction=direction,
                    platform=platform,
                    recovered=gone and n % 3 == 0,
                )
            )
        store.ingest(src, messages)
        store.index()
        night = ("23:59:00", "00:03:00")
        case = dataclasses.replace(case, night=(dt.time(23, 59), dt.time(0, 3)))
        index = ContactIndex(case)
        expected = _reference_others(store, index, night)
        parties = store.parties()
        contacts_of = {pid: index.contacts_for(p) for pid, p in parties.items()}
        got, total = ContactsAnalyser._others(
            store, index, parties, contacts_of, case, len(parties)
        )
        assert total == len(got)
        assert got == sorted(got, key=lambda c: (-c.count, c.id))
        assert {
            c.id: {
                "raw": c.raw,
                "name": c.name,
                "scheme": c.scheme,
                "count": c.count,
                "night": c.night,
                "platforms": c.platforms,
                **({"first": c.first, "last": c.last} if c.first is not None else {}),
            }
            for c in got
        } == expected
        # Only the correspondents shown are counted in full: the first of the whole ranking.
        assert ContactsAnalyser._others(store, index, parties, contacts_of, case, 2) == (
            got[:2],
            total,
        )
        store.close()


@st.composite
def numbered(draw: st.DrawFn) -> tuple[list[tuple], list[int], bool, int | None]:
    """Messages of one database table in a few chats, dated or not, some deleted, some system
    rows or Status posts, some sharing a record id (the same row read twice) or without one,
    some of another table, with order keys shared, per chat, mirroring the id or none; and the
    table's ids present, whether AUTOINCREMENT, its high-water mark."""
    keyed = draw(st.sampled_from(["none", "mirror", "shared", "per-chat", "any"]))
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        record = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=40)))
        order = {
            "none": None,
            "mirror": record,
            "shared": None if record is None else record * 2 + draw(st.integers(0, 1)),
            "per-chat": draw(st.integers(min_value=1, max_value=6)),
            "any": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=60))),
        }[keyed]
        rows.append(
            (
                draw(st.sampled_from(["a", "b", "c"])),  # chat
                draw(st.one_of(st.none(), st.integers(min_value=0, max_value=50))),  # seconds
                record,
                draw(st.booleans()),  # deleted
                draw(st.sampled_from([[], ["female-a"], ["female-b", "female-a"]])),  # keys
                order,
                draw(st.sampled_from(["text", "text", "system", "status"])),
                draw(st.sampled_from(["sms", "sms", "sms", "pdu", None])),  # id space
            )
        )
    ids = draw(st.lists(st.integers(min_value=1, max_value=45), unique=True))
    return rows, ids, draw(st.booleans()), draw(st.one_of(st.none(), st.integers(0, 50)))


def _reference_gaps(
    store: Store, spaces: list, labels: dict[int, list[str]], case: object
) -> tuple:
    """The id-gap scan as it was written before it moved to SQL: every live message read in
    store id order (in time order where a record id is met twice) and placed in its id space
    in Python; holes, neighbours, order mode and order-key runs worked out from those rows."""
    from collections import Counter

    from triage.analysers.gaps import _Row

    def scan(time_order: bool) -> tuple | None:
        by_id: list[dict[int, _Row]] = [{} for _ in spaces]
        labelled, markers, placed_in = [], {}, Counter()
        totals = {c.key: [0, 0] for c in case.contacts}  # type: ignore[attr-defined]
        for facts in store.gap_rows(time_order):
            row = _Row.of(facts)
            when = (facts.utc_text is None, facts.utc_text or "", facts.id)
            keys = labels.get(row.id, [])
            if keys:
                labelled.append((when, row.conversation, keys))
            target = next(
                (
                    n
                    for n, sp in enumerate(spaces)
                    if sp.file == row.file and sp.table == row.id_space
                ),
                None,
            )
            placed = False
            if row.record_id is not None and row.id_space is not None and target is not None:
                if row.record_id in by_id[target]:
                    if not time_order:
                        return None
                else:
                    by_id[target][row.record_id] = row
                    placed = True
            if placed:
                placed_in[row.conversation] += 1
            for key in keys:
                if key in totals:
                    totals[key][0] += 1
                    totals[key][1] += placed
            if row.deleted:
                markers.setdefault(row.conversation, []).append((when, row))
        conv_contacts: dict[str, list[str]] = {}
        for _, conversation, keys in sorted(labelled, key=lambda item: item[0]):
            for key in keys:
                known = conv_contacts.setdefault(conversation, [])
                if key not in known:
                    known.append(key)
        ordered = {c: [r for _, r in sorted(i, key=lambda x: x[0])] for c, i in markers.items()}
        return by_id, (conv_contacts, ordered, placed_in, totals)

    found = scan(False) or scan(True)
    assert found is not None
    by_id, scanned = found
    per_space = []
    for sp, rows in zip(spaces, by_id, strict=True):
        keyed = [r for r in rows.values() if r.order_key is not None]
        mode = None
        if keyed:
            owner: dict[int, str] = {}
            mode = "mirror" if all(r.order_key == r.record_id for r in keyed) else "shared"
            for r in keyed if mode == "shared" else []:
                if owner.setdefault(r.order_key, r.conversation) != r.conversation:
                    mode = "per-chat"
        message_ids = sorted(rows)
        present = sorted(set(sp.ids))
        holes = [(a + 1, b - 1) for a, b in zip(present, present[1:], strict=False) if b > a + 1]
        holes += [(1, present[0] - 1)] if present and present[0] > 1 else []
        if (
            sp.autoincrement
            and sp.high_water is not None
            and sp.high_water > max(present, default=0)
        ):
            holes.append((max(present, default=0) + 1, sp.high_water))
        neighbours = []
        for lo, hi in sorted(holes):
            i = bisect.bisect_right(message_ids, lo - 1) - 1
            j = bisect.bisect_left(message_ids, hi + 1)
            neighbours.append(
                (
                    rows[message_ids[i]] if i >= 0 else None,
                    rows[message_ids[j]] if j < len(message_ids) else None,
                    rows.get(lo - 1),
                    rows.get(hi + 1),
                    [x for x in (lo - 1, hi + 1) if x in set(sp.ids) and x not in rows],
                )
            )
        used = {r.order_key for r in keyed}
        steps = []
        chats: dict[str, list] = {}
        for r in keyed:
            if not r.status_broadcast:
                chats.setdefault(r.conversation, []).append(r)
        for conv, items in sorted(chats.items()):
            items.sort(key=lambda r: (r.order_key, r.id))
            for a, b in zip(items, items[1:], strict=False):
                if b.order_key > a.order_key + 1:
                    free = [v for v in range(a.order_key + 1, b.order_key) if v not in used]
                    steps.append((conv, a, b, free if mode == "shared" else None))
        per_space.append(
            (len(rows), mode, neighbours, steps if mode in ("shared", "per-chat") else [])
        )
    return scanned, per_space


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbered())
def test_gap_scan_in_sql_equals_placing_each_message(drawn: tuple) -> None:
    from triage.analysers.gaps import Placed, _order_gaps, _scan, _Space
    from triage.model import IdSpace

    rows, ids, autoincrement, high_water = drawn
    with tempfile.TemporaryDirectory() as folder:
        case_file = Path(folder) / "case.yaml"
        case_file.write_text(
            "case:\n  reference: T/1\n  timezone: Europe/London\n  region: GB\n"
            "subject:\n  name: PC Test\ncontacts:\n"
            '  - name: Female A\n    role: victim\n    identifiers:\n      - phone: "+447700900003"\n'
            '  - name: Female B\n    role: witness\n    identifiers:\n      - phone: "+447700900004"\n'
            "sources:\n  - case.yaml\n",
            "utf-8",
        )
        case = load_case(case_file)
        store = Store.create(Path(folder) / "s.sqlite")
        src = store.add_source("mmssms.db", "0" * 64, 1, "test", "1")
        base = dt.datetime(2026, 3, 28, 23, 58, tzinfo=dt.UTC)
        her = Party(raw="+447700900123", id="+447700900123", scheme="phone")
        store.ingest(
            src,
            [
                _message(
                    n,
                    None if secs is None else base + dt.timedelta(seconds=secs),
                    Conversation(f"sms:{chat}", participants=[her]),
                    her,
                    record_id=record,
                    order_key=order,
                    id_space=table,
                    kind="deleted" if deleted else ("system" if kind == "system" else "text"),
                    deleted=deleted,
                    status_update=kind == "status",
                )
                for n, (chat, secs, record, deleted, _keys, order, kind, table) in enumerate(rows)
            ]
            + [
                IdSpace(
                    "mmssms.db", "0" * 64, "test", "sms", "_id", autoincrement, high_water, ids
                ),
                # The same table named twice: the first space is the one messages are placed in.
                IdSpace("mmssms.db", "0" * 64, "test", "sms", "_id", False, None, ids[:1]),
            ],
        )
        labels = {n + 1: row[4] for n, row in enumerate(rows) if row[4]}
        id_spaces = store.id_spaces()
        scanned, per_space = _reference_gaps(store, id_spaces, labels, case)
        spaces = [_Space(sp, n) for n, sp in enumerate(id_spaces)]
        placed = Placed(store, spaces)
        conv_contacts, markers, placed_in, totals = scanned
        assert _scan(store, placed, labels, case) == (conv_contacts, markers, totals)
        assert placed.total() == sum(placed_in.values())
        assert store.gap_conversation_counts(placed_in) == dict(placed_in)
        assert store.gap_conversation_counts([*conv_contacts, "sms:none"]) == {
            c: n for c, n in placed_in.items() if c in conv_contacts
        }
        for sp, (count, mode, neighbours, steps) in zip(spaces, per_space, strict=True):
            assert placed.count(sp.n) == count
            assert placed.order_mode(sp.n) == mode
            present = sorted(set(sp.space.ids))
            holes = [
                (a + 1, b - 1) for a, b in zip(present, present[1:], strict=False) if b > a + 1
            ]
            holes += [(1, present[0] - 1)] if present and present[0] > 1 else []
            top = max(present, default=0)
            if (
                sp.space.autoincrement
                and sp.space.high_water is not None
                and sp.space.high_water > top
            ):
                holes.append((top + 1, sp.space.high_water))
            got = [
                (
                    *placed.neighbours(sp.n, lo - 1, hi + 1),
                    placed.at(sp.n, lo - 1),
                    placed.at(sp.n, hi + 1),
                    [
                        x
                        for x in (lo - 1, hi + 1)
                        if x in set(sp.space.ids) and placed.at(sp.n, x) is None
                    ],
                )
                for lo, hi in sorted(holes)
            ]
            assert got == neighbours
            gaps = _order_gaps(sp, placed)
            expected = [
                (conv, a.id, b.id, lo, hi)
                for conv, a, b, free in steps
                for lo, hi in (
                    _runs(free) if free is not None else [(a.order_key + 1, b.order_key - 1)]
                )
            ]
            assert [
                (g.conversation, g.before.id, g.after.id, g.missing_from, g.missing_to)
                for g in gaps
            ] == expected
        store.close()


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][1] == v - 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2200, 12, 31),
        timezones=st.sampled_from(
            [dt.UTC, ZoneInfo("UTC"), ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")]
        ),
    )
)
def test_store_times_equal_the_model_texts(when: dt.datetime) -> None:
    """The per-minute cache of UTC and local texts at ingest gives what formatting each time
    on its own gives: the store's UTC text and the wall time in the store's zone."""
    from triage.store.codec import _utc_text

    with tempfile.TemporaryDirectory() as folder:
        store = Store.create(Path(folder) / "s.sqlite", "Europe/London")
        utc, local = store._times(when)
        again = store._times(when)  # from the cache this time
        assert utc == _utc_text(when) == again[0]
        stamp = int(when.timestamp())
        wall = dt.datetime.fromtimestamp(stamp - stamp % 60, ZoneInfo("Europe/London"))
        assert local == again[1] == f"{wall:%Y-%m-%dT%H:%M}:{stamp % 60:02d}"
        store.close()
