"""What the coverage page says about each source of the case file and each picture, from the store.

A source in the case file is a file, a folder or an archive; the store names every file by its
logical path, which starts with the source's label (``label/...`` inside a folder, ``label!/...``
inside an archive). So each source's files read, pictures, files not read and relevant items not
read are found by that prefix, and a source in which nothing at all was found says so instead of
being left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triage.casefile import Case

# Pictures listed one by one on the page; all of them are in pictures.csv and the case store.
PICTURES_LISTED = 5000


@dataclass
class SourceCoverage:
    label: str
    kind: str  # file | folder | archive | "nothing found"
    read: list[str] = field(default_factory=list)
    pictures: int = 0
    pictures_unreadable: int = 0
    not_read: int = 0
    relevant_not_read: int = 0

    @property
    def empty(self) -> bool:
        return not (self.read or self.pictures or self.not_read or self.relevant_not_read)


def _inside(path: str, label: str) -> bool:
    return path == label or path.startswith((label + "/", label + "!/"))


def _kind(paths: list[str], label: str) -> str:
    if any(p.startswith(label + "!/") for p in paths):
        return "archive"
    if any(p.startswith(label + "/") for p in paths):
        return "folder"
    if label in paths:
        return "file"
    return "nothing found"


def source_coverage(
    case: Case,
    sources: list[dict[str, Any]],
    pictures: list[dict[str, Any]],
    skipped: list[dict[str, Any]],
    not_read: list[dict[str, Any]],
) -> list[SourceCoverage]:
    """One row per source of the case file, in case-file order."""
    rows = []
    for spec in case.sources:
        label = spec.label
        read = [s["file"] for s in sources if _inside(s["file"], label)]
        mine = [p for p in pictures if _inside(p["file"], label)]
        skip = [k["file"] for k in skipped if _inside(k["file"], label)]
        relevant = [n["file"] for n in not_read if _inside(str(n.get("file", "")), label)]
        rows.append(
            SourceCoverage(
                label=label,
                kind=_kind(read + [p["file"] for p in mine] + skip + relevant, label),
                read=read,
                pictures=len(mine),
                pictures_unreadable=sum(1 for p in mine if p.get("error")),
                not_read=len(skip),
                relevant_not_read=len(relevant),
            )
        )
    return rows


def all_pictures(
    inventoried: list[dict[str, Any]], unreadable: list[list[str]] | list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Every picture found, hashed or unreadable and why: those the media stage inventoried, and
    those it could not even open (named only in its list of unreadable pictures)."""
    why = {f: r for f, r in unreadable}
    rows = [
        {
            **p,
            "status": "unreadable" if p.get("error") or p["file"] in why else "hashed",
            "why": p.get("error") or why.get(p["file"], ""),
        }
        for p in inventoried
    ]
    known = {p["file"] for p in inventoried}
    rows += [
        {"file": f, "sha256": None, "size": None, "format": None, "error": r}
        | {"status": "unreadable", "why": r}
        for f, r in sorted(why.items())
        if f not in known
    ]
    return rows
