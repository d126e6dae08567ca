"""The one decode pipeline every perceptual hash goes through, for exhibits and evidence alike.

Perceptual hashes are only comparable when both sides were decoded the same way (an EXIF
rotation not applied, a different pre-reduction or a Pillow upgrade all move bits), so the steps
live here once and :data:`PIPELINE_VERSION` names them together with the library versions. Every
hash record stores that string, and the cache never serves a record made by another pipeline.

Steps (see the project's shared reference notes on image matching, sections 3 and 5):

1. ``Image.open`` restricted to the formats sniffed by content (never the extension);
   pictures larger than ``2 × Image.MAX_IMAGE_PIXELS`` are refused as decompression bombs.
2. JPEG: ``draft("RGB", (256, 256))`` so libjpeg decodes at 1/2, 1/4 or 1/8 scale in the DCT
   domain, keeping both sides ≥ 256 px (phash agreement with a full decode within 2 bits);
   camera originals (shorter side over 1600 px, larger than any messaging-app copy) decode at
   1/8. Other formats are box-reduced to a shorter side ≥ 256 px after decoding.
3. ``ImageOps.exif_transpose`` (without it a rotated phone JPEG is ~24 bits away from itself).
4. RGB on a white background for transparent pictures; GIF and other animations use frame 0.
5. Border trimming: black or white bars and the short overlay bands a phone screenshot puts in
   them (status bar, toolbar, caption) are cut off. Both the trimmed and the untrimmed hashes are
   kept and matching takes the smaller distance, so a trimming mistake cannot lose a match.
6. Hashes: imagehash ``phash`` (64 bits, primary) and ``dhash`` (64 bits, corroboration) on a
   grey copy box-reduced to a shorter side ≥ 128 px; PDQ (256 bits + quality) through
   ``pdqhash``, when it is installed, on an RGB copy reduced to a shorter side ≥ 192 px.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import Any

import imagehash
import numpy as np
import PIL
from PIL import Image, ImageOps

from triage.limits import limit
from triage.reasons import clean

try:  # HEIC/HEIF from iPhones; optional because it is a binary wheel
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_VERSION: str | None = pillow_heif.__version__
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_VERSION = None

try:  # Meta's PDQ; optional extra ``triage[pdq]``
    import pdqhash

    try:
        from importlib.metadata import version as _dist_version

        PDQ_VERSION: str | None = _dist_version("pdqhash")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        PDQ_VERSION = "unknown"
except ImportError:  # pragma: no cover - depends on the environment
    pdqhash = None
    PDQ_VERSION = None

# Bump the leading number whenever a step above changes; the library versions are appended
# because a Pillow or imagehash upgrade alone can flip hash bits (imagehash #32).
PIPELINE_STEPS = 4  # 3: candidate regions (triage.media.regions); 4: outlined regions too
# JPEG draft: libjpeg decodes at the smallest DCT scale (1/2, 1/4, 1/8) whose result is still at
# least DRAFT_SIZE on both sides. Pictures whose shorter side is over CAMERA_MIN_SIDE are camera
# originals (messaging apps send at most 1600 px on the long side), and decode at 1/8 with
# DRAFT_SIZE_LARGE: still >= 200 px, more than the 128 px the hashes are computed from, for about
# half the CPU of the decode. App-sized copies keep DRAFT_SIZE: at 1/8 a 1600 px square copy
# would decode to 200 px and lose a borderline near-copy on the robustness benchmark.
DRAFT_SIZE = 256
DRAFT_SIZE_LARGE = 192
CAMERA_MIN_SIDE = 1600
# Other formats are decoded whole and box-reduced to a shorter side of at least this.
REDUCE_SIZE = 256
HASH_MIN_SIDE = 128  # grey copy for phash/dhash is box-reduced to a shorter side of at least this
PDQ_MIN_SIDE = (
    192  # PDQ input likewise (hashing.pdf: shrink first); 128 doubled the drift from full size
)
PIPELINE_VERSION = (
    f"triage-media/{PIPELINE_STEPS};draft={DRAFT_SIZE}/{DRAFT_SIZE_LARGE}>{CAMERA_MIN_SIDE};"
    f"reduce={REDUCE_SIZE};hash={HASH_MIN_SIDE};pdq={PDQ_MIN_SIDE};"
    "trim=bars2;"
    f"pillow={PIL.__version__};imagehash={imagehash.__version__};"
    f"pdqhash={PDQ_VERSION or 'none'}"
)

# Formats sniffed by magic bytes -> the Pillow plugin names allowed to open them.
PIL_FORMATS = {
    "jpeg": ["JPEG", "MPO"],
    "png": ["PNG"],
    "gif": ["GIF"],
    "webp": ["WEBP"],
    "heif": ["HEIF"],
    "avif": ["AVIF", "HEIF"],
}

# Bars and borders: the phone screenshots and bordered copies seen in cases have black or white
# bars; after JPEG recompression their pixels stay within a few levels of the bar colour, while
# dark or bright photo content (night shots, sky, a dark uniform) is rarely that flat.
BAR_DARK = 16  # the outer edge is a black bar at or below this grey level...
BAR_LIGHT = 239  # ...and a white bar at or above this one
BAR_TOLERANCE = 8  # a pixel belongs to the bar within this many grey levels of its colour
BAR_ROW_FRACTION = 0.985  # a bar row: this share of its pixels are bar-coloured
OVERLAY_FRACTION = 0.5  # a row of a status bar / toolbar / caption band drawn on the bar
OVERLAY_GAP = 0.07  # such a band may be up to 7 % of the side long...
BAR_RUN = 0.01  # ...and must be followed by plain bar rows for 1 % of the side
MAX_TRIM = 0.45  # never cut more than this from one side: a dark picture is not a bar


def warm_up() -> None:
    """Import what the first hash would import lazily (imagehash's phash pulls in scipy.fftpack,
    ~0.3 s; triage.media.regions imports scipy.ndimage where it uses it), so forked pool workers
    inherit it instead of each paying for it."""
    import scipy.fftpack  # noqa: F401
    import scipy.ndimage  # noqa: F401


class ImageError(Exception):
    """A picture that could not be hashed; the message says why, for the report."""


# Pillow's own bomb check fires at twice its warning limit: set from the run's limit.
Image.MAX_IMAGE_PIXELS = limit("picture_pixels") // 2


def max_pixels() -> int:
    # Pillow itself raises DecompressionBombError above twice its warning limit; using the same
    # figure keeps the limit in one (configurable) place: Image.MAX_IMAGE_PIXELS.
    return 2 * int(Image.MAX_IMAGE_PIXELS or 0) or 2**62


def decode(data: bytes, fmt: str) -> tuple[Image.Image, tuple[int, int]]:
    """Steps 1–4: the RGB working image of ``data`` (a sniffed ``fmt``) and the picture's own
    size in pixels (before draft/reduction, after EXIF rotation)."""
    formats = PIL_FORMATS.get(fmt)
    if formats is None:
        raise ImageError(f"unsupported image format {fmt}")
    if fmt in ("heif",) and HEIF_VERSION is None:
        raise ImageError("HEIC/HEIF picture but pillow-heif is not installed")
    try:
        with warnings.catch_warnings():
            # Between 1x and 2x the limit Pillow only warns; the explicit check below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=formats)
            width, height = img.size
            if width * height > max_pixels():
                raise ImageError(
                    f"decompression bomb refused: {width}x{height} pixels exceeds the limit "
                    f"of {max_pixels():,}"
                )
            if img.format in ("JPEG", "MPO"):
                camera = min(width, height) > CAMERA_MIN_SIDE
                size = DRAFT_SIZE_LARGE if camera else DRAFT_SIZE
                img.draft("RGB", (size, size))
            img.load()
    except Image.DecompressionBombError as exc:
        raise ImageError(f"decompression bomb refused: {exc}") from exc
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise ImageError(f"cannot decode {fmt}: {clean(exc)}") from exc
    try:
        transposed = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the picture
        transposed = None
    if transposed is not None and transposed.size != img.size:
        width, height = height, width
    img = transposed or img
    return _reduce(_to_rgb(img)), (width, height)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        # White, as the gallery and WhatsApp previews show transparent PNG/WebP.
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _reduce(img: Image.Image) -> Image.Image:
    """Box-reduce non-draft formats to a working size (shorter side ≥ REDUCE_SIZE)."""
    factor = min(img.size) // REDUCE_SIZE
    if factor >= 2:
        img = img.reduce(factor)
    return img


@dataclass(frozen=True, slots=True)
class TrimBox:
    left: int
    top: int
    right: int
    bottom: int

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.right, self.bottom]


def _bar_extent(grey: np.ndarray, limit: int, side: int) -> int:
    """How many leading rows of ``grey`` (rows × cols, edge first) are bar or overlay band.

    ``limit`` caps the result; ``side`` is the full length of this axis, which sets the allowed
    overlay band and bar run lengths.
    """
    limit = min(limit, grey.shape[0])
    if limit < 2:
        return 0
    edge = float(np.median(grey[0]))
    if BAR_DARK < edge < BAR_LIGHT:
        return 0
    share = (np.abs(grey[:limit] - edge) <= BAR_TOLERANCE).mean(axis=1)
    plain = share >= BAR_ROW_FRACTION
    overlay = share >= OVERLAY_FRACTION
    gap_max = max(2, int(side * OVERLAY_GAP))
    run_min = max(2, int(side * BAR_RUN))
    last = -1
    index = 0
    while index < limit:
        if plain[index]:
            last = index
            index += 1
            continue
        # An overlay band (status bar, toolbar, caption): bridge it only if it is drawn on the
        # bar, short, and followed by a run of plain bar rows (glyph gaps inside it don't count).
        run = 0
        resume = None
        probe = index
        while probe < limit and probe - index < gap_max + run_min and overlay[probe]:
            run = run + 1 if plain[probe] else 0
            if run >= run_min:
                resume = probe - run + 1
                break
            probe += 1
        if resume is None:
            break
        index = resume
    return last + 1


def trim_box(img: Image.Image) -> TrimBox | None:
    """Step 5: the box inside black/white bars and borders, or ``None`` when nothing is cut."""
    grey = np.asarray(img.convert("L"), dtype=np.int16)
    height, width = grey.shape
    left, top, right, bottom = 0, 0, width, height
    cap_v, cap_h = int(height * MAX_TRIM), int(width * MAX_TRIM)
    # Two passes: cutting the side bars can turn the top/bottom rows into clean bar rows.
    for _ in range(2):
        view = grey[top:bottom, left:right]
        if view.shape[0] < 16 or view.shape[1] < 16:
            return None
        t = _bar_extent(view, cap_v - top, height)
        b = _bar_extent(view[::-1], cap_v - (height - bottom), height)
        lft = _bar_extent(view.T, cap_h - left, width)
        r = _bar_extent(view.T[::-1], cap_h - (width - right), width)
        if not (t or b or lft or r):
            break
        top, bottom = top + t, bottom - b
        left, right = left + lft, right - r
    if (left, top, right, bottom) == (0, 0, width, height):
        return None
    if right - left < 16 or bottom - top < 16:
        return None
    return TrimBox(left, top, right, bottom)


# Dihedral variants, named by what turns the exhibit into the copy: Pillow's ROTATE_* turn
# counter-clockwise; "mirror" is a left-right flip done before the rotation.
ORIENTATIONS: tuple[str, ...] = (
    "original",
    "rot90",
    "rot180",
    "rot270",
    "mirror",
    "mirror+rot90",
    "mirror+rot180",
    "mirror+rot270",
)
_ROT = {
    "rot90": Image.Transpose.ROTATE_90,
    "rot180": Image.Transpose.ROTATE_180,
    "rot270": Image.Transpose.ROTATE_270,
}


def orient(img: Image.Image, orientation: str) -> Image.Image:
    """The exhibit as it would look after ``orientation`` (one of :data:`ORIENTATIONS`)."""
    out = img
    if orientation.startswith("mirror"):
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for name, op in _ROT.items():
        if orientation.endswith(name):
            out = out.transpose(op)
    return out


_BACK = {"rot90": "rot270", "rot180": "rot180", "rot270": "rot90"}


def unorient(img: Image.Image, orientation: str) -> Image.Image:
    """The inverse of :func:`orient`: a picture showing the exhibit after ``orientation``, put
    back as the exhibit is (the turn undone, then the mirror)."""
    out = img
    for name, back in _BACK.items():
        if orientation.endswith(name):
            out = out.transpose(_ROT[back])
    if orientation.startswith("mirror"):
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return out


def _box_reduce(img: Image.Image, min_side: int) -> Image.Image:
    """Integer box reduction keeping the shorter side ≥ ``min_side``: cheap, and it keeps every
    source pixel's weight, unlike a non-integer thumbnail or a LANCZOS pass over a large image."""
    factor = min(img.size) // min_side
    return img.reduce(factor) if factor >= 2 else img


