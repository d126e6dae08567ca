"""Plain words and one number/date format on every page (report/formats.py, report/plain.py)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from triage.report import formats, plain


def visible(page: str) -> str:
    """What a lay reader sees: without provenance, hashes, paths and raw identifiers."""
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S)
    page = re.sub(r'<details class="prov">.*?</details>', "", page, flags=re.S)
    page = re.sub(
        r'<(span|td|dd|div)[^>]*class="[^"]*\b(mono|hash|path|recorded)\b[^"]*"[^>]*>.*?</\1>',
        "",
        page,
        flags=re.S,
    )
    page = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_formats_write_numbers_and_dates_one_way() -> None:
    assert formats.count(1, "message") == "1 message"
    assert formats.count(6483, "message") == "6,483 messages"
    assert formats.count(2, "match", "matches") == "2 matches"
    assert formats.number(6483) == "6,483" and formats.number("n/a") == "n/a"
    assert formats.date("2026-04-10") == "10 Apr 2026" == formats.date(dt.date(2026, 4, 10))
    local = dt.datetime(2026, 4, 10, 21, 45, tzinfo=dt.UTC).astimezone(ZoneInfo("Europe/London"))
    assert formats.moment(local) == "10 Apr 2026 22:45 BST"
    assert formats.day_heading(local) == "Friday 10 Apr 2026"
    assert formats.per_100(33.33) == "33.3 per 100 messages"
    assert formats.per_100(None).startswith("no rate")


def test_plain_words_for_records_and_matches() -> None:
    assert plain.locator("whatsapp_android", "message._id=11") == (
        "record 11 in the WhatsApp message table"
    )
    assert plain.records("android_mmssms", "sms", 15, 17) == (
        "records 15 to 17 in the Android SMS/MMS sms table"
    )
    assert plain.locator("whatsapp_txt", "line 457") == "line 457 of the WhatsApp file"
    assert plain.locator("messenger_dyi_json", "message_1.json messages[5]") == (
        "entry 6 of the messages list in message_1.json"
    )
    assert plain.match("sha256", "exact") == "the same picture (identical file)"
    assert plain.match("phash", "match") == "visually the same picture"
    assert plain.match("pdq", "review") == "similar picture, for review"
    words = {term for term, _ in plain.GLOSSARY}
    assert {"the same picture (identical file)", "visually the same picture"} <= words


def test_every_page_writes_dates_and_counts_one_way(demo_run: Path) -> None:
    pages = sorted(demo_run.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        text = visible(page.read_text("utf-8"))
        # No ISO dates or zero-padded weekday dates for the reader; no "1 messages".
        assert not re.search(r"(?<![\w/-])\d{4}-\d{2}-\d{2}(?![\w-])", text), page
        assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) 0\d [A-Z][a-z]{2}\b", text), page
        assert not re.search(
            r"\b1 (messages|days|calls|records|gaps|conversations|sources|attachments)\b", text
        ), page
        assert not re.search(r"\w\(s\)", text), page  # "2 members", never "2 member(s)"
    index = (demo_run / "index.html").read_text("utf-8")
    assert "after the case closed (10 Apr 2026)." in index
    status = next((demo_run / "conversations").glob("whatsapp-status-broadcast-*.html"))
    assert "whatsapp conversation: 1 message, " in visible(status.read_text("utf-8"))


def test_technical_detail_is_under_provenance_and_the_method_page_explains_words(
    demo_run: Path,
) -> None:
    exhibits = (demo_run / "exhibits.html").read_text("utf-8")
    shown = visible(exhibits)
    assert "visually the same picture" in shown and "phash" not in shown.split("Why")[0]
    gaps = visible((demo_run / "gaps.html").read_text("utf-8"))
    assert "record 11 in the WhatsApp message table" in gaps and "message._id" not in gaps
    method = (demo_run / "method.html").read_text("utf-8")
    assert '<h2 id="glossary">' in method
    for term, meaning in plain.GLOSSARY:
        assert f"<dt>{term}</dt><dd>{meaning}</dd>" in html.unescape(method)
