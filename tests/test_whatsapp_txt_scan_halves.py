"""The first pass of a chat export split between two processes gathers what one pass gathers
(every fact of the scan, authors in first-seen order), and the command gives the same JSONL
bytes, warnings, decisions, counts and exit status, whether the child's facts are merged or (the
child failing) the second half is scanned in-process."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from triage.parsers import whatsapp_txt_grammar as g
from triage.parsers import whatsapp_txt_scan_halves as scan_halves
from triage.parsers.whatsapp_txt import WhatsAppTxt

from tests.test_jsonl_shapes import TARGETS, _read
from tests.test_whatsapp_txt_properties import FAST, android_lines
from triage import text_lines
from triage.evidence import Evidence
from triage.registry import ParseContext


@pytest.fixture
def split_scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Split the first pass of every export, in runs of a few lines; the list holds, for each
    split, whether the child's facts were merged."""
    monkeypatch.setattr(scan_halves, "SPLIT_FROM", 0)
    monkeypatch.setattr(text_lines, "CHUNK", 64)
    merged: list[bool] = []
    join = scan_halves.ScanHalves.join

    def noted(self: scan_halves.ScanHalves, scan: Any) -> None:
        merged.append(self.result is not None)
        join(self, scan)

    monkeypatch.setattr(scan_halves.ScanHalves, "join", noted)
    yield merged


def _scans(path: Path) -> list[tuple[Any, Any]]:
    """(one pass, split pass) over every text file under ``path``."""
    pairs = []
    with Evidence() as evidence:
        evidence.add_input(path)
        for file in evidence.files():
            if not file.name.endswith(".txt"):
                continue
            parser, ctx = WhatsAppTxt(), ParseContext()
            pairs.append((parser._scan(file, ctx), parser._scan(file, ctx, split=True)))
    return pairs


def _same_facts(one: Any, split: Any) -> None:
    assert split == one
    assert list(split.authors) == list(one.authors)  # first-seen order too
    assert list(split.own_deletion_authors) == list(one.own_deletion_authors)
    assert list(split.not_owner) == list(one.not_owner)


def test_every_fixture_scans_the_same_split(split_scans: list[bool]) -> None:
    from tests.test_jsonl_shapes import FIXTURES

    pairs = _scans(FIXTURES)
    for one, split in pairs:
        _same_facts(one, split)
    # Not vacuous: many first passes were split and the child's facts merged.
    assert sum(split_scans) >= 20


@pytest.mark.parametrize("owner", [[], ["Bob"]])
def test_every_fixture_gives_the_same_output_with_the_scan_split(
    split_scans: list[bool], owner: list[str]
) -> None:
    for path in TARGETS:
        one = _read([path], False, owner_names=owner)
        split = _read([path], True, owner_names=owner)
        assert split[:5] == one[:5], path
    assert sum(split_scans) >= 20


