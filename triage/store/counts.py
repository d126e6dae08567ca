"""Counting over messages in SQL: correspondents, duty status, and the rows of the id-gap scan.

The analysers used to read one row per message (or per message and party) and count in Python;
these queries hand them per-party, per-interval or per-hole results instead, so a phone's
hundreds of thousands of messages are walked by SQLite, not by the interpreter. Each query
keeps the exact rule of the Python it replaced: the docstrings name it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from triage.store.chunks import in_chunks
from triage.store.codec import loads
from triage.store.messages import LIVE

#: Who a message is with (``MessagesAggregate.party_messages``), for the keys with several
#: parties: sender rank 0, recipients 2**32 + position (in a group only when the owner sent it),
#: participants of a one-to-one chat 2 * 2**32 + position, so that the smallest rank is the party
#: the role order reaches first. ``shared`` rides along (true for every row here). Each part
#: starts from the keys (``CROSS JOIN`` keeps that order), whose parties' rows are read off their
#: indexes: joined the other way, SQLite read every sender's and recipient's index entry and
#: looked its key up (0.21 s of CPU at 300,000 messages, for the two parties of one key).
_NAMED = """
  named(message_id, rank, key_id, party_id, shared) AS (
    SELECT m.id, 0, k.key_id, m.sender_party, k.shared FROM counted_party_keys k
      CROSS JOIN messages m ON m.sender_party = k.party_id
      WHERE k.shared
    UNION ALL
    SELECT r.message_id, 4294967296 + r.position, k.key_id, r.party_id, k.shared
      FROM counted_party_keys k CROSS JOIN recipients r ON r.party_id = k.party_id
      JOIN messages m ON m.id = r.message_id
      JOIN conversations c ON c.id = m.conversation_id
      WHERE k.shared AND (c.is_group = 0 OR m.direction <> 'incoming')
    UNION ALL
    SELECT m.id, 8589934592 + p.position, k.key_id, p.party_id, k.shared
      FROM counted_party_keys k CROSS JOIN participants p ON p.party_id = k.party_id
      JOIN conversations c ON c.id = p.conversation_id AND c.is_group = 0
      JOIN messages m ON m.conversation_id = p.conversation_id
      WHERE k.shared
  ),
  firsts(message_id, key_id, party_id, shared, rank) AS (
    SELECT message_id, key_id, party_id, shared, MIN(rank) FROM named GROUP BY message_id, key_id
  )
