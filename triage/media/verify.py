"""Verification by registration: does the phone's picture really show the exhibit's pixels?

The crop-resistant tier (:mod:`triage.media.regions`) proposes pairs whose hashes of *some*
region and *some* exhibit crop are near. Near hashes are a weak signal for crops and screenshots:
a pHash of a textured picture moves a dozen bits with a 2 % shift, while two unrelated pictures
(or two screenshots of one app's layout) can land that close too. So a proposed pair is checked
on the pixels, the way an examiner would lay one picture over the other:

* the phone picture's region (its whole, for a crop) is taken without an outer band
  (:data:`INNER`), so the part compared lies inside the exhibit even when the region box is a
  few pixels too large or the crop guessed from the grid is off;
* it is reduced to :data:`TEMPLATE_SIDE` pixels and slid over the exhibit, reduced at a few
  scales around the one the proposal implies (:data:`SCALE_STEPS`), by normalised
  cross-correlation computed with FFTs (every offset at once);
* the best alignment must correlate on the grey levels (:data:`MIN_NCC`) *and* on their local
  detail (the picture minus its blur, :data:`MIN_DETAIL_NCC`): smooth pictures correlate on grey
  levels almost anywhere, but their detail does not line up unless the content is the same, and
  the detail of a screenshot's photo is not that of another photo in the same layout.

Both sides come from the same decode pipeline (working images, :mod:`.pipeline`). NCC is
indifferent to brightness and contrast, so a colour filter or a brightened copy still verifies.
The thresholds and their measured margins are in ``profiles/matching.yaml`` (``verify``) and
``bench/bench_images.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from triage.media.pipeline import ImageError, decode, orient, trim_box, unorient
from triage.media.regions import RegionHit, texture_block, textured_share

TEMPLATE_SIDE = 64  # the compared part is reduced to this many pixels on its longer side
INNER = 0.08  # share of each side of the region left out of the template
SCALE_STEPS = (0.88, 0.91, 0.94, 0.97, 1.0, 1.03, 1.06, 1.09, 1.12)  # around the implied scale
DETAIL_BLUR = 2.0  # Gaussian radius (template pixels) removed to leave the detail
MIN_TEMPLATE = 24  # a template smaller than this on its shorter side says too little
MIN_DETAIL_STD = 1.0  # a template with less detail than this (grey levels) cannot be verified
MIN_TEXTURED = 0.45  # the part must be picture content: photos measure 0.58+, chat screens 0.1-0.3
TILES = 4  # the part is cut into TILES x TILES tiles for the local check...
TILE_FLAT = 2.0  # ...a tile whose detail std is below this on both sides is left out...
TILE_NCC = 0.4  # ...and the others must each correlate at least this much


@dataclass(frozen=True, slots=True)
class Alignment:
    """The best placement of the picture's part on the exhibit: correlations and where."""

    ncc: float  # grey levels
    detail_ncc: float  # local detail (picture minus its blur)
    scale: float  # picture pixels per exhibit pixel (working images)
    box: tuple[int, int, int, int]  # where the compared part lies in the exhibit's working image
    tiles: float = 0.0  # share of the part's tiles whose detail agrees on their own
    interface: bool = False  # the part is interface, not picture content: it cannot agree


def grey(img: Image.Image) -> Image.Image:
    return img if img.mode == "L" else img.convert("L")


def _detail(img: Image.Image) -> np.ndarray:
    plain = np.asarray(img, dtype=np.float32)
    blurred = np.asarray(img.filter(ImageFilter.GaussianBlur(DETAIL_BLUR)), dtype=np.float32)
    return plain - blurred


