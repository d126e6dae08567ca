"""Pixel verification of crop-resistant candidates and of screenshot-vs-screenshot matches
(issue 21 part 2: recall on crops and chat screenshots with no false match)."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw, ImageFilter

from triage.media.exhibits import ExhibitSet, exhibit_from_bytes
from triage.media.hashes import hash_bytes
from triage.media.matching import find_matches, load_profile, perceptual_matches
from triage.media.pipeline import decode
from triage.media.regions import textured_share
from triage.media.verify import align


def texture(seed: int, size: tuple[int, int] = (900, 600)) -> Image.Image:
    """Gravel-like: thousands of small stones, the kind of picture whose pHash a 5 % shift moves
    a dozen bits."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, (120, 110, 100))
    draw = ImageDraw.Draw(img)
    for _ in range(2500):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(3, 14)
        g = rng.randrange(40, 220)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(g, max(0, g - 10), max(0, g - 20)))
    return img.filter(ImageFilter.GaussianBlur(0.8))


def scene(seed: int, size: tuple[int, int] = (900, 600)) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(10, 90)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1))
    return Image.blend(img, Image.effect_noise(size, 40).convert("RGB"), 0.15)


def chat(inner: Image.Image, width: int = 820) -> Image.Image:
    """A 1080x2340 chat screenshot: bars, text bubbles, the picture in a bubble."""
    screen = Image.new("RGB", (1080, 2340), (225, 230, 222))
    draw = ImageDraw.Draw(screen)
    draw.rectangle([0, 0, 1080, 230], fill=(20, 90, 60))
    draw.text((40, 25), "22:38", fill=(255, 255, 255))
    draw.rounded_rectangle([420, 300, 1040, 400], radius=24, fill=(220, 248, 198))
    draw.text((450, 340), "look at this", fill=(40, 40, 40))
    height = round(inner.size[1] * width / inner.size[0])
    draw.rounded_rectangle(
        [1040 - width - 30, 450, 1040, 480 + height], radius=24, fill=(220, 248, 198)
    )
    screen.paste(inner.resize((width, height)), (1040 - width - 15, 465))
    draw.rounded_rectangle([40, 520 + height, 700, 620 + height], radius=24, fill=(255, 255, 255))
    draw.text((70, 560 + height), "where did you get that", fill=(40, 40, 40))
    draw.rectangle([0, 2180, 1080, 2340], fill=(245, 245, 245))
    return screen


