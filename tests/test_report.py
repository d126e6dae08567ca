"""The investigator's HTML report: pages, headline numbers, escaping, pagination, exports.

Analysers are developed alongside the report, so most tests run the demo case with the real
analysers switched off and write findings shaped exactly as docs/FINDINGS.md describes
(``contract_findings``); one test renders whatever the real analysers produce today.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sqlite3
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.test_run import SMS_SCHEMA
from triage.analysers import Settings
from triage.casefile import Case, load_case
from triage.report import svg, write_report
from triage.report.headlines import OUTSIDE_DUTY
from triage.report.writer import PAGE_SIZE, slug
from triage.run import run_case
from triage.store import Finding, Store

XSS_BODY = "<img src=x onerror=alert(1)>"
XSS_NAME = "Mx <script>alert(2)</script>"
CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
LONDON = ZoneInfo("Europe/London")


# -- building cases ------------------------------------------------------------------------------
def run_without_analysers(case_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    """Run a case with no analysers and no report, so a test controls every finding."""
    import triage.run as run_module

    monkeypatch.setattr(run_module, "analysers", lambda: [])
    case = load_case(case_path)
    run_case(case, out, report=False)
    return case


def open_rw(out: Path) -> Store:
    path = out / "case.sqlite"
    return Store(sqlite3.connect(path), path)


def render(out: Path, case: Case, analysers: dict[str, str] | None = None) -> Path:
    store = open_rw(out)
    try:
        return write_report(store, case, out, Settings({"analysers": analysers or {}}))
    finally:
        store.close()


def contract_findings(store: Store, case: Case, out: Path) -> None:
    """Findings and labels in the shape of docs/FINDINGS.md, worked out simply from the demo
    store: duty status here is a stand-in rule (weekdays 07-17 on duty), not the roster."""
    messages = list(store.messages())
    conversations = store.conversations()
    contact_of: dict[str, str] = {}
    for contact in case.contacts:
        ids = contact.match_ids()
        for key, conv in conversations.items():
            if any(p.id in ids for p in conv.participants):
                contact_of[key] = contact.key
    contact_labels, status_labels, night_labels = [], [], []
    per_contact: dict[str, list] = {c.key: [] for c in case.contacts}
    for s in messages:
        local = s.message.timestamp_utc.astimezone(LONDON)
        status = "on_duty" if local.weekday() < 5 and 7 <= local.hour < 17 else "off_duty"
        if local.weekday() >= 5:
            status = "rest_day"
        night = local.hour >= 22 or local.hour < 6
        status_labels.append((s.id, "status", status))
        night_labels.append((s.id, "night", night))
        key = contact_of.get(s.message.conversation.id)
        if key:
            contact_labels.append((s.id, "contact", key))
            per_contact[key].append((s, local, status, night))
    store.add_labels("contacts", contact_labels)
    store.add_labels("duty", status_labels + night_labels)

    findings: list[Finding] = []
    for contact in case.contacts:
        rows = per_contact[contact.key]
        if not rows:
            findings.append(
                Finding(
                    "contacts",
                    "contact.none-found",
                    f"No messages found with {contact.name}",
                    f"No messages with {contact.name} were found in the sources read.",
                    subject=contact.key,
                    data={"name": contact.name, "role": contact.role, "identifiers_searched": []},
                )
            )
            continue
        directions = [r[0].message.direction for r in rows]
        counts = {
            "outgoing": directions.count("outgoing"),
            "incoming": directions.count("incoming"),
            "other": len(directions) - directions.count("outgoing") - directions.count("incoming"),
        }
        findings.append(
            Finding(
                "contacts",
                "contact.summary",
                f"Messages with {contact.name}",
                f"{len(rows)} messages with {contact.name} were found.",
                subject=contact.key,
                refs=[r[0].id for r in rows],
                data={
                    "name": contact.name,
                    "role": contact.role,
                    "matched_identifiers": [
                        {"scheme": "phone", "id": i.party.id, "raw": i.value}
                        for i in contact.identifiers
                    ],
                    "platforms": sorted({r[0].message.platform for r in rows}),
                    "conversations": sorted({r[0].message.conversation.id for r in rows}),
                    "first_utc": "2026-03-02T10:15:00Z",
                    "last_utc": "2026-04-14T21:45:00Z",
                    "counts": counts,
                    "first_sender": "subject",
                    "longest_streak": {"days": 3, "start": "2026-03-11", "end": "2026-03-13"},
                    "key_dates": {},
                    "after_closure": 0,
                },
            )
        )
        status_counts = {s: 0 for s in ("on_duty", *OUTSIDE_DUTY, "training", "unknown")}
        heat = [[0] * 24 for _ in range(7)]
        sent = sent_outside = 0
        for s, local, status, _night in rows:
            status_counts[status] += 1
            heat[local.weekday()][local.hour] += 1
            if s.message.direction == "outgoing":
                sent += 1
                sent_outside += status in OUTSIDE_DUTY
        duty_heat = [[1.0 if d < 5 and 7 <= h < 17 else 0.0 for h in range(24)] for d in range(7)]
        findings.append(
            Finding(
                "duty",
                "duty.contact-split",
                f"Duty status of messages with {contact.name}",
                "Messages against the roster.",
                subject=contact.key,
                data={
                    "total": len(rows),
                    "outgoing_total": sent,
                    "outgoing_outside_duty": sent_outside,
                    "status_counts": status_counts,
                    "by_direction": {},
                    "night": sum(1 for r in rows if r[3]),
                    "zone_assumed": 0,
                    "heatmap": heat,
                    "duty_heatmap": duty_heat,
                },
            )
        )

    sms_file = next(s for s in messages if s.message.record_id == 14).message.source.file
    before = next(s for s in messages if s.message.record_id == 14 and s.message.platform == "sms")
    after = next(s for s in messages if s.message.record_id == 16 and s.message.platform == "sms")
    findings.append(
        Finding(
            "gaps",
            "gap.id",
            "Missing ids in sms",
            "At least 1 id is missing from sms._id.",
            subject=before.message.conversation.id,
            refs=[before.id, after.id],
            data={
                "file": sms_file,
                "format": "android_mmssms",
                "table": "sms",
                "id_column": "_id",
                "missing_from": 15,
                "missing_to": 15,
                "missing_min": 1,
                "window_start_utc": "2026-03-07T21:45:00Z",
                "window_end_utc": "2026-03-09T12:10:00Z",
                "before_message_id": before.id,
                "after_message_id": after.id,
                "strength": "possible",
                "position": "interior",
                "contact_key": contact_of.get(before.message.conversation.id),
            },
        )
    )

    mms = next(s for s in messages if s.message.platform == "mms" and s.message.attachments)
    attachment = mms.message.attachments[0]
    # The media analyser copies matched pictures into media/; do what it would.
    archive = case.sources[0].path
    member = attachment.path.split("!/", 1)[1]
    with zipfile.ZipFile(archive) as zf:
        data = zf.read(member)
    (out / "media").mkdir(exist_ok=True)
    (out / "media" / f"{attachment.sha256}.jpg").write_bytes(data)
    recipient = mms.message.recipients[0]
    findings.append(
        Finding(
            "media",
            "exhibit.match",
            "Copy of exhibit EX/KL/1",
            "A picture on the device is a near copy of exhibit EX/KL/1.",
            subject="EX/KL/1",
            refs=[mms.id],
            data={
                "exhibit_id": "EX/KL/1",
                "exhibit_description": case.exhibits[0].description,
                "file": attachment.path,
                "sha256": attachment.sha256,
                "method": "pdq",
                "distance": 12,
                "band": "match",
                "orientation": "identity",
                "exhibit_copy": None,
                "file_copy": f"media/{attachment.sha256}.jpg",
                "messages": [
                    {
                        "message_id": mms.id,
                        "platform": mms.message.platform,
                        "conversation": mms.message.conversation.id,
                        "direction": mms.message.direction,
                        "counterparty": {
                            "raw": recipient.raw,
                            "id": recipient.id,
                            "name": recipient.name,
                        },
                        "contact_key": None,
                        "duty_status": "off_duty",
                        "timestamp_utc": "2026-03-14T23:10:00Z",
                    }
                ],
            },
        )
    )
    store.add_findings(findings)


def make_demo_report(demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo case rendered with contract-shaped findings; returns the output folder."""
    out = tmp_path / "out"
    case = run_without_analysers(demo_case, out, monkeypatch)
    store = open_rw(out)
    contract_findings(store, case, out)
    store.close()
    render(out, case, {"contacts": "1", "duty": "1", "gaps": "1", "media": "1"})
    return out


