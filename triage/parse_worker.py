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

What the parser records in its :class:`triage.registry.ParseContext` (warnings, decisions,
files not read) is collected in the child and added to this process's context when the source
ends (:meth:`ParseContext.absorb`), with the counts and the error of the
:class:`triage.ingest.SourceResult`. Whatever goes wrong with the child (it cannot start, stops,
sends something unreadable) the source is read again in-process and the records already stored
are skipped: parsers are deterministic, so what the run stores and records (an error, a warning
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
import struct
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from triage import model
from triage.forking import can_fork as _can_fork
from triage.forking import fork_piped, stop_child
from triage.forking import own_stream as _own_stream
from triage.ingest import parse_detection
from triage.registry import ParseContext
from triage.store.messages import BATCH

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
            while (frame := worker.frame()) is not None:
                if frame[0] == "records":
                    yield frame[2]
                    delivered += frame[1]
                    continue
                _, counts, error, context = frame
                result.counts.update(counts)
                result.error = error
                ctx.absorb(context)
                return
        finally:
            worker.stop()
    # The child failed: read the source again here, past what is already stored.
    result.counts.clear()
    result.error = None
    records = parse_detection(detection, ctx, result)
    yield from _batches(itertools.islice(records, delivered, None), prepare)


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
class _Worker:
    """This process's end of one child reading one source."""

    def __init__(self, pid: int, pipe: BinaryIO) -> None:
        self.pid, self.pipe = pid, pipe

    @classmethod
    def start(
        cls,
        detection: Detection,
        ctx: ParseContext,
        result: SourceResult,
        prepare: Callable[[list[Record]], Any] | None = None,
    ) -> _Worker | None:
        forked = fork_piped(_widen)
        if forked is None:
            return None
        pid, fd = forked
        if pid == 0:  # pragma: no cover - the child; measured by what the parent receives
            _child(detection, ctx, result, prepare, fd)
        return cls(pid, open(fd, "rb"))

    def frame(self) -> tuple | None:
        """The next batch (its records) or the end from the child; ``None`` when it failed."""
        try:
            header = self.pipe.read(_HEADER.size)
            if len(header) != _HEADER.size:
                return None
            (size,) = _HEADER.unpack(header)
            data = self.pipe.read(size)
            if len(data) != size:
                return None
            frame = pickle.loads(data)
        except Exception:  # noqa: BLE001 - anything unreadable: read again in-process
            return None
        if not isinstance(frame, tuple) or not frame:
            return None
        if frame[0] == "records" and len(frame) == 3 and isinstance(frame[1], int):
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

    def stop(self) -> None:
        """End the child (if still running) and collect it."""
        stop_child(self.pid)
        self.pipe.close()


def _widen(fd: int) -> None:
    """Let the pipe hold most of a batch, so the child rarely waits for this process to read."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError):
        pass


def _child(
    detection: Detection,
    ctx: ParseContext,
    result: SourceResult,
    prepare: Callable[[list[Record]], Any] | None,
    write: int,
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
        # What the parser records from here on, for the parent to add to its own context.
        ctx.warnings, ctx.decisions, ctx.unread_files = {}, {}, []
        ctx.counts = type(ctx.counts)()
        result.counts.clear()
        result.error = None
        with open(write, "wb") as pipe:
            records = parse_detection(detection, ctx, result)
            while batch := list(itertools.islice(records, BATCH)):
                count = len(batch)
                prepared = batch if prepare is None else prepare(batch)
                # The records let go first: what they held is then held by the prepared batch
                # alone, which a marshal writes without a table of the objects it shares.
                del batch
                _send(pipe, ("records", count, prepared))
                del prepared
            _send(pipe, ("end", dict(result.counts), result.error, ctx))
        code = 0
    except BaseException:  # noqa: BLE001 - whatever it was, the parent reads the source itself
        code = 1
    finally:
        os._exit(code)


def _send(pipe: BinaryIO, frame: tuple) -> None:
    data = _dumps(frame)
    pipe.write(_HEADER.pack(len(data)))
    pipe.write(data)
    pipe.flush()
