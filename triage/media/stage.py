"""The run's media step: every picture in the evidence hashed and compared with the exhibits.

It runs while the evidence is open (it reads picture bytes), after the parsers and before the
analysers, and writes only to the case store and the output directory:

* ``media_files``: every picture found by content, with its SHA-256 (or why it was unreadable);
* ``media``: the hash records (the cache: a second run into the same output directory takes
  them from the previous store and decodes nothing again);
* ``exhibits`` and ``media_matches``: the exhibits from the case file, and every exact or near
  copy, including exhibits recognised only through a digest an app recorded (WhatsApp's
  ``file_hash``) when the file itself is gone;
* ``media/<sha256>.<ext>`` in the output directory: copies of the exhibits and matched files so
  the report can show them side by side (blurred) without reaching back into the evidence.

The ``media`` analyser then links matches to the messages that carried them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.casefile import Case
from triage.evidence import Evidence, EvidenceFile
from triage.media.cache import HashRecord, MemoryHashCache
from triage.media.exhibits import (
    ExhibitSet,
    ListProblem,
    add_exhibit_file,
    exhibit_from_bytes,
    load_category_profile,
)
from triage.media.gallery import read_gallery_caches
from triage.media.gallery_match import (
    cached_thumbnail_facts,
    hash_cached_thumbnails,
    match_cached_thumbnails,
)
from triage.media.hashes import hash_media
from triage.media.inventory import MediaFile, inventory
from triage.media.matching import find_matches, load_profile, match_source_hashes
from triage.media.pipeline import PIPELINE_VERSION, ImageError
from triage.media.thumbnails import (
    hash_thumbnails,
    is_thumbnail_file,
    thumbnail_facts,
)
from triage.media.video import VideoError
from triage.media.video_stage import (
    VideoExhibit,
    load_video_exhibit,
    save_frame,
    stills_of_videos,
    video_files,
    video_matches,
)
from triage.store import Store

MEDIA_DIR = "media"
# How a source-recorded digest match names its attachment row in ``match_source_hashes``.
ATTACHMENT_PREFIX = "attachment:"
EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "heif": "heic"}


@dataclass
class MediaResult:
    pictures: int = 0
    hashed: int = 0
    from_cache: int = 0
    pictures_hashed: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    matches: int = 0
    thumbnails: int = 0  # app-kept previews held as bytes in the store, hashed and compared
    videos: int = 0  # videos whose sampled frames were hashed and compared
    # Thumbnail caches of Android's gallery read this run (one summary per cache file), and
    # (cache file, what and where) for each damaged record in them.
    gallery_caches: list[dict[str, Any]] = field(default_factory=list)
    damaged: list[tuple[str, str]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    # (exhibit file, line or None, reason) for exhibits or hash-list rows that could not be used
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)

    def reads(self) -> int:
        """Pictures hashed and thumbnails read from gallery caches: what the step read."""
        return self.pictures_hashed + sum(c["thumbnails"] for c in self.gallery_caches)

    def cache_use(self) -> dict[str, int]:
        """How the hashes were obtained this run: for the manifest only."""
        return {"decoded": self.hashed, "from_cache": self.from_cache}

    def meta(self) -> dict[str, Any]:
        return {
            "pictures": self.pictures,
            # Decoded now or taken from a previous run's store: the same pictures and hashes
            # either way, so the store and report do not depend on it (the manifest says which).
            "hashed": self.pictures_hashed,
            "unreadable": [list(u) for u in self.unreadable],
            "matches": self.matches,
            "thumbnails": self.thumbnails,
            "videos": self.videos,
            "gallery_caches": self.gallery_caches,
            "settings": self.settings,
        }


def previous_cache(stored: list[dict[str, Any]]) -> MemoryHashCache:
    """The hash records of an earlier run's store (``media_records_at`` its path, read before
    the new store replaces it; empty when there was none) made by this pipeline."""
    cache = MemoryHashCache()
    records = [HashRecord.from_dict(data) for data in stored]
    cache.put_many(r for r in records if r.pipeline == PIPELINE_VERSION)
    return cache


def run_media(
    evidence: Evidence,
    store: Store,
    case: Case,
    out: Path,
    cache: MemoryHashCache,
    workers: int | None = None,
    status: Callable[[str], None] | None = None,
) -> MediaResult:
    result = MediaResult()
    found = inventory(evidence.files())
    result.pictures = len(found.images)
    run = hash_media(found.images, cache=cache, workers=workers)
    result.hashed, result.from_cache = run.hashed, run.cached
    result.unreadable = sorted(set(found.unreadable + run.errors))
    hashed = {item.logical: record for item, record in run.results}
    result.pictures_hashed = len(hashed)
    gallery = read_gallery_caches(found.others)
    gallery_records = hash_cached_thumbnails(gallery, cache)
    result.gallery_caches, result.damaged = gallery.files, gallery.damaged
    store.add_media_files(
        (
            m.logical,
            hashed[m.logical].sha256 if m.logical in hashed else None,
            m.size,
            m.format,
            _error_for(m.logical, hashed, result.unreadable),
        )
        for m in found.images
    )
    # One record per content, written in a fixed order so the store is byte-identical whether
    # the records were decoded now or carried from the previous run.
    contents = {r.sha256: r for r in hashed.values()}
    contents.update((r.sha256, r) for r in gallery_records.values())
    store.media_put_many((sha, record.to_dict()) for sha, record in sorted(contents.items()))

    exhibits, video_exhibits, exhibit_rows, owner_of = _load_case_exhibits(
        case, evidence, out, status
    )
    store.add_exhibits(exhibit_rows)
    result.problems = [(p.source, p.line, p.reason) for p in exhibits.problems]
    profile = load_profile()
    result.settings = {"matching": profile.to_dict(), "pipeline": PIPELINE_VERSION}

    by_logical = {m.logical: m for m in found.images}
    # Candidate pairs are verified on their pixels, read again from the evidence (read-only).
    matches = find_matches(
        sorted(hashed.items()), exhibits, profile, load=lambda lg: by_logical[lg].read()
    )
    stored_thumbs = store.thumbnails()
    thumbs = hash_thumbnails(stored_thumbs)
    by_thumb = {t.key: t for t in thumbs}
    thumb_matches = find_matches(
        [(t.key, t.record) for t in thumbs], exhibits, profile, load=lambda k: by_thumb[k].data
    )
    for match in thumb_matches:
        match.via = "thumbnail"
        matches.append(match)
    result.thumbnails = len(thumbs)
    by_cached = {t.key: t for t in gallery.thumbnails}
    matches += match_cached_thumbnails(gallery, gallery_records, exhibits, profile)
    thumb_paths = {t["path"] for t in stored_thumbs if t["path"]}
    sizes = {i.reference: (i.width, i.height) for i in exhibits.images}
    attachment_hashes = [
        (f"{ATTACHMENT_PREFIX}{row['id']}", row["source_hash"])
        for row in store.attachment_rows()
        if row["source_hash"]
    ]
    matches += match_source_hashes(attachment_hashes, exhibits)
    rows = []
    for match in matches:
        copy = None
        data: dict[str, Any] = {
            "also": match.also,
            "exhibit_trimmed": match.exhibit_trimmed,
            "file_trimmed": match.file_trimmed,
        }
        size = sizes.get(match.exhibit, (None, None))
        if match.method == "region":
            record = hashed.get(match.file)
            data["region"] = match.region
            data["exhibit_crop"] = match.exhibit_crop
            data["picture_size"] = [record.width, record.height] if record else None
        if match.verified:
            data["verified"] = match.verified
        if match.via == "file" and match.file in by_logical:
            copy = _copy_picture(by_logical[match.file], match.sha256, out)
            if is_thumbnail_file(match.file, thumb_paths):
                data["thumbnail"] = thumbnail_facts(
                    hashed[match.file], size, kind="preview file kept by an app or the gallery"
                )
        elif match.via == "thumbnail" and match.file in by_cached:
            cached = by_cached[match.file]
            record = gallery_records[match.file]
            copy = _copy_bytes(record, cached.data, out)
            data["thumbnail"] = cached_thumbnail_facts(cached, record, size, by_logical)
        elif match.via == "thumbnail":
            thumb = by_thumb[match.file]
            copy = _copy_bytes(thumb.record, thumb.data, out)
            data["thumbnail"] = thumbnail_facts(
                thumb.record,
                size,
                kind="preview kept in the app's database",
                message_id=thumb.message_id,
                locator=thumb.locator,
            )
        rows.append(
            {
                "exhibit_id": owner_of.get(match.exhibit, match.exhibit),
                "reference": match.exhibit,
                "file": match.file,
                "sha256": match.sha256,
                "method": match.method,
                "distance": match.distance,
                "band": match.band,
                "orientation": match.orientation,
                "via": match.via,
                "copy": copy,
                # A match through a digest the app recorded names the attachment row itself.
                "attachment_id": int(match.file[len(ATTACHMENT_PREFIX) :])
                if match.file.startswith(ATTACHMENT_PREFIX)
                else None,
                "data": data,
            }
        )
    # Stills of an exhibit video among the pictures: copied for the report like picture matches.
    for row in stills_of_videos(sorted(hashed.items()), video_exhibits, profile, out, MEDIA_DIR):
        row["copy"] = _copy_picture(by_logical[row["file"]], row["sha256"], out)
        row["exhibit_id"] = owner_of.get(row["exhibit"], row["exhibit"])
        row["reference"] = row.pop("exhibit")
        row["attachment_id"] = None
        rows.append(row)
    found_videos = video_files(found.others)
    seen: dict[str, int] = {}

    def frame_status(video: str, done: int, total: int) -> None:
        if status is not None:
            number = seen.setdefault(video, len(seen) + 1)
            status(f"Video {number}/{len(found_videos)} {video}: frame {done}/{total}")

    videos, problems, result.videos = video_matches(
        found_videos, exhibits, profile, out, MEDIA_DIR, frame_status, video_exhibits
    )
    result.unreadable = sorted(set(result.unreadable + problems))
    for row in videos:
        row["exhibit_id"] = owner_of.get(row["exhibit"], row["exhibit"])
        row["reference"] = row.pop("exhibit")
        row["attachment_id"] = None
    rows += videos
    store.add_media_matches(rows)
    result.matches = len(rows)
    return result


def _error_for(
    logical: str, hashed: dict[str, HashRecord], unreadable: list[tuple[str, str]]
) -> str | None:
    if logical in hashed and hashed[logical].error:
        return hashed[logical].error
    for path, reason in unreadable:
        if path == logical:
            return reason
    return None


def _copy_bytes(record: HashRecord, data: bytes, out: Path) -> str:
    """The report's copy of a preview held in memory (the evidence is not reached again)."""
    name = f"{MEDIA_DIR}/{record.sha256}.{EXTENSIONS.get(record.format or '', 'bin')}"
    target = out / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return name


