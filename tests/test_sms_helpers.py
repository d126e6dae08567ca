"""Shared helpers for the SMS/MMS/iMessage parser tests (fixtures in fixtures/sms/generated)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from triage.cli import main
from triage.ingest import iter_records
from triage.jsonl import read_records
from triage.model import DeletionTrace, IdSpace, Message
from triage.registry import ParseContext

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "fixtures" / "sms" / "generated"


class Parsed:
    """Every record one input yielded, split by type, plus the context's warnings."""

    def __init__(self, path: Path, region: str = "GB") -> None:
        self.ctx = ParseContext(region=region)
        self.records = [record for _, record in iter_records([path], self.ctx)]
        self.messages = [r for r in self.records if isinstance(r, Message)]
        self.id_spaces = [r for r in self.records if isinstance(r, IdSpace)]
        self.traces = [r for r in self.records if isinstance(r, DeletionTrace)]
        self.parsers = {r.source.format for r in self.messages}

    def by_locator(self, locator: str) -> Message:
        found = [m for m in self.messages if m.source.locator == locator]
        assert len(found) == 1, f"{locator}: {len(found)} messages"
        return found[0]

    def warnings(self, category: str) -> list[str]:
        return [
            example
            for (_, cat), w in self.ctx.warnings.items()
            if cat == category
            for example in w.examples
        ]


def cli_jsonl(path: Path) -> tuple[list[dict], str]:
    result = CliRunner().invoke(main, ["parse", str(path), "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = list(read_records(result.stdout.splitlines()))
    return lines, result.stderr
