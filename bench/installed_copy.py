"""The sources as an installed copy has them, for benchmarks that time ``triage`` in a child.

``pip install`` compiles what it installs to bytecode, and the tools we are compared with run from
their compiled site-packages copies. Where ``PYTHONDONTWRITEBYTECODE`` is set (as on the shared
machines these benchmarks run on), a checkout is instead compiled from source at every start: for
``triage parse`` about 0.1-0.15 s of CPU time, for ``triage run`` (which imports the analysers,
the report and more parsers) more, none of which a user pays.
"""

from __future__ import annotations

import compileall
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("triage", "parsers", "profiles")


def compiled_copy(tmp: Path) -> Path:
    """A copy of the project's packages under ``tmp/code`` with their bytecode compiled; put it
    first on ``PYTHONPATH`` to run it."""
    code = tmp / "code"
    shutil.rmtree(code, ignore_errors=True)
    for name in PACKAGES:
        shutil.copytree(ROOT / name, code / name, ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(code, quiet=1)
    return code
