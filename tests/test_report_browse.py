"""Reading the report as the investigator does, in a real headless Chromium (tests/browser.py):
on a phone-width screen, printed to PDF as an exhibit, from a headline number to the messages
behind it, and searching the whole case. One demo run serves every test of this module.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_path
from tests.conftest import DEMO
from triage.casefile import load_case
from triage.roster import OUTSIDE_DUTY
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


def _expected_ids(view: str, findings: list[dict]) -> tuple[set[int], set[int]]:
    """(message ids, call ids) a view must show, read from findings.json by the view's kind."""
    by = {(f["rule"], f["subject"]): f for f in findings}
    kind, _, contact = view.partition("-contact-")
    contact = f"contact-{contact}" if contact else ""
    if kind in ("outside", "outside-sent", "night"):
        field = {
            "outside": "outside_duty_ids",
            "outside-sent": "outgoing_outside_duty_ids",
            "night": "night_ids",
        }[kind]
        return set(by[("duty.contact-split", contact)]["data"][field]), set()
    if kind in ("calls", "calls-outside", "calls-night"):
        refs = by[("duty.contact-split", contact)]["data"]["calls"]["refs"]
        keep = {
            "calls": lambda r: True,
            "calls-outside": lambda r: r["status"] in OUTSIDE_DUTY,
            "calls-night": lambda r: r["night"] is True,
        }[kind]
        return set(), {r["call_id"] for r in refs if keep(r)}
    if kind == "after-closure":
        return {r["message_id"] for r in by[("contact.after-closure", contact)]["refs"]}, set()
    if view == "exhibit-messages":
        return {
            m["message_id"]
            for f in findings
            if f["rule"] == "exhibit.match"
            for m in f["data"]["messages"]
        }, set()
    if view == "deleted":
        return {
            i for f in findings if f["rule"] == "gap.marker" for i in f["data"]["message_ids"]
        }, set()
    raise AssertionError(f"unexpected view {view}")


def test_headline_numbers_open_exactly_their_messages(browser: Browser, report: Path) -> None:
    """Every number linked on the first screen opens a view listing exactly the messages (or
    calls) its finding names; from there a message opens in its conversation, marked."""
    findings = json.loads((report / "findings.json").read_text())["findings"]
    load(browser, (report / "index.html").as_uri())
    links = browser.evaluate(
        "[...document.querySelectorAll('ul.headlines a.count, table.contacts a.count')]"
        ".map(a => [a.closest('li, tr').dataset.rule || 'table', a.textContent, a.href])"
    )
    to_views = {href for _, _, href in links if "/views/" in href}
    # The demo's headline numbers: 31 of 50 off duty, 5 after closure, the exhibit messages.
    texts = {(rule, text) for rule, text, _ in links}
    assert {("duty.contact-split", "31"), ("contact.after-closure", "5 messages")} <= texts
    # Female A's calls: all 12, the 7 outside rostered duty, the 9 at night (not her 29 messages).
    assert {
        ("duty.contact-split", t) for t in ("12 calls", "7 of the calls", "9 at night")
    } <= texts
    assert ("duty.contact-split", "29 at night") in texts
    assert ("gap.id", "5 gaps") in texts
    assert any(rule == "exhibit.match" and "sent to" in text for rule, text, _ in links)
    assert len(to_views) >= 6
    for href in sorted(to_views):
        load(browser, href)
        name = href.rsplit("/", 1)[1].removesuffix(".html")
        shown = browser.evaluate(
            "[...document.querySelectorAll('.view-list li.msg')].map(li => li.id)"
        )
        messages = {int(i[1:]) for i in shown if i.startswith("m")}
        calls = {int(i[1:]) for i in shown if i.startswith("c")}
        assert (messages, calls) == _expected_ids(name, findings), name
        assert len(shown) == len(messages) + len(calls)
    # The 31 messages outside duty with Female A, then one of them in its conversation.
    outside = next(f for f in findings if f["rule"] == "duty.contact-split")
    assert len(outside["data"]["outside_duty_ids"]) == outside["data"]["outside_duty"] == 31
    # The messages that sent an exhibit say which exhibit, and arrive marked in the chat.
    load(browser, (report / "views" / "exhibit-messages.html").as_uri())
    badges = browser.evaluate(
        "[...document.querySelectorAll('li.msg')].map(li =>"
        " [li.id, [...li.querySelectorAll('a.badge.exhibit')].map(a => a.textContent)])"
    )
    carried = {
        f"m{m['message_id']}": f["data"]["exhibit_id"]
        for f in findings
        if f["rule"] == "exhibit.match"
        for m in f["data"]["messages"]
    }
    for li_id, texts_shown in badges:
        assert f"carried exhibit {carried[li_id]}" in texts_shown
    first = badges[0][0]
    browser.click(f"#{first} a.small")
    browser.wait_for("Page.frameNavigated", 10)
    browser.drain(0.3)
    assert browser.evaluate("location.pathname").count("/conversations/") == 1
    assert browser.evaluate("[...document.querySelectorAll('li.arrived')].map(e => e.id)") == [
        first
    ]
    assert browser.evaluate(f"document.querySelector('#{first}').matches(':target')")
    assert "carried exhibit" in browser.evaluate(f"document.querySelector('#{first}').innerText")
    assert browser.problems() == []


