"""The calls aggregate: every call of every network, with its parties and provenance.

Calls are numbered apart from messages (a call id is never a message id). Parties and provenance
files are shared with the messages aggregate (``parties``, ``provenance_files``): a call's
counterpart is the same party row as the sender of her messages, so one party id finds both.
Scalar call fields map to columns by :mod:`triage.store.codec`, as message fields do; each row
also holds ``ts_local`` (wall time in the case zone) so hours and nights are counted in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from triage.call_copies import RULE, CallFacts, same_calls
from triage.model import Call, Party, Provenance
from triage.store.chunks import in_chunks
from triage.store.codec import CALL_SCALAR_NAMES, CALL_SCALARS, dumps, loads

_SCALAR_COLUMNS = ",\n  ".join(f"{name} {sql_type}" for name, sql_type, *_ in CALL_SCALARS)

SCHEMA = f"""
CREATE TABLE calls (
  id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, counterpart_party INTEGER,
  file_id INTEGER, locator TEXT, extra TEXT, ts_local TEXT,
  {_SCALAR_COLUMNS});
CREATE INDEX calls_ts ON calls (timestamp_utc, id);
CREATE INDEX calls_counterpart ON calls (counterpart_party);
CREATE TABLE call_participants (
  call_id INTEGER, position INTEGER, party_id INTEGER,
  PRIMARY KEY (call_id, position)) WITHOUT ROWID;
CREATE INDEX call_participants_party ON call_participants (party_id);
CREATE TABLE call_duplicates (
  id INTEGER PRIMARY KEY, duplicate_key TEXT, kept_call_id INTEGER, source_id INTEGER,
  file_id INTEGER, locator TEXT);
