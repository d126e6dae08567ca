"""A table read in two processes (triage/table_halves.py: the parse worker forks again where its
parser splits the table) gives what one pass gives.

Every WhatsApp for Android fixture, and a generated database of a few thousand rows, is read
split at every row (or many rows) with batches of a few records, and compared with reading it
in this process: the records or the batches prepared for the store (cut at the same records),
the counts in their order, the error, the warnings and the decisions in their order. A run of a
case whose database is split writes the same bytes. When either child fails, or the second part
ends in a way one pass would not (an error, nothing read), the source is read in this process
and the outcome is again what one pass gives.
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import triage.parsers.whatsapp_android as android

import triage.parse_worker as worker
from tests.conftest import ROOT
from tests.test_parse_worker import Many, _detection, _in_child, _read
from triage.casefile import load_case
from triage.evidence import Evidence, EvidenceFile
from triage.ingest import SourceResult, open_inputs
from triage.registry import ParseContext
from triage.run import run_case
from triage.store.message_cells import Prepared
from triage.store.messages import BATCH
from triage.table_halves import FIRST, SECOND

pytestmark = pytest.mark.skipif(not worker._can_fork(), reason="a second process needs fork")


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The second children the parent was told of (so a test knows the table was split)."""
    told: list[int] = []
    frame = worker._Worker.frame

    def spy(self: worker._Worker) -> tuple | None:
        found = frame(self)
        if found is not None and found[0] == "split":
            told.append(found[1])
        return found

    monkeypatch.setattr(worker._Worker, "frame", spy)
    return told


def _contents(batch: Any) -> Any:
    """A batch as what the store takes from it: each prepared message with the objects its
    places name (a batch joined from two names them in a longer list of objects)."""
    if not isinstance(batch, Prepared):
        return batch
    objects = batch.objects
    out = []
    for item in batch.messages():
        if type(item) is not tuple:
            out.append(item)
            continue
        values, extra, when, conv, sender, to, files, file = item
        out.append(
            (
                values,
                extra,
                when,
                objects[conv],
                objects[sender],
                objects[to],
                None if files is None else objects[files],
                objects[file],
            )
        )
    return len(batch), out


def _compared(read: tuple) -> tuple:
    records, counts, error, warnings, decisions, unread = read
    return (
        [_contents(b) for b in records],
        list(counts.items()),
        error,
        warnings,
        [(f, list(d.items())) for f, d in decisions.items()],
        unread,
    )


def _split_at(monkeypatch: pytest.MonkeyPatch, offset: int) -> None:
    """The parser splits ``message`` before its row at ``offset`` (in ``_id`` order)."""

    def middle(conn: sqlite3.Connection, ctx: ParseContext) -> int | None:
        if ctx.halves is None:
            return None
        row = conn.execute(
            "SELECT _id FROM message ORDER BY _id LIMIT 1 OFFSET ?", (offset,)
        ).fetchone()
        return None if row is None else row[0]

    monkeypatch.setattr(android, "_middle_row", middle)


def _android_sources(evidence: Evidence, folder: Path) -> list:
    return [
        d
        for d in open_inputs(evidence, [(folder, folder.name)])
        if d.parser is not None and d.parser.name == "whatsapp_android"
    ]


def _rows(detection: Any) -> int:
    with detection.file.sqlite() as conn:
        try:
            return conn.execute("SELECT count(*) FROM message").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # the legacy schema: nothing to split


@pytest.mark.parametrize("prepared", [False, True])
def test_every_android_fixture_split_at_every_row_reads_as_one_pass(
    monkeypatch: pytest.MonkeyPatch, splits: list[int], prepared: bool
) -> None:
    monkeypatch.setattr(worker, "BATCH", 3)  # batches cut across the middle
    split = 0
    for folder in sorted((ROOT / "fixtures" / "whatsapp_db").iterdir()):
        if not folder.is_dir():
            continue
        with Evidence() as evidence:
            for detection in _android_sources(evidence, folder):
                here = _compared(_read(detection, False, prepared=prepared))
                for offset in range(1, _rows(detection)):
                    _split_at(monkeypatch, offset)
                    told = len(splits)
                    there = _compared(_read(detection, True, prepared=prepared))
                    assert len(splits) == told + 1, (folder.name, offset)
                    assert there == here, (folder.name, offset)
                    split += 1
    assert split >= 15  # android_current (16 rows), transitional, placeholder


