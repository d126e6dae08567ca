"""``triage hash`` and ``triage match``: picture hashing and exhibit search without a case file."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from triage.evidence import Evidence, EvidenceFile
from triage.terminal import shown

# Names of picture files, used only to say which files an examiner would take for pictures
# were not pictures by content (never to decide what a file is).
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".avif")

if TYPE_CHECKING:  # the media stack (Pillow, numpy, imagehash...) loads only when a command runs
    from triage.media.cache import HashCache, HashRecord
    from triage.media.gallery import GalleryCaches
    from triage.media.hashes import HashRun
    from triage.media.inventory import Inventory

err = Console(stderr=True, highlight=False)


def _paths(raw: tuple[str, ...]) -> list[Path]:
    out = []
    for item in raw:
        path = Path(item)
        if not path.exists():
            raise click.UsageError(f"{item}: no such file or folder")
        out.append(path)
    return out


def record_json(logical: str, record: HashRecord) -> dict[str, Any]:
    """The ``triage hash --jsonl`` line for one picture."""
    return {"path": logical, **record.to_dict()}


def _hash_paths(
    evidence: Evidence, paths: list[Path], cache: HashCache | None, workers: int | None
) -> tuple[HashRun, Inventory, list[tuple[str, str]], GalleryCaches, dict[str, HashRecord]]:
    """The pictures under ``paths`` hashed, and the thumbnails of the gallery caches among the
    other files (read and hashed as the run's media step does)."""
    from triage.media.cache import MemoryHashCache
    from triage.media.gallery import read_gallery_caches
    from triage.media.gallery_match import hash_cached_thumbnails
    from triage.media.hashes import hash_media
    from triage.media.inventory import inventory

    for path in paths:
        evidence.add_input(path, str(path))
    found = inventory(evidence.files())
    run = hash_media(found.images, cache=cache, workers=workers)
    skipped = [(r.path, r.reason) for r in evidence.refusals()] + found.unreadable
    skipped += _named_as_pictures(found.others)
    gallery = read_gallery_caches(found.others)
    records = hash_cached_thumbnails(gallery, cache or MemoryHashCache())
    return run, found, skipped, gallery, records


def _named_as_pictures(files: list[EvidenceFile]) -> list[tuple[str, str]]:
    """Files named like pictures whose content is not one (a zero-byte ``.jpg``, a web page
    saved as ``.jpg``): named, so the examiner knows a picture he expected was not compared."""
    from triage.unread import describe_content

    out = []
    for file in files:
        if not file.name.lower().endswith(PICTURE_SUFFIXES):
            continue
        if file.size == 0:
            out.append((file.logical, "named as a picture but empty (0 bytes): not compared"))
            continue
        try:
            content = describe_content(file.head(4096))
        except OSError as exc:
            content = f"unreadable ({exc})"
        out.append((file.logical, f"named as a picture but its content is {content}: not compared"))
    return out


_cache_option = click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False),
    help="SQLite file keeping hashes by SHA-256 between runs (created if missing). "
    "Never put it inside the evidence.",
)
_workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes used for decoding (default: one per available core).",
)


@click.command("hash")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--jsonl", is_flag=True, help="One JSON object per picture on stdout (the default).")
@_cache_option
@_workers_option
def hash_command(
    paths: tuple[str, ...], jsonl: bool, cache_path: str | None, workers: int | None
) -> None:
    """Hash every picture under PATHS: MD5, SHA-1, SHA-256 and perceptual hashes.

    PATHS may be files, folders or archives (zip, tar); pictures are found by content (JPEG, PNG,
    GIF, WebP, HEIC/HEIF), never by extension. Each output line has the logical path, size,
    md5, sha1, sha256, phash and dhash (64-bit imagehash hex), their trimmed forms (bars and
    borders cut), pdq and pdq_quality when the optional pdqhash package is installed, the
    pipeline version, and "error" for a picture that could not be decoded (corrupt, truncated,
    decompression bomb). Each thumbnail in an Android gallery cache gets a line too, its path
    "<cache file>@<offset>" and a "thumbnail" object with its cache provenance. A summary goes
    to stderr, with the damaged cache records.

    Example:

    \b
        triage hash phone_extraction.zip --jsonl --cache hashes.sqlite > pictures.jsonl
    """

    from triage.media.gallery_match import cached_thumbnail_facts

    with ExitStack() as stack:
        cache = _open_cache(stack, cache_path)
        evidence = stack.enter_context(Evidence())
        run, found, skipped, gallery, records = _hash_paths(evidence, _paths(paths), cache, workers)
        others = len(found.others)
        out = sys.stdout
        for item, record in run.results:
            out.write(json.dumps(record_json(item.logical, record), ensure_ascii=False) + "\n")
        logicals = [item.logical for item, _ in run.results]
        for thumb in gallery.thumbnails:
            line = record_json(thumb.key, records[thumb.key])
            line["thumbnail"] = cached_thumbnail_facts(
                thumb, records[thumb.key], (None, None), logicals
            )
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        for logical, reason in run.unreadable:
            out.write(json.dumps({"path": logical, "error": reason}, ensure_ascii=False) + "\n")
        changed = evidence.verify()
        _summary(run, others, skipped, gallery)
        for line in changed:
            err.print(f"[red]evidence changed:[/] {shown(line)}")


