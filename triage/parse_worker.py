"""Reading a large source in a second process, while this one stores what it has read.

:func:`read_batches` gives exactly the records :func:`triage.ingest.parse_detection` gives, in
batches, with the same counts, error and warnings, for any parser (:func:`read_source` the
records themselves). For a large source on a machine with a second core, the parser runs in a
child process and sends its records back in batches, while this process stores the batch
before: the parse (about half of reading a WhatsApp database) then runs beside the store's
work instead of before it. What needs nothing of this process is done in the child too: the
run's ``prepare`` (the records tagged with their device and prepared for the store,
:mod:`triage.store.message_cells`) turns each batch into what the store takes. Everything
that gives records their ids, parties and order stays here, in the one process that writes the
store, so the store is written exactly as it is when the parse runs in-process.

The child is a fork of this process taken when the source's first record is wanted (on Linux,
where forking is the platform's own way to start a process). Not a fresh interpreter as for the
deleted-row recovery (:mod:`triage.recovery.job`), because a parser needs the evidence as this
run opened it: files inside archives, a decrypted iOS backup, the private SQLite copies that
detection made and what it found damaged; opening, hashing and decrypting all of that again
would cost more than it saves. The child reads the evidence, runs the parser and writes to its
pipe; it never touches the store (whose connection it inherits unused), takes no lock another
thread of this process may have held at the fork (it writes through standard streams of its
own), and always ends with ``os._exit``, so nothing of this process is flushed, closed or
cleaned up twice.

Batches cross as pickles (a prepared batch writes its plain values as a marshal inside its
own). The model's objects in them cross as their fields (a reducer per :mod:`triage.model`
dataclass, each positional, read back through the class itself): a record reads back equal to
what the parser built, and objects it shares with other records of its batch (a conversation,
a party) stay shared. Batches are :data:`triage.store.messages.BATCH` records long, prepared
once the parser has yielded the last of their records, as they are in-process.

A parser may split its main table between the child and a fork of it
(:mod:`triage.table_halves`, WhatsApp for Android's ``message``): the fork reads the rows from
the middle on and the rest of the source, and puts its frames in a spool file while this
process stores the first part's batches (so they wait on disk, not in memory), which it then
reads; its batches are cut again at :data:`BATCH` records across the middle, so each of the
store's transactions holds what it holds when one process reads the table, and the store's
file is the same. At 300,000 rows the child's 4.5-5.6 s of CPU time became two of 2.3-2.5 s
(load 4.5-5.7).

What the parser records in its :class:`triage.registry.ParseContext` (warnings, decisions,
files not read) is collected in the child and added to this process's context when the source
ends (:meth:`ParseContext.absorb`), with the counts and the error of the
:class:`triage.ingest.SourceResult`. Whatever goes wrong with a child (it cannot start, stops,
sends something unreadable; a second part that ends in a way one pass would not) the source is
read again in-process and the records already stored are skipped: parsers are deterministic, so what the run stores and records (an error, a warning
naming the file, an exception) is what it would have been without a second process.
"""

from __future__ import annotations

import copyreg
import dataclasses
import io
import itertools
import operator
import os
import pickle
import signal
import struct
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from triage import forking, model
from triage.forking import can_fork as _can_fork
from triage.forking import fork_piped, stop_child
from triage.forking import own_stream as _own_stream
from triage.ingest import parse_detection, records_read
from triage.registry import ParseContext
from triage.store.messages import BATCH
from triage.table_halves import FIRST, SECOND, TableHalves

if TYPE_CHECKING:
    from triage.evidence import EvidenceFile
    from triage.ingest import SourceResult
    from triage.model import Record
    from triage.registry import Detection

#: From this many bytes of source (and its ``-wal``) the parser gets a process of its own. Below
#: it the parse is short and sending its records costs about what running it beside the store
#: saves (8 MiB is about 50,000 rows of WhatsApp ``message``).
PARALLEL_FROM = 8 * 2**20
_HEADER = struct.Struct("<Q")


