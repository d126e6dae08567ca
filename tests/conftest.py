"""Shared test helpers: the demo case copied somewhere disposable, and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

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