def _open_cache(stack: ExitStack, cache_path: str | None) -> HashCache | None:
    from triage.media.cache import SqliteHashCache

    if not cache_path:
        return None
    try:
        return stack.enter_context(SqliteHashCache(cache_path))
    except Exception as exc:  # noqa: BLE001 - one line for the user, not a traceback
        raise click.UsageError(f"--cache {cache_path}: cannot open ({exc})") from exc


def _summary(
    run: HashRun, others: int, skipped: list[tuple[str, str]], gallery: GalleryCaches
) -> None:
    from triage.media.pipeline import PIPELINE_VERSION

    err.print(
        f"{len(run.results) + len(run.unreadable):,} pictures: {run.hashed:,} hashed, "
        f"{run.cached:,} from cache, {len(run.errors):,} with errors; "
        f"{others:,} other files (not pictures)"
    )
    if gallery.files:
        err.print(
            f"{len(gallery.thumbnails):,} thumbnails read from {len(gallery.files):,} gallery "
            f"cache files, {len(gallery.damaged):,} damaged records"
        )
    for cache_file, where in gallery.damaged:
        err.print(f"[yellow]damaged cache record:[/] {shown(cache_file)} {shown(where)}")
    for logical, reason in run.errors:
        err.print(f"[yellow]picture not hashed:[/] {shown(logical)}: {shown(reason)}")
    for logical, reason in skipped:
        err.print(f"[yellow]skipped:[/] {shown(logical)}: {shown(reason)}")
    err.print(f"pipeline {PIPELINE_VERSION}")