@pytest.fixture
def demo_report(demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_demo_report(demo_case, tmp_path, monkeypatch)


def write_sms_case(folder: Path, rows: list[tuple[int, str, int, str]], name: str) -> Path:
    """A tiny AOSP mmssms.db (rows: id, address, type, body; one minute apart; one thread per
    address) and a case file naming ``name`` as the contact with number 07700 900123."""
    evidence = folder / "evidence"
    evidence.mkdir(parents=True)
    conn = sqlite3.connect(evidence / "mmssms.db")
    conn.executescript(SMS_SCHEMA)
    threads = {a: n for n, a in enumerate(dict.fromkeys(r[1] for r in rows), 1)}
    for address, n in threads.items():
        conn.execute("INSERT INTO canonical_addresses (_id, address) VALUES (?, ?)", (n, address))
        conn.execute("INSERT INTO threads (_id, recipient_ids) VALUES (?, ?)", (n, str(n)))
    start = 1773000000000
    conn.executemany(
        "INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (i, threads[address], address, start + i * 60000, kind, body)
            for i, address, kind, body in rows
        ],
    )
    conn.commit()
    conn.close()
    case = folder / "case.yaml"
    case.write_text(
        "case:\n  reference: 'TEST/<b>XSS</b>'\n"
        "contacts:\n"
        f"  - name: {json.dumps(name)}\n"
        "    role: victim\n"
        "    identifiers:\n"
        '      - phone: "07700 900123"\n'
        "sources:\n  - evidence\n",
        "utf-8",
    )
    return case


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


