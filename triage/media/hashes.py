"""Hashing pictures: cryptographic digests in one streamed pass, perceptual hashes through the
pipeline, across all cores, with a SHA-256-keyed cache.

Decoding is CPU-bound and the GIL blocks threads, so work goes to a process pool in chunks
(near-linear scaling on 2 cores in the reference benchmark). With a cache the run has two phases:
digests first (cheap: ~35× faster than decoding), then only the contents the cache does not hold
are decoded.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from triage.evidence import EvidenceFile, FolderContainer
from triage.media.cache import HashCache, HashRecord
from triage.media.inventory import MediaFile, sniff_image
from triage.media.pipeline import PIPELINE_VERSION, ImageError, decode, perceptual_both, warm_up
from triage.media.regions import region_hashes

CHUNK = 1 << 20
POOL_CHUNK = 8  # files per task: amortises pickling without starving the second core
INLINE_BELOW = 24  # fewer files than this are hashed in-process: a pool costs ~0.1–0.3 s to start


@dataclass(frozen=True, slots=True)
class Digests:
    md5: str
    sha1: str
    sha256: str
    size: int


def digest_stream(stream: BinaryIO, keep: bool = False) -> tuple[Digests, bytes | None]:
    """MD5, SHA-1 and SHA-256 of a stream in one pass; the bytes too when ``keep``."""
    md5, sha1, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha1(), hashlib.sha256()
    size = 0
    parts: list[bytes] = []
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
        size += len(chunk)
        if keep:
            parts.append(chunk)
    digests = Digests(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest(), size)
    return digests, (b"".join(parts) if keep else None)


def digest_bytes(data: bytes) -> Digests:
    return Digests(
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.sha256(data).hexdigest(),
        len(data),
    )


def hash_bytes(data: bytes, fmt: str | None = None, digests: Digests | None = None) -> HashRecord:
    """The full :class:`HashRecord` of one picture's bytes; decode failures go into ``error``."""
    digests = digests or digest_bytes(data)
    fmt = fmt or sniff_image(data[:32])
    record = HashRecord(
        sha256=digests.sha256,
        md5=digests.md5,
        sha1=digests.sha1,
        size=digests.size,
        format=fmt,
        pipeline=PIPELINE_VERSION,
    )
    if fmt is None:
        record.error = "not a picture (no known image signature)"
        return record
    try:
        img, (width, height) = decode(data, fmt)
        values = perceptual_both(img)
        values["regions"] = region_hashes(img, (width, height))
    except ImageError as exc:
        record.error = str(exc)
        return record
    except MemoryError:
        record.error = "out of memory while decoding"
        return record
    record.width, record.height = width, height
    for key, value in values.items():
        setattr(record, key, value)
    return record


# -- worker side -----------------------------------------------------------------------------------
# A job is (path, data, format, digests, error): path for files on disk (the worker reads them
# itself, so the bytes are not pickled), data for archive members read by the parent, error when
# the parent could not read the member (so outputs stay aligned with inputs).
Job = tuple[str | None, bytes | None, str | None, Digests | None, str | None]


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _full_job(job: Job) -> HashRecord | str:
    path, data, fmt, digests, error = job
    if error is not None:
        return error
    try:
        if data is None:
            assert path is not None
            if digests is None:
                with open(path, "rb") as handle:
                    digests, data = digest_stream(handle, keep=True)
            else:
                data = _read(path)
        assert data is not None
        return hash_bytes(data, fmt, digests)
    except OSError as exc:
        return f"cannot read: {exc}"


def _digest_job(job: Job) -> Digests | str:
    path = job[0]
    assert path is not None
    try:
        with open(path, "rb") as handle:
            return digest_stream(handle)[0]
    except OSError as exc:
        return f"cannot read: {exc}"


def _run_chunk(fn: Callable[[Job], Any], jobs: list[Job]) -> list[Any]:
    return [fn(job) for job in jobs]


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_jobs(
    fn: Callable[[Job], Any], jobs: Iterable[Job], total: int, workers: int | None = None
) -> Iterator[Any]:
    """``fn`` over ``jobs`` in order, on a process pool of ``workers`` when worth it.

    Jobs are submitted in a bounded window of chunks, so archive members read by the parent
    never pile up in memory (``Executor.map`` would submit everything at once).
    """
    workers = workers or default_workers()
    if workers <= 1 or total < INLINE_BELOW:
        for job in jobs:
            yield fn(job)
        return
    window = workers * 3
    iterator = iter(jobs)
    warm_up()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: list[Future[list[Any]]] = []

        def submit_next() -> bool:
            chunk = [job for _, job in zip(range(POOL_CHUNK), iterator, strict=False)]
            if chunk:
                pending.append(pool.submit(_run_chunk, fn, chunk))
            return bool(chunk)

        while len(pending) < window and submit_next():
            pass
        while pending:
            results = pending.pop(0).result()
            submit_next()
            yield from results


