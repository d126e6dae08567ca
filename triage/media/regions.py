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
  side, 256 crops) and the centre square (what gallery micro-thumbnails keep), hashed the same
  way in the 8 orientations (a turned or mirrored crop or screenshot), compared with the phone
  picture's whole-image hashes and with its region hashes. All exhibits' crops sit in one
  :class:`CropIndex`, searched once per phone picture.

A pair counts only when pHash *and* dHash of the same region and the same exhibit crop agree
(``profiles/matching.yaml`` ``regions``): the grid multiplies the comparisons by 256 (by 8 more
in the other orientations, sought only with the pixels at hand), so a single hash would
collide (measured in ``bench/bench_images.py``). The report gives the band, the orientation, the
box (in the picture's own pixels) and outlines it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import imagehash
import numpy as np
from PIL import Image

from triage.media.pipeline import HASH_MIN_SIDE, ORIENTATIONS

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
    from scipy import ndimage  # see _component_boxes

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
    # scipy is imported where it is used: it is most of the media step's import time (about
    # 0.3-0.45 s), which a case with no pictures and no exhibits would otherwise pay at start-up.
    from scipy import ndimage

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


def _orient_arrays(pixels: np.ndarray, orientation: str) -> np.ndarray:
    """:func:`triage.media.pipeline.orient` on the last two axes of an array of pictures."""
    out = pixels
    if orientation.startswith("mirror"):
        out = out[..., :, ::-1]
    for name, turns in (("rot90", 1), ("rot180", 2), ("rot270", 3)):
        if orientation.endswith(name):
            out = np.rot90(out, turns, axes=(-2, -1))
    return out


def _bits(diff: np.ndarray) -> np.ndarray:
    """(n, 8, 8) booleans -> (n,) uint64, first element most significant (imagehash's order)."""
    weights = np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)
    return (diff.reshape(len(diff), 64).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)


def crop_hashes(parts: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    """pHash and dHash of grey pictures in the 8 orientations of
    :data:`~triage.media.pipeline.ORIENTATIONS`, as (8, n) uint64 arrays.

    Row 0 is exactly what :func:`_hash_pair` gives (the same reduction, resizes and DCT as
    imagehash's ``phash``/``dhash``). The other rows turn the picture after its 32x32 (pHash)
    and 9x8/8x9 (dHash) resizes instead of before: a quarter turn or a mirror commutes with
    Pillow's separable resize up to the rounding between its two passes, so a rotated crop is
    compared at the cost of array transposes, not of eight more decodes and resizes."""
    small, wide, tall = [], [], []
    for part in parts:
        factor = min(part.size) // HASH_MIN_SIDE
        if factor >= 2:
            part = part.reduce(factor)
        small.append(np.asarray(part.resize((32, 32), Image.Resampling.LANCZOS)))
        wide.append(np.asarray(part.resize((9, 8), Image.Resampling.LANCZOS)))
        tall.append(np.asarray(part.resize((8, 9), Image.Resampling.LANCZOS)))
    if not parts:
        empty = np.zeros((len(ORIENTATIONS), 0), dtype=np.uint64)
        return empty, empty.copy()
    import scipy.fftpack  # see _component_boxes

    small_a, wide_a, tall_a = np.stack(small), np.stack(wide), np.stack(tall)
    phashes, dhashes = [], []
    for orientation in ORIENTATIONS:
        pixels = _orient_arrays(small_a, orientation)
        dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=1), axis=2)[:, :8, :8]
        median = np.median(dct.reshape(len(dct), 64), axis=1)
        phashes.append(_bits(dct > median[:, None, None]))
        # A quarter turn makes the 8x9 resize 9 wide: dHash compares along the width.
        turned = orientation.endswith(("rot90", "rot270"))
        grid = _orient_arrays(tall_a if turned else wide_a, orientation)
        dhashes.append(_bits(grid[:, :, 1:] > grid[:, :, :-1]))
    return np.stack(phashes), np.stack(dhashes)