def _bench_build() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_whatsapp_db", ROOT / "bench" / "bench_whatsapp_db.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of 3,000 rows (media, revoked, system and group rows, deleted gaps)."""
    folder = tmp_path_factory.mktemp("generated") / "data/data/com.whatsapp/databases"
    folder.mkdir(parents=True)
    _bench_build()(folder / "msgstore.db", 3000, chats=40)
    return folder.parents[3]


@pytest.mark.parametrize("prepared", [False, True])
def test_a_generated_database_split_anywhere_reads_as_one_pass(
    monkeypatch: pytest.MonkeyPatch, generated: Path, splits: list[int], prepared: bool
) -> None:
    monkeypatch.setattr(worker, "BATCH", 64)
    with Evidence() as evidence:
        (detection,) = _android_sources(evidence, generated)
        here = _compared(_read(detection, False, prepared=prepared))
        for offset in (1, 63, 64, 65, 1000, 1500, 2996):
            _split_at(monkeypatch, offset)
            there = _compared(_read(detection, True, prepared=prepared))
            assert there == here, offset
    assert len(splits) == 7


def test_the_middle_is_half_the_rows_from_the_size_it_pays(
    monkeypatch: pytest.MonkeyPatch, generated: Path, splits: list[int]
) -> None:
    with Evidence() as evidence:
        (detection,) = _android_sources(evidence, generated)
        with detection.file.sqlite() as conn:
            ctx = ParseContext()
            assert android._middle_row(conn, ctx) is None  # no offer
            ctx.halves = worker.TableHalves(lambda: None)
            assert android._middle_row(conn, ctx) is None  # 2,997 rows: too few
            monkeypatch.setattr(android, "SPLIT_FROM", 1000)
            ids = [i for (i,) in conn.execute("SELECT _id FROM message ORDER BY _id")]
            assert android._middle_row(conn, ctx) == ids[len(ids) // 2]
        here = _compared(_read(detection, False))
        assert _compared(_read(detection, True)) == here
    assert len(splits) == 1


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_a_run_with_its_table_split_writes_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated: Path, splits: list[int]
) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_text(
        "case:\n  reference: OP/1\n  timezone: Europe/London\n  region: GB\n"
        'subject:\n  name: PC Test\n  identifiers:\n    - phone: "+44 7700 999999"\n'
        f"sources:\n  - path: {generated}\n    label: phone\n"
    )
    case = load_case(case_file)
    monkeypatch.setattr(worker, "BATCH", 97)
    monkeypatch.setattr(worker, "PARALLEL_FROM", 1 << 62)
    here = run_case(case, tmp_path / "here")
    assert splits == []
    monkeypatch.setattr(worker, "PARALLEL_FROM", 0)
    _split_at(monkeypatch, 1234)
    there = run_case(case, tmp_path / "there")
    assert len(splits) == 1
    assert _outputs(tmp_path / "there") == _outputs(tmp_path / "here")
    assert there.warnings == here.warnings and there.counts == here.counts


# -- failures, with the real parser ---------------------------------------------------------------
_SIDE: list[str | None] = [None]


@pytest.fixture
def side(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Which part the process reading is (set in each child when the parser splits)."""
    split = worker.TableHalves.split

    def spy(self: worker.TableHalves) -> str | None:
        found = split(self)
        _SIDE[0] = found
        return found

    monkeypatch.setattr(worker.TableHalves, "split", spy)
    _SIDE[0] = None
    return _SIDE


