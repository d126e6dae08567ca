"""Detection imports only the parser modules a file could belong to (``triage.parsers.SNIFFS``):
the outcome must be what importing and asking every parser gives, for every fixture."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest
import triage.parsers as parsers

from tests.conftest import ROOT
from triage.evidence import Evidence
from triage.registry import SNIFF_TESTS, Parser, ParserModules, Probe, all_parsers, detect

FIXTURES = ROOT / "fixtures"
MODULES = sorted(i.name for i in pkgutil.iter_modules(parsers.__path__))


def _parsers_of(name: str) -> list[Parser]:
    # The registry's own rule for which parsers a module defines, not a copy of it.
    return ParserModules().parsers_of(name)


def test_every_declared_module_exists_with_a_known_kind() -> None:
    assert set(parsers.SNIFFS) <= set(MODULES)
    assert set(parsers.SNIFFS.values()) <= set(SNIFF_TESTS)
    for name, kind in parsers.SNIFFS.items():
        # A module said to define no parser defines none (else detection would never ask it).
        assert (kind == "none") == (not _parsers_of(name)), name


def _detections(paths: list[Path], eager: bool) -> list[tuple]:
    with Evidence() as ev:
        for path in paths:
            ev.add_input(path)
        found = detect(list(ev.files()), all_parsers() if eager else None)
        return [
            (
                d.file.logical,
                d.parser.name if d.parser else None,
                d.score,
                d.reason,
                d.also_matched,
                [c.logical for c in d.claims],
                d.claimed_by.logical if d.claimed_by else None,
                d.problem,
            )
            for d in found
        ]


def test_detection_of_every_fixture_equals_asking_every_parser() -> None:
    folders = sorted(p for p in FIXTURES.iterdir() if p.is_dir())
    lazy = _detections(folders, eager=False)
    assert len(lazy) > 100 and sum(1 for d in lazy if d[1]) > 50
    assert lazy == _detections(folders, eager=True)


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", sorted(n for n, k in parsers.SNIFFS.items() if k != "none"))
def test_no_parser_matches_a_file_its_sniff_refuses(name: str, tmp_path: Path) -> None:
    """The sniff is a necessary condition of the module's every ``match``: over every fixture
    and heads made to be near misses of each kind."""
    near = {
        "sqlite.txt": b"SQLite format 3\x00" + b"\x00" * 200,
        "json.txt": b'  {"participants": [], "sender_name": "A", "senderName": "A"}',
        "xml.txt": b'<?xml version="1.0"?><smses count="1"><sms address="1" /></smses>',
        "html.html": b"<html><body>Participants: A</body></html>",
        "ufdr.xml": b'<project xmlns="http://pa.cellebrite.com/report/2.0" reportVersion="1">',
        "chat.txt": b"23/03/2022, 13:31 - Alice: hi\n23/03/2022, 13:32 - Bob: hello\n",
    }
    for file_name, content in near.items():
        (tmp_path / file_name).write_bytes(content)
    sniff = SNIFF_TESTS[parsers.SNIFFS[name]]
    instances = _parsers_of(name)
    refused = 0
    with Evidence() as ev:
        for path in [*_fixture_files(), tmp_path]:
            ev.add_input(path)
        for file in ev.files():
            probe = Probe(file)
            if sniff(probe):
                continue
            refused += 1
            for parser in instances:
                assert parser.match(probe) is None, (name, file.logical)
    assert refused > 5


def test_every_match_asks_its_modules_declared_sniff(monkeypatch: pytest.MonkeyPatch) -> None:
    """``match`` takes the sniff from ``SNIFFS`` (one rule), not a test of its own: with a
    kind's sniff made to refuse everything, no parser of that kind matches any fixture."""
    declared = {n: k for n, k in parsers.SNIFFS.items() if k != "none"}
    with Evidence() as ev:
        for path in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
            ev.add_input(path)
        files = list(ev.files())
        matched_before = {
            name: sum(1 for f in files for p in _parsers_of(name) if p.match(Probe(f)))
            for name in declared
        }
        for kind in set(declared.values()):
            monkeypatch.setitem(SNIFF_TESTS, kind, lambda probe: False)
        for name in declared:
            assert matched_before[name] > 0, name
            assert not any(p.match(Probe(f)) for f in files for p in _parsers_of(name)), name
