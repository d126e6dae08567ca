"""Exhibits: the pictures the victim reported, and hash lists of them or of known material.

An exhibit picture is hashed in all 8 dihedral orientations (4 rotations × mirror), because
phash/dhash/PDQ of a rotated or mirrored copy are not the rotated hash (imagehash #84), while the
phone's pictures are hashed once. Hash lists give exact (MD5/SHA-1/SHA-256) exhibits: a plain CSV
made by the examiner or a partner force, or a Project VIC/VICS JSON set (see :mod:`.vics`) whose
numeric categories are named by a YAML profile in ``profiles/hashsets/``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml
from PIL import Image

from triage.evidence import Evidence, EvidenceFile, is_archive_name
from triage.media.hashes import digest_bytes
from triage.media.inventory import sniff_image
from triage.media.pipeline import (
    ORIENTATIONS,
    PIPELINE_VERSION,
    ImageError,
    decode,
    orient,
    perceptual,
    trim_box,
)
from triage.media.regions import ExhibitCrops, exhibit_crops
from triage.media.vics import VicsError, iter_vics_media, truthy
from triage.shipped import profiles_dir as shipped_profiles

HEX = re.compile(r"^[0-9a-fA-F]+$")
HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}


def profiles_dir() -> Path:
    """The ``profiles/`` folder shipped with triage."""
    return shipped_profiles()


# -- exhibit pictures ------------------------------------------------------------------------------
@dataclass(slots=True)
class ImageVariant:
    """Perceptual hashes of one orientation of an exhibit, untrimmed and trimmed."""

    orientation: str
    phash: str
    dhash: str
    pdq: str | None = None
    pdq_quality: int | None = None
    phash_trim: str | None = None
    dhash_trim: str | None = None
    pdq_trim: str | None = None


@dataclass(slots=True)
class ExhibitImage:
    reference: str  # how the examiner named the exhibit (its logical path unless told otherwise)
    md5: str
    sha1: str
    sha256: str
    size: int
    format: str
    variants: list[ImageVariant] = field(default_factory=list)
    pipeline: str = PIPELINE_VERSION
    width: int | None = None  # the picture's own size (after EXIF rotation)
    height: int | None = None
    crops: ExhibitCrops | None = field(default=None, repr=False)  # crop-resistant tier
    # Grey working image (pipeline steps 1-4), kept to verify crop-resistant candidates on pixels
    working: Image.Image | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "size": self.size,
            "format": self.format,
            "pipeline": self.pipeline,
            "phash": self.variants[0].phash if self.variants else None,
            "pdq_quality": self.variants[0].pdq_quality if self.variants else None,
            "width": self.width,
            "height": self.height,
        }


def exhibit_from_bytes(data: bytes, reference: str) -> ExhibitImage:
    """Hash an exhibit picture in all 8 orientations; raises :class:`ImageError` if undecodable."""
    fmt = sniff_image(data[:32])
    if fmt is None:
        raise ImageError("not a picture (no known image signature)")
    digests = digest_bytes(data)
    img, (width, height) = decode(data, fmt)
    box = trim_box(img)
    trimmed = img.crop(tuple(box.as_list())) if box else None
    exhibit = ExhibitImage(
        reference,
        digests.md5,
        digests.sha1,
        digests.sha256,
        digests.size,
        fmt,
        width=width,
        height=height,
        crops=exhibit_crops(img, reference),
        working=img.convert("L"),
    )
    for orientation in ORIENTATIONS:
        plain = perceptual(orient(img, orientation))
        cut = perceptual(orient(trimmed, orientation)) if trimmed is not None else None
        exhibit.variants.append(
            ImageVariant(
                orientation=orientation,
                phash=plain["phash"],
                dhash=plain["dhash"],
                pdq=plain["pdq"],
                pdq_quality=plain["pdq_quality"],
                phash_trim=cut["phash"] if cut else None,
                dhash_trim=cut["dhash"] if cut else None,
                pdq_trim=cut["pdq"] if cut else None,
            )
        )
    return exhibit


# -- hash lists ------------------------------------------------------------------------------------
@dataclass(slots=True)
class HashEntry:
    """One exact-hash exhibit from a list. At least one of md5/sha1/sha256 is set (lowercase)."""

    reference: str
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    category: str | None = None
    alert: bool | None = None
    source: str = ""  # the list it came from, with the line or MediaID


@dataclass(slots=True)
class ListProblem:
    source: str
    line: int | None
    reason: str


# Header spellings seen in examiners' spreadsheets and tool exports (IPED/ICSE, X-Ways, Griffeye).
HEADER_ALIASES = {
    "md5": "md5",
    "md5hash": "md5",
    "md5 hash": "md5",
    "hash (md5)": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha1hash": "sha1",
    "sha1 hash": "sha1",
    "hash (sha1)": "sha1",
    "hash (sha-1)": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha256hash": "sha256",
    "sha256 hash": "sha256",
    "hash (sha256)": "sha256",
    "hash (sha-256)": "sha256",
    "hash": "hash",
    "hash value": "hash",
    "hashvalue": "hash",
    "digest": "hash",
    "reference": "reference",
    "ref": "reference",
    "exhibit": "reference",
    "exhibit reference": "reference",
    "exhibit ref": "reference",
    "id": "reference",
    "name": "reference",
    "file name": "reference",
    "filename": "reference",
    "file": "reference",
    "description": "reference",
    "category": "category",
    "cat": "category",
    "grade": "category",
}


def _norm_header(cell: str) -> str | None:
    key = " ".join(cell.strip().strip("\ufeff").lower().replace("_", " ").split())
    return HEADER_ALIASES.get(key) or HEADER_ALIASES.get(key.replace(" ", ""))


def read_hash_list(stream: IO[str], source: str) -> tuple[list[HashEntry], list[ListProblem]]:
    """Read a CSV (or TSV/semicolon) list of MD5/SHA-1/SHA-256 values.

    A header row naming the columns is recognised in many spellings (``SHA-256``, ``Hash
    (MD5)``, ``Exhibit ref``...). Without one, every cell that is 32/40/64 hex digits is a hash
    and the first other cell is the row's reference. Bad rows are reported with their line number
    and skipped; they never stop the list.
    """
    text = stream.read()
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    entries: list[HashEntry] = []
    problems: list[ListProblem] = []
    columns: dict[int, str] | None = None
    for index, row in enumerate(rows):
        line = index + 1
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if columns is None:
            # The first row that is not blank or a comment may be a header.
            named = {i: _norm_header(c) for i, c in enumerate(cells)}
            if any(v in ("md5", "sha1", "sha256", "hash") for v in named.values()):
                columns = {i: v for i, v in named.items() if v}
                continue
            columns = {}
        entry = HashEntry(reference="", source=f"{source}:{line}")
        bad: list[str] = []
        others: list[str] = []
        for i, cell in enumerate(cells):
            role = (columns or {}).get(i)
            if role in ("md5", "sha1", "sha256", "hash") or (not columns and _is_hash(cell)):
                if not cell:
                    continue
                kind = HASH_LENGTHS.get(len(cell)) if HEX.match(cell) else None
                if kind is None or (role not in (None, "hash") and kind != role):
                    bad.append(f"{cell[:70]!r} is not a valid {role or 'hash'} value")
                    continue
                setattr(entry, kind, cell.lower())
            elif role == "reference" and cell and not entry.reference:
                entry.reference = cell
            elif role == "category" and cell:
                entry.category = cell
            elif not columns and cell:
                others.append(cell)
        if bad:
            problems.append(ListProblem(source, line, "; ".join(bad)))
            continue
        if not (entry.md5 or entry.sha1 or entry.sha256):
            problems.append(ListProblem(source, line, "no MD5, SHA-1 or SHA-256 value in the row"))
            continue
        entry.reference = entry.reference or (others[0] if others else f"{source} line {line}")
        entries.append(entry)
    return entries, problems


def _is_hash(cell: str) -> bool:
    return len(cell) in HASH_LENGTHS and bool(HEX.match(cell))


# -- VICS categories -------------------------------------------------------------------------------
@dataclass(slots=True)
class CategoryProfile:
    """How a hash set's numeric categories are named and whether a hit on them is an alert."""

    name: str
    labels: dict[str, str]
    alert: dict[str, bool]
    unknown_label: str = "uncategorised"
    unknown_alert: bool = True
    path: str | None = None

    def describe(self, code: Any) -> tuple[str, bool]:
        key = "null" if code is None else str(code).strip()
        if key in self.labels:
            return self.labels[key], self.alert.get(key, self.unknown_alert)
        return f"{self.unknown_label} ({key})", self.unknown_alert


