"""The case store as the run's one source of truth: the report rebuilt from it alone, the
model-derived row mapping, and item 16 of issue 12 (app notices are never messages with anyone)."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.casefile import case_from_data, case_to_data, load_case
from triage.cli import main
from triage.model import iso_utc
from triage.run import run_case
from triage.store import Store
from triage.store.codec import _utc_text

REPORT_FILES = ("*.html", "contacts/*.html", "conversations/*.html", "*.csv", "findings.json")


def report_bytes(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for pattern in REPORT_FILES
        for p in out.glob(pattern)
    }


def test_triage_report_rebuilds_the_run_pages_from_the_store_alone(
    demo_case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    before = report_bytes(out)
    assert len([p for p in before if p.startswith("conversations/")]) > 3
    # Nothing but the store (and the media copies beside it) is needed: move the case away.
    shutil.rmtree(demo_case.parent)
    for name in before:
        (out / name).unlink()
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert report_bytes(out) == before


def test_triage_report_refuses_a_folder_without_a_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code != 0 and "no case.sqlite" in result.output


@pytest.mark.parametrize("content", ["garbage", "other sqlite"])
def test_triage_report_refuses_a_file_that_is_not_a_case_store(
    tmp_path: Path, content: str
) -> None:
    """Random bytes, or an SQLite file without the store's tables, named case.sqlite: a one-line
    error naming the file, exit status 2, not an internal error."""
    path = tmp_path / "case.sqlite"
    if content == "garbage":
        path.write_bytes(bytes(range(256)) * 16)
    else:
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "not a case store written by 'triage run'" in result.output
    assert f"error: {path}: not a case store" in result.output
    assert "internal error" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.sqlite"]


def test_triage_report_refuses_a_store_of_another_schema(demo_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_case(load_case(demo_case), out)
    pages = report_bytes(out)
    store = Store(sqlite3.connect(out / "case.sqlite"), out / "case.sqlite")
    store.conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    store.close()
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 2, result.output
    assert "written with case store schema 6" in result.output
    assert "Run 'triage run' on the case file again" in result.output
    assert "internal error" not in result.output
    # Nothing was rewritten from the store it refused.
    assert report_bytes(out) == pages


def test_case_round_trips_through_the_store_meta(demo_case: Path) -> None:
    case = load_case(demo_case)
    again = case_from_data(case_to_data(case))
    assert again == case


def test_utc_text_is_iso_utc() -> None:
    for when in (
        dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 2, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(1999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    ):
        assert _utc_text(when) == iso_utc(when)
    assert _utc_text(None) is None


TXT = (
    "12/03/2026, 21:40 - Messages and calls are end-to-end encrypted. No one outside of this "
    "chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n"
    "12/03/2026, 21:41 - PC Test: Hello, it's PC Test from earlier\n"
    "12/03/2026, 21:45 - Katie L: Oh hi\n"
    "12/03/2026, 21:46 - PC Test: Are you ok?\n"
)


def test_export_notices_are_not_messages_with_a_contact(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "WhatsApp Chat with Katie L.txt").write_text(TXT, "utf-8")
    case_path = tmp_path / "case.yaml"
    case_path.write_text(
        "case:\n  reference: TEST/16\nsubject:\n  name: PC Test\n"
        "contacts:\n  - name: Female A\n    role: victim\n    identifiers:\n"
        '      - phone: "07700 900123"\n    aliases: [Katie L]\n'
        "sources:\n  - evidence\n",
        "utf-8",
    )
    result = run_case(load_case(case_path), tmp_path / "out")
    store = Store.open(result.store_path)
    notices = [s for s in store.messages() if s.message.is_system]
    assert len(notices) == 1
    summary = next(f for f in store.findings() if f.rule == "contact.summary")
    split = next(f for f in store.findings() if f.rule == "duty.contact-split")
    assert summary.data["message_count"] == 3 == split.data["total"]
    assert summary.data["first_sender"] == "subject"
    assert summary.data["first_message_id"] != notices[0].id
    assert notices[0].id not in summary.refs and notices[0].id not in split.refs


def _msg(key: str, locator: str):  # noqa: ANN202 - a Message
    from triage.model import Conversation, Message, Party, Provenance

    her = Party("+447700900123", "+447700900123", scheme="phone")
    return Message(
        platform="sms",
        conversation=Conversation("sms:thread:1", participants=[her]),
        timestamp_utc=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC),
        timestamp_raw="0",
        zone_assumed=False,
        direction="incoming",
        sender=her,
        recipients=[Party("(device owner)", "owner", scheme="owner")],
        body="same",
        kind="text",
        source=Provenance("a.db", "0" * 64, "test", locator),
        duplicate_key=key,
    )


@pytest.fixture(params=["own hashes", "one hash for every key"])
def key_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys of stored messages are remembered by their hash and checked against the stored
    key when a hash is met again: with every key sharing one hash, the same copies meet."""
    if request.param == "one hash for every key":
        monkeypatch.setattr("triage.store.messages._hash", lambda key: 0)


