"""What a run imports: scipy (most of the media step's import time) only when there is a picture
or an exhibit to hash, so a case of message databases alone does not wait for it at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

_PROBE = """
import sys
from pathlib import Path
from triage.casefile import load_case
from triage.run import run_case
import triage.cli  # noqa: F401 - what `triage run` imports before the run
run_case(load_case(Path(sys.argv[1])), Path(sys.argv[2]))
print("scipy" in sys.modules, "triage.media.stage" in sys.modules)
"""


def _imports_after_run(case: Path, out: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(case), str(out)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout.split()


def test_a_case_without_pictures_or_exhibits_never_imports_scipy(tmp_path: Path) -> None:
    db = ROOT / "fixtures/whatsapp_db/android_current/data/data/com.whatsapp/databases/msgstore.db"
    case = tmp_path / "case.yaml"
    case.write_text(
        "case:\n  reference: T/1\n  timezone: Europe/London\n  region: GB\n"
        'subject:\n  name: PC Test\n  identifiers:\n    - phone: "+44 7700 999999"\n'
        f"sources:\n  - path: {db}\n    label: phone\n",
        "utf-8",
    )
    # The media step ran (it is imported and found nothing to hash), without scipy.
    assert _imports_after_run(case, tmp_path / "out") == ["False", "True"]


def test_the_demo_with_its_exhibits_does_import_it(demo_case: Path, tmp_path: Path) -> None:
    assert _imports_after_run(demo_case, tmp_path / "out") == ["True", "True"]


_AT_INDEX = """
import sys
from pathlib import Path
from triage.casefile import load_case
from triage.store import Store
import triage.run
import triage.cli  # noqa: F401 - what `triage run` imports before the run
index = Store.index
seen = []
def indexing(store):
    seen.append("numpy" in sys.modules)
    index(store)
Store.index = indexing
triage.run.run_case(load_case(Path(sys.argv[1])), Path(sys.argv[2]))
print(seen[0], "numpy" in sys.modules)
"""


def test_the_picture_libraries_are_imported_once_the_sources_are_read(
    demo_case: Path, tmp_path: Path
) -> None:
    # numpy (with Pillow and imagehash) is imported while the store's indexes are built, after
    # detection and reading, not at start-up: the demo's exhibits are hashed with it after.
    done = subprocess.run(
        [sys.executable, "-c", _AT_INDEX, str(demo_case), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout.split() == ["False", "True"]
