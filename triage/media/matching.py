"""Finding exhibits among the phone's pictures: exact digests, then Hamming distance on
perceptual hashes with the "match"/"review" bands of ``profiles/matching.yaml``.

Search is brute force over packed ``uint64`` words (XOR + popcount), which the reference benchmark
measured at ~700 M comparisons/s for 64-bit hashes: 10^5 phone pictures × 50 exhibits × 8
orientations × trimmed/untrimmed is well under a second, so no index structure is needed at phone
scale. The crop-resistant tier's crops (257 per exhibit, 8 orientations) are searched the same
way, all exhibits at once per picture (:class:`~triage.media.regions.CropIndex`). A perceptual
match is a lead for visual confirmation, never proof on its own.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from triage.media.cache import HashRecord
from triage.media.exhibits import ExhibitImage, ExhibitSet, profiles_dir
from triage.media.pipeline import ORIENTATIONS
from triage.media.regions import CropIndex, Probe, RegionHit, probes_of
from triage.media.verify import (
    Alignment,
    Pictures,
    PixelSource,
    VerifyLimits,
    confirm_whole,
    picture_part,
    same_screen,
    verify_hit,
)

PERCEPTUAL = ("phash", "pdq", "dhash")  # also the order of preference between equal bands
WORDS = {"phash": 1, "dhash": 1, "pdq": 4}
BAND_ORDER = {"exact": 0, "match": 1, "review": 2}
BLOCK_ELEMENTS = 1 << 23  # uint64 words per XOR block (64 MB): bounds memory, not speed
NO_HASH = 1 << 12  # distance given to a missing hash, larger than any real one


# -- profile -----------------------------------------------------------------------------------
@dataclass(slots=True)
class Band:
    match: int | None  # distance ≤ match → "match"
    review: int | None  # match < distance ≤ review → "review"...
    # ...but only when every method named here corroborates: its distance ≤ the value given.
    review_needs: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class RegionBands:
    """Crop-resistant tier (:mod:`triage.media.regions`): a region or exhibit crop counts when
    pHash *and* dHash are within the band's limits; ``None`` disables the tier."""

    match: tuple[int, int] | None = None  # (phash, dhash) limits for band "match"
    review: tuple[int, int] | None = None  # and for band "review"
    # Wider limits whose pairs are proposed and then verified on the pixels (:mod:`.verify`),
    # with what the alignment must reach; both None = no verification step.
    candidates: tuple[int, int] | None = None
    verify: VerifyLimits | None = None
    # Verified candidates are also sought with the exhibit turned or mirrored (8 orientations).
    turned: bool = True


@dataclass(slots=True)
class MatchProfile:
    bands: dict[str, Band]
    pdq_min_quality: int = 50
    path: str | None = None
    name: str = "matching"
    regions: RegionBands = field(default_factory=RegionBands)

    def band(self, method: str, distance: int, others: dict[str, int] | None = None) -> str | None:
        """The band of ``distance`` for ``method``; ``others`` are the pair's distances by the
        other methods, needed for corroborated review bands."""
        spec = self.bands.get(method)
        if spec is None:
            return None
        if spec.match is not None and distance <= spec.match:
            return "match"
        if spec.review is not None and distance <= spec.review:
            others = others or {}
            if all(others.get(m, NO_HASH) <= v for m, v in spec.review_needs.items()):
                return "review"
        return None

    def widest(self, method: str) -> int:
        spec = self.bands.get(method)
        if spec is None:
            return -1
        return max(v for v in (spec.match, spec.review, -1) if v is not None)

    def methods_needed(self) -> list[str]:
        """Methods whose distances are needed: banded ones and those that corroborate."""
        needed = {m for m in self.bands if self.widest(m) >= 0}
        for spec in self.bands.values():
            needed.update(spec.review_needs)
        return [m for m in PERCEPTUAL if m in needed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "bands": {k: asdict(v) for k, v in self.bands.items()},
            "pdq_min_quality": self.pdq_min_quality,
            "regions": asdict(self.regions),
        }


