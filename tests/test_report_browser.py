"""The report in a real headless Chromium (driven over the DevTools protocol, tests/browser.py).

Checks what only a browser can: pages load from the file system with no console error, no CSP
violation and no request other than file:// ones; the headline numbers shown equal the findings
exported in findings.json; injected markup in evidence shows as text and never runs; a blurred
exhibit picture unblurs on a real click. Screenshots go to test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_path
from tests.test_report import XSS_BODY, XSS_NAME, write_sms_case
from triage.casefile import load_case
from triage.report.headlines import OUTSIDE_DUTY
from triage.run import run_case

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="chromium is not installed (apt-get install chromium); .ci/run installs it",
)


@pytest.fixture
def demo_report(demo_case: Path, tmp_path: Path) -> Path:
    """The demo case run end to end: real parsers, analysers and report."""
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    return out


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


def load(browser: Browser, page: Path) -> None:
    browser.events.clear()
    browser.open(page.as_uri())
    browser.drain(0.1)
    assert browser.problems() == [], page
    assert browser.dialogs() == [], page
    outside = [u for u in browser.requests() if not u.startswith("file://")]
    assert outside == [], page


def test_demo_report_loads_offline_and_headlines_match_findings(
    browser: Browser, demo_report: Path
) -> None:
    load(browser, demo_report / "index.html")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(ARTIFACTS / "report-index.png", full_page=True)
    shown = browser.evaluate(
        "[...document.querySelectorAll('ul.headlines li')].map(li => li.innerText)"
    )
    findings = json.loads((demo_report / "findings.json").read_text())["findings"]
    names = {f["subject"]: f["data"]["name"] for f in findings if f["rule"] == "contact.summary"}
    expected = [
        "Messages were found with "
        f"{sum(f['rule'] == 'contact.summary' for f in findings)} of 4 case contacts."
    ]
    for f in findings:
        if f["rule"] == "duty.contact-split":
            outside = sum(f["data"]["status_counts"][s] for s in OUTSIDE_DUTY)
            expected.append(
                f"{outside} of {f['data']['total']} messages with {names[f['subject']]} were sent"
                " or received outside rostered duty"
            )
    matches = [f for f in findings if f["rule"] == "exhibit.match"]
    noun = "exhibit match" if len(matches) == 1 else "exhibit matches"
    expected.append(f"{len(matches)} {noun}, sent to an unknown number")
    gaps = [f for f in findings if f["rule"] == "gap.id"]
    placed = sum(1 for f in gaps if f["data"]["contact_key"])
    expected.append(
        f"{len(gaps)} gaps in the record numbers of message databases, {placed} in "
        "conversations with case contacts"
    )
    for sentence in expected:
        assert any(sentence in line for line in shown), (sentence, shown)
    # The numbers are also on the page as data, for tools that check a report.
    carried = browser.evaluate(
        "[...document.querySelectorAll('ul.headlines li[data-rule=\"duty.contact-split\"]')]"
        ".map(li => JSON.parse(li.dataset.numbers))"
    )
    assert carried == [
        {
            "contact": f["subject"],
            "outside": sum(f["data"]["status_counts"][s] for s in OUTSIDE_DUTY),
            "total": f["data"]["total"],
            "sent": f["data"]["outgoing_total"],
            "sent_outside": f["data"]["outgoing_outside_duty"],
            **(
                {
                    "calls": f["data"]["calls"]["total"],
                    "calls_outside": f["data"]["calls"]["outside_duty"],
                }
                if "calls" in f["data"]
                else {}
            ),
        }
        for f in findings
        if f["rule"] == "duty.contact-split"
    ]
    # The contacts table agrees with the same findings.
    row = browser.evaluate("document.querySelector('#row-contact-1').innerText")
    total = next(
        f["data"]["total"]
        for f in findings
        if f["rule"] == "duty.contact-split" and f["subject"] == "contact-1"
    )
    assert re.search(rf"\b{total}\b", row)

    # The print stylesheet: navigation hidden, summary printable to PDF.
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        assert browser.evaluate(
            "getComputedStyle(document.querySelector('nav.pages')).display"
        ) == ("none")
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")
    pdf = browser.call("Page.printToPDF", printBackground=False)["data"]
    (ARTIFACTS / "report-index.pdf").write_bytes(base64.b64decode(pdf))
    assert (ARTIFACTS / "report-index.pdf").read_bytes().startswith(b"%PDF")

    for page in sorted(demo_report.rglob("*.html")):
        load(browser, page)

    load(browser, demo_report / "contacts" / "contact-1.html")
    browser.screenshot(ARTIFACTS / "report-contact-1.png", full_page=True)
    assert browser.evaluate("document.querySelectorAll('svg.chart').length") >= 3
    # Each gap is drawn once, in the conversation it is placed in (or, between conversations,
    # beside a neighbour): Female A's five, none twice.
    near_a = [
        f
        for f in gaps
        if f["data"]["contact_key"] == "contact-1"
        or (f["subject"] == "unattributed" and "contact-1" in f["data"]["adjacent_contacts"])
    ]
    assert browser.evaluate("document.querySelectorAll('li.gap').length") == len(near_a) == 5
    load(browser, demo_report / "contacts" / "contact-2.html")
    assert browser.evaluate("document.querySelectorAll('li.gap').length") == 0


def test_blurred_exhibit_unblurs_on_click(browser: Browser, demo_report: Path) -> None:
    load(browser, demo_report / "exhibits.html")
    figure = "#fig-1-copy"
    filter_of = f"getComputedStyle(document.querySelector('{figure} img')).filter"
    assert "blur" in browser.evaluate(filter_of)
    assert browser.evaluate(f"document.querySelector('{figure} img').naturalWidth") > 0
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(ARTIFACTS / "report-exhibits-blurred.png")
    # No link to the picture file while it is blurred: it cannot be opened unblurred in a click.
    link = f"document.querySelector('{figure} a.open-file')"
    assert browser.evaluate(f"{link}.hasAttribute('href')") is False
    assert browser.evaluate(f"{link}.hidden") is True
    browser.click(f"{figure} button.reveal")
    browser.drain(0.3)
    assert browser.evaluate(filter_of) == "none"
    assert browser.evaluate(f"{link}.getAttribute('href')").startswith("media/")
    assert browser.evaluate(f"{link}.hidden") is False
    assert browser.evaluate(f"document.querySelector('{figure} button.reveal').innerText") == (
        "Blur again"
    )
    browser.click(f"{figure} button.reveal")
    assert "blur" in browser.evaluate(filter_of)
    assert browser.evaluate(f"{link}.hasAttribute('href')") is False
    assert browser.problems() == []


def test_injected_markup_shows_as_text_and_never_runs(browser: Browser, tmp_path: Path) -> None:
    case_path = write_sms_case(
        tmp_path, [(1, "07700 900123", 1, XSS_BODY), (2, "07700 900123", 2, "ok")], XSS_NAME
    )
    out = tmp_path / "out"
    run_case(load_case(case_path), out)
    for page in sorted(out.rglob("*.html")):
        load(browser, page)
        # Only the report's own script files (and the search index's): none inline, none
        # injected by the evidence.
        assert browser.evaluate(
            "[...document.scripts].every(s => s.src &&"
            " /\\/(assets\\/[a-z]+|search\\/(index|part-\\d{4}))\\.js$/.test(s.src))"
        )
        assert browser.evaluate("document.querySelectorAll('script:not([src])').length") == 0
        assert browser.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    conversation = next((out / "conversations").glob("*.html"))
    load(browser, conversation)
    bodies = browser.evaluate("[...document.querySelectorAll('.body')].map(e => e.innerText)")
    assert XSS_BODY in bodies
    load(browser, out / "index.html")
    assert XSS_NAME in browser.evaluate("document.body.innerText")
    assert browser.dialogs() == []


def test_report_of_the_real_pipeline_loads_cleanly(
    browser: Browser, demo_case: Path, tmp_path: Path
) -> None:
    """Whatever the analysers produce today: every page loads cleanly, and the headline
    numbers shown are those of findings.json."""
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    for page in sorted(out.rglob("*.html")):
        load(browser, page)
    load(browser, out / "index.html")
    shown = browser.evaluate(
        "[...document.querySelectorAll('ul.headlines li')].map(li => li.innerText)"
    )
    findings = json.loads((out / "findings.json").read_text())["findings"]
    names = {f["subject"]: f["data"]["name"] for f in findings if f["rule"] == "contact.summary"}
    for f in findings:
        if f["rule"] == "duty.contact-split" and f["data"]["total"]:
            counts = f["data"]["status_counts"]
            if counts.get("unknown") == f["data"]["total"]:
                continue
            outside = f["data"].get("outside_duty")
            if outside is None:
                outside = sum(counts[s] for s in OUTSIDE_DUTY)
            sentence = f"{outside:,} of {f['data']['total']:,} messages with {names[f['subject']]}"
            assert any(line.startswith(sentence) for line in shown), (sentence, shown)
    if names:
        assert any(
            line.startswith(f"Messages were found with {len(names)} of 4 case contacts")
            for line in shown
        ), shown


def test_group_messages_filter_by_member(browser: Browser, demo_report: Path) -> None:
    """Team 4's page of messages by member (groups/gN.html): the control is hidden in the HTML
    (no script: every member's section is listed) and report.js shows it; choosing Hollis
    hides the other members' rows."""
    (page,) = [
        p
        for p in sorted((demo_report / "groups").glob("g*.html"))
        if ">PC 3307 Mark Hollis</option>" in p.read_text("utf-8")
    ]
    html = page.read_text("utf-8")
    assert re.search(r'<p class="member-filter" data-group="g\d+" hidden>', html)
    load(browser, page)
    team = (
        "[...document.querySelectorAll('select.member-filter')]"
        ".find(s => [...s.options].some(o => o.textContent === 'PC 3307 Mark Hollis'))"
    )
    assert browser.evaluate(f"!({team}).parentElement.hidden")

    def choose(value: str) -> list[str]:
        return browser.evaluate(
            f"(() => {{ const s = {team}; s.value = '{value}';"
            " s.dispatchEvent(new Event('change', {bubbles: true}));"
            " return [...document.querySelectorAll('section.member-rows')]"
            ".filter(x => x.dataset.group === s.dataset.group && !x.hidden)"
            ".map(x => x.dataset.member); })()"
        )

    assert choose("+447700900333") == ["+447700900333"]
    assert choose("") == ["subject", "+447700900333", "+447700900444"]
    assert browser.problems() == []