"""

_ENCODERS = [(name, encode) for name, _, encode, _ in CALL_SCALARS]
_DECODERS = [decode for *_, decode in CALL_SCALARS]
_COLUMNS = "id, source_id, counterpart_party, file_id, locator, extra, ts_local, " + ", ".join(
    CALL_SCALAR_NAMES
)
_INSERT = f"INSERT INTO calls ({_COLUMNS}) VALUES ({','.join('?' * (7 + len(CALL_SCALAR_NAMES)))})"
_SELECT = (
    "SELECT c.id, c.source_id, c.counterpart_party, c.file_id, c.locator, c.extra, "
    + ", ".join(f"c.{n}" for n in CALL_SCALAR_NAMES)
    + ", (SELECT group_concat(party_id) FROM"
    " (SELECT party_id FROM call_participants p WHERE p.call_id = c.id ORDER BY position))"
    + " FROM calls c"
)
TIME_ORDER = "c.timestamp_utc IS NULL, c.timestamp_utc, c.id"


@dataclass
class StoredCall:
    """A call read back from the store, with its store id (calls are numbered apart from
    messages) and the party id of its counterpart."""

    id: int
    source_id: int
    call: Call
    counterpart_party: int | None = None
    participant_parties: tuple[int, ...] = ()
    # Other records of the same call not counted again: (file, sha256, locator) each.
    copies: tuple[tuple[str, str, str], ...] = ()

    @property
    def party_ids(self) -> tuple[int, ...]:
        """Party ids of everyone else on the call: the counterpart first."""
        first = () if self.counterpart_party is None else (self.counterpart_party,)
        return first + self.participant_parties


class CallsAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn`` and the messages aggregate's
    party and file ids (``_party_id``, ``_file_id``, ``_parties``, ``_files``, ``_local``)."""

    SCHEMA = SCHEMA
    conn: Any
    _party_id: Callable[[Party, list[tuple]], int]
    _file_id: Callable[[Provenance, list[tuple]], int]
    _local: Callable[[dt.datetime | None], str | None]
    _parties: dict[int, Party]
    _files: dict[int, tuple[str, str, str]]

    def _init_calls(self) -> None:
        self._next_call = (
            1 + self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
        )
        self._seen_call_keys: dict[str, int] = {}

    # -- writing (called from the messages aggregate's batch, inside its transaction) -----------
    def _collect_call(
        self,
        source_id: int,
        call: Call,
        party_rows: list[tuple],
        file_rows: list[tuple],
        out: dict[str, list[tuple]],
    ) -> None:
        """Turn one call into rows of ``calls``/``call_participants`` (or ``call_duplicates``
        when a call with its ``duplicate_key`` is already stored), appended to ``out``."""
        key = call.duplicate_key
        file_id = self._file_id(call.source, file_rows)
        if key is not None and key in self._seen_call_keys:
            out["call_duplicates"].append(
                (key, self._seen_call_keys[key], source_id, file_id, call.source.locator)
            )
            return
        cid = self._next_call
        self._next_call += 1
        if key is not None:
            self._seen_call_keys[key] = cid
        counterpart = call.counterpart
        out["calls"].append(
            (
                cid,
                source_id,
                None if counterpart is None else self._party_id(counterpart, party_rows),
                file_id,
                call.source.locator,
                dumps(call.extra) if call.extra else None,
                self._local(call.timestamp_utc),
                *[encode(getattr(call, name)) for name, encode in _ENCODERS],
            )
        )
        out["call_participants"].extend(
            (cid, n, self._party_id(p, party_rows)) for n, p in enumerate(call.participants)
        )

    def _call_rows(self, out: dict[str, list[tuple]]) -> list[tuple[str, list[tuple]]]:
        """(statement, rows) of one ingest batch's calls, inserted after its parties."""
        return [
            (_INSERT, out["calls"]),
            ("INSERT INTO call_participants VALUES (?,?,?)", out["call_participants"]),
            (
                "INSERT INTO call_duplicates (duplicate_key, kept_call_id, source_id, file_id,"
                " locator) VALUES (?,?,?,?,?)",
                out["call_duplicates"],
            ),
        ]

    # -- reading ---------------------------------------------------------------------------------
    def calls(self, where: str = "", params: tuple = ()) -> Iterator[StoredCall]:
        """Every call (or those ``where`` selects over ``calls c``) in time order."""
        parties = self._parties
        files = self._files
        n = len(_DECODERS)
        copies: dict[int, list[tuple[str, str, str]]] = {}
        for kept, file_id, locator in self.conn.execute(
            "SELECT kept_call_id, file_id, locator FROM call_duplicates ORDER BY id"
        ):
            copies.setdefault(kept, []).append((files[file_id][0], files[file_id][1], locator))
        for row in self.conn.execute(f"{_SELECT} {where} ORDER BY {TIME_ORDER}", params):
            cid, source_id, counterpart, file_id, locator, extra = row[:6]
            values = row[6 : 6 + n]
            members = tuple(int(p) for p in row[6 + n].split(",")) if row[6 + n] else ()
            fields = {
                name: decode(v)
                for name, decode, v in zip(CALL_SCALAR_NAMES, _DECODERS, values, strict=True)
            }
            call = Call(
                counterpart=None if counterpart is None else parties[counterpart],
                participants=[parties[p] for p in members],
                source=Provenance(*files[file_id], locator),
                extra=loads(extra) if extra else {},
                **fields,
            )
            yield StoredCall(cid, source_id, call, counterpart, members, tuple(copies.get(cid, ())))

    def calls_by_ids(self, ids: Iterable[int]) -> list[StoredCall]:
        """The calls with these store ids, in time order."""
        wanted = sorted(set(ids))
        out: list[StoredCall] = []
        for chunk, marks in in_chunks(wanted):
            out.extend(self.calls(f"WHERE c.id IN ({marks})", tuple(chunk)))
        out.sort(key=lambda s: (s.call.timestamp_utc is None, s.call.timestamp_utc or 0, s.id))
        return out

    def calls_in_conversation(self, key: str) -> Iterator[StoredCall]:
        return self.calls("WHERE c.conversation_id = ?", (key,))

    def party_calls(self, party_ids: Iterable[int]) -> list[tuple[int, int]]:
        """(call id, party id) for every call that has one of ``party_ids`` as its counterpart
        or as a participant, in call-id order (counterpart first within a call)."""
        ids = sorted(set(party_ids))
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return self.conn.execute(
            f"SELECT id, counterpart_party FROM calls WHERE counterpart_party IN ({marks})"
            " UNION ALL SELECT call_id, party_id FROM call_participants"
            f" WHERE party_id IN ({marks}) ORDER BY 1",
            (*ids, *ids),
        ).fetchall()

    def call_time_span(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The first and last UTC times of all dated calls."""
        first, last = self.conn.execute(
            "SELECT MIN(timestamp_utc), MAX(timestamp_utc) FROM calls"
        ).fetchone()
        parse = dt.datetime.fromisoformat
        return (parse(first) if first else None, parse(last) if last else None)

    def call_counts_by_source(self) -> dict[int, int]:
        """source id -> calls stored from it (duplicates not counted)."""
        return dict(
            self.conn.execute("SELECT source_id, COUNT(*) FROM calls GROUP BY source_id ORDER BY 1")
        )

    def merge_call_copies(self) -> int:
        """Apply :mod:`triage.call_copies` to the stored WhatsApp calls: each copy of a call
        seen twice on one device moves to ``call_duplicates`` (with the rule as its key) under
        the call kept. Returns how many copies were moved."""
        facts = [
            CallFacts(
                cid,
                source_id,
                device,
                counterpart,
                direction,
                dt.datetime.fromisoformat(when),
                sum(v is not None for v in (duration, video, conversation)) + (result != "unknown"),
            )
            for cid, source_id, device, counterpart, direction, when, duration, video, conversation, result in self.conn.execute(
                "SELECT c.id, c.source_id, s.device,"
                " p.scheme || ':' || COALESCE(p.pid, 'raw:' || p.raw), c.direction,"
                " c.timestamp_utc, c.duration_s, c.video, c.conversation_id, c.result"
                " FROM calls c JOIN sources s ON s.id = c.source_id"
                " JOIN parties p ON p.id = c.counterpart_party"
                " WHERE c.network = 'whatsapp' AND c.timestamp_utc IS NOT NULL ORDER BY c.id"
            )
        ]
        moved = 0
        with self.conn:
            for kept, copies in same_calls(facts):
                marks = ",".join("?" * len(copies))
                self.conn.execute(
                    "INSERT INTO call_duplicates (duplicate_key, kept_call_id, source_id, file_id,"
                    f" locator) SELECT ?, ?, source_id, file_id, locator FROM calls WHERE id IN"
                    f" ({marks}) ORDER BY id",
                    (RULE, kept, *copies),
                )
                self.conn.execute(
                    f"DELETE FROM call_participants WHERE call_id IN ({marks})", copies
                )
                self.conn.execute(f"DELETE FROM calls WHERE id IN ({marks})", copies)
                moved += len(copies)
        return moved

    def call_duplicates(self) -> list[dict[str, Any]]:
        return [
            {
                "duplicate_key": key,
                "kept_call_id": kept,
                "source_id": sid,
                "file": self._files[file_id][0],
                "locator": locator,
            }
            for key, kept, sid, file_id, locator in self.conn.execute(
                "SELECT duplicate_key, kept_call_id, source_id, file_id, locator"
                " FROM call_duplicates ORDER BY id"
            )
        ]


__all__ = ["CallsAggregate", "StoredCall"]