def load_profile(path: Path | str | None = None) -> MatchProfile:
    """Read ``profiles/matching.yaml`` (or the given file): per-method match/review distances."""
    path = Path(path) if path else profiles_dir() / "matching.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    bands: dict[str, Band] = {}
    for method in PERCEPTUAL:
        spec = data.get(method)
        if not spec:
            continue
        needs = {str(k): int(v) for k, v in (spec.get("review_needs") or {}).items()}
        unknown = set(needs) - set(PERCEPTUAL)
        if unknown:
            raise ValueError(f"{path}: {method}: review_needs names unknown {sorted(unknown)}")
        band = Band(
            match=_opt_int(spec.get("match")),
            review=_opt_int(spec.get("review")),
            review_needs=needs,
        )
        if band.match is not None and band.review is not None and band.review < band.match:
            raise ValueError(f"{path}: {method}: review ({band.review}) < match ({band.match})")
        bands[method] = band
    pdq = data.get("pdq") or {}
    regions = data.get("regions") or {}
    return MatchProfile(
        bands=bands,
        pdq_min_quality=int(pdq.get("min_quality", 50)),
        path=_shown_path(path),
        name=str(data.get("name", path.stem)),
        regions=RegionBands(
            match=_limits(regions.get("match"), path),
            review=_limits(regions.get("review"), path),
            candidates=_limits(regions.get("candidates"), path),
            verify=_verify_limits(regions.get("verify"), path),
            turned=bool(regions.get("turned", True)),
        ),
    )


def _verify_limits(spec: Any, path: Path) -> VerifyLimits | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) != {"ncc", "detail", "tiles"}:
        raise ValueError(f"{path}: regions: verify needs ncc, detail and tiles, got {spec!r}")
    return VerifyLimits(float(spec["ncc"]), float(spec["detail"]), float(spec["tiles"]))


def _limits(spec: Any, path: Path) -> tuple[int, int] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) != {"phash", "dhash"}:
        raise ValueError(f"{path}: regions: a band needs phash and dhash limits, got {spec!r}")
    return int(spec["phash"]), int(spec["dhash"])


def _shown_path(path: Path) -> str:
    """A shipped profile as ``profiles/...`` (the same on every machine, so reports and manifests
    of identical runs compare equal); any other profile as given."""
    try:
        return "profiles/" + path.resolve().relative_to(profiles_dir().resolve()).as_posix()
    except ValueError:
        return str(path)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


# -- bit arithmetic ----------------------------------------------------------------------------
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount(words: np.ndarray) -> np.ndarray:
    """Bits set per ``uint64`` element (``np.bitwise_count`` on numpy ≥ 2, else a byte table)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    as_bytes = words.view(np.uint8).reshape(*words.shape, 8)
    return _POPCOUNT[as_bytes].sum(axis=-1, dtype=np.uint8)


def pack(hexes: Sequence[str | None], words: int) -> tuple[np.ndarray, np.ndarray]:
    """Hex hashes → (n, words) uint64 big-endian words, and a mask of which were present."""
    out = np.zeros((len(hexes), words), dtype=np.uint64)
    present = np.zeros(len(hexes), dtype=bool)
    width = words * 16
    for row, value in enumerate(hexes):
        if value and len(value) == width:
            out[row] = np.frombuffer(bytes.fromhex(value), dtype=">u8")
            present[row] = True
    return out, present


def hamming(queries: np.ndarray, base: np.ndarray) -> np.ndarray:
    """(q, w) × (n, w) packed hashes → (q, n) Hamming distances as int16."""
    xor = queries[:, None, :] ^ base[None, :, :]
    return popcount(xor).sum(axis=-1, dtype=np.int16)


# -- matches ----------------------------------------------------------------------------------
@dataclass(slots=True)
class Match:
    exhibit: str
    file: str
    method: str  # sha256 / md5 / sha1 / phash / dhash / pdq
    distance: int
    band: str  # exact / match / review
    orientation: str | None = None  # which of the exhibit's 8 variants matched
    exhibit_trimmed: bool | None = None
    file_trimmed: bool | None = None
    sha256: str | None = None  # of the file
    category: str | None = None  # from a hash set
    alert: bool | None = None
    also: dict[str, int] = field(default_factory=dict)  # other methods' distances
    via: str = "file"  # "file", "source_hash" (a digest the app recorded) or "thumbnail"
    # Crop-resistant tier: the region of the file (its own pixels; None = the whole picture) and
    # the margins (left, top, right, bottom shares) of the exhibit crop that matched.
    region: list[int] | None = None
    exhibit_crop: list[float] | None = None
    # Pixel verification (:mod:`.verify`): correlations of the best alignment and where the
    # compared part lies on the exhibit (its working-image pixels scaled to its own pixels).
    verified: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rank(self) -> tuple[int, int, int]:
        method_rank = PERCEPTUAL.index(self.method) if self.method in PERCEPTUAL else -1
        return (BAND_ORDER[self.band], method_rank, self.distance)


def exact_matches(files: Iterable[tuple[str, HashRecord]], exhibits: ExhibitSet) -> list[Match]:
    """Files whose SHA-256, MD5 or SHA-1 equals an exhibit's (pictures and hash lists)."""
    index = exhibits.exact_index()
    out: list[Match] = []
    for logical, record in files:
        seen: set[str] = set()
        for kind in ("sha256", "md5", "sha1"):
            for reference in index.get((kind, getattr(record, kind)), []):
                if reference in seen:
                    continue
                seen.add(reference)
                entry = exhibits.entry_for(reference)
                out.append(
                    Match(
                        exhibit=reference,
                        file=logical,
                        method=kind,
                        distance=0,
                        band="exact",
                        sha256=record.sha256,
                        category=entry.category if entry else None,
                        alert=entry.alert if entry else None,
                    )
                )
    return out


