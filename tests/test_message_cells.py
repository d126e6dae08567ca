"""Batches prepared for the store (triage/store/message_cells.py): what crosses from the parse
worker, the times as floats, and the same store whichever way a batch is prepared or sent."""

from __future__ import annotations

import datetime as dt
import marshal
import pickle
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from triage.model import (
    Attachment,
    Conversation,
    IdSpace,
    Message,
    Party,
    Provenance,
    Thumbnail,
)
from triage.store import Store
from triage.store.codec import _utc_text
from triage.store.message_cells import MessageCells, Prepared

ALICE = Party("447700900001@s.whatsapp.net", "+447700900001", "Alice", "phone")
BOB = Party("447700900002@s.whatsapp.net", "+447700900002", "Bob", "phone")
OWNER = Party("owner", None, None, "owner")


class Text(str):
    """A str subclass: marshal refuses it, so its batch crosses as a pickle."""


def _message(n: int, chat: Conversation, **changes: object) -> Message:
    fields: dict = {
        "platform": "whatsapp",
        "conversation": chat,
        "timestamp_utc": dt.datetime(2024, 3, 12, 8, 0, n % 60, n * 1000 % 1_000_000, dt.UTC),
        "timestamp_raw": str(n),
        "zone_assumed": False,
        "direction": "incoming" if n % 2 else "outgoing",
        "sender": ALICE if n % 2 else None,
        "recipients": [OWNER] if n % 2 else [ALICE, BOB],
        "body": f"message {n}",
        "kind": "text",
        "source": Provenance("chat.db", "ab" * 32, "test", f"row={n}"),
        "record_id": n,
        "id_space": "message",
        "extra": {"n": n} if n % 3 else {},
        "duplicate_key": f"whatsapp:{n % 40}",
    }
    fields.update(changes)
    return Message(**fields)


def _records() -> list:
    """Messages with every kind of shared object, copies, an attachment with a preview, odd
    times, and records other than messages between them."""
    chat = Conversation("whatsapp:group", "Group", True, [ALICE, BOB])
    other = Conversation("whatsapp:bob", "Bob", False, [BOB])
    records: list = [_message(n, chat if n % 5 else other) for n in range(60)]
    records[7].attachments = [
        Attachment("a.jpg", "media/a.jpg", "cd" * 32, "image/jpeg", 10, None, None),
        Attachment(None, thumbnail=Thumbnail("thumb of 7", b"\xff\xd8\xff")),
    ]
    records[8].timestamp_utc = None
    records[9].timestamp_utc = dt.datetime(2024, 3, 31, 1, 30, 5, 7, ZoneInfo("Europe/London"))
    records[10].timestamp_utc = dt.datetime(1969, 12, 31, 23, 59, 59, 999, dt.UTC)
    records[11].timestamp_utc = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
    records.insert(20, IdSpace("chat.db", "ab" * 32, "test", "message", "id", False, None, [1, 2]))
    records.insert(0, IdSpace("chat.db", "ab" * 32, "test", "other", "id", True, 9, [3]))
    records.append(IdSpace("chat.db", "ab" * 32, "test", "last", "id", True, 9, [4]))
    return records


def _store_bytes(tmp_path: Path, name: str, batches: list[Prepared]) -> tuple[bytes, list]:
    store = Store.create(tmp_path / name, "Europe/London")
    store.add_source("chat.db", "ab" * 32, 1, "test", "1", None)
    store.ingest_prepared(1, batches)
    store.index()
    dump = list(store.conn.iterdump())
    store.close()
    return (tmp_path / name).read_bytes(), dump