def perceptual(img: Image.Image) -> dict[str, Any]:
    """Step 6 on one (already trimmed or not) working image: hex hashes and PDQ quality."""
    # phash samples 32×32 and dhash 9×8: a grey copy box-reduced to ≥ 128 px gives the same bits
    # within ~0.5 on average at less than half the cost of resizing the whole working image.
    grey = _box_reduce(img.convert("L"), HASH_MIN_SIDE)
    out: dict[str, Any] = {
        "phash": str(imagehash.phash(grey)),
        "dhash": str(imagehash.dhash(grey)),
        "pdq": None,
        "pdq_quality": None,
    }
    if pdqhash is not None:
        # PDQ's Jarosz filters bring the picture to 64×64; more than ~4× that only costs time.
        bits, quality = pdqhash.compute(np.asarray(_box_reduce(img, PDQ_MIN_SIDE)))
        out["pdq"] = np.packbits(bits.astype(np.uint8)).tobytes().hex()
        out["pdq_quality"] = int(quality)
    return out


def perceptual_both(img: Image.Image) -> dict[str, Any]:
    """Untrimmed and trimmed hashes of a working image (trimmed ones ``None`` when no bars)."""
    base = perceptual(img)
    box = trim_box(img)
    trimmed = perceptual(img.crop(tuple(box.as_list()))) if box else None
    return {
        **base,
        "trim_box": box.as_list() if box else None,
        "phash_trim": trimmed["phash"] if trimmed else None,
        "dhash_trim": trimmed["dhash"] if trimmed else None,
        "pdq_trim": trimmed["pdq"] if trimmed else None,
        "pdq_trim_quality": trimmed["pdq_quality"] if trimmed else None,
    }
