"""Video: frames sampled once a second, hashed like pictures, matched against exhibits.

Decoding uses PyAV (``av``), the Python binding of FFmpeg's libraries shipped as a binary wheel:
it decodes in-process (no ``ffmpeg`` executable to find, no pipes), exposes each frame's
presentation time, seeks by timestamp, and scales inside swscale (``to_image(width=, height=)``),
which is cheaper than scaling a full frame in Pillow (project reference notes on video hashing,
B3). imageio-ffmpeg drives an ``ffmpeg`` subprocess and its own README now points to PyAV.

Frames are sampled by *time* (one a second), not by keyframe: a re-encode such as WhatsApp's puts
keyframes elsewhere, so keyframe sets of two copies do not line up (reference notes B2, B5), while
the picture at a given second does. Each video gets at most :data:`FRAME_BUDGET` frames: longer
videos are sampled evenly across their length, each sample reached by a seek, so the cost per
video is bounded whatever its length.

Matching follows vPDQ's "bag of frame hashes" (ThreatExchange ``vpdq/README.md``): an exhibit
picture matches a video when a frame is within the whole-image bands; an exhibit video matches
a phone video by the share of its frames that find a matching frame, with the time offsets.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from triage.media.pipeline import perceptual_both

FRAME_BUDGET = 120  # frames per video at most
SAMPLE_SECONDS = 1.0
FRAME_SHORT_SIDE = 256  # frames are scaled (in swscale) to about this shorter side
VIDEO_SHARE = 0.5  # share of an exhibit video's frames that must match for a video match

# ISO-BMFF major brands of video files (MP4, QuickTime, 3GPP), Matroska/WebM, AVI.
VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"dash", b"mmp4",
}  # fmt: skip


def sniff_video(head: bytes) -> str | None:
    """``mp4``, ``matroska`` or ``avi`` for a file starting with ``head`` (>= 12 bytes)."""
    if head[4:8] == b"ftyp" and head[8:12] in VIDEO_BRANDS:
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


class VideoError(Exception):
    """A video that could not be decoded; the message says why."""


@dataclass(slots=True)
class VideoFrames:
    """Hashes of the sampled frames of one video."""

    duration: float | None
    width: int | None
    height: int | None
    frames: list[dict[str, Any]] = field(default_factory=list)  # {"t", "phash", "dhash", ...}
    sampled: str = "1 frame per second"

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "sampled": self.sampled,
        }


def _targets(duration: float | None, budget: int) -> list[float]:
    if not duration or duration <= 0:
        return [SAMPLE_SECONDS * i for i in range(budget)]
    count = math.ceil(duration / SAMPLE_SECONDS - 1e-6)  # times before the end only
    if count <= budget:
        return [SAMPLE_SECONDS * i for i in range(count)]
    step = duration / budget
    return [step * i for i in range(budget)]


def _frame_image(frame: Any) -> Image.Image:
    width, height = frame.width, frame.height
    scale = FRAME_SHORT_SIDE / max(1, min(width, height))
    if scale < 1:
        return frame.to_image(
            width=max(2, round(width * scale)), height=max(2, round(height * scale))
        )
    return frame.to_image()


def hash_video(
    data: bytes,
    budget: int = FRAME_BUDGET,
    progress: Callable[[int, int], None] | None = None,
    keep_images: bool = False,
) -> tuple[VideoFrames, list[Image.Image]]:
    """Sample and hash the frames of the video in ``data``; ``progress(done, total)`` after each
    frame. With ``keep_images`` the sampled frames are returned too (for the report)."""
    import av  # loaded on first use: FFmpeg's libraries are large

    images: list[Image.Image] = []
    try:
        container = av.open(io.BytesIO(data))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(f"cannot open video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise VideoError("no video stream")
        stream = container.streams.video[0]
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        targets = _targets(duration, budget)
        out = VideoFrames(duration, stream.codec_context.width, stream.codec_context.height)
        if duration and len(targets) == budget and duration / SAMPLE_SECONDS > budget:
            out.sampled = f"{budget} frames evenly spaced (frame budget)"
        seek = bool(duration) and duration / SAMPLE_SECONDS > 2 * budget
        try:
            picked = (
                _seek_frames(container, stream, targets)
                if seek
                else _scan(container, stream, targets)
            )
            for n, (t, frame) in enumerate(picked, 1):
                img = _frame_image(frame)
                values = perceptual_both(img)
                out.frames.append(
                    {
                        "t": round(t, 3),
                        "phash": values["phash"],
                        "dhash": values["dhash"],
                        "phash_trim": values["phash_trim"],
                        "dhash_trim": values["dhash_trim"],
                        "trim_box": values["trim_box"],
                    }
                )
                if keep_images:
                    images.append(img)
                if progress is not None:
                    progress(n, len(targets))
        except av.error.FFmpegError as exc:
            if not out.frames:
                raise VideoError(f"cannot decode video: {exc}") from exc
    return out, images


def _scan(container: Any, stream: Any, targets: list[float]):  # noqa: ANN202 - generator
    """Decode in order, keeping the first frame at or after each target time."""
    pending = list(targets)
    for frame in container.decode(stream):
        if frame.time is None:
            continue
        if not pending:
            return
        if frame.time + 1e-6 >= pending[0]:
            yield frame.time, frame
            while pending and pending[0] <= frame.time + 1e-6:
                pending.pop(0)


def _seek_frames(container: Any, stream: Any, targets: list[float]):  # noqa: ANN202
    """Reach each target by a seek (to the keyframe before it) and a short forward decode."""
    for target in targets:
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.time is not None and frame.time + 1e-6 >= target:
                yield frame.time, frame
                break


# -- matching ------------------------------------------------------------------------------------
def _bits(hexes: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
    values = np.array([int(h, 16) if h else 0 for h in hexes], dtype=np.uint64)
    return values, np.array([bool(h) for h in hexes])


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(a[:, None] ^ b[None, :]).astype(np.int16)


def frame_distances(
    queries: list[dict[str, Any]], frames: list[dict[str, Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """(q, f) smallest pHash and matching dHash distances between query hashes (dicts with
    ``phash``/``dhash`` and optional ``*_trim``) and video frames, over trimmed/untrimmed forms."""
    best_p = np.full((len(queries), len(frames)), 64, dtype=np.int16)
    best_d = np.full((len(queries), len(frames)), 64, dtype=np.int16)
    for qs in ("", "_trim"):
        qp, qok = _bits([q.get(f"phash{qs}") for q in queries])
        qd, _ = _bits([q.get(f"dhash{qs}") for q in queries])
        for fs in ("", "_trim"):
            fp, fok = _bits([f.get(f"phash{fs}") for f in frames])
            fd, _ = _bits([f.get(f"dhash{fs}") for f in frames])
            dp, dd = _distance(qp, fp), _distance(qd, fd)
            ok = qok[:, None] & fok[None, :]
            better = ok & (dp < best_p)
            best_p = np.where(better, dp, best_p)
            best_d = np.where(better, dd, best_d)
    return best_p, best_d


@dataclass(slots=True)
class VideoHit:
    """An exhibit (picture or video) found in a phone video."""

    exhibit: str
    video: str
    band: str
    distance: int  # best pHash distance
    frames: list[dict[str, Any]]  # {"exhibit_t" (videos only), "t", "phash", "dhash"}
    share: float | None = None  # exhibit videos: share of their frames that matched
    offset: float | None = None  # exhibit videos: median phone time - exhibit time (seconds)


def match_picture(
    exhibit: str,
    variants: list[dict[str, Any]],
    video: str,
    frames: list[dict[str, Any]],
    limits: dict[str, int],
) -> VideoHit | None:
    """An exhibit picture (its orientation variants) against one video's frames. ``limits``:
    ``match`` (pHash), ``review`` (pHash) and ``review_dhash`` (the dHash that must agree)."""
    if not frames or not variants:
        return None
    dp, dd = frame_distances(variants, frames)
    per_frame_p = dp.min(axis=0)
    per_frame_d = np.take_along_axis(dd, dp.argmin(axis=0)[None, :], axis=0)[0]
    match = per_frame_p <= limits["match"]
    review = (per_frame_p <= limits["review"]) & (per_frame_d <= limits["review_dhash"])
    hits = np.nonzero(match | review)[0]
    if not len(hits):
        return None
    return VideoHit(
        exhibit=exhibit,
        video=video,
        band="match" if match.any() else "review",
        distance=int(per_frame_p[hits].min()),
        frames=[
            {"t": frames[i]["t"], "phash": int(per_frame_p[i]), "dhash": int(per_frame_d[i])}
            for i in hits
        ],
    )


def match_video(
    exhibit: str,
    exhibit_frames: list[dict[str, Any]],
    video: str,
    frames: list[dict[str, Any]],
    limits: dict[str, int],
) -> VideoHit | None:
    """An exhibit video against a phone video: each exhibit frame's closest phone frame; a match
    when at least :data:`VIDEO_SHARE` of the exhibit frames find one within the match band."""
    if not frames or not exhibit_frames:
        return None
    dp, dd = frame_distances(exhibit_frames, frames)
    best = dp.argmin(axis=1)
    rows = np.arange(len(exhibit_frames))
    p, d = dp[rows, best], dd[rows, best]
    ok = p <= limits["match"]
    share = float(ok.mean())
    if share < VIDEO_SHARE:
        return None
    offsets = [frames[best[i]]["t"] - exhibit_frames[i]["t"] for i in rows[ok]]
    return VideoHit(
        exhibit=exhibit,
        video=video,
        band="match",
        distance=int(p[ok].min()),
        frames=[
            {
                "exhibit_t": exhibit_frames[i]["t"],
                "t": frames[best[i]]["t"],
                "phash": int(p[i]),
                "dhash": int(d[i]),
            }
            for i in rows[ok]
        ],
        share=round(share, 3),
        offset=round(float(np.median(offsets)), 3),
    )
