"""What `triage run` says in the terminal when it has finished: readable at 80 columns.

The headline sentences of the first screen come first, then one row per file read with a short
name (its file name, with as many parent folders as tell it apart from the others; the full path
is in manifest.json and on the coverage page), then what was not read. The case file lists
*sources* (files, folders, archives); a source can hold many files, so the two are counted apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from rich.console import Console

from triage.casefile import Case
from triage.report import headlines
from triage.run import RunResult
from triage.store import Store
from triage.terminal import shown


def count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def short_names(paths: Iterable[str]) -> dict[str, str]:
    """Each logical path -> its file name, with parent folders added only where two files share
    a name (``msgstore.db``; ``0/msgstore.db`` and ``10/msgstore.db`` for two users)."""
    paths = list(dict.fromkeys(paths))
    parts = {p: PurePosixPath(p.replace("!/", "/")).parts for p in paths}
    depth = dict.fromkeys(paths, 1)
    while True:
        names = {p: "/".join(parts[p][-depth[p] :]) for p in paths}
        seen: dict[str, list[str]] = {}
        for p, name in names.items():
            seen.setdefault(name, []).append(p)
        clashes = [p for group in seen.values() if len(group) > 1 for p in group]
        grown = [p for p in clashes if depth[p] < len(parts[p])]
        if not grown:
            return names
        for p in grown:
            depth[p] += 1


def started_line(case: Case, out: object) -> str:
    return (
        f"Case {shown(case.reference)}: {count(len(case.sources), 'source')} in the case file "
        f"(files, folders or archives), output to {shown(out)}"
    )


def print_summary(console: Console, case: Case, result: RunResult) -> None:
    store = Store.open(result.store_path)
    try:
        lines = [h.text for h in headlines.build(case, store.findings())]
    finally:
        store.close()
    if lines:
        console.print("[bold]What the data shows[/]")
        for text in lines:
            console.print(f"- {shown(text.rstrip('.'))}.")
        console.print()

    problems: dict[str, int] = {}
    for w in result.warnings:
        problems[w["file"]] = problems.get(w["file"], 0) + w["count"]
    names = short_names(s.file.logical for s in result.sources)
    console.print(
        f"{count(len(result.sources), 'file')} read from the "
        f"{count(len(case.sources), 'source')} (full paths in manifest.json):"
    )
    console.print(_row("file", "read as", "messages", "calls", "address", "problems"))
    console.print(_row("", "", "", "", "book", ""))
    for s in result.sources:
        console.print(
            _row(
                shown(names[s.file.logical]),
                s.parser + (" (stopped early)" if s.error else ""),
                f"{s.counts['messages']:,}",
                f"{s.counts['calls']:,}",
                f"{s.counts['contacts']:,}",
                f"{problems.get(s.file.logical, 0):,}",
            ),
            markup=False,
        )
    console.print(
        "address book: entries read from the phone's or app's address book (names and "
        "numbers), not case contacts"
    )
    for s in result.sources:
        if s.error:
            console.print(
                f"[yellow]stopped early:[/] {shown(names[s.file.logical])}: {shown(s.error)}"
            )


# Column widths: 20 + 20 + 8 + 5 + 7 + 8 and two spaces between columns, 78 in all (80 columns).
_WIDTHS = (20, 20, 8, 5, 7, 8)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _row(*cells: str) -> str:
    name, fmt, *numbers = cells
    parts = [_cut(name, 20).ljust(20), _cut(fmt, 20).ljust(20)]
    parts += [n.rjust(w) for n, w in zip(numbers, _WIDTHS[2:], strict=True)]
    return "  ".join(parts).rstrip()