def _file_matrix(
    records: Sequence[HashRecord], method: str, profile: MatchProfile
) -> tuple[np.ndarray, np.ndarray]:
    """(2n, w) hashes: rows 0..n-1 untrimmed, n..2n-1 trimmed; mask of usable rows."""
    words = WORDS[method]
    plain, ok_plain = pack([getattr(r, method) for r in records], words)
    trim, ok_trim = pack([getattr(r, f"{method}_trim") for r in records], words)
    if method == "pdq":
        ok_plain &= np.array(
            [(r.pdq_quality or 0) >= profile.pdq_min_quality for r in records], dtype=bool
        )
        ok_trim &= np.array(
            [(r.pdq_trim_quality or 0) >= profile.pdq_min_quality for r in records], dtype=bool
        )
    return np.concatenate([plain, trim]), np.concatenate([ok_plain, ok_trim])


def _exhibit_matrix(
    exhibits: ExhibitSet, method: str, profile: MatchProfile
) -> tuple[np.ndarray, np.ndarray]:
    """(e × 8 × 2, w): per exhibit, per orientation, untrimmed then trimmed."""
    words = WORDS[method]
    hexes: list[str | None] = []
    for image in exhibits.images:
        gated = method == "pdq" and (image.variants[0].pdq_quality or 0) < profile.pdq_min_quality
        for variant in image.variants:
            hexes.append(None if gated else getattr(variant, method))
            hexes.append(None if gated else getattr(variant, f"{method}_trim"))
    return pack(hexes, words)


