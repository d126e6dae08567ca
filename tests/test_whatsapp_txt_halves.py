"""The second pass of a chat export split between two processes gives what one process gives:
the same JSONL bytes, warnings, decisions, counts and exit status, whether the child's half is
taken or (the child failing, or the halves not fitting together) read again in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from triage.parsers import whatsapp_txt_halves as halves

from tests.test_jsonl_shapes import TARGETS, _export, _read, ios_lines
from tests.test_whatsapp_txt_properties import FAST, android_lines
from triage import text_lines


@pytest.fixture
def split_everything(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Split every export, in runs of a few lines; the list holds what each join decided."""
    monkeypatch.setattr(halves, "SPLIT_FROM", 0)
    monkeypatch.setattr(text_lines, "CHUNK", 256)
    joined: list[bool] = []
    join = halves.Halves.join

    def noted(self: halves.Halves, lines: Any) -> bool:
        taken = join(self, lines)
        joined.append(taken and self.split)
        return taken

    monkeypatch.setattr(halves.Halves, "join", noted)
    yield joined


@pytest.mark.parametrize("owner", [[], ["Bob"]])
def test_every_fixture_gives_the_same_output_split(
    split_everything: list[bool], owner: list[str]
) -> None:
    for path in TARGETS:
        one = _read([path], False, owner_names=owner)
        split = _read([path], True, owner_names=owner)
        assert split[:5] == one[:5], path
    # Not vacuous: many exports were split and the child's half taken.
    assert sum(split_everything) >= 20


def test_a_failing_child_gives_the_same_output(
    split_everything: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(halves, "CHILD_FAILS", True)
    for path in TARGETS:
        split = _read([path], True, owner_names=["Bob"])
        assert split[:5] == _read([path], False, owner_names=["Bob"])[:5], path
    # Every split export was read again in-process.
    assert split_everything and not any(split_everything)


def test_a_small_export_is_not_split(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    started: list[int] = []

    def spy(*args: Any) -> None:
        started.append(1)
        raise OSError("not to be split")

    monkeypatch.setattr(halves.Halves, "__init__", spy)
    path = tmp_path / "chat.txt"
    path.write_text("23/03/2022, 13:31 - Alice: hi\n" * 1000, encoding="utf-8")
    _read([path], True)
    assert not started


@FAST
@given(st.lists(android_lines, min_size=1, max_size=60))
def test_generated_android_exports_split(body: list[str]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(halves, "SPLIT_FROM", 0)
        mp.setattr(text_lines, "CHUNK", 128)
        general, split = _export(body, "23/03/2022, 13:31 - Alice: start")
    assert split[:5] == general[:5]


@FAST
@given(st.lists(ios_lines, min_size=1, max_size=60))
def test_generated_ios_exports_split(body: list[str]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(halves, "SPLIT_FROM", 0)
        mp.setattr(text_lines, "CHUNK", 128)
        general, split = _export(body, "[23/03/2022, 13:31:00] Alice: start")
    assert split[:5] == general[:5]


def test_a_reader_that_stops_early_leaves_no_child(
    split_everything: list[bool], tmp_path: Path
) -> None:
    import io
    import os

    from triage.ingest import iter_records
    from triage.jsonl import JsonlWriter
    from triage.registry import ParseContext

    path = tmp_path / "chat.txt"
    lines = [f"23/03/2022, 13:{n % 60:02d} - Alice: message {n}" for n in range(400)]
    lines[5] = "23/03/2022, 13:05 - Alice: Missed voice call"  # a Call: yielded, not written
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = iter_records([path], ParseContext(), None, JsonlWriter(io.BytesIO()))
    next(records)
    records.close()  # the parse stops in the first half, its child still reading
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # nothing left to reap: the child was stopped and reaped


def test_the_childs_half_is_copied_to_a_file_as_to_memory(
    split_everything: list[bool], tmp_path: Path
) -> None:
    # The second half copied after the first into a file, as into memory.
    from tests.test_jsonl_shapes import FIXTURES
    from triage.ingest import iter_records
    from triage.jsonl import JsonlWriter
    from triage.model import Call, Message
    from triage.registry import ParseContext

    target = tmp_path / "out.jsonl"
    with open(target, "wb") as stream:
        writer = JsonlWriter(stream)
        for _, record in iter_records([FIXTURES], ParseContext(), None, writer):
            if isinstance(record, Message):
                writer.write(record)
            elif isinstance(record, Call):
                writer.write_call(record)
        writer.flush()
    assert any(split_everything)
    assert target.read_bytes() == _read([FIXTURES], False)[0]