# -- tests ---------------------------------------------------------------------------------------
def test_demo_report_with_the_real_pipeline(demo_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_case(load_case(demo_case), out)
    assert result.report_path == out / "index.html"
    names = {p.relative_to(out).as_posix() for p in pages(out)}
    for required in (
        "index.html",
        "exhibits.html",
        "gaps.html",
        "correspondents.html",
        "coverage.html",
        "method.html",
        *(f"contacts/contact-{n}.html" for n in range(1, 5)),
    ):
        assert required in names
    assert (out / "assets" / "report.css").is_file() and (out / "assets" / "report.js").is_file()
    index = (out / "index.html").read_text("utf-8")
    assert "DEMO/PSD/2026/0042" in index and "PC 2291 Daniel Reeve" in index
    exported = json.loads((out / "findings.json").read_text())
    assert exported["case"]["case_reference"] == "DEMO/PSD/2026/0042"
    for f in exported["findings"]:
        if f["rule"] == "contact.none-found":
            page = (out / "contacts" / f"{f['subject']}.html").read_text("utf-8")
            assert f"No messages were found with {f['data']['name']} in the sources read" in page
            for ident in f["data"]["identifiers_searched"]:
                assert f"({ident['scheme']} {ident['id']})" in page
    store = Store.open(out / "case.sqlite")
    for source in store.sources():
        assert source["sha256"] in index
    store.close()


def test_every_page_is_offline_and_locked_down(demo_report: Path) -> None:
    for page in pages(demo_report):
        html = page.read_text("utf-8")
        assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html, page
        # No resource from anywhere but the report folder, and no inline script or handler.
        assert not re.search(r'(src|href)="(https?:|//)', html), page
        root = "../" * (len(page.relative_to(demo_report).parts) - 1)
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert f'<script src="{root}assets/report.js" defer>' in scripts, page
        for script in scripts:
            assert re.fullmatch(
                rf'<script src="{root}(assets/[a-z-]+|search/(index|part-\d{{4}}))\.js" defer>',
                script,
            ), page
        assert not re.search(r"\son[a-z]+=", html), page
        assert "@import" not in html and "url(" not in html
    for sheet in (demo_report / "assets").glob("*.css"):
        css = sheet.read_text()
        assert "url(" not in css and "@import" not in css and "@font-face" not in css, sheet


def test_headlines_are_built_from_the_findings(demo_report: Path) -> None:
    findings = json.loads((demo_report / "findings.json").read_text())["findings"]
    # The sentences as read: their numbers are links to filtered views (tests/test_report_browse).
    index = re.sub(r"</?a\b[^>]*>", "", (demo_report / "index.html").read_text("utf-8"))
    summaries = [f for f in findings if f["rule"] == "contact.summary"]
    assert f"Messages were found with {len(summaries)} of 4 case contacts." in index
    none = [f["data"]["name"] for f in findings if f["rule"] == "contact.none-found"]
    assert f"No messages were found with {', '.join(none)} in the sources read." in index
    names = {f["subject"]: f["data"]["name"] for f in summaries}
    for f in (f for f in findings if f["rule"] == "duty.contact-split"):
        outside = sum(f["data"]["status_counts"][s] for s in OUTSIDE_DUTY)
        name = names[f["subject"]]
        assert (
            f"{outside} of {f['data']['total']} messages with {name} were sent or received "
            "outside rostered duty"
        ) in index
        # The number investigators ask for: his own messages, beside the exchanged ones, on the
        # first screen (headline and contacts table) and on the contact page.
        sent, sent_outside = f["data"]["outgoing_total"], f["data"]["outgoing_outside_duty"]
        assert f", including {sent_outside} of the {sent} messages he sent" in index
        row = index[index.index(f'<tr id="row-{f["subject"]}">') :]
        row = row[: row.index("</tr>")]
        assert f"{outside} of {f['data']['total']}" in row
        assert f"{sent_outside} of the {sent} he sent" in row
        contact = (demo_report / "contacts" / f"{f['subject']}.html").read_text("utf-8")
        assert (
            f"{outside} of {f['data']['total']} messages sent or received outside rostered duty; "
            f"{sent_outside} of the {sent} messages he sent"
        ) in contact
    assert "1 exhibit match, sent to an unknown number (+44 7700 900999)." in index
    assert (
        "1 gap in the record numbers of message databases, 1 in conversations with case contacts."
        in index
    )


def test_contact_page_has_charts_gaps_duty_and_provenance(demo_report: Path) -> None:
    html = (demo_report / "contacts" / "contact-1.html").read_text("utf-8")
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') >= 3
    assert "Messages with Female A by weekday and hour" in html
    assert "rostered duty in at least half of the weeks" in html  # the duty overlay legend
    # The deletion gap sits between the two messages that bracket it.
    chat = html[html.index('<ol class="chat">') :]
    gap = chat.index(
        "Gap in the record numbers: At least 1 record missing (record 15 in the Android SMS/MMS "
        "sms table), in the conversation Female A (+44 7700 900123), between 7 Mar 2026 21:45 GMT"
    )
    assert chat.rindex('id="m', 0, gap) < gap < chat.index('id="m', gap)
    store = Store.open(demo_report / "case.sqlite")
    ids = sorted(k for k, v in store.labels("contacts", "contact").items() if v == "contact-1")
    first = store.messages_by_ids([ids[0]])[0].message
    store.close()
    assert first.source.sha256 in html and f'<dd class="mono">{first.source.locator}</dd>' in html
    assert '<span class="badge on_duty">on duty</span>' in html
    assert '<span class="badge off_duty">off duty</span>' in html
    # Times are in the case timezone: 10:15 UTC on 2 March is 10:15 GMT; BST after 29 March.
    assert "2 Mar 2026 10:15 GMT" in html and "BST" in html
    findings = json.loads((demo_report / "findings.json").read_text())["findings"]
    none = next(f for f in findings if f["rule"] == "contact.none-found")
    page = (demo_report / "contacts" / f"{none['subject']}.html").read_text("utf-8")
    assert (
        page.count(
            f"No messages were found with {none['data']['name']} in the sources read. "
            "This is not evidence"
        )
        == 1
    )


def test_exhibit_page_shows_both_pictures_blurred(demo_report: Path) -> None:
    html = (demo_report / "exhibits.html").read_text("utf-8")
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 2
    for src in images:
        assert src.startswith("media/") and (demo_report / src).is_file()
    assert html.count('<figure class="evidence blurred"') == 2
    assert "pdq" in html and "12" in html and "+44 7700 900999" in html
    assert re.search(r'href="conversations/sms-thread-\d+-[0-9a-f]{8}\.html#m\d+"', html) or (
        re.search(r'href="conversations/mms-[^"]+#m\d+"', html)
    )


def test_every_picture_on_every_page_stays_blurred_until_confirmed(demo_report: Path) -> None:
    """The media stage's copies (exhibits, matched pictures) may be intimate images: no page may
    link to one, and every one shown is inside a blurred figure with its reveal button."""
    shown = 0
    for page in pages(demo_report):
        html = page.read_text("utf-8")
        assert not re.search(r'href="[^"]*media/', html), page
        for figure in re.finditer(r"<figure\b[^>]*>.*?</figure>", html, re.S):
            for _ in re.finditer(r'<img src="[^"]*media/', figure.group(0)):
                shown += 1
                head = figure.group(0)[: figure.group(0).index(">") + 1]
                assert 'class="evidence blurred"' in head, page
                assert 'button type="button" class="reveal"' in figure.group(0), page
        outside = re.sub(r"<figure\b[^>]*>.*?</figure>", "", html, flags=re.S)
        assert not re.search(r"<img\b[^>]*media/", outside), page
    assert shown == 2


def test_missing_analyses_are_named_not_hidden(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    case = run_without_analysers(demo_case, out, monkeypatch)
    render(out, case)
    index = (out / "index.html").read_text("utf-8")
    assert "No contact analysis is in this run" in index
    assert "No headline findings were produced from the data read" in index
    assert "not analysed" in index
    contact = (out / "contacts" / "contact-1.html").read_text("utf-8")
    assert "No contact analysis result for Female A is in this run." in contact


def test_evidence_text_is_escaped(tmp_path: Path) -> None:
    case_path = write_sms_case(
        tmp_path, [(1, "07700 900123", 1, XSS_BODY), (2, "07700 900123", 2, "=1+2")], XSS_NAME
    )
    out = tmp_path / "out"
    run_case(load_case(case_path), out)
    for page in pages(out):
        html = page.read_text("utf-8")
        assert "<img src=x" not in html and "<script>alert" not in html and "<b>XSS" not in html
    conversation = next((out / "conversations").glob("*.html")).read_text("utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in conversation
    index = (out / "index.html").read_text("utf-8")
    assert "TEST/&lt;b&gt;XSS&lt;/b&gt;" in index
    with open(out / "messages.csv", encoding="utf-8") as handle:
        assert handle.read(1) == "\ufeff"
    with open(out / "messages.csv", encoding="utf-8-sig", newline="") as handle:
        bodies = [row["body"] for row in csv.DictReader(handle)]
    assert bodies == [XSS_BODY, "'=1+2"]


def test_bidi_controls_in_bodies_are_shown_and_escaped(tmp_path: Path) -> None:
    # A page's chat is written into it as it is unless it holds a bidi control: then each is
    # made visible, and the rest of the page (and its escaping) is unchanged.
    hostile = "paid \u202egpj.exe <b>now</b>"
    case_path = write_sms_case(
        tmp_path,
        [(1, "07700 900123", 1, hostile), (2, "07700 900123", 2, "plain & simple")],
        "Female A",
    )
    out = tmp_path / "out"
    run_case(load_case(case_path), out)
    for page in pages(out):
        html = page.read_text("utf-8")
        assert "\u202e" not in html and "<b>now" not in html
    conversation = next((out / "conversations").glob("*.html")).read_text("utf-8")
    assert "paid [RLO U+202E]gpj.exe &lt;b&gt;now&lt;/b&gt;" in conversation
    assert "plain &amp; simple" in conversation
    # One legend, as markup, where the template puts it: before the messages.
    legend = '<details class="prov"><summary>provenance of the messages on this page</summary>'
    assert conversation.count("provenance of the messages on this page") == 1
    assert conversation.index(legend) < conversation.index('<ol class="chat">')


def test_record_locators_and_raw_times_are_escaped(tmp_path: Path) -> None:
    # A bubble escapes a locator once per run of messages whose locators differ only in their
    # trailing record number, and a raw time only when it is not all digits: hostile text in
    # either place (which a parser copies from the source) must still come out escaped.
    rows = [(i, "07700 900123", 1, f"message {i}") for i in range(1, 5)]
    case_path = write_sms_case(tmp_path, rows, "Female A")
    out = tmp_path / "out"
    case = load_case(case_path)
    run_case(case, out, report=False)
    store = open_rw(out)
    try:
        with store.conn:
            store.conn.execute(
                "UPDATE messages SET locator = '<b>sms</b>._id=' || id,"
                " timestamp_raw = '<i>' || timestamp_raw || '</i>' WHERE id <= 2"
            )
    finally:
        store.close()
    render(out, case)
    html = next((out / "conversations").glob("*.html")).read_text("utf-8")
    assert "<b>sms" not in html and "<i>" not in html
    bubbles = re.findall(r'<li class="msg [^"]*" id="m(\d+)">(.*?)</li>', html)
    assert [int(mid) for mid, _ in bubbles] == [1, 2, 3, 4]
    for mid, bubble in bubbles:
        record = re.search(r'<dt>record</dt><dd class="mono">(.*?)</dd>', bubble)[1]
        raw = re.search(r'<dt>raw time</dt><dd class="mono">(.*?)</dd>', bubble)[1]
        if int(mid) <= 2:
            assert record == f"&lt;b&gt;sms&lt;/b&gt;._id={mid}"
            assert raw.startswith("&lt;i&gt;") and raw.endswith("&lt;/i&gt;")
        else:
            assert not record.startswith("&lt;") and record.endswith(f"={mid}")
            assert raw.isdigit()


def test_conversations_are_paginated(tmp_path: Path) -> None:
    # Exactly two full pages for the first thread, then a second thread: a full last page must
    # not swallow or leak messages across conversations.
    total = PAGE_SIZE * 2
    rows = [(i, "07700 900123", 1 + i % 2, f"message {i}") for i in range(1, total + 1)]
    rows += [(total + i, "07700 900777", 1, f"other {i}") for i in range(1, 4)]
    case_path = write_sms_case(tmp_path, rows, "Female A")
    out = tmp_path / "out"
    run_case(load_case(case_path), out)
    base = slug("sms:thread:1")
    conv_pages = sorted(
        (out / "conversations").glob(f"{base}*.html"), key=lambda p: (len(p.name), p.name)
    )
    assert [p.name for p in conv_pages] == [f"{base}.html", f"{base}-p2.html"]
    counts = [p.read_text("utf-8").count('<li class="msg ') for p in conv_pages]
    assert counts == [PAGE_SIZE, PAGE_SIZE]
    last = conv_pages[-1].read_text("utf-8")
    assert f"message {total}<" in last and f'href="{base}.html"' in last
    other = (out / "conversations" / f"{slug('sms:thread:2')}.html").read_text("utf-8")
    assert other.count('<li class="msg ') == 3 and "message " not in other
    contact_pages = sorted((out / "contacts").glob("contact-1*.html"))
    assert [p.name for p in contact_pages] == ["contact-1-p2.html", "contact-1.html"]
    # The first screen holds no messages, so it stays small whatever the phone holds.
    assert (out / "index.html").stat().st_size < 20_000
    assert "message 1<" not in (out / "index.html").read_text("utf-8")


def test_messages_csv_has_case_contact_and_duty_columns(demo_report: Path) -> None:
    with open(demo_report / "messages.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = rows[0]
    assert first["case_contact"] == "Female A" and first["case_contact_key"] == "contact-1"
    assert first["duty_status"] == "on_duty" and first["night"] == "0"
    assert first["timestamp_local"] == "2026-03-02T10:15:00+00:00"
    summer = next(r for r in rows if r["timestamp_utc"].startswith("2026-04-14"))
    assert summer["timestamp_local"].endswith("+01:00")
    # The Messenger download names its author by display name: the sender is what the source
    # says, with the owner's id from the case file (not his phone number as if the source said it).
    sent = [r for r in rows if r["platform"] == "messenger" and r["direction"] == "outgoing"]
    assert sent and {(r["sender"], r["sender_id"]) for r in sent} == {
        ("Dan Reeve", "'+447700900001")
    }
    phone = "07700 900001"
    assert all(
        r["sender"] == phone
        for r in rows
        if r["platform"] == "sms" and r["direction"] == "outgoing"
    )


def test_calls_csv_has_every_call_with_contact_and_duty(demo_case: Path, tmp_path: Path) -> None:
    run_case(load_case(demo_case), tmp_path / "out")  # the real analysers place the calls
    with open(tmp_path / "out" / "calls.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # 12 with Female A, 4 with Female B, one each from the sergeant and the mother.
    assert len(rows) == 18
    assert sum(r["case_contact_key"] == "contact-1" for r in rows) == 12
    assert sum(r["case_contact_key"] == "contact-2" for r in rows) == 4
    first = rows[0]
    assert (first["timestamp_local"], first["direction"], first["result"]) == (
        "2026-03-02T11:05:00+00:00",
        "outgoing",
        "answered",
    )
    assert (first["case_contact"], first["duty_status"], first["night"]) == (
        "Female A",
        "on_duty",
        "0",
    )
    assert first["source_locator"] == "calls._id=1" and first["source_format"] == "android_calllog"
    # The calls are in the contacts' chronologies, at their time, with provenance.
    page = (tmp_path / "out" / "contacts" / "contact-1.html").read_text()
    assert page.count('<li class="msg call ') == 12
    first_call = page.index('id="c1"')
    assert page.rindex("Hi Katie, PC Reeve here", 0, first_call) < first_call  # 10:15 before 11:05
    assert "calls._id=1" in page and "answered, 3:00" in page
    page_b = (tmp_path / "out" / "contacts" / "contact-2.html").read_text()
    assert page_b.count('<li class="msg call ') == 4 and "ZCALLRECORD.Z_PK=2" in page_b
    # A cell starting with + is guarded against formula use.
    sergeant = next(r for r in rows if r["counterpart_id"] == "'+447700900222")
    assert sergeant["case_contact_key"] == "" and sergeant["duty_status"] == ""


def test_report_is_reproducible(demo_report: Path, demo_case: Path) -> None:
    before = {p: p.read_bytes() for p in demo_report.rglob("*") if p.is_file()}
    case = load_case(demo_case)
    render(demo_report, case, {"contacts": "1", "duty": "1", "gaps": "1", "media": "1"})
    after = {p: p.read_bytes() for p in demo_report.rglob("*") if p.is_file()}
    assert before.keys() == after.keys()
    assert [p for p in before if before[p] != after[p]] == []


def test_svg_charts_escape_labels_and_scale() -> None:
    chart = str(
        svg.timeline(
            [(dt.date(2026, 3, 2), 2, 1), (dt.date(2026, 3, 5), 0, 4)],
            [(dt.date(2026, 3, 3), "<b>closed</b>")],
            "A & B",
        )
    )
    assert "&lt;b&gt;closed&lt;/b&gt;" in chart and "<title>A &amp; B</title>" in chart
    assert chart.count("<rect ") == 3 + 2  # three bars and two legend swatches
    heat = str(svg.heatmap([[0] * 24 for _ in range(6)] + [[0] * 23 + [5]], None))
    assert heat.count("<circle") == 1 + 1 and "Sun 23:00-23:59: 5 messages" in heat
    assert "no roster overlay" in heat


def test_exhibit_without_a_copy_shows_hashes_and_ignores_paths_outside_media(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    case = run_without_analysers(demo_case, out, monkeypatch)
    (tmp_path / "secret.jpg").write_bytes(b"\xff\xd8\xff not for the report")
    store = open_rw(out)
    store.add_findings(
        [
            Finding(
                "media",
                "exhibit.match",
                "Copy of exhibit EX/KL/1",
                "A source recorded the exhibit's hash.",
                subject="EX/KL/1",
                data={
                    "exhibit_id": "EX/KL/1",
                    "file": None,
                    "sha256": "ab" * 32,
                    "method": "sha256",
                    "distance": 0,
                    "band": "match",
                    "exhibit_copy": "../secret.jpg",
                    "file_copy": "media/../../secret.jpg",
                    "messages": [],
                },
            )
        ]
    )
    store.close()
    render(out, case)
    html = (out / "exhibits.html").read_text("utf-8")
    assert "secret" not in html
    assert "The picture cannot be shown in the report." in html and "ab" * 32 in html
    assert "not found; matched through a hash the source recorded" in html
    # The exhibit itself is the media stage's copy under media/ (the case file is not read).
    images = re.findall(r'<img src="([^"]+)"', html)
    exhibit_copy = next(e["copy"] for e in Store.open(out / "case.sqlite").exhibits())
    assert images == [exhibit_copy] and exhibit_copy.startswith("media/")
    assert (out / images[0]).read_bytes() == case.exhibits[0].path.read_bytes()
    assert "No message in the sources read carried this copy." in html


def test_headline_wording_for_large_counts_unknown_duty_and_detailed_night(
    demo_case: Path,
) -> None:
    from triage.report.headlines import build

    case = load_case(demo_case)
    split = {"on_duty": 0, "off_duty": 0, "rest_day": 0, "leave": 0, "sick": 0, "training": 0}
    findings = [
        Finding(
            "duty",
            "duty.contact-split",
            "t",
            "w",
            subject="contact-1",
            data={"total": 21560, "status_counts": {**split, "unknown": 21560}, "night": 7206},
        ),
        Finding(
            "duty",
            "duty.contact-split",
            "t",
            "w",
            subject="contact-2",
            data={
                "total": 1200,
                "outside_duty": 1100,
                "status_counts": {**split, "off_duty": 1100, "on_duty": 90, "unknown": 10},
                "night": {"count": 3, "window": ["22:00", "06:00"]},
            },
        ),
    ]
    texts = [h.text for h in build(case, findings)]
    assert texts == [
        "The duty status of the 21,560 messages with Female A is unknown (no roster period "
        "covers them); 7,206 at night.",
        "1,100 of 1,200 messages with Female B were sent or received outside rostered duty "
        "(duty status unknown for 10); 3 at night.",
    ]


def test_findings_with_missing_or_odd_data_still_render(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    case = run_without_analysers(demo_case, out, monkeypatch)
    rules = {
        "contact.summary": "contact-1",
        "contact.none-found": "contact-2",
        "contact.after-closure": "contact-1",
        "correspondents.top": None,
        "duty.contact-split": "contact-1",
        "duty.on-duty-contact": "contact-1",
        "gap.id": "unattributed",
        "gap.marker": "sms:thread:1",
        "gap.contact-rate": "contact-1",
        "exhibit.match": "EX/KL/1",
        "media.summary": None,
    }
    odd = {"window_start_utc": "not a time", "heatmap": [[1, 2]], "messages": [{}]}
    store = open_rw(out)
    store.add_findings(
        [Finding("x", rule, "t", "<why>", subject=subject) for rule, subject in rules.items()]
        + [Finding("x", "gap.id", "t", "w", subject="unattributed", data=odd)]
        + [Finding("x", "exhibit.match", "t", "w", subject="EX/KL/1", data=odd)]
    )
    store.close()
    render(out, case)
    gaps = (out / "gaps.html").read_text("utf-8")
    assert "not a time" in gaps
    assert "&lt;why&gt;" in (out / "contacts" / "contact-1.html").read_text("utf-8")
    assert (out / "exhibits.html").read_text("utf-8").count('class="match"') == 2


def test_the_list_of_conversations_is_paginated(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triage.report.writer as writer

    monkeypatch.setattr(writer, "LIST_PAGE_SIZE", 2)
    out = tmp_path / "out"
    case = run_without_analysers(demo_case, out, monkeypatch)
    render(out, case)
    store = Store.open(out / "case.sqlite")
    conversations = store.conversation_summaries()
    store.close()
    expected = -(-len(conversations) // 2)
    assert expected >= 2
    listed = []
    for number in range(1, expected + 1):
        page = out / ("correspondents.html" if number == 1 else f"correspondents-p{number}.html")
        listed += re.findall(
            r'<span class="small muted mono recorded" title="conversation key">([^<]+)</span>',
            page.read_text(),
        )
    assert not (out / f"correspondents-p{expected + 1}.html").exists()
    assert sorted(listed) == sorted(c["key"] for c in conversations)
    counts = {c["key"]: c["messages"] for c in conversations}
    assert [counts[k] for k in listed] == sorted(counts.values(), reverse=True)


def test_nested_settings_are_flattened_for_reading() -> None:
    from triage.report.writer import flatten

    assert flatten({"bands": {"pdq": {"match": 31, "review_needs": {}}}, "date_order": None}) == [
        ("bands / pdq / match", "31"),
        ("bands / pdq / review needs", "none"),
        ("date order", "not set"),
    ]


def test_search_index_parts_are_in_time_order_as_the_rows_sort(tmp_path: Path) -> None:
    """The index's three sorts by one key each (search._TIME_ORDER) give the order the rows
    themselves sort in: undated last, then by second (before 1970 too), then by id."""
    from types import SimpleNamespace

    from triage.report import search

    index = search.SearchIndex.__new__(search.SearchIndex)
    index.marks = []
    index.tables = {t: {} for t in search.TABLES}
    index.report = SimpleNamespace(case=SimpleNamespace(timezone="Europe/London", contacts=[]))
    seconds = [-86_400, -1, 0, 0, 5, 5, 5, 1_700_000_000, 1_700_000_000, 2**31 + 7]
    rows = [(False, s, (n * 7919) % 1009, "", 0, -1, 0, -1, 0, 0, 1) for n, s in enumerate(seconds)]
    rows += [(True, 0, mid, "", 0, -1, 0, -1, 0, 0, 1) for mid in (1013, 3, 1011)]
    index.rows = [rows[n] for n in (12, 3, 9, 0, 11, 5, 1, 7, 2, 10, 8, 4, 6)]
    assert index.write(tmp_path) == 1
    part = (tmp_path / "search" / "part-0001.js").read_text(encoding="utf-8")
    data = json.loads(part.removeprefix("TriageSearch.part(1, ").removesuffix(");\n"))
    assert data["i"] == [row[2] for row in sorted(rows)]