def test_copies_are_kept_once_across_ingests_and_indexing(tmp_path: Path, key_hashes: None) -> None:
    store = Store.create(tmp_path / "s.sqlite")
    first = store.add_source("a.db", "0" * 64, 1, "test", "1")
    store.ingest(first, [_msg("k1", "sms._id=1"), _msg("k1", "sms._id=1 again")])
    store.index()  # lets the in-memory keys go
    second = store.add_source("b.xml", "1" * 64, 1, "test", "1")
    store.ingest(second, [_msg("k1", "smses[0]"), _msg("k2", "smses[1]")])
    assert [s.message.source.locator for s in store.messages()] == ["sms._id=1", "smses[1]"]
    assert [d["locator"] for d in store.duplicates()] == ["sms._id=1 again", "smses[0]"]
    # The parties of both messages are stored once.
    assert len(store.parties()) == 2


def _copy(copy: str, device: str, locator: str):  # noqa: ANN202 - a Message
    msg = _msg(None, locator)
    msg.copy_key = copy
    msg.device = device
    return msg


def test_a_copy_on_another_device_meets_the_first_copy_kept(
    tmp_path: Path, key_hashes: None
) -> None:
    # Copy keys are remembered only from a second device on; the copy then meets the first
    # message stored with its key, whether that was stored in an earlier batch, an earlier
    # ingest, or earlier in the same list, and copies on one device are both kept.
    for split in ([2, 3], [5], [1, 2, 2]):
        store = Store.create(tmp_path / f"s{len(split)}{split[0]}.sqlite")
        records = [
            _copy("c1", "device-1", "a1"),
            _copy("c1", "device-1", "a2"),
            _copy("c2", "device-1", "a3"),
            _copy("c1", "device-2", "b1"),
            _copy("c3", "device-2", "b2"),
        ]
        source = store.add_source("a.db", "0" * 64, 1, "test", "1")
        at = 0
        for n in split:
            store.ingest(source, records[at : at + n])
            at += n
        kept = {s.message.source.locator: s.id for s in store.messages()}
        assert sorted(kept) == ["a1", "a2", "a3", "b2"]
        assert [(d["locator"], d["kept_message_id"]) for d in store.duplicates()] == [
            ("b1", kept["a1"])
        ]
        store.close()


