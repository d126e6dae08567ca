"""The bad-input corpus (``tests/corpus/make_corpus.py``): every case, through the real CLI.

For each input: the expected message names the damaged item, the rest of the evidence is still
read (an exact message count), no traceback or raw control character reaches the terminal, and
the evidence is unchanged (same files, same SHA-256, same modification time, nothing beside it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.jsonl import read_records

CORPUS = Path(__file__).resolve().parent / "corpus" / "make_corpus.py"
_spec = importlib.util.spec_from_file_location("make_corpus", CORPUS)
assert _spec and _spec.loader
make_corpus = importlib.util.module_from_spec(_spec)
sys.modules["make_corpus"] = make_corpus  # dataclasses look their module up while it loads
_spec.loader.exec_module(make_corpus)


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file under ``folder`` with its SHA-256, size and modification time."""
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_size,
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_corpus.build(tmp_path_factory.mktemp("corpus"))


@pytest.mark.parametrize("name", sorted(make_corpus.CASES))
def test_corpus_case(name: str, corpus: dict[str, Path], tmp_path: Path) -> None:
    spec = make_corpus.CASES[name]
    folder = corpus[name]
    before = snapshot(folder)
    if spec.command == "run":
        result = _run_case_over(folder, tmp_path)
        said = (tmp_path / "out" / "coverage.html").read_text() + result.manifest_path.read_text()
        for expected in spec.expect:
            assert expected in said, f"{name}: {expected!r} not in the manifest or coverage"
        assert result.counts["messages"] == spec.messages
        assert snapshot(folder) == before
        return
    # A wide terminal, so rich does not wrap a message across lines.
    result = CliRunner().invoke(main, [spec.command, str(folder)], env={"COLUMNS": "2000"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    stderr = result.stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    for expected in spec.expect:
        assert expected in stderr, f"{name}: {expected!r} not in:\n{stderr}"
    for forbidden in spec.forbid:
        assert forbidden not in stderr, f"{name}: {forbidden!r} reached the terminal"
    for expected in spec.stdout:
        assert expected in result.stdout, f"{name}: {expected!r} not in the JSONL"
    if spec.command == "parse":
        lines = list(read_records(result.stdout.splitlines()))
        # Call lines ("record": "call") are not messages.
        assert len([x for x in lines if x.get("record") != "call"]) == spec.messages, stderr
        # detect walks the same damage and must survive it too.
        found = CliRunner().invoke(main, ["detect", str(folder)], env={"COLUMNS": "2000"})
        assert found.exit_code == 0 and "internal error" not in found.output, found.output
        for forbidden in spec.forbid:
            assert forbidden not in found.output, f"{name}: {forbidden!r} reached the terminal"
    assert snapshot(folder) == before


def test_every_issue_item_of_this_helper_has_a_case() -> None:
    items = {c.issue_item for c in make_corpus.CASES.values()}
    assert {
        "13.1", "13.2", "13.2-13.3", "13.4", "13.5", "13.6", "13.7", "13.8", "13.9", "13.10",
        "13.11", "13.12", "13.15",
    } <= items  # fmt: skip


def _run_case_over(folder: Path, tmp_path: Path):  # noqa: ANN202 - a RunResult
    from triage.casefile import load_case
    from triage.run import run_case

    case_file = tmp_path / "case.yaml"
    case_file.write_text(
        f"case:\n  reference: CORPUS/1\nsources:\n  - path: {json.dumps(str(folder))}\n", "utf-8"
    )
    return run_case(load_case(case_file), tmp_path / "out")


def test_a_refused_member_is_counted_in_manifest_and_coverage(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    folder = corpus["encrypted_zip_member"]
    before = snapshot(folder)
    result = _run_case_over(folder, tmp_path)
    manifest = json.loads(result.manifest_path.read_text())
    where = f"{folder}/extraction.zip!/secret/msgstore.db"
    reason = "encrypted member: password required, not read"
    assert {"file": where, "reason": reason} in manifest["skipped"]
    coverage = (tmp_path / "out" / "coverage.html").read_text()
    assert "secret/msgstore.db" in coverage and "password required" in coverage
    assert result.counts["messages"] == make_corpus.GOOD_CHAT_LINES
    assert snapshot(folder) == before


def test_a_right_to_left_override_in_a_name_is_shown_in_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(make_corpus.good_chat())
    (folder / "photo\u202egpj.exe").write_bytes(b"MZ not a picture")
    _run_case_over(folder, tmp_path)
    coverage = (tmp_path / "out" / "coverage.html").read_text()
    assert "photo[RLO U+202E]gpj.exe" in coverage
    assert "\u202e" not in coverage


def test_the_nesting_limit_is_configurable(
    corpus: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.limits import limit

    monkeypatch.setenv("TRIAGE_LIMIT_ARCHIVE_NESTING", "4")
    limit.cache_clear()
    try:
        result = CliRunner().invoke(main, ["parse", str(corpus["archive_nesting_limit"])])
    finally:
        monkeypatch.delenv("TRIAGE_LIMIT_ARCHIVE_NESTING")
        limit.cache_clear()
    assert "nesting limit" not in result.stderr
    assert len(list(read_records(result.stdout.splitlines()))) == 4 * make_corpus.GOOD_CHAT_LINES
