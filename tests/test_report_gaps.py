"""Gaps in the report: one rule, one wording and one unit on every page, from the findings."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.test_report_naming import _page_of
from triage.report.gap_text import LABEL


def _findings(out: Path, rule: str) -> list[dict]:
    data = json.loads((out / "findings.json").read_text())["findings"]
    return [f for f in data if f["rule"] == rule]


def test_a_gap_reads_the_same_on_the_gaps_page_and_where_it_is_drawn(demo_run: Path) -> None:
    gaps_page = (demo_run / "gaps.html").read_text("utf-8")
    assert "unattributed" not in gaps_page and "Deletion gap:" not in gaps_page
    gaps = _findings(demo_run, "gap.id")
    drawn: dict[int, list[str]] = {}
    for page in sorted((demo_run / "conversations").glob("*.html")):
        for gid in re.findall(r'<li class="gap" id="gap-(\d+)">', page.read_text("utf-8")):
            drawn.setdefault(int(gid), []).append(page.name)
    for g in gaps:
        row = gaps_page[gaps_page.index(f'<tr id="gap-{g["id"]}">') :]
        row = row[: row.index("</tr>")]
        # Drawn once, in the conversation the finding places it in, in the same words.
        assert len(drawn[g["id"]]) == 1, g["id"]
        html = (demo_run / "conversations" / drawn[g["id"]][0]).read_text("utf-8")
        assert drawn[g["id"]][0] == _page_name(demo_run, g["subject"])
        item = html[html.index(f'<li class="gap" id="gap-{g["id"]}">') :]
        item = item[: item.index("</li>")]
        assert f"{LABEL}: At least 1 record missing (record {g['data']['missing_from']} in" in item
        assert f"record {g['data']['missing_from']} in" in row
    # Female B's chat borders two of Female A's gaps but holds none of them.
    female_b = _page_of(demo_run, "whatsapp:447700900456@s.whatsapp.net")
    assert '<li class="gap"' not in female_b


def _page_name(out: Path, key: str) -> str:
    from triage.report.writer import page_name, slug

    return page_name(slug(key), 1)


def test_deletion_trace_links_to_its_gap_and_back(demo_run: Path) -> None:
    gaps_page = (demo_run / "gaps.html").read_text("utf-8")
    gap22 = next(g for g in _findings(demo_run, "gap.id") if g["data"]["missing_from"] == 22)
    traces = _findings(demo_run, "gap.trace")
    assert traces
    for t in traces:
        row = gaps_page[gaps_page.index(f'<tr id="trace-{t["id"]}">') :]
        row = row[: row.index("</tr>")]
        assert f'<a href="#gap-{gap22["id"]}">record 22 in the WhatsApp message table</a>' in row
        gap_row = gaps_page[gaps_page.index(f'<tr id="gap-{gap22["id"]}">') :]
        assert f'href="#trace-{t["id"]}"' in gap_row[: gap_row.index("</tr>")]


def test_rates_in_one_unit_and_elsewhere_leaves_the_contact_out(demo_run: Path) -> None:
    gaps_page = (demo_run / "gaps.html").read_text("utf-8")
    assert "None" not in gaps_page
    rates = _findings(demo_run, "gap.contact-rate")
    for f in rates:
        d = f["data"]
        if d["per_100"] is not None:
            assert f"{d['per_100']:.1f} per 100 messages" in gaps_page
        assert f"{d['elsewhere_per_100']:.1f} per 100 messages" in gaps_page
    assert "no rate (no message with record numbers)" in gaps_page
    # Units agree between pages: the contact page says the analyser's sentence, per 100.
    contact = (demo_run / "contacts" / "contact-1.html").read_text("utf-8")
    assert "10.0 per 100 messages" in contact
    assert not re.search(r"\b0\.\d{4}\b", re.sub(r"<[^>]+>", "", contact))
    index = (demo_run / "index.html").read_text("utf-8")
    text = re.sub(r"<[^>]+>", "", index)  # the headline's numbers are links
    assert "5 gaps in the record numbers of message databases, 5 in conversations with" in text
    assert '<a class="count" href="gaps.html">5 gaps</a>' in index


def test_chronology_links_each_gap_to_its_row(demo_run: Path) -> None:
    gaps_page = (demo_run / "gaps.html").read_text("utf-8")
    chronology = (demo_run / "chronology" / "contact-1.html").read_text("utf-8")
    linked = re.findall(r'href="\.\./gaps\.html#gap-(\d+)"', chronology)
    assert linked
    for gid in linked:
        assert f'<tr id="gap-{gid}">' in gaps_page
