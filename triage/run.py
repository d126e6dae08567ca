"""One run of a case, end to end: ingest -> analyse -> report -> manifest.

Stages only ever pass data forward: parsers feed the store; analysers read the store and write
findings to it; the report and exports read the store. The manifest records what was read, with
which tool and settings, so the run can be reproduced and checked.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.analysers import Settings, analysers
from triage.analysers.stage import ahead, run_analysers
from triage.audit_stage import import_audit, prepare_audit
from triage.casefile import Case, case_to_data
from triage.coverage import AppIndex, not_read
from triage.devices import DeviceMap, DeviceTagger, devices_examined, own_numbers
from triage.evidence import Evidence
from triage.ingest import (
    ReadOutcome,
    SourceResult,
    open_inputs,
    report_containers,
)
from triage.limits import limits_in_force
from triage.manifest import write_manifest
from triage.media.inventory import picture_files
from triage.model import Record
from triage.output_dir import refuse_inside_sources
from triage.parse_worker import read_batches
from triage.registry import ParseContext
from triage.roster import check_roster
from triage.store import Store, media_records_at
from triage.store.message_cells import Prepared

STORE_NAME = "case.sqlite"


class EvidenceChanged(RuntimeError):
    """An input file changed while the run was reading it: the run's results are not safe."""


@dataclass
class Progress:
    """Hooks the CLI uses to show progress; the default does nothing (tests, library use)."""

    stage: Callable[[str], None] = lambda name: None
    source: Callable[[str, str], None] = lambda file, parser: None
    advance: Callable[[int], None] = lambda n: None


