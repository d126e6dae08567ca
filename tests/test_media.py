"""Picture hashing and exhibit matching (triage.media) on small generated photo-like images."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from triage.cli import main
from triage.evidence import Evidence
from triage.media import matching
from triage.media.cache import HashRecord, MemoryHashCache, SqliteHashCache, StoreHashCache
from triage.media.exhibits import (
    ExhibitSet,
    exhibit_from_bytes,
    load_category_profile,
    load_exhibits,
    read_hash_list,
    read_vics,
)
from triage.media.hashes import hash_bytes, hash_media
from triage.media.inventory import inventory, sniff_image
from triage.media.matching import (
    file_hash_to_sha256,
    find_matches,
    load_profile,
    match_source_hashes,
    sha256_to_file_hash,
)
from triage.media.pipeline import PIPELINE_VERSION, trim_box
from triage.media.vics import VicsError, iter_vics_media


# -- generated pictures ----------------------------------------------------------------------------
def photo(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """Photo-like content: smooth gradients, a few shapes and sensor-like noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    planes = [
        np.sin(x * rng.uniform(2, 7) + rng.uniform(0, 6)) * 70 + 120,
        np.cos(y * rng.uniform(2, 7) + rng.uniform(0, 6)) * 70 + 120,
        (x * rng.uniform(-1, 1) + y * rng.uniform(-1, 1)) * 80 + 128,
    ]
    img = Image.fromarray(np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        s = int(rng.integers(w // 12, w // 3))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x0 + s, y0 + int(s * 0.7)], fill=colour)
        else:
            draw.rectangle([x0, y0, x0 + s, y0 + s // 2], fill=colour)
    noisy = np.asarray(img).astype(np.int16) + rng.normal(0, 5, (h, w, 3)).astype(np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def jpeg(img: Image.Image, quality: int = 90, **kwargs: object) -> bytes:
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality, **kwargs)
    return out.getvalue()


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def whatsapp(img: Image.Image) -> bytes:
    """WhatsApp-like: longest side to 1600 px, JPEG q 70."""
    scale = 1600 / max(img.size)
    return jpeg(img.resize((round(img.width * scale), round(img.height * scale))), 70)


def screenshot(img: Image.Image) -> bytes:
    """A phone screenshot: picture scaled into a 540×1170 black screen with a status bar."""
    screen = Image.new("RGB", (540, 1170), (0, 0, 0))
    shown = img.resize((540, round(540 * img.height / img.width)))
    screen.paste(shown, (0, (1170 - shown.height) // 2))
    draw = ImageDraw.Draw(screen)
    draw.text((20, 10), "21:47", fill=(255, 255, 255))
    draw.rectangle([490, 12, 520, 26], outline=(255, 255, 255), width=2)
    return png(screen)


def png_bomb(width: int = 60000, height: int = 60000) -> bytes:
    """A tiny PNG whose header claims an enormous picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def exhibit_img() -> Image.Image:
    return photo(1, (2000, 1500))


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory, exhibit_img: Image.Image) -> dict[str, Path]:
    """An exhibit folder and a phone folder with copies, near-copies, strangers and bad files."""
    root = tmp_path_factory.mktemp("media")
    ex = root / "exhibits"
    ex.mkdir()
    (ex / "EX-1.jpg").write_bytes(jpeg(exhibit_img, 92))
    phone = root / "phone"
    (phone / "WhatsApp" / "Media" / "WhatsApp Images" / "Sent").mkdir(parents=True)
    (phone / "DCIM").mkdir()
    sent = phone / "WhatsApp" / "Media" / "WhatsApp Images" / "Sent"
    (sent / "IMG-20260310-WA0003.jpg").write_bytes(whatsapp(exhibit_img))
    (phone / "DCIM" / "Screenshot_20260311.png").write_bytes(screenshot(exhibit_img))
    # A mirrored copy stored under a misleading name: found by content, not extension.
    (phone / "DCIM" / "notes.dat").write_bytes(
        jpeg(exhibit_img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((800, 600)), 75)
    )
    for seed in range(10, 16):  # unrelated pictures of the same kind
        (phone / "DCIM" / f"IMG_{seed}.jpg").write_bytes(jpeg(photo(seed, (800, 600)), 80))
    (phone / "DCIM" / "broken.jpg").write_bytes(jpeg(photo(3, (400, 300)))[:2500])
    (phone / "DCIM" / "bomb.png").write_bytes(png_bomb())
    (phone / "readme.txt").write_text("not a picture")
    return {"root": root, "exhibits": ex, "phone": phone}


def _hash_folder(folder: Path, cache=None, workers: int | None = 1):  # noqa: ANN001, ANN202
    with Evidence() as evidence:
        evidence.add_input(folder, folder.name)
        found = inventory(evidence.files())
        return hash_media(found.images, cache=cache, workers=workers), found


# -- inventory and pipeline ------------------------------------------------------------------------
def test_sniffing_is_by_content() -> None:
    small = photo(5, (64, 48))
    assert sniff_image(jpeg(small)) == "jpeg"
    assert sniff_image(png(small)) == "png"
    out = io.BytesIO()
    small.save(out, "GIF")
    assert sniff_image(out.getvalue()) == "gif"
    out = io.BytesIO()
    small.save(out, "WEBP")
    assert sniff_image(out.getvalue()) == "webp"
    assert sniff_image(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "heif"
    assert sniff_image(b"just some text, not a picture") is None
    assert sniff_image(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None


def test_heic_decodes_when_pillow_heif_is_installed(exhibit_img: Image.Image) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    out = io.BytesIO()
    exhibit_img.resize((160, 120)).save(out, "HEIF", quality=80)
    data = out.getvalue()
    assert sniff_image(data) == "heif", data[:32]
    record = hash_bytes(data)
    assert record.error is None and record.phash, pillow_heif.__version__
    reference = hash_bytes(jpeg(exhibit_img.resize((160, 120))))
    assert _bits(record.phash, reference.phash) <= 6


def _bits(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_hash_record_fields_and_digests(exhibit_img: Image.Image) -> None:
    data = jpeg(exhibit_img.resize((600, 450)))
    record = hash_bytes(data)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.md5 == hashlib.md5(data).hexdigest()
    assert record.sha1 == hashlib.sha1(data).hexdigest()
    assert record.size == len(data) and record.format == "jpeg"
    assert (record.width, record.height) == (600, 450)
    assert len(record.phash) == 16 and len(record.dhash) == 16
    assert record.pipeline == PIPELINE_VERSION and "pillow=" in PIPELINE_VERSION
    assert record.trim_box is None and record.phash_trim is None
    assert HashRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_exif_orientation_is_applied(exhibit_img: Image.Image) -> None:
    upright = exhibit_img.resize((600, 450))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    stored = jpeg(upright.transpose(Image.Transpose.ROTATE_90), 85, exif=exif.tobytes())
    record = hash_bytes(stored)
    assert (record.width, record.height) == (600, 450)
    assert _bits(record.phash, hash_bytes(jpeg(upright, 85)).phash) <= 4


def test_trim_finds_the_picture_inside_screenshot_bars(exhibit_img: Image.Image) -> None:
    shot = Image.open(io.BytesIO(screenshot(exhibit_img))).convert("RGB")
    box = trim_box(shot)
    assert box is not None
    top_expected = (1170 - 405) // 2
    assert abs(box.top - top_expected) <= 3 and abs(box.bottom - (top_expected + 405)) <= 3
    assert box.left <= 2 and box.right >= 538
    # A photo without bars is left alone, even a dark one.
    dark = Image.fromarray((np.asarray(photo(7, (400, 300))) // 5).astype(np.uint8))
    assert trim_box(photo(7, (400, 300))) is None
    assert trim_box(dark) is None


def test_corrupt_and_bomb_are_reported_not_fatal(case: dict[str, Path]) -> None:
    run, found = _hash_folder(case["phone"])
    errors = dict(run.errors)
    assert any("truncated" in reason for p, reason in errors.items() if p.endswith("broken.jpg"))
    assert any("decompression bomb" in r for p, r in errors.items() if p.endswith("bomb.png"))
    good = [r for _, r in run.results if not r.error]
    assert len(good) == 9  # 3 copies + 6 strangers: the run went on past the bad files
    assert len(found.others) == 1  # readme.txt


# -- matching --------------------------------------------------------------------------------------
def test_exhibit_found_after_whatsapp_screenshot_and_mirror(case: dict[str, Path]) -> None:
    exhibits = load_exhibits([case["exhibits"]])
    assert len(exhibits.images) == 1 and len(exhibits.images[0].variants) == 8
    run, _ = _hash_folder(case["phone"])
    matches = find_matches([(m.logical, r) for m, r in run.results], exhibits, load_profile())
    by_file = {m.file.rsplit("/", 1)[-1]: m for m in matches}
    assert set(by_file) == {"IMG-20260310-WA0003.jpg", "Screenshot_20260311.png", "notes.dat"}
    wa = by_file["IMG-20260310-WA0003.jpg"]
    assert (wa.method, wa.band, wa.orientation) == ("phash", "match", "original")
    assert wa.distance <= 4 and wa.file_trimmed is False
    shot = by_file["Screenshot_20260311.png"]
    assert shot.band == "match" and shot.file_trimmed is True and shot.distance <= 6
    mirror = by_file["notes.dat"]
    assert mirror.band == "match" and mirror.orientation == "mirror"
    assert all(m.exhibit.endswith("EX-1.jpg") for m in matches)
    assert "dhash" in wa.also


def test_unrelated_pictures_are_far_apart() -> None:
    records = [hash_bytes(jpeg(photo(seed, (320, 240)), 80)) for seed in range(20, 28)]
    exhibits = ExhibitSet(
        images=[
            exhibit_from_bytes(png(photo(seed, (320, 240))), f"ex{seed}") for seed in range(20, 28)
        ]
    )
    found = matching.min_distances(records, exhibits, "phash", load_profile())
    assert found is not None
    low = found[0]
    assert np.all(np.diag(low) <= 4)  # each recompressed picture is close to its exhibit...
    off = low[~np.eye(8, dtype=bool)]
    assert off.min() > 16  # ...and far from the others


def test_rotated_copy_reports_orientation() -> None:
    base = photo(41, (600, 400))
    exhibits = ExhibitSet(images=[exhibit_from_bytes(png(base), "EX-R")])
    rotated = hash_bytes(jpeg(base.transpose(Image.Transpose.ROTATE_270), 75))
    [match] = find_matches([("phone/rot.jpg", rotated)], exhibits)
    assert match.orientation == "rot270" and match.band == "match"


def test_popcount_fallback_agrees() -> None:
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**63, size=(50, 4), dtype=np.uint64)
    table = matching._POPCOUNT[words.view(np.uint8).reshape(50, 4, 8)].sum(axis=-1)
    expected = np.array([[bin(int(v)).count("1") for v in row] for row in words])
    assert np.array_equal(table, expected)
    assert np.array_equal(matching.popcount(words), expected)


def test_profile_is_loaded_and_reported(tmp_path: Path) -> None:
    profile = load_profile()
    assert profile.bands["phash"].match == 10
    assert profile.bands["phash"].review_needs == {"dhash": 12}
    assert profile.band("phash", 14, {"dhash": 11}) == "review"
    assert profile.band("phash", 14, {"dhash": 20}) is None
    assert profile.band("phash", 9) == "match"
    bad = tmp_path / "bad.yaml"
    bad.write_text("phash: {match: 12, review: 8}\n")
    with pytest.raises(ValueError, match="review"):
        load_profile(bad)


# -- exact hashes, hash lists, VICS ----------------------------------------------------------------
def test_exact_hash_list_hit_and_bad_rows(case: dict[str, Path], tmp_path: Path) -> None:
    target = case["phone"] / "DCIM" / "IMG_12.jpg"
    digest = hashlib.md5(target.read_bytes()).hexdigest().upper()
    sha256 = hashlib.sha256(target.read_bytes()).hexdigest()
    listing = tmp_path / "hashes.csv"
    listing.write_text(
        "\ufeffExhibit Ref;Hash (MD5);SHA-256\n"
        f"KL/7;{digest};\n"
        "KL/8;not-a-hash;\n"
        f"KL/9;;{sha256[:-1]}\n"
        "KL/10;;\n",
        encoding="utf-8",
    )
    entries, problems = read_hash_list(io.StringIO(listing.read_text("utf-8-sig")), "hashes.csv")
    assert [e.reference for e in entries] == ["KL/7"] and entries[0].md5 == digest.lower()
    assert [p.line for p in problems] == [3, 4, 5]
    exhibits = load_exhibits([listing])
    run, _ = _hash_folder(case["phone"])
    matches = find_matches([(m.logical, r) for m, r in run.results], exhibits)
    assert [(m.exhibit, m.method, m.band) for m in matches] == [("KL/7", "md5", "exact")]
    assert matches[0].file.endswith("DCIM/IMG_12.jpg") and matches[0].sha256 == sha256


def test_headerless_hash_list() -> None:
    sha1 = hashlib.sha1(b"x").hexdigest()
    entries, problems = read_hash_list(io.StringIO(f"{sha1},victim photo 1\n"), "list.txt")
    assert entries[0].sha1 == sha1 and entries[0].reference == "victim photo 1"
    assert not problems


class CountingStream(io.RawIOBase):
    """A byte stream produced piece by piece, recording how much has been handed out."""

    def __init__(self, pieces) -> None:  # noqa: ANN001 - any iterator of bytes
        self.pieces = iter(pieces)
        self.pending = b""
        self.served = 0
        self.finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - memoryview
        while not self.pending:
            piece = next(self.pieces, None)
            if piece is None:
                self.finished = True
                return 0
            self.pending = piece
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        self.served += size
        return size


def vics_pieces(count: int, hit_md5: str):  # noqa: ANN201 - generator
    yield (
        b'\xef\xbb\xbf{"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/'
        b'1.3.xml#Media", "value": ['
    )
    for index in range(count):
        media = {
            "MediaID": index,
            "Category": index % 5,
            "MD5": hit_md5.upper() if index == 3 else hashlib.md5(str(index).encode()).hexdigest(),
            "SHA1": hashlib.sha1(str(index).encode()).hexdigest().upper(),
            "IsDistributed": "false",
            "MediaFiles": [{"FileName": f"{index}.jpg"}],
        }
        yield (b"," if index else b"") + json.dumps(media).encode()
    yield b', {"MediaID": 99999, "Category": 1, "MD5": "zz"}]}'


def test_vics_is_streamed_not_loaded_whole() -> None:
    hit = hashlib.md5(b"hit").hexdigest()
    stream = CountingStream(vics_pieces(20000, hit))
    media = iter_vics_media(io.BufferedReader(stream, buffer_size=4096))
    first = [next(media) for _ in range(5)]
    assert [m["MediaID"] for m in first] == [0, 1, 2, 3, 4]
    assert first[3]["MD5"] == hit.upper()
    assert not stream.finished and stream.served < 200_000  # the 2 MB file is not read yet
    rest = list(media)
    assert stream.finished and len(rest) == 20000 - 5 + 1


def test_vics_entries_categories_and_problems() -> None:
    hit = hashlib.md5(b"hit").hexdigest()
    items = list(read_vics(CountingStream(vics_pieces(10, hit)), "set.json"))
    entries = [i for i in items if hasattr(i, "md5")]
    problems = [i for i in items if not hasattr(i, "md5")]
    assert len(entries) == 10 and entries[3].md5 == hit
    assert entries[1].category == "child abuse material (CAM)" and entries[1].alert is True
    assert entries[0].category == "non-pertinent" and entries[0].alert is False
    assert len(problems) == 2 and "Media #11" in problems[0].reason  # bad MD5, then no hash
    profile = load_category_profile()
    assert profile.describe(None)[0] == "uncategorised"
    assert profile.describe(9)[0].startswith("category not in profile")


def test_vics_case_export_and_errors() -> None:
    export = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/"
        "$metadata#Cases",
        "value": [{"CaseID": "C1", "Media": [{"MediaID": 1, "MD5": "a" * 32}]}],
    }
    meta: dict = {}
    media = list(iter_vics_media(io.BytesIO(json.dumps(export).encode()), meta))
    assert media == [{"MediaID": 1, "MD5": "a" * 32}] and "@odata.context" in meta
    with pytest.raises(VicsError):
        list(iter_vics_media(io.BytesIO(b'{"value": [{"MediaID": 1,, }]}')))
    with pytest.raises(VicsError):
        list(iter_vics_media(io.BytesIO(b'{"nothing": 1}')))


def test_whatsapp_file_hash_is_base64_of_sha256(tmp_path: Path) -> None:
    data = jpeg(photo(8, (320, 240)))
    file_hash = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert len(file_hash) == 44
    assert file_hash_to_sha256(file_hash) == hashlib.sha256(data).hexdigest()
    assert sha256_to_file_hash(hashlib.sha256(data).hexdigest()) == file_hash
    assert file_hash_to_sha256("not base64!") is None
    assert file_hash_to_sha256(base64.b64encode(b"short").decode()) is None
    exhibits = ExhibitSet(images=[exhibit_from_bytes(data, "EX-WA")])
    found = match_source_hashes(
        [("msgstore.db message_media._id=7", file_hash), ("other", None)], exhibits
    )
    assert [(m.exhibit, m.file, m.via, m.band) for m in found] == [
        ("EX-WA", "msgstore.db message_media._id=7", "source_hash", "exact")
    ]


# -- cache and pool --------------------------------------------------------------------------------
def test_second_run_is_served_from_cache(case: dict[str, Path], tmp_path: Path) -> None:
    cache_file = tmp_path / "hashes.sqlite"
    with SqliteHashCache(cache_file) as cache:
        first, _ = _hash_folder(case["phone"], cache)
    assert first.hashed == 11 and first.cached == 0
    with SqliteHashCache(cache_file) as cache:
        second, _ = _hash_folder(case["phone"], cache)
    assert second.hashed == 0 and second.cached == 11
    assert [r.to_dict() for _, r in second.results] == [r.to_dict() for _, r in first.results]
    assert len(second.errors) == 2  # cached failures are still reported


def test_pool_and_archive_members(tmp_path: Path) -> None:
    archive = tmp_path / "extraction.zip"
    pictures = {f"sdcard/DCIM/p{i:02d}.jpg": jpeg(photo(100 + i, (96, 72)), 80) for i in range(30)}
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in pictures.items():
            zf.writestr(name, data)
    folder = tmp_path / "loose"
    folder.mkdir()
    for name, data in list(pictures.items())[:26]:
        (folder / name.rsplit("/", 1)[-1]).write_bytes(data)
    inline_run, _ = _hash_folder(archive, workers=1)
    pooled_zip, _ = _hash_folder(archive, workers=2)
    cache = MemoryHashCache()
    pooled_dir, _ = _hash_folder(folder, cache=cache, workers=2)
    assert [r.to_dict() for _, r in pooled_zip.results] == [
        r.to_dict() for _, r in inline_run.results
    ]
    assert [m.logical for m, _ in pooled_zip.results][0] == "extraction.zip!/sdcard/DCIM/p00.jpg"
    assert pooled_dir.hashed == 26 and len(cache) == 26
    again, _ = _hash_folder(archive, cache=cache, workers=2)
    assert again.cached == 26 and again.hashed == 4


def test_store_cache_adapter_filters_other_pipelines() -> None:
    class FakeStore:
        def __init__(self) -> None:
            self.rows: dict[str, dict] = {}

        def media_get_many(self, sha256s):  # noqa: ANN001, ANN202
            return {s: self.rows[s] for s in sha256s if s in self.rows}

        def media_put_many(self, records) -> None:  # noqa: ANN001
            self.rows.update(dict(records))

    store = FakeStore()
    cache = StoreHashCache(store)
    record = hash_bytes(jpeg(photo(9, (64, 48))))
    cache.put_many([record])
    assert cache.get_many([record.sha256]) == {record.sha256: record}
    store.rows[record.sha256]["pipeline"] = "triage-media/0;old"
    assert cache.get_many([record.sha256]) == {}


# -- command line ----------------------------------------------------------------------------------
def test_cli_hash_jsonl(case: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["hash", str(case["phone"]), "--jsonl", "--cache", str(tmp_path / "c.sqlite")]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 11
    by_name = {line["path"].rsplit("/", 1)[-1]: line for line in lines}
    wa = by_name["IMG-20260310-WA0003.jpg"]
    for key in ("size", "md5", "sha1", "sha256", "phash", "dhash", "phash_trim", "pipeline"):
        assert key in wa
    assert wa["pipeline"] == PIPELINE_VERSION and wa["error"] is None
    assert by_name["Screenshot_20260311.png"]["phash_trim"] is not None
    assert "decompression bomb" in by_name["bomb.png"]["error"]
    assert "11 pictures" in result.stderr and "with errors" in result.stderr


def test_cli_match_json(case: dict[str, Path], tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    stranger = case["phone"] / "DCIM" / "IMG_14.jpg"
    listing.write_text(
        f"sha256,reference\n{hashlib.sha256(stranger.read_bytes()).hexdigest()},KL/3\n"
    )
    result = CliRunner().invoke(
        main,
        [
            "match",
            "--exhibit",
            str(case["exhibits"]),
            "--exhibit",
            str(listing),
            str(case["phone"]),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["profile"]["bands"]["phash"]["match"] == 10
    assert doc["searched"]["pictures"] == 11 and len(doc["searched"]["errors"]) == 2
    found = {(m["file"].rsplit("/", 1)[-1], m["method"], m["band"]) for m in doc["matches"]}
    assert ("IMG_14.jpg", "sha256", "exact") in found
    assert {name for name, _, _ in found} == {
        "IMG-20260310-WA0003.jpg",
        "Screenshot_20260311.png",
        "notes.dat",
        "IMG_14.jpg",
    }
    for m in doc["matches"]:
        assert {"exhibit", "file", "method", "distance", "orientation", "band"} <= set(m)
    help_text = CliRunner().invoke(main, ["match", "--help"]).output
    assert "Example" in help_text and "--exhibit" in help_text


def test_cli_match_without_usable_exhibit(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("md5\nnot-hex\n")
    result = CliRunner().invoke(main, ["match", "--exhibit", str(empty), str(tmp_path)])
    assert result.exit_code == 2 and "no usable exhibit" in result.output


def test_cli_match_all_files_finds_hash_listed_video(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    phone.mkdir()
    video = b"\x00\x00\x00\x20ftypmp42" + bytes(range(256)) * 40
    (phone / "VID_0001.mp4").write_bytes(video)
    listing = tmp_path / "list.csv"
    listing.write_text(f"md5,description\n{hashlib.md5(video).hexdigest()},sent video\n")
    args = ["match", "--exhibit", str(listing), str(phone), "--json"]
    without = json.loads(CliRunner().invoke(main, args).stdout)
    assert without["matches"] == []
    result = CliRunner().invoke(main, [*args, "--all-files"])
    assert result.exit_code == 0, result.output
    [match] = json.loads(result.stdout)["matches"]
    assert (match["exhibit"], match["method"], match["file"]) == (
        "sent video",
        "md5",
        f"{phone}/VID_0001.mp4",
    )


def test_gif_first_frame_and_transparent_png() -> None:
    first, second = photo(50, (200, 150)), photo(51, (200, 150))
    out = io.BytesIO()
    first.save(out, "GIF", save_all=True, append_images=[second], duration=100)
    animated = hash_bytes(out.getvalue())
    assert animated.error is None and animated.format == "gif"
    still_first = hash_bytes(png(first))
    still_second = hash_bytes(png(second))
    assert _bits(animated.phash, still_first.phash) <= 6
    assert _bits(animated.phash, still_second.phash) > 16
    rgba = first.convert("RGBA")
    rgba.putalpha(255)
    assert hash_bytes(png(rgba)).phash == still_first.phash