def read_source(
    detection: Detection,
    ctx: ParseContext,
    result: SourceResult,
    parallel: bool | None = None,
) -> Iterator[Record]:
    """The records of one detected source, as :func:`parse_detection` gives them; read by a
    second process when the source is large and the machine has a second core (``parallel``
    forces either way)."""
    for batch in read_batches(detection, ctx, result, None, parallel):
        yield from batch


def read_batches(
    detection: Detection,
    ctx: ParseContext,
    result: SourceResult,
    prepare: Callable[[list[Record]], Any] | None = None,
    parallel: bool | None = None,
) -> Iterator[Any]:
    """The records of one detected source, as :func:`parse_detection` gives them, in batches of
    :data:`BATCH`, each passed through ``prepare`` (for the store: in the second process when
    there is one, so what needs nothing of this process is done beside it)."""
    if parallel is None:
        parallel = worth_a_process(detection.file)
    if not parallel or not _can_fork():
        yield from _batches(parse_detection(detection, ctx, result), prepare)
        return
    delivered = 0
    worker = _Worker.start(detection, ctx, result, prepare)
    if worker is not None:
        try:
            ends: list[tuple[dict[str, int], str | None, ParseContext]] = []
            carry = None  # records of a table read in two, not yet in a batch of BATCH
            while (frame := worker.frame()) is not None:
                if frame[0] == "records":
                    batch = frame[2]
                    if worker.second is not None:
                        batch, carry = _cut(carry, batch)
                        if batch is None:
                            continue
                    yield batch
                    delivered += len(batch)
                    continue
                if frame[0] == "split":
                    worker.second = frame[1]
                    continue
                ends.append(frame[1:])
                if worker.second is not None and len(ends) == 1 and ends[0][1] is None:
                    worker.reading_second = True  # the first part read: the second's follow
                    continue
                if not _as_one_pass(ends):
                    break
                if carry is not None:
                    yield carry
                    delivered += len(carry)
                result.counts.update(
                    ends[0][0] if len(ends) == 1 else _joined_counts([c for c, _, _ in ends])
                )
                result.error = ends[-1][1]
                for _, _, context in ends:
                    ctx.absorb(context)
                worker.finished = True
                return
        finally:
            worker.stop()
    # The child failed: read the source again here, past what is already stored.
    result.counts.clear()
    result.error = None
    records = parse_detection(detection, ctx, result)
    yield from _batches(itertools.islice(records, delivered, None), prepare)


def _cut(carry: Any, batch: Any) -> tuple[Any, Any]:
    """The batches of a table read in two processes cut as one pass cuts them (each
    transaction of the store then holds the same records, so its file is the same): the first
    part's last batch is short; each of the second part's is joined to what is carried and cut
    at :data:`BATCH`. Gives (a whole batch or ``None``, what is carried now). A batch is a list
    of records or a prepared batch (:class:`triage.store.message_cells.Prepared`)."""
    if carry is None:
        return (batch, None) if len(batch) == BATCH else (None, batch)
    need = BATCH - len(carry)
    if len(batch) < need:
        return None, _join(carry, batch)
    if isinstance(batch, list):
        head, tail = batch[:need], batch[need:]
    else:
        head, tail = batch.split(need)
    return _join(carry, head), (tail if len(tail) else None)


def _join(first: Any, second: Any) -> Any:
    return first + second if isinstance(first, list) else first.joined(second)


def _as_one_pass(ends: list[tuple[dict[str, int], str | None, ParseContext]]) -> bool:
    """Whether the ends of a source read in parts (one, or the two of a table read in two
    processes, :mod:`triage.table_halves`) are what one pass gives. A first part that ended
    with an error ended the source (one pass stops there too). A second part that ended with
    one, or read nothing where the first read something, is not taken: its error would name
    the place it was reached from its own part, and its end checks took the source for empty;
    the source is then read again in this process."""
    if len(ends) == 1:
        return True
    (first, _, _), (second, error, _) = ends
    return error is None and (records_read(second) > 0 or records_read(first) == 0)


