"""A page of messages states once what its messages share (triage/report/chat.py ``Legend``): each
message's provenance names its source (S1...) and addressing (A1...) in the page's legend, and
together they still trace every message to its file, SHA-256, parser and record, and to whom it
was addressed as the source recorded it."""

from __future__ import annotations

import html
import re
from pathlib import Path

from triage.report import plain
from triage.report.writer import page_name, slug
from triage.store import Store

_BUBBLE = re.compile(r'<li class="msg [^"]*" id="m(\d+)">(.*?)</li>\n', re.S)
_LEGEND = re.compile(
    r'<details class="prov"><summary>provenance of the messages on this page</summary>'
    r'<dl class="legend">(.*?)</dl></details>',
    re.S,
)


def _legend(page: str) -> dict[str, str]:
    """dt text -> dd text of the page's legend, unescaped, tags dropped."""
    found = _LEGEND.findall(page)
    assert len(found) == 1, "one legend per page"
    out: dict[str, str] = {}
    for dt_attrs, dt_text, dd in re.findall(
        r"<dt( id=\"[^\"]+\")?>([^<]*)</dt><dd[^>]*>(.*?)</dd>", found[0]
    ):
        text = html.unescape(re.sub(r"<[^>]+>", "", dd))
        # A source whose records come in several shapes has a "records" line for each.
        out[dt_text] = f"{out[dt_text]}\n{text}" if dt_text in out else text
        if dt_attrs:
            assert dt_attrs == f' id="{"src" if dt_text[0] == "S" else "addr"}-{dt_text[1:]}"'
    return out


def _field(bubble: str, name: str) -> str:
    match = re.search(rf"<dt>{name}</dt><dd[^>]*>(.*?)</dd>", bubble)
    assert match, name
    return html.unescape(re.sub(r"<[^>]+>", "", match[1]))


def test_every_message_traces_to_file_sha256_parser_and_record(demo_run: Path) -> None:
    store = Store.open(demo_run / "case.sqlite")
    try:
        pages = [
            demo_run / "conversations" / page_name(slug(c["key"]), 1)
            for c in store.conversation_summaries()
            if c["messages"]
        ]
        pages += sorted((demo_run / "contacts").glob("*.html"))
        pages += sorted((demo_run / "views").glob("*.html"))
        pages += sorted((demo_run / "groups").glob("*.html"))
        assert pages[-1].parent.name == "groups"
        checked = 0
        for path in pages:
            page = path.read_text("utf-8")
            bubbles = _BUBBLE.findall(page)
            if not bubbles:
                continue
            legend = _legend(page)
            messages = {m.id: m for m in store.page_messages_by_ids(int(i) for i, _ in bubbles)}
            for ident, bubble in bubbles:
                m = messages[int(ident)]
                file, sha256, parser = m.file
                source = _field(bubble, "source")
                assert legend[source] == file, path
                assert legend[f"{source} SHA-256"] == sha256, path
                assert legend[f"{source} parser"] == parser, path
                assert _field(bubble, "record") == m.locator, path
                rule = plain.locator_rule(parser, m.locator)
                if rule:
                    assert rule in legend[f"{source} records"].split("\n"), path
                addressed = _field(bubble, "addressed")
                sender = m.sender.raw if m.sender else "not named"
                recipients = "; ".join(p.raw for p in m.recipients)
                assert legend[f"{addressed} as recorded"] == (
                    f"from {sender}" + (f" to {recipients}" if recipients else "")
                ), path
                assert legend[addressed].startswith("From "), path
                assert _field(bubble, "raw time") == m.timestamp_raw, path
                assert f'<span class="no">No. {ident}</span>' in bubble
                checked += 1
    finally:
        store.close()
    assert checked > 100


def test_a_page_lists_each_source_and_addressing_once(demo_run: Path) -> None:
    page = (demo_run / "contacts" / "contact-1.html").read_text("utf-8")
    legend = _legend(page)
    sources = [k for k in legend if re.fullmatch(r"S\d+", k)]
    addressing = [k for k in legend if re.fullmatch(r"A\d+", k)]
    # Numbered in order of first use, each file and each way of addressing once.
    assert sources == [f"S{n}" for n in range(1, len(sources) + 1)]
    assert addressing == [f"A{n}" for n in range(1, len(addressing) + 1)]
    assert len({legend[s] for s in sources}) == len(sources)
    assert len({(legend[a], legend[f"{a} as recorded"]) for a in addressing}) == len(addressing)
    # Used by the messages, and the bubbles no longer repeat what the legend says.
    for ref in [*sources, *addressing]:
        kind = "src" if ref[0] == "S" else "addr"
        assert f'<a href="#{kind}-{ref[1:]}">{ref}</a>' in page
    chat = page[page.index('<ol class="chat">') :]
    bubbles = [b for _, b in _BUBBLE.findall(chat)]
    assert bubbles and not any("SHA-256" in b or 'title="From' in b for b in bubbles)


def test_locator_rules_in_plain_words() -> None:
    assert plain.locator_rule("whatsapp_android", "message._id=11") == (
        "message._id=N is record N in the WhatsApp message table"
    )
    assert plain.locator_rule("whatsapp_txt", "line 457") == (
        "line N is line N of the WhatsApp file"
    )
    assert plain.locator_rule("messenger_dyi_json", "message_1.json messages[5]") == (
        "message_1.json messages[i] is entry i + 1 of the messages list in message_1.json"
    )
    assert plain.locator_rule("whatsapp_android", "message (recovered: WAL frame 3)") is None
