"""The demo case's headline numbers, derived by hand from fixtures/demo/generate.py.

Roster (``roster_rows``): from 1 March 2026 day d has phase (d - 1 March) % 8; phases 0-1 are
07:00-17:00 day shifts, 2-3 are 19:00-05:00 night shifts, 4-7 rest days; 6-9 April is leave.
So: days 1-2, 9-10, 17-18, 25-26 March, 2-3, 10-11 April; nights 3-4, 11-12, 19-20, 27-28 March,
4-5, 12-13 April; rest 5-8, 13-16, 21-24, 29 March-1 April, 14-17 April; leave 6-9 April.

Female A (A_SCRIPT: 40 rows; 7 March 21:47 and 22 March 20:50, both his, deleted -> 38 left),
local time, status, * = night (22:00-06:00):

  out 02/03 10:15 on (day)       in  02/03 10:31 on (day)
  out 05/03 21:40 rest           in  05/03 21:52 rest          out 05/03 21:55 rest
  in  05/03 22:10 rest*          out 05/03 22:14 rest*
  out 06/03 23:05 rest*          in  06/03 23:20 rest*         out 06/03 23:22 rest*
  out 07/03 20:30 rest           in  07/03 21:45 rest
  out 09/03 12:10 on (day)
  out 11/03 22:15 on* (night)    in  11/03 22:40 on*
  out 12/03 23:30 on*            in  12/03 23:58 on*           out 13/03 00:05 on* (12th night)
  out 14/03 21:10 rest           in  15/03 22:00 rest*
  out 17/03 14:20 on (day)
  out 19/03 22:30 on*            out 20/03 23:45 on*           in  21/03 00:10 on* (20th night)
  out 21/03 21:05 rest           in  23/03 21:15 rest
  out 28/03 23:40 on* (night)    out 29/03 00:30 on* (GMT)     out 29/03 02:30 on* (BST)
  in  30/03 22:05 rest*          out 30/03 22:07 rest*
  out 02/04 21:30 off (day shift ended 17:00)                  in  02/04 21:58 off
  out 07/04 19:45 leave          out 08/04 22:20 leave*
  out 12/04 21:00 on (night)     in  12/04 21:30 on
  out 14/04 22:45 rest* (13th night ended 05:00)

  on duty 17, off duty 2, rest 17, leave 2 -> outside duty 21 of 38.
  Sent by him 25 (27 in the script less the 2 deleted); on duty 12 of them -> 13 of 25 outside.
  Received 13; on duty 5. Night 21: on duty 11, outside 10.
  First 2 March 10:15 GMT (his); last 14 April 22:45 BST = 21:45Z. After the 10 April closure:
  12/04 x2, 14/04 -> 3. Longest run of days: 11-15 March (5). First policing contact 2 March: 0
  days to the first message.

Female B (B_SCRIPT): out 09/03 15:30 on, in 09/03 15:41 on, out 16/03 22:10 rest*,
in 17/03 08:12 on (day shift from 07:00) -> 1 of 4 outside; 1 of 2 he sent; 1 night.

WHATSAPP (WA_SCRIPT, msgstore.db; 22:53 on 26 March, 22:05 on 31 March and 22:31 on 13 April
deleted for me): 12 messages with Female A remain.
  out 24/03 21:30 rest   in 24/03 21:41 rest   out 24/03 21:43 rest   out 25/03 23:10 off* (day)
  out 26/03 22:30 off*   in 26/03 22:52 off*   in 31/03 22:20 rest*
  out 02/04 22:10 off* (revoked: kept as a deletion, still a message)  in 02/04 22:12 off*
  out 08/04 23:30 leave*  out 13/04 21:50 on (night)  in 13/04 22:30 on*
  -> on 2, off 5, rest 4, leave 1; out 7 (on 1, off 3, rest 2, leave 1); night 8 (1 on duty).
  Whole demo for Female A: 50; outside 31; he sent 32, 19 outside; night 29, 17 outside; after
  the 10 April closure 3 SMS + 2 WhatsApp = 5; platforms sms, whatsapp.
  Female B on WhatsApp (a @lid chat resolved by jid_map): out 27/03 21:15 and in 21:40, both on
  the night shift of 27 March -> 1 of 6 outside, 1 of 3 he sent.
  WhatsApp rows are numbered 1-24 in time order (the exhibit MMS-time row first, then WA_SCRIPT,
  then the two April rows to the unknown number that carry EX/KL/2's preview and EX/KL/3's
  screenshot: 16/04 21:20 BST = 20:20Z as 23 and 18/04 22:40 as 24); 11 and 14 are deleted
  between chats (certain, interior), and 22 (13/04 22:31, deleted for me) lies between 21
  (13/04 22:30 BST = 21:30Z) and 23, so it is interior too, its window ending at 23's 20:20Z.
  Rows 23 and 24 are with a non-contact, so no case-contact number above changes.
  RECOVERED: the three rows were deleted after the last VACUUM with secure_delete off, so their
  bytes are still in the message table's page, all three in free blocks (22 would be in
  unallocated space as the last cell written, but rows 23 and 24 were written after it, so its
  cell is no longer at the start of the content area). Each freed cell lost its first 4 bytes to a
  free-block header (payload length, rowid, header length: _id < 128), so the rowid is gone, but
  sort_id survives and equals _id on every live row: 11, 14 and 22 fill the three gaps. They are
  not live rows, so none of the counts above changes.
MESSENGER (C_SCRIPT, Female C by display name): out 03/04 22:15 off*, in 22:40 off*,
  out 22:41 off*, out 04/04 23:05 on* (night), in 05/04 00:20 on*, out 00:22 on* (unsent)
  -> 3 of 6 outside; 2 of 4 he sent.

CALLS (A_CALLS in the Android calllog.db; B_CALLS in the old iPhone's CallHistory.storedata),
local time, status, * = night:
  Female A: out 02/03 11:05 180 s on (day)       out 05/03 22:30 0 s rest*   out 05/03 22:35 420 s rest*
            in  06/03 23:40 600 s rest*           out 12/03 23:50 0 s on*     in  14/03 21:30 missed rest
            out 20/03 23:55 0 s on*               out 21/03 00:05 0 s on* (20th night)
            in  30/03 22:15 95 s rest* (BST)      out 08/04 22:40 0 s leave*  out 12/04 21:15 240 s on
            out 14/04 23:00 0 s rest*
    -> 12 calls: 9 placed by him, 3 received; 5 connected, 180+420+600+95+240 = 1535 s of talk;
       1 incoming missed, 6 outgoing not answered. On duty 5, rest 6, leave 1: 7 of 12 outside;
       of his 9, 4 outside (05/03 x2, 08/04, 14/04). Night 9, 6 of them outside. First call
       02/03 11:05 GMT (his), after the first SMS at 10:15: the first contact is that message.
  Female B (iPhone): out 16/03 22:20 0 s rest*, out 16/03 22:25 35 s rest* (ZANSWERED 0, but it
            lasted), in 17/03 08:30 missed on (day), out FaceTime audio 27/03 21:50 0 s on (night)
    -> 4 calls: 3 his, 1 received; 1 connected (35 s); 2 of 4 outside, 2 of his 3; 2 at night.
  Two more calls (sergeant, mother) are with no case contact. The address book (contacts2.db)
  holds Witness D's number as "D witness job", with no message or call.
  The old iPhone's address book (AddressBook.sqlitedb, IOS_ADDRESS_BOOK) has Female B's
  07700 900456 as "Sarah RTC witness" (ABPerson.ROWID=1) and his mother: Female B's saved names
  are "Sarah witness" (contacts2.db raw_contacts._id=2, wa.db wa_contacts._id=4) and "Sarah RTC
  witness"; no other number changes.

Gaps: the sms rows are numbered 1-51 in time order (generate.py sorts all 51 rows); the deleted
rows are ids 15 (7 March 21:47, between A's 14 at 21:45 and A's 16 at 9 March 12:10) and 36
(22 March 20:50, between A's 35 at 21 March 21:05 and A's 37 at 23 March 21:15). AOSP ``sms._id``
is not AUTOINCREMENT, so both are "possible"; the single pdu row has no gap. Row 52 is the SMS
he sent to his personal number (OWN_SMS, 15 April 19:55, the newest row, in a thread of its own
after the MMS's): case.yaml does not know that number, so it is one more message with a
non-contact, and it moves only the "elsewhere" rates: 26 + 1 = 27 messages with row ids outside
Female A's conversations, and Female B's elsewhere rate 5 gaps in 71 = 7.0 per 100 (was 70).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.test_analysers_support import Run, run
from triage.model import iso_utc

STATUSES = ("on_duty", "off_duty", "rest_day", "leave", "sick", "training", "unknown")


def counts(**kw: int) -> dict[str, int]:
    return {k: kw.get(k, 0) for k in STATUSES}


class Tally:
    """Status counts of one contact's messages on some platforms, from the stored labels."""

    def __init__(self, r: Run, key: str, platforms: set[str] | None) -> None:
        contacts = r.store.labels("contacts", "contacts")
        status = r.store.labels("duty", "status")
        night = r.store.labels("duty", "night")
        self.messages = [
            s
            for s in r.store.messages()
            if key in contacts.get(s.id, [])
            and (platforms is None or s.message.platform in platforms)
            and s.message.direction != "system"
        ]
        self.all = Counter(status[s.id] for s in self.messages)
        self.out = Counter(status[s.id] for s in self.messages if s.message.direction == "outgoing")
        self.inc = Counter(status[s.id] for s in self.messages if s.message.direction == "incoming")
        self.night = Counter(status[s.id] for s in self.messages if night[s.id])


