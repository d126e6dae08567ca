"""Running recovery on one evidence database, for the parsers that turn its records into messages.

The database file and its ``-wal`` are read as bytes through :class:`triage.evidence.EvidenceFile`
(never opened by SQLite, never written); what was found, and the notes (zeroed free space, a WAL
of another page size), become one decision of the run for that file, so "nothing recovered" is
said, not silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from triage.evidence import EvidenceFile
from triage.recovery.scan import RecoveryResult, recover
from triage.registry import ParseContext
from triage.sqlitefile.record import Corrupt


def _read(file: EvidenceFile) -> bytes:
    with file.open() as handle:
        return handle.read()


def recover_evidence(
    file: EvidenceFile, ctx: ParseContext, targets: Mapping[str, tuple[str, ...]]
) -> RecoveryResult | None:
    """Deleted and changed rows of ``targets`` in ``file`` and its ``-wal`` (``None``, with a
    warning naming the file, when its bytes cannot be read as a database)."""
    wal_file = file.sibling(file.name + "-wal")
    try:
        result = recover(_read(file), _read(wal_file) if wal_file else None, targets)
    except (Corrupt, OSError, IndexError) as exc:
        return record_outcome(file, ctx, ("not possible", str(exc)))
    return record_outcome(file, ctx, ("result", result))


def record_outcome(
    file: EvidenceFile, ctx: ParseContext, outcome: tuple[str, Any]
) -> RecoveryResult | None:
    """Record a scan's outcome for ``file`` in the run: ``("result", RecoveryResult)`` as a
    decision, ``("not possible", why)`` as a warning (then ``None``)."""
    kind, value = outcome
    if kind == "not possible":
        ctx.warn(file.logical, "deleted-row recovery not possible", value)
        return None
    ctx.decide(file.logical, recovery=value.summary())
    return value
