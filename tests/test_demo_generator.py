from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import DEMO


def test_generator_reproduces_committed_demo_byte_for_byte(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("demo_generate", DEMO / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert generated, "the generator wrote nothing"
    for rel in generated:
        assert (DEMO / rel).read_bytes() == (tmp_path / rel).read_bytes(), (
            f"{rel} is stale: run python fixtures/demo/generate.py"
        )
