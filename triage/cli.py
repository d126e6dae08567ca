"""The ``triage`` command line."""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import sys
from collections import Counter
from pathlib import Path

import click
from rich.console import Console

from triage import __version__
from triage.evidence import Evidence
from triage.ingest import (
    EXIT_NOTHING_READ,
    EXIT_PARTLY_READ,
    ReadOutcome,
    iter_records,
    open_inputs,
)
from triage.jsonl import JsonlWriter
from triage.model import Call, Message
from triage.registry import ParseContext
from triage.terminal import plain, shown

err = Console(stderr=True, highlight=False, soft_wrap=True)

#: Files listed one by one on stderr when nothing at all was read.
MAX_LISTED = 20

# The demo with both of his phones (fixtures/demo/case.yaml is the same case, work phone only).
DEMO_CASE = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "case-two-phones.yaml"


class UserError(click.ClickException):
    """A problem with what the user gave us: one line, no traceback, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"error: {plain(self.message)}", err=True)


#: Commands defined in other modules, imported only when named (or listed by --help): a
#: ``triage parse`` does not pay for the picture commands' imports at start-up.
_ELSEWHERE = {
    "hash": ("triage.media.commands", "hash_command"),
    "match": ("triage.media.commands", "match_command"),
}


class _Group(click.Group):
    """Turns an unexpected exception into one line; TRIAGE_DEBUG=1 shows the traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_ELSEWHERE})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _ELSEWHERE and cmd_name not in self.commands:
            module, name = _ELSEWHERE[cmd_name]
            self.add_command(getattr(importlib.import_module(module), name))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _quiet_broken_pipe()
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("TRIAGE_DEBUG"):
                raise
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {plain(exc)} "
                "(please report it; set TRIAGE_DEBUG=1 to see the traceback)"
            ) from None


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="triage")
def main() -> None:
    """Forensic triage of a phone extraction for misconduct investigations.

    Start with the demo to see what a report looks like:

        triage demo

    Then describe your case in a case file (see the README) and run it:

        triage run case.yaml --out report/
    """


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``triage parse ... | head``): stop quietly, as Unix
    tools do. Pointing stdout at /dev/null keeps Python's own flush at exit from failing too;
    the status is the shell's for a process ended by SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test runner's buffer)
        pass
    finally:
        os.close(devnull)
    raise click.exceptions.Exit(141)


def _existing_paths(paths: tuple[str, ...]) -> list[Path]:
    out = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"{raw}: no such file or folder")
        out.append(path)
    return out


@main.command()
@click.argument("case_file", metavar="CASE.yaml", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Output directory for the case store, manifest and report (created).",
)
@click.option(
    "--date-order",
    type=click.Choice(["DMY", "MDY", "YMD"]),
    help="Override the inferred day/month order of text exports.",
)
def run(case_file: str, out: str, date_order: str | None) -> None:
    """Read every source in the case file, analyse, and write the report to --out.

    The output directory receives the case store (case.sqlite), manifest.json (inputs and their
    SHA-256, tool and parser versions, settings, warnings) and the report (index.html with
    findings.json, messages.csv and findings.csv beside it). Evidence is only read, never
    written; the run fails if any input changed while it ran.

    Example:

        triage run case.yaml --out reports/PSD-2026-0142
    """
    _run_case(Path(case_file), Path(out), date_order)


@main.command()
@click.option(
    "--out",
    "out",
    default="triage-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to write the demo report.",
)
def demo(out: str) -> None:
    """Run the shipped demo case (a synthetic officer's work and personal phones, his old
    iPhone and his Facebook download) and print where the report is.

    Example:

        triage demo --out /tmp/demo-report
    """
    case_file = DEMO_CASE
    if not case_file.exists():
        raise UserError(
            f"the demo case is not here ({case_file}); it ships with the source checkout: "
            "install with 'pip install -e .' from a clone of the repository"
        )
    _run_case(case_file, Path(out), None)


@main.command()
@click.argument("case_dir", metavar="CASE_DIR", type=click.Path(file_okay=False))
def report(case_dir: str) -> None:
    """Rebuild the report of a finished run from its case store (CASE_DIR/case.sqlite) alone.

    The pages and exports are written again into CASE_DIR exactly as the run wrote them; the
    case file and the evidence are not read.

    Example:

        triage report reports/PSD-2026-0142
    """
    from triage.report import NotACaseStore, rebuild_report

    _frozen_at_exit()
    try:
        index = rebuild_report(Path(case_dir))
    except NotACaseStore as exc:
        raise UserError(str(exc)) from None
    Console(stderr=True, highlight=False).print(f"Report: {shown(str(index))}")