def _print_to_pdf(page: Path, pdf: Path) -> list[str]:
    """The page printed by headless Chromium's own ``--print-to-pdf`` (the browser's header and
    footer off: the report's are its own), as the text of each PDF page."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a test dependency (pip install .[test])")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                chromium_path(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
        )
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    return [p.extract_text() for p in pypdf.PdfReader(pdf).pages]


def test_printed_contact_page_is_an_exhibit(report: Path, tmp_path: Path) -> None:
    """Printed, a contact's messages keep their number, their time with its zone and the source
    record under each; every sheet has the case reference, production date, examiner and
    "Page N of M" (from the case file's case.produced and case.examiner)."""
    ARTIFACTS.mkdir(exist_ok=True)
    pages = _print_to_pdf(report / "contacts" / "contact-1.html", ARTIFACTS / "contact-1.pdf")
    assert len(pages) > 2
    for n, text in enumerate(pages, 1):
        assert "Case DEMO/PSD/2026/0042" in text, n
        assert f"Page {n} of {len(pages)}" in text, n
        assert "Produced 4 May 2026, by DC 4410 Sam Okafor, Digital Forensics Unit" in text, n
    whole = "".join(pages).replace("\n", "")
    assert 'Open "provenance"' not in whole and "Under each message" in whole
    findings = json.loads((report / "findings.json").read_text())["findings"]
    summary = next(
        f for f in findings if f["rule"] == "contact.summary" and f["subject"] == "contact-1"
    )
    assert len(summary["refs"]) == 50
    for ref in summary["refs"]:
        assert f"No. {ref['message_id']} " in whole, ref
        assert f"record: {ref['locator']}" in whole, ref
    # Printed times carry their zone (GMT before the spring change, BST after).
    assert re.search(r"No\. \d+ \d{1,2} \w{3} 2026 \d\d:\d\d GMT", whole)
    assert re.search(r"No\. \d+ \d{1,2} \w{3} 2026 \d\d:\d\d BST", whole)
    # The SHA-256 of the source under the messages (a line break may fall inside it).
    assert summary["refs"][0]["sha256"] in whole


def _search(browser: Browser, report: Path, fragment: str) -> list[int]:
    """Open the search page with a search in its address and wait for the whole count."""
    browser.open("about:blank")  # a new hash on the same page would load nothing
    load(browser, (report / "search.html").as_uri() + "#" + fragment)
    for _ in range(200):
        done = browser.evaluate("document.documentElement.getAttribute('data-search-done')")
        if done is not None:
            break
        browser.drain(0.05)
    assert done is not None, fragment
    while browser.evaluate("!document.getElementById('more').hidden"):
        browser.click("#more")
    shown = browser.evaluate(
        "[...document.querySelectorAll('#results li')].map(li => +li.dataset.message)"
    )
    assert len(shown) == int(done), fragment
    assert browser.problems() == [], fragment
    return shown


def test_search_and_filters_across_the_case(browser: Browser, report: Path) -> None:
    """The search page finds what messages.csv holds for the same question (text, contact,
    duty status, platform, dates, deleted), the recovered rows the gap findings list, and opens
    a result in its conversation, marked."""
    rows = list(csv.DictReader((report / "messages.csv").open(encoding="utf-8-sig")))
    findings = json.loads((report / "findings.json").read_text())["findings"]
    recovered = {
        r["message_id"] for f in findings if f["rule"] == "gap.id" for r in f["data"]["recovered"]
    }
    assert recovered

    def expect(keep) -> set[int]:
        return {int(r["message_id"]) for r in rows if keep(r)}

    found = _search(browser, report, "q=YOU&contact=0&duty=outside")
    assert set(found) - recovered == expect(
        lambda r: (
            "you" in r["body"].lower()
            and r["case_contact_key"] == "contact-1"
            and r["duty_status"] in OUTSIDE_DUTY
        )
    )
    assert len(found) > 5
    # Two words: both must appear.
    assert set(_search(browser, report, "q=you%20ok")) - recovered == expect(
        lambda r: "you" in r["body"].lower() and "ok" in r["body"].lower()
    )
    # Platform and a date range in the case timezone (both ends included).
    load(browser, (report / "search.html").as_uri())
    platforms = browser.evaluate(
        "[...document.querySelector('select[name=platform]').options].map(o => o.textContent)"
    )
    whatsapp = platforms.index("whatsapp") - 1  # after "any"
    dated = _search(browser, report, f"platform={whatsapp}&from=2026-03-29&to=2026-04-13")
    assert set(dated) - recovered == expect(
        lambda r: (
            r["platform"] == "whatsapp"
            and "2026-03-29" <= r["timestamp_local"][:10] <= "2026-04-13"
        )
    )
    assert dated
    assert set(_search(browser, report, "deleted=1")) == expect(lambda r: r["deleted"] == "1")
    assert set(_search(browser, report, "recovered=1")) == recovered
    # Evidence text is shown as text: the bodies on the page equal the CSV's.
    first = _search(browser, report, "q=you&contact=0&duty=outside")[0]
    text = browser.evaluate("document.querySelector('#results li .text').textContent")
    assert text == next(r["body"] for r in rows if int(r["message_id"]) == first)
    browser.click("#results li a")
    browser.wait_for("Page.frameNavigated", 10)
    browser.drain(0.3)
    assert browser.evaluate("[...document.querySelectorAll('li.arrived')].map(e => e.id)") == [
        f"m{first}"
    ]
