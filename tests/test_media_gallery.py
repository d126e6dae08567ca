"""Android gallery thumbnail caches (issue 21 part 1): the Gallery app's blob cache and the media
provider's ``.thumbdata3`` file are read by structure, their thumbnails matched with provenance,
and damaged records counted while the rest is read."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from triage.casefile import load_case
from triage.cli import main
from triage.media.blob_cache import is_blob_cache, parse_key, read_blob_file, read_blob_index
from triage.media.mini_thumb import BLOCK, read_mini_thumbs
from triage.run import run_case
from triage.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gallery_cache" / "generated"
CACHE = "phone/data/data/com.android.gallery3d/cache"
THUMBDATA = "phone/data/media/0/DCIM/.thumbnails/.thumbdata3--1967290299"
ORIGINAL = "/storage/emulated/0/DCIM/Camera/IMG_20260402_213344.jpg"


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


def blob(offset: int, key: str, picture: bytes) -> bytes:
    value = key.encode("utf-16-le") + picture
    return struct.pack("<QIII", 7, zlib.adler32(value), offset, len(value)) + value


def test_blob_cache_records_keys_and_index() -> None:
    index = read_blob_index((FIXTURES / CACHE / "imgcache.idx").read_bytes())
    assert index is not None and index.active_region == 0
    active = read_blob_file((FIXTURES / CACHE / "imgcache.0").read_bytes())
    assert active.problems == [] and [b.number for b in active.blobs] == [1, 2, 3]
    first, thumb, micro = active.blobs
    assert (first.key.item_path, first.key.kind, first.key.original_path) == (
        "/local/image/item/1302",
        "thumbnail",
        None,
    )
    assert (thumb.key.kind, micro.key.kind) == ("thumbnail", "micro-thumbnail")
    assert thumb.key.original_path == ORIGINAL and thumb.key.timestamp == 1775165624
    assert all(b.checksum_ok and (b.key_hash, b.offset) in index.live[0] for b in active.blobs)
    assert Image.open(io.BytesIO(thumb.jpeg)).size == (640, 480)
    assert Image.open(io.BytesIO(micro.jpeg)).size == (200, 200)

    older = read_blob_file((FIXTURES / CACHE / "imgcache.1").read_bytes())
    # The torn write is reported where it is, and the blob after it is still read.
    ((where, reason),) = older.problems
    assert where == older.blobs[0].offset + 20 + len(older.blobs[0].jpeg) + 66
    assert "damaged header" in reason and "37 bytes skipped" in reason
    samsung, utf32 = older.blobs
    assert (samsung.key.item_path, samsung.key.timestamp, samsung.key.kind) == (
        "/local/image/item/44",
        1469075274,
        "thumbnail",
    )
    # UTF-32-LE key, "+" inside the file name, a blob its region's index no longer lists.
    assert utf32.key.original_path == "/storage/emulated/0/Pictures/Screenshots/a+b.png"
    assert (samsung.key_hash, samsung.offset) in index.live[1]
    assert (utf32.key_hash, utf32.offset) not in index.live[1]


def test_blob_checksum_and_truncation_are_reported() -> None:
    one = blob(4, "/local/image/item/1+1", jpeg((200, 10, 10)))
    two = blob(4 + len(one), "/local/image/item/2+1", jpeg((10, 200, 10)))
    data = bytearray(b"\x10\x85\x24\xbd" + one + two)
    data[len(data) - 40] ^= 0xFF  # inside the second JPEG
    found = read_blob_file(bytes(data) + b"\x00" * 7)
    assert [b.checksum_ok for b in found.blobs] == [True, False]
    assert [r for _, r in found.problems] == [
        "blob 2: checksum does not match its bytes",
        "7 bytes after the last blob, too few for a header",
    ]
    assert read_blob_file(b"\x00" * 30).problems == [(0, "no blob cache signature (10 85 24 BD)")]
    assert not is_blob_cache(b"\xbd\x24\x85\x10")  # the magic is little-endian in the file


def test_key_forms() -> None:
    aosp = parse_key("/local/image/item/44+1".encode("utf-16-le"))
    assert (aosp.item_path, aosp.kind, aosp.original_path, aosp.timestamp) == (
        "/local/image/item/44",
        "thumbnail",
        None,
        None,
    )
    video = parse_key("/local/video/item/9+1469051577796+2".encode("utf-16-le"))
    assert (video.timestamp, video.kind) == (1469051577, "micro-thumbnail")


def test_mini_thumb_blocks() -> None:
    with (FIXTURES / THUMBDATA).open("rb") as handle:
        found = read_mini_thumbs(handle)
    assert found is not None
    assert [(t.block, t.offset) for t in found.thumbs] == [(3, 3 * BLOCK), (7, 7 * BLOCK)]
    assert all(Image.open(io.BytesIO(t.jpeg)).size == (96, 96) for t in found.thumbs)
    assert found.problems == [(9 * BLOCK, "block 9: no readable thumbnail (status 1)")]
    # Another file whose first byte is 0 or 1 is not taken for one.
    assert read_mini_thumbs(io.BytesIO(b"\x01" + b"SQLite" * 3000)) is None
    assert read_mini_thumbs(io.BytesIO(bytes(3 * BLOCK))) is None


@pytest.fixture
def gallery_case(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "gallery")
    root = tmp_path / "gallery"
    (root / "case.yaml").write_text(
        "case:\n  reference: T/GC/1\n  title: gallery caches\n"
        "exhibits:\n"
        "  - id: EX/GC/1\n    image: exhibits/EX-GC-1.jpg\n"
        "    description: its only copies are gallery thumbnails\n"
        "  - id: EX/GC/2\n    image: exhibits/EX-GC-2.jpg\n"
        "    description: its only copy is in the .thumbdata file\n"
        "sources:\n  - path: phone\n    label: phone\n",
        encoding="utf-8",
    )
    return root / "case.yaml"


def test_run_matches_exhibits_known_only_from_gallery_caches(
    gallery_case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = {p: p.read_bytes() for p in (gallery_case.parent / "phone").rglob("*") if p.is_file()}
    result = run_case(load_case(gallery_case), out)
    assert result.status == 0  # the caches were read: not "nothing readable"
    data = json.loads((out / "findings.json").read_text())
    matches = [f for f in data["findings"] if f["rule"] == "exhibit.match"]
    by = {(f["subject"], f["data"]["thumbnail"]["locator"]): f for f in matches}
    assert sorted(by) == [
        ("EX/GC/1", "imgcache.0 blob 2 at byte 30,459"),
        ("EX/GC/1", "imgcache.0 blob 3 at byte 82,517"),
        ("EX/GC/2", ".thumbdata3--1967290299 block 7 at byte 70,000"),
    ]
    thumb_finding = by[("EX/GC/1", "imgcache.0 blob 2 at byte 30,459")]
    d = thumb_finding["data"]
    assert (d["via"], d["band"], d["method"]) == ("thumbnail", "match", "phash")
    assert d["full_copy_found"] is False and d["messages"] == []
    thumb = d["thumbnail"]
    cache_file = gallery_case.parent / CACHE / "imgcache.0"
    assert thumb["cache"] == f"phone/{CACHE.removeprefix('phone/')}/imgcache.0"
    assert thumb["cache_sha256"] == hashlib.sha256(cache_file.read_bytes()).hexdigest()
    assert (thumb["record_number"], thumb["offset"], thumb["in_index"]) == (2, 30459, True)
    assert thumb["original_path"] == ORIGINAL and thumb["originals_found"] == []
    assert thumb["original_time_utc"] == "2026-04-02T21:33:44Z"
    assert (thumb["width"], thumb["height"], thumb["exhibit_width"]) == (640, 480, 960)
    why = thumb_finding["why"]
    assert "thumbnail match" in why and "640x480" in why
    assert f"names the original file {ORIGINAL}" in why and "22:33:44 BST" in why
    assert "no file at that place is in the sources read" in why
    # The micro-thumbnail is the exhibit's centre square: found by the crop-resistant tier.
    micro = by[("EX/GC/1", "imgcache.0 blob 3 at byte 82,517")]["data"]
    assert (micro["method"], micro["exhibit_crop"]) == ("region", [0.125, 0.0, 0.125, 0.0])
    block = by[("EX/GC/2", ".thumbdata3--1967290299 block 7 at byte 70,000")]
    assert block["data"]["thumbnail"]["media_id"] == 7
    assert "id in the media database (7)" in block["why"]
    # The report shows the preview from the output folder's copy.
    assert (out / d["file_copy"]).is_file()
    assert "imgcache.0 blob 2" in (out / "exhibits.html").read_text("utf-8")
    # Damaged records: one warning per cache file, counted in the summary; the rest was read.
    manifest = json.loads(result.manifest_path.read_text())
    damaged = {
        w["file"].rsplit("/", 1)[-1]: w["count"]
        for w in manifest["warnings"]
        if w["category"] == "damaged thumbnail cache record"
    }
    assert damaged == {"imgcache.1": 1, ".thumbdata3--1967290299": 1}
    (summary,) = [f for f in data["findings"] if f["rule"] == "media.summary"]
    assert "7 thumbnails read from 3 gallery cache files" in summary["why"]
    assert "2 damaged records" in summary["why"]
    # The caches count as read, not as files left unread; the evidence is untouched.
    assert not any("imgcache" in f or "thumbdata" in f for f, _ in result.skipped)
    assert before == {p: p.read_bytes() for p in before}


def test_unrelated_gallery_thumbnails_match_nothing(gallery_case: Path, tmp_path: Path) -> None:
    text = gallery_case.read_text(encoding="utf-8")
    other = io.BytesIO()
    Image.effect_noise((640, 480), 40).convert("RGB").save(other, "JPEG")
    (gallery_case.parent / "exhibits" / "other.jpg").write_bytes(other.getvalue())
    start, end = text.index("exhibits:"), text.index("sources:")
    gallery_case.write_text(
        text[:start] + "exhibits:\n  - id: EX/X\n    image: exhibits/other.jpg\n" + text[end:],
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run_case(load_case(gallery_case), out, report=False)
    assert Store.open(out / "case.sqlite").media_matches() == []


# -- triage match / triage hash on the gallery caches -----------------------------------------------
def _snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_cli_match_finds_exhibits_in_gallery_caches(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(FIXTURES / "phone", phone)
    before = _snapshot(phone)
    exhibits = [str(FIXTURES / "exhibits" / n) for n in ("EX-GC-1.jpg", "EX-GC-2.jpg")]
    args = ["match", "--exhibit", exhibits[0], "--exhibit", exhibits[1], str(phone)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by = {(m["exhibit"], m["thumbnail"]["locator"]): m for m in doc["matches"]}
    assert sorted((Path(e).name, loc) for e, loc in by) == [
        ("EX-GC-1.jpg", "imgcache.0 blob 2 at byte 30,459"),
        ("EX-GC-1.jpg", "imgcache.0 blob 3 at byte 82,517"),
        ("EX-GC-2.jpg", ".thumbdata3--1967290299 block 7 at byte 70,000"),
    ]
    blob = by[(exhibits[0], "imgcache.0 blob 2 at byte 30,459")]
    assert (blob["via"], blob["band"], blob["method"]) == ("thumbnail", "match", "phash")
    thumb = blob["thumbnail"]
    cache_file = phone / CACHE.removeprefix("phone/") / "imgcache.0"
    assert thumb["cache_sha256"] == hashlib.sha256(cache_file.read_bytes()).hexdigest()
    assert thumb["cache"].endswith("com.android.gallery3d/cache/imgcache.0")
    assert (thumb["record_number"], thumb["offset"]) == (2, 30459)
    assert (thumb["resolution"], thumb["exhibit_width"]) == ("640x480", 960)
    assert thumb["original_path"] == ORIGINAL
    assert (
        by[(exhibits[1], ".thumbdata3--1967290299 block 7 at byte 70,000")]["thumbnail"]["media_id"]
        == 7
    )
    searched = doc["searched"]
    assert searched["gallery_thumbnails"] == 7 and len(searched["gallery_caches"]) == 3
    assert len(searched["damaged_cache_records"]) == 2
    assert {
        (Path(d["file"]).name, d["where"].split(":")[0]) for d in searched["damaged_cache_records"]
    } == {("imgcache.1", "at byte 31,344"), (".thumbdata3--1967290299", "at byte 90,000")}
    assert "2 damaged records" in result.stderr
    assert result.stderr.count("damaged cache record:") == 2
    # The text output names the thumbnail match, its resolution and where the cache holds it.
    text = CliRunner().invoke(main, args, env={"COLUMNS": "400"})
    assert text.exit_code == 0, text.output
    assert "thumbnail match (640x480)" in text.stdout
    assert "imgcache.0 blob 2 at byte 30,459" in text.stdout
    assert thumb["cache_sha256"] in text.stdout and ORIGINAL in text.stdout
    assert _snapshot(phone) == before


def test_cli_match_unrelated_exhibit_not_found_in_gallery_caches(tmp_path: Path) -> None:
    other = tmp_path / "other.jpg"
    Image.effect_noise((640, 480), 40).convert("RGB").save(other, "JPEG")
    result = CliRunner().invoke(
        main, ["match", "--exhibit", str(other), str(FIXTURES / "phone"), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["searched"]["gallery_thumbnails"] == 7 and doc["matches"] == []


def test_cli_hash_lists_cached_thumbnails_with_provenance(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(FIXTURES / "phone", phone)
    before = _snapshot(phone)
    result = CliRunner().invoke(main, ["hash", str(phone), "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 7
    assert all(line["thumbnail"]["cache_sha256"] and line["phash"] for line in lines)
    by = {line["thumbnail"]["locator"]: line for line in lines}
    micro = by["imgcache.0 blob 3 at byte 82,517"]
    assert micro["path"].endswith("imgcache.0@82517") and micro["thumbnail"]["resolution"] == (
        "200x200"
    )
    assert micro["sha256"] == hashlib.sha256(micro_bytes(phone)).hexdigest()
    assert "7 thumbnails read from 3 gallery cache files" in result.stderr
    assert _snapshot(phone) == before


def micro_bytes(phone: Path) -> bytes:
    found = read_blob_file((phone / CACHE.removeprefix("phone/") / "imgcache.0").read_bytes())
    return next(b.jpeg for b in found.blobs if b.number == 3)
