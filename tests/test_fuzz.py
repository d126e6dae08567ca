"""Fuzzing every parser's entry point with mutated real inputs (a hypothesis harness).

For each parser, the smallest fixture file that detection gives to it is the seed; hypothesis
truncates it, flips bytes, zeroes a page or splices in random bytes, and the mutated file is read
the way ``triage parse`` reads it (detection, salvage of a damaged database, the parser). The
property: nothing escapes (every failure is contained and reported), and no warning carries a
memory address.

CI runs a few examples per parser (well under a minute). For a longer run on demand:

    TRIAGE_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.evidence import Evidence
from triage.ingest import iter_records, open_inputs
from triage.registry import ParseContext, all_parsers

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("TRIAGE_FUZZ_EXAMPLES", "4"))
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")


@cache
def seeds() -> dict[str, tuple[str, bytes]]:
    """parser name -> (file name, bytes) of the smallest fixture file it reads."""
    found: dict[str, tuple[str, bytes]] = {}
    with Evidence() as evidence:
        folders = [p for p in sorted((ROOT / "fixtures").iterdir()) if p.is_dir()]
        for detection in open_inputs(evidence, [(p, p.name) for p in folders]):
            if detection.parser is None:
                continue
            name = detection.parser.name
            if name in found and len(found[name][1]) <= detection.file.size:
                continue
            with detection.file.open() as handle:
                found[name] = (detection.file.name, handle.read())
    return found


def test_every_parser_has_a_seed() -> None:
    assert {p.name for p in all_parsers()} <= set(seeds()), sorted(seeds())


@st.composite
def mutations(draw: st.DrawFn, size: int) -> tuple:
    """A small description of one mutation (so a failing example prints short)."""
    kind = draw(st.sampled_from(["truncate", "flip", "page", "splice"]))
    if kind == "truncate":
        return (kind, draw(st.integers(0, max(0, size - 1))))
    if kind == "flip":
        spots = st.tuples(st.integers(0, size - 1), st.integers(0, 255))
        return (kind, tuple(draw(st.lists(spots, min_size=1, max_size=16))))
    if kind == "page":
        return (kind, draw(st.integers(1, max(1, size // 4096))))
    return (kind, draw(st.integers(0, size)), draw(st.binary(min_size=1, max_size=64)))


def mutate(data: bytes, mutation: tuple) -> bytes:
    kind = mutation[0]
    if kind == "truncate":
        return data[: mutation[1]]
    out = bytearray(data)
    if kind == "flip":
        for at, value in mutation[1]:
            out[at] = value
    elif kind == "page":
        start = (mutation[1] - 1) * 4096
        out[start : start + 4096] = bytes(len(out[start : start + 4096]))
    else:
        out[mutation[1] : mutation[1]] = mutation[2]
    return bytes(out)


@pytest.mark.parametrize("parser", sorted(p.name for p in all_parsers()))
def test_mutated_input_is_contained(parser: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    name, data = seeds()[parser]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutations(len(data)))
    def check(mutation: tuple) -> None:
        folder = tmp_path_factory.mktemp("fuzz")
        path = folder / name
        path.write_bytes(mutate(data, mutation))
        ctx = ParseContext()
        for _ in iter_records([path], ctx):
            pass
        for warning in ctx.warnings.values():
            for example in warning.examples:
                assert not ADDRESS.search(example), example
        assert sorted(p.name for p in folder.iterdir()) == [name]  # nothing written beside it

    check()