def _joined_counts(parts: list[dict[str, int]]) -> Counter[str]:
    """The counts of a source read in parts, as one pass counts them: each count in the order
    first counted, "messages" (counted when the source ends, parse_detection) last."""
    joined: Counter[str] = Counter()
    for counts in parts:
        joined.update({k: v for k, v in counts.items() if k != "messages"})
    messages = sum(counts.get("messages", 0) for counts in parts)
    if messages:
        joined["messages"] = messages
    return joined


def _batches(
    records: Iterator[Record], prepare: Callable[[list[Record]], Any] | None
) -> Iterator[Any]:
    while batch := list(itertools.islice(records, BATCH)):
        yield batch if prepare is None else prepare(batch)


def worth_a_process(file: EvidenceFile) -> bool:
    """Whether a source is large enough for its parse to run in a second process."""
    wal = file.sibling(file.name + "-wal")
    size = file.size + (wal.size if wal is not None else 0)
    return size >= PARALLEL_FROM and (os.cpu_count() or 1) > 1


# -- batches as pickles -------------------------------------------------------------------------
def _model_classes() -> tuple[list[type], dict[str, type]]:
    """The dataclasses of the model that can be rebuilt from their fields in order, and its
    named tuples by name."""
    values = [v for v in vars(model).values() if isinstance(v, type)]
    dataclass_types = [
        v
        for v in values
        if dataclasses.is_dataclass(v)
        and v.__module__ == model.__name__
        and len(dataclasses.fields(v)) > 1  # (an attrgetter of one field gives no tuple)
        and all(f.init for f in dataclasses.fields(v))
    ]
    named = {v.__name__: v for v in values if issubclass(v, tuple) and hasattr(v, "_fields")}
    return dataclass_types, named


_DATACLASSES, _NAMED_TUPLES = _model_classes()


def _reducer(cls: type) -> Callable[[Any], tuple]:
    values = operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))
    return lambda obj: (cls, values(obj))


#: For the model's objects inside a column (a conversation, a party, an attachment): the fields
#: in order, rebuilt through the class, not the state dict pickle builds for a slotted dataclass.
_REDUCERS: dict[type, Callable[[Any], tuple]] = {
    **copyreg.dispatch_table,
    **{cls: _reducer(cls) for cls in _DATACLASSES},
    **{
        named: (lambda t, named=named: (tuple.__new__, (named, tuple(t))))
        for named in _NAMED_TUPLES.values()
    },
}


def _dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(value)
    return buffer.getvalue()


