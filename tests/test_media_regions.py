"""The crop-resistant tier (issue 21 part 2): screenshots and crops no whole-image test passes."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from triage.casefile import load_case
from triage.media.exhibits import ExhibitSet, exhibit_from_bytes
from triage.media.hashes import hash_bytes
from triage.media.matching import find_matches, load_profile
from triage.run import run_case


def photo(seed: int, size: tuple[int, int] = (900, 600)) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(10, 90)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1))
    return Image.blend(img, Image.effect_noise(size, 40).convert("RGB"), 0.15)


def jpeg(img: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def screenshot(inner: Image.Image) -> Image.Image:
    screen = Image.new("RGB", (1080, 2340), (225, 230, 222))
    draw = ImageDraw.Draw(screen)
    draw.rectangle([0, 0, 1080, 230], fill=(20, 90, 60))
    draw.rounded_rectangle([420, 300, 1040, 400], radius=24, fill=(220, 248, 198))
    draw.text((450, 340), "look", fill=(40, 40, 40))
    draw.rounded_rectangle([120, 470, 1040, 1100], radius=24, fill=(220, 248, 198))
    screen.paste(inner.resize((890, 593)), (135, 485))
    draw.rectangle([0, 2180, 1080, 2340], fill=(245, 245, 245))
    return screen


def exhibits_of(*images: Image.Image) -> ExhibitSet:
    out = ExhibitSet()
    for n, img in enumerate(images):
        out.images.append(exhibit_from_bytes(jpeg(img, 92), f"EX{n}"))
    return out


def test_a_photo_inside_a_chat_screenshot_is_found_and_located() -> None:
    exhibit, other = photo(1), photo(2)
    shot = hash_bytes(jpeg(screenshot(exhibit), 75))
    assert shot.regions, "the picture area of the screenshot is a candidate region"
    matches = find_matches([("shot.jpg", shot)], exhibits_of(exhibit, other), load_profile())
    assert [(m.exhibit, m.method) for m in matches] == [("EX0", "region")]
    left, top, right, bottom = matches[0].region
    # Pasted at (135, 485)-(1025, 1078); the box is found within a few pixels.
    assert abs(left - 135) <= 12 and abs(top - 485) <= 12
    assert abs(right - 1025) <= 12 and abs(bottom - 1078) <= 12


def test_an_unrelated_photo_in_a_screenshot_and_a_plain_photo_give_no_region_match() -> None:
    exhibit = photo(3)
    records = [
        ("shot.jpg", hash_bytes(jpeg(screenshot(photo(4)), 75))),
        ("plain.jpg", hash_bytes(jpeg(photo(5)))),
    ]
    assert not records[1][1].regions  # one textured whole: nothing for the second tier
    assert find_matches(records, exhibits_of(exhibit), load_profile()) == []


def test_a_ten_percent_crop_is_matched_through_a_crop_of_the_exhibit() -> None:
    exhibit = photo(6)
    w, h = exhibit.size
    cropped = exhibit.crop((int(w * 0.06), int(h * 0.06), int(w * 0.96), int(h * 0.96)))
    record = hash_bytes(jpeg(cropped.resize((800, 533)), 70))
    (match,) = find_matches([("crop.jpg", record)], exhibits_of(exhibit), load_profile())
    assert match.band in ("match", "review")
    if match.method == "region":  # whole-image pHash may already catch it; else a crop must
        assert match.exhibit_crop is not None and any(match.exhibit_crop)


def test_demo_exhibit_arriving_as_a_screenshot(demo_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    data = json.loads((out / "findings.json").read_text())
    (finding,) = [
        f for f in data["findings"] if f["rule"] == "exhibit.match" and f["subject"] == "EX/KL/3"
    ]
    d = finding["data"]
    assert (d["method"], d["band"], d["via"]) == ("region", "match", "file")
    assert d["file"].endswith("Media/WhatsApp Images/Sent/IMG-20260418-WA0002.jpg")
    assert d["picture_size"] == [1080, 2340]
    left, top, right, bottom = d["region"]  # pasted at (155, 595)-(1025, 1247) by generate.py
    assert abs(left - 155) <= 8 and abs(top - 595) <= 8
    assert abs(right - 1025) <= 8 and abs(bottom - 1247) <= 8
    linked = [(m["locator"], m["direction"], m["counterparty"]["id"]) for m in d["messages"]]
    assert linked == [("message._id=24", "outgoing", "+447700900999")]
    assert "inside a larger picture" in finding["why"]
    page = (out / "exhibits.html").read_text("utf-8")
    assert '<svg class="region" viewBox="0 0 1080 2340"' in page
    assert f'<rect x="{left}" y="{top}" width="{right - left}"' in page
