"""A source read in a second process (triage/parse_worker.py) gives what it gives in-process.

Every source of every fixture is read both ways and the records, counts, error, warnings and
decisions compared; the demo case is run both ways and its outputs compared byte for byte; and
a child that fails (stops, cannot send a record, is not wanted any more) leaves the run with what
the in-process read gives.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import triage.parse_worker as worker
from tests.conftest import DEMO, ROOT
from triage.casefile import load_case
from triage.evidence import Evidence, EvidenceFile
from triage.ingest import SourceResult, open_inputs, parse_detection
from triage.model import Conversation, IdSpace, Message, Party, Provenance
from triage.parse_worker import read_batches, read_source
from triage.registry import Detection, ParseContext, Parser
from triage.run import run_case
from triage.store.message_cells import MessageCells
from triage.store.messages import BATCH

pytestmark = pytest.mark.skipif(not worker._can_fork(), reason="a second process needs fork")


def _read(
    detection: Detection, parallel: bool, ctx: ParseContext | None = None, prepared: bool = False
) -> tuple:
    """What reading a source gives: its records (or, ``prepared``, its batches prepared for the
    store), counts, error, warnings, decisions and files not read."""
    ctx = ctx or ParseContext(owner=[Party("+44 7700 900999", "+447700900999", None, "phone")])
    ctx.warn("earlier.db", "earlier problem", "recorded before the source")
    ctx.decide(detection.file.logical, app="recorded before the source")
    result = SourceResult(detection.file, detection.parser.name, detection.parser.version)
    if prepared:
        prepare = MessageCells(ZoneInfo("Europe/London")).prepare
        records = list(read_batches(detection, ctx, result, prepare, parallel=parallel))
    else:
        records = list(read_source(detection, ctx, result, parallel=parallel))
    warnings = [(w.file, w.category, w.count, w.examples) for w in ctx.warnings.values()]
    return records, dict(result.counts), result.error, warnings, ctx.decisions, ctx.unread_files


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the children started (so a test knows the second process was used)."""
    started: list[int] = []
    start = worker._Worker.start.__func__  # type: ignore[attr-defined]

    def spy(cls, *args):  # noqa: ANN001, ANN002, ANN202
        found = start(cls, *args)
        if found is not None:
            started.append(found.pid)
        return found

    monkeypatch.setattr(worker._Worker, "start", classmethod(spy))
    return started


def test_every_fixture_source_reads_the_same_in_a_second_process(forks: list[int]) -> None:
    parsers = set()
    for folder in sorted(p for p in (ROOT / "fixtures").iterdir() if p.is_dir()):
        with Evidence() as evidence:
            for detection in open_inputs(evidence, [(folder, folder.name)]):
                if detection.parser is None:
                    continue
                here = _read(detection, parallel=False)
                started = len(forks)
                there = _read(detection, parallel=True)
                assert len(forks) == started + 1
                assert there == here, detection.file.logical
                parsers.add(detection.parser.name)
    assert len(parsers) >= 12, parsers


def test_every_fixture_source_prepares_the_same_batches_in_a_second_process(
    forks: list[int],
) -> None:
    """Batches prepared for the store in the child (and sent as marshals) are the batches
    prepared here."""
    sources = 0
    for folder in sorted(p for p in (ROOT / "fixtures").iterdir() if p.is_dir()):
        with Evidence() as evidence:
            for detection in open_inputs(evidence, [(folder, folder.name)]):
                if detection.parser is None:
                    continue
                here = _read(detection, parallel=False, prepared=True)
                started = len(forks)
                there = _read(detection, parallel=True, prepared=True)
                assert len(forks) == started + 1
                assert there == here, detection.file.logical
                sources += 1
    assert sources > 20


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_the_demo_run_is_byte_identical_with_every_source_in_a_second_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    case_dir = tmp_path / "demo"
    shutil.copytree(DEMO, case_dir, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    case = load_case(case_dir / "case-two-phones.yaml")
    monkeypatch.setattr(worker, "PARALLEL_FROM", 1 << 62)
    here = run_case(case, tmp_path / "here")
    assert forks == []
    monkeypatch.setattr(worker, "PARALLEL_FROM", 0)
    there = run_case(case, tmp_path / "there")
    assert len(forks) == len(here.sources) > 3
    assert _outputs(tmp_path / "there") == _outputs(tmp_path / "here")
    assert there.status == here.status and there.counts == here.counts
    assert there.warnings == here.warnings
    assert [(s.parser, dict(s.counts), s.error) for s in there.sources] == [
        (s.parser, dict(s.counts), s.error) for s in here.sources
    ]


# -- a parser of many records, and ways for the child to fail ------------------------------------
ALICE = Party("447700900001@s.whatsapp.net", "+447700900001", "Alice", "phone")


class Many(Parser):
    """Yields ``count`` messages (2.5 batches), an IdSpace, then whatever ``then`` does."""

    name = "many"
    version = "1"

    def __init__(self, count: int = BATCH * 5 // 2, then=None) -> None:  # noqa: ANN001
        self.count, self.then = count, then

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator:
        chat = Conversation("whatsapp:alice", "Alice", False, [ALICE])
        for n in range(self.count):
            if n == 10:
                ctx.warn(file.logical, "odd row", f"row {n}")
                ctx.decide(file.logical, order="by id")
            if self.then is not None:
                self.then(n)
            yield Message(
                platform="whatsapp",
                conversation=chat,
                timestamp_utc=None,
                timestamp_raw=str(n),
                zone_assumed=False,
                direction="incoming",
                sender=ALICE,
                recipients=[],
                body=f"message {n}",
                kind="text",
                source=Provenance(file.logical, file.sha256, self.name, f"row={n}"),
                record_id=n,
                id_space="message",
                extra={"n": n},
            )
        yield IdSpace(file.logical, file.sha256, self.name, "message", "id", False, None, [1, 2])


def _detection(tmp_path: Path, evidence: Evidence, parser: Parser) -> Detection:
    (tmp_path / "source.bin").write_bytes(b"rows")
    evidence.add_input(tmp_path / "source.bin", "source.bin")
    return Detection(next(evidence.files()), parser, "test")


def _in_child(parent: int) -> bool:
    return os.getpid() != parent


def test_many_batches_arrive_in_order_with_their_warnings(tmp_path: Path, forks: list[int]) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Many())
        here, there = _read(detection, False), _read(detection, True)
    assert forks and there == here
    records = there[0]
    assert len(records) == BATCH * 5 // 2 + 1 and isinstance(records[-1], IdSpace)
    # Objects shared by the records of a batch are still shared.
    assert records[0].conversation is records[BATCH - 1].conversation
    assert ("source.bin", "odd row", 1, ["row 10"]) in there[3]
    assert there[4]["source.bin"] == {"app": "recorded before the source", "order": "by id"}


def _stops_early(n: int) -> None:
    if n == BATCH + 7:
        raise ValueError("row damaged")


def test_a_parser_that_stops_early_says_so_as_it_does_in_process(
    tmp_path: Path, forks: list[int]
) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Many(then=_stops_early))
        here, there = _read(detection, False), _read(detection, True)
    assert forks and there == here
    assert there[2] == f"ValueError: row damaged (after row={BATCH + 6})"
    assert len(there[0]) == BATCH + 7


