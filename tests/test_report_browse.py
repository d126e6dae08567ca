"""Reading the report as the investigator does, in a real headless Chromium (tests/browser.py):
on a phone-width screen, printed to PDF as an exhibit, from a headline number to the messages
behind it, and searching the whole case. One demo run serves every test of this module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_path
from tests.conftest import DEMO
from triage.casefile import load_case
from triage.run import run_case

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
PHONE = 390

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="chromium is not installed (apt-get install chromium); .ci/run installs it",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo case run end to end once for this module (real parsers, analysers, report)."""
    folder = tmp_path_factory.mktemp("browse")
    shutil.copytree(DEMO, folder / "demo", ignore=shutil.ignore_patterns("generate.py"))
    out = folder / "out"
    run_case(load_case(folder / "demo" / "case.yaml"), out)
    return out


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


def load(browser: Browser, url: str) -> None:
    browser.events.clear()
    browser.open(url)
    browser.drain(0.1)
    assert browser.problems() == [], url
    assert [u for u in browser.requests() if not u.startswith("file://")] == [], url


def test_every_page_fits_a_phone_screen(browser: Browser, report: Path) -> None:
    """At 390 px (a phone, with mobile viewport rules) no page is wider than the screen:
    tables become one block per row with each cell labelled, charts and pictures shrink."""
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=PHONE,
        height=844,
        deviceScaleFactor=1,
        mobile=True,
    )
    try:
        wide = {}
        pages = sorted(report.rglob("*.html"))
        assert {"index.html", "exhibits.html", "method.html"} <= {p.name for p in pages}
        for page in pages:
            load(browser, page.as_uri())
            width = browser.evaluate("document.documentElement.scrollWidth")
            if width > PHONE or browser.evaluate("innerWidth") != PHONE:
                wide[page.relative_to(report).as_posix()] = width
        assert wide == {}
        load(browser, (report / "index.html").as_uri())
        # The contacts table reflowed: each cell says which column it is.
        labels = browser.evaluate(
            "[...document.querySelectorAll('table.contacts tbody tr:first-child td')]"
            ".map(td => getComputedStyle(td, '::before').content)"
        )
        assert labels[0] == '"Contact: "' and len(labels) >= 5
        assert (
            browser.evaluate(
                "getComputedStyle(document.querySelector('table.contacts td')).display"
            )
            == "block"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "report-index-phone.png", full_page=True)
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")
