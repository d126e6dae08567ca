"""``video:`` exhibits (issue 21 part 3): an exhibit clip found in the phone's videos (share of
frames, time offset), and a still of it among the phone's pictures; frames side by side in the
report, blurred; progress per frame."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import av
import pytest
from PIL import Image, ImageDraw, ImageFilter

from triage.casefile import CaseFileError, load_case
from triage.media.video import VideoError
from triage.media.video_stage import load_video_exhibit
from triage.run import Progress, run_case


def scene(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(10, 70)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    return img.filter(ImageFilter.GaussianBlur(1))


def clip(scenes: list[Image.Image], fps: int = 10, size: tuple[int, int] = (320, 240)) -> bytes:
    """An H.264 MP4 showing each scene for one second."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for img in scenes:
            frame = av.VideoFrame.from_image(img.resize(size))
            for _ in range(fps):
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def with_video_exhibit(case_file: Path, data: bytes) -> None:
    (case_file.parent / "exhibits" / "EX-KL-4.mp4").write_bytes(data)
    text = case_file.read_text("utf-8").replace(
        "\nsources:\n",
        "  - id: EX/KL/4\n    video: exhibits/EX-KL-4.mp4\n"
        "    description: Clip Female A reported\n\nsources:\n",
        1,
    )
    case_file.write_text(text, "utf-8")


def test_an_exhibit_video_is_found_in_a_trimmed_rescaled_copy_and_as_a_still(
    demo_case: Path, tmp_path: Path
) -> None:
    scenes = [scene(s) for s in range(60, 66)]
    with_video_exhibit(demo_case, clip(scenes))
    camera = demo_case.parent / "evidence" / "sdcard-copy" / "DCIM" / "Camera"
    # The phone's copy: the first two seconds cut, smaller, re-encoded at 15 fps.
    (camera / "VID_20260402_2301.mp4").write_bytes(clip(scenes[2:], fps=15, size=(240, 180)))
    (camera / "VID_20260403_0800.mp4").write_bytes(clip([scene(s) for s in range(70, 76)]))
    still = io.BytesIO()
    scenes[4].resize((320, 240)).save(still, "JPEG", quality=80)
    (camera / "IMG_20260402_2305.jpg").write_bytes(still.getvalue())
    stages: list[str] = []
    out = tmp_path / "out"
    run_case(load_case(demo_case), out, progress=Progress(stage=stages.append))

    data = json.loads((out / "findings.json").read_text())
    found = [
        f
        for f in data["findings"]
        if f["rule"] == "exhibit.match" and f["data"]["exhibit_id"] == "EX/KL/4"
    ]
    by_file = {Path(f["data"]["file"]).name: f for f in found}
    assert set(by_file) == {"VID_20260402_2301.mp4", "IMG_20260402_2305.jpg"}

    copy = by_file["VID_20260402_2301.mp4"]
    video = copy["data"]["video"]
    assert copy["data"]["via"] == "video" and copy["data"]["method"] == "frames"
    assert video["exhibit_frames"] == 6 and 0.6 <= video["share"] <= 0.7  # 4 of 6 seconds
    assert video["offset"] == pytest.approx(-2.0, abs=0.2)
    pairs = {(f["exhibit_t"], f["t"]) for f in video["matching_frames"]}
    assert (2.0, 0.0) in pairs and (5.0, 3.0) in pairs
    assert "4 of the 6 frames" in copy["why"] and "the exhibit's 2 s" in copy["why"]
    shown = video["shown"]
    assert shown and all((out / f["copy"]).is_file() for f in shown)
    assert all((out / f["exhibit_copy"]).is_file() for f in shown)
    assert copy["data"]["exhibit_copy"] == shown[0]["exhibit_copy"]

    frame = by_file["IMG_20260402_2305.jpg"]
    assert frame["data"]["via"] == "file" and frame["data"]["video"]["exhibit_t"] == 4.0
    assert "frame at 4 s" in frame["why"]

    page = (out / "exhibits.html").read_text("utf-8")
    assert "Exhibit frame at" in page and "exhibit 2.0 s = 0.0 s" in page
    assert 'id="fig-' in page and "evidence blurred" in page
    assert any("EX/KL/4: frame 6/6" in s for s in stages)
    assert any(s.startswith("Video 1/2 ") and "frame" in s for s in stages)


def test_a_video_exhibit_that_is_not_a_video_is_named_and_the_run_goes_on(
    demo_case: Path, tmp_path: Path
) -> None:
    with_video_exhibit(demo_case, b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200)
    out = tmp_path / "out"
    result = run_case(load_case(demo_case), out)
    data = json.loads((out / "findings.json").read_text())
    assert any(f["rule"] == "exhibit.match" for f in data["findings"])  # the pictures still run
    (warning,) = [w for w in result.warnings if w["file"] == "EX/KL/4"]
    assert warning["category"] == "unusable exhibit entry"
    with pytest.raises(VideoError):
        load_video_exhibit(b"not a video at all", "X")


def test_the_case_file_takes_one_kind_per_exhibit(demo_case: Path) -> None:
    with_video_exhibit(demo_case, clip([scene(1)]))
    case = load_case(demo_case)
    assert [e.kind for e in case.exhibits][-1] == "video"
    text = demo_case.read_text("utf-8").replace(
        "video: exhibits/EX-KL-4.mp4",
        "video: exhibits/EX-KL-4.mp4\n    image: exhibits/EX-KL-1.jpg",
    )
    demo_case.write_text(text, "utf-8")
    with pytest.raises(CaseFileError, match="exactly one of image:, video:"):
        load_case(demo_case)
