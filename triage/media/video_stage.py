"""The run's video step: every video in the evidence (found by content) sampled and hashed
(:mod:`triage.media.video`), and compared with the exhibits frame by frame:

* exhibit pictures against each video's frames (a still of the exhibit inside a clip);
* exhibit videos (``video:`` in the case file) against each video: identical by SHA-256, or the
  share of the exhibit's frames that find a matching frame, with the time offset (a trimmed,
  re-encoded or rescaled copy); and against the phone's pictures (a still taken from the clip).

A match names the video, the times of the matching frames and their distances; the frames are
saved in the output's ``media/`` folder so the report shows them side by side (the exhibit's
frame beside the phone's), blurred until clicked. Videos over :data:`MAX_VIDEO_BYTES` are listed
as not read, never silently skipped. Every video costs at most the frame budget
(:data:`triage.media.video.FRAME_BUDGET`); ``progress`` is told each frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from triage.evidence import EvidenceFile
from triage.media.cache import HashRecord
from triage.media.exhibits import ExhibitSet
from triage.media.hashes import Digests, digest_bytes
from triage.media.matching import MatchProfile
from triage.media.video import (
    VideoError,
    VideoFrames,
    frame_distances,
    hash_video,
    match_picture,
    match_video,
    sniff_video,
)

MAX_VIDEO_BYTES = 1 << 30  # read whole into memory for PyAV: bounded
MAX_SHOWN_FRAMES = 3


@dataclass(slots=True)
class VideoExhibit:
    """An exhibit that is a video: its digests and sampled frames (with the frame pictures, so
    the report can show the exhibit's frame beside the phone's)."""

    reference: str
    digests: Digests
    frames: VideoFrames
    images: list[Image.Image] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "md5": self.digests.md5,
            "sha1": self.digests.sha1,
            "sha256": self.digests.sha256,
            "size": self.digests.size,
            "video": {
                "duration": self.frames.duration,
                "width": self.frames.width,
                "height": self.frames.height,
                "sampled": self.frames.sampled,
                "frames_hashed": len(self.frames.frames),
            },
        }


def load_video_exhibit(
    data: bytes, reference: str, progress: Callable[[int, int], None] | None = None
) -> VideoExhibit:
    """Hash an exhibit video's frames; raises :class:`VideoError` when it is not a readable video."""
    if sniff_video(data[:16]) is None:
        raise VideoError("not a video (no MP4/QuickTime, Matroska/WebM or AVI signature)")
    frames, images = hash_video(data, progress=progress, keep_images=True)
    if not frames.frames:
        raise VideoError("no frame could be decoded")
    return VideoExhibit(reference, digest_bytes(data), frames, images)


def save_frame(image: Image.Image, sha256: str, t: float, out: Path, media_dir: str) -> str:
    name = f"{media_dir}/{sha256}-t{t:.3f}.jpg"
    target = out / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, "JPEG", quality=85)
    return name


def _frame_at(frames: VideoFrames, images: list[Image.Image], t: float) -> Image.Image | None:
    index = next((i for i, f in enumerate(frames.frames) if f["t"] == t), None)
    return images[index] if index is not None and index < len(images) else None


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
    video_exhibits: Sequence[VideoExhibit] = (),
) -> tuple[list[dict[str, Any]], list[tuple[str, str]], int]:
    """Match rows for ``media_matches``, (file, reason) of videos that could not be read, and
    the number of videos hashed. ``progress(video, frame, frames)`` is told every frame."""
    rows: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    hashed = 0
    if not exhibits.images and not video_exhibits:
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
                image = _frame_at(frames, images, frame["t"])
                name = save_frame(image, sha256, frame["t"], out, media_dir) if image else None
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
        for exhibit in video_exhibits:
            row = _video_to_video(
                exhibit, file.logical, sha256, frames, images, limits, out, media_dir
            )
            if row is not None:
                rows.append(row)
    return rows, problems, hashed