def outside(c: Counter) -> int:
    return sum(c[k] for k in ("off_duty", "rest_day", "leave", "sick"))


def test_demo_headline_numbers(demo_case: Path, tmp_path: Path) -> None:
    r = run(demo_case, tmp_path / "out")

    # The SMS numbers worked out by hand above (other platforms may be added to the demo later;
    # the findings must then be exactly the SMS numbers plus theirs).
    sms = Tally(r, "contact-1", {"sms"})
    assert len(sms.messages) == 38
    assert dict(sms.all) == {"on_duty": 17, "off_duty": 2, "rest_day": 17, "leave": 2}
    assert dict(sms.out) == {"on_duty": 12, "off_duty": 1, "rest_day": 10, "leave": 2}
    assert dict(sms.inc) == {"on_duty": 5, "off_duty": 1, "rest_day": 7}
    assert sum(sms.night.values()) == 21 and outside(sms.night) == 10
    assert outside(sms.all) == 21 and outside(sms.out) == 13 and sum(sms.out.values()) == 25
    first, last = sms.messages[0].message, sms.messages[-1].message
    assert first.direction == "outgoing"
    assert (iso_utc(first.timestamp_utc), iso_utc(last.timestamp_utc)) == (
        "2026-03-02T10:15:00Z",
        "2026-04-14T21:45:00Z",
    )

    # The whole demo, SMS + WhatsApp + Messenger, worked out by hand (see WHATSAPP and MESSENGER
    # in the module docstring): Female A 38 + 12 = 50 messages.
    split = r.one("duty.contact-split", "contact-1")
    assert split.data["status_counts"] == counts(on_duty=19, off_duty=7, rest_day=21, leave=3)
    assert split.data["by_direction"]["outgoing"] == counts(
        on_duty=13, off_duty=4, rest_day=12, leave=3
    )
    assert split.data["by_direction"]["incoming"] == counts(on_duty=6, off_duty=3, rest_day=9)
    assert split.data["night"]["count"] == 29 and split.data["night"]["outside_duty"] == 17
    assert split.why.startswith(
        "31 of 50 messages with Female A were sent or received outside rostered duty. "
        "19 of 32 messages he sent to Female A were sent outside rostered duty."
    )
    assert r.one("duty.on-duty-contact", "contact-1").data["count"] == 19

    a = r.one("contact.summary", "contact-1").data
    assert a["message_count"] == 50
    assert a["counts"] == {"outgoing": 32, "incoming": 18, "other": 0}
    assert a["platforms"] == ["sms", "whatsapp"]
    assert a["first_sender"] == "subject"
    assert (a["first_utc"], a["last_utc"]) == ("2026-03-02T10:15:00Z", "2026-04-14T21:45:00Z")
    assert a["longest_streak"] == {"days": 5, "start": "2026-03-11", "end": "2026-03-15"}
    assert a["key_dates"]["first_policing_contact"]["days_to_first_message"] == 0
    assert a["after_closure"] == 5
    assert r.one("contact.after-closure", "contact-1").data["count"] == 5
    assert "+447700900123" in [i["id"] for i in a["matched_identifiers"]]

    b_sms = Tally(r, "contact-2", {"sms"})
    assert dict(b_sms.all) == {"on_duty": 3, "rest_day": 1}
    assert dict(b_sms.out) == {"on_duty": 1, "rest_day": 1}
    b = r.one("duty.contact-split", "contact-2")
    assert b.data["status_counts"] == counts(on_duty=5, rest_day=1)
    assert b.why.startswith(
        "1 of 6 messages with Female B were sent or received outside rostered duty. "
        "1 of 3 messages he sent to Female B were sent outside rostered duty."
    )
    b_summary = r.one("contact.summary", "contact-2").data
    assert b_summary["first_sender"] == "subject"
    # Her WhatsApp chat is keyed by a linked-device id that jid_map resolves to her number.
    assert b_summary["platforms"] == ["sms", "whatsapp"]

    c = r.one("duty.contact-split", "contact-3")
    assert c.data["status_counts"] == counts(on_duty=3, off_duty=3)
    assert c.why.startswith(
        "3 of 6 messages with Female C were sent or received outside rostered duty. "
        "2 of 4 messages he sent to Female C were sent outside rostered duty."
    )
    assert r.one("contact.summary", "contact-3").data["platforms"] == ["messenger"]
    assert r.one("contact.none-found", "contact-4").why == (
        "No messages with Witness D were found in the sources read. "
        "This does not show that there was no contact. The phone's address book holds "
        "Witness D's identifier under 'D witness job'. No message or call with that entry was "
        "found."
    )

    wa_gaps = [g for g in r.findings("gap.id") if g.data["table"] == "message"]
    assert [
        (
            g.data["missing_from"],
            g.data["strength"],
            g.data["position"],
            g.data["window_start_utc"],
            g.data["window_end_utc"],
        )
        for g in wa_gaps
    ] == [
        (11, "certain", "interior", "2026-03-26T22:52:00Z", "2026-03-27T21:15:00Z"),
        (14, "certain", "interior", "2026-03-27T21:40:00Z", "2026-03-31T21:20:00Z"),
        (22, "certain", "interior", "2026-04-13T21:30:00Z", "2026-04-16T20:20:00Z"),
    ]
    assert [r.locators(g.refs) for g in wa_gaps] == [
        ["message._id=10", "message._id=12"],
        ["message._id=13", "message._id=15"],
        ["message._id=21", "message._id=23"],
    ]
    # The deleted rows recovered from the database's free space fill exactly those gaps.
    filled = [
        [(x["key"], x["status"], x["placed_by"]) for x in g.data["recovered"]] for g in wa_gaps
    ]
    by = "sort_id (equal to the id on live rows)"
    assert filled == [[(11, "deleted", by)], [(14, "deleted", by)], [(22, "deleted", by)]]
    recovered = {s.id: s.message for s in r.store.recovered_messages()}
    bodies = [recovered[g.data["recovered"][0]["message_id"]].body for g in wa_gaps]
    assert bodies == [
        "You owe me after everything I've done",
        "Don't make me come round",
        "Nobody will believe you",
    ]
    sources = [g.data["recovered"][0]["source"] for g in wa_gaps]
    assert [s.split(" (")[-1] for s in sources] == ["free block)"] * 3
    assert all(
        m.direction == "outgoing" and m.extra["recovered"]["confidence"] == "medium"
        for m in recovered.values()
    )

    gaps = [g for g in r.findings("gap.id") if g.data["table"] == "sms"]
    assert [
        (
            g.data["table"],
            g.data["missing_from"],
            g.data["strength"],
            g.data["window_start_utc"],
            g.data["window_end_utc"],
            g.data["contact_key"],
        )
        for g in gaps
    ] == [
        ("sms", 15, "possible", "2026-03-07T21:45:00Z", "2026-03-09T12:10:00Z", "contact-1"),
        ("sms", 36, "possible", "2026-03-21T21:05:00Z", "2026-03-23T21:15:00Z", "contact-1"),
    ]
    assert [r.locators(g.refs) for g in gaps] == [
        ["sms._id=14", "sms._id=16"],
        ["sms._id=35", "sms._id=37"],
    ]

    # One rule places every gap: the three WhatsApp ones lie between Female A's and Female B's
    # chats by their neighbours, but the records recovered at 11, 14 and 22 (and, for 22, the
    # chat's dangling last-message pointers) are all of Female A's chat, so they are hers.
    her_chat = "whatsapp:447700900123@s.whatsapp.net"
    assert [(g.subject, g.data["contact_key"], g.data["attributed_by"]) for g in wa_gaps] == [
        (her_chat, "contact-1", ["recovered records"]),
        (her_chat, "contact-1", ["recovered records"]),
        (her_chat, "contact-1", ["deletion traces", "recovered records"]),
    ]
    traces = r.findings("gap.trace")
    assert [t.data["missing_ids"] for t in traces] == [[22], [22]]
    assert all(t.data["gaps"] == [wa_gaps[2].data["key"]] for t in traces)
    assert [x["locator"] for x in wa_gaps[2].data["traces"]] == [t.data["locator"] for t in traces]
    # Each gap counted once: five gaps, five for Female A, none for Female B; "elsewhere" is
    # every other conversation, hers left out; one unit (per 100 messages with row ids).
    rates = {f.subject: f.data for f in r.findings("gap.contact-rate")}
    assert sum(d["gaps"] for d in rates.values()) == len(r.findings("gap.id")) == 5
    a, b, c = rates["contact-1"], rates["contact-2"], rates["contact-3"]
    assert (a["gaps"], a["messages"], a["per_100"]) == (5, 50, 10.0)
    assert (a["elsewhere_gaps"], a["elsewhere_messages"], a["elsewhere_per_100"]) == (0, 27, 0.0)
    assert (b["gaps"], b["per_100"], b["elsewhere_gaps"], b["elsewhere_per_100"]) == (
        0,
        0.0,
        5,
        7.0,
    )
    assert b["messages"] + b["elsewhere_messages"] == a["messages"] + a["elsewhere_messages"]
    assert (c["messages"], c["per_100"]) == (0, None)
    assert "No rate" in r.one("gap.contact-rate", "contact-3").why
    assert "10.0 per 100 messages" in r.one("gap.contact-rate", "contact-1").why

    # Mum, the sergeant, the bank and the unknown number that received the MMS are not contacts.
    top = {c["id"] for c in r.one("correspondents.top").data["correspondents"]}
    assert {"+447700900777", "+447700900222", "+447700900999", "HSBC-UK"} <= top
    assert not top & {"+447700900123", "+447700900456", "+447700900001", "owner"}