def min_distances(
    records: Sequence[HashRecord],
    exhibits: ExhibitSet,
    method: str,
    profile: MatchProfile,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Smallest ``method`` distance of each (exhibit picture, record) pair over the exhibit's 8
    orientations and the trimmed/untrimmed forms of both sides, as (e, n) int16 arrays of
    distances (:data:`NO_HASH` where either side has no usable hash) and of variant codes
    (``code = (orientation * 2 + exhibit_trimmed) * 2 + file_trimmed``). ``None`` when no
    pair has the hash at all."""
    n = len(records)
    n_ex = len(exhibits.images)
    if not n or not n_ex:
        return None
    variants = len(ORIENTATIONS) * 2
    queries, q_ok = _exhibit_matrix(exhibits, method, profile)
    base, b_ok = _file_matrix(records, method, profile)
    if not q_ok.any() or not b_ok.any():
        return None
    q_trim = np.array([image.variants[0].phash_trim is not None for image in exhibits.images])
    b_trim = np.array([r.trim_box is not None for r in records])
    low_all = np.full((n_ex, n), NO_HASH, dtype=np.int16)
    arg_all = np.zeros((n_ex, n), dtype=np.int16)
    block = max(64, BLOCK_ELEMENTS // (len(queries) * 2 * WORDS[method]))
    for start in range(0, n, block):
        stop = min(n, start + block)
        rows = np.r_[start:stop, n + start : n + stop]
        dist = hamming(queries, base[rows])
        dist[~q_ok, :] = NO_HASH
        dist[:, ~b_ok[rows]] = NO_HASH
        width = stop - start
        # (exhibit, orientation×exhibit-trim, file-trim, file) → min over the middle axes.
        cube = dist.reshape(n_ex, variants // 2, 2, 2, width)
        # When both sides had bars cut, their untrimmed forms mostly compare the bars (two
        # unrelated bordered pictures collide there), so only trimmed forms are compared.
        both = q_trim[:, None] & b_trim[None, start:stop]
        cube[:, :, 0, 0, :] = np.where(both[:, None, :], NO_HASH, cube[:, :, 0, 0, :])
        cube = cube.reshape(n_ex, variants, 2, width).transpose(0, 3, 1, 2)
        cube = cube.reshape(n_ex, width, variants * 2)
        arg = cube.argmin(axis=2)
        low_all[:, start:stop] = np.take_along_axis(cube, arg[..., None], axis=2)[..., 0]
        arg_all[:, start:stop] = arg
    return low_all, arg_all


def perceptual_matches(
    files: Sequence[tuple[str, HashRecord]],
    exhibits: ExhibitSet,
    profile: MatchProfile,
) -> list[Match]:
    """Every (exhibit, file) whose smallest distance (see :func:`min_distances`) falls in a
    method's match or review band; the strongest method is reported, the others in ``also``."""
    if not exhibits.images or not files:
        return []
    records = [r for _, r in files]
    lows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for method in profile.methods_needed():
        found = min_distances(records, exhibits, method, profile)
        if found is not None:
            lows[method] = found
    candidates_mask = np.zeros((len(exhibits.images), len(records)), dtype=bool)
    for method, (low, _) in lows.items():
        limit = profile.widest(method)
        if limit >= 0:
            candidates_mask |= low <= limit
    out: list[Match] = []
    for e, f in zip(*np.nonzero(candidates_mask), strict=True):
        distances = {m: int(low[e, f]) for m, (low, _) in lows.items() if low[e, f] < NO_HASH}
        candidates = []
        for method, distance in distances.items():
            band = profile.band(method, distance, distances)
            if band is None:
                continue
            variant, file_trim = divmod(int(lows[method][1][e, f]), 2)
            orientation, ex_trim = divmod(variant, 2)
            candidates.append(
                Match(
                    exhibit=exhibits.images[e].reference,
                    file=files[f][0],
                    method=method,
                    distance=distance,
                    band=band,
                    orientation=ORIENTATIONS[orientation],
                    exhibit_trimmed=bool(ex_trim),
                    file_trimmed=bool(file_trim),
                    sha256=records[f].sha256,
                )
            )
        if candidates:
            chosen = min(candidates, key=Match.rank)
            chosen.also = {m: d for m, d in distances.items() if m != chosen.method}
            out.append(chosen)
    return out


def _verified(found: Alignment, exhibit: ExhibitImage) -> dict[str, Any]:
    """What the report says about a pixel verification: correlations, and the part's place on
    the exhibit in the exhibit's own pixels."""
    work = exhibit.working
    assert work is not None
    sx = (exhibit.width or work.size[0]) / work.size[0]
    sy = (exhibit.height or work.size[1]) / work.size[1]
    left, top, right, bottom = found.box
    return {
        "ncc": round(found.ncc, 3),
        "detail_ncc": round(found.detail_ncc, 3),
        "tiles": round(found.tiles, 3),
        "exhibit_box": [round(left * sx), round(top * sy), round(right * sx), round(bottom * sy)],
    }


def region_matches(
    files: Sequence[tuple[str, HashRecord]],
    exhibits: ExhibitSet,
    profile: MatchProfile,
    skip: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
    pictures: Pictures | None = None,
) -> list[Match]:
    """The crop-resistant tier for (exhibit, file) pairs not in ``skip``: the file's candidate
    regions and whole picture against a grid of crops of the exhibit (:mod:`.regions`). Pairs
    within the ``match`` limits count on their hashes; pairs only within the wider
    ``candidates`` limits count when their pixels verify (``pictures`` gives them), in any of
    the 8 orientations (a turned or mirrored crop or screenshot)."""
    limits = profile.regions
    bands = [(b, lim) for b, lim in (("match", limits.match), ("review", limits.review)) if lim]
    check = limits.verify if (pictures is not None and limits.candidates) else None
    if not bands and check is None:
        return []
    widest = (max(lim[0] for _, lim in bands), max(lim[1] for _, lim in bands)) if bands else None
    with_crops = [image for image in exhibits.images if image.crops is not None]
    index = CropIndex([image.crops for image in with_crops])  # type: ignore[misc]
    out: list[Match] = []
    for logical, record in files:
        probes = probes_of(record)
        if not probes:
            continue
        if check is not None:
            assert limits.candidates is not None
            found = index.search(probes, *limits.candidates, turned=limits.turned)
        elif widest is not None:
            found = index.search(probes, *widest, turned=False)
        else:
            continue
        for e, pair_hits in sorted(found.items()):
            image = with_crops[e]
            if (image.reference, logical) in skip:
                continue
            if check is not None and image.working is not None:
                hit, verified = _verify_candidates(
                    pair_hits, probes, e, index, image, record, logical, pictures, limits, check
                )
                band = "match" if hit else None
            else:
                originals = [h for h in pair_hits if h.orientation == "original"]
                hit = originals[0] if originals and widest else None
                verified = None
                band = next(
                    (b for b, (lp, ld) in bands if hit and hit.phash <= lp and hit.dhash <= ld),
                    None,
                )
            if band is None or hit is None:
                continue
            out.append(
                Match(
                    exhibit=image.reference,
                    file=logical,
                    method="region",
                    distance=hit.phash,
                    band=band,
                    orientation=hit.orientation,
                    sha256=record.sha256,
                    also={"dhash": hit.dhash},
                    region=hit.box,
                    exhibit_crop=None if hit.own_region else list(hit.crop),
                    verified=verified,
                )
            )
    return out


VERIFY_HITS = 3  # closest candidate hits verified per pair and kind: bounds a busy pair's cost


def _verify_candidates(
    found: list[RegionHit],
    probes: list[Probe],
    e: int,
    index: CropIndex,
    image: ExhibitImage,
    record: HashRecord,
    logical: str,
    pictures: Pictures,
    limits: RegionBands,
    check: VerifyLimits,
) -> tuple[RegionHit | None, dict[str, Any] | None]:
    """The first of a pair's closest candidate hits whose pixels verify, with what was measured:
    the exhibit as it is first, then turned or mirrored. A hit whose part of the picture is too
    small or plain to verify still counts on its hashes if they are within the ``match``
    limits; one whose part is interface never counts. (None, None) when no hit counts."""
    strict = limits.match

    def strict_hit() -> RegionHit | None:
        if not strict:
            return None
        hits = index.search(probes, *strict, turned=False, only=e).get(e, [])
        return hits[0] if hits else None

    if not found:
        return None, None
    picture = pictures.get(logical, record.format)
    if picture is None or not record.width or not record.height:
        return strict_hit(), None
    own = (record.width, record.height)
    originals = [h for h in found if h.orientation == "original"]
    turned = [h for h in found if h.orientation != "original"]
    for hit in originals[:VERIFY_HITS] + turned[:VERIFY_HITS]:
        if picture_part(picture, own, hit, bool(record.regions)) is False:
            continue
        aligned = verify_hit(image.working, picture, own, hit, bool(record.regions))
        if check.passed(aligned):
            return hit, _verified(aligned, image)  # type: ignore[arg-type]
        # Too small or plain to verify, or a region whose picture is too plain to tell from
        # interface: hashes within the ``match`` limits decide, as without pixels (turned too:
        # on the bench no unrelated pair has a turned crop within even twice those limits).
        unverifiable = aligned is None or (aligned.interface and hit.probe == "region")
        if unverifiable and strict and hit.phash <= strict[0] and hit.dhash <= strict[1]:
            return hit, None
    return None, None


def find_matches(
    files: Sequence[tuple[str, HashRecord]],
    exhibits: ExhibitSet,
    profile: MatchProfile | None = None,
    load: PixelSource | None = None,
) -> list[Match]:
    """Exact and perceptual matches, one per (exhibit, file): the strongest band wins (exact over
    match over review; phash over PDQ over dHash at equal band), in file then exhibit order.

    ``load`` gives a file's bytes by its logical path: with it, candidate pairs are verified on
    their pixels (:mod:`.verify`): the crop-resistant tier's wider candidates, and whole-image
    matches between two pictures that both show interface (two screenshots of one app)."""
    profile = profile or load_profile()
    usable = [(logical, r) for logical, r in files if r is not None]
    chosen: dict[tuple[str, str], Match] = {}
    for match in exact_matches(usable, exhibits) + perceptual_matches(
        [(lg, r) for lg, r in usable if not r.error], exhibits, profile
    ):
        key = (match.exhibit, match.file)
        held = chosen.get(key)
        if held is None:
            chosen[key] = match
            continue
        better, worse = (match, held) if match.rank() < held.rank() else (held, match)
        # Keep the weaker method's distances too: they show how the copy was changed.
        better.also = {worse.method: worse.distance, **worse.also, **better.also}
        better.also.pop(better.method, None)
        chosen[key] = better
    pictures = Pictures(load) if load is not None and profile.regions.verify else None
    if pictures is not None:
        _confirm_screens(chosen, dict(usable), exhibits, pictures, profile.regions.verify)
    # Second pass, only for pairs no whole-image test passed.
    strong = {k for k, m in chosen.items() if m.band in ("exact", "match")}
    for match in region_matches(
        [(lg, r) for lg, r in usable if not r.error], exhibits, profile, strong, pictures
    ):
        key = (match.exhibit, match.file)
        held = chosen.get(key)
        if held is None or BAND_ORDER[match.band] < BAND_ORDER[held.band]:
            chosen[key] = match
    return sorted(chosen.values(), key=lambda m: (m.file, m.exhibit))


def _confirm_screens(
    chosen: dict[tuple[str, str], Match],
    records: dict[str, HashRecord],
    exhibits: ExhibitSet,
    pictures: Pictures,
    check: VerifyLimits,
) -> None:
    """Drop whole-image matches between two pictures that both show interface when their
    picture areas do not verify (:func:`.verify.confirm_whole`); a pair whose areas are too
    small or plain to verify keeps its match."""
    images = {image.reference: image for image in exhibits.images}
    for key, match in list(chosen.items()):
        image, record = images.get(match.exhibit), records.get(match.file)
        if match.band == "exact" or image is None or record is None or image.working is None:
            continue
        if not (record.regions and image.crops is not None and image.crops.own_region.any()):
            continue
        picture = pictures.get(match.file, record.format)
        if picture is None or not record.width:
            continue
        found = confirm_whole(
            image.working,
            match.orientation or "original",
            picture,
            (record.width, record.height or 0),
            record.regions,
            (bool(match.exhibit_trimmed), bool(match.file_trimmed)),
        )
        if found is None:
            # No picture area to go by (a plain photo, or none): the same screen, or dropped.
            trims = (bool(match.exhibit_trimmed), bool(match.file_trimmed))
            if not same_screen(image.working, match.orientation or "original", picture, trims):
                del chosen[key]
            continue
        if check.passed(found):
            match.verified = _verified(found, image)
        else:
            del chosen[key]


# -- digests recorded by apps -----------------------------------------------------------------
def file_hash_to_sha256(value: str | None) -> str | None:
    """WhatsApp's ``message_media.file_hash`` (base64 of the 32-byte SHA-256 digest of the media
    file, 44 characters) as lowercase hex; a 64-digit hex value is accepted as it is."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 64:
        try:
            bytes.fromhex(text)
            return text.lower()
        except ValueError:
            return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            raw = base64.urlsafe_b64decode(text)
        except (binascii.Error, ValueError):
            return None
    return raw.hex() if len(raw) == 32 else None


def sha256_to_file_hash(sha256_hex: str) -> str:
    """The inverse of :func:`file_hash_to_sha256`: hex SHA-256 → WhatsApp ``file_hash``."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def match_source_hashes(
    items: Iterable[tuple[str, str | None]], exhibits: ExhibitSet
) -> list[Match]:
    """Match digests an app recorded (``Attachment.source_hash``) against exhibit SHA-256s.

    ``items`` are (locator, source_hash) pairs, e.g. the attachment's logical path or message
    locator and WhatsApp's ``file_hash``. This finds exhibits that were sent even when the file
    itself is no longer on the phone.
    """
    index = exhibits.exact_index()
    out: list[Match] = []
    for locator, value in items:
        sha = file_hash_to_sha256(value)
        if sha is None:
            continue
        for reference in dict.fromkeys(index.get(("sha256", sha), [])):
            entry = exhibits.entry_for(reference)
            out.append(
                Match(
                    exhibit=reference,
                    file=locator,
                    method="sha256",
                    distance=0,
                    band="exact",
                    sha256=sha,
                    category=entry.category if entry else None,
                    alert=entry.alert if entry else None,
                    via="source_hash",
                )
            )
    return out
