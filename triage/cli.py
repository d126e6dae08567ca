"""The ``triage`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from triage import __version__
from triage.evidence import Evidence
from triage.ingest import iter_records, open_inputs
from triage.model import Message, message_to_json
from triage.registry import ParseContext

err = Console(stderr=True, highlight=False)


class UserError(click.ClickException):
    """A problem with what the user gave us: one line, no traceback, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"error: {self.message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="triage")
def main() -> None:
    """Forensic triage of a phone extraction for misconduct investigations.

    Start with the demo to see what a report looks like:

        triage demo

    Then describe your case in a case file (see the README) and run it:

        triage run case.yaml --out report/
    """


def _existing_paths(paths: tuple[str, ...]) -> list[Path]:
    out = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"{raw}: no such file or folder")
        out.append(path)
    return out


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def detect(paths: tuple[str, ...]) -> None:
    """List the sources triage can read under PATHS, and what it skipped and why.

    PATHS may be files, folders or archives (zip, tar) of whole extractions; archives inside them
    are opened too. Formats are recognised by content, never by file name.

    Example:

        triage detect extraction.zip
    """
    with Evidence() as evidence:
        detections = open_inputs(evidence, [(p, str(p)) for p in _existing_paths(paths)])
        found = Table(title="Sources found", show_lines=False)
        found.add_column("file", overflow="fold")
        found.add_column("format")
        found.add_column("size", justify="right")
        skipped = Table(title="Skipped")
        skipped.add_column("file", overflow="fold")
        skipped.add_column("why", overflow="fold")
        for d in detections:
            if d.parser is not None:
                note = f" (also: {', '.join(d.also_matched)})" if d.also_matched else ""
                found.add_row(d.file.logical, d.parser.name + note, f"{d.file.size:,}")
            else:
                skipped.add_row(d.file.logical, d.reason)
        for refusal in evidence.refusals():
            skipped.add_row(refusal.path, refusal.reason)
        console = Console(highlight=False)
        console.print(found)
        console.print(skipped)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--jsonl", is_flag=True, help="One JSON object per message on stdout (the default).")
@click.option(
    "--timezone",
    default="Europe/London",
    show_default=True,
    help="Zone for sources that store local time without one (WhatsApp .txt exports).",
)
@click.option(
    "--region",
    default="GB",
    show_default=True,
    help="Default country for phone numbers written without a country code.",
)
@click.option(
    "--date-order",
    type=click.Choice(["DMY", "MDY", "YMD"]),
    help="Override the inferred day/month order of text exports.",
)
def parse(
    paths: tuple[str, ...], jsonl: bool, timezone: str, region: str, date_order: str | None
) -> None:
    """Print the normalised messages read from PATHS as JSON lines.

    Each line is one message in the stable schema documented in the README (platform,
    conversation, timestamp_utc, direction, sender, body, attachments, source...). Warnings and a
    count per source go to stderr, so stdout stays valid JSONL.

    Example:

        triage parse msgstore.db --jsonl > messages.jsonl
    """
    try:
        ctx = ParseContext(timezone=timezone, region=region, date_order=date_order)
    except Exception as exc:
        raise UserError(f"--timezone {timezone}: not a known time zone ({exc})") from exc
    out = sys.stdout
    counts: dict[str, int] = {}
    for result, record in iter_records(_existing_paths(paths), ctx):
        if isinstance(record, Message):
            out.write(json.dumps(message_to_json(record), ensure_ascii=False, sort_keys=False))
            out.write("\n")
            counts[result.file.logical] = counts.get(result.file.logical, 0) + 1
    for file, count in counts.items():
        err.print(f"{count:>8,} messages  {file}")
    for warning in ctx.warnings.values():
        err.print(
            f"[yellow]warning:[/] {warning.file}: {warning.category} x{warning.count} "
            f"(e.g. {warning.examples[0]})"
        )
