"""The crop-resistant tier in every orientation (a turned or mirrored crop or screenshot), and
the crop index that searches all exhibits at once per picture."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_media_verify import chat, exhibit_set, jpeg, scene, texture
from triage.analysers.media import MediaAnalyser
from triage.media.hashes import hash_bytes
from triage.media.matching import find_matches, load_profile
from triage.media.pipeline import ORIENTATIONS, orient
from triage.media.regions import CropIndex, ExhibitCrops, _hash_pair, crop_hashes


def crop(img: Image.Image) -> Image.Image:
    w, h = img.size
    return img.crop((round(w * 0.06), round(h * 0.05), round(w * 0.96), round(h * 0.97)))


@pytest.mark.parametrize(
    ("turn", "orientation"),
    [
        (Image.Transpose.ROTATE_90, "rot90"),
        (Image.Transpose.ROTATE_270, "rot270"),
        (Image.Transpose.FLIP_LEFT_RIGHT, "mirror"),
    ],
)
def test_a_turned_or_mirrored_crop_is_found_in_its_orientation(
    turn: Image.Transpose, orientation: str
) -> None:
    exhibit = texture(31)
    data = jpeg(
        crop(exhibit).transpose(turn).resize((547, 800) if "rot" in orientation else (800, 547)), 70
    )
    files = [("turned.jpg", hash_bytes(data))]
    exhibits = exhibit_set(EX=jpeg(exhibit, 92), OTHER=jpeg(texture(32), 92))
    profile = load_profile()
    # Hashes alone give at most a pair for review (a 16-bit pHash of the turned whole).
    assert all(m.band == "review" for m in find_matches(files, exhibits, profile))
    matches = find_matches(files, exhibits, profile, load=lambda _: data)
    assert [(m.exhibit, m.method, m.orientation) for m in matches] == [
        ("EX", "region", orientation)
    ]
    verified = matches[0].verified
    assert verified and verified["ncc"] >= 0.7 and verified["tiles"] >= 0.9
    # Placed on the exhibit as it is: where the crop was cut (without its outer 8 %).
    left, top, _, _ = verified["exhibit_box"]
    assert abs(left - (54 + 0.08 * 810)) <= 14 and abs(top - (30 + 0.08 * 552)) <= 14


def test_a_screenshot_of_the_turned_picture_is_found() -> None:
    exhibit = scene(41)
    shots = {
        "in.jpg": jpeg(chat(exhibit.transpose(Image.Transpose.ROTATE_90), 600), 70),
        "out.jpg": jpeg(chat(scene(42).transpose(Image.Transpose.ROTATE_90), 600), 70),
    }
    files = [(name, hash_bytes(data)) for name, data in shots.items()]
    matches = find_matches(files, exhibit_set(EX=jpeg(exhibit, 92)), load=shots.__getitem__)
    assert [(m.file, m.method, m.orientation) for m in matches] == [("in.jpg", "region", "rot90")]


def test_turned_crop_hashes_follow_the_turned_picture() -> None:
    part = scene(51, (400, 300)).convert("L")
    phash, dhash = crop_hashes([part])
    assert (int(phash[0, 0]), int(dhash[0, 0])) == _hash_pair(part)  # row 0: exactly as before
    for row, orientation in enumerate(ORIENTATIONS):
        p, d = _hash_pair(orient(part, orientation))
        # Turned after the small resizes instead of before: within a few bits.
        assert bin(p ^ int(phash[row, 0])).count("1") <= 6
        assert bin(d ^ int(dhash[row, 0])).count("1") <= 6


def naive(probes: list, crops: ExhibitCrops, pl: int, dl: int) -> list[tuple]:
    """The per-pair search as it was (upright crops only): per probe, the closest crop."""
    cut = np.array(
        [0.0 if own else sum(m) for m, own in zip(crops.margins, crops.own_region, strict=True)]
    )
    out = []
    for _box, ph, dh, kind in probes:
        dp = np.array([bin(int(v) ^ ph).count("1") for v in crops.phash[0]])
        dd = np.array([bin(int(v) ^ dh).count("1") for v in crops.dhash[0]])
        ok = (dp <= pl) & (dd <= dl)
        if not ok.any():
            continue
        score = np.where(ok, (dp + dd) * 16.0 + cut, np.inf)
        i = int(score.argmin())
        out.append((int(dp[i]), int(dd[i]), crops.margins[i], kind))
    out.sort(key=lambda h: (h[0] + h[1], h[0]))
    return out


def test_the_index_finds_what_the_per_pair_search_found() -> None:
    rng = np.random.default_rng(7)
    margins = [(a / 100, b / 100, 0.0, 0.0) for a in range(0, 12, 4) for b in range(0, 40, 4)]
    exhibits = []
    for e in range(6):
        base = rng.integers(0, 2**63, dtype=np.uint64)
        # Hashes near one another (few bits flipped), so limits and ties matter.
        flips = rng.integers(0, 64, (len(ORIENTATIONS), len(margins), 3))
        bits = (np.uint64(1) << flips.astype(np.uint64)).sum(axis=2, dtype=np.uint64)
        own = np.zeros(len(margins), dtype=bool)
        own[-2:] = True
        exhibits.append(
            ExhibitCrops(f"E{e}", margins, base ^ bits, (base >> np.uint64(1)) ^ bits, own)
        )
    index = CropIndex(exhibits)
    for trial in range(20):
        e = trial % len(exhibits)
        ph = int(exhibits[e].phash[0, trial]) ^ (1 << int(rng.integers(0, 64)))
        dh = int(exhibits[e].dhash[0, trial])
        probes = [(None, ph, dh, "whole"), ([0, 0, 5, 5], ph ^ 0xFF, dh ^ 0x3, "region")]
        found = index.search(probes, 8, 8, turned=False)
        for k, crops in enumerate(exhibits):
            expected = naive(probes, crops, 8, 8)
            got = [(h.phash, h.dhash, h.crop, h.probe) for h in found.get(k, [])]
            assert got == expected
            assert all(h.orientation == "original" for h in found.get(k, []))
        # Turned orientations add hits, never remove the upright ones.
        wide = index.search(probes, 8, 8)
        for k, hits in found.items():
            upright = [h for h in wide[k] if h.orientation == "original"]
            assert [(h.phash, h.dhash, h.crop) for h in upright] == [
                (h.phash, h.dhash, h.crop) for h in hits
            ]


def test_the_finding_says_how_the_exhibit_was_turned() -> None:
    data = {"region": None, "picture_size": [547, 800], "exhibit_crop": [0.06, 0.05, 0.04, 0.03]}
    text = MediaAnalyser._region_text(data, "rot90")
    assert "6 % left" in text and "It shows the exhibit turned 90° anticlockwise." in text
    assert "turned" not in MediaAnalyser._region_text(data, "original")
