"""The run's video step: every video in the evidence (found by content) sampled and hashed
(:mod:`triage.media.video`), and compared with the exhibit pictures frame by frame.

A match names the video, the times of the matching frames and their distances; the frames are
saved in the output's ``media/`` folder so the report shows them beside the exhibit (blurred
until clicked). Videos over :data:`MAX_VIDEO_BYTES` are listed as not read, never silently
skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from triage.evidence import EvidenceFile
from triage.media.exhibits import ExhibitSet
from triage.media.hashes import digest_bytes
from triage.media.matching import MatchProfile
from triage.media.video import VideoError, hash_video, match_picture, sniff_video

MAX_VIDEO_BYTES = 1 << 30  # read whole into memory for PyAV: bounded
MAX_SHOWN_FRAMES = 3


def video_files(files: list[EvidenceFile]) -> list[EvidenceFile]:
    """The files among ``files`` whose content is a video."""
    out = []
    for file in files:
        try:
            if sniff_video(file.head(16)):
                out.append(file)
        except OSError:
            continue
    return out


def _limits(profile: MatchProfile) -> dict[str, int]:
    band = profile.bands.get("phash")
    match = band.match if band and band.match is not None else 10
    review = band.review if band and band.review is not None else match
    return {
        "match": match,
        "review": review,
        "review_dhash": (band.review_needs.get("dhash", 64) if band else 64),
    }


def video_matches(
    files: list[EvidenceFile],
    exhibits: ExhibitSet,
    profile: MatchProfile,
    out: Path,
    media_dir: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], list[tuple[str, str]], int]:
    """Match rows for ``media_matches``, (file, reason) of videos that could not be read, and
    the number of videos hashed."""
    rows: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    hashed = 0
    if not exhibits.images:
        return rows, problems, hashed
    variants = {
        image.reference: [
            {
                "phash": v.phash,
                "dhash": v.dhash,
                "phash_trim": v.phash_trim,
                "dhash_trim": v.dhash_trim,
            }
            for v in image.variants
        ]
        for image in exhibits.images
    }
    limits = _limits(profile)
    for file in files:
        if file.size > MAX_VIDEO_BYTES:
            problems.append((file.logical, f"video larger than {MAX_VIDEO_BYTES} bytes not read"))
            continue
        try:
            with file.open() as handle:
                data = handle.read()
            report = (lambda d, t, f=file.logical: progress(f, d, t)) if progress else None
            frames, images = hash_video(data, progress=report, keep_images=True)
        except (OSError, VideoError) as exc:
            problems.append((file.logical, str(exc)))
            continue
        hashed += 1
        sha256 = digest_bytes(data).sha256
        for reference, queries in variants.items():
            hit = match_picture(reference, queries, file.logical, frames.frames, limits)
            if hit is None:
                continue
            shown = sorted(hit.frames, key=lambda f: (f["phash"], f["t"]))[:MAX_SHOWN_FRAMES]
            copies = []
            for frame in shown:
                index = next(i for i, f in enumerate(frames.frames) if f["t"] == frame["t"])
                name = f"{media_dir}/{sha256}-t{frame['t']:.3f}.jpg"
                target = out / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    images[index].save(target, "JPEG", quality=85)
                copies.append({**frame, "copy": name})
            rows.append(
                {
                    "exhibit": reference,
                    "file": file.logical,
                    "sha256": sha256,
                    "method": "phash",
                    "distance": hit.distance,
                    "band": hit.band,
                    "orientation": None,
                    "via": "video_frame",
                    "copy": copies[0]["copy"] if copies else None,
                    "data": {
                        "also": {},
                        "video": {
                            "duration": frames.duration,
                            "sampled": frames.sampled,
                            "frames_hashed": len(frames.frames),
                            "matching_frames": hit.frames,
                            "shown": copies,
                        },
                    },
                }
            )
    return rows, problems, hashed