def _ncc_map(search: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of ``template`` at every offset where it lies wholly inside
    ``search`` (FFT products for the numerator, integral images for the window statistics)."""
    th, tw = template.shape
    sh, sw = search.shape
    t0 = template - template.mean()
    t_norm = float(np.sqrt((t0 * t0).sum()))
    shape = (sh + th, sw + tw)
    spec = np.fft.rfft2(search, shape) * np.conj(np.fft.rfft2(t0, shape))
    numerator = np.fft.irfft2(spec, shape)[: sh - th + 1, : sw - tw + 1]
    n = th * tw

    def window_sums(a: np.ndarray) -> np.ndarray:
        c = np.pad(a, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        return c[th:, tw:] - c[:-th, tw:] - c[th:, :-tw] + c[:-th, :-tw]

    s1 = window_sums(search.astype(np.float64))
    s2 = window_sums(search.astype(np.float64) ** 2)
    variance = np.maximum(s2 - s1 * s1 / n, 0.0)
    denominator = np.sqrt(variance) * t_norm
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(denominator > 1e-6 * n, numerator / denominator, 0.0)
    return out


def _ncc_at(window: np.ndarray, template: np.ndarray) -> float:
    """Normalised cross-correlation of ``template`` with one ``window`` of its size: the value
    :func:`_ncc_map` gives at that offset, without the map."""
    t0 = template.astype(np.float64) - template.mean(dtype=np.float64)
    w = window.astype(np.float64)
    n = w.size
    numerator = float((w * t0).sum())
    variance = max(float((w * w).sum()) - float(w.sum()) ** 2 / n, 0.0)
    denominator = float(np.sqrt(variance)) * float(np.sqrt((t0 * t0).sum()))
    return numerator / denominator if denominator > 1e-6 * n else 0.0


def tile_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the tiles of two aligned detail images that correlate on their own (flat on
    both sides: left out; flat on one side only: disagree). A picture that shares only its
    interface with the exhibit agrees on the interface tiles and fails on the rest."""
    height, width = a.shape
    agree = counted = 0
    for i in range(TILES):
        for j in range(TILES):
            ys = slice(i * height // TILES, (i + 1) * height // TILES)
            xs = slice(j * width // TILES, (j + 1) * width // TILES)
            ta, tb = a[ys, xs], b[ys, xs]
            sa, sb = float(ta.std()), float(tb.std())
            if sa < TILE_FLAT and sb < TILE_FLAT:
                continue
            counted += 1
            if sa < TILE_FLAT or sb < TILE_FLAT:
                continue
            r = float(((ta - ta.mean()) * (tb - tb.mean())).mean() / (sa * sb))
            agree += r >= TILE_NCC
    return agree / counted if counted else 0.0


def align(
    exhibit: Image.Image,
    picture: Image.Image,
    box: tuple[int, int, int, int] | None,
    scale: float,
    orientation: str = "original",
) -> Alignment | None:
    """Best placement of ``picture`` (its ``box``, working-image pixels; None = all of it) on
    ``exhibit``, searched at :data:`SCALE_STEPS` around ``scale`` (picture pixels per exhibit
    pixel); None when the part is too small or too plain to say anything; an alignment with
    all measures 0 when the part is interface rather than picture content. A part that shows
    the exhibit after ``orientation`` (turned or mirrored) is put back first."""
    exhibit, picture = grey(exhibit), grey(picture)
    left, top, right, bottom = box or (0, 0, *picture.size)
    dx, dy = (right - left) * INNER, (bottom - top) * INNER
    part = picture.crop((round(left + dx), round(top + dy), round(right - dx), round(bottom - dy)))
    part = unorient(part, orientation)
    factor = TEMPLATE_SIDE / max(part.size)
    size = (max(1, round(part.size[0] * factor)), max(1, round(part.size[1] * factor)))
    if min(size) < MIN_TEMPLATE:
        return None
    textured = textured_share(part, texture_block(picture))
    if textured is not None and textured < MIN_TEXTURED:
        # Interface, not picture content: nothing in it can confirm the exhibit.
        return Alignment(0.0, 0.0, scale, (0, 0, 0, 0), 0.0, interface=True)
    template = part.resize(size, Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR)
    t_plain = np.asarray(template, dtype=np.float32)
    t_detail = _detail(template)
    if t_detail.std() < MIN_DETAIL_STD:
        return None
    best: Alignment | None = None
    for step in SCALE_STEPS:
        # exhibit pixels -> template pixels
        ratio = factor * scale * step
        width, height = round(exhibit.size[0] * ratio), round(exhibit.size[1] * ratio)
        if width < size[0] or height < size[1]:
            continue
        shown = exhibit.resize(
            (width, height), Image.Resampling.BOX if ratio < 1 else Image.Resampling.BILINEAR
        )
        shown_detail = _detail(shown)
        detail = _ncc_map(shown_detail, t_detail)
        # The placement is chosen on detail (sharper peak), then judged on both: the grey-level
        # correlation is needed at that one placement only.
        y, x = np.unravel_index(int(detail.argmax()), detail.shape)
        if best is not None and detail[y, x] <= best.detail_ncc:
            continue
        window = np.asarray(shown, dtype=np.float32)[y : y + size[1], x : x + size[0]]
        found = Alignment(
            ncc=_ncc_at(window, t_plain),
            detail_ncc=float(detail[y, x]),
            scale=scale * step,
            box=(
                round(x / ratio),
                round(y / ratio),
                round((x + size[0]) / ratio),
                round((y + size[1]) / ratio),
            ),
            tiles=tile_agreement(t_detail, shown_detail[y : y + size[1], x : x + size[0]]),
        )
        best = found
    return best


def picture_part(
    picture: Image.Image, own_size: tuple[int, int], hit: RegionHit, has_regions: bool
) -> tuple[int, int, int, int] | None | bool:
    """The part of the phone's working image a hit stands for, in working-image pixels (None =
    all of it), or False when that part is not verified on its own: a picture with interface
    regions is compared by its regions only (its whole, trimmed or not, is mostly interface, the
    same in every screenshot of one app; a photo whose texture map also shows regions is compared
    whole too), and an untrimmed whole with bars is mostly bars."""
    if hit.probe == "region" and hit.box is not None:
        sx, sy = picture.size[0] / own_size[0], picture.size[1] / own_size[1]
        left, top, right, bottom = hit.box
        return (round(left * sx), round(top * sy), round(right * sx), round(bottom * sy))
    if has_regions and (textured_share(picture) or 0.0) < MIN_TEXTURED:
        return False
    trim = trim_box(picture)
    if hit.probe == "trimmed":
        return tuple(trim.as_list()) if trim else None  # type: ignore[return-value]
    return False if trim is not None else None


def verify_hit(
    exhibit: Image.Image,
    picture: Image.Image,
    own_size: tuple[int, int],
    hit: RegionHit,
    has_regions: bool,
) -> Alignment | None:
    """:func:`align` for one crop-resistant hit, at the scale its exhibit crop implies; None when
    the hit's part of the picture cannot be verified."""
    box = picture_part(picture, own_size, hit, has_regions)
    if box is False:
        return None
    left_, top_, right_, bottom_ = box or (0, 0, *picture.size)  # type: ignore[misc]
    # A quarter turn puts the exhibit's width along the picture's height.
    turned = hit.orientation.endswith(("rot90", "rot270"))
    width = (bottom_ - top_) if turned else (right_ - left_)
    left, _, right, _ = hit.crop
    shown = exhibit.size[0] * (1 - left - right)
    if shown <= 0 or width <= 0:
        return None
    return align(exhibit, picture, box, width / shown, hit.orientation)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class VerifyLimits:
    """What a best alignment must reach to count (``profiles/matching.yaml`` ``regions.verify``)."""

    ncc: float
    detail: float
    tiles: float

    def passed(self, found: Alignment | None) -> bool:
        return (
            found is not None
            and found.ncc >= self.ncc
            and found.detail_ncc >= self.detail
            and found.tiles >= self.tiles
        )


PixelSource = Callable[[str], bytes | None]


class Pictures:
    """Grey working images of the phone's pictures, decoded again on demand (only candidate
    pairs need pixels; hash records do not keep them) and kept for the exhibits that follow."""

    def __init__(self, load: PixelSource, keep: int = 64) -> None:
        self.load = load
        self.keep = keep
        self._held: dict[str, Image.Image | None] = {}
        self.decoded = 0

    def get(self, logical: str, fmt: str | None) -> Image.Image | None:
        if logical in self._held:
            return self._held[logical]
        img: Image.Image | None = None
        try:
            data = self.load(logical)
        except OSError:  # unreadable now: the pair is simply not verified
            data = None
        if data is not None and fmt:
            try:
                img = decode(data, fmt)[0].convert("L")
                self.decoded += 1
            except ImageError:
                img = None
        if len(self._held) >= self.keep:
            self._held.pop(next(iter(self._held)))
        self._held[logical] = img
        return img


SCREEN_SIDE = 128  # two whole screens are compared at this size, tile by tile...
SCREEN_TILES = 8  # ...on an 8 x 8 grid...
SAME_SCREEN = 0.9  # ...and this share of the tiles must agree: the same screen...
SCREEN_LEVELS = 4.0  # ...a plain tile agreeing when its mean grey is within this many levels


def same_screen(
    exhibit: Image.Image, orientation: str, picture: Image.Image, trimmed: tuple[bool, bool]
) -> bool:
    """Whether two interface pictures whose whole-image hashes agree are the same screen (one
    saved again), when neither shows a picture area that can be verified: their detail must
    agree almost everywhere (text, avatars and the plain picture included), not only on the
    layout they share with every screen of the app; plain tiles by their grey level."""
    shown = orient(exhibit, orientation)
    box_e = trim_box(shown) if trimmed[0] else None
    box_p = trim_box(picture) if trimmed[1] else None
    if box_e is not None:
        shown = shown.crop(tuple(box_e.as_list()))
    if box_p is not None:
        picture = picture.crop(tuple(box_p.as_list()))
    factor = SCREEN_SIDE / max(picture.size)
    size = (max(8, round(picture.size[0] * factor)), max(8, round(picture.size[1] * factor)))
    small_a = grey(picture).resize(size, Image.Resampling.BOX)
    small_b = grey(shown).resize(size, Image.Resampling.BOX)
    a, b = _detail(small_a), _detail(small_b)
    levels_a = np.asarray(small_a, dtype=np.float32)
    levels_b = np.asarray(small_b, dtype=np.float32)
    height, width = a.shape
    agree = counted = 0
    for i in range(SCREEN_TILES):
        for j in range(SCREEN_TILES):
            ys = slice(i * height // SCREEN_TILES, (i + 1) * height // SCREEN_TILES)
            xs = slice(j * width // SCREEN_TILES, (j + 1) * width // SCREEN_TILES)
            ta, tb = a[ys, xs], b[ys, xs]
            sa, sb = float(ta.std()), float(tb.std())
            counted += 1
            if sa < TILE_FLAT and sb < TILE_FLAT:
                # Plain on both sides (wallpaper, a bar, a plain photo): the same grey or not.
                gap = abs(float(levels_a[ys, xs].mean()) - float(levels_b[ys, xs].mean()))
                agree += gap <= SCREEN_LEVELS
                continue
            if sa >= TILE_FLAT and sb >= TILE_FLAT:
                r = float(((ta - ta.mean()) * (tb - tb.mean())).mean() / (sa * sb))
                agree += r >= TILE_NCC
    return counted > 0 and agree / counted >= SAME_SCREEN


def confirm_whole(
    exhibit: Image.Image,
    orientation: str,
    picture: Image.Image,
    own_size: tuple[int, int],
    regions: list[dict],
    trimmed: tuple[bool, bool] = (False, False),
) -> Alignment | None:
    """For a whole-image match between two pictures that both show interface (a screenshot
    exhibit and a screenshot on the phone): the best alignment of the picture's regions on the
    exhibit, in the orientation that matched and at the scale of the forms that matched
    (``trimmed``: exhibit, picture). Their shared layout may be what made the whole-image
    hashes agree, so only the picture areas say whether the content is the same. None when no
    region is picture content large enough to verify."""
    shown = orient(exhibit, orientation)
    sx = picture.size[0] / own_size[0]
    box_e = trim_box(shown) if trimmed[0] else None
    box_p = trim_box(picture) if trimmed[1] else None
    width_e = (box_e.right - box_e.left) if box_e else shown.size[0]
    width_p = (box_p.right - box_p.left) if box_p else picture.size[0]
    best: Alignment | None = None
    for region in regions[:3]:
        box = tuple(round(v * sx) for v in region["box"])
        found = align(shown, picture, box, width_p / width_e)  # type: ignore[arg-type]
        if found is None or found.interface:
            continue
        if best is None or found.detail_ncc > best.detail_ncc:
            best = found
    return best