# -- the two processes ---------------------------------------------------------------------------
class _Spool:
    """Where the child reading the second part of a table (:mod:`triage.table_halves`) puts its
    frames: a file of no name, which this process reads only once the first part is stored (so
    the second part's records wait on disk, not in memory: about 200 MB at 1,000,000 rows), and
    a pipe on which the child says each frame is complete (its size), or by its end that the
    child ended. Made before the worker is forked: the worker's own fork, the second child,
    inherits both."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.read_end, self.write_end = os.pipe()
        self.offset = 0  # of the next frame to read (this process reads with pread only)

    @classmethod
    def make(cls) -> _Spool | None:
        try:
            return cls()
        except OSError:
            return None

    def writer(self) -> None:
        """In the worker: it keeps only what the second child writes to."""
        os.close(self.read_end)
        self.read_end = -1

    def reader(self) -> None:
        """In this process, once the worker is forked: it keeps only what it reads."""
        os.close(self.write_end)
        self.write_end = -1

    def forked_away(self) -> None:
        """In the worker, once the second child is forked: nothing of the spool is its own."""
        os.close(self.write_end)
        self.write_end = -1
        self.file.close()

    def send(self, data: bytes) -> None:
        """In the second child: one frame."""
        self.file.write(data)
        self.file.flush()
        os.write(self.write_end, _HEADER.pack(len(data)))

    def next(self) -> bytes | None:
        """The next frame the second child wrote (waiting for it); ``None`` when it ended
        without writing one."""
        header = b""
        while len(header) < _HEADER.size:
            chunk = os.read(self.read_end, _HEADER.size - len(header))
            if not chunk:
                return None
            header += chunk
        (size,) = _HEADER.unpack(header)
        data = os.pread(self.file.fileno(), size, self.offset)
        if len(data) != size:
            return None
        self.offset += size
        return data

    def close(self) -> None:
        for fd in (self.read_end, self.write_end):
            if fd >= 0:
                os.close(fd)
        self.read_end = self.write_end = -1
        self.file.close()


class _Worker:
    """This process's end of one child reading one source (and of the second child its parser
    may fork to read the second part of its table, :mod:`triage.table_halves`)."""

    def __init__(self, pid: int, pipe: BinaryIO, spool: _Spool | None) -> None:
        self.pid, self.pipe, self.spool = pid, pipe, spool
        #: The second child, once the worker said it forked one.
        self.second: int | None = None
        #: Whether the frames now come from the second child (the first part is read).
        self.reading_second = False
        #: Whether the source's end was received (the children then end by themselves).
        self.finished = False

    @classmethod
    def start(
        cls,
        detection: Detection,
        ctx: ParseContext,
        result: SourceResult,
        prepare: Callable[[list[Record]], Any] | None = None,
    ) -> _Worker | None:
        spool = _Spool.make()
        forked = fork_piped(_widen)
        if forked is None:
            if spool is not None:
                spool.close()
            return None
        pid, fd = forked
        if pid == 0:  # pragma: no cover - the child; measured by what the parent receives
            if spool is not None:
                spool.writer()
            _child(detection, ctx, result, prepare, fd, spool)
        if spool is not None:
            spool.reader()
        return cls(pid, open(fd, "rb"), spool)

    def frame(self) -> tuple | None:
        """The next batch (its records), the second child's id, or the end of a part; ``None``
        when a child failed."""
        try:
            if self.reading_second:
                assert self.spool is not None
                data = self.spool.next()
            else:
                data = self._from_pipe()
            if data is None:
                return None
            frame = pickle.loads(data)
        except Exception:  # noqa: BLE001 - anything unreadable: read again in-process
            return None
        if not isinstance(frame, tuple) or not frame:
            return None
        if frame[0] == "records" and len(frame) == 3 and isinstance(frame[1], int):
            return frame
        if (
            frame[0] == "split"
            and len(frame) == 2
            and isinstance(frame[1], int)
            and self.spool is not None
            and self.second is None
            and not self.reading_second
        ):
            return frame
        if frame[0] == "end" and len(frame) == 4:
            _, counts, error, context = frame
            if (
                isinstance(counts, dict)
                and (error is None or isinstance(error, str))
                and isinstance(context, ParseContext)
            ):
                return frame
        return None

    def _from_pipe(self) -> bytes | None:
        header = self.pipe.read(_HEADER.size)
        if len(header) != _HEADER.size:
            return None
        (size,) = _HEADER.unpack(header)
        data = self.pipe.read(size)
        return data if len(data) == size else None

    def stop(self) -> None:
        """End the children (if still running) and collect the worker. After the source's end
        they end by themselves: the worker collects the second child before it exits (a child
        whose parent is gone would be left to whatever process adopts it)."""
        if self.finished:
            os.waitpid(self.pid, 0)
        else:
            if self.second is not None:
                _kill_second(self.second)
            stop_child(self.pid)
        self.pipe.close()
        if self.spool is not None:
            self.spool.close()


def _kill_second(pid: int) -> None:
    """Kill the second child and see it gone before its parent, the worker, is stopped: the
    worker ignores SIGCHLD, so the system collects it at once (a child whose parent were gone
    first would be left to whatever process adopts it, which may never collect it)."""
    try:
        os.kill(pid, signal.SIGKILL)
        for _ in range(1000):
            os.kill(pid, 0)
            time.sleep(0.001)
    except ProcessLookupError:
        pass


def _widen(fd: int) -> None:
    """Let the pipe hold most of a batch, so the child rarely waits for this process to read."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError):
        pass


