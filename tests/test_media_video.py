"""Video frames (issue 21 part 3): sampled by time with PyAV, hashed, matched to exhibits."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import av
import pytest
from PIL import Image, ImageDraw, ImageFilter

from triage.casefile import load_case
from triage.media.exhibits import exhibit_from_bytes
from triage.media.video import (
    VideoError,
    hash_video,
    match_picture,
    match_video,
    sniff_video,
)
from triage.run import run_case

LIMITS = {"match": 10, "review": 16, "review_dhash": 12}


def scene(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(10, 70)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    return img.filter(ImageFilter.GaussianBlur(1))


def clip(scenes: list[Image.Image], seconds_each: float, fps: int = 10, size=(320, 240)) -> bytes:
    """An H.264 MP4 showing each scene for ``seconds_each`` seconds."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for img in scenes:
            frame = av.VideoFrame.from_image(img.resize(size))
            for _ in range(round(seconds_each * fps)):
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def exhibit_variants(img: Image.Image) -> list[dict]:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=92)
    exhibit = exhibit_from_bytes(buffer.getvalue(), "EX")
    return [
        {"phash": v.phash, "dhash": v.dhash, "phash_trim": v.phash_trim, "dhash_trim": v.dhash_trim}
        for v in exhibit.variants
    ]


def test_picture_exhibit_found_at_its_time_in_a_video() -> None:
    a, b, c = scene(1), scene(2), scene(3)
    data = clip([a, b, c], 2.0)
    assert sniff_video(data[:16]) == "mp4"
    seen = []
    frames, _ = hash_video(data, progress=lambda done, total: seen.append((done, total)))
    assert frames.duration and 5.5 <= frames.duration <= 6.5
    assert [f["t"] for f in frames.frames] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert seen == [(n, 6) for n in range(1, 7)]  # progress after every frame
    hit = match_picture("EX", exhibit_variants(b), "clip.mp4", frames.frames, LIMITS)
    assert hit is not None and hit.band == "match"
    assert {f["t"] for f in hit.frames} == {2.0, 3.0}  # scene b is on screen from 2 s to 4 s
    assert (
        match_picture("EX", exhibit_variants(scene(9)), "clip.mp4", frames.frames, LIMITS) is None
    )


def test_exhibit_video_matched_in_a_trimmed_rescaled_reencode() -> None:
    scenes = [scene(s) for s in range(10, 16)]
    exhibit, _ = hash_video(clip(scenes, 1.0, size=(320, 240)))
    # The phone's copy: the first two seconds trimmed off, scaled down, re-encoded at 15 fps.
    phone, _ = hash_video(clip(scenes[2:], 1.0, fps=15, size=(240, 180)))
    hit = match_video("EXV", exhibit.frames, "copy.mp4", phone.frames, LIMITS)
    assert hit is not None and hit.share is not None and 0.6 <= hit.share <= 0.7  # 4 of 6 s
    assert hit.offset == pytest.approx(-2.0, abs=0.2)
    other, _ = hash_video(clip([scene(s) for s in range(30, 36)], 1.0))
    assert match_video("EXV", exhibit.frames, "other.mp4", other.frames, LIMITS) is None


def test_frame_budget_bounds_a_long_video() -> None:
    data = clip([scene(40), scene(41)], 15.0, fps=5)  # 30 s
    frames, _ = hash_video(data, budget=10)
    assert len(frames.frames) == 10 and "frame budget" in frames.sampled
    times = [f["t"] for f in frames.frames]
    assert times == sorted(times) and times[-1] >= 25


def test_not_a_video_is_a_clear_error() -> None:
    with pytest.raises(VideoError):
        hash_video(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)


def test_run_finds_an_exhibit_in_a_phone_video_and_shows_its_frames(
    demo_case: Path, tmp_path: Path
) -> None:
    folder = demo_case.parent
    exhibit = Image.open(folder / "exhibits" / "EX-KL-1.jpg").convert("RGB")
    camera = folder / "evidence" / "sdcard-copy" / "DCIM" / "Camera"
    (camera / "VID_20260315_2210.mp4").write_bytes(clip([scene(50), exhibit, scene(51)], 2.0))
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    data = json.loads((out / "findings.json").read_text())
    (finding,) = [
        f
        for f in data["findings"]
        if f["rule"] == "exhibit.match" and f["data"]["via"] == "video_frame"
    ]
    d = finding["data"]
    assert d["exhibit_id"] == "EX/KL/1" and d["file"].endswith("VID_20260315_2210.mp4")
    assert {f["t"] for f in d["video"]["matching_frames"]} == {2.0, 3.0}
    assert d["video"]["frames_hashed"] == 6
    assert "frame of a video" in finding["why"] and "2 s" in finding["why"]
    shown = d["video"]["shown"]
    assert shown and all((out / f["copy"]).is_file() for f in shown)
    page = (out / "exhibits.html").read_text("utf-8")
    assert "Video frames" in page and 'class="evidence blurred" id="fig-' in page