def load_category_profile(path: Path | str | None = None) -> CategoryProfile:
    """Load ``profiles/hashsets/vics_categories.yaml`` (or another profile in that format)."""
    path = Path(path) if path else profiles_dir() / "hashsets" / "vics_categories.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    labels: dict[str, str] = {}
    alert: dict[str, bool] = {}
    for code, spec in (data.get("categories") or {}).items():
        key = "null" if code is None else str(code)
        if isinstance(spec, dict):
            labels[key] = str(spec.get("label", key))
            alert[key] = bool(spec.get("alert", True))
        else:
            labels[key] = str(spec)
    unknown = data.get("unknown") or {}
    return CategoryProfile(
        name=str(data.get("name", path.stem)),
        labels=labels,
        alert=alert,
        unknown_label=str(unknown.get("label", "uncategorised")),
        unknown_alert=bool(unknown.get("alert", True)),
        path=str(path),
    )


def read_vics(
    stream: IO[Any], source: str, profile: CategoryProfile | None = None
) -> Iterator[HashEntry | ListProblem]:
    """Stream a VICS JSON set: a :class:`HashEntry` per Media object with an MD5/SHA-1/SHA-256,
    a :class:`ListProblem` for Media objects without a usable hash. PhotoDNA values are not
    usable without a licensed implementation and are ignored."""
    profile = profile or load_category_profile()
    for number, media in enumerate(iter_vics_media(stream), start=1):
        where = f"Media #{number}"
        media_id = media.get("MediaID")
        entry = HashEntry(
            reference=f"VICS MediaID {media_id}" if media_id is not None else f"VICS {where}",
            source=f"{source} {where}",
        )
        for key, kind in (("MD5", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256")):
            value = media.get(key)
            if isinstance(value, str) and value.strip():
                value = value.strip()
                if HASH_LENGTHS.get(len(value)) == kind and HEX.match(value):
                    setattr(entry, kind, value.lower())
                else:
                    yield ListProblem(source, None, f"{where}: {key} {value[:70]!r} is malformed")
        if not (entry.md5 or entry.sha1 or entry.sha256):
            yield ListProblem(source, None, f"{where}: no MD5, SHA-1 or SHA-256")
            continue
        entry.category, entry.alert = profile.describe(media.get("Category"))
        if truthy(media.get("IsDistributed")):
            entry.category += ", distributed"
        yield entry


# -- loading --------------------------------------------------------------------------------------
@dataclass(slots=True)
class ExhibitSet:
    images: list[ExhibitImage] = field(default_factory=list)
    hashes: list[HashEntry] = field(default_factory=list)
    problems: list[ListProblem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _by_reference: dict[str, HashEntry] = field(default_factory=dict, repr=False)
    _indexed: int = field(default=-1, repr=False)

    def exact_index(self) -> dict[tuple[str, str], list[str]]:
        """(algorithm, lowercase hex) → references, for every exact hash of every exhibit."""
        index: dict[tuple[str, str], list[str]] = {}
        for image in self.images:
            for kind in ("sha256", "md5", "sha1"):
                index.setdefault((kind, getattr(image, kind)), []).append(image.reference)
        for entry in self.hashes:
            for kind in ("sha256", "md5", "sha1"):
                value = getattr(entry, kind)
                if value:
                    index.setdefault((kind, value), []).append(entry.reference)
        return index

    def entry_for(self, reference: str) -> HashEntry | None:
        """The hash-list entry named ``reference`` (None for exhibit pictures)."""
        if self._indexed != len(self.hashes):
            self._by_reference = {}
            for entry in self.hashes:
                self._by_reference.setdefault(entry.reference, entry)
            self._indexed = len(self.hashes)
        return self._by_reference.get(reference)


def _looks_like_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def add_exhibit_file(
    exhibits: ExhibitSet, file: EvidenceFile, profile: CategoryProfile | None = None
) -> str:
    """Add one file given as an exhibit: a picture, a VICS JSON set or a CSV hash list.

    Returns what it was taken as; anything unusable is recorded in ``exhibits.problems``.
    """
    head = file.head(64)
    if sniff_image(head):
        with file.open() as handle:
            data = handle.read()
        try:
            exhibits.images.append(exhibit_from_bytes(data, file.logical))
        except ImageError as exc:
            exhibits.problems.append(ListProblem(file.logical, None, str(exc)))
            return "unreadable picture"
        return "picture"
    if _looks_like_json(head):
        try:
            with file.open() as handle:
                for item in read_vics(handle, file.logical, profile):
                    if isinstance(item, HashEntry):
                        exhibits.hashes.append(item)
                    else:
                        exhibits.problems.append(item)
        except VicsError as exc:
            exhibits.problems.append(ListProblem(file.logical, None, str(exc)))
            return "unreadable JSON"
        return "VICS JSON"
    if b"\x00" in head:
        exhibits.problems.append(
            ListProblem(file.logical, None, "not a picture, CSV hash list or VICS JSON")
        )
        return "unknown"
    with file.open() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace") as text:
        entries, problems = read_hash_list(text, file.logical)
    exhibits.hashes.extend(entries)
    exhibits.problems.extend(problems)
    return "hash list"


def load_exhibits(
    paths: Iterable[Path | str], profile: CategoryProfile | None = None
) -> ExhibitSet:
    """Exhibits from files, folders or archives of pictures, CSV hash lists and VICS JSON."""
    exhibits = ExhibitSet()
    with Evidence() as evidence:
        for path in paths:
            path = Path(path)
            for container in evidence.add_input(path, str(path)):
                for member in sorted(container.files):
                    file = container.files[member]
                    if is_archive_name(file.name):
                        continue  # opened as a container of its own by add_input
                    kind = add_exhibit_file(exhibits, file, profile)
                    exhibits.sources.append(f"{file.logical}: {kind}")
    return exhibits