@pytest.mark.parametrize(
    "where", ["second dies", "first dies", "second fails", "second reads nothing", "no fork"]
)
def test_a_failing_part_leaves_what_one_pass_gives(
    monkeypatch: pytest.MonkeyPatch,
    generated: Path,
    splits: list[int],
    side: list[str | None],
    where: str,
) -> None:
    monkeypatch.setattr(worker, "BATCH", 64)
    parent = os.getpid()
    chat_message = android._CurrentReader._chat_message
    calls = android._CurrentReader.calls

    def message(self: Any, row: Any, text: Any, stamp: Any, sort_id: Any, *rest: Any) -> Any:
        if _in_child(parent):
            if where == "second dies" and side[0] == SECOND and sort_id >= 2500:
                os._exit(3)
            if where == "first dies" and side[0] == FIRST and sort_id >= 700:
                os._exit(3)
            if where == "second reads nothing" and side[0] == SECOND:
                raise ValueError("unreadable row")
        return chat_message(self, row, text, stamp, sort_id, *rest)

    def failing_calls(self: Any) -> Iterator:
        if _in_child(parent) and side[0] == SECOND:
            raise ValueError("call_log unreadable")
        yield from calls(self)

    monkeypatch.setattr(android._CurrentReader, "_chat_message", message)
    if where == "second fails":
        monkeypatch.setattr(android._CurrentReader, "calls", failing_calls)
    if where == "no fork":
        monkeypatch.setattr(worker._SecondChild, "__call__", lambda self: None)
    with Evidence() as evidence:
        (detection,) = _android_sources(evidence, generated)
        here = _compared(_read(detection, False, prepared=True))
        # Every row of the second part fails: its few call bubbles are all it reads.
        _split_at(monkeypatch, 2990 if where == "second reads nothing" else 1500)
        if where == "second reads nothing":
            monkeypatch.setattr(android._CurrentReader, "calls", lambda self: iter(()))
            here = _compared(_read(detection, False, prepared=True))
        there = _compared(_read(detection, True, prepared=True))
    assert there == here
    assert len(splits) == (0 if where == "no fork" else 1)


# -- the protocol, with a parser of its own ---------------------------------------------------------
class Halved(Many):
    """Many's records, its message rows split at ``middle`` when the worker offers it."""

    def __init__(self, middle: int, then: Any = None, count: int = BATCH * 5 // 2) -> None:
        super().__init__(count, then)
        self.middle = middle

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator:
        ctx.warn(file.logical, "before the rows", "once")
        ctx.decide(file.logical, start="before the rows")
        side = ctx.halves.split() if ctx.halves is not None else None
        rows = range(self.count)
        if side == FIRST:
            rows = range(self.middle)
        elif side == SECOND:
            rows = range(self.middle, self.count)
        yield from self.rows(file, ctx, rows)
        if side == FIRST:
            return
        ctx.decide(file.logical, end="after the rows")


def _stops_at(row: int) -> Any:
    def then(n: int) -> None:
        if n == row:
            raise ValueError("row damaged")

    return then


@pytest.mark.parametrize("middle", [1, BATCH - 1, BATCH, BATCH + 1, 2 * BATCH + 17])
@pytest.mark.parametrize("prepared", [False, True])
def test_halves_cut_batches_as_one_pass(
    tmp_path: Path, splits: list[int], middle: int, prepared: bool
) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Halved(middle))
        here = _compared(_read(detection, False, prepared=prepared))
        there = _compared(_read(detection, True, prepared=prepared))
        assert len(splits) == 1 and there == here
        if prepared:
            sizes = [size for size, _ in there[0]]
        else:
            result = SourceResult(detection.file, "many", "1")
            batches = worker.read_batches(detection, ParseContext(), result, parallel=True)
            sizes = [len(batch) for batch in batches]
        assert len(splits) == 2 - prepared
    assert sizes == [BATCH, BATCH, BATCH // 2 + 1]


@pytest.mark.parametrize("row", [10, BATCH + 5, 2 * BATCH + 3])
def test_a_parse_that_stops_early_stops_where_one_pass_does(
    tmp_path: Path, splits: list[int], row: int
) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Halved(BATCH + 100, then=_stops_at(row)))
        here, there = _compared(_read(detection, False)), _compared(_read(detection, True))
    assert len(splits) == 1 and there == here
    assert here[2] is not None and here[2].startswith("ValueError: row damaged")


def test_a_read_no_longer_wanted_ends_both_children(tmp_path: Path, splits: list[int]) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Halved(BATCH + 100))
        ctx = ParseContext()
        result = SourceResult(detection.file, "many", "1")
        batches = worker.read_batches(detection, ctx, result, parallel=True)
        next(batches)
        batches.close()
    assert len(splits) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(splits[0], 0)  # killed (and, its parent gone, collected)