"""

# Time order (undated last, then store id) as one text, so SQL can take its least and greatest:
# \x01 ends the time, sorting below every character of one, so a shorter time sorts first.
# Made only for a key with several parties (``f.shared``): the order picks one of them.
_TIME_ORDER = (
    "CASE WHEN f.shared THEN"
    " (CASE WHEN m.timestamp_utc IS NULL THEN '1' ELSE '0' || m.timestamp_utc END)"
    " || char(1) || printf('%020d', m.id) END"
)

# UTC text orders as time does once its "Z" is cut off (fractions of seconds included). The
# store writes every UTC time with one "Z" at its end (``codec._utc_text``), so the text is
# what is left and a "Z".
_ORDERED_UTC = "rtrim(m.timestamp_utc, 'Z')"
# How many of the messages fell in the night window ({night_sql}: ``_night_sql``'s expression).
_NIGHTS = "COALESCE(SUM(m.timestamp_utc IS NOT NULL AND m.ts_local IS NOT NULL AND {night_sql}), 0)"


class PartyCount(NamedTuple):
    """What the messages with one correspondent key add up to, for one of its parties."""

    key_id: int
    party_id: int
    messages: int
    first_utc: str | None
    last_utc: str | None
    night: int
    platforms: list[str]
    # Where its first and last message come in time order (texts that compare as the order);
    # None where the key has this party only: there is no other to order it against.
    first_seen: str | None
    last_seen: str | None


def _night_sql(start: str, end: str) -> tuple[str, tuple[str, ...]]:
    """:func:`triage.analysers.parties.night_at` on ``ts_local`` as SQL and its parameters."""
    local = "substr(m.ts_local, 12, 8)"
    if start == end:
        return "0", ()
    if start < end:
        return f"({local} >= ? AND {local} < ?)", (start, end)
    return f"({local} >= ? OR {local} < ?)", (start, end)


def _sql_text(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _status_case(segments: list[tuple[str, str]], fan_out: int = 8) -> str:
    """An SQL expression on ``m.timestamp_utc`` giving, as JSON text, the status of the last
    of ``segments`` (start minute "YYYY-MM-DDTHH:MM", status; sorted by start) that starts at
    or before its minute, ``"unknown"`` before the first.

    A search tree of ``CASE`` expressions, ``fan_out`` ways at each level, so that it stays a
    few levels deep for any roster (SQLite's parser refuses some twenty nested levels):
    evaluated per message in SQLite's virtual machine, it costs about a quarter of a
    correlated subquery on a table of segments. A UTC text compares with a minute as its
    first 16 characters do, so no ``substr`` is needed."""

    def tree(lo: int, hi: int) -> str:
        # The status of a time at or after segments[lo]'s start, before segments[hi]'s.
        if hi - lo == 1:
            return _sql_text(f'"{segments[lo][1]}"')
        size = -(-(hi - lo) // fan_out)
        cuts = list(range(lo, hi, size))
        branches = " ".join(
            f"WHEN m.timestamp_utc < {_sql_text(segments[end][0])} THEN {tree(start, end)}"
            for start, end in zip(cuts, cuts[1:], strict=False)
        )
        return f"CASE {branches} ELSE {tree(cuts[-1], hi)} END" if branches else tree(lo, hi)

    unknown = _sql_text('"unknown"')
    if not segments:
        return unknown
    first = _sql_text(segments[0][0])
    return f"CASE WHEN m.timestamp_utc < {first} THEN {unknown} ELSE {tree(0, len(segments))} END"


#: A message sent or received by a person: not an app notice, not a Status post, not recovered
#: from deleted content (``MessagesAggregate.message_times``' ``counted``).
_COUNTED = (
    "m.direction <> 'system' AND m.kind <> 'system' AND NOT m.status_update AND NOT m.recovered"
)


class DutySegment(NamedTuple):
    """From ``start`` (a UTC minute, "YYYY-MM-DDTHH:MM") until the next segment of the same
    roster, every minute has ``status``."""

    roster: int
    start: str
    status: str


class DutyLabel(NamedTuple):
    status: str
    night: bool | None
    counted: bool


class GapRow(NamedTuple):
    """What the id-gap scan needs of one live message."""

    id: int
    conversation: str
    platform: str
    utc_text: str | None
    timestamp_utc: dt.datetime | None
    direction: str
    kind: str
    deleted: bool
    status_update: bool
    record_id: int | None
    order_key: int | None
    id_space: str | None
    file: str
    locator: str


class CountsAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = ""
    conn: Any
    index: Callable[[], None]  # the messages aggregate's: indexes built before counting
    _files: dict[int, tuple[str, str, str]]

    def _set_counted_keys(self, keys: dict[int, int]) -> None:
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS counted_party_keys"
            " (party_id INTEGER PRIMARY KEY, key_id INTEGER, shared INTEGER)"
        )
        self.conn.execute("DELETE FROM counted_party_keys")
        sizes = Counter(keys.values())
        self.conn.executemany(
            "INSERT INTO counted_party_keys VALUES (?, ?, ?)",
            [(pid, key, int(sizes[key] > 1)) for pid, key in sorted(keys.items())],
        )

    def correspondent_totals(self, keys: dict[int, int]) -> dict[int, int]:
        """key id -> how many live messages are with the key, for the keys of ``keys`` (party
        id -> key id) with any: the messages :meth:`correspondent_counts` counts, without what
        else they add up to. Counting alone costs a fraction of it (at 300,000 messages the
        times, nights and platforms were about 0.3 s of the 0.5 s of CPU per pass), so the
        correspondents are ranked by it and only those shown are counted in full."""
        self.index()
        self._set_counted_keys(keys)
        sizes = Counter(keys.values())
        totals: Counter[int] = Counter()
        if any(n > 1 for n in sizes.values()):
            totals.update(
                dict(
                    self.conn.execute(
                        f"WITH {_NAMED} SELECT f.key_id, COUNT(*) FROM firsts f"
                        f" JOIN messages m ON m.id = f.message_id AND {LIVE} GROUP BY f.key_id"
                    )
                )
            )
        single = {pid: key for pid, key in keys.items() if sizes[key] == 1}
        for pid, (n,) in self._single_party_parts(single, "COUNT(*)", (), every=True):
            totals[single[pid]] += n
        return dict(totals)

    def correspondent_counts(
        self, keys: dict[int, int], night: tuple[str, str]
    ) -> list[PartyCount]:
        """Per (key, party) of the parties in ``keys`` (party id -> key id; a key is one
        correspondent, which several parties may share): how many live messages are with
        the key by that party, the first and last UTC times, how many fell in the ``night``
        window (local "HH:MM:SS" start and end), on which platforms (sorted), and where the
        first and last of them come in time order; in key and party order. A message counts
        once per key, for the party the role order names first (sender, recipients,
        participants: the rule of ``MessagesAggregate.party_messages``). The time-order places
        are given only for a key with several parties.

        Only a key with several parties needs each message's parties named and the first kept
        (``_NAMED``). A key of one party is counted by conversation instead (see
        :meth:`_single_party_parts`): at 300,000 messages, where every key has one party,
        0.92 s of CPU -> about 0.4 s."""
        self.index()
        self._set_counted_keys(keys)
        night_sql, params = _night_sql(*night)
        sizes = Counter(keys.values())
        rows: list[PartyCount] = []
        if any(n > 1 for n in sizes.values()):
            for (
                key,
                pid,
                n,
                first,
                last,
                nights,
                platforms,
                seen_first,
                seen_last,
            ) in self.conn.execute(
                f"""
                    WITH {_NAMED}
                    SELECT f.key_id, f.party_id, COUNT(*), MIN({_ORDERED_UTC}),
                      MAX({_ORDERED_UTC}), {_NIGHTS}, group_concat(DISTINCT m.platform),
                      MIN({_TIME_ORDER}), MAX({_TIME_ORDER})
                    FROM firsts f JOIN messages m ON m.id = f.message_id AND {LIVE}
                    GROUP BY f.key_id, f.party_id
                    """.replace("{night_sql}", night_sql),
                params,
            ):
                rows.append(
                    PartyCount(
                        key,
                        pid,
                        n,
                        None if first is None else first + "Z",
                        None if last is None else last + "Z",
                        nights,
                        sorted(platforms.split(",")) if platforms else [],
                        seen_first,
                        seen_last,
                    )
                )
        single = {pid: key for pid, key in keys.items() if sizes[key] == 1}
        aggregates = (
            f"COUNT(*), MIN({_ORDERED_UTC}), MAX({_ORDERED_UTC}), {_NIGHTS},"
            " group_concat(DISTINCT m.platform)"
        ).replace("{night_sql}", night_sql)
        totals: dict[int, list[Any]] = {}
        for pid, (n, first, last, nights, on) in self._single_party_parts(
            single, aggregates, params, every=False
        ):
            total = totals.setdefault(pid, [0, None, None, 0, set()])
            total[0] += n
            if first is not None and (total[1] is None or first < total[1]):
                total[1] = first
            if last is not None and (total[2] is None or last > total[2]):
                total[2] = last
            total[3] += nights
            if on:
                total[4].update(on.split(","))
        for pid, (n, first, last, nights, platforms) in totals.items():
            rows.append(
                PartyCount(
                    single[pid],
                    pid,
                    n,
                    None if first is None else first + "Z",
                    None if last is None else last + "Z",
                    nights,
                    sorted(platforms),
                    None,
                    None,
                )
            )
        rows.sort(key=lambda r: (r.key_id, r.party_id))
        return rows

    def _single_party_parts(
        self, single: dict[int, int], aggregates: str, params: tuple[str, ...], every: bool
    ) -> Iterator[tuple[int, list[Any]]]:
        """(party id, ``aggregates`` over some of its messages) for the parties of ``single``,
        whose key has no other party (in ``counted_party_keys``): together, for each party,
        the messages with it, each once. With no party to choose, the messages with such a
        party are the union of those it sent, those of a one-to-one chat it is a participant
        of, and those it is a recipient of (in a group, only as a recipient of what the owner
        sent): one pass over the live messages, grouped by conversation and sender, gives the
        first two (each group to its sender and, in a one-to-one chat, to each participant:
        once each); its recipient lists add the messages that name the party only as a
        recipient. ``every``: the pass reads every live message (for most of the parties);
        else only those the parties sent or of their chats, off the sender and conversation
        indexes (for a few)."""
        if not single:
            return
        members: dict[int, list[int]] = {}
        for conversation, pid in self.conn.execute(
            "SELECT p.conversation_id, p.party_id FROM participants p"
            " JOIN conversations c ON c.id = p.conversation_id AND c.is_group = 0"
        ):
            if pid in single:
                members.setdefault(conversation, []).append(pid)
        where = (
            f"messages m NOT INDEXED WHERE {LIVE}"
            if every
            else f"messages m WHERE {LIVE} AND (m.sender_party IN"
            " (SELECT party_id FROM counted_party_keys WHERE NOT shared)"
            f" OR m.conversation_id IN ({', '.join(map(str, sorted(members)))}))"
        )
        for conversation, sender, *counted in self.conn.execute(
            f"SELECT m.conversation_id, m.sender_party, {aggregates} FROM {where}"
            " GROUP BY m.conversation_id, m.sender_party",
            params,
        ):
            with_ = set(members.get(conversation, ()))
            if sender in single:
                with_.add(sender)
            for pid in with_:
                yield pid, counted
        # The messages that name a party only as a recipient, by recipient list: each list
        # holding one of the parties (from the keys; CROSS JOIN keeps that order, so the owner's
        # lists are never read), its messages grouped by conversation and sender, and each
        # group given to the list's parties but its sender and, in a one-to-one chat, its
        # participants (counted above). A group's incoming messages are left out in SQL: a
        # member of a large group is in every other sender's list, and reading those
        # messages one party at a time cost 10 s of CPU for a 200-member group.
        lists: dict[int, set[int]] = {}
        for list_id, pid in self.conn.execute(
            "SELECT e.list_id, e.party_id FROM counted_party_keys k"
            " CROSS JOIN recipient_list_parties e ON e.party_id = k.party_id WHERE NOT k.shared"
        ):
            if pid in single:
                lists.setdefault(list_id, set()).add(pid)
        if not lists:
            return
        for list_id, conversation, sender, is_group, *counted in self.conn.execute(
            f"SELECT m.recipient_list, m.conversation_id, m.sender_party, c.is_group, {aggregates}"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            f" WHERE {LIVE} AND m.recipient_list IN ({', '.join(map(str, sorted(lists)))})"
            " AND (c.is_group = 0 OR m.direction <> 'incoming')"
            " GROUP BY m.recipient_list, m.conversation_id, m.sender_party",
            params,
        ):
            chat = () if is_group else members.get(conversation, ())
            for pid in lists[list_id]:
                if pid != sender and pid not in chat:
                    yield pid, counted

    # -- duty status and night ------------------------------------------------------------------
    def message_minute_span(self) -> tuple[str | None, str | None]:
        """The first and last UTC minutes ("YYYY-MM-DDTHH:MM") of all dated messages."""
        # The minute of the least time is the least minute (a text's start orders as the
        # text does), and one MIN or MAX alone is read off the time index, not a scan of
        # every row (0.045 s at 300,000 messages).
        return self.conn.execute(
            "SELECT substr((SELECT MIN(timestamp_utc) FROM messages), 1, 16),"
            " substr((SELECT MAX(timestamp_utc) FROM messages), 1, 16)"
        ).fetchone()

    def local_times_complete(self) -> bool:
        """Whether every dated message has its local wall time (a store written by ingest)."""
        return not self.conn.execute(
            "SELECT 1 FROM messages WHERE timestamp_utc IS NOT NULL AND ts_local IS NULL LIMIT 1"
        ).fetchone()

    def write_duty_labels(
        self,
        analyser: str,
        segments: Iterable[DutySegment],
        device_rosters: dict[str, int],
        night: tuple[str, str],
        batch: int = 25_000,
    ) -> None:
        """Label every message (live and recovered, in id order, one transaction per ``batch``
        messages) with ``status`` (the status
        of the segment of its roster holding its UTC minute; roster 0 unless its device has
        one in ``device_rosters``; ``unknown`` undated or where no segment is) and ``night``
        (its local wall time in the ``night`` window, "HH:MM:SS" start and end; ``null``
        undated), as ``add_labels`` would write them: JSON text values."""
        self.index()
        c = self.conn
        night_sql, params = _night_sql(*night)
        by_roster: dict[int, list[tuple[str, str]]] = {}
        for seg in segments:
            by_roster.setdefault(seg.roster, []).append((seg.start, seg.status))
        trees = {roster: _status_case(sorted(found)) for roster, found in by_roster.items()}
        unknown = _sql_text('"unknown"')
        status = "".join(
            f" WHEN m.device = {_sql_text(device)} THEN {trees.get(roster, unknown)}"
            for device, roster in sorted(device_rosters.items())
        )
        status = (
            f"CASE{status} ELSE {trees.get(0, unknown)} END" if status else trees.get(0, unknown)
        )
        # One label after the other, each in id order: its rows go in as appends to its part
        # of the (analyser, label, message id) key. Both labels of a message written together
        # cost a sort and an insert out of key order per row (1.3 s at 300,000 messages).
        labels = (
            (
                "night",
                f"CASE WHEN m.timestamp_utc IS NULL THEN 'null'"
                f" WHEN {night_sql} THEN 'true' ELSE 'false' END",
                params,
            ),
            ("status", f"CASE WHEN m.timestamp_utc IS NULL THEN {unknown} ELSE {status} END", ()),
        )
        for label, value, value_params in labels:
            low = 0
            while True:
                bound = c.execute(
                    "SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?",
                    (low, batch - 1),
                ).fetchone()
                high = bound[0] if bound else None
                # Two plain bounds, so that SQLite reads just this batch's range of ids.
                with c:
                    c.execute(
                        "INSERT OR REPLACE INTO message_labels (analyser, label, message_id, value)"
                        f" SELECT ?, ?, m.id, {value} FROM messages m"
                        " WHERE m.id > ? AND m.id <= ? ORDER BY m.id",
                        (analyser, label, *value_params, low, 2**63 - 1 if high is None else high),
                    )
                if high is None:
                    break
                low = high

    def duty_status_counts(
        self, analyser: str, segments: Iterable[DutySegment], device_rosters: dict[str, int]
    ) -> dict[str, int]:
        """How many counted messages carry each ``status`` label of ``analyser``, as
        :meth:`write_duty_labels` wrote them from ``segments`` and ``device_rosters``.

        With the one roster (no device has its own), counted by time from the segments as the
        labels' ``CASE`` places a message: undated or before the first segment ``unknown``,
        else the status of the last segment starting at or before its UTC text; each
        segment's messages read off the time index. Read from the labels, the messages are
        joined and their labels sorted by value: 0.26 s of CPU at 300,000 messages, against
        about half by time."""
        found = sorted((seg.start, seg.status) for seg in segments)
        if device_rosters or any(seg.roster != 0 for seg in segments):
            return {
                loads(value): n
                for value, n in self.conn.execute(
                    "SELECT l.value, COUNT(*) FROM message_labels l"
                    " JOIN messages m ON m.id = l.message_id"
                    f" WHERE l.analyser = ? AND l.label = 'status' AND {_COUNTED}"
                    " GROUP BY l.value",
                    (analyser,),
                )
            }
        bounds = [start for start, _ in found]
        # (from, until, status): None where the range is open.
        ranges = [
            (start, until, status)
            for (start, status), until in zip(
                [(None, "unknown"), *found], [*bounds, None], strict=True
            )
        ]
        counts: Counter[str] = Counter()
        counts["unknown"] += self.conn.execute(
            f"SELECT COUNT(*) FROM messages m WHERE m.timestamp_utc IS NULL AND {_COUNTED}"
        ).fetchone()[0]
        for start, until, status in ranges:
            where = ["m.timestamp_utc IS NOT NULL"]
            where += [] if start is None else ["m.timestamp_utc >= ?"]
            where += [] if until is None else ["m.timestamp_utc < ?"]
            params = tuple(bound for bound in (start, until) if bound is not None)
            counts[status] += self.conn.execute(
                f"SELECT COUNT(*) FROM messages m WHERE {' AND '.join(where)} AND {_COUNTED}",
                params,
            ).fetchone()[0]
        return {status: n for status, n in sorted(counts.items()) if n}

    def duty_labels_of(self, analyser: str, ids: Iterable[int]) -> dict[int, DutyLabel]:
        """message id -> its ``status`` and ``night`` labels of ``analyser`` and whether it is
        counted, for the ``ids`` given."""
        wanted = sorted(set(ids))
        out: dict[int, DutyLabel] = {}
        for chunk, marks in in_chunks(wanted):
            for mid, status, night, counted in self.conn.execute(
                "SELECT m.id, s.value, n.value, " + _COUNTED + " FROM messages m"
                " JOIN message_labels s ON s.analyser = ? AND s.label = 'status'"
                " AND s.message_id = m.id"
                " JOIN message_labels n ON n.analyser = ? AND n.label = 'night'"
                " AND n.message_id = m.id"
                f" WHERE m.id IN ({marks})",
                (analyser, analyser, *chunk),
            ):
                out[mid] = DutyLabel(loads(status), loads(night), bool(counted))
        return out

    # -- id gaps ---------------------------------------------------------------------------------
    def gap_rows(self, time_order: bool = False) -> Iterator[GapRow]:
        """Every live message as a :class:`GapRow`, in store id order or, with ``time_order``,
        in time order (undated last, then store id)."""
        order = "m.timestamp_utc IS NULL, m.timestamp_utc, m.id" if time_order else "m.id"
        return self._gap_rows(f"WHERE {LIVE}", (), order)

    def gap_rows_of(self, ids: Iterable[int]) -> dict[int, GapRow]:
        """message id -> :class:`GapRow` of the live messages of ``ids``."""
        wanted = sorted(set(ids))
        out: dict[int, GapRow] = {}
        for chunk, marks in in_chunks(wanted):
            where = f"WHERE {LIVE} AND m.id IN ({marks})"
            out.update((r.id, r) for r in self._gap_rows(where, tuple(chunk), "m.id"))
        return out

    def deleted_gap_rows(self) -> list[GapRow]:
        """The live messages marked deleted or unsent, as :class:`GapRow`, in time order."""
        order = "m.timestamp_utc IS NULL, m.timestamp_utc, m.id"
        return list(self._gap_rows(f"WHERE {LIVE} AND m.deleted", (), order))

    def _gap_rows(self, where: str, params: tuple, order: str) -> Iterator[GapRow]:
        self.index()
        files = self._files
        sql = (
            "SELECT m.id, c.key, m.platform, m.timestamp_utc, m.direction, m.kind, m.deleted,"
            " m.status_update, m.record_id, m.order_key, m.id_space, m.file_id, m.locator"
            f" FROM messages m JOIN conversations c ON c.id = m.conversation_id {where}"
            f" ORDER BY {order}"
        )
        parse = dt.datetime.fromisoformat
        # A phone's rows share a few chats, platforms, directions, kinds and id spaces.
        pool: dict[str, str] = {}
        shared = pool.setdefault
        for row in self.conn.execute(sql, params):
            (mid, conv, platform, ts, direction, kind, deleted, status, record_id, order_key,
             id_space, file_id, locator) = row  # fmt: skip
            yield GapRow(
                mid,
                shared(conv, conv),
                shared(platform, platform),
                ts,
                parse(ts) if ts else None,
                shared(direction, direction),
                shared(kind, kind),
                bool(deleted),
                bool(status),
                record_id,
                order_key,
                None if id_space is None else shared(id_space, id_space),
                files[file_id][0],
                locator,
            )

    # The id-gap scan as SQL: each live message with a record id is placed in the id space of
    # its (file, table) in a temporary table keyed by (space, record id), so holes, neighbours
    # and order-key runs are found by SQLite; only gaps and the rows around them come back.
    def place_gap_rows(self, spaces: list[tuple[str, str]]) -> None:
        """Place every live message with a record id in the first of ``spaces`` (file, table;
        space n is the n-th) naming its file and id space. A record id met twice in one space
        is the message first in time order (undated last, then store id)."""
        self.index()
        c = self.conn
        c.execute("DROP TABLE IF EXISTS temp.gap_spaces")
        c.execute("DROP TABLE IF EXISTS temp.gap_placed")
        # A space by the store's ids of the files of its name (one per hash and format), so
        # that a message is placed by its own file id, not by joining its file's row for the
        # name: the placing insert at 100,000 messages 547 M -> 502 M instructions.
        c.execute(
            "CREATE TEMP TABLE gap_spaces (n INTEGER, file_id INTEGER, tbl TEXT,"
            " PRIMARY KEY (file_id, tbl)) WITHOUT ROWID"
        )
        c.execute(
            "CREATE TEMP TABLE gap_placed (space INTEGER, record_id INTEGER, message_id INTEGER,"
            " order_key INTEGER, conversation_id INTEGER, status_update INTEGER,"
            " PRIMARY KEY (space, record_id)) WITHOUT ROWID"
        )
        with c:
            c.executemany(
                "INSERT OR IGNORE INTO gap_spaces SELECT ?, id, ? FROM provenance_files"
                " WHERE file = ?",
                [(n, table, file) for n, (file, table) in enumerate(spaces)],
            )
        select = (
            " INTO gap_placed SELECT s.n, m.record_id, m.id, m.order_key,"
            " m.conversation_id, m.status_update FROM messages m"
            " JOIN gap_spaces s ON s.file_id = m.file_id AND s.tbl = m.id_space"
            f" WHERE {LIVE} AND m.record_id IS NOT NULL ORDER BY "
        )
        # A record id met twice in a space fails the insert (none of its rows stays): the
        # messages are then placed again in time order, so that the first in time stays. Told
        # by the failure, not by counting the messages that could be placed (a second pass
        # over them: 0.13 s of CPU at 300,000 messages).
        try:
            with c:
                c.execute("INSERT" + select + "m.id")
        except sqlite3.IntegrityError:
            with c:
                c.execute(
                    "INSERT OR IGNORE" + select + "m.timestamp_utc IS NULL, m.timestamp_utc, m.id"
                )

    def gap_space_counts(self) -> dict[int, int]:
        """space -> how many messages are placed in it."""
        return dict(self.conn.execute("SELECT space, COUNT(*) FROM gap_placed GROUP BY space"))

    def gap_message_at(self, space: int, record_id: int) -> int | None:
        """The message placed at ``record_id`` in ``space``."""
        row = self.conn.execute(
            "SELECT message_id FROM gap_placed WHERE space = ? AND record_id = ?",
            (space, record_id),
        ).fetchone()
        return row[0] if row else None

    def gap_neighbours(self, space: int, below: int, above: int) -> tuple[int | None, int | None]:
        """The messages placed at the greatest record id up to ``below`` and at the least from
        ``above`` in ``space``."""
        before = self.conn.execute(
            "SELECT message_id FROM gap_placed WHERE space = ? AND record_id <= ?"
            " ORDER BY record_id DESC LIMIT 1",
            (space, below),
        ).fetchone()
        after = self.conn.execute(
            "SELECT message_id FROM gap_placed WHERE space = ? AND record_id >= ?"
            " ORDER BY record_id LIMIT 1",
            (space, above),
        ).fetchone()
        return (before[0] if before else None, after[0] if after else None)

    def gap_order_mode(self, space: int) -> str | None:
        """``None`` when no message placed in ``space`` has an order key; ``mirror`` when every
        order key equals its record id; ``per-chat`` when one order key is used in two
        conversations; else ``shared``."""
        c = self.conn
        keyed = "FROM gap_placed WHERE space = ? AND order_key IS NOT NULL"
        if not c.execute(f"SELECT 1 {keyed} LIMIT 1", (space,)).fetchone():
            return None
        if not c.execute(
            f"SELECT 1 {keyed} AND order_key <> record_id LIMIT 1", (space,)
        ).fetchone():
            return "mirror"
        if c.execute(
            f"SELECT 1 {keyed} GROUP BY order_key HAVING COUNT(DISTINCT conversation_id) > 1"
            " LIMIT 1",
            (space,),
        ).fetchone():
            return "per-chat"
        return "shared"

    def gap_order_steps(self, space: int) -> list[tuple[str, int, int, int, int]]:
        """(conversation key, message before, message after, their order keys) of every step
        of more than one between two messages next to each other in a conversation's order
        (order key, then store id; Status updates left out) in ``space``, by conversation key
        and order."""
        return self.conn.execute(
            """
            SELECT c.key, a, b, ka, kb FROM (
              SELECT conversation_id AS conv, message_id AS b, order_key AS kb,
                LAG(message_id) OVER w AS a, LAG(order_key) OVER w AS ka
              FROM gap_placed WHERE space = ? AND order_key IS NOT NULL AND NOT status_update
              WINDOW w AS (PARTITION BY conversation_id ORDER BY order_key, message_id)
            ) JOIN conversations c ON c.id = conv
            WHERE ka IS NOT NULL AND kb > ka + 1 ORDER BY c.key, ka, a
            """,
            (space,),
        ).fetchall()

    def gap_unused_order_keys(self, space: int) -> list[tuple[int, int]]:
        """(first, last) of each run of order-key values between the least and the greatest
        that no message placed in ``space`` uses, in order."""
        return self.conn.execute(
            """
            SELECT prev + 1, k - 1 FROM (
              SELECT order_key AS k, LAG(order_key) OVER (ORDER BY order_key) AS prev
              FROM (SELECT DISTINCT order_key FROM gap_placed
                WHERE space = ? AND order_key IS NOT NULL)
            ) WHERE prev IS NOT NULL AND k > prev + 1 ORDER BY k
            """,
            (space,),
        ).fetchall()

    def gap_conversation_counts(self, keys: Iterable[str]) -> dict[str, int]:
        """conversation key -> how many of its messages are placed in an id space, for the
        conversations of ``keys`` with any (those a rate is worked out for: counting every
        conversation's sorted 300,000 placed rows by key, 0.13 s of CPU)."""
        out: dict[str, int] = {}
        for chunk, marks in in_chunks(sorted(set(keys))):
            out.update(
                self.conn.execute(
                    "SELECT c.key, p.n FROM (SELECT conversation_id, COUNT(*) AS n"
                    " FROM gap_placed WHERE conversation_id IN"
                    f" (SELECT id FROM conversations WHERE key IN ({marks}))"
                    " GROUP BY conversation_id) p JOIN conversations c ON c.id = p.conversation_id",
                    chunk,
                )
            )
        return out

    def gap_placed_of(self, ids: Iterable[int]) -> dict[int, tuple[str, str | None, bool]]:
        """message id -> (conversation key, UTC text, whether it is placed) of the live
        messages of ``ids``."""
        wanted = sorted(set(ids))
        out: dict[int, tuple[str, str | None, bool]] = {}
        for chunk, marks in in_chunks(wanted):
            for mid, conv, ts, placed in self.conn.execute(
                "SELECT m.id, c.key, m.timestamp_utc, p.message_id IS NOT NULL FROM messages m"
                " JOIN conversations c ON c.id = m.conversation_id"
                " LEFT JOIN gap_spaces s ON s.file_id = m.file_id AND s.tbl = m.id_space"
                " LEFT JOIN gap_placed p ON p.space = s.n AND p.record_id = m.record_id"
                " AND p.message_id = m.id"
                f" WHERE {LIVE} AND m.id IN ({marks})",
                chunk,
            ):
                out[mid] = (conv, ts, bool(placed))
        return out
