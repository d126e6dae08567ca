"""The crop-resistant tier: screenshots and crops that pass no whole-image test.

Whole-image hashes fail in two opposite ways (project reference notes on image matching, section
B6, and the robustness benchmark):

* the phone's picture *contains* the exhibit: a screenshot of a chat or gallery shows it inside a
  user interface (status bar, toolbar, text bubbles, wallpaper) that no bar-trimming removes;
* the exhibit *contains* the phone's picture: a crop keeps 80-90 % of it, and pHash of a 10 %
  crop is already ~12 bits away, where unrelated pictures start.

So this tier works on both sides:

* **candidate regions of the phone's picture**, computed once when it is hashed: a map of
  textured blocks (a user interface is mostly flat colour and short text; a photograph is
  texture), closed and split into connected components; the bounding boxes of the large ones
  (4-92 % of the picture) are hashed (pHash + dHash, the same functions as the whole-image tier).
  Ordinary photos give one component covering everything and so no region: their cost is the
  block map alone;
* **crops of the exhibit**, computed once per exhibit: a grid of margins (0, 4, 8, 12 % on each
  side, 256 crops) hashed the same way, compared with the phone picture's whole-image hashes and
  with its region hashes.

A pair counts only when pHash *and* dHash of the same region and the same exhibit crop agree
(``profiles/matching.yaml`` ``regions``): the grid multiplies the comparisons by 256, so a single
hash would collide (measured in ``bench/bench_images.py``). The report gives the band, the box (in
the picture's own pixels) and outlines it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import imagehash
import numpy as np
from PIL import Image
from scipy import ndimage

from triage.media.pipeline import HASH_MIN_SIDE

BLOCKS_ACROSS = 64  # the texture map has about this many blocks on the shorter side
TEXTURE_STD = 0.75  # grey-level std above which a block is not flat interface colour (JPEG keeps flat UI below ~0.5)
MIN_REGION = 0.04  # share of the picture a region must cover...
MAX_REGION = 0.92  # ...and must not exceed (then it is the whole picture: the first tier's job)
MAX_REGIONS = 4
PEEL_TOLERANCE = 4  # grey levels between neighbours...
PEEL_SHARE = 0.96  # ...within which this share of a row's pixels lie: a flat margin
CROP_MARGINS = (0.0, 0.04, 0.08, 0.12)  # exhibit crop grid, share of each side removed


def _hash_pair(grey: Image.Image) -> tuple[int, int]:
    """pHash and dHash of a grey picture as 64-bit integers, the way the first tier hashes."""
    factor = min(grey.size) // HASH_MIN_SIDE
    if factor >= 2:
        grey = grey.reduce(factor)
    return (
        int(str(imagehash.phash(grey)), 16),
        int(str(imagehash.dhash(grey)), 16),
    )


def _texture_map(grey: np.ndarray, block: int | None = None) -> tuple[np.ndarray | None, int]:
    """Which blocks of a grey picture are textured (not flat interface colour), and the block
    side in pixels (by default from the picture's size); None when too small for a map."""
    height, width = grey.shape
    block = block or max(2, min(height, width) // BLOCKS_ACROSS)
    rows, cols = height // block, width // block
    if rows < 8 or cols < 8:
        return None, block
    tiles = grey[: rows * block, : cols * block].reshape(rows, block, cols, block)
    return tiles.std(axis=(1, 3)) > TEXTURE_STD, block


def texture_block(img: Image.Image) -> int:
    """The block side of a picture's texture map, in its pixels."""
    return max(2, min(img.size) // BLOCKS_ACROSS)


def textured_share(img: Image.Image, block: int | None = None) -> float | None:
    """Share of a picture's blocks that are textured: 0.5-0.9 for photographs, about 0.1-0.3
    for a chat screenshot (wallpaper, bars, bubbles); None when too small to say. A part of a
    picture is measured with the whole picture's ``block`` (:func:`texture_block`): the
    share depends on the block size."""
    textured, _ = _texture_map(np.asarray(img.convert("L"), dtype=np.float32), block)
    return None if textured is None else float(textured.mean())


def candidate_boxes(img: Image.Image) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom in ``img`` pixels) of large textured areas that are not
    the whole picture, largest first."""
    grey = np.asarray(img.convert("L"), dtype=np.float32)
    textured, block = _texture_map(grey)
    if textured is None:
        return []
    rows, cols = textured.shape
    # Closing bridges the flat patches inside a photo (sky, a wall) without joining it to the
    # text bubbles two or more blocks away.
    closed = ndimage.binary_closing(textured, structure=np.ones((3, 3)), iterations=1)
    # A photo shown on a flat interface has a textured outline (the step from the bubble's
    # colour to its pixels) even when its inside is plain (a dim or blurred picture): the
    # textured map with its enclosed holes filled, not closed (closing would join the photo to
    # a text bubble just above it), gives that photo as one solid area, its content box.
    outlined = ndimage.binary_fill_holes(textured)
    # An outlined box is the photo's edge to within a block: only a thin frame is peeled (a
    # plain band inside the photo is not a margin).
    boxes: dict[tuple[int, int, int, int], tuple[int, int | None]] = {}
    for mask, most in ((closed, None), (outlined, 2 * block)):
        for area, box in _component_boxes(mask, rows * cols):
            boxes.setdefault(box, (area, most))
    ordered = sorted(boxes.items(), key=lambda b: -b[1][0])
    out: list[tuple[int, int, int, int]] = []
    for box, (_, most) in ordered:
        if len(out) == MAX_REGIONS:
            break
        peeled = _peel(grey, tuple(v * block for v in box), most)  # type: ignore[arg-type]
        if peeled not in out:
            out.append(peeled)
    return out


def _component_boxes(mask: np.ndarray, total: int) -> list[tuple[int, tuple[int, int, int, int]]]:
    """(area, box in blocks) of the mask's components that could be a picture: the dense core
    of each (:func:`_dense_core`), between :data:`MIN_REGION` and :data:`MAX_REGION` of the
    picture, mostly filled, not a thin strip."""
    labels, count = ndimage.label(mask)
    out = []
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:
            continue
        ys, xs = _dense_core(labels[found] == index, found)
        area = (ys.stop - ys.start) * (xs.stop - xs.start)
        filled = float((labels[ys, xs] == index).mean()) if area else 0.0
        if not (MIN_REGION <= area / total <= MAX_REGION) or filled < 0.6:
            continue
        aspect = (xs.stop - xs.start) / (ys.stop - ys.start)
        if not 0.25 <= aspect <= 4.0:
            continue
        out.append((area, (xs.start, ys.start, xs.stop, ys.stop)))
    return out


def _flat_rows(grey: np.ndarray) -> np.ndarray:
    """Rows made of a few flat runs (wallpaper, a bubble's frame or edge), give or take small
    text: almost no pixel differs from its neighbour."""
    steps = np.abs(np.diff(grey, axis=1)) > PEEL_TOLERANCE
    return steps.mean(axis=1) <= 1 - PEEL_SHARE


def _peel(
    grey: np.ndarray, box: tuple[int, int, int, int], most: int | None = None
) -> tuple[int, int, int, int]:
    """``box`` with flat margins of any colour cut from each side (the block map is coarse and
    a message bubble frames the picture it shows), at most 30 % of a side or ``most`` pixels."""
    left, top, right, bottom = box
    view = grey[top:bottom, left:right]
    rows, cols = _flat_rows(view), _flat_rows(view.T)
    cut = max(1, int(0.3 * len(rows))), max(1, int(0.3 * len(cols)))
    if most is not None:
        cut = min(cut[0], most), min(cut[1], most)
    t = next((i for i in range(cut[0]) if not rows[i]), cut[0])
    b = next((i for i in range(cut[0]) if not rows[len(rows) - 1 - i]), cut[0])
    lf = next((i for i in range(cut[1]) if not cols[i]), cut[1])
    r = next((i for i in range(cut[1]) if not cols[len(cols) - 1 - i]), cut[1])
    return (left + lf, top + t, right - r, bottom - b)


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    best, start, run_start = (0, 0), None, 0
    for i, on in enumerate([*mask.tolist(), False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    del run_start
    return best


def _dense_core(component: np.ndarray, found: tuple[slice, slice]) -> tuple[slice, slice]:
    """The longest run of rows, then of columns, in which at least half the component's box is
    texture: it separates a photo from text bubbles that the closing joined to it."""
    ys, xs = found
    top, bottom = _longest_run(component.mean(axis=1) >= 0.5)
    if bottom <= top:
        return slice(ys.start, ys.start), slice(xs.start, xs.start)
    left, right = _longest_run(component[top:bottom].mean(axis=0) >= 0.5)
    return (
        slice(ys.start + top, ys.start + bottom),
        slice(xs.start + left, xs.start + right),
    )


def region_hashes(img: Image.Image, size: tuple[int, int]) -> list[dict[str, Any]]:
    """The candidate regions of a working image with their hashes, for the hash record: ``box``
    in the picture's own pixels (``size``; the working image may be reduced), ``phash``/``dhash``
    as 16-digit hex."""
    out = []
    grey = img.convert("L")
    sx, sy = size[0] / img.size[0], size[1] / img.size[1]
    for box in candidate_boxes(img):
        phash, dhash = _hash_pair(grey.crop(box))
        own = [round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy)]
        out.append({"box": own, "phash": f"{phash:016x}", "dhash": f"{dhash:016x}"})
    return out


@dataclass(slots=True)
class ExhibitCrops:
    """pHash/dHash of a grid of crops of one exhibit (margins as shares of each side)."""

    reference: str
    margins: list[tuple[float, float, float, float]]  # left, top, right, bottom
    phash: np.ndarray  # uint64
    dhash: np.ndarray
    # True for the exhibit's own candidate regions (a screenshot exhibit), not grid crops
    own_region: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def region_margins(self) -> list[tuple[float, float, float, float]]:
        """Margins of the exhibit's own candidate regions (empty unless it shows interface)."""
        return [m for m, own in zip(self.margins, self.own_region, strict=True) if own]


def exhibit_crops(img: Image.Image, reference: str) -> ExhibitCrops:
    grey = img.convert("L")
    width, height = grey.size
    margins, phashes, dhashes = [], [], []
    for left in CROP_MARGINS:
        for top in CROP_MARGINS:
            for right in CROP_MARGINS:
                for bottom in CROP_MARGINS:
                    box = (
                        round(width * left),
                        round(height * top),
                        round(width * (1 - right)),
                        round(height * (1 - bottom)),
                    )
                    p, d = _hash_pair(grey.crop(box))
                    margins.append((left, top, right, bottom))
                    phashes.append(p)
                    dhashes.append(d)
    # Gallery and media provider micro-thumbnails are the picture's centre square (Gallery2
    # MediaItem TYPE_MICROTHUMBNAIL, ThumbnailUtils.extractThumbnail): one crop more.
    if width != height:
        side = (1 - min(width, height) / max(width, height)) / 2
        square = (side, 0.0, side, 0.0) if width > height else (0.0, side, 0.0, side)
        p, d = _hash_pair(
            grey.crop(
                (
                    round(width * square[0]),
                    round(height * square[1]),
                    round(width * (1 - square[2])),
                    round(height * (1 - square[3])),
                )
            )
        )
        margins.append(square)
        phashes.append(p)
        dhashes.append(d)
    # An exhibit that is itself a screenshot is compared by its picture area too: two screenshots
    # of one app share their layout, so their whole-image hashes say little.
    regions = region_hashes(img, img.size)
    for region in regions:
        left, top, right, bottom = region["box"]
        margins.append((left / width, top / height, 1 - right / width, 1 - bottom / height))
        phashes.append(int(region["phash"], 16))
        dhashes.append(int(region["dhash"], 16))
    own = np.zeros(len(margins), dtype=bool)
    own[len(margins) - len(regions) :] = True
    return ExhibitCrops(
        reference,
        margins,
        np.array(phashes, dtype=np.uint64),
        np.array(dhashes, dtype=np.uint64),
        own,
    )


def _popcount(values: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values).astype(np.int16)
    as_bytes = values.view(np.uint8).reshape(*values.shape, 8)
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1).astype(np.int16)


@dataclass(slots=True)
class RegionHit:
    exhibit: str
    phash: int
    dhash: int
    box: list[int] | None  # region of the phone's picture (its own pixels), None = whole
    crop: tuple[float, float, float, float]  # margins of the exhibit part that matched
    own_region: bool = False  # the exhibit part is one of its candidate regions, not a grid crop
    probe: str = "region"  # which part of the phone's picture: "region", "whole" or "trimmed"


# (box or None, phash, dhash, kind) of a phone picture: see :func:`probes_of`
Probe = tuple[list[int] | None, int, int, str]


def hits(
    probes: Sequence[Probe],
    crops: ExhibitCrops,
    phash_limit: int,
    dhash_limit: int,
) -> list[RegionHit]:
    """Per probe of the phone's picture (:func:`probes_of`), the closest exhibit crop whose
    pHash and dHash are both within their limits; closest first."""
    out: list[RegionHit] = []
    cut = np.array(
        [0.0 if own else sum(m) for m, own in zip(crops.margins, crops.own_region, strict=True)]
    )
    for box, phash, dhash, kind in probes:
        dp = _popcount(crops.phash ^ np.uint64(phash))
        dd = _popcount(crops.dhash ^ np.uint64(dhash))
        ok = (dp <= phash_limit) & (dd <= dhash_limit)
        if not ok.any():
            continue
        # Closest first; between equals the least-cropped exhibit part (a crop is reported
        # only when needed).
        score = np.where(ok, (dp.astype(np.float64) + dd) * 16 + cut, np.inf)
        i = int(score.argmin())
        out.append(
            RegionHit(
                crops.reference,
                int(dp[i]),
                int(dd[i]),
                box,
                crops.margins[i],
                bool(crops.own_region[i]),
                kind,
            )
        )
    out.sort(key=lambda h: (h.phash + h.dhash, h.phash))
    return out


def best_hit(
    probes: Sequence[Probe],
    crops: ExhibitCrops,
    phash_limit: int,
    dhash_limit: int,
) -> RegionHit | None:
    """The closest of :func:`hits`, or None."""
    found = hits(probes, crops, phash_limit, dhash_limit)
    return found[0] if found else None


def probes_of(record: Any) -> list[Probe]:
    """(box, phash, dhash, kind) of a hash record as integers: its candidate regions (box in the
    picture's own pixels), then the whole picture untrimmed and trimmed (box None)."""
    out: list[Probe] = []
    for region in getattr(record, "regions", None) or []:
        out.append((region["box"], int(region["phash"], 16), int(region["dhash"], 16), "region"))
    for suffix, kind in (("", "whole"), ("_trim", "trimmed")):
        p, d = getattr(record, f"phash{suffix}"), getattr(record, f"dhash{suffix}")
        if p and d:
            out.append((None, int(p, 16), int(d, 16), kind))
    return out