def test_demo_with_the_shift_pattern_gives_the_same_split(demo_case: Path, tmp_path: Path) -> None:
    text = demo_case.read_text("utf-8").replace(
        "roster:\n  csv: roster.csv\n",
        "roster:\n  pattern: 4on4off\n  anchor: 2026-03-01\n  overrides:\n"
        "    - {start: 2026-04-06, end: 2026-04-09, type: leave}\n",
    )
    assert "pattern: 4on4off" in text
    demo_case.write_text(text, "utf-8")
    r = run(demo_case, tmp_path / "out", report=False)
    sms = Tally(r, "contact-1", {"sms"})
    assert dict(sms.all) == {"on_duty": 17, "off_duty": 2, "rest_day": 17, "leave": 2}
    assert outside(sms.out) == 13
    assert r.one("duty.roster").data["description"].startswith("shift pattern 4on4off")


def test_demo_call_numbers(demo_case: Path, tmp_path: Path) -> None:
    """The calls worked out by hand in CALLS above; the message numbers are unchanged."""
    r = run(demo_case, tmp_path / "out")
    a = r.one("contact.summary", "contact-1").data
    assert a["message_count"] == 50
    calls = a["calls"]
    assert (calls["count"], calls["outgoing"], calls["incoming"]) == (12, 9, 3)
    assert (calls["answered"], calls["talk_seconds"]) == (5, 1535)
    assert (calls["unanswered_incoming"], calls["not_answered_outgoing"]) == (1, 6)
    assert calls["networks"] == ["cellular"] and calls["first_caller"] == "subject"
    assert (calls["first_utc"], calls["last_utc"]) == (
        "2026-03-02T11:05:00Z",
        "2026-04-14T22:00:00Z",
    )
    assert a["first_contact"] == {"kind": "message", "utc": "2026-03-02T10:15:00Z", "by": "subject"}
    assert calls["refs"][0]["locator"] == "calls._id=1"
    assert calls["refs"][0]["file"].endswith("databases/calllog.db")
    split = r.one("duty.contact-split", "contact-1")
    c = split.data["calls"]
    assert c["status_counts"] == counts(on_duty=5, rest_day=6, leave=1)
    assert (c["total"], c["outside_duty"], c["outgoing_total"], c["outgoing_outside_duty"]) == (
        12,
        7,
        9,
        4,
    )
    assert c["night"] == {"count": 9, "outside_duty": 6}
    assert "7 of 12 calls with Female A were outside rostered duty (4 of the 9 he placed)." in (
        split.why
    )
    assert split.data["total"] == 50  # the messages are counted as before

    b = r.one("contact.summary", "contact-2").data
    bc = b["calls"]
    assert (bc["count"], bc["outgoing"], bc["incoming"], bc["answered"]) == (4, 3, 1, 1)
    assert bc["talk_seconds"] == 35 and bc["networks"] == ["cellular", "facetime"]
    assert bc["refs"][0]["format"] == "ios_callhistory"
    b_split = r.one("duty.contact-split", "contact-2").data["calls"]
    assert (b_split["outside_duty"], b_split["outgoing_outside_duty"]) == (2, 2)
    assert b_split["night"] == {"count": 2, "outside_duty": 2}

    d = r.one("contact.none-found", "contact-4").data
    assert d["address_book_only"] is True and d["calls"]["count"] == 0
    assert d["address_book_names"] == ["D witness job"]
    assert d["address_book_entries"][0]["locator"] == "raw_contacts._id=5"
    # The officer saved Female A as "Katie DV job" in both address books.
    entries = a["address_book_entries"]
    assert {(e["name"], e["locator"].split("=")[0]) for e in entries} == {
        ("Katie DV job", "wa_contacts._id"),
        ("Katie DV job", "raw_contacts._id"),
    }
    assert len(list(r.store.calls())) == 18  # 12 + 4 + sergeant + mother
    # Female B: "Sarah witness" in the Android book and WhatsApp's, and on the old iPhone
    # (AddressBook.sqlitedb, IOS_ADDRESS_BOOK) "Sarah RTC witness" for the same 07700 900456.
    assert b["address_book_names"] == ["Sarah witness", "Sarah RTC witness"]
    assert [
        (e["name"], e["locator"], e["identifier"]["id"]) for e in b["address_book_entries"]
    ] == [
        ("Sarah witness", "raw_contacts._id=2", "+447700900456"),
        ("Sarah witness", "wa_contacts._id=4", "+447700900456"),
        ("Sarah RTC witness", "ABPerson.ROWID=1", "+447700900456"),
    ]
    ios = b["address_book_entries"][2]
    assert (
        ios["file"] == "iphone-extract/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb"
    )
    page = (tmp_path / "out" / "contacts" / "contact-2.html").read_text("utf-8")
    assert "Sarah witness; Sarah RTC witness" in page
    # His mother is in the iPhone's book too, but she is no case contact: no finding names her.
    assert not any("Mum" in str(f.data) for f in r.findings("contact.summary"))
