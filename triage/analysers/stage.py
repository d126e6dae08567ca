"""The analysers stage: every analyser in order, its labels and findings written to the store; on
a large case some of them computed in a second process beside this one.

In one process the stage is a loop: run an analyser, write its findings, record that it ran. The
analysers marked ``beside`` (they write nothing to the store but labels through
``Store.add_labels``, and read of earlier analysers only what their ``reads`` names) can instead be
computed by a second process as soon as what they read is in the store, while this one runs the
others. This process still writes everything, in the same order: at a beside analyser's turn it
takes what the second process computed (its ``add_labels`` calls, its findings, the settings it
set) and writes that as the analyser would have. So the store holds the same rows either way.

Measured at 300,000 messages (bench/bench_run.py's case, 2 cores): gaps, lexicon and groups
(about 1.2 s of the stage's 3.0 s in one process) run in the second process beside the
correspondent counts and the duty labels.

For a large case the store is in write-ahead-log mode for the stage: a reader in the second
process then never holds up a commit here (in the rollback-journal mode the store is kept in, a
commit waits until no other process is reading). It goes back to its rollback journal when the
stage ends, the log copied into the file. Its pages then hold what they hold after the stage in
that journal mode; the file's header differs in its change counter (offsets 24 and 92), which a
commit in write-ahead-log mode does not count. The mode goes with the case's size alone, not with
the machine's cores or with what becomes of the second process, so the same inputs give the same
file on any machine whose file system has the log (a case under :data:`PARALLEL_FROM` messages
keeps its journal and the file it always had).

The second process is a fresh interpreter (this one holds an open SQLite connection, which a fork
would share) started with the stage; it reads the store on its own connection. Whatever goes
wrong there (it cannot start, stops, sends something unreadable, an analyser raises) the analyser
runs here at its turn, as it would have without a second process: nothing it computed is written.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from triage.analysers import Analyser, Settings, analysers
from triage.casefile import Case
from triage.store import Finding, Store
from triage.store.codec import dumps

#: From this many live messages the beside analysers get a process of their own: starting an
#: interpreter costs about 0.3 s of CPU there, which must be less than what runs beside.
PARALLEL_FROM = 20_000
_HEADER = struct.Struct("<Q")
# The second process: this one's sys.path as its argument, its job and then events (see
# _beside_main) on its standard input.
_CHILD = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
    "from triage.analysers.stage import _beside_main; _beside_main()"
)


def run_analysers(
    store: Store,
    case: Case,
    settings: Settings,
    parallel: bool | None = None,
    chosen: list[Analyser] | None = None,
    second: SecondProcess | None = None,
) -> int:
    """Run the analysers ``chosen`` (by default every one) on ``store`` in order, writing what
    each finds; return how many findings were written. ``parallel`` forces the second process
    (and the write-ahead log) on or off; by default a large case has the log and, on a machine
    with a second core, the second process. ``second`` is one started ahead (:func:`ahead`),
    used or let go here."""
    chosen = analysers() if chosen is None else chosen
    beside = [a for a in chosen if a.beside]
    large = parallel if parallel is not None else second is not None or is_large(store)
    if parallel is None:
        parallel = large and _second_core()
    # A large case's store is in the log mode for the stage whether or not a second process
    # runs, so that its file does not depend on the machine's cores (see the module's notes).
    logged = large and store.write_ahead_log()
    helper = None
    if parallel and beside and logged:
        second = second or SecondProcess.start()
        helper = _Beside.start(store, case, settings, beside, second) if second else None
    elif second is not None:
        second.close()
    findings = 0
    try:
        with store.mapped():
            for analyser in chosen:
                done = helper.result(analyser.name) if helper is not None else None
                if done is None:
                    produced = list(analyser.run(store, case, settings))
                else:
                    produced = done.write(store, settings)
                store.add_findings(produced)
                store.record_analyser(analyser.name, analyser.version)
                if helper is not None:
                    helper.tell(f"recorded {analyser.name}\n".encode())
                findings += len(produced)
                settings.values.setdefault("analysers", {})[analyser.name] = analyser.version
    except BaseException:
        # The stage's own failure is the one to report: the journal is put back if it can be.
        if helper is not None:
            helper.close()
        if logged:
            try:
                store.rollback_journal()
            except Exception:  # noqa: BLE001, S110 - the failure in flight says what went wrong
                pass
        raise
    if helper is not None:
        helper.close()
    if logged:
        store.rollback_journal()
    return findings


class _Done:
    """What a beside analyser computed in the second process, to write here at its turn."""

    def __init__(self, labels: list[tuple[str, list]], findings: list[Finding], values: dict):
        self.labels, self.findings, self.values = labels, findings, values

    def write(self, store: Store, settings: Settings) -> list[Finding]:
        """Write its labels and set its settings as its ``run`` did there; return its findings."""
        for analyser, rows in self.labels:
            store.add_encoded_labels(analyser, rows)
        settings.values.update(self.values)
        return self.findings


def is_large(store: Store) -> bool:
    """Whether ``store`` holds enough messages for the beside analysers to be worth a second
    process (on a machine with a second core)."""
    return store.holds_live_messages(PARALLEL_FROM)


def _second_core() -> bool:
    return (os.cpu_count() or 1) > 1


def ahead(store: Store) -> SecondProcess | None:
    """The second process for the analysers of ``store``, started now when it is worth one:
    started after reading, it has imported the analysers (about 0.3 s) while this process
    builds the store's indexes (about 1.5 s at 300,000 messages)."""
    return SecondProcess.start() if _second_core() and is_large(store) else None


