"""Conversation titles, addressing and numbers in the report: one naming rule on every page
(triage/report/naming.py), from what the case store holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import DEMO
from triage.casefile import load_case
from triage.model import Conversation, Message, Party, Provenance
from triage.report.naming import STATUS_TITLE, Namer, found_text, phone_text
from triage.report.writer import page_name, slug
from triage.store import Store


@pytest.fixture
def demo_out(demo_run: Path) -> Path:
    return demo_run


def _page_of(out: Path, key: str) -> str:
    return (out / "conversations" / page_name(slug(key), 1)).read_text("utf-8")


def _visible(html: str) -> str:
    """The page without what is shown "as recorded": provenance, raw identifiers and keys."""
    html = re.sub(r'<details class="prov">.*?</details>', "", html, flags=re.S)
    return re.sub(r'<span class="[^"]*\b(recorded|mono)\b[^"]*"[^>]*>[^<]*</span>', "", html)


def test_group_is_titled_by_its_name_and_messages_go_to_the_group(demo_out: Path) -> None:
    store = Store.open(demo_out / "case.sqlite")
    groups = [c for c in store.conversation_summaries() if c["is_group"]]
    store.close()
    assert groups
    for conv in groups:
        html = _page_of(demo_out, conv["key"])
        assert f"<h1>{conv['title']}</h1>" in html
    shift = _page_of(demo_out, "whatsapp:120363000000000042@g.us")
    assert "PC 2291 Daniel Reeve to the group Shift B" in shift
    assert "to Sarge Patel" not in shift and "<h1>Sarge Patel</h1>" not in shift
    listing = (demo_out / "correspondents.html").read_text("utf-8")
    assert ">Shift B</a>" in listing and ">Team 4</a>" in listing


def test_status_updates_are_titled_as_such(demo_out: Path) -> None:
    html = _page_of(demo_out, "whatsapp:status@broadcast")
    assert f"<h1>{STATUS_TITLE}</h1>" in html and "<h1>Mum</h1>" not in html
    listing = (demo_out / "correspondents.html").read_text("utf-8")
    assert f">{STATUS_TITLE}</a>" in listing


def test_numbers_are_formatted_and_jids_only_under_provenance(demo_out: Path) -> None:
    pages = sorted(demo_out.rglob("*.html"))
    for page in pages:
        assert "@s.whatsapp.net" not in _visible(page.read_text("utf-8")), page
    unknown = _page_of(demo_out, "whatsapp:447700900999@s.whatsapp.net")
    assert "<h1>+44 7700 900999</h1>" in unknown
    assert "PC 2291 Daniel Reeve to +44 7700 900999" in unknown
    # What the source held stays readable under provenance.
    assert "to 447700900999@s.whatsapp.net</dd>" in unknown
    exhibits = (demo_out / "exhibits.html").read_text("utf-8")
    assert "an unknown number (+44 7700 900999)" in exhibits
    # The owner's own name in a Messenger thread is not part of its title.
    messenger = _page_of(demo_out, "messenger:dyi:inbox/jesstate_10157000000000123")
    assert "<h1>Female C (Jess Tate)</h1>" in messenger


def test_naming_rule_on_its_own() -> None:
    case = load_case(DEMO / "case.yaml")
    namer = Namer(case)
    assert phone_text("+447700900999") == "+44 7700 900999"
    assert phone_text("HSBC-UK") is None and phone_text("+44abc") is None
    assert found_text(None, "447700900999@s.whatsapp.net", "+447700900999", "phone") == (
        "+44 7700 900999"
    )
    assert found_text("Mum", "x", "+447700900777") == "Mum"
    assert found_text(None, "HSBC-UK", "HSBC-UK", "alphanumeric") == "HSBC-UK"
    jid = Party("447700900123@s.whatsapp.net", "+447700900123", "Katie DV job", "phone")
    assert namer.full(jid) == "Female A (Katie DV job)" and namer.short(jid) == "Female A"
    owner_by_name = Party("Dan Reeve", "dan reeve", "Dan Reeve", "name")
    assert namer.is_owner(owner_by_name)
    group = Conversation("whatsapp:1@g.us", "Shift B", True, [jid])
    source = Provenance("f", "0" * 64, "whatsapp_android", "message._id=1")
    sent = Message("whatsapp", group, None, "", False, "outgoing", owner_by_name, [jid], "hi",
                   "text", source)  # fmt: skip
    assert namer.addressed_to(sent, "Shift B") == "the group Shift B"
    summary = {"key": group.id, "title": "Shift B", "is_group": True, "participants": [jid],
               "messages": 3, "status_updates": 0}  # fmt: skip
    assert namer.conversation(summary) == "Shift B"
    status = {**summary, "title": None, "is_group": False, "status_updates": 3}
    assert namer.conversation(status) == STATUS_TITLE