def test_a_failing_scan_child_gives_the_same_facts_and_output(
    split_scans: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_jsonl_shapes import FIXTURES

    monkeypatch.setattr(scan_halves, "CHILD_FAILS", True)
    for one, split in _scans(FIXTURES):
        _same_facts(one, split)
    for path in TARGETS:
        split = _read([path], True, owner_names=["Bob"])
        assert split[:5] == _read([path], False, owner_names=["Bob"])[:5], path
    # Every split first pass scanned its second half in-process.
    assert split_scans and not any(split_scans)


def test_a_full_list_of_authors_is_scanned_in_process(
    split_scans: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Past the cap on remembered authors a merge could count what one pass drops: not merged.
    from triage.parsers import whatsapp_txt

    monkeypatch.setattr(whatsapp_txt, "MAX_AUTHORS", 3)
    path = tmp_path / "chat.txt"
    path.write_text(
        "".join(f"23/03/2022, 13:31 - P{n % 5}: message {n}\n" for n in range(200)),
        encoding="utf-8",
    )
    ((one, split),) = _scans(path)
    _same_facts(one, split)
    assert split_scans and not any(split_scans)


def test_a_small_export_is_not_split(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    started: list[int] = []

    def spy(*args: Any) -> None:
        started.append(1)
        raise OSError("not to be split")

    monkeypatch.setattr(scan_halves.ScanHalves, "__init__", spy)
    path = tmp_path / "chat.txt"
    path.write_text("23/03/2022, 13:31 - Alice: hi\n" * 1000, encoding="utf-8")
    _read([path], True)
    assert not started


def test_a_fork_that_fails_scans_in_process(
    split_scans: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    def no_fork() -> int:
        raise OSError("no fork")

    path = tmp_path / "chat.txt"
    path.write_text(
        "".join(f"2{n % 8}/03/2022, 13:31 - P{n % 5}: message {n}\n" for n in range(200)),
        encoding="utf-8",
    )
    ((one, _),) = _scans(path)
    monkeypatch.setattr(os, "fork", no_fork)
    ((_, split),) = _scans(path)
    _same_facts(one, split)


@FAST
@given(st.lists(android_lines, min_size=1, max_size=60), st.sampled_from([32, 64, 128]))
def test_generated_android_exports_scan_the_same_split(body: list[str], chunk: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scan_halves, "SPLIT_FROM", 0)
        mp.setattr(text_lines, "CHUNK", chunk)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "WhatsApp Chat with Night shift.txt"
            text = "23/03/2022, 13:31 - Alice: start\n" + "\n".join(body) + "\n"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            ((one, split),) = _scans(path)
            _same_facts(one, split)
            general = _read([path], False, owner_names=["Bob"])
            by_shape = _read([path], True, owner_names=["Bob"])
    assert by_shape[:5] == general[:5]


dates = st.tuples(st.integers(1, 31), st.integers(1, 31), st.sampled_from([0, 2021, 2022]))


@given(st.lists(st.one_of(dates, st.integers(0, 3)), max_size=30), st.integers(0, 30))
def test_order_evidence_merged_is_one_stream(steps: list[Any], cut: int) -> None:
    # Dates added (a tuple) or repeated (a count), split anywhere and merged: as added in one.
    def fed(evidence: g.OrderEvidence, part: list[Any]) -> g.OrderEvidence:
        for step in part:
            if isinstance(step, tuple):
                evidence.add(*step)
            else:
                evidence.repeat(step)
        return evidence

    one = fed(g.OrderEvidence(), steps)
    first = fed(g.OrderEvidence(), steps[:cut])
    later = g.OrderEvidence()
    # The later stream starts from scratch: a repeat before its first date is the earlier
    # stream's (the scan counts those in the earlier half).
    rest = steps[cut:]
    while rest and not isinstance(rest[0], tuple):
        first.repeat(rest[0])
        rest = rest[1:]
    first.merge(fed(later, rest))
    assert first == one


def test_an_export_in_an_archive_is_not_split(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A member of an archive is read through the archive's one handle, which a fork shares:
    # neither pass is split there.
    import zipfile

    from triage.parsers import whatsapp_txt_halves as halves

    started: list[str] = []

    def spy(name: str) -> Any:
        def refuse(*args: Any) -> None:
            started.append(name)
            raise OSError("not to be split")

        return refuse

    monkeypatch.setattr(scan_halves, "SPLIT_FROM", 0)
    monkeypatch.setattr(halves, "SPLIT_FROM", 0)
    monkeypatch.setattr(text_lines, "CHUNK", 64)
    monkeypatch.setattr(scan_halves.ScanHalves, "__init__", spy("scan"))
    monkeypatch.setattr(halves.Halves, "__init__", spy("second pass"))
    text = "".join(f"2{n % 8}/03/2022, 13:31 - P{n % 5}: message {n}\n" for n in range(200))
    archive = tmp_path / "WhatsApp Chat - Night shift.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("_chat.txt", text)
    _read([archive], True)
    assert not started
    bare = tmp_path / "chat.txt"
    bare.write_text(text, encoding="utf-8")
    _read([bare], True)
    assert started == ["scan", "second pass"]  # the same text on its own: both split