class SecondProcess:
    """The interpreter computing the beside analysers, waiting for its job: a run that stops
    before the stage drops it, which closes its standard input and so ends it."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child

    @classmethod
    def start(cls) -> SecondProcess | None:
        if not sys.executable:
            return None
        try:
            child = subprocess.Popen(
                [sys.executable, "-c", _CHILD, json.dumps(sys.path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, TypeError, ValueError):
            return None
        return cls(child)

    def close(self) -> None:
        """End it (if still running) and collect it."""
        try:
            if self.child.stdin is not None:
                self.child.stdin.close()
        except OSError:
            pass
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait()


class _Beside:
    """This process's end of the second process computing the beside analysers."""

    def __init__(self, store: Store, second: SecondProcess, names: list[str]) -> None:
        self.store, self.second, self.names = store, second, set(names)
        self.child = second.child
        # Frames as they arrive, by analyser name (None: the second process has ended).
        self.frames: dict[str | None, bytes] = {}
        self.arrived = threading.Condition()
        # Results are read off the pipe as they come, so the child never waits for this
        # process to reach an analyser's turn before it starts the next one.
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.failed = False
        self.deaf = False
        self.store.label_listener = self._labels_written

    @classmethod
    def start(
        cls,
        store: Store,
        case: Case,
        settings: Settings,
        beside: list[Analyser],
        second: SecondProcess,
    ) -> _Beside | None:
        """Give ``second`` its job, or let it go and return ``None`` (the stage then runs in
        one process)."""
        job = {
            "store": str(store.path),
            "case": case,
            "settings": settings.values,
            "beside": [a.name for a in beside],
        }
        try:
            payload = pickle.dumps(job)
        except (pickle.PicklingError, TypeError, AttributeError):
            payload = None  # a case that cannot be handed over is analysed here alone
        if payload is None:
            second.close()
            return None
        helper = cls(store, second, job["beside"])
        helper.tell(_HEADER.pack(len(payload)) + payload)
        return helper

    def tell(self, data: bytes) -> None:
        """Send the second process its job or an event (a line: an analyser recorded, labels
        written)."""
        if self.deaf or self.child.stdin is None:
            return
        try:
            self.child.stdin.write(data)
            self.child.stdin.flush()
        except OSError:
            # It has ended: done with every analyser it computes, or failed (which its results,
            # or their absence, tell).
            self.deaf = True

    def _labels_written(self, analyser: str) -> None:
        self.tell(f"labels {analyser}\n".encode())

    def _read(self) -> None:
        pipe = self.child.stdout
        assert pipe is not None
        while True:
            frame = _read_frame(pipe)
            name = _frame_name(frame)
            with self.arrived:
                self.frames[name] = frame
                self.arrived.notify_all()
            if name is None:
                return

    def result(self, name: str) -> _Done | None:
        """What the second process computed for analyser ``name``; ``None`` when it does not
        compute that one or failed (the analyser then runs here)."""
        if self.failed or name not in self.names:
            return None
        with self.arrived:
            self.arrived.wait_for(lambda: name in self.frames or None in self.frames)
            frame = self.frames.pop(name, None)
        if frame is None:
            self.failed = True
            return None
        try:
            kind, _, *rest = pickle.loads(frame.partition(b"\n")[2])
            if kind == "done":
                labels, findings, values = rest
                return _Done(labels, findings, values)
        except Exception:  # noqa: BLE001 - anything unreadable: the rest is analysed here
            pass
        self.failed = True
        return None

    def close(self) -> None:
        """End the second process and take the store back to its rollback journal."""
        self.store.label_listener = None
        self.failed = True
        self.second.close()
        self.reader.join()
        if self.child.stdout is not None:
            self.child.stdout.close()


