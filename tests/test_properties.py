"""Property tests (hypothesis): phone normalisation, the time converters and the JSONL writer
never raise on arbitrary input, and round-trip where a round trip exists."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from triage.clock import from_apple, from_unix_ms, from_unix_s, local_to_utc
from triage.identity import normalise_phone, party
from triage.jsonl import JsonlWriter, read_records
from triage.model import Conversation, Message, Provenance
from triage.terminal import plain

FAST = settings(max_examples=150, deadline=None)
numbers = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
)


@FAST
@given(st.text(), st.sampled_from(["GB", "US", "DE", "FR", "IN"]))
def test_phone_normalisation_never_raises_and_is_idempotent(raw: str, region: str) -> None:
    first = normalise_phone(raw, region)
    if first is not None:
        assert first.startswith("+") and first[1:].isdigit()
        assert normalise_phone(first, region) == first
    party(raw, region)  # any text, any kind: never raises


@FAST
@given(st.integers(min_value=1_000_000_000, max_value=9_999_999_999), st.sampled_from(["GB"]))
def test_written_forms_of_one_gb_number_meet(digits: int, region: str) -> None:
    national = f"07{digits % 10**9:09d}"
    e164 = normalise_phone(national, region)
    if e164 is None:
        return  # not a valid mobile number in that range
    spaced = f"{national[:5]} {national[5:]}"
    assert normalise_phone(spaced, region) == e164
    assert normalise_phone("00" + e164[1:], region) == e164
    assert normalise_phone("\u200e" + e164 + "\u200f", region) == e164


@FAST
@given(numbers)
def test_converters_return_utc_or_fail_cleanly(value: int | float | None) -> None:
    for convert in (from_unix_ms, from_unix_s, from_apple):
        try:
            result = convert(value)
        except (OverflowError, ValueError):
            continue  # out of any date's range: the caller's record guard skips and counts it
        assert result is None or result.tzinfo is UTC


@FAST
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)))
def test_unix_ms_round_trip(naive: datetime) -> None:
    moment = naive.replace(tzinfo=UTC, microsecond=naive.microsecond // 1000 * 1000)
    ms = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert from_unix_ms(ms) == moment


@FAST
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)),
    st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
)
def test_local_to_utc_round_trips_outside_skipped_hours(naive: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    utc, note = local_to_utc(naive, tz)
    assert utc.tzinfo is UTC
    if note != "nonexistent":
        assert utc.astimezone(tz).replace(tzinfo=None) == naive


evidence_values = st.one_of(
    st.none(),
    st.text(),
    st.binary(max_size=64),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
)


@FAST
@given(st.one_of(st.none(), st.text()), st.dictionaries(st.text(max_size=8), evidence_values))
def test_jsonl_writer_takes_any_body_and_extra(body: str | None, extra: dict) -> None:
    msg = Message(
        platform="sms",
        conversation=Conversation(id="sms:thread:1"),
        timestamp_utc=None,
        timestamp_raw=None,
        zone_assumed=False,
        direction="incoming",
        sender=None,
        recipients=[],
        body=body,
        kind="text",
        source=Provenance(file="f", sha256="0" * 64, format="android_mmssms", locator="sms._id=1"),
        extra=extra,
    )
    out = io.BytesIO()
    writer = JsonlWriter(out)
    writer.write(msg)
    writer.flush()
    text = out.getvalue().decode("utf-8")
    # schema, source, conversation and the message: one JSON object per line
    lines = text.split("\n")
    assert len(lines) == 5 and lines[-1] == ""
    assert all(json.loads(line) for line in lines[:-1])
    (back,) = read_records(lines)
    assert back["body"] == body  # text round-trips exactly
    for key, value in extra.items():
        if isinstance(value, bytes):
            assert back["extra"][key].startswith("base64:")
        elif isinstance(value, float) and math.isfinite(value):
            assert back["extra"][key] == value


@FAST
@given(st.text())
def test_terminal_text_has_no_control_characters(text: str) -> None:
    shown = plain(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert "\u202e" not in shown