class _Out:
    """Where a child sends its frames: the worker's pipe, or, in the second child of a table
    read in two processes, the spool."""

    def __init__(self, pipe: BinaryIO) -> None:
        self.pipe: BinaryIO | None = pipe
        self.spool: _Spool | None = None
        self.sent = 0

    def send(self, frame: tuple) -> None:
        data = _dumps(frame)
        if self.spool is not None:
            self.spool.send(data)
        else:
            assert self.pipe is not None
            self.pipe.write(_HEADER.pack(len(data)))
            self.pipe.write(data)
            self.pipe.flush()
        self.sent += 1

    def to_spool(self, spool: _Spool) -> None:
        """In the second child: the worker's pipe is the worker's alone (closed here, so the
        parent sees its end when the worker ends)."""
        assert self.pipe is not None
        self.pipe.close()
        self.pipe, self.spool = None, spool

    def close(self) -> None:
        if self.pipe is not None:
            self.pipe.close()


def _fresh(ctx: ParseContext, result: SourceResult) -> None:
    """What the parser records from here on, for the parent to add to its own context."""
    ctx.warnings, ctx.decisions, ctx.unread_files = {}, {}, []
    ctx.counts = type(ctx.counts)()
    result.counts.clear()
    result.error = None


class _SecondChild:
    """The worker's way to fork for its parser's offer (:mod:`triage.table_halves`): the fork
    sends its frames to the spool, starting from a context of its own; the worker tells the
    parent it forked (the parent then stops that child too if the source is not read to its
    end) and collects it before it ends itself."""

    def __init__(self, out: _Out, spool: _Spool, ctx: ParseContext, result: SourceResult):
        self.out, self.spool, self.ctx, self.result = out, spool, ctx, result
        self.pid: int | None = None

    def __call__(self) -> str | None:
        if self.out.sent:
            return None  # the parser has sent records: a second part would repeat them
        pid = forking.fork()
        if pid is None:
            return None
        if pid == 0:  # pragma: no cover - the second child
            self.out.to_spool(self.spool)
            _fresh(self.ctx, self.result)
            return SECOND
        self.pid = pid
        # Collected by the system as soon as it ends, even when the parent stops it first.
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        self.spool.forked_away()
        self.out.send(("split", pid))
        return FIRST

    def wait(self) -> None:
        """In the worker, its part sent: wait for the second child to end."""
        if self.pid is None:
            return
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass  # ended and collected (SIGCHLD is ignored here)


def _child(
    detection: Detection,
    ctx: ParseContext,
    result: SourceResult,
    prepare: Callable[[list[Record]], Any] | None,
    write: int,
    spool: _Spool | None = None,
) -> None:
    """In the child: parse, send the batches and the end, exit. Never returns."""
    code = 1
    try:
        import gc

        # A collection would touch every object inherited from the parent, copying its pages.
        gc.disable()
        # Streams of its own: another thread of the parent may have held the inherited ones'
        # locks at the fork.
        sys.stdout, sys.stderr = _own_stream(sys.stdout, 1), _own_stream(sys.stderr, 2)
        detection.file.container.evidence.forked()
        _fresh(ctx, result)
        out = _Out(open(write, "wb"))
        second = None
        if spool is not None:
            second = _SecondChild(out, spool, ctx, result)
            ctx.halves = TableHalves(second)
        records = parse_detection(detection, ctx, result)
        while batch := list(itertools.islice(records, BATCH)):
            count = len(batch)
            prepared = batch if prepare is None else prepare(batch)
            # The records let go first: what they held is then held by the prepared batch
            # alone, which a marshal writes without a table of the objects it shares.
            del batch
            out.send(("records", count, prepared))
            del prepared
        ctx.halves = None
        out.send(("end", dict(result.counts), result.error, ctx))
        out.close()
        if second is not None:
            second.wait()  # it ends before the worker does
        code = 0
    except BaseException:  # noqa: BLE001 - whatever it was, the parent reads the source itself
        code = 1
    finally:
        os._exit(code)