def _read_frame(pipe: IO[bytes]) -> bytes:
    """The next frame from the second process (empty at its end or a broken frame)."""
    header = pipe.read(_HEADER.size)
    if len(header) != _HEADER.size:
        return b""
    (size,) = _HEADER.unpack(header)
    data = pipe.read(size)
    return data if len(data) == size else b""


def _frame_name(frame: bytes) -> str | None:
    """The analyser a frame is about: its first line (None for an empty or broken frame)."""
    name, newline, _ = frame.partition(b"\n")
    return name.decode("utf-8", "replace") if newline else None


# -- the second process ------------------------------------------------------------------------
class _Recorder:
    """In the second process: the ``add_labels`` calls of one analyser, their values encoded,
    kept instead of written (this process never writes to the store)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list]] = []

    def __call__(self, analyser: str, rows: Iterable[tuple[int, str, Any]]) -> None:
        # Encoded here, so the parent only inserts them (29,700 group labels at 300k).
        self.calls.append((analyser, [(mid, label, dumps(v)) for mid, label, v in rows]))


def _beside_main() -> None:  # pragma: no cover - the child; measured by what the parent receives
    """Compute the beside analysers as what each reads arrives in the store; send each result."""
    by_name = {a.name: a for a in analysers()}  # every analyser imported before the job comes
    events = _Events(0)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to standard error, not into the results
    try:
        job = pickle.loads(events.frame())
    except EOFError:
        return  # let go before the stage
    # Read-only: the store was indexed before the stage; temporary tables are its own.
    store = Store.open(Path(job["store"]))
    case: Case = job["case"]
    ready: set[tuple[str, str]] = set()
    pending = [by_name[name] for name in job["beside"]]
    with store.mapped():
        while pending:
            # What this process was told so far, then the first analyser (in the stage's order)
            # whose reads are all in the store; else wait to be told more.
            told = events.lines(wait=False)
            while True:
                if told is None:
                    return  # the stage has ended
                for kind, about in told:
                    # Labels written in one call are all there once it returned; else when
                    # the analyser is recorded (see Analyser.labels_at_once).
                    if kind == "recorded" or by_name[about].labels_at_once:
                        ready.add((about, "labels"))
                    if kind == "recorded":
                        ready.add((about, "findings"))
                analyser = next((a for a in pending if set(a.reads) <= ready), None)
                if analyser is not None:
                    break
                told = events.lines(wait=True)
            pending.remove(analyser)
            before = job["settings"]
            settings = Settings(copy.deepcopy(before))
            recorder = _Recorder()
            store.add_labels = recorder  # type: ignore[method-assign]
            try:
                produced = list(analyser.run(store, case, settings))
                if set(before) - set(settings.values):
                    raise ValueError("a beside analyser removed a setting")
                values = {
                    k: v for k, v in settings.values.items() if k not in before or before[k] != v
                }
                frame = pickle.dumps(("done", analyser.name, recorder.calls, produced, values))
            except Exception as exc:  # noqa: BLE001 - the parent analyses it itself
                frame = pickle.dumps(("failed", analyser.name, f"{type(exc).__name__}: {exc}"))
                pending = []  # the parent analyses this one and every later one itself
            frame = analyser.name.encode() + b"\n" + frame
            out.write(_HEADER.pack(len(frame)) + frame)
            out.flush()


class _Events:
    """In the second process: its standard input, read unbuffered so that what has arrived can
    be taken without waiting for more: its job (one frame), then one line per event."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, b""

    def _more(self) -> bool:
        data = os.read(self.fd, 1 << 16)
        self.buffer += data
        return bool(data)

    def frame(self) -> bytes:
        while len(self.buffer) < _HEADER.size:
            if not self._more():
                raise EOFError
        (size,) = _HEADER.unpack(self.buffer[: _HEADER.size])
        while len(self.buffer) < _HEADER.size + size:
            if not self._more():
                raise EOFError
        frame = self.buffer[_HEADER.size : _HEADER.size + size]
        self.buffer = self.buffer[_HEADER.size + size :]
        return frame

    def lines(self, wait: bool) -> list[tuple[str, str]] | None:
        """The events that have arrived (waiting for one if ``wait``); None at the end."""
        while wait or select.select([self.fd], [], [], 0)[0]:
            if not self._more():
                return None
            if b"\n" in self.buffer:
                break
        *lines, self.buffer = self.buffer.split(b"\n")
        return [tuple(line.decode().split(" ", 1)) for line in lines]  # type: ignore[misc]