@dataclass(slots=True)
class ExhibitCrops:
    """pHash/dHash of a grid of crops of one exhibit (margins as shares of each side), each in
    the 8 orientations (row ``o`` of ``phash``/``dhash`` is the crop after ``ORIENTATIONS[o]``;
    margins are always on the exhibit as it is)."""

    reference: str
    margins: list[tuple[float, float, float, float]]  # left, top, right, bottom
    phash: np.ndarray  # (8, crops) uint64
    dhash: np.ndarray
    # True for the exhibit's own candidate regions (a screenshot exhibit), not grid crops
    own_region: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def region_margins(self) -> list[tuple[float, float, float, float]]:
        """Margins of the exhibit's own candidate regions (empty unless it shows interface)."""
        return [m for m, own in zip(self.margins, self.own_region, strict=True) if own]


def _box(size: tuple[int, int], margins: tuple[float, float, float, float]) -> tuple[int, ...]:
    width, height = size
    left, top, right, bottom = margins
    return (
        round(width * left),
        round(height * top),
        round(width * (1 - right)),
        round(height * (1 - bottom)),
    )


def exhibit_crops(img: Image.Image, reference: str) -> ExhibitCrops:
    grey = img.convert("L")
    width, height = grey.size
    margins = [
        (left, top, right, bottom)
        for left in CROP_MARGINS
        for top in CROP_MARGINS
        for right in CROP_MARGINS
        for bottom in CROP_MARGINS
    ]
    # Gallery and media provider micro-thumbnails are the picture's centre square (Gallery2
    # MediaItem TYPE_MICROTHUMBNAIL, ThumbnailUtils.extractThumbnail): one crop more.
    if width != height:
        side = (1 - min(width, height) / max(width, height)) / 2
        margins.append((side, 0.0, side, 0.0) if width > height else (0.0, side, 0.0, side))
    parts = [grey.crop(_box(grey.size, m)) for m in margins]
    # An exhibit that is itself a screenshot is compared by its picture area too: two screenshots
    # of one app share their layout, so their whole-image hashes say little.
    regions = candidate_boxes(img)
    for box in regions:
        left, top, right, bottom = box
        margins.append((left / width, top / height, 1 - right / width, 1 - bottom / height))
        parts.append(grey.crop(box))
    own = np.zeros(len(margins), dtype=bool)
    own[len(margins) - len(regions) :] = True
    phash, dhash = crop_hashes(parts)
    return ExhibitCrops(reference, margins, phash, dhash, own)


@dataclass(slots=True)
class RegionHit:
    exhibit: str
    phash: int
    dhash: int
    box: list[int] | None  # region of the phone's picture (its own pixels), None = whole
    crop: tuple[float, float, float, float]  # margins of the exhibit part that matched
    own_region: bool = False  # the exhibit part is one of its candidate regions, not a grid crop
    probe: str = "region"  # which part of the phone's picture: "region", "whole" or "trimmed"
    orientation: str = "original"  # the exhibit part after this turn/mirror is what matched


# (box or None, phash, dhash, kind) of a phone picture: see :func:`probes_of`
Probe = tuple[list[int] | None, int, int, str]