def _frozen_at_exit() -> None:
    """Let what a run leaves in memory go with the process: frozen once the interpreter is
    exiting, the full collections it runs while shutting down skip every object instead of
    walking them all (0.15-0.35 s on one core at 300,000 messages, after the last file is
    written and closed). Only at exit (``atexit``), so a caller running commands in-process
    (the tests) collects as before until it ends."""
    atexit.unregister(gc.freeze)  # registered once however many runs this process makes
    atexit.register(gc.freeze)


def _run_case(case_file: Path, out: Path, date_order: str | None) -> None:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from triage.casefile import CaseFileError, load_case
    from triage.contact_overlap import shared_identifiers
    from triage.lexicon import load_lexicons
    from triage.output_dir import OutputRefused, refuse_inside_sources, unexpected_contents
    from triage.run import EvidenceChanged, run_case
    from triage.run import Progress as RunProgress
    from triage.run_summary import count, print_summary, started_line

    _frozen_at_exit()
    try:
        case = load_case(case_file)
        load_lexicons(case.lexicons)  # a bad lexicon is named before anything is read
    except CaseFileError as exc:
        raise UserError(str(exc)) from None
    console = Console(stderr=True, highlight=False)
    try:
        refuse_inside_sources(out, ((s.path, s.label) for s in case.sources))
    except OutputRefused as exc:
        raise UserError(str(exc)) from None
    crowded = unexpected_contents(out)
    if crowded:
        console.print(f"[yellow]warning:[/] {shown(crowded)}")
    for shared in shared_identifiers(case.contacts):
        console.print(f"[yellow]warning:[/] {shown(shared.sentence())}.")
    console.print(started_line(case, out))
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,} records"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None, rate="")

        def advance(n: int) -> None:
            bar.advance(task, n)
            elapsed = bar.tasks[0].elapsed or 0
            if elapsed:
                bar.update(task, rate=f"{bar.tasks[0].completed / elapsed:,.0f}/s")

        hooks = RunProgress(
            stage=lambda name: bar.update(task, description=name),
            source=lambda file, parser: bar.update(
                task, description=f"Reading {shown(file)} ({parser})"
            ),
            advance=advance,
        )
        try:
            result = run_case(case, out, date_order=date_order, progress=hooks)
        except CaseFileError as exc:  # an audit profile that does not fit its export
            raise UserError(str(exc)) from None
        except EvidenceChanged as exc:
            raise click.ClickException(
                f"evidence changed during the run, results must not be used: {plain(exc)}"
            ) from None

    print_summary(console, case, result)
    if result.skipped:
        console.print(
            f"{count(len(result.skipped), 'other file')} not read (not message sources); "
            "the report's coverage page lists them with why"
        )
    for item in result.not_read:
        console.print(
            f"[yellow]not read ({shown(item['category'])}):[/] "
            f"{shown(item['file'])}: {shown(item['reason'])}"
        )
    total = sum(w["count"] for w in result.warnings)
    if total:
        console.print(
            f"[yellow]{count(total, 'problem')} reported while reading; the report's coverage "
            "page lists them.[/]"
        )
    for file, reason in result.problems:
        console.print(f"[yellow]not read:[/] {shown(file)}: {shown(reason)}")
    console.print(f"{count(result.findings, 'finding')}. Report: {shown(result.report_path)}")
    click.echo(str(result.report_path))
    if result.status == EXIT_NOTHING_READ:
        console.print("[red]nothing readable[/] in the case's sources (exit status 4)")
    elif result.status == EXIT_PARTLY_READ:
        console.print("[yellow]partly read[/]: some files could not be read (exit status 3)")
    if result.status:
        raise click.exceptions.Exit(result.status)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per file instead of tables."
)
def detect(paths: tuple[str, ...], as_json: bool) -> None:
    """List the sources triage can read under PATHS, and what it skipped and why.

    PATHS may be files, folders or archives (zip, tar) of whole extractions; archives inside them
    are opened too. Formats are recognised by content, never by file name.

    Example:

        triage detect extraction.zip
    """
    from rich.table import Table  # here: the other commands start without it

    from triage.coverage import AppIndex, not_read

    with Evidence() as evidence:
        detections = open_inputs(evidence, [(p, str(p)) for p in _existing_paths(paths)])
        unread = not_read(evidence, detections)
        apps = AppIndex(detections)
        if as_json:
            for d in detections:
                row = {
                    "file": d.file.logical,
                    "size": d.file.size,
                    "format": d.parser.name if d.parser else None,
                    "also_matched": d.also_matched,
                    "read_with": d.claimed_by.logical if d.claimed_by else None,
                    "reason": d.reason,
                    "parser_version": d.parser.version if d.parser else None,
                    "app": apps.label(d.file.logical),
                }
                click.echo(json.dumps(row, ensure_ascii=False))
            for refusal in evidence.refusals():
                click.echo(
                    json.dumps({"file": refusal.path, "format": None, "reason": refusal.reason})
                )
            for item in unread:
                click.echo(json.dumps({**item.to_json(), "format": None, "not_read": True}))
            return
        found = Table(title="Sources found", show_lines=False)
        found.add_column("file", overflow="fold")
        found.add_column("format")
        found.add_column("app")
        found.add_column("size", justify="right")
        skipped = Table(title="Skipped")
        skipped.add_column("file", overflow="fold")
        skipped.add_column("why", overflow="fold")
        for d in detections:
            if d.parser is not None:
                note = f" (also: {', '.join(d.also_matched)})" if d.also_matched else ""
                found.add_row(
                    shown(d.file.logical),
                    d.parser.name + note,
                    apps.label(d.file.logical) or "",
                    f"{d.file.size:,}",
                )
            else:
                skipped.add_row(shown(d.file.logical), shown(d.reason))
        for refusal in evidence.refusals():
            skipped.add_row(shown(refusal.path), shown(refusal.reason))
        console = Console(highlight=False)
        console.print(found)
        console.print(skipped)
        if unread:
            table = Table(title="Relevant but not read (or read in part)")
            table.add_column("file", overflow="fold")
            table.add_column("what")
            table.add_column("why", overflow="fold")
            for item in unread:
                table.add_row(shown(item.file), shown(item.category), shown(item.reason))
            console.print(table)


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
    """Print the normalised messages and calls read from PATHS as JSON lines.

    The stable schema of the README, version 2: each line has a "record" key. A message line
    ("message": timestamp_utc, direction, body, kind, locator...) or a call line ("call":
    network, direction, result, duration_s...) refers by key to its conversation, parties and
    source file, each written once on its own line before first use. Warnings and a count per
    source go to stderr, so stdout stays valid JSONL.

    Example:

        triage parse msgstore.db --jsonl > messages.jsonl
    """
    try:
        ctx = ParseContext(timezone=timezone, region=region, date_order=date_order)
    except Exception as exc:
        raise UserError(f"--timezone {timezone}: not a known time zone ({exc})") from exc
    writer = JsonlWriter(click.get_binary_stream("stdout"))
    write, write_call = writer.write, writer.write_call
    outcome = ReadOutcome()
    for _, record in iter_records(_existing_paths(paths), ctx, outcome, writer):
        if isinstance(record, Message):
            write(record)
        elif isinstance(record, Call):
            write_call(record)
    writer.flush()
    # Per file, from what ingest counted for each source while it checked the records.
    counts: dict[str, Counter[str]] = {}
    for source in outcome.sources:
        if source.counts["messages"] or source.counts["calls"]:
            counts.setdefault(source.file.logical, Counter()).update(source.counts)
    for file, count in counts.items():
        calls = f", {count['calls']:,} calls" if count["calls"] else ""
        err.print(f"{count['messages']:>8,} messages{calls}  {shown(file)}")
    for warning in ctx.warnings.values():
        err.print(
            f"[yellow]warning:[/] {shown(warning.file)}: {shown(warning.category)} "
            f"x{warning.count} (e.g. {shown(warning.examples[0])})"
        )
    raise click.exceptions.Exit(_say_what_was_not_read(outcome, ctx))