@dataclass
class RunResult:
    out: Path
    store_path: Path
    manifest_path: Path
    report_path: Path | None
    sources: list[SourceResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Relevant things not read or read in part (triage.coverage.NotRead as JSON).
    not_read: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    # Files that looked like evidence and could not be read, with why (also in ``skipped``).
    problems: list[tuple[str, str]] = field(default_factory=list)
    # Exit status of ``triage run``: all read, partly read, nothing readable (triage.ingest).
    status: int = 0


def run_case(
    case: Case,
    out: Path,
    date_order: str | None = None,
    progress: Progress | None = None,
    report: bool = True,
) -> RunResult:
    """Run ``case`` into the output directory ``out`` (created; an existing store is replaced).

    A run that stops with an error once it has replaced the store records why in the store and
    marks every report page in ``out`` with it (:mod:`triage.report.failed`)."""
    opened: list[Store] = []
    try:
        return _run(case, out, date_order, progress, report, opened)
    except EvidenceChanged:
        raise  # recorded and shown on every page where it was found
    except Exception as exc:
        if opened:
            why = f"the run stopped with an internal error: {type(exc).__name__}: {exc}"
            try:
                opened[0].set_meta(run_failed=why)
            except Exception:  # noqa: BLE001 - the store may be what failed; the pages still say it
                pass
            from triage.report.failed import mark_pages

            mark_pages(out, why)
        raise


def _run(
    case: Case,
    out: Path,
    date_order: str | None,
    progress: Progress | None,
    report: bool,
    opened: list[Store],
) -> RunResult:
    progress = progress or Progress()
    # A profile that does not fit its export stops the run before anything is read (exit 2).
    audit_plan = prepare_audit(case)
    # So does a roster that cannot be read: one line naming file, line and field (exit 2).
    roster_notes = check_roster(case)
    refuse_inside_sources(out, ((s.path, s.label) for s in case.sources))
    started = dt.datetime.now(dt.UTC)
    out.mkdir(parents=True, exist_ok=True)
    # Picture hashes of a previous run into the same directory: nothing is decoded twice.
    previous = media_records_at(out / STORE_NAME)
    store = Store.create(out / STORE_NAME, case.timezone)
    opened.append(store)
    ctx = ParseContext(
        timezone=case.timezone,
        region=case.region,
        date_order=date_order,
        owner=case.owner_parties(),
        owner_names=case.owner_names(),
    )
    settings = Settings(
        {
            "timezone": case.timezone,
            "region": case.region,
            "date_order": date_order,
            "limits": limits_in_force(),
        }
    )
    for note in roster_notes:
        ctx.warn(note.file, "doubtful roster entry", note.text)
    results: list[SourceResult] = []
    skipped: list[tuple[str, str]] = []
    with Evidence() as evidence:
        progress.stage("Detecting sources")
        opened: dict[int, str] = {}
        detections = open_inputs(
            evidence,
            [(s.path, s.label) for s in case.sources],
            {s.label: s.password for s in case.sources if s.password},
            opened,
        )
        devices = DeviceMap(case, opened)
        unread = [item.to_json() for item in not_read(evidence, detections)]
        apps = AppIndex(detections)
        skipped.extend(report_containers(evidence, ctx))
        readable = [d for d in detections if d.parser is not None]
        outcome = ReadOutcome(refusals=evidence.refusals())
        outcome.add_detections(detections, set())
        pictures = picture_files(evidence)
        skipped.extend(
            (d.file.logical, d.reason)
            for d in detections
            if d.parser is None and d.claimed_by is None and id(d.file) not in pictures
        )
        # Higher-priority parsers first, so the fuller copy of duplicated messages is kept.
        readable.sort(key=lambda d: (-d.parser.priority, d.file.logical))  # type: ignore[union-attr]
        progress.stage("Reading sources")
        for detection in readable:
            parser = detection.parser
            assert parser is not None
            progress.source(detection.file.logical, parser.name)
            app = apps.label(detection.file.logical)
            if app:
                ctx.decide(detection.file.logical, app=app)
            result = SourceResult(detection.file, parser.name, parser.version)
            device = devices.device_of(detection.file)
            # The owner of this device: its own identifiers first, then the subject's.
            ctx.owner = case.owner_parties(device)
            ctx.owner_names = case.owner_names(device)
            try:
                detection.file.sha256  # noqa: B018 - hashed before reading: a member may be damaged
            except OSError as exc:
                skipped.append((detection.file.logical, f"could not be read: {exc}"))
                ctx.warn(detection.file.logical, "unreadable file", str(exc))
                continue
            source_id = store.add_source(
                detection.file.logical,
                detection.file.sha256,
                detection.file.size,
                parser.name,
                parser.version,
                device,
            )
            tag = DeviceTagger(device or "device-1", case.several_devices)
            # Tagged and prepared for the store where the source is read (triage.parse_worker).
            batches = read_batches(detection, ctx, result, _Preparer(tag, store))
            store.ingest_prepared(source_id, _counting(batches, progress))
            store.finish_source(source_id, result.error)
            results.append(result)
        # The analysers' second process, started now: it imports them while this one indexes.
        second = ahead(store)
        later = _LaterStages(report)
        store.index()
        # One WhatsApp call recorded by the app and by the phone's call log is one call.
        store.merge_call_copies()
        # An SMS between two of his phones is one message seen twice (triage.message_copies).
        if case.several_devices:
            store.merge_text_copies(own_numbers(case))
        later.ready()
        # Files of a source its parser could not read (a corrupt message_2.json).
        skipped.extend(ctx.unread_files)
        outcome.problems.extend(ctx.unread_files)
        outcome.sources = results

        audit = import_audit(audit_plan, case, evidence, store, ctx)
        if audit:
            settings.values["audit"] = audit

        progress.stage("Hashing pictures and comparing them with the exhibits")
        from triage.media.stage import previous_cache, run_media  # see _LaterStages

        media = run_media(
            evidence, store, case, out, previous_cache(previous), status=progress.stage
        )
        for file, reason in media.unreadable:
            ctx.warn(file, "unreadable picture", reason)
        for file, reason in media.damaged:
            ctx.warn(file, "damaged thumbnail cache record", reason)
        for file, line, reason in media.problems:
            ctx.warn(file, "unusable exhibit entry", f"line {line}: {reason}" if line else reason)
        settings.values["media"] = media.settings
        store.set_media_devices(
            (m.logical, devices.device_of(m)) for m in evidence.files() if id(m) in pictures
        )
        examined = devices_examined(case, evidence)

        store.add_skipped(skipped)
        store.add_warnings(
            (w.file, w.category, w.count, w.examples)
            for w in sorted(ctx.warnings.values(), key=lambda w: (w.file, w.category))
        )
        store.set_meta(
            case_reference=case.reference,
            case_title=case.title,
            timezone=case.timezone,
            region=case.region,
            subject=case.subject_name,
            decisions=ctx.decisions,
            media=media.meta(),
            not_read=unread,
            case=case_to_data(case),
            devices=examined,
        )

        progress.stage("Analysing")
        findings = run_analysers(store, case, settings, chosen=analysers(), second=second)

        report_path = None
        if report:
            progress.stage("Writing report")
            from triage.report import report_from_store

            # The report is a view of the store alone: what `triage report` rebuilds.
            store.set_meta(settings=settings.values)
            report_path = report_from_store(store, out)

        progress.stage("Verifying evidence is unchanged")
        try:
            changed = evidence.verify()
        except Exception as exc:
            if report_path is not None:
                _mark_failed(store, out, f"internal error while verifying the evidence: {exc}")
            raise
        if changed and report_path is not None:
            # The pages already written must not look like a valid result.
            _mark_failed(store, out, "evidence changed during the run: " + "; ".join(changed))
        inputs = [
            {
                "file": rec.logical,
                "size": rec.size,
                "sha256_before": rec.sha256,
                "sha256_after": rec.sha256_after,
                "unchanged": rec.unchanged,
            }
            for rec in sorted(evidence.disk.values(), key=lambda r: r.logical)
        ]
    counts = store.counts()
    warnings = store.warnings()
    store.close()
    finished = dt.datetime.now(dt.UTC)
    manifest_path = write_manifest(
        out,
        case=case,
        started=started,
        finished=finished,
        inputs=inputs,
        sources=results,
        skipped=skipped,
        warnings=warnings,
        decisions=ctx.decisions,
        settings=settings.values,
        counts=counts,
        changed=changed,
        not_read=unread,
        media_cache=media.cache_use(),
        devices=examined,
        parsers=[d.parser for d in readable if d.parser is not None],
    )
    if changed:
        raise EvidenceChanged("; ".join(changed))
    return RunResult(
        out=out,
        store_path=out / STORE_NAME,
        manifest_path=manifest_path,
        report_path=report_path,
        sources=results,
        skipped=skipped,
        not_read=unread,
        warnings=warnings,
        counts=counts,
        findings=findings,
        problems=outcome.problems,
        status=outcome.status(ctx, other_reads=media.reads()),
    )


def _mark_failed(store: Store, out: Path, why: str) -> None:
    """Record in the store that the run failed, and why, and write the report again from it:
    every page then carries the failure (the report stays a view of the store alone)."""
    from triage.report import report_from_store

    store.set_meta(run_failed=why)
    report_from_store(store, out)


class _LaterStages:
    """The picture stage's libraries and the analysers' modules imported, and the report's
    templates compiled, by a thread while this one builds the store's indexes: SQLite lets go
    of the interpreter lock while it builds them (0.46 s at 300,000 messages), so the thread has
    the other core, where only the analysers' second process starting up runs then. Before,
    numpy, Pillow and imagehash (0.13-0.14 s of CPU) were imported at start-up, with one core
    idle, by a run with no picture as by any; the analysers stage imported its modules (0.02 s)
    and the report compiled its templates (0.17-0.26 s), on cores both busy then.

    The thread only fills caches: whatever fails there fails again, as before, where the stage
    does it. :meth:`ready` waits for it, before anything is forked (a fork while another thread
    imports could leave the child holding an import lock)."""

    def __init__(self, report: bool) -> None:
        self._thread = threading.Thread(target=self._run, args=(report,), daemon=True)
        self._thread.start()

    @staticmethod
    def _run(report: bool) -> None:
        try:
            import triage.media.stage  # noqa: F401 - numpy, Pillow, imagehash

            analysers()
            if report:
                from triage.report.writer import compile_templates

                compile_templates()
        except Exception:  # noqa: BLE001, S110 - raised again where the stage itself does it
            pass

    def ready(self) -> None:
        self._thread.join()


@dataclass
class _Preparer:
    """A batch of one source's records tagged with their device, then prepared for the store
    (:meth:`Store.prepare`); needs nothing the store's process alone has, so it can run in the
    parse worker's."""

    tag: DeviceTagger
    store: Store

    def __call__(self, batch: list[Record]) -> Prepared:
        return self.store.prepare(self.tag.batch(batch))


def _counting(batches: Iterable[Prepared], progress: Progress) -> Iterator[Prepared]:
    for batch in batches:
        progress.advance(len(batch))
        yield batch