class CropIndex:
    """Every exhibit's crops in all orientations in one table, searched for all exhibits at
    once per phone picture (XOR + popcount over numpy arrays): the cost per picture grows with
    the number of crops, not with a Python loop per (picture, exhibit) pair.

    Rows are ordered by exhibit, then orientation (original first), then crop, so that between
    equally close crops the original orientation and the least-cropped part win, as they did
    when each pair was searched on its own."""

    def __init__(self, crops: Sequence[ExhibitCrops]) -> None:
        self.references = [c.reference for c in crops]
        self.crops = list(crops)
        phash, dhash, exhibit, crop, orientation, cut, own = [], [], [], [], [], [], []
        self.slices: list[slice] = []
        start = 0
        for e, c in enumerate(crops):
            count = len(c.margins)
            weights = np.array(
                [0.0 if o else sum(m) for m, o in zip(c.margins, c.own_region, strict=True)]
            )
            for o in range(len(ORIENTATIONS)):
                phash.append(c.phash[o])
                dhash.append(c.dhash[o])
                exhibit.append(np.full(count, e, dtype=np.int32))
                crop.append(np.arange(count, dtype=np.int32))
                orientation.append(np.full(count, o, dtype=np.int8))
                cut.append(weights)
                own.append(c.own_region)
            self.slices.append(slice(start, start + count * len(ORIENTATIONS)))
            start += count * len(ORIENTATIONS)
        self.phash = _join(phash, np.uint64)
        self.dhash = _join(dhash, np.uint64)
        self.exhibit = _join(exhibit, np.int32)
        self.crop = _join(crop, np.int32)
        self.orientation = _join(orientation, np.int8)
        self.cut = _join(cut, np.float64)
        self.own = _join(own, bool)

    def search(
        self,
        probes: Sequence[Probe],
        phash_limit: int,
        dhash_limit: int,
        turned: bool = True,
        only: int | None = None,
    ) -> dict[int, list[RegionHit]]:
        """Per exhibit (its index), per probe of the phone's picture (:func:`probes_of`), the
        closest crop as it is and the closest turned or mirrored one whose pHash and dHash are
        both within their limits; closest first per exhibit. ``turned=False`` leaves out the
        other orientations; ``only`` searches one exhibit."""
        rows = self.slices[only] if only is not None else slice(0, len(self.phash))
        out: dict[int, list[RegionHit]] = {}
        if not probes or rows.stop <= rows.start:
            return out
        phash, dhash = self.phash[rows], self.dhash[rows]
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for p, (_, ph, dh, _) in enumerate(probes):
            dp = _popcount(phash ^ np.uint64(ph))
            near = np.flatnonzero(dp <= phash_limit)
            if not turned:
                near = near[self.orientation[rows][near] == 0]
            if not len(near):
                continue
            dd = _popcount(dhash[near] ^ np.uint64(dh))
            keep = dd <= dhash_limit
            near, dd = near[keep], dd[keep]
            if len(near):
                found.append((np.full(len(near), p), near + rows.start, dp[near], dd))
        if not found:
            return out
        probe_of = np.concatenate([f[0] for f in found])
        at = np.concatenate([f[1] for f in found])
        dp = np.concatenate([f[2] for f in found]).astype(np.int64)
        dd = np.concatenate([f[3] for f in found]).astype(np.int64)
        score = (dp + dd) * 16 + self.cut[at]
        exhibit = self.exhibit[at]
        # Closest per probe and exhibit, once as it is and once turned or mirrored (a turned
        # crop never hides the closest upright one); between equals the first row (least cut).
        group = (probe_of * (len(self.references) + 1) + exhibit) * 2 + (self.orientation[at] != 0)
        order = np.lexsort((at, score, group))
        first = np.ones(len(order), dtype=bool)
        key = group[order]
        first[1:] = key[1:] != key[:-1]
        for i in order[first].tolist():
            row, probe = int(at[i]), probes[int(probe_of[i])]
            e = int(exhibit[i])
            crops = self.crops[e]
            out.setdefault(e, []).append(
                RegionHit(
                    crops.reference,
                    int(dp[i]),
                    int(dd[i]),
                    probe[0],
                    crops.margins[int(self.crop[row])],
                    bool(self.own[row]),
                    probe[3],
                    ORIENTATIONS[int(self.orientation[row])],
                )
            )
        for hits in out.values():
            hits.sort(key=lambda h: (h.phash + h.dhash, h.phash))  # stable: probe order kept
        return out


def _join(parts: list[np.ndarray], kind: Any) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=kind)


def _popcount(values: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values).astype(np.int16)
    as_bytes = values.view(np.uint8).reshape(*values.shape, 8)
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1).astype(np.int16)


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
