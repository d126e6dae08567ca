"""Containers that show another container's files under the names the phone gave them.

An iOS backup stores files under hashes and names them in ``Manifest.db``; a Cellebrite UFDR
stores them by category (``files/Image/...``) and names them in ``report.xml``'s ``taggedFiles``.
A :class:`ViewContainer` lists such files under their real names, so detection, parsers (which
find companions and media by name), provenance and the report all use the phone's path; the
stored files it stands for are not offered to detection a second time. :func:`stored_as` says
where a member is really kept, for the manifest, and :func:`shown_as` maps a stored file to its
member, so a record that names the stored file can name the view instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from triage.evidence import Container, Evidence, EvidenceFile


class ViewContainer(Container):
    """Members named by the phone's path, each standing for a file of another container."""

    separator = "!/"

    def __init__(self, evidence: Evidence, label: str) -> None:
        super().__init__(evidence, label)
        self.stored: dict[str, EvidenceFile] = {}

    def show(self, member: str, stored: EvidenceFile, size: int | None = None) -> None:
        """List ``stored`` as ``member``; it is no longer offered to detection as itself."""
        if member in self.files:
            return
        self.add(member, stored.size if size is None else size)
        self.stored[member] = stored
        self.evidence.opened_archives.add(id(stored))
        views = stored.container.__dict__.setdefault("shown_as", {})
        views[stored.member] = self.files[member]

    def open_member(self, member: str) -> BinaryIO:
        return self.stored[member].open()

    def local_path(self, member: str) -> Path:
        return self.stored[member].local_path()


def stored_as(file: EvidenceFile) -> str | None:
    """The logical path of the file a view member is stored as (``None`` for other files)."""
    container = file.container
    if isinstance(container, ViewContainer) and file.member in container.stored:
        return container.stored[file.member].logical
    return None


def shown_as(file: EvidenceFile) -> EvidenceFile:
    """The view member that stands for ``file``, or ``file`` itself."""
    return file.container.__dict__.get("shown_as", {}).get(file.member, file)
