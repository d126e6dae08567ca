"""The wheel installs parsers and profiles inside the ``triage`` package, never as top-level names.

Builds the wheel from this checkout (as CI installs it, from the configured package index), then runs the
installed copy from outside the checkout to show that parsers and shipped profiles are found there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(out), str(ROOT)],
        check=True, cwd=build, capture_output=True,
    )  # fmt: skip
    (found,) = out.glob("triage-*.whl")
    return found


def test_wheel_claims_only_the_triage_name(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"triage"}
    assert "triage/parsers/whatsapp_txt.py" in names
    assert "triage/profiles/matching.yaml" in names


def test_every_source_folder_is_packaged(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, target in (("parsers", "triage/parsers"), ("profiles", "triage/profiles"),
                           ("triage", "triage")):  # fmt: skip
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".yaml", ".j2", ".css", ".js"}:
                rel = path.relative_to(ROOT / folder).as_posix()
                assert f"{target}/{rel}" in names, f"{folder}/{rel} is not in the wheel"


def test_installed_copy_finds_parsers_and_profiles(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    probe = (
        "import triage, triage.registry as r, triage.shipped as s;"
        "print(triage.__file__); print(len(r.all_parsers()));"
        "print(sorted(p.name for p in s.profiles_dir('duty').glob('*.yaml'))[:1])"
    )
    # -I: isolated, so neither the checkout nor an editable install can answer for the wheel.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {probe}"],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    file, count, duty = run.stdout.splitlines()
    assert file.startswith(str(site))
    from triage.registry import all_parsers

    assert int(count) == len(all_parsers())  # every parser, found inside the installed package
    assert duty != "[]"
