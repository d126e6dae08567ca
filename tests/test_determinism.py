"""Same inputs, same outputs: whatever the machine's timezone, and into a fresh or a reused folder.

Three real runs of the demo case in separate processes: under ``TZ=UTC`` into a fresh folder,
under ``TZ=America/New_York`` into that same folder again (the picture-hash cache is then used),
and under ``TZ=America/New_York`` into a fresh folder. The case store, findings, CSVs and every
report page are byte-identical; only the manifest may differ (run times, cache use).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(case: Path, out: Path, tz: str) -> None:
    env = {**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "from triage.cli import main; main()", "run", str(case), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _outputs(out: Path) -> dict[str, str]:
    """SHA-256 of every output except the manifest."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_outputs_identical_across_timezones_and_reused_folders(
    demo_case: Path, tmp_path: Path
) -> None:
    reused, fresh = tmp_path / "reused", tmp_path / "fresh"
    _run(demo_case, reused, "UTC")
    first = _outputs(reused)
    _run(demo_case, reused, "America/New_York")
    second = _outputs(reused)
    _run(demo_case, fresh, "America/New_York")
    third = _outputs(fresh)
    assert {"case.sqlite", "findings.json", "messages.csv", "coverage.html"} <= set(first)
    assert first == second == third
    # The cache was used on the second run, and that is said in the manifest only.
    manifest = json.loads((reused / "manifest.json").read_text())
    assert manifest["media_cache"]["from_cache"] > 0 and manifest["media_cache"]["decoded"] == 0
