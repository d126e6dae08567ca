"""messages.csv and findings.json are written by hand-made fast paths; these tests hold them to
the standard library's own output.

``messages.csv`` makes each line itself (the text that repeats from row to row made once, text
from the source guarded and quoted only where it needs it), so it must be exactly what
``csv.writer`` writes for the rows of ``message_rows`` with every text cell guarded: on the demo
(every parser) and on a real AOSP ``mmssms.db`` full of hostile text read by the real parser.
``findings.json`` is written by orjson where orjson writes what ``json.dumps`` writes.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_analysers_support import Sms, build_mmssms, run, write_case
from triage.casefile import case_from_data
from triage.report.exports import (
    FORMULA_START,
    MESSAGE_COLUMNS,
    _same_in_orjson,
    message_rows,
    write_findings_json,
    write_messages_csv,
)
from triage.store import Store

HOSTILE = [
    "plain",
    "a, b",
    'say "hi"',
    "two\nlines",
    "crlf\r\nend",
    "\rstarts with CR",
    "=1+2",
    "+44 7700 900123",
    "-minus",
    "@at",
    "\ttab",
    "'=already quoted",
    ' "=quoted, comma"',
    '=HYPERLINK("x","y"), with comma',
    "café “curly” \u2028 line separator",
    "",
    " ",
    "nul\x00inside",
    "trailing comma,",
]


def _reference(store: Store, case) -> bytes:
    """messages.csv as csv.writer writes the guarded rows (how main wrote it before)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(MESSAGE_COLUMNS)
    guard = frozenset(FORMULA_START)
    writer.writerows(
        [
            ("'" + v if v[:1] in guard else v) if type(v) is str else ("" if v is None else v)
            for v in row
        ]
        for row in message_rows(store, case)
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _check(out: Path, tmp_path: Path) -> int:
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(out / "case.sqlite", copy)
    store = Store.open(copy)
    try:
        case = case_from_data(store.meta()["case"])
        written = tmp_path / "messages.csv"
        write_messages_csv(store, written, case)
        expected = _reference(store, case)
        assert written.read_bytes() == expected
        # ... and the run's own file is the same.
        assert (out / "messages.csv").read_bytes() == expected
        return len(list(message_rows(store, case)))
    finally:
        store.close()


def test_messages_csv_is_csv_writer_text_on_the_demo(demo_run: Path, tmp_path: Path) -> None:
    assert _check(demo_run, tmp_path) > 50


def test_messages_csv_is_csv_writer_text_on_hostile_text(tmp_path: Path) -> None:
    rng = random.Random(11)
    alphabet = "ab ,\"\n\r\t=+-@'é;\x00"
    bodies = HOSTILE + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(150)
    ]
    addresses = ["07700 900123", "07700 900555", "+44 7700 900777", "Bank, Ltd", '"=Quote"']
    rows = [
        Sms(n, addresses[n % len(addresses)], f"2026-03-{1 + n // 40:02d} {n % 24:02d}:{n % 60:02d}",
            "in" if n % 3 else "out", body)
        for n, body in enumerate(bodies, 1)
    ]  # fmt: skip
    build_mmssms(tmp_path / "evidence" / "mmssms.db", rows)
    case = write_case(
        tmp_path,
        'contacts:\n  - name: "=Female, A"\n    role: victim\n    identifiers:\n'
        '      - phone: "+44 7700 900123"\nsources:\n  - evidence\n',
    )
    out = tmp_path / "out"
    run(case, out, report=True)
    assert _check(out, tmp_path) == len(rows)
    text = (out / "messages.csv").read_text("utf-8-sig")
    assert '"\'=Female, A"' in text  # the case contact's name, guarded and quoted


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_orjson_is_used_only_where_it_writes_what_json_writes(value) -> None:
    expected = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    if not _same_in_orjson(value):
        return
    try:
        written = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return  # the writer falls back to json for what orjson refuses
    assert written == expected.encode("utf-8")


def test_orjson_is_not_used_for_the_floats_it_writes_differently() -> None:
    for value in (1e-05, 2.5e-07, float("nan"), float("inf"), {"rate": [0.5, -3e-5]}):
        assert not _same_in_orjson(value)
    assert _same_in_orjson({"rate": [0.5, 1e-4, 0.0, 1e16], "n": 3, "t": ("a", None, True)})


