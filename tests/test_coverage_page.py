"""The coverage page names every source of the case file (folders and archives too, and one in
which nothing was found), every picture one by one (hashed, or unreadable and why) and what was
not examined; pictures.csv lists every picture. Run on a copy of the demo case (real formats)
with a truncated JPEG and an empty folder added."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from triage.casefile import load_case
from triage.run import run_case
from triage.store import Store


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    end = html.find("<h2", start + 1)
    return _text(html[start : end if end > 0 else len(html)])


def test_coverage_lists_sources_pictures_and_what_was_not_examined(
    demo_case: Path, tmp_path: Path
) -> None:
    folder = demo_case.parent
    camera = folder / "evidence" / "sdcard-copy" / "DCIM" / "Camera"
    good = (camera / "IMG_20260310_18300.jpg").read_bytes()
    (camera / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (folder / "evidence" / "spare-card").mkdir()
    text = demo_case.read_text("utf-8") + "  - path: evidence/spare-card\n    label: spare-card\n"
    demo_case.write_text(text, "utf-8")
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    html = (out / "coverage.html").read_text("utf-8")

    sources = _section(html, "case-sources")
    store = Store.open(out / "case.sqlite")
    read = [s["file"] for s in store.sources()]

    def files_read(label: str) -> int:
        return sum(1 for f in read if f.startswith((label + "/", label + "!/")))

    assert files_read("android-extraction.zip") >= 5 and files_read("iphone-extract") >= 1
    assert f"android-extraction.zip archive {files_read('android-extraction.zip')} 3 0 0" in sources
    assert "sdcard-copy folder 0 4 (1 unreadable) 0 0" in sources
    assert f"iphone-extract folder {files_read('iphone-extract')} 0 0 0" in sources
    assert "spare-card nothing was found in it 0 0 0 0" in sources

    pictures = _section(html, "pictures")
    with open(out / "pictures.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7  # the demo's six and the truncated copy
    for row in rows:
        assert row["file"] in pictures
    bad = next(r for r in rows if r["file"].endswith("truncated.jpg"))
    assert bad["status"] == "unreadable" and bad["why"]
    assert f"unreadable: {bad['why']}" in pictures
    hashed = [r for r in rows if r["status"] == "hashed"]
    assert len(hashed) == 6 and all(len(r["sha256"]) == 64 for r in hashed)
    assert all(r["sha256"] in pictures for r in hashed)

    missing = _section(html, "not-examined")
    assert "1 of 7 pictures could not be read and were not compared with the exhibits" in missing
    assert "Nothing was found in the source spare-card." in missing
    assert "Only the sources named in the case file were examined" in missing
