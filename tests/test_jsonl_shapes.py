"""Messages written by shape (``JsonlWriter.write_fields``, the chat export's path under ``triage
parse --jsonl``) give the bytes, warnings, decisions, counts and exit status of the general path
(a ``Message`` per line through ``JsonlWriter.write``): on every chat export fixture and on
generated exports."""

from __future__ import annotations

import io
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.test_whatsapp_txt_properties import FAST, android_lines
from triage import jsonl
from triage.ingest import MessageSink, ReadOutcome, iter_records
from triage.jsonl import JsonlWriter
from triage.model import Attachment, Call, Conversation, Message, Party, Provenance
from triage.registry import ParseContext

FIXTURES = ROOT / "fixtures" / "whatsapp_txt"
TARGETS = sorted(
    [p for p in FIXTURES.rglob("*") if p.suffix in (".txt", ".zip")]
    + [p for p in FIXTURES.rglob("*") if p.is_dir()]
    + [FIXTURES]
)


def _read(paths: list[Path], by_shape: bool, **context: Any) -> tuple[Any, ...]:
    """What ``triage parse --jsonl`` writes and reports for ``paths``, by shape or not."""
    ctx = ParseContext(**context)
    out = io.BytesIO()
    writer = JsonlWriter(out)
    outcome = ReadOutcome()
    yielded: Counter[str] = Counter()
    for _, record in iter_records(paths, ctx, outcome, writer if by_shape else None):
        yielded[type(record).__name__] += 1
        if isinstance(record, Message):
            writer.write(record)
        elif isinstance(record, Call):
            writer.write_call(record)
    writer.flush()
    warned = [(key, w.count, w.examples) for key, w in ctx.warnings.items()]
    counts = [(s.file.logical, dict(s.counts), s.error) for s in outcome.sources]
    return out.getvalue(), warned, ctx.decisions, counts, outcome.status(ctx), yielded


@pytest.mark.parametrize("path", TARGETS, ids=lambda p: str(p.relative_to(FIXTURES)) or ".")
@pytest.mark.parametrize("owner", [[], ["Bob"], ["Alice"]])
def test_every_fixture_gives_the_same_output_by_shape(path: Path, owner: list[str]) -> None:
    general = _read([path], False, owner_names=owner)
    by_shape = _read([path], True, owner_names=owner)
    assert by_shape[:5] == general[:5]


def test_the_fixtures_are_mostly_written_by_shape() -> None:
    # Not a vacuous comparison: most messages of the exports do not come out as Message records.
    _, _, _, counts, _, yielded = _read([FIXTURES], True, owner_names=["Bob"])
    messages = sum(c["messages"] for _, c, _ in counts)
    assert messages > 100 and yielded["Message"] < messages / 3


ios_lines = st.one_of(
    st.tuples(
        st.integers(1, 28),
        st.sampled_from(["Alice", "Bob", "Night shift", "\u200eBob"]),
        st.sampled_from(
            [
                "hi",
                "\u200eimage omitted",
                "\u200eMessages and calls are end-to-end encrypted.",
                "This message was deleted.",
                "\u200eYou deleted this message.",
                "ok <This message was edited>",
                "\u200eMissed voice call",
                "caf\u00e9 \ud800",
            ]
        ),
    ).map(lambda t: f"[{t[0]}/03/2022, 10:{t[0]:02d}:00] {t[1]}: {t[2]}"),
    st.sampled_from(["more text", "", "[1/2/22, 10:00:00] x: y", "23/03/2022, 13:31 - A: b"]),
)


def _export(lines: list[str], first: str) -> tuple[Any, ...]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "WhatsApp Chat with Night shift.txt"
        text = "\n".join([first, *lines]) + "\n"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        general = _read([path], False, owner_names=["Bob"])
        by_shape = _read([path], True, owner_names=["Bob"])
    return general, by_shape


@FAST
@given(st.lists(android_lines, min_size=1, max_size=40))
def test_generated_android_exports_give_the_same_output_by_shape(body: list[str]) -> None:
    general, by_shape = _export(body, "23/03/2022, 13:31 - Alice: start")
    assert by_shape[:5] == general[:5]


@FAST
@given(st.lists(ios_lines, min_size=1, max_size=40))
def test_generated_ios_exports_give_the_same_output_by_shape(body: list[str]) -> None:
    general, by_shape = _export(body, "[23/03/2022, 13:31:00] Alice: start")
    assert by_shape[:5] == general[:5]


