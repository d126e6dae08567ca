"""Group participation on the demo case, hand-derived from fixtures/demo/generate.py.

"Team 4" (WhatsApp chat 6, WA_GROUP_SCRIPT; BST, so UTC is local less one hour), members listed
in group_participant_user: Hollis (07700 900333) and Carter (07700 900444), both `people:` of
role colleague in case.yaml.
  20/04 19:00 he adds Hollis and Carter (system, action 12, two users)   -> 2 events "added"
  20/04 19:05 Hollis posts a picture (image/jpeg) "Look at the state of this slag"
  20/04 19:07 he replies quoting it: "Ha. Fancy a drink after shift?"
      receipts: Hollis delivered 19:07 read 19:08; Carter delivered 19:09 read 19:40
  20/04 19:20 he posts a video (video/mp4)
      receipts: Hollis delivered 19:21, not read; Carter delivered 19:22 read 19:41
  20/04 19:25 Hollis reacts to the video with U+1F602 (message_add_on + message_add_on_reaction,
      WA_GROUP_REACTIONS)                                              -> Hollis 1 reaction
  21/04 09:00 Carter leaves (system, action 5, about himself)           -> 1 event "left"
Member table:
  subject: 2 messages, video 1, 1 reply to another's post, 0 reactions, first 18:00Z (the notice), last
           18:20Z; no receipts (his own messages)
  Hollis:  1 message, image 1, no reply, 1 reaction to another's post (the reaction is not a row
           he wrote, so first/last stay on his picture), first = last 18:05Z; delivered 2, read 1 (last 18:08Z)
  Carter:  0 messages, 0 reactions; delivered 2, read 2 (last 18:41Z); first = last 08:00Z on 21/04 (the
           notice he wrote by leaving); events added, left
Lexicon (default): Hollis "slag" -> derogatory 1; his "Fancy a drink" -> meet 1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from triage.casefile import load_case
from triage.run import run_case
from triage.store import Store

GROUP = "whatsapp:120363000000000077@g.us"


def test_demo_group_member_table(demo_case: Path, tmp_path: Path) -> None:
    run = run_case(load_case(demo_case), tmp_path / "out", report=False)
    store = Store.open(run.store_path)
    found = {(f.rule, f.subject): f for f in store.findings()}
    group = found[("group.participation", GROUP)].data
    table = {
        m["name"]: (
            m["messages"],
            m["media"],
            m["replies_to_others"],
            m["reactions_to_others"],
            m["first_utc"],
            m["last_utc"],
            m["delivered"],
            m["read"],
            m["last_read_utc"],
            [e["event"] for e in m["events"]],
            m["person_key"],
        )
        for m in group["members"]
    }
    assert table == {
        "PC 2291 Daniel Reeve": (
            2,
            {"video": 1},
            1,
            0,
            "2026-04-20T18:00:00Z",
            "2026-04-20T18:20:00Z",
            0,
            0,
            None,
            [],
            None,
        ),
        "PC 3307 Mark Hollis": (
            1,
            {"image": 1},
            0,
            1,
            "2026-04-20T18:05:00Z",
            "2026-04-20T18:05:00Z",
            2,
            1,
            "2026-04-20T18:08:00Z",
            ["added"],
            "person-1",
        ),
        "PC 4112 Lee Carter": (
            0,
            {},
            0,
            0,
            "2026-04-21T08:00:00Z",
            "2026-04-21T08:00:00Z",
            2,
            2,
            "2026-04-20T18:41:00Z",
            ["added", "left"],
            "person-2",
        ),
    }
    events = [(e["event"], e["action_type"], e["by"], e["member"]) for e in group["events"]]
    assert events == [
        ("added", 12, "subject", "+447700900333"),
        ("added", 12, "subject", "+447700900444"),
        ("left", 5, "+447700900444", "+447700900444"),
    ]
    assert [(m["member"], m["type"]) for m in group["media"]] == [
        ("+447700900333", "image"),
        ("subject", "video"),
    ]
    assert "PC 4112 Lee Carter who wrote none" in found[("group.participation", GROUP)].why
    lex = found[("lexicon.group", GROUP)].data
    assert lex["categories"] == {
        "meet": {"hits": 1, "messages": 1},
        "derogatory": {"hits": 1, "messages": 1},
    }
    assert {m["member"]: m["categories"] for m in lex["members"]} == {
        "+447700900333": {"derogatory": {"hits": 1, "messages": 1}},
        "subject": {"meet": {"hits": 1, "messages": 1}},
    }
    # The reaction is typed data on the reacted-to message (the subject's video).
    video = next(m["message_id"] for m in group["media"] if m["type"] == "video")
    (reacted,) = store.messages_by_ids([video])
    assert reacted.message.extra["reactions"] == [
        {
            "add_on_row_id": 1,
            "from_me": False,
            "party": {"raw": "447700900333@s.whatsapp.net", "id": "+447700900333"},
            "emoji": "\U0001f602",
            "removed": False,
            "timestamp_utc": "2026-04-20T18:25:00Z",
        }
    ]
    # Shift B keeps its two writers and no events.
    shift = found[("group.participation", "whatsapp:120363000000000042@g.us")].data
    assert [(m["name"], m["messages"]) for m in shift["members"]] == [
        ("PC 2291 Daniel Reeve", 1),
        ("Sarge Patel", 2),
    ]
    from triage.report.exports import write_group_members_csv, write_lexicon_hits_csv

    write_group_members_csv(store, tmp_path / "group_members.csv")
    rows = (tmp_path / "group_members.csv").read_text(encoding="utf-8-sig").splitlines()
    carter = [r for r in rows if "Lee Carter" in r]
    assert len(rows) == 1 + 2 + 3 and len(carter) == 1
    assert (
        "person-2,colleague,True,0,,0,0,2026-04-21T08:00:00Z,2026-04-21T08:00:00Z,2,2," in carter[0]
    )
    write_lexicon_hits_csv(store, tmp_path / "lexicon_hits.csv")
    hits = (tmp_path / "lexicon_hits.csv").read_text(encoding="utf-8-sig").splitlines()
    # 9 hits with Female A, 1 with Female C (test_lexicon), 2 in Team 4.
    assert len(hits) == 1 + 12
    assert sum(",derogatory,slag," in h for h in hits) == 1
    store.close()


def test_group_page_lists_each_members_first_rows_up_to_the_cap(
    demo_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy group's page lists the first rows of each member (the conversation pages hold
    them all) and says so; groups.html keeps the member table and links to the page."""
    monkeypatch.setattr("triage.report.writer.GROUP_ROWS_PER_MEMBER", 1)
    run = run_case(load_case(demo_case), tmp_path / "out")
    store = Store.open(run.store_path)
    (finding,) = [f for f in store.findings("groups") if f.subject == GROUP]
    member = store.labels("groups", "member")
    theirs = [mid for mid in finding.refs if member[mid] == "subject"]
    store.close()
    assert len(theirs) == 3  # the notice adding Hollis and Carter, his reply, his video
    summary = (tmp_path / "out" / "groups.html").read_text("utf-8")
    pages = re.findall(r'<a href="(groups/g\d+\.html)">Messages by member</a>', summary)
    (page,) = [p for p in pages if "Team 4</a></h1>" in (tmp_path / "out" / p).read_text("utf-8")]
    assert f'<a href="{page}#g' in summary  # the member table's names link to the page
    html = (tmp_path / "out" / page).read_text("utf-8")
    section = html.split('data-member="subject">')[1].split("</section>")[0]
    assert re.findall(r'<li class="msg [a-z]+" id="m(\d+)"', section) == [str(theirs[0])]
    assert "The first 1 of 3 rows by this member" in section
    assert f"of the group's {len(finding.refs)} rows listed on its own page" in summary
    assert 'href="../conversations/' in section and 'href="../groups.html#g' in html