@dataclass(slots=True)
class HashRun:
    """What a hashing run did: ``hashed`` were decoded now, ``cached`` came from the cache."""

    results: list[tuple[MediaFile, HashRecord]] = field(default_factory=list)
    hashed: int = 0
    cached: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(logical path, reason) of every picture that could not be hashed or read."""
        bad = [(m.logical, r.error) for m, r in self.results if r.error]
        return bad + self.unreadable


def _job(item: MediaFile, digests: Digests | None = None) -> Job:
    if item.path is not None:
        return (item.path, None, item.format, digests, None)
    try:
        return (None, item.read(), item.format, digests, None)
    except OSError as exc:
        return (None, None, item.format, digests, f"cannot read: {exc}")


def hash_media(
    items: list[MediaFile],
    cache: HashCache | None = None,
    workers: int | None = None,
) -> HashRun:
    """Hash every picture in ``items``; records come back in the order of ``items``.

    With a ``cache``, contents it already holds (same SHA-256, same pipeline) are not decoded
    again, and new records are stored in it.
    """
    run = HashRun()
    if cache is None:
        outputs = run_jobs(_full_job, (_job(item) for item in items), len(items), workers)
        for item, out in zip(items, outputs, strict=True):
            if isinstance(out, str):
                run.unreadable.append((item.logical, out))
            else:
                run.results.append((item, out))
                run.hashed += 1
        return run

    # Phase 1: digests. Files on disk go to the pool; archive members are read here anyway.
    digests: dict[int, Digests] = {}
    disk = [i for i, item in enumerate(items) if item.path is not None]
    for index, out in zip(
        disk, run_jobs(_digest_job, (_job(items[i]) for i in disk), len(disk), workers), strict=True
    ):
        if isinstance(out, str):
            run.unreadable.append((items[index].logical, out))
        else:
            digests[index] = out
    for index, item in enumerate(items):
        if item.path is None:
            try:
                with item.file.open() as handle:  # type: ignore[union-attr]
                    digests[index] = digest_stream(handle)[0]
            except OSError as exc:
                run.unreadable.append((item.logical, f"cannot read: {exc}"))

    known = cache.get_many({d.sha256 for d in digests.values()})
    records: dict[int, HashRecord] = {}
    todo: list[int] = []
    first_of: dict[str, int] = {}
    for index in sorted(digests):
        sha = digests[index].sha256
        if sha in known:
            records[index] = known[sha]
            run.cached += 1
        elif sha in first_of:
            continue  # the same content twice in this run: decode it once
        else:
            first_of[sha] = index
            todo.append(index)

    # Phase 2: decode what the cache does not hold.
    fresh: list[HashRecord] = []
    outputs = run_jobs(_full_job, (_job(items[i], digests[i]) for i in todo), len(todo), workers)
    for index, out in zip(todo, outputs, strict=True):
        if isinstance(out, str):
            run.unreadable.append((items[index].logical, out))
            continue
        records[index] = out
        fresh.append(out)
        run.hashed += 1
    if fresh:
        cache.put_many(fresh)
    by_sha = {r.sha256: r for r in fresh}
    for index in sorted(digests):
        record = records.get(index) or by_sha.get(digests[index].sha256)
        if record is not None:
            run.results.append((items[index], record))
    return run


def digest_files(
    files: list[EvidenceFile], workers: int | None = None
) -> tuple[list[tuple[str, HashRecord]], list[tuple[str, str]]]:
    """MD5/SHA-1/SHA-256 of files that are not pictures (for exact hash-list hits on videos,
    documents...), as records without perceptual hashes; and (logical, reason) of unreadable ones.
    """
    records: list[tuple[str, HashRecord]] = []
    unreadable: list[tuple[str, str]] = []

    def keep(file: EvidenceFile, out: Digests | str) -> None:
        if isinstance(out, str):
            unreadable.append((file.logical, out))
        else:
            records.append(
                (file.logical, HashRecord(out.sha256, out.md5, out.sha1, out.size, None))
            )

    disk = [f for f in files if isinstance(f.container, FolderContainer)]
    jobs = ((str(f.local_path()), None, None, None, None) for f in disk)
    for file, out in zip(disk, run_jobs(_digest_job, jobs, len(disk), workers), strict=True):
        keep(file, out)
    for file in files:
        if isinstance(file.container, FolderContainer):
            continue
        try:
            with file.open() as handle:
                keep(file, digest_stream(handle)[0])
        except OSError as exc:
            keep(file, f"cannot read: {exc}")
    return records, unreadable