def _copy_picture(item: MediaFile, sha256: str | None, out: Path) -> str | None:
    if not sha256:
        return None
    name = f"{MEDIA_DIR}/{sha256}.{EXTENSIONS.get(item.format, 'bin')}"
    target = out / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.read())
    return name


def _load_case_exhibits(
    case: Case, evidence: Evidence, out: Path, status: Callable[[str], None] | None = None
) -> tuple[ExhibitSet, list[VideoExhibit], list[dict[str, Any]], dict[str, str]]:
    """The case file's exhibits as an :class:`ExhibitSet` and exhibit videos, their store rows,
    and which case exhibit each matching reference belongs to (hash-list rows carry their own
    references)."""
    exhibits = ExhibitSet()
    videos: list[VideoExhibit] = []
    rows: list[dict[str, Any]] = []
    owner_of: dict[str, str] = {}
    categories = load_category_profile()
    for spec in case.exhibits:
        file = _exhibit_file(evidence, spec.path, f"exhibit {spec.id}")
        if spec.kind == "video":
            with file.open() as handle:
                data = handle.read()
            try:
                video = load_video_exhibit(
                    data,
                    spec.id,
                    (lambda d, t, i=spec.id: status(f"Exhibit video {i}: frame {d}/{t}"))
                    if status
                    else None,
                )
            except VideoError as exc:
                exhibits.problems.append(ListProblem(spec.id, None, str(exc)))
                rows.append(_exhibit_row(spec, None, None, {"error": str(exc)}))
                continue
            videos.append(video)
            owner_of[spec.id] = spec.id
            first = video.images[0] if video.images else None
            name = (
                save_frame(first, video.digests.sha256, video.frames.frames[0]["t"], out, MEDIA_DIR)
                if first
                else None
            )
            rows.append(_exhibit_row(spec, video.to_dict(), name, {}))
        elif spec.kind == "image":
            with file.open() as handle:
                data = handle.read()
            try:
                image = exhibit_from_bytes(data, spec.id)
            except ImageError as exc:
                exhibits.problems.append(ListProblem(spec.id, None, str(exc)))
                rows.append(_exhibit_row(spec, None, None, {"error": str(exc)}))
                continue
            exhibits.images.append(image)
            owner_of[spec.id] = spec.id
            name = f"{MEDIA_DIR}/{image.sha256}.{EXTENSIONS.get(image.format, 'bin')}"
            (out / MEDIA_DIR).mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
            rows.append(_exhibit_row(spec, image.to_dict(), name, {}))
        else:
            before = len(exhibits.hashes)
            kind = add_exhibit_file(exhibits, file, categories)
            for entry in exhibits.hashes[before:]:
                owner_of[entry.reference] = spec.id
            rows.append(
                _exhibit_row(
                    spec, None, None, {"read_as": kind, "entries": len(exhibits.hashes) - before}
                )
            )
    return exhibits, videos, rows, owner_of


def _exhibit_file(evidence: Evidence, path: Path, label: str) -> EvidenceFile:
    container = evidence.add_input(path, label)[0]
    return next(iter(container.files.values()))


def _exhibit_row(
    spec, image: dict[str, Any] | None, copy: str | None, data: dict[str, Any]
) -> dict[str, Any]:  # noqa: ANN001
    return {
        "id": spec.id,
        "reference": spec.id,
        "kind": spec.kind,
        "description": spec.description,
        "sensitive": int(spec.sensitive),
        "sha256": image["sha256"] if image else None,
        "md5": image["md5"] if image else None,
        "sha1": image["sha1"] if image else None,
        "copy": copy,
        "data": {**(image or {}), **data},
    }