def test_every_copy_read_at_once_is_every_copy_read_by_id(tmp_path: Path) -> None:
    """``copies_of()`` (the report's one read of the table) equals ``copies_of`` the kept
    ids, copy for copy in the order read; ``duplicates(limit)`` is the first of
    ``duplicates()`` and ``duplicate_count`` their number."""
    store = Store.create(tmp_path / "s.sqlite")
    source = store.add_source("a.db", "0" * 64, 1, "test", "1")
    records = [_copy(f"c{n % 7}", "device-1", f"a{n}") for n in range(7)]
    records += [_copy(f"c{n % 7}", f"device-{2 + n % 3}", f"b{n}") for n in range(40)]
    store.ingest(source, records)
    store.index()
    every = store.duplicates()
    assert len(every) == 40 == store.duplicate_count()
    assert store.duplicates(limit=5) == every[:5]
    kept = sorted({d["kept_message_id"] for d in every})
    assert len(kept) == 7
    assert store.copies_of() == store.copies_of(kept)
    assert store.copies_of(kept[:2]) == {k: store.copies_of()[k] for k in kept[:2]}
    assert [c["locator"] for c in store.copies_of()[kept[0]]] == [f"b{n}" for n in range(0, 40, 7)]
    assert store.copies_of([]) == {}
    store.close()


def test_each_recipient_list_is_stored_once_and_reads_back_in_order(tmp_path: Path) -> None:
    """Messages with the same recipients (in the same order) share one stored list, across
    batches, ingests and a reopened store; every message reads back its own recipients in
    order, and the ``recipients`` view gives a row per recipient per message."""
    from dataclasses import replace

    from triage.model import Party
    from triage.store.messages import _party_key

    owner = Party("(device owner)", "owner", scheme="owner")
    members = [
        Party(f"+4477009001{n:02d}", f"+4477009001{n:02d}", scheme="phone") for n in range(6)
    ]
    lists = [[owner], [owner, *members[:3]], [owner, *members[:3][::-1]], [], [owner, *members]]

    def batch(start: int, n: int) -> list:
        return [
            replace(_msg(None, f"r{i}"), recipients=list(lists[i % len(lists)]))
            for i in range(start, start + n)
        ]

    at = tmp_path / "s.sqlite"
    store = Store.create(at)
    source = store.add_source("a.db", "0" * 64, 1, "test", "1")
    store.ingest(source, batch(0, 12))
    store.ingest(source, batch(12, 13))
    store.index()
    store.close()
    store = Store(sqlite3.connect(at), at)
    store.ingest(store.add_source("b.db", "1" * 64, 1, "test", "1"), batch(25, 10))
    stored = list(store.messages())
    assert len(stored) == 35
    for m in stored:
        n = int(m.message.source.locator[1:])
        assert [p.raw for p in m.message.recipients] == [p.raw for p in lists[n % len(lists)]]
    # Four distinct non-empty lists, whatever the number of messages.
    assert store.conn.execute("SELECT COUNT(*) FROM recipient_lists").fetchone()[0] == 4
    view = store.conn.execute(
        "SELECT message_id, position, party_id FROM recipients ORDER BY 1, 2"
    ).fetchall()
    expected = [
        (m.id, position, store._party_ids[_party_key(p)])
        for m in sorted(stored, key=lambda m: m.id)
        for position, p in enumerate(m.message.recipients)
    ]
    assert view == expected
    store.close()


def _in_conversation(msg, key: str, device: str):  # noqa: ANN001, ANN202 - Messages
    from dataclasses import replace

    return replace(msg, conversation=replace(msg.conversation, id=key), device=device)


def test_a_reopened_store_finds_the_device_of_a_kept_message_when_it_ingests(
    tmp_path: Path,
) -> None:
    # The device of each stored message is read from the store when a batch is stored, not
    # when it is opened: a copy ingested into a reopened store still knows where its kept
    # message was read. One from another device registers its own conversation; one from
    # the same device adds none.
    at = tmp_path / "s.sqlite"
    store = Store.create(at)
    first = store.add_source("a.db", "0" * 64, 1, "test", "1")
    store.ingest(first, [_in_conversation(_msg("k1", "a"), "sms:thread:1", "device-1")])
    store.index()
    store.close()
    for device, conversations in (("device-1", 1), ("device-2", 2)):
        copy = tmp_path / f"{device}.sqlite"
        shutil.copy(at, copy)
        store = Store(sqlite3.connect(copy), copy)
        second = store.add_source("b.db", "1" * 64, 1, "test", "1")
        store.ingest(second, [_in_conversation(_msg("k1", "b"), "sms:thread:9", device)])
        assert [d["locator"] for d in store.duplicates()] == ["b"]
        count = store.conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]
        assert count == conversations, device
        store.close()