# -- the writer on its own ------------------------------------------------------------------------
ALICE = Party(raw="Alice", id="alice", name="Alice", scheme="name")
CONV = Conversation(id="whatsapp:export:1", title="T", participants=[ALICE])
SRC = Provenance("chat.txt", "ab" * 32, "whatsapp_txt", "line 1")


def _shape(**fields: Any) -> Message:
    base: dict[str, Any] = {
        "platform": "whatsapp",
        "conversation": CONV,
        "timestamp_utc": None,
        "timestamp_raw": "",
        "zone_assumed": True,
        "direction": "incoming",
        "sender": ALICE,
        "recipients": [],
        "body": "",
        "kind": "text",
        "source": SRC,
    }
    return Message(**(base | fields))


ROWS = [
    (datetime(2022, 3, 1, 10, 0, tzinfo=UTC), "1/3/22, 10:00", "hi", "line 1", "k:1", {"a": 1}),
    (datetime(2022, 3, 1, 10, 0, 0, 5000, tzinfo=UTC), "t", None, "line 2", None, {}),
    (None, "t", "lone \ud800 surrogate", "line 3", "k:3", {"raw_line": "x\ud800"}),
    (datetime(999, 1, 1, tzinfo=UTC), "t", "\ue0002\ue001 a mark", "line 4", "k", {"b": b"\x00"}),
]


@pytest.mark.parametrize(
    "shape",
    [
        _shape(),
        _shape(direction="system", sender=None, kind="system"),
        # A constant field that holds a mark, and one orjson refuses: written the general way.
        _shape(attachments=[Attachment(name="\ue0002\ue001.jpg")]),
        _shape(attachments=[Attachment(name="\udc80.jpg")]),
    ],
)
def test_a_line_by_shape_is_the_line_of_the_whole_message(shape: Message) -> None:
    by_shape, general = io.BytesIO(), io.BytesIO()
    a, b = JsonlWriter(by_shape), JsonlWriter(general)
    for row in ROWS * 2:
        a.write_fields(shape, *row)
        b.write(jsonl.whole(shape, *row))
    a.flush()
    b.flush()
    assert by_shape.getvalue() == general.getvalue()
    assert by_shape.getvalue().count(b'"record":"message"') == len(ROWS) * 2


def test_shapes_follow_the_party_cache_when_it_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_PARTIES", 3)
    people = [Party(raw=f"P{n}", id=f"p{n}", name=None, scheme="name") for n in range(6)]
    conv = Conversation(id="c", participants=[])
    shapes = [_shape(conversation=conv, sender=p) for p in people]
    by_shape, general = io.BytesIO(), io.BytesIO()
    a, b = JsonlWriter(by_shape), JsonlWriter(general)
    for n in range(40):
        shape = shapes[(n * 7) % 6] if n % 3 else shapes[0]
        row = ROWS[0][:3] + (f"line {n}",) + ROWS[0][4:]
        a.write_fields(shape, *row)
        b.write(jsonl.whole(shape, *row))
    a.flush()
    b.flush()
    assert by_shape.getvalue() == general.getvalue()
    # The cache restarted, so some party was written twice, under two keys.
    assert by_shape.getvalue().count(b'"raw":"P0"') > 1


def test_a_sink_checks_each_shape_once_and_counts_every_message() -> None:
    writer = JsonlWriter(io.BytesIO())
    sink = MessageSink(writer, {})
    good = _shape()
    for n in range(3):
        sink.message(good, None, "t", "b", f"line {n}", None, {})
    assert sink.count == 3 and sink.last_locator == "line 2"
    bad = _shape(direction="sideways", source=Provenance("f", "s", "whatsapp_txt", "line 9"))
    with pytest.raises(ValueError, match="line 9: unknown direction 'sideways'"):
        sink.message(bad, None, "t", "b", "line 10", None, {})


def test_a_parser_that_stops_early_is_reported_after_the_same_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from triage.parsers import whatsapp_txt

    def broken(self: Any, marker: Any) -> Attachment:
        raise RuntimeError("no attachment")

    monkeypatch.setattr(whatsapp_txt._State, "attachment", broken)
    lines = ["23/03/2022, 13:32 - Bob: hi", "more", "23/03/2022, 13:33 - Alice: <Media omitted>"]
    general, by_shape = _export(lines, "23/03/2022, 13:31 - Alice: start")
    assert by_shape[:5] == general[:5]
    ((_, counts, error),) = by_shape[3]
    assert counts["messages"] == 2 and error == "RuntimeError: no attachment (after line 2)"