@pytest.fixture
def demo_store(demo_run: Path, tmp_path: Path) -> Iterator[Store]:
    """The demo run's store, opened from a copy (a test must not change the shared run)."""
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(demo_run / "case.sqlite", copy)
    store = Store.open(copy)
    try:
        yield store
    finally:
        store.close()


def test_findings_json_is_what_json_dumps_writes(
    demo_run: Path, demo_store: Store, tmp_path: Path
) -> None:
    write_findings_json(demo_store, tmp_path / "findings.json")
    written = (tmp_path / "findings.json").read_bytes()
    data = json.loads(written)
    assert data["findings"]
    again = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    assert written == again.encode("utf-8")
    assert written == (demo_run / "findings.json").read_bytes()


def test_export_facts_read_back_as_the_store_holds_them(demo_store: Store) -> None:
    """The one text of repeating columns each export row carries reads back as the columns
    themselves (on the demo: every parser); a text that does not read is read again from the
    row."""
    from triage.store.messages import _EXPORT_TABLES, _EXPORT_TYPED, ExportFacts

    typed = {
        row[0]: ExportFacts(*row[1:])
        for row in demo_store.conn.execute(f"SELECT m.id, {_EXPORT_TYPED} FROM {_EXPORT_TABLES}")
    }
    rows = [row for rows in demo_store.message_export_rows() for row in rows]
    assert len(rows) > 50
    assert {r[0] for r in rows} <= set(typed)
    assert any(typed[r[0]].recipients and "," in typed[r[0]].recipients for r in rows)
    for mid, _utc, facts, _body, _locator in rows:
        assert demo_store.export_facts(facts, mid) == typed[mid]
        for unreadable in ("", "x", facts.replace(",", ";", 1), "x" + facts):
            assert demo_store.export_facts(unreadable, mid) == typed[mid]


def test_label_texts_decode_to_the_labels(demo_store: Store) -> None:
    """The exports read the duty labels as their JSON text and decode each text once: the
    texts decode to what ``Store.labels`` gives, for the same messages in the same order."""
    from triage.store.codec import loads

    for label in ("status", "night"):
        texts = demo_store.label_texts("duty", label)
        assert len(texts) > 50
        decoded = {mid: loads(text) for mid, text in texts.items()}
        assert list(decoded.items()) == list(demo_store.labels("duty", label).items())


def test_label_column_is_the_labels_by_id(demo_store: Store, tmp_path: Path) -> None:
    """The report reads the duty labels as one column of values by id (one text split, when
    every id in a run has the label; as Store.labels reads them otherwise): the same values."""
    for label in ("status", "night"):
        labels = demo_store.labels("duty", label)
        first, values = demo_store.label_column("duty", label)
        assert len(values) > 50
        assert (first, len(values)) == (min(labels), max(labels) - min(labels) + 1)
        assert values == [labels.get(mid) for mid in range(first, first + len(values))]
    # Ids with gaps, a value holding the separator's escape, lists, none at all.
    store = Store.create(tmp_path / "labels.sqlite")
    try:
        store.add_labels(
            "test",
            [(3, "gaps", "a"), (4, "gaps", None), (7, "gaps", [1]), (2, "run", "x\x1fy")]
            + [(5, "run", [1, 2]), (6, "run", {"k": "v"}), (3, "run", None), (4, "run", "b")],
        )
        assert store.label_column("test", "gaps") == (3, ["a", None, None, None, [1]])
        assert store.label_column("test", "run") == (2, ["x\x1fy", None, "b", [1, 2], {"k": "v"}])
        assert store.label_column("test", "none") == (0, [])
        # The texts by id, in id order, as the rows hold them: with gaps, in a run, none.
        for label in ("gaps", "run", "none"):
            rows = store.conn.execute(
                "SELECT message_id, value FROM message_labels WHERE analyser = 'test'"
                " AND label = ? ORDER BY message_id",
                (label,),
            )
            assert list(store.label_texts("test", label).items()) == list(rows)
    finally:
        store.close()
