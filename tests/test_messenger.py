"""Facebook Messenger parsers: DYI JSON/HTML downloads, E2EE export, Android databases."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from triage.parsers.messenger_common import DuplicateKeys, fix_mojibake
from triage.parsers.messenger_dyi_html import build_tree, find_blocks, parse_time

from triage.cli import main
from triage.evidence import Evidence
from triage.identity import party
from triage.ingest import iter_records
from triage.jsonl import read_records
from triage.model import Call, ContactEntry, IdSpace, Message
from triage.registry import ParseContext, all_parsers, detect

GEN = Path(__file__).resolve().parent.parent / "fixtures" / "messenger" / "generated"
DYI_2023 = GEN / "dyi_json_2023"
HTML_2023 = GEN / "dyi_html_2023"
DYI_2025 = GEN / "dyi_json_2025"
CAROL = DYI_2025 / "your_facebook_activity/messages/inbox/caroljones_2220001"
BOB_JSON = DYI_2023 / "messages/inbox/bobsmith_1234567890"
ANDROID = GEN / "android/data/data/com.facebook.orca/databases"
OWNER = "Zoë Ward"


def records(paths: list[Path], ctx: ParseContext | None = None):
    ctx = ctx or ParseContext()
    return [(res, rec) for res, rec in iter_records(paths, ctx)], ctx


def messages(paths: list[Path], ctx: ParseContext | None = None) -> list[Message]:
    found, _ = records(paths, ctx)
    return [r for _, r in found if isinstance(r, Message)]


def store(paths: list[Path], ctx: ParseContext | None = None) -> list[tuple[str, Message]]:
    """The case store's rule: sources in descending parser priority, then path order; a message
    whose duplicate_key was already stored is dropped."""
    prio = {p.name: p.priority for p in all_parsers()}
    found, _ = records(paths, ctx)
    rows = [(res.parser, res.file.logical, r) for res, r in found if isinstance(r, Message)]
    rows.sort(key=lambda t: (-prio[t[0]], t[1]))  # stable: keeps each source's own order
    kept, seen = [], set()
    for parser, _, msg in rows:
        if msg.duplicate_key is not None and msg.duplicate_key in seen:
            continue
        seen.add(msg.duplicate_key)
        kept.append((parser, msg))
    return kept


# -- mojibake -----------------------------------------------------------------------------------
def test_mojibake_repaired_and_guarded() -> None:
    assert fix_mojibake("caf\u00c3\u00a9") == "café"
    assert fix_mojibake("\u00f0\u009f\u0098\u00a2") == "😢"
    # Already-correct strings are left alone: > U+00FF, and Latin-1 that is not UTF-8 bytes.
    assert fix_mojibake("\u201cquoted\u201d") == "\u201cquoted\u201d"
    assert fix_mojibake("café") == "café"
    assert fix_mojibake("plain") == "plain"


# -- DYI JSON -----------------------------------------------------------------------------------
def test_split_thread_read_once_in_numeric_and_time_order() -> None:
    with Evidence() as ev:
        ev.add_input(CAROL, "carol")
        found = detect(list(ev.files()))
    parsed = [d for d in found if d.parser is not None]
    assert [d.file.name for d in parsed] == ["message_1.json"]
    assert parsed[0].parser.name == "messenger_dyi_json"
    assert sum(1 for d in found if d.claimed_by is not None) == 10

    ctx = ParseContext()
    msgs = messages([CAROL], ctx)
    assert len(msgs) == 33
    # The files hold consecutive time ranges, so they were streamed one by one, oldest first.
    assert all("file_order" not in d for d in ctx.decisions.values())
    stamps = [m.timestamp_utc for m in msgs]
    assert stamps == sorted(stamps) and len(set(stamps)) == 33
    bodies = [m.body for m in msgs]
    assert bodies[0] == "message 00 ✓" and bodies[-1] == "message 32 ✓"
    # The oldest messages are in the highest-numbered file (message_11, not message_2 or _9).
    assert msgs[0].source.locator == "message_11.json messages[2]"
    assert msgs[-1].source.locator == "message_1.json messages[0]"
    assert msgs[0].source.file.endswith("message_11.json")
    # message_3.json starts with a BOM and is read like the others.
    assert any(m.source.file.endswith("message_3.json") for m in msgs)
    assert msgs[7].body == "Crème brûlée 🍮 at Zoë’s"
    assert msgs[0].conversation.id == "messenger:dyi:inbox/caroljones_2220001"


def test_overlapping_files_are_merged_in_time_order(tmp_path: Path) -> None:
    thread = tmp_path / "messages/inbox/x_1"
    thread.mkdir(parents=True)

    def write(n: int, stamps: list[int]) -> None:
        data = {
            "participants": [{"name": "A"}, {"name": "B"}],
            "messages": [
                {"sender_name": "A", "timestamp_ms": s, "content": str(s)}
                for s in sorted(stamps, reverse=True)
            ],
            "thread_path": "inbox/x_1",
        }
        (thread / f"message_{n}.json").write_text(json.dumps(data))

    write(1, [1_700_000_003_000, 1_700_000_001_000])
    write(2, [1_700_000_002_000, 1_700_000_000_000])
    ctx = ParseContext(owner_names=["B"])
    msgs = messages([tmp_path], ctx)
    assert [m.body for m in msgs] == [
        "1700000000000",
        "1700000001000",
        "1700000002000",
        "1700000003000",
    ]
    decided = next(d for f, d in ctx.decisions.items() if f.endswith("message_1.json"))
    assert "overlap" in decided["file_order"]


def test_directions_owner_from_autofill_and_kinds() -> None:
    ctx = ParseContext()
    msgs = messages([BOB_JSON.parent.parent.parent], ctx)
    bob = [m for m in msgs if "bobsmith" in m.conversation.id]
    # The thread's two call entries are calls, not messages (tests/test_messenger_calls.py).
    assert [m.direction for m in bob] == ["incoming", "outgoing", "incoming", "incoming"]
    assert [m.kind for m in bob] == ["text", "text", "media", "text"]
    assert bob[0].body == "Meet at the café?"
    assert bob[1].body == "Yes 😢 running late"
    assert bob[1].extra["reactions"] == [{"reaction": "👍", "actor": "Bob Smith"}]
    assert bob[0].sender.scheme == "name" and bob[0].sender.id == "bob smith"
    assert bob[1].sender.name == OWNER and bob[1].recipients[0].id == "bob smith"
    assert bob[0].timestamp_utc == datetime(2023, 1, 14, 9, 30, 5, 120000, tzinfo=UTC)
    assert not bob[0].zone_assumed
    decided = next(d for f, d in ctx.decisions.items() if "bobsmith" in f)
    assert decided["owner"] == OWNER and "autofill_information.json" in decided["owner_basis"]


def test_owner_from_case_file_and_unknown_owner(tmp_path: Path) -> None:
    ctx = ParseContext(owner_names=["bob smith"])
    bob = messages([BOB_JSON], ctx)
    assert bob[0].direction == "outgoing" and bob[1].direction == "incoming"

    # One thread, no autofill/profile file, no case names: nobody can tell whose it is.
    lone = tmp_path / "dl/messages/inbox/bobsmith_1234567890"
    shutil.copytree(BOB_JSON, lone)
    ctx = ParseContext()
    msgs = messages([tmp_path / "dl"], ctx)
    assert {m.direction for m in msgs} == {"unknown"}
    unknown = next(w for w in ctx.warnings.values() if "owner unknown" in w.category)
    # The advice is worded in the case file's own keys (README "The case file").
    assert unknown.examples[0].endswith(
        "add the name he uses on Facebook to the case file as "
        "subject.identifiers: - name: <his Facebook name>"
    )
    assert "owner_names" not in unknown.examples[0]


def test_owner_is_the_participant_common_to_every_thread() -> None:
    ctx = ParseContext()
    msgs = messages([DYI_2025], ctx)
    dan = [m for m in msgs if "danmoss" in m.conversation.id]
    assert [m.direction for m in dan] == ["incoming", "incoming", "outgoing"]
    decided = next(d for f, d in ctx.decisions.items() if "danmoss" in f)
    assert decided["owner_basis"] == "only participant present in all 3 threads"


def test_attachments_hashed_inside_export_only() -> None:
    ctx = ParseContext()
    msgs = messages([DYI_2025], ctx)
    photo = next(m for m in msgs if m.attachments and "carol" in m.conversation.id)
    good, bad = photo.attachments
    on_disk = CAROL / "photos/carol_20.jpg"
    assert good.sha256 == hashlib.sha256(on_disk.read_bytes()).hexdigest()
    assert good.path.endswith("caroljones_2220001/photos/carol_20.jpg")
    assert good.mime == "image/jpeg" and good.size == on_disk.stat().st_size
    assert on_disk.read_bytes()[:3] == b"\xff\xd8\xff"  # a real JPEG
    assert bad.path is None and bad.sha256 is None and "refused" in bad.note
    assert any("refused" in w.category for w in ctx.warnings.values())
    # A uri written relative to the activity folder ("messages/...") is found too.
    dan_photo = next(m for m in msgs if m.attachments and "danmoss" in m.conversation.id)
    assert dan_photo.attachments[0].sha256 is not None


def test_unsent_message_is_a_deletion_marker() -> None:
    msgs = messages([DYI_2025])
    unsent = [m for m in msgs if m.deleted]
    assert len(unsent) == 1
    m = unsent[0]
    assert m.kind == "deleted" and m.body is None and m.sender.name == "Dan Moss"
    assert m.extra["reactions"] == [{"reaction": "😮", "actor": OWNER}]


# -- DYI HTML -----------------------------------------------------------------------------------
def test_html_times_are_local_and_zone_assumed() -> None:
    ctx = ParseContext()
    msgs = messages([HTML_2023], ctx)
    bob = [m for m in msgs if "bobsmith" in m.conversation.id]
    assert len(bob) == 4
    assert all(m.zone_assumed for m in bob)
    # "Jan 14, 2023, 9:30 AM" is GMT; "Jun 10, 2023, 3:05 PM" is BST (UTC+1).
    assert bob[0].timestamp_utc == datetime(2023, 1, 14, 9, 30, tzinfo=UTC)
    assert bob[2].timestamp_utc == datetime(2023, 6, 10, 14, 5, tzinfo=UTC)
    assert bob[2].timestamp_raw == "Jun 10, 2023, 3:05 PM"
    assert bob[2].extra["time_precision"] == "minute"
    assert "zone not stated" in bob[2].extra["time_note"]
    assert bob[0].body == "Meet at the café?"  # proper UTF-8 in HTML, not re-"repaired"
    assert [m.direction for m in bob] == ["incoming", "outgoing", "incoming", "incoming"]
    assert (
        bob[2].attachments[0].sha256
        == hashlib.sha256(
            (HTML_2023 / "messages/inbox/bobsmith_1234567890/photos/331122_n.jpg").read_bytes()
        ).hexdigest()
    )

    ny = messages([HTML_2023], ParseContext(timezone="America/New_York"))
    assert ny[2].timestamp_utc == datetime(2023, 1, 14, 14, 30, tzinfo=UTC)


def test_html_is_read_by_structure_not_class_names() -> None:
    page = (HTML_2023 / "messages/inbox/bobsmith_1234567890/message_1.html").read_text()
    for cls in ("_a6-g", "_2ph_", "_a6-h", "_a6-i", "_a6-p", "_a72d", "_3-94", "_a6-o", "pam"):
        page = page.replace(cls, "zz" + cls.strip("_"))
    blocks = find_blocks(build_tree(page), {"Bob Smith", OWNER})
    # Newest first, as the page shows them.
    assert [b.sender for b in blocks] == ["Bob Smith", "Bob Smith", OWNER, "Bob Smith", OWNER] + [
        "Bob Smith"
    ]
    assert blocks[3].media == ["messages/inbox/bobsmith_1234567890/photos/331122_n.jpg"]
    assert parse_time("Oct 19, 2019 at 2:37 PM") == (datetime(2019, 10, 19, 14, 37), "minute")
    assert parse_time("19 Oct 2019, 14:37") == (datetime(2019, 10, 19, 14, 37), "minute")
    assert parse_time("Jun 24, 2023 8:22:31 pm") == (datetime(2023, 6, 24, 20, 22, 31), "second")
    assert parse_time("hello") is None


# -- copies of the same messages -----------------------------------------------------------------
def test_priorities_json_before_e2ee_before_html() -> None:
    prio = {p.name: p.priority for p in all_parsers()}
    assert prio["messenger_dyi_json"] > prio["messenger_e2ee"] > prio["messenger_dyi_html"]


def test_json_and_html_copies_counted_once_and_json_kept() -> None:
    everything, _ = records([GEN])
    msgs = [r for _, r in everything if isinstance(r, Message)]
    # Every message has a key (the msys call_log row is a call, not a message).
    assert [m.source.locator for m in msgs if not m.duplicate_key] == []
    html = [m for m in msgs if m.source.format == "messenger_dyi_html"]
    json_keys = {m.duplicate_key for m in msgs if m.source.format == "messenger_dyi_json"}
    # 6 in dyi_html_2023 (its two call blocks are calls) and 4 in dyi_json_and_html, every one
    # a copy of a JSON message.
    assert len(html) == 10 and all(m.duplicate_key in json_keys for m in html)
    # 85 before three call entries (bob's in the JSON and in the HTML, the threads_db2 one)
    # became calls; the calls added since are calls too.
    assert len(msgs) == 82
    assert len({m.duplicate_key for m in msgs}) == 67

    kept = store([GEN])
    assert len(kept) == 67
    bob = [(p, m) for p, m in kept if "bobsmith" in m.conversation.id]
    assert len(bob) == 4 and {p for p, _ in bob} == {"messenger_dyi_json"}
    # The JSON copy is the fuller one: exact times and the reaction survive.
    assert "reactions" in bob[1][1].extra


def test_e2ee_export_merged_with_cutover_without_double_counting() -> None:
    ctx = ParseContext()
    kept = store([DYI_2025, GEN / "e2ee_export"], ctx)
    eve = sorted(
        (m for _, m in kept if any(p.id == "eve lewis" for p in m.conversation.participants)),
        key=lambda m: m.timestamp_utc,
    )
    assert [m.body for m in eve] == [
        "Before encryption",
        "Still café time",
        "Switching over",
        "Encrypted now 🔒",
        None,
        None,
    ]
    assert [m.source.format for m in eve[:3]] == ["messenger_dyi_json"] * 3
    assert [m.source.format for m in eve[3:]] == ["messenger_e2ee"] * 3
    assert [m.direction for m in eve] == ["incoming", "outgoing", "incoming"] * 2
    media, unsent = eve[4], eve[5]
    assert (
        media.kind == "media"
        and media.attachments[0].sha256
        == hashlib.sha256(
            (GEN / "e2ee_export/media/0f3c2a9e-1b7d-4c55-9a51-2f3e4d5c6b7a.jpeg").read_bytes()
        ).hexdigest()
    )
    assert unsent.kind == "deleted" and unsent.deleted
    decided = next(d for f, d in ctx.decisions.items() if f.endswith("Eve Lewis_1.json"))
    assert decided["overlaps"].endswith("e2ee_cutover/evelewis_4440001/message_1.json")


def test_same_message_twice_in_a_minute_is_not_a_duplicate() -> None:
    keys = DuplicateKeys(["A", "B"])
    when = datetime(2024, 1, 1, 12, 0, 5, tzinfo=UTC)
    first = keys.key("A", when, "ok", 0)
    second = keys.key("A", when.replace(second=40), "ok", 0)
    assert first != second
    again = DuplicateKeys(["b", "a"])  # another copy of the thread, minute precision only
    assert again.key("a", when.replace(second=0), " ok ", 0) == first


# -- Android app databases -----------------------------------------------------------------------
def test_threads_db2_and_msys() -> None:
    ctx = ParseContext()
    found, _ = records([ANDROID], ctx)
    msgs = [r for _, r in found if isinstance(r, Message)]
    db2 = [m for m in msgs if m.source.format == "messenger_threads_db2"]
    assert [m.direction for m in db2] == ["incoming", "outgoing", "incoming"]
    assert [m.kind for m in db2] == ["text", "text", "media"]
    assert db2[0].sender.id == "fb:100000000000002" and db2[0].sender.name == "Greg Hall"
    assert db2[0].sender.scheme == "facebook"
    assert db2[1].extra["reactions"] == [{"reaction": "👍"}]
    assert db2[2].attachments[0].name == "image-1.jpg" and db2[2].attachments[0].path is None

    msys = [m for m in msgs if m.source.format == "messenger_msys"]
    assert [m.body for m in msys if m.kind == "text"][-1] == "Call me back"
    (call,) = [r for _, r in found if isinstance(r, Call) and r.source.format == "messenger_msys"]
    assert (call.network, call.direction, call.video) == ("messenger", "incoming", True)
    assert call.source.locator == "call_log.rowid=1" and call.counterpart.scheme == "facebook"

    contacts = [r for _, r in found if isinstance(r, ContactEntry)]
    greg = next(c for c in contacts if c.name == "Greg Hall" and len(c.identifiers) > 1)
    assert {p.id for p in greg.identifiers} == {
        "fb:100000000000002",
        "+447700900123",
        "greg@example.org",
    }
    # Text ids only: no IdSpace, and the reason is recorded.
    assert not [r for _, r in found if isinstance(r, IdSpace)]
    assert all("id_space_messages" in d for f, d in ctx.decisions.items() if "databases" in f)

    # The same mailbox in both databases is kept once (msys and threads_db2, 3 shared messages).
    keys = [m.duplicate_key for m in msgs]
    assert len(keys) == 7 and len(set(keys)) == 4
    assert party("FACEBOOK:100000000000002").id == db2[0].sender.id


def test_threads_db2_without_uid_file_uses_case_owner(tmp_path: Path) -> None:
    shutil.copy(ANDROID / "threads_db2", tmp_path / "threads_db2")
    ctx = ParseContext()
    msgs = messages([tmp_path / "threads_db2"], ctx)
    assert {m.direction for m in msgs} == {"unknown"}
    assert any("owner unknown" in w.category for w in ctx.warnings.values())

    owner = party("FACEBOOK:100000000000001")
    msgs = messages([tmp_path / "threads_db2"], ParseContext(owner=[owner]))
    assert [m.direction for m in msgs][:2] == ["incoming", "outgoing"]
    assert msgs[1].sender == owner


# -- command line --------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", [DYI_2025, HTML_2023])
def test_cli_parse_jsonl(folder: Path) -> None:
    result = CliRunner().invoke(main, ["parse", str(folder), "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = list(read_records(result.stdout.splitlines()))
    calls = [r for r in lines if r["record"] == "call"]
    lines = [r for r in lines if r["record"] != "call"]
    assert lines and all(r["platform"] == "messenger" for r in lines)
    if folder == DYI_2025:
        assert len(lines) == 39
        carol = [r for r in lines if "carol" in r["conversation"]["id"]]
        assert [r["timestamp_utc"] for r in carol] == sorted(r["timestamp_utc"] for r in carol)
        assert any(r["body"] == "Crème brûlée 🍮 at Zoë’s" for r in lines)
        unsent = [r for r in lines if r["deleted"]]
        assert len(unsent) == 1 and unsent[0]["kind"] == "deleted"
        assert calls == []
    else:
        assert len(lines) == 6 and all(r["zone_assumed"] for r in lines)
        assert [(c["direction"], c["result"]) for c in calls] == [
            ("outgoing", "unknown"),
            ("incoming", "missed"),
        ]


def test_html_without_participants_header(tmp_path: Path) -> None:
    src = HTML_2023 / "messages/inbox/bobsmith_1234567890"
    dest = tmp_path / "messages/inbox/bobsmith_1234567890"
    shutil.copytree(src, dest)
    page = (dest / "message_1.html").read_text()
    page = page.replace(f"Participants: Bob Smith, {OWNER}", "")
    (dest / "message_1.html").write_text(page)
    ctx = ParseContext(owner_names=[OWNER])
    msgs = messages([tmp_path], ctx)
    assert [m.direction for m in msgs] == ["incoming", "outgoing", "incoming", "incoming"]
    assert {p.id for p in msgs[0].conversation.participants} == {"bob smith", "zoë ward"}
    assert any("Participants" in w.category for w in ctx.warnings.values())


def test_msys_owner_from_file_name_and_integer_id_space(tmp_path: Path) -> None:
    import sqlite3

    alone = tmp_path / "msys_database_100000000000001"
    shutil.copy(ANDROID / alone.name, alone)
    ctx = ParseContext()
    msgs = messages([alone], ctx)
    assert [m.direction for m in msgs if m.kind == "text"][:2] == ["incoming", "outgoing"]
    assert "file name" in ctx.decisions[str(alone)]["owner_basis"]

    # A mailbox whose message table has an integer key gets an IdSpace (no AUTOINCREMENT here).
    variant = tmp_path / "v" / "msys_database_100000000000001"
    variant.parent.mkdir()
    conn = sqlite3.connect(variant)
    conn.executescript("""
        CREATE TABLE messages (pk INTEGER PRIMARY KEY, message_id TEXT, thread_key INTEGER,
            sender_id INTEGER, text TEXT, timestamp_ms INTEGER);
        CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT);
        INSERT INTO contacts VALUES (100000000000002, 'Greg Hall');
        INSERT INTO messages VALUES (1, 'm1', 100000000000002, 100000000000002, 'a', 1700000000000);
        INSERT INTO messages VALUES (3, 'm3', 100000000000002, 100000000000001, 'b', 1700000060000);
    """)
    conn.commit()
    conn.close()
    found, _ = records([variant])
    spaces = [r for _, r in found if isinstance(r, IdSpace)]
    assert len(spaces) == 1
    assert spaces[0].ids == [1, 3] and spaces[0].id_column == "pk"
    assert not spaces[0].autoincrement and "no AUTOINCREMENT" in spaces[0].note
    assert [r.record_id for _, r in found if isinstance(r, Message)] == [1, 3]
    assert all(m.record_id is None for m in msgs)
