"""The findings aggregate: analyser results, the messages they rest on, and per-message labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from triage.store.chunks import in_chunks, insert_rows
from triage.store.codec import dumps, loads

SCHEMA = """
CREATE TABLE findings (
  id INTEGER PRIMARY KEY, analyser TEXT, rule TEXT, subject TEXT, title TEXT, why TEXT,
  weight REAL, data TEXT);
CREATE TABLE finding_refs (finding_id INTEGER, message_id INTEGER, note TEXT);
CREATE INDEX finding_refs_finding ON finding_refs (finding_id);
CREATE TABLE message_labels (
  analyser TEXT, label TEXT, message_id INTEGER, value TEXT,
  PRIMARY KEY (analyser, label, message_id)) WITHOUT ROWID;
"""


@dataclass
class Finding:
    """One analyser result, with the records it rests on.

    ``rule`` is a stable id ("contact.first-message", "duty.off-duty-share"); ``why`` the plain
    neutral sentence shown to the investigator; ``subject`` what it is about (a case-contact key,
    a conversation key, an exhibit id); ``refs`` the store ids of the messages behind it.
    """

    analyser: str
    rule: str
    title: str
    why: str
    weight: float = 0.0
    subject: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    refs: list[int] = field(default_factory=list)
    id: int | None = None


_MISSING = object()
#: What :meth:`FindingsAggregate._label_run` has SQLite put between the JSON texts of a label
#: (a control character, which JSON writes escaped in any string).
_APART = "\x1f"


class FindingsAggregate:
    """Mixed into :class:`triage.store.Store`; uses its ``conn``."""

    SCHEMA = SCHEMA
    conn: Any
    #: Told the analyser's name each time ``add_labels`` has committed its rows (the analysers
    #: stage tells its second process: triage.analysers.stage).
    label_listener: Callable[[str], None] | None = None

    def add_findings(self, findings: Iterable[Finding]) -> None:
        with self.conn:
            for f in findings:
                cur = self.conn.execute(
                    "INSERT INTO findings (analyser, rule, subject, title, why, weight, data)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (f.analyser, f.rule, f.subject, f.title, f.why, f.weight, dumps(f.data)),
                )
                f.id = int(cur.lastrowid)
                self.conn.executemany(
                    "INSERT INTO finding_refs (finding_id, message_id, note) VALUES (?,?,NULL)",
                    [(f.id, ref) for ref in f.refs],
                )

    def findings(self, analyser: str | None = None) -> list[Finding]:
        sql = "SELECT id, analyser, rule, subject, title, why, weight, data FROM findings"
        refs_sql = "SELECT finding_id, message_id FROM finding_refs"
        params: tuple = ()
        if analyser:
            sql += " WHERE analyser = ?"
            # Only that analyser's refs (the chronology asks for two analysers' findings: each
            # read every finding's refs, 36,000 rows at 300,000 messages).
            refs_sql += " WHERE finding_id IN (SELECT id FROM findings WHERE analyser = ?)"
            params = (analyser,)
        refs: dict[int, list[int]] = {}
        for fid, mid in self.conn.execute(refs_sql + " ORDER BY finding_id, message_id", params):
            refs.setdefault(fid, []).append(mid)
        return [
            Finding(
                analyser=a,
                rule=r,
                subject=s,
                title=t,
                why=w,
                weight=wt,
                data=loads(d),
                refs=refs.get(fid, []),
                id=fid,
            )
            for fid, a, r, s, t, w, wt, d in self.conn.execute(sql + " ORDER BY id", params)
        ]

    # -- labels ----------------------------------------------------------------------------------
    def add_labels(self, analyser: str, rows: Iterable[tuple[int, str, Any]]) -> None:
        """Per-message facts an analyser worked out (duty status, matched case contact...)."""
        self.add_encoded_labels(analyser, ((mid, label, dumps(v)) for mid, label, v in rows))

    def add_encoded_labels(self, analyser: str, rows: Iterable[tuple[int, str, str]]) -> None:
        """:meth:`add_labels` with each value given as its JSON text (``codec.dumps``): the
        analysers stage's second process encodes the labels it sends. Inserted a hundred rows
        a statement (``chunks.insert_rows``): the 29,700 group labels at 300,000 messages took
        0.041 s of CPU one a statement, 0.023 s so; the same rows in the same order."""
        flat: list[Any] = []
        for mid, label, value in rows:
            flat += (analyser, label, mid, value)
        with self.conn:
            for sql, values in insert_rows("INSERT OR REPLACE INTO message_labels", 4, flat):
                if values:
                    self.conn.executemany(sql, values)
        if self.label_listener is not None:
            self.label_listener(analyser)

    def labels(
        self, analyser: str, label: str, message_ids: Iterable[int] | None = None
    ) -> dict[int, Any]:
        """message id -> value of one label written by one analyser (of ``message_ids`` when
        given: an analyser that needs a few messages' labels does not read 300,000)."""
        # A label takes few distinct values ("on_duty", true): each text is decoded once.
        # Lists and objects are decoded per message, so no two messages share one.
        decoded: dict[str, Any] = {}
        out: dict[int, Any] = {}
        sql = "SELECT message_id, value FROM message_labels WHERE analyser = ? AND label = ?"
        if message_ids is None:
            chunks: Iterable[tuple[Sequence[int], str]] = [((), "")]
        else:
            chunks = in_chunks(sorted(set(message_ids)))
        for chunk, marks in chunks:
            where = f" AND message_id IN ({marks})" if marks else ""
            for mid, value in self.conn.execute(
                sql + where + " ORDER BY message_id", (analyser, label, *chunk)
            ):
                found = decoded.get(value, _MISSING)
                if found is _MISSING:
                    found = loads(value)
                    if not isinstance(found, list | dict):
                        decoded[value] = found
                out[mid] = found
        return out

    def label_column(self, analyser: str, label: str) -> tuple[int, list[Any]]:
        """``(first, values)``: the value of one label written by one analyser for each message
        id from ``first`` on, in id order (``None`` for an id without one), for a caller that
        looks the values up by id in a list. Each distinct JSON text is decoded once, so a list
        or object value is one object for every message holding it. Read as one text when it
        can be (:meth:`_label_run`): status and night of 300,000 messages with their
        :class:`triage.report.marks.Marks`, 0.66 -> 0.30 s CPU."""
        run = self._label_run(analyser, label)
        if run is None:
            values = self.labels(analyser, label)
            if not values:
                return 0, []
            first = min(values)
            return first, list(map(values.get, range(first, max(values) + 1)))
        first, texts = run
        decoded = {t: loads(t) for t in set(texts)}
        return first, list(map(decoded.__getitem__, texts))

    def label_texts(self, analyser: str, label: str) -> dict[int, str]:
        """message id -> the JSON text of one label written by one analyser, not decoded: for
        a caller that makes something of each of its few distinct texts once (the exports'
        duty columns), so that no value is decoded per message. Read as one text when it can
        be (:meth:`_label_run`)."""
        run = self._label_run(analyser, label)
        if run is not None:
            first, texts = run
            return dict(zip(range(first, first + len(texts)), texts, strict=True))
        return dict(
            self.conn.execute(
                "SELECT message_id, value FROM message_labels WHERE analyser = ? AND label = ?"
                " ORDER BY message_id",
                (analyser, label),
            )
        )

    def _label_run(self, analyser: str, label: str) -> tuple[int, list[str]] | None:
        """``(first, texts)``: the JSON texts of one label of the message ids from ``first`` on,
        when every id of that run has it (the duty analyser labels every message); ``None``
        when the ids have gaps (or there are none). SQLite gives the texts as one text, apart
        by a character no JSON text holds unescaped, split here: a row a message, each handed
        to the interpreter apart, cost twice as much."""
        count, first, last, text = self.conn.execute(
            "SELECT COUNT(*), MIN(message_id), MAX(message_id), group_concat(value, ?)"
            " FROM (SELECT message_id, value FROM message_labels WHERE analyser = ? AND label = ?"
            " ORDER BY message_id)",
            (_APART, analyser, label),
        ).fetchone()
        if not count or text is None or last - first + 1 != count:
            return None
        texts = text.split(_APART)
        return (first, texts) if len(texts) == count else None

    def label_counts(
        self, analyser: str, label: str, message_ids: Iterable[int] | None = None
    ) -> dict[Any, int]:
        """How many messages carry each value of one label (of ``message_ids`` when given),
        counted in SQL."""
        if message_ids is None:
            rows = self.conn.execute(
                "SELECT value, COUNT(*) FROM message_labels WHERE analyser = ? AND label = ?"
                " GROUP BY value",
                (analyser, label),
            )
            return {loads(v): n for v, n in rows}
        out: dict[Any, int] = {}
        wanted = sorted(set(message_ids))
        for chunk, marks in in_chunks(wanted):
            for v, n in self.conn.execute(
                "SELECT value, COUNT(*) FROM message_labels WHERE analyser = ? AND label = ?"
                f" AND message_id IN ({marks}) GROUP BY value",
                (analyser, label, *chunk),
            ):
                out[loads(v)] = out.get(loads(v), 0) + n
        return out
