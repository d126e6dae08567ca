"""The search index of the whole case, written beside the pages for ``search.html``.

The report opens from the file system under a Content-Security-Policy that allows script only
from the report's own files, so the index is not data fetched at run time (a browser refuses
``fetch`` of ``file://``) but script files: ``search/index.js`` (the tables every part shares:
contacts, platforms, duty statuses, conversations, parties, the case timezone's UTC offsets) and
``search/part-NNNN.js``, each a column-wise block of up to :data:`PART_SIZE` messages in time
order. ``assets/search.js`` loads the parts one after the other and searches each as it arrives,
so the first results show before the whole index is read.

The index is a view of the case store as the writer reads it (every message of every
conversation page, recovered rows marked), with the labels the analysers wrote (case contact,
duty status, night): nothing is computed here that a page does not show. Bodies are kept as the
source has them; ``search.js`` writes them into the page as text, never as markup.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson

from triage.model import Party
from triage.roster import OUTSIDE_DUTY
from triage.store import PageMessage

if TYPE_CHECKING:
    from triage.report.writer import Report

FOLDER = "search"
PART_SIZE = 10_000
# Flag bits of each message (``f`` in a part); search.js reads the same values.
DELETED, RECOVERED, EDITED, OUTGOING, INCOMING, NIGHT, ATTACHMENTS = (1, 2, 4, 8, 16, 32, 64)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DIRECTION_FLAGS = {"outgoing": OUTGOING, "incoming": INCOMING}
#: The tables the rows refer to by code, and where each row holds its code.
TABLES = ("platforms", "statuses", "conversations", "parties")
_CODE_AT = {"platforms": 6, "statuses": 7, "conversations": 9, "parties": 4}
_MERGE_BLOCK = 50_000
#: The rows in time order: undated last, then by second, then by id (the rows' first three
#: items; no two rows share an id) is three stable sorts, by id, by second and by undated, each by
#: one int. Sorting the rows themselves gives the same order, but each comparison of two tuples
#: goes item by item through Python's generic comparison: at 300,000 rows 0.37 G instructions
#: more, a fifth of writing the index, with only the report's process left running.
_TIME_ORDER = (operator.itemgetter(2), operator.itemgetter(1), operator.itemgetter(0))
#: A stored time's seconds ("00"-"60") as a number: a lookup costs a fifth of ``int()``.
_SECONDS = {f"{n:02d}": n for n in range(61)}


class Part(NamedTuple):
    """The rows one process collected for the conversations it wrote, with its own codes: the
    values of each table in code order, and after each conversation (by its position in the
    report's list) how long each table was."""

    rows: list[tuple[Any, ...]]
    tables: dict[str, list[Any]]
    marks: list[tuple[int, tuple[int, ...]]]


def merged(parts: list[Part]) -> tuple[list[tuple[Any, ...]], dict[str, dict[Any, int]]]:
    """The rows of every part with the codes one pass over every conversation in order would
    have given, and those tables.

    A code is given to a value where it is first met. A part's conversations were written in
    order, so the values first met in one of them are a run of its codes (from the table's
    length after its conversation before to the length after it) and in the order met: taking
    each conversation's run in the order of the conversations, whichever part wrote it, gives
    each value the code of one pass."""
    if len(parts) == 1:
        only = parts[0]
        return only.rows, {t: {v: n for n, v in enumerate(only.tables[t])} for t in TABLES}
    tables: dict[str, dict[Any, int]] = {t: {} for t in TABLES}
    codes: list[dict[str, list[int]]] = [{t: [] for t in TABLES} for _ in parts]
    runs = sorted((position, n, sizes) for n, p in enumerate(parts) for position, sizes in p.marks)
    for _, n, sizes in runs:
        part = parts[n]
        for t, size in zip(TABLES, sizes, strict=True):
            table, own = tables[t], codes[n][t]
            for value in part.tables[t][len(own) : size]:
                own.append(table.setdefault(value, len(table)))
    rows: list[tuple[Any, ...]] = []
    for part, own in zip(parts, codes, strict=True):
        # -1 (no status) stays -1: the last item of each list is what index -1 reads. A table
        # whose codes the part gave as one pass gives them (its few platforms and statuses, as
        # a rule) keeps its column as it is.
        new = {t: [*own[t], -1] for t in TABLES if own[t] != list(range(len(own[t])))}
        # A block at a time, each taken off the part's rows: the rows are never held twice
        # (at 1,000,000 messages, about 150 MB).
        while part.rows:
            columns: list[Any] = list(zip(*part.rows[:_MERGE_BLOCK], strict=True))
            del part.rows[:_MERGE_BLOCK]
            for t, codes_of in new.items():
                columns[_CODE_AT[t]] = list(map(codes_of.__getitem__, columns[_CODE_AT[t]]))
            rows.extend(zip(*columns, strict=True))
    return rows, tables


class SearchIndex:
    """Collects one compact row per message while the conversation pages are written, then
    writes the index in time order."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.rows: list[tuple[Any, ...]] = []
        self.tables: dict[str, dict[Any, int]] = {
            "platforms": {},
            "statuses": {},
            "conversations": {},
            "parties": {},
        }
        self.contacts = {c.key: i for i, c in enumerate(report.case.contacts)}
        self._who_codes: dict[tuple[Any, ...], int] = {}
        self._by_shared: dict[int, tuple[int, int, int]] = {}
        self._labelled: list[tuple[int, int, int] | None] = [None] * len(report.marks.kinds)
        self._kept: list[Any] = []
        self._minutes: dict[str, int] = {}
        self.marks: list[tuple[int, tuple[int, ...]]] = []

    def end_conversation(self, position: int) -> None:
        """Note the end of the conversation at ``position`` in the report's list."""
        self.marks.append((position, tuple(len(self.tables[t]) for t in TABLES)))

    def part(self) -> Part:
        return Part(self.rows, {t: list(self.tables[t]) for t in TABLES}, self.marks)

    def _code(self, table: str, value: Any) -> int:
        codes = self.tables[table]
        found = codes.get(value)
        if found is None:
            found = codes[value] = len(codes)
        return found

    def add(self, chunk: list[PageMessage], base: str, page: int) -> None:
        """The messages of one conversation page (``base`` its slug, ``page`` its number)."""
        if not chunk:
            return
        r = self.report
        by_shared = self._by_shared
        marks, marks_end = r.marks.codes, r.marks.end
        labelled = self._labelled
        minutes = self._minutes
        seconds_of = _SECONDS
        append = self.rows.append
        # A page is one conversation's.
        conversation = chunk[0].conversation.id
        conversation_code = self._code("conversations", (base, r.conversation_title(conversation)))
        # Each message unpacked once: a named tuple's field by name is a generic attribute
        # lookup, about as costly as this whole unpacking for two fields.
        for (mid, utc, _, body, _, attachments, recovered, _, _, _, _, _, _, _, _, _, _, _, _,
             shared) in chunk:  # fmt: skip
            # What it shares with other messages (who wrote to whom, platform, direction,
            # deleted, edited) coded once per combination, found by the shared values' identity.
            found = by_shared.get(id(shared))
            if found is None:
                found = self._shared(shared)
            who_code, platform_code, flags = found
            if recovered:
                flags |= RECOVERED
            # The codes of its labels (duty status, night, case contact): once per combination.
            mark = marks[mid] if mid < marks_end else 0
            status_code, night, contact = labelled[mark] or self._labels(mark)
            flags |= night
            if attachments:
                flags |= ATTACHMENTS
            if utc is None:
                second = 0
            else:
                minute = minutes.get(utc[:16])
                within = seconds_of.get(utc[17:19])
                # Before 1970 (below zero) a fraction counts: _seconds says how.
                second = -1 if minute is None or within is None else minute + within
                if second < 0:
                    second = self._seconds(utc)
            if not body:
                body = ", ".join(a.name or "attachment" for a in attachments) if attachments else ""
            append(
                (
                    utc is None,
                    second,
                    mid,
                    body,
                    who_code,
                    contact,
                    platform_code,
                    status_code,
                    flags,
                    conversation_code,
                    page,
                )
            )

    def _shared(self, shared: tuple[Any, ...]) -> tuple[int, int, int]:
        """(who wrote to whom, platform, flags) of the values messages share (the shared values
        of a :class:`PageMessage`, kept alive by the cache so that their identity stays theirs):
        each coded where first met, as every table's values are."""
        _, platform, direction, _, deleted, edited, _, _, _, sender, recipients, _ = shared
        # Parties and recipient lists are shared objects in a read: who wrote to whom is worded
        # once per sender, recipients and direction.
        key = (direction, id(sender), id(recipients))
        who_code = self._who_codes.get(key)
        if who_code is None:
            who_code = self._who_codes[key] = self._who(direction, sender, recipients)
        platform_code = self._code("platforms", platform)
        flags = _DIRECTION_FLAGS.get(direction, 0)
        if deleted:
            flags |= DELETED
        if edited:
            flags |= EDITED
        found = self._by_shared[id(shared)] = (who_code, platform_code, flags)
        self._kept.append(shared)
        return found

    def _labels(self, mark: int) -> tuple[int, int, int]:
        """(status code, night flag, case contact) of a combination of labels (its duty status
        coded where first met, as every table's values are)."""
        status, night, contact = self.report.marks.kinds[mark]
        found = self._labelled[mark] = (
            self._code("statuses", status) if status else -1,
            NIGHT if night else 0,
            self.contacts.get(contact, -1),
        )
        return found

    def _who(self, direction: str, sender: Party | None, recipients: tuple[Party, ...]) -> int:
        """The code of who wrote to whom, as the index shows it."""
        r = self.report
        name = r._party_texts(sender)[0]
        to = ", ".join(r._party_texts(p)[0] for p in recipients)
        self._kept.append((sender, recipients))
        return self._code("parties", f"{name} to {to}" if direction == "outgoing" and to else name)

    def _seconds(self, utc: str) -> int:
        """Whole seconds since 1970 of a stored UTC text (``int`` of the exact time, so towards
        zero), from the minute's seconds kept once per minute."""
        minute = self._minutes.get(utc[:16])
        if minute is None:
            when = dt.datetime.fromisoformat(utc[:16] + ":00+00:00")
            minute = self._minutes[utc[:16]] = int((when - _EPOCH).total_seconds())
        second = minute + int(utc[17:19])
        # A fraction (".mmm") moves a time before 1970 one second towards zero.
        if second < 0 and len(utc) > 20 and int(utc[20:-1] or 0):
            second += 1
        return second

    def write(self, out: Path, others: list[Part] | None = None) -> int:
        """Write ``search/index.js`` and the parts, of these rows and the ``others`` written
        elsewhere; returns the number of parts."""
        rows, tables = merged([self.part(), *(others or [])])
        folder = out / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*.js"):
            old.unlink()
        for key in _TIME_ORDER:
            rows.sort(key=key)
        parts = 0
        for start in range(0, len(rows), PART_SIZE):
            block = rows[start : start + PART_SIZE]
            undated, seconds, ids, bodies, who, contact, platform, status, flags, conv, page = zip(
                *block, strict=True
            )
            # The dated rows come first. Each part's first time is whole, then deltas from the
            # previous one (the times are sorted, so these are small); undated rows have none.
            dated = bisect.bisect_left(undated, True)
            times: list[int | None] = list(seconds[: min(dated, 1)])
            times.extend(map(operator.sub, seconds[1:dated], seconds[: max(dated - 1, 0)]))
            times.extend([None] * (len(block) - dated))
            data = {
                "t": times,
                "i": ids,
                "b": bodies,
                "w": who,
                "c": contact,
                "p": platform,
                "s": status,
                "f": flags,
                "k": conv,
                "g": page,
            }
            parts += 1
            _script(folder / f"part-{parts:04d}.js", f"TriageSearch.part({parts}, ", data)
        end = len(rows)
        while end and rows[end - 1][0]:
            end -= 1
        zone = self.report.case.timezone
        meta = {
            "parts": parts,
            "total": len(rows),
            "timezone": self.report.case.timezone,
            "offsets": offsets(zone, rows[0][1], rows[end - 1][1]) if end else [],
            "contacts": [c.name for c in self.report.case.contacts],
            "platforms": list(tables["platforms"]),
            "statuses": list(tables["statuses"]),
            "outside": [s for s in tables["statuses"] if s in OUTSIDE_DUTY],
            "conversations": [list(k) for k in tables["conversations"]],
            "parties": list(tables["parties"]),
            "flags": {
                "deleted": DELETED,
                "recovered": RECOVERED,
                "edited": EDITED,
                "outgoing": OUTGOING,
                "incoming": INCOMING,
                "night": NIGHT,
                "attachments": ATTACHMENTS,
            },
        }
        _script(folder / "index.js", "TriageSearch.meta(", meta)
        self.rows = []
        return parts


def _script(path: Path, call: str, data: dict[str, Any]) -> None:
    """A script file that hands ``data`` to search.js. JSON is valid JavaScript; orjson writes
    every string escaped, so no body can end the call."""
    with open(path, "wb") as script:
        # Written in three pieces, not joined first: a part is about 0.5 MB.
        script.writelines((call.encode(), orjson.dumps(data), b");\n"))


def offsets(timezone: str, first: int, last: int) -> list[list[Any]]:
    """The case timezone's UTC offsets over the messages' span: [[from UTC second, offset
    minutes, abbreviation], ...], so search.js shows and filters local times as the pages do
    without depending on the reader's machine."""
    zone = ZoneInfo(timezone)

    def at(second: int) -> tuple[int, str]:
        local = dt.datetime.fromtimestamp(second, dt.UTC).astimezone(zone)
        offset = local.utcoffset() or dt.timedelta(0)
        return int(offset.total_seconds() // 60), local.tzname() or ""

    start = first - 2 * 86400
    out: list[list[Any]] = [[start, *at(start)]]
    step = 86400
    second = start
    while second < last + 2 * 86400:
        following = second + step
        if at(following) != at(second):
            low, high = second, following
            while high - low > 1:
                middle = (low + high) // 2
                if at(middle) == at(low):
                    low = middle
                else:
                    high = middle
            out.append([high, *at(high)])
        second = following
    return out
