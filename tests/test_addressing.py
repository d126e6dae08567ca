"""The one addressing rule (triage.addressing) and the model's checks at ingest."""

from __future__ import annotations

import datetime as dt

import pytest

from triage.addressing import sender_and_recipients
from triage.model import Conversation, Message, Party, Provenance, RecordError, check_message

OWNER = Party("(device owner)", "owner", scheme="owner")
ALICE = Party("+447700900123", "+447700900123", scheme="phone")
BOB = Party("+447700900456", "+447700900456", scheme="phone")


def test_one_to_one() -> None:
    assert sender_and_recipients("outgoing", OWNER, ALICE, [ALICE]) == (OWNER, [ALICE])
    assert sender_and_recipients("incoming", OWNER, ALICE, [ALICE]) == (ALICE, [OWNER])
    # Outgoing with no counterpart named: the conversation's participants.
    assert sender_and_recipients("outgoing", OWNER, None, [ALICE]) == (OWNER, [ALICE])


def test_group_is_delivered_to_every_other_member() -> None:
    members = [OWNER, ALICE, BOB]
    assert sender_and_recipients("outgoing", OWNER, None, members, True) == (OWNER, [ALICE, BOB])
    assert sender_and_recipients("incoming", OWNER, ALICE, members, True) == (ALICE, [OWNER, BOB])
    # A member equal by normalised id but another object is still the sender, not a recipient.
    alice_again = Party("07700 900123", "+447700900123", scheme="phone")
    assert sender_and_recipients("incoming", OWNER, alice_again, members, True)[1] == [OWNER, BOB]


def test_system_and_unknown() -> None:
    assert sender_and_recipients("system", OWNER, ALICE, [ALICE, BOB], True) == (ALICE, [])
    assert sender_and_recipients("unknown", OWNER, ALICE, [ALICE, BOB], True) == (ALICE, [BOB])
    assert sender_and_recipients("unknown", OWNER, None, [ALICE]) == (None, [ALICE])


def _message(**kw) -> Message:
    values = {
        "platform": "sms",
        "conversation": Conversation("sms:thread:1", participants=[ALICE]),
        "timestamp_utc": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "timestamp_raw": "0",
        "zone_assumed": False,
        "direction": "incoming",
        "sender": ALICE,
        "recipients": [OWNER],
        "body": "x",
        "kind": "text",
        "source": Provenance("mmssms.db", "0" * 64, "test", "sms._id=1"),
    }
    return Message(**{**values, **kw})


@pytest.mark.parametrize(
    ("field", "value"),
    [("platform", "telegram"), ("direction", "inbound"), ("kind", "sticker")],
)
def test_values_outside_the_vocabulary_are_refused(field: str, value: str) -> None:
    check_message(_message())
    with pytest.raises(RecordError, match=value):
        check_message(_message(**{field: value}))


def test_scheme_and_id_space_are_checked() -> None:
    with pytest.raises(RecordError, match="scheme"):
        check_message(_message(sender=Party("x", "x", scheme="msisdn")))
    with pytest.raises(RecordError, match="id_space"):
        check_message(_message(record_id=1))
    check_message(_message(record_id=1, id_space="sms"))


def test_a_conversation_is_checked_again_whenever_its_members_change() -> None:
    # As ingest checks one source: a conversation's members are remembered once checked.
    checked: dict = {}
    group = Conversation("whatsapp:group:1", is_group=True, participants=[ALICE])
    check_message(_message(conversation=group), checked)
    bad = Party("x", "x", scheme="msisdn")
    # A member added later (a new author of a chat export) is checked ...
    group.participants.append(bad)
    with pytest.raises(RecordError, match="msisdn"):
        check_message(_message(conversation=group), checked)
    # ... and so is a replaced list, even of the length checked before, or a shorter one.
    group.participants = [BOB]
    check_message(_message(conversation=group), checked)
    group.participants = [bad]
    with pytest.raises(RecordError, match="msisdn"):
        check_message(_message(conversation=group), checked)
    members = [ALICE, BOB]
    group.participants = members
    check_message(_message(conversation=group), checked)
    members[:] = [bad]
    with pytest.raises(RecordError, match="msisdn"):
        check_message(_message(conversation=group), checked)


def test_messages_are_counted_however_the_source_ends(tmp_path) -> None:
    from triage.evidence import Evidence
    from triage.ingest import SourceResult, parse_detection
    from triage.registry import ParseContext, detect

    export = tmp_path / "WhatsApp Chat with Alice.txt"
    export.write_text(
        "".join(f"01/02/2024, 10:{m:02d} - Alice: message {m}\n" for m in range(30)),
        encoding="utf-8",
    )
    with Evidence() as evidence:
        evidence.add_input(export, "chat")
        (detection,) = [d for d in detect(list(evidence.files())) if d.parser is not None]
        whole = SourceResult(detection.file, detection.parser.name, detection.parser.version)
        assert sum(1 for _ in parse_detection(detection, ParseContext(), whole)) == 30
        assert whole.counts["messages"] == 30
        # A reader that stops early (closing the generator) still finds what it read counted.
        part = SourceResult(detection.file, detection.parser.name, detection.parser.version)
        records = parse_detection(detection, ParseContext(), part)
        for _ in range(5):
            next(records)
        records.close()
        assert part.counts["messages"] == 5