def _video_to_video(
    exhibit: VideoExhibit,
    logical: str,
    sha256: str,
    frames: VideoFrames,
    images: list[Image.Image],
    limits: dict[str, int],
    out: Path,
    media_dir: str,
) -> dict[str, Any] | None:
    """A row for an exhibit video found in a phone video: identical bytes, or enough of its
    frames matched (:func:`.video.match_video`), with the frame pairs saved for the report."""
    if sha256 == exhibit.digests.sha256:
        method, band, distance = "sha256", "exact", 0
        pairs = [
            {"exhibit_t": f["t"], "t": f["t"], "phash": 0, "dhash": 0}
            for f in exhibit.frames.frames
        ]
        share, offset = 1.0, 0.0
    else:
        hit = match_video(exhibit.reference, exhibit.frames.frames, logical, frames.frames, limits)
        if hit is None:
            return None
        method, band, distance = "frames", hit.band, hit.distance
        pairs, share, offset = hit.frames, hit.share, hit.offset
    # The closest pairs, spread over the clip: the report shows them side by side.
    shown = []
    for pair in sorted(pairs, key=lambda f: (f["phash"], f["exhibit_t"]))[:MAX_SHOWN_FRAMES]:
        mine = _frame_at(frames, images, pair["t"])
        theirs = _frame_at(exhibit.frames, exhibit.images, pair["exhibit_t"])
        shown.append(
            {
                **pair,
                "copy": save_frame(mine, sha256, pair["t"], out, media_dir) if mine else None,
                "exhibit_copy": save_frame(
                    theirs, exhibit.digests.sha256, pair["exhibit_t"], out, media_dir
                )
                if theirs
                else None,
            }
        )
    shown.sort(key=lambda f: f["exhibit_t"])
    return {
        "exhibit": exhibit.reference,
        "file": logical,
        "sha256": sha256,
        "method": method,
        "distance": distance,
        "band": band,
        "orientation": None,
        "via": "video",
        "copy": shown[0]["copy"] if shown else None,
        "data": {
            "also": {},
            "video": {
                "duration": frames.duration,
                "sampled": frames.sampled,
                "frames_hashed": len(frames.frames),
                "exhibit_duration": exhibit.frames.duration,
                "exhibit_frames": len(exhibit.frames.frames),
                "share": share,
                "offset": offset,
                "matching_frames": pairs,
                "shown": shown,
            },
        },
    }


def stills_of_videos(
    records: Sequence[tuple[str, HashRecord]],
    video_exhibits: Sequence[VideoExhibit],
    profile: MatchProfile,
    out: Path,
    media_dir: str,
) -> list[dict[str, Any]]:
    """Rows for phone pictures that are a frame of an exhibit video (a still or screenshot of
    the clip): the picture's whole-image hashes against the exhibit's frames, in the pHash bands
    (match, or review with dHash agreeing)."""
    rows: list[dict[str, Any]] = []
    usable = [(lg, r) for lg, r in records if r.phash and not r.error]
    if not usable or not video_exhibits:
        return rows
    limits = _limits(profile)
    queries = [
        {"phash": r.phash, "dhash": r.dhash, "phash_trim": r.phash_trim, "dhash_trim": r.dhash_trim}
        for _, r in usable
    ]
    for exhibit in video_exhibits:
        dp, dd = frame_distances(queries, exhibit.frames.frames)
        best = dp.argmin(axis=1)
        for q, (logical, record) in enumerate(usable):
            p, d = int(dp[q, best[q]]), int(dd[q, best[q]])
            if p <= limits["match"]:
                band = "match"
            elif p <= limits["review"] and d <= limits["review_dhash"]:
                band = "review"
            else:
                continue
            frame = exhibit.frames.frames[int(best[q])]
            image = _frame_at(exhibit.frames, exhibit.images, frame["t"])
            exhibit_copy = (
                save_frame(image, exhibit.digests.sha256, frame["t"], out, media_dir)
                if image
                else None
            )
            rows.append(
                {
                    "exhibit": exhibit.reference,
                    "file": logical,
                    "sha256": record.sha256,
                    "method": "phash",
                    "distance": p,
                    "band": band,
                    "orientation": "original",
                    "via": "file",
                    "copy": None,  # the media stage copies the picture
                    "data": {
                        "also": {"dhash": d},
                        "video": {
                            "exhibit_t": frame["t"],
                            "exhibit_copy": exhibit_copy,
                            "exhibit_duration": exhibit.frames.duration,
                        },
                    },
                }
            )
    return rows