def jpeg(img: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def exhibit_set(**named: bytes) -> ExhibitSet:
    out = ExhibitSet()
    for name, data in named.items():
        out.images.append(exhibit_from_bytes(data, name))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_a_crop_of_a_texture_is_found_only_once_its_pixels_verify(seed: int) -> None:
    exhibit = texture(seed)
    w, h = exhibit.size
    # 6 % off the left, 4 % off the right, 5 % / 3 % off top and bottom, sent at 800 px.
    cut = exhibit.crop((round(w * 0.06), round(h * 0.05), round(w * 0.96), round(h * 0.97)))
    data = jpeg(cut.resize((800, 547)), 70)
    files = [("crop.jpg", hash_bytes(data))]
    exhibits = exhibit_set(EX1=jpeg(exhibit, 92), EX2=jpeg(texture(seed + 10), 92))
    profile = load_profile()
    assert find_matches(files, exhibits, profile) == [], "hashes alone do not find this crop"
    matches = find_matches(files, exhibits, profile, load=lambda _: data)
    assert [(m.exhibit, m.method, m.band) for m in matches] == [("EX1", "region", "match")]
    verified = matches[0].verified
    assert verified and verified["ncc"] >= 0.7 and verified["tiles"] >= 0.9
    # The part compared (the crop without its outer 8 %) is placed where it was cut from, to
    # within the scale steps (3 %).
    left, top, right, bottom = verified["exhibit_box"]
    assert abs(left - (54 + 0.08 * 810)) <= 12 and abs(top - (30 + 0.08 * 552)) <= 12
    assert abs(right - (864 - 0.08 * 810)) <= 12 and abs(bottom - (582 - 0.08 * 552)) <= 12


def test_another_picture_of_the_same_texture_kind_is_not_verified() -> None:
    exhibit, other = texture(3), texture(4)
    w, h = other.size
    data = jpeg(other.crop((54, 30, 864, 582)).resize((800, 545)), 70)
    files = [("other.jpg", hash_bytes(data))]
    assert find_matches(files, exhibit_set(EX=jpeg(exhibit, 92)), load=lambda _: data) == []


def test_two_screenshots_of_one_layout_match_only_when_their_pictures_are_the_same() -> None:
    # A photo 500 px wide in the bubble: the interface is most of what the hashes see.
    shot_a = jpeg(chat(scene(13), 500), 85)
    exhibits = exhibit_set(SHOT=shot_a)
    same = jpeg(chat(scene(13), 500), 60)  # the exhibit screenshot, saved again
    different = jpeg(chat(scene(14), 500), 60)  # the same chat layout around another photo
    files = [("same.jpg", hash_bytes(same)), ("different.jpg", hash_bytes(different))]
    pixels = {"same.jpg": same, "different.jpg": different}
    profile = load_profile()
    # The shared layout is enough for the whole-image hashes to call both a match...
    assert {m.file for m in perceptual_matches(files, exhibits, profile)} == {
        "different.jpg",
        "same.jpg",
    }
    # ...the picture areas decide.
    matches = find_matches(files, exhibits, profile, load=pixels.__getitem__)
    assert [m.file for m in matches] == ["same.jpg"]
    assert matches[0].method == "phash" and matches[0].verified["detail_ncc"] >= 0.8


def test_a_photo_inside_a_chat_screenshot_is_verified_and_an_unrelated_one_is_not() -> None:
    exhibit = scene(21)
    shots = {"in.jpg": jpeg(chat(exhibit, 700), 70), "out.jpg": jpeg(chat(scene(22), 700), 70)}
    files = [(name, hash_bytes(data)) for name, data in shots.items()]
    matches = find_matches(files, exhibit_set(EX=jpeg(exhibit, 92)), load=shots.__getitem__)
    assert [(m.file, m.method) for m in matches] == [("in.jpg", "region")]


def test_interface_is_never_compared_as_picture_content() -> None:
    blank = Image.new("RGB", (900, 600), (90, 140, 200))
    screen, _ = decode(jpeg(chat(blank), 80), "jpeg")
    photo, _ = decode(jpeg(scene(5), 80), "jpeg")
    assert textured_share(screen) < 0.45 < textured_share(photo)
    # A screen of bars and bubbles does not even verify against itself: it is not a picture.
    assert align(screen, screen, None, 1.0).ncc == 0.0
    assert align(photo, photo, None, 1.0).ncc > 0.99


def test_a_verify_section_must_name_all_three_limits(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "matching.yaml"
    path.write_text("phash: {match: 10}\nregions:\n  verify: {ncc: 0.5}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="verify needs ncc, detail and tiles"):
        load_profile(path)


def test_screens_with_a_plain_picture_match_only_when_they_are_the_same_screen() -> None:
    dim = Image.new("RGB", (900, 600), (60, 64, 70)).filter(ImageFilter.GaussianBlur(2))
    ImageDraw.Draw(dim).ellipse([380, 230, 520, 370], fill=(90, 92, 96))
    other = Image.new("RGB", (900, 600), (130, 120, 110))
    ImageDraw.Draw(other).rectangle([100, 100, 300, 500], fill=(150, 140, 130))
    shot = jpeg(chat(dim, 500), 85)
    exhibits = exhibit_set(SHOT=shot)
    same, different = jpeg(chat(dim, 500), 60), jpeg(chat(other, 500), 60)
    files = [("same.jpg", hash_bytes(same)), ("different.jpg", hash_bytes(different))]
    pixels = {"same.jpg": same, "different.jpg": different}
    whole = {m.file for m in perceptual_matches(files, exhibits, load_profile())}
    assert "same.jpg" in whole
    matched = {m.file for m in find_matches(files, exhibits, load=pixels.__getitem__)}
    assert matched == {"same.jpg"}