@click.command("match")
@click.option(
    "--exhibit",
    "exhibit_paths",
    multiple=True,
    required=True,
    type=click.Path(),
    help="An exhibit: a picture, a CSV list of MD5/SHA-1/SHA-256 values, a Project VIC/VICS "
    "JSON hash set, or a folder/archive of them. Repeat for more.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Write the result as one JSON document.")
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Thresholds file (default: profiles/matching.yaml).",
)
@click.option(
    "--hashset-profile",
    type=click.Path(exists=True, dir_okay=False),
    help="Category names for VICS sets (default: profiles/hashsets/vics_categories.yaml).",
)
@click.option(
    "--all-files",
    is_flag=True,
    help="Also compute MD5/SHA-1/SHA-256 of every file that is not a picture, so hash-list "
    "exhibits of videos or documents are found too (reads the whole extraction).",
)
@_cache_option
@_workers_option
def match_command(
    exhibit_paths: tuple[str, ...],
    paths: tuple[str, ...],
    as_json: bool,
    profile_path: str | None,
    hashset_profile: str | None,
    all_files: bool,
    cache_path: str | None,
    workers: int | None,
) -> None:
    """Find copies and near-copies of exhibits among the pictures under PATHS.

    Every picture (found by content in files, folders and archives) is compared with every
    exhibit: exactly by SHA-256, MD5 and SHA-1, and perceptually by pHash (primary), dHash and
    PDQ over the exhibit's 8 orientations (rotations and mirror), with black/white bars and
    borders trimmed, so recompressed, resized, screenshotted, rotated, mirrored, greyscale and
    slightly cropped copies are found. Each match gives the exhibit, the file, the method, the
    Hamming distance, the orientation and the band from the thresholds profile: "exact",
    "match" (a strong lead) or "review" (a candidate). A perceptual match is a lead to confirm
    by eye, never proof on its own. Thumbnails in Android gallery caches (the Gallery app's
    imgcache.* blob cache, DCIM/.thumbnails/.thumbdata3-*) are compared too, as the run does: such
    a match is a "thumbnail match" with its resolution, the cache file and its SHA-256, the
    record and its byte offset, and the original path the cache key names.

    Example:

    \b
        triage match --exhibit exhibits/ --exhibit hashes.csv phone.zip --json > matches.json
    """
    from triage.media.cache import MemoryHashCache
    from triage.media.exhibits import load_category_profile, load_exhibits
    from triage.media.gallery_match import cached_thumbnail_facts, match_cached_thumbnails
    from triage.media.hashes import digest_files
    from triage.media.matching import find_matches, load_profile
    from triage.media.pipeline import PIPELINE_VERSION

    try:
        profile = load_profile(profile_path)
        categories = load_category_profile(hashset_profile)
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"cannot read profile: {exc}") from exc
    exhibits = load_exhibits(_paths(exhibit_paths), categories)
    if not exhibits.images and not exhibits.hashes:
        for problem in exhibits.problems:
            err.print(f"[red]exhibit problem:[/] {shown(problem.source)}: {shown(problem.reason)}")
        raise click.UsageError("no usable exhibit (no picture and no hash)")
    with ExitStack() as stack:
        cache = _open_cache(stack, cache_path) or MemoryHashCache()
        evidence = stack.enter_context(Evidence())
        run, found, skipped, gallery, records = _hash_paths(evidence, _paths(paths), cache, workers)
        others = len(found.others)
        files = [(item.logical, record) for item, record in run.results]
        if all_files and exhibits.hashes:
            digested, unreadable = digest_files(found.others, workers)
            files.extend(digested)
            skipped.extend(unreadable)
        readers = {item.logical: item for item, _ in run.results}
        matches = find_matches(
            files, exhibits, profile, load=lambda logical: readers[logical].read()
        )
        found_matches = [m.to_dict() for m in matches]
        by_key = {t.key: t for t in gallery.thumbnails}
        sizes = {i.reference: (i.width, i.height) for i in exhibits.images}
        for match in match_cached_thumbnails(gallery, records, exhibits, profile):
            data = match.to_dict()
            data["thumbnail"] = cached_thumbnail_facts(
                by_key[match.file],
                records[match.file],
                sizes.get(match.exhibit, (None, None)),
                readers,
            )
            found_matches.append(data)
        changed = evidence.verify()
    result = {
        "pipeline": PIPELINE_VERSION,
        "profile": profile.to_dict(),
        "hashset_profile": categories.path,
        "exhibits": {
            "pictures": [image.to_dict() for image in exhibits.images],
            "hashes": len(exhibits.hashes),
            "sources": exhibits.sources,
            "problems": [
                {"source": p.source, "line": p.line, "reason": p.reason} for p in exhibits.problems
            ],
        },
        "searched": {
            "pictures": len(run.results) + len(run.unreadable),
            "hashed": run.hashed,
            "cached": run.cached,
            "other_files": others,
            "gallery_caches": gallery.files,
            "gallery_thumbnails": len(gallery.thumbnails),
            "damaged_cache_records": [{"file": f, "where": w} for f, w in gallery.damaged],
            "errors": [{"path": p, "reason": r} for p, r in run.errors],
            "skipped": [{"path": p, "reason": r} for p, r in skipped],
            "evidence_changed": changed,
        },
        "matches": found_matches,
    }
    if as_json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_matches(result)
    for problem in exhibits.problems:
        where = f" line {problem.line}" if problem.line else ""
        err.print(
            f"[yellow]exhibit problem:[/] {shown(problem.source)}{where}: {shown(problem.reason)}"
        )
    _summary(run, others, skipped, gallery)
    for line in changed:
        err.print(f"[red]evidence changed:[/] {shown(line)}")


def _print_matches(result: dict[str, Any]) -> None:
    table = Table(title=f"{len(result['matches'])} matches")
    for column in ("band", "method", "distance", "orientation", "exhibit", "file"):
        table.add_column(column, overflow="fold")
    for m in result["matches"]:
        trimmed = " (trimmed)" if m["file_trimmed"] or m["exhibit_trimmed"] else ""
        table.add_row(
            m["band"],
            m["method"],
            str(m["distance"]),
            (m["orientation"] or "") + trimmed,
            shown(m["exhibit"] + (f" [{m['category']}]" if m["category"] else "")),
            shown(m["file"]) + _thumbnail_text(m.get("thumbnail")),
        )
    Console(highlight=False).print(table)


def _thumbnail_text(thumb: dict[str, Any] | None) -> str:
    """A gallery-cache thumbnail match named as such, with its resolution and provenance."""
    if not thumb or "cache_sha256" not in thumb:
        return ""
    parts = [f"thumbnail match ({thumb.get('resolution', 'size unknown')})", thumb["locator"]]
    parts.append(f"{thumb['cache_format']}, SHA-256 {thumb['cache_sha256']}")
    if thumb.get("original_path"):
        parts.append(f"original: {thumb['original_path']}")
    return "\n" + "\n".join(shown(p) for p in parts)
