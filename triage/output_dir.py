"""Where a run may write: never inside the evidence, and not silently among someone's files.

An output folder inside a source would be read back as evidence on the next run and, on this one,
make the evidence look changed ("evidence changed during the run": the tool's own files taken for
tampering). It is refused before anything is read. A folder that already holds other files and no
earlier run is written into only with a warning: the run's pages, exports and ``media/`` replace
files of the same names there.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# What marks a folder as the output of an earlier `triage run`.
RUN_FILES = ("case.sqlite", "manifest.json")
NAMED = 3


class OutputRefused(ValueError):
    """An output folder that must not be used, worded as the one line the user sees."""


def refuse_inside_sources(out: Path, sources: Iterable[tuple[Path, str]]) -> None:
    """Raise :class:`OutputRefused` when ``out`` is a source, lies inside a source folder, or is
    the folder holding a source file (``sources`` are (path, label) pairs)."""
    target = out.resolve()
    for path, label in sources:
        source = path.resolve()
        holder = source if source.is_dir() else source.parent
        if (
            target == source
            or source in target.parents
            or (not source.is_dir() and target == holder)
        ):
            where = "is the source" if target == source else "is inside the source"
            if not source.is_dir() and target == holder:
                where = "is the folder holding the source"
            raise OutputRefused(
                f"--out {out}: {where} {label}; nothing may be written into the evidence, "
                "choose an output folder outside every source"
            )


def unexpected_contents(out: Path) -> str | None:
    """A warning when ``out`` exists, is not empty and holds no earlier run; else ``None``."""
    if not out.is_dir():
        return None
    names = sorted(p.name for p in out.iterdir())
    if not names or all((out / f).is_file() for f in RUN_FILES):
        return None
    shown = ", ".join(names[:NAMED]) + (
        f" and {len(names) - NAMED:,} more" if len(names) > NAMED else ""
    )
    return (
        f"{out} is not empty and holds no earlier triage run ({shown}); the run writes its "
        "case store, report pages and exports among these files and replaces any of the same name"
    )