@pytest.mark.parametrize("prepared", [False, True])
@pytest.mark.parametrize("when", [0, BATCH - 1, BATCH, 2 * BATCH + 3])
def test_a_child_that_dies_is_replaced_by_reading_in_process(
    tmp_path: Path, forks: list[int], when: int, prepared: bool
) -> None:
    parent = os.getpid()

    def dies(n: int) -> None:
        if n == when and _in_child(parent):
            os._exit(3)

    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Many(then=dies))
        here = _read(detection, False, prepared=prepared)
        there = _read(detection, True, prepared=prepared)
    assert forks and there == here
    records = sum(map(len, there[0])) if prepared else len(there[0])
    assert there[2] is None and records == BATCH * 5 // 2 + 1


def test_a_record_that_cannot_be_sent_is_read_in_process(tmp_path: Path, forks: list[int]) -> None:
    class Unpicklable(Many):
        def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator:
            for n, record in enumerate(super().parse(file, ctx)):
                if n == BATCH + 1 and isinstance(record, Message):
                    record.extra["why"] = lambda: None  # no pickle for a lambda
                yield record

    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Unpicklable())
        here, there = _read(detection, False), _read(detection, True)
    assert forks
    # The lambdas differ (each read made its own); everything else is the same.
    for side in (here, there):
        side[0][BATCH + 1].extra.pop("why")
    assert there == here


def test_an_error_outside_the_parser_is_raised_as_in_process(
    tmp_path: Path, forks: list[int]
) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Many())
        detection.file.container.root = tmp_path / "gone"  # type: ignore[attr-defined]
        errors = []
        for parallel in (False, True):
            with pytest.raises(OSError) as raised:
                _read(detection, parallel)
            errors.append(str(raised.value))
    assert forks and errors[0] == errors[1]


def test_a_read_no_longer_wanted_ends_its_child(tmp_path: Path, forks: list[int]) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Many())
        ctx = ParseContext()
        result = SourceResult(detection.file, "many", "1")
        records = read_source(detection, ctx, result, parallel=True)
        assert isinstance(next(records), Message)
        records.close()
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # already collected


def test_small_sources_stay_in_process(tmp_path: Path, forks: list[int]) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Many(count=3))
        assert not worker.worth_a_process(detection.file)
        ctx = ParseContext()
        result = SourceResult(detection.file, "many", "1")
        assert len(list(read_source(detection, ctx, result))) == 4
    assert forks == []


def test_absorb_adds_warnings_as_if_recorded_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("triage.registry.limit", lambda name: 3)
    here, there, both = ParseContext(), ParseContext(), ParseContext()
    for ctx in (here, both):
        ctx.warn("a.db", "bad row", "row 1")
        ctx.warn("a.db", "bad row", "row 2")
        ctx.decide("a.db", app="WhatsApp", wal="none")
    for ctx in (there, both):
        for n in range(3, 6):
            ctx.warn("a.db", "bad row", f"row {n}")
        ctx.warn("b.db", "odd", "x")
        ctx.decide("a.db", wal="3 frames", order="id")
        ctx.file_not_read("c.json", "corrupt")
    here.absorb(there)
    assert [(w.file, w.category, w.count, w.examples) for w in here.warnings.values()] == [
        (w.file, w.category, w.count, w.examples) for w in both.warnings.values()
    ]
    assert here.warnings[("a.db", "bad row")].examples == ["row 1", "row 2", "row 3"]
    assert list(here.decisions["a.db"].items()) == list(both.decisions["a.db"].items())
    assert here.unread_files == both.unread_files == [("c.json", "corrupt")]


def test_parse_detection_is_what_read_source_gives_in_process(tmp_path: Path) -> None:
    with Evidence() as evidence:
        detection = _detection(tmp_path, evidence, Many(count=7))
        ctx = ParseContext()
        result = SourceResult(detection.file, "many", "1")
        direct = list(parse_detection(detection, ctx, result))
        assert _read(detection, False)[0] == direct
