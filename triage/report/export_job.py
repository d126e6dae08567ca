"""The exports beside the pages (``messages.csv``, ``triage.xlsx``, the other CSVs and
``findings.json``), written in a second process while the pages are rendered.

Both are views of the same committed case store and write different files, so on a machine with
two or more cores a large case's exports run beside its pages instead of after them (the workbook
alone costs about as much as every conversation page). The bytes written are the same either way:
the second process runs the very function (:func:`write_exports`) the report runs in-process for
a small case, on its own read-only connection to the store. A failure there is raised here, naming
what failed, so the run stops as it would have in-process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

from triage.casefile import Case
from triage.collector import collector_paused
from triage.report import chronology
from triage.report.exports import (
    finding_refs,
    write_calls_csv,
    write_findings_csv,
    write_findings_json,
    write_group_members_csv,
    write_lexicon_hits_csv,
    write_messages_csv,
    write_pictures_csv,
)
from triage.report.workbook import WORKBOOK_NAME, Workbook
from triage.store import Store

#: From this many live messages the exports get a process of their own (below it, starting a
#: second interpreter costs more than it saves).
PARALLEL_FROM = 20_000


class ExportsFailed(RuntimeError):
    """The second process writing the exports failed; the message says what went wrong."""


def write_exports(store: Store, case: Case, out: Path) -> None:
    """Every export of the case store into ``out``, in this process."""
    # The findings are read once for the eight exports and sheets made from them.
    findings = store.findings()
    # One read of the messages writes messages.csv and the workbook's messages sheet, and
    # gives findings.json the time and source of each message the findings rest on.
    book = Workbook(store, case, out / WORKBOOK_NAME)
    provenance = write_messages_csv(
        store, out / "messages.csv", case, sheet=book, refs=finding_refs(findings)
    )
    write_findings_json(store, out / "findings.json", findings, provenance)
    write_calls_csv(store, out / "calls.csv", case, findings)
    write_findings_csv(store, out / "findings.csv", findings)
    chronology.write_chronology_csv(store, out / "chronology.csv", findings)
    write_group_members_csv(store, out / "group_members.csv", findings)
    write_lexicon_hits_csv(store, out / "lexicon_hits.csv")
    write_pictures_csv(store, out / "pictures.csv")
    book.close(findings)


# The second process: a fresh interpreter (not a fork: this one holds an open SQLite connection)
# that reads what to write from its standard input. Not multiprocessing, which would import the
# caller's main script again in the child.
_CHILD = (
    "import pickle, sys; job = pickle.load(sys.stdin.buffer); sys.path[:0] = job['path']; "
    "from triage.report.export_job import _write_from; _write_from(job)"
)


def _write_from(job: dict[str, Any]) -> None:
    store = Store.open(Path(job["store"]))
    try:
        with collector_paused():
            write_exports(store, job["case"], Path(job["out"]))
    except Exception as exc:
        if os.environ.get("TRIAGE_DEBUG"):
            traceback.print_exc()
        # The parent names the failure from the last line written here.
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        store.close()


class Exports:
    """The exports of one report: started before the pages (in a second process when the case
    is large, the machine has a second core and the store is committed to its file), finished
    after them by :meth:`finish`."""

    def __init__(self, store: Store, case: Case, out: Path, parallel: bool | None = None) -> None:
        self.store, self.case, self.out = store, case, out
        if parallel is None:
            parallel = (
                (os.cpu_count() or 1) > 1
                and not store.conn.in_transaction
                and Path(store.path).is_file()
                and store.holds_live_messages(PARALLEL_FROM)
            )
        self._child: subprocess.Popen[bytes] | None = None
        job = {"store": str(store.path), "case": case, "out": str(out), "path": sys.path}
        try:
            payload = pickle.dumps(job) if parallel and sys.executable else None
        except (pickle.PicklingError, TypeError, AttributeError):
            payload = None  # a case that cannot be handed over is written here instead
        if payload is not None:
            self._child = subprocess.Popen(
                [sys.executable, "-c", _CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            assert self._child.stdin is not None
            try:
                self._child.stdin.write(payload)
                self._child.stdin.close()
            except BrokenPipeError:
                pass  # it stopped before reading: finish() reports how

    def finish(self) -> None:
        """Write the exports (or wait for the second process to have written them)."""
        child = self._child
        if child is None:
            write_exports(self.store, self.case, self.out)
            return
        assert child.stderr is not None
        errors = child.stderr.read().decode("utf-8", "replace").strip()
        code = child.wait()
        self._child = None
        if code != 0:
            if os.environ.get("TRIAGE_DEBUG"):
                sys.stderr.write(errors + "\n")
            last = errors.splitlines()[-1] if errors else f"exit status {code}"
            raise ExportsFailed(
                f"{self.out}: writing messages.csv, triage.xlsx and the other exports failed: "
                f"{last}"
            )

    def close(self) -> None:
        """Let the second process go (after it has finished what it is writing)."""
        if self._child is not None:
            if self._child.stderr is not None:
                self._child.stderr.read()
            self._child.wait()
            self._child = None
