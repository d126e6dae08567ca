"""Which evidence files are pictures, decided by their first bytes and never by their names.

Phones and messaging apps rename media freely (WhatsApp ``.enc``-less copies, ``.nomedia``
caches, extension-less thumbnails), so the extension is never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from triage.evidence import Evidence, EvidenceFile, FolderContainer
from triage.media.gallery import cache_kind

SNIFF_BYTES = 32

# ISO-BMFF brands of HEIF stills (HEIC from iPhones, HEIF) and of AVIF.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}


def sniff_image(head: bytes) -> str | None:
    """The picture format of a file starting with ``head`` (≥ 16 bytes), or ``None``.

    Returns one of ``jpeg``, ``png``, ``gif``, ``webp``, ``heif``, ``avif``.
    """
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        # mif1/msf1 are generic; the compatible brands that follow say whether it is AVIF.
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 32), 4)}
        if brand in AVIF_BRANDS or (brand in (b"mif1", b"msf1") and compatible & AVIF_BRANDS):
            return "avif"
        if brand in HEIF_BRANDS:
            return "heif"
    return None


@dataclass(slots=True)
class MediaFile:
    """One picture found in the evidence.

    ``path`` is set when the bytes are a real file on disk (worker processes open it
    themselves); archive members have ``path=None`` and are read through ``file``.
    """

    logical: str
    size: int
    format: str
    file: EvidenceFile | None = None
    path: str | None = None

    def read(self) -> bytes:
        if self.path is not None:
            with open(self.path, "rb") as handle:
                return handle.read()
        assert self.file is not None
        with self.file.open() as handle:
            return handle.read()


@dataclass(slots=True)
class Inventory:
    images: list[MediaFile]
    others: list[EvidenceFile]  # every file that is not a picture, for the exact tier
    unreadable: list[tuple[str, str]]  # (logical path, reason)


def media_file(file: EvidenceFile) -> MediaFile | None:
    """``file`` as a :class:`MediaFile` when its content is a picture."""
    head = file.head(SNIFF_BYTES)
    fmt = sniff_image(head)
    if fmt is None:
        return None
    path = None
    if isinstance(file.container, FolderContainer):
        path = str(file.local_path())
    return MediaFile(logical=file.logical, size=file.size, format=fmt, file=file, path=path)


def inventory(files: Iterable[EvidenceFile]) -> Inventory:
    """Split evidence files into pictures and everything else; unreadable files are reported."""
    images: list[MediaFile] = []
    others: list[EvidenceFile] = []
    unreadable: list[tuple[str, str]] = []
    for file in files:
        try:
            item = media_file(file)
        except OSError as exc:
            unreadable.append((file.logical, f"cannot read: {exc}"))
            continue
        if item is None:
            others.append(file)
        else:
            images.append(item)
    return Inventory(images, others, unreadable)


def inventory_paths(evidence: Evidence, paths: Iterable[Path | str]) -> Inventory:
    """Open ``paths`` (files, folders, archives) as evidence and take the picture inventory."""
    for path in paths:
        path = Path(path)
        evidence.add_input(path, str(path))
    return inventory(evidence.files())


def iter_images(evidence: Evidence) -> Iterator[MediaFile]:
    """Every picture in ``evidence`` in path order (streaming form of :func:`inventory`)."""
    for file in evidence.files():
        try:
            item = media_file(file)
        except OSError:
            continue
        if item is not None:
            yield item


def picture_files(evidence: Evidence) -> set[int]:
    """ids of the evidence files the media step reads: pictures, and the gallery's thumbnail
    caches (so coverage can say they were read). Found with the standard library alone: a run
    asks before it reads its sources, and imports the picture libraries later
    (triage.run._LaterStages)."""
    found = inventory(evidence.files())
    return {id(m.file) for m in found.images} | {id(f) for f in found.others if cache_kind(f)}