def test_a_batch_sent_to_the_store_reads_back_equal_and_stores_the_same(tmp_path: Path) -> None:
    cells = MessageCells(ZoneInfo("Europe/London"))
    here = cells.prepare(_records())
    there = pickle.loads(pickle.dumps(here))
    assert there == here and len(there) == len(here) == 63
    # Its columns crossed as a marshal (text, numbers and containers of them).
    assert any(callable(part) and part.__name__ == "_from_marshal" for part in here.__reduce__())
    direct, dump = _store_bytes(tmp_path, "direct.sqlite", [here])
    sent, sent_dump = _store_bytes(tmp_path, "sent.sqlite", [there])
    assert sent == direct and sent_dump == dump
    # As Store.ingest stores the records themselves.
    store = Store.create(tmp_path / "records.sqlite", "Europe/London")
    store.add_source("chat.db", "ab" * 32, 1, "test", "1", None)
    store.ingest(1, _records())
    store.index()
    store.close()
    assert (tmp_path / "records.sqlite").read_bytes() == direct
    rows = sqlite3.connect(tmp_path / "direct.sqlite").execute(
        "SELECT timestamp_utc, ts_local FROM messages WHERE locator IN"
        " ('row=7', 'row=8', 'row=9', 'row=10') ORDER BY id"
    )
    # What the store gave before batches were prepared (its times worked out one by one).
    assert rows.fetchall() == [
        ("2024-03-12T08:00:07.007Z", "2024-03-12T08:00:07"),
        (None, None),
        ("2024-03-31T01:30:05.000Z", "2024-03-31T02:30:05"),
        ("1969-12-31T23:59:59.000Z", "1970-01-01T01:00:00"),
    ]


def test_a_batch_marshal_cannot_write_crosses_as_a_pickle(tmp_path: Path) -> None:
    cells = MessageCells(ZoneInfo("Europe/London"))
    records = _records()
    records[30].body = Text("a str of another type")
    prepared = cells.prepare(records)
    assert prepared.__reduce__()[0] is Prepared
    there = pickle.loads(pickle.dumps(prepared))
    assert there == prepared
    assert _store_bytes(tmp_path, "a.sqlite", [there]) == _store_bytes(
        tmp_path, "b.sqlite", [cells.prepare(_records()[:30] + [records[30]] + _records()[31:])]
    )


def test_messages_sharing_objects_name_them_once() -> None:
    prepared = MessageCells(ZoneInfo("UTC")).prepare(_records())
    assert prepared.objects.count([OWNER]) == 1 and prepared.objects.count([ALICE, BOB]) == 1
    assert not [o for o in prepared.objects if isinstance(o, Conversation | Party)]
    assert [type(r) for r in prepared.messages() if not isinstance(r, tuple)] == [IdSpace] * 3
    # Conversations and senders cross as themselves, each one object on the other side too.
    there = pickle.loads(pickle.dumps(prepared))
    messages = [r for r in there.messages() if isinstance(r, tuple)]
    assert len({id(m[6]) for m in messages}) == 2
    assert len({id(m[7]) for m in messages if m[7] is not None}) == 1  # Alice as a sender
    assert {m[6].id for m in messages} == {"whatsapp:group", "whatsapp:bob"}


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2200, 12, 31),
        timezones=st.sampled_from([dt.UTC, ZoneInfo("UTC"), ZoneInfo("Europe/London")]),
    )
)
def test_a_time_sent_as_its_instant_gives_the_texts_of_the_time(when: dt.datetime) -> None:
    cells = MessageCells(ZoneInfo("Asia/Kolkata"))
    instant = marshal.loads(marshal.dumps(cells.instant(when)))
    utc, local = MessageCells(ZoneInfo("Asia/Kolkata")).texts(instant)
    assert utc == _utc_text(when)
    stamp = int(when.timestamp())
    wall = dt.datetime.fromtimestamp(stamp - stamp % 60, ZoneInfo("Asia/Kolkata"))
    assert local == f"{wall:%Y-%m-%dT%H:%M}:{stamp % 60:02d}"
    if when.tzinfo is dt.UTC:
        assert type(instant) is bytes  # the form that crosses cheaply