def _say_what_was_not_read(outcome: ReadOutcome, ctx: ParseContext) -> int:
    """Name on stderr every file that looked like evidence and was not read, and why; return
    the exit status (README, "Exit status")."""
    for folder in outcome.empty_inputs:
        err.print(f"[yellow]not read:[/] {shown(folder)}: empty folder (no files in it)")
    for file, reason in outcome.problems:
        err.print(f"[yellow]not read:[/] {shown(file)}: {shown(reason)}")
    status = outcome.status(ctx)
    if status == EXIT_NOTHING_READ and outcome.others:
        # Nothing at all was read: say what each file was, so the examiner knows why.
        for file, reason in outcome.others[:MAX_LISTED]:
            err.print(f"not read: {shown(file)}: {shown(reason)}")
        if len(outcome.others) > MAX_LISTED:
            err.print(f"... and {len(outcome.others) - MAX_LISTED:,} more (see 'triage detect')")
    elif outcome.others:
        err.print(
            f"{len(outcome.others):,} other file(s) not read (not message sources); "
            "'triage detect' lists them with the reason"
        )
    if status == EXIT_NOTHING_READ:
        err.print("[red]nothing readable[/] in the paths given (exit status 4)")
    elif status == EXIT_PARTLY_READ:
        err.print("[yellow]partly read[/]: some files could not be read (exit status 3)")
    return status
