"""Shared test helpers: the demo case copied somewhere disposable, and a CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# CI must give the same verdict on the same code: property and fuzz tests draw the same examples
# every run. HYPOTHESIS_PROFILE=explore draws fresh ones (the on-demand fuzz run in the README).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture
def demo_case(tmp_path: Path) -> Path:
    """A private copy of the demo case folder; returns its case.yaml."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    return target / "case.yaml"


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo case run end to end once per test module (real parsers, analysers, report);
    returns the output folder. For tests that only read the report."""
    from triage.casefile import load_case
    from triage.run import run_case

    target = tmp_path_factory.mktemp("demo-run") / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    run_case(load_case(target / "case.yaml"), target.parent / "out")
    return target.parent / "out"