def test_opening_a_store_reads_no_table_of_messages_through(tmp_path: Path) -> None:
    # Opening is O(1) in the messages: the analysers' second process, the exports process,
    # `triage report` and the run's summary each open the store (a scan was 0.14 s at 300k).
    at = tmp_path / "s.sqlite"
    store = Store.create(at)
    source = store.add_source("a.db", "0" * 64, 1, "test", "1")
    store.ingest(source, [_msg(f"k{n}", f"sms._id={n}") for n in range(50)])
    store.index()
    store.close()
    conn = sqlite3.connect(at)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    Store(conn, at)
    conn.set_trace_callback(None)
    plans = [
        " ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
    ]
    assert plans and not [p for p in plans if "SCAN messages" in p], plans


def test_page_messages_of_chosen_conversations_are_in_the_order_of_one_sorted_read(
    tmp_path: Path,
) -> None:
    # Conversations stored in another order than their keys', times out of order, ties and
    # undated messages: each conversation's walk of its index gives the order of one read of
    # every message sorted by conversation key and time.
    from dataclasses import replace

    store = Store.create(tmp_path / "s.sqlite")
    source = store.add_source("a.db", "0" * 64, 1, "test", "1")
    at = [None, 3, 1, 3, None, 2, 1, 5]
    messages = []
    for n, hour in enumerate(at * 3):
        base = _msg(f"k{n}", f"sms._id={n}")
        messages.append(
            replace(
                base,
                conversation=replace(base.conversation, id=("zeta", "alpha", "mid")[n % 3]),
                timestamp_utc=None
                if hour is None
                else dt.datetime(2026, 3, 1, hour, tzinfo=dt.UTC),
            )
        )
    store.ingest(source, messages)
    store.index()
    every = [s.id for s in store.messages_by_conversation()]
    keys = sorted({m.conversation.id for m in messages})
    assert [m.id for m in store.page_messages_by_conversation(keys)] == every
    of = {s.id: s.message.conversation.id for s in store.messages_by_conversation()}
    chosen = ["alpha", "no such conversation", "zeta"]
    assert [m.id for m in store.page_messages_by_conversation(chosen)] == [
        i for i in every if of[i] in chosen
    ]
    assert store.conversation_keys_of([every[0], every[-1]]) == {of[every[0]], of[every[-1]]}
    store.close()


def test_page_messages_read_recovered_facts_from_live_rows_extra(tmp_path: Path) -> None:
    # A parser may keep an earlier version's facts on a live row (extra["recovered"]); the page
    # query reads extra only where its text may hold that key, the decoder decides.
    from dataclasses import replace

    facts = {"status": "earlier", "source": "WAL frame 3", "confidence": "high"}
    extras = [
        {"recovered": facts},
        {"note": "was recovered", "recoveredish": 1},
        {"list": ["recovered"], "z": {"recovered": facts}},
        {"chat_row_id": 2, "type": "text"},
        {},
    ]
    store = Store.create(tmp_path / "s.sqlite")
    source = store.add_source("a.db", "0" * 64, 1, "test", "1")
    messages = [
        replace(_msg(f"k{n}", f"sms._id={n}"), extra=extra) for n, extra in enumerate(extras)
    ]
    store.ingest(source, messages)
    store.index()
    read = list(store.page_messages_by_conversation(["sms:thread:1"]))
    assert [m.recovered for m in read] == [facts, None, None, None, None]
    store.close()
