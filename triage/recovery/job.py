"""Deleted-row recovery of a large database in a second process, beside the parse that reads it.

The recovery scan of a database reads its bytes only (:mod:`triage.recovery.scan`), not what
the parser reads from SQLite, so a parser can start it when it opens a large database and take
its result when its live rows are done: the scan then runs on a second core while the live rows
are parsed, and the records it found are turned into messages at the very point they were
before, in the same order. The second process is a fresh interpreter (not a fork: the parser
holds an open SQLite connection; not multiprocessing, which would import the caller's main
script again) running the very function run in-process for a small database, on the same bytes
(streamed to it by a thread of this process, read through :meth:`EvidenceFile.open` as always).

Whatever goes wrong with the second process (it cannot start, stops, answers with something
unexpected) the scan is run again in-process, so what the run records (the recovery decision,
a warning naming the file, or an error) is what it would have been without one.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from triage.recovery.scan import RecoveryResult, recover
from triage.sqlitefile.record import Corrupt

if TYPE_CHECKING:  # the second process imports only the scan
    from triage.evidence import EvidenceFile
    from triage.registry import ParseContext

#: From this many bytes of database and WAL the scan gets a process of its own (below it,
#: starting a second interpreter costs about what the scan would; 16 MiB is about 100,000 rows
#: of WhatsApp ``message``).
PARALLEL_FROM = 16 * 2**20
_CHUNK = 1 << 20

_CHILD = (
    "import pickle, sys; job = pickle.load(sys.stdin.buffer); sys.path[:0] = job['path']; "
    "from triage.recovery.job import _scan_from; _scan_from(job)"
)


def _scan_from(job: dict[str, Any]) -> None:
    """In the second process: read the bytes announced, scan them, write the outcome."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    db = stdin.read(job["db"])
    wal = stdin.read(job["wal"]) if job["wal"] is not None else None
    if len(db) != job["db"] or (wal is not None and len(wal) != job["wal"]):
        raise SystemExit(1)  # the bytes did not all arrive: the parent scans in-process
    try:
        outcome: tuple[str, Any] = ("result", recover(db, wal, job["targets"]))
    except (Corrupt, OSError, IndexError) as exc:
        outcome = ("not possible", str(exc))
    pickle.dump(outcome, stdout)
    stdout.flush()


class PendingRecovery:
    """The recovery of ``targets`` in ``file`` (and its ``-wal``): started in a second process
    when the database is large and the machine has a second core, else run when asked for."""

    def __init__(
        self,
        file: EvidenceFile,
        targets: Mapping[str, tuple[str, ...]],
        parallel: bool | None = None,
    ) -> None:
        self.file, self.targets = file, dict(targets)
        self.wal_file = file.sibling(file.name + "-wal")
        wal_size = self.wal_file.size if self.wal_file else None
        if parallel is None:
            parallel = (os.cpu_count() or 1) > 1 and file.size + (wal_size or 0) >= PARALLEL_FROM
        self._child: subprocess.Popen[bytes] | None = None
        self._feeding: threading.Thread | None = None
        self._fed = False
        if not parallel or not sys.executable:
            return
        job = {"path": sys.path, "targets": self.targets, "db": file.size, "wal": wal_size}
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-c", _CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None if os.environ.get("TRIAGE_DEBUG") else subprocess.DEVNULL,
            )
        except OSError:
            return  # no second process: scanned in-process when asked
        self._feeding = threading.Thread(
            target=self._feed, args=(pickle.dumps(job),), name="recovery-feed", daemon=True
        )
        self._feeding.start()

    def _feed(self, job: bytes) -> None:
        child = self._child
        assert child is not None and child.stdin is not None
        try:
            child.stdin.write(job)
            for source in (self.file, self.wal_file):
                if source is not None:
                    with source.open() as handle:
                        shutil.copyfileobj(handle, child.stdin, _CHUNK)
            self._fed = True
        except (OSError, ValueError):
            pass  # unreadable evidence or a stopped child: scanned again in-process
        finally:
            try:
                child.stdin.close()
            except OSError:
                pass

    def result(self, ctx: ParseContext) -> RecoveryResult | None:
        """What ``recover_evidence`` gives for this file, recorded in ``ctx`` the same way."""
        from triage.recovery.evidence import record_outcome, recover_evidence

        outcome = self._collect()
        if outcome is None:
            return recover_evidence(self.file, ctx, self.targets)
        return record_outcome(self.file, ctx, outcome)

    def _collect(self) -> tuple[str, Any] | None:
        child, self._child = self._child, None
        if child is None:
            return None
        assert child.stdout is not None
        try:
            data = child.stdout.read()
        finally:
            child.stdout.close()
            code = child.wait()
            if self._feeding is not None:
                self._feeding.join()
        if code != 0 or not self._fed:
            return None
        try:
            outcome = pickle.loads(data)
        except Exception:  # noqa: BLE001 - any unreadable answer: scanned again in-process
            return None
        if not (isinstance(outcome, tuple) and len(outcome) == 2):
            return None
        kind, value = outcome
        if kind == "result" and isinstance(value, RecoveryResult):
            return outcome
        if kind == "not possible" and isinstance(value, str):
            return outcome
        return None

    def close(self) -> None:
        """Stop a second process whose result is no longer wanted (the parse ended early)."""
        child, self._child = self._child, None
        if child is None:
            return
        child.kill()
        if child.stdout is not None:
            child.stdout.close()
        child.wait()
        if self._feeding is not None:
            self._feeding.join()

    __del__ = close
