"""Property tests of the WhatsApp "Export chat" line parser (hypothesis; kept short for CI).

No exception on arbitrary text, whatever a line holds; and the round trips that exist: a header
written in any layout of the fixtures reads back as the time and text it was written from, and
the text reader gives back the lines it was given in every encoding it accepts.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from triage.parsers import whatsapp_txt_grammar as g
from triage.parsers.whatsapp_txt import WhatsAppTxt, _split_author

from triage import text_lines
from triage.evidence import Evidence
from triage.ingest import iter_records
from triage.jsonl import JsonlWriter
from triage.model import Message
from triage.registry import ParseContext
from triage.text_lines import TextLines

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp_txt"
_spec = importlib.util.spec_from_file_location("wa_make_fixtures", FIX / "make_fixtures.py")
assert _spec is not None and _spec.loader is not None
make_fixtures = importlib.util.module_from_spec(_spec)
sys.modules["wa_make_fixtures"] = make_fixtures
_spec.loader.exec_module(make_fixtures)

# The day/month order each layout of variants/ writes (as in test_whatsapp_txt.EXPECTED_ORDER),
# given to the parser so that a single generated date need not decide it.
ORDER = {"MDY": "MDY", "MYD": "MDY", "DMY": "DMY", "YMD": "YMD"}
LAYOUTS = {
    name: order
    for name, order in {
        "01_android_dmy_yyyy": "DMY",
        "03_android_mdy_yy": "MDY",
        "04_android_mdy_12h_p_m_spaced": "MDY",
        "06_android_mdy_12h_nbsp_inside": "MDY",
        "07_android_mdy_12h_narrow_nbsp": "MDY",
        "08_android_ymd_slash": "YMD",
        "11_android_dotted_yy_nocomma": "DMY",
        "15_ios_mdy_comma": "MDY",
        "18_android_fi_klo": "DMY",
        "19_ios_time_first": "MDY",
        "20_ios_arabic_indic": "DMY",
        "22_ios_buddhist_era": "MDY",
        "23_ios_reiwa_era": "MDY",
        "27_android_dashed_seconds_12h": "DMY",
        "34_no_separator_after_time": "DMY",
        "37_semicolon_sep": "DMY",
        "39_ios_lrm_before_bracket_12h": "MDY",
    }.items()
}
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

lines = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), max_size=120
) | st.sampled_from(
    [
        "23/03/2022, 13:31 - Alice: hi",
        "[3/23/22, 13:31:05] Alice: \u200eimage omitted",
        "3/6/18, 1:55\u202fPM - ",
        "23/03/2022, 23:59 PM - Bob: x",
        "[٢٣/٣/٢٠٢٢، ١:٣١:٠٥ م] A: b",
        "\ufeff23.03.22, 13:31 - ",
    ]
)


@FAST
@given(lines)
def test_grammar_never_raises_on_any_line(line: str) -> None:
    view = g.header_view(g.clean(line))
    found = g.generic_shape(view)
    if found is not None:
        shape, m = found
        g.compile_shape(shape).match(view)
        g.split_author(m["rest"])
        g.clock_hour(int(m["h"]), m["ap"])
    g.split_author(line)
    g.media_marker(line, lrm=True, sibling_exists=lambda _: False)
    g.media_marker(line)
    g.deletion_marker(line)
    g.call_marker(line)
    g.strip_edited(line)
    g.text_language(line)
    g.title_from_name(line)


@FAST
@given(st.lists(lines, min_size=1, max_size=12))
def test_parser_never_raises_on_any_file(body: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.txt"
        text = "23/03/2022, 13:31 - Alice: start\n" + "\n".join(body) + "\n"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        ctx = ParseContext()
        messages = [r for _, r in iter_records([path], ctx) if isinstance(r, Message)]
        # A chat header opens the file, so it is read as a chat; every message is a line of it.
        assert messages
        assert {m.extra["raw_line"] for m in messages} <= set(text.splitlines())


when = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2037, 12, 31))
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=40).map(
    lambda t: t.strip() or "x"
)


@FAST
@given(st.sampled_from(sorted(LAYOUTS)), when, words)
def test_header_round_trip_in_every_layout(layout: str, moment: datetime, text: str) -> None:
    assume(layout != "23_ios_reiwa_era" or moment.year >= 2019)  # Reiwa began in 2019
    # A body that is itself a marker ("image omitted", "missed voice call") is read as what it
    # marks, not as text: the round trip holds for plain text only.
    assume(g.media_marker(text) is None and g.deletion_marker(text) is None)
    assume(not g.call_marker(text) and g.strip_edited(text) == (text, False))
    render, bracket, eol = make_fixtures.V[layout]
    line = render(moment) + f"Alice: {text}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.txt"
        path.write_bytes((line + eol + render(moment) + "Bob: ok" + eol).encode("utf-8"))
        ctx = ParseContext(timezone="UTC", date_order=LAYOUTS[layout])
        first = next(r for _, r in iter_records([path], ctx) if isinstance(r, Message))
    with_seconds = "h:mm:ss" in next(iter(ctx.decisions.values()))["header_shape"].replace(".", ":")
    expected = moment.replace(microsecond=0, second=moment.second if with_seconds else 0)
    assert first.timestamp_utc == expected.replace(tzinfo=UTC), line
    assert (first.extra["author"], first.body) == ("Alice", text)


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def open(self) -> io.BytesIO:
        return io.BytesIO(self.data)


@FAST
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n\x00")
        ),
        max_size=20,
    ),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_text_lines_round_trip(given_lines: list[str], encoding: str) -> None:
    data = "".join(line + "\n" for line in given_lines).encode(encoding)
    reader = TextLines(_Bytes(data))  # type: ignore[arg-type]
    assert list(reader) == given_lines
    assert reader.replaced == reader.nul_removed == 0


authorish = st.text(alphabet=st.sampled_from(list('ab :"\u201c\u201d.x')), max_size=100)


@FAST
@given(authorish | lines)
def test_author_split_fast_path_is_the_grammar_split(rest: str) -> None:
    assert _split_author(rest) == g.split_author(rest)


# Android header lines of every kind the first pass tells apart (authors with quotes, colons,
# spaces or over 80 characters; system texts; deletion notices in two languages; bodies that
# start with a space; marks and odd spaces), and continuation lines.
android_authors = st.sampled_from(
    ["Alice", "Bob ", " Carol", 'Q "x" r', "a:b", "\u201cZ\u201d", "x" * 81, "\u200eEve", "Zoë"]
)
android_bodies = st.sampled_from(
    [
        "hi",
        "This message was deleted",
        "You deleted this message",
        "Diese Nachricht wurde gelöscht",
        " spaced",
        "",
        "ok: fine",
        "caf\u00e9 \U0001f600",
    ]
)
android_lines = st.one_of(
    st.tuples(st.integers(1, 28), st.integers(1, 12), android_authors, android_bodies).map(
        lambda t: f"{t[0]:02d}/{t[1]:02d}/2022, 10:{t[0]:02d} - {t[2]}: {t[3]}"
    ),
    st.sampled_from(
        [
            "03/02/2022, 11:00 - Alice left",
            "03/02/2022, 11:00 - Dmitry S added you",
            '04/02/2022, 11:00 - You changed the subject from "a: b" to "c"',
            "05/02/2022, 11:00 - Luke:",
            "٠٥/02/2022, 11:00 - Bob: arabic digit",
            "05/02/2022,\u00a011:00 - Bob: nbsp",
            "\u200e06/02/2022, 11:00 - Bob: mark",
            "more text",
            "",
            "12/12/2022 looks like a date",
        ]
    ),
    lines,
)


@FAST
@given(st.lists(android_lines, min_size=1, max_size=40), st.sampled_from([64, 200, 1 << 18]))
def test_first_pass_over_runs_equals_line_by_line(body: list[str], chunk: int) -> None:
    saved = text_lines.CHUNK
    text_lines.CHUNK = chunk  # many runs, and lines cut across chunk reads
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "chat.txt"
            text = "23/03/2022, 13:31 - Alice: start\n" + "\n".join(body) + "\n"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            with Evidence() as evidence:
                evidence.add_input(path)
                (file,) = list(evidence.files())
                parser, ctx = WhatsAppTxt(), ParseContext()
                by_runs = parser._scan(file, ctx)
                by_line = parser._scan(file, ctx, by_line=True)
    finally:
        text_lines.CHUNK = saved
    assert by_runs == by_line
    assert list(by_runs.authors) == list(by_line.authors)  # first-seen order too


def _records_and_warnings(file: Any, by_line: bool) -> tuple[bytes, list[Any], dict[str, Any]]:
    ctx = ParseContext(owner_names=["Bob"])
    out = io.BytesIO()
    writer = JsonlWriter(out)
    for record in WhatsAppTxt().parse(file, ctx, by_line=by_line):
        if isinstance(record, Message):
            writer.write(record)
        else:
            writer.write_call(record)  # type: ignore[arg-type]
    writer.flush()
    warned = [(key, w.count, w.examples) for key, w in ctx.warnings.items()]
    return out.getvalue(), warned, ctx.decisions


@FAST
@given(
    st.lists(st.sampled_from(["", "more text", "[1/2/22, 10:00:00] x: y"]), max_size=3),
    st.lists(android_lines, min_size=1, max_size=40),
    st.sampled_from([64, 200, 1 << 18]),
)
def test_second_pass_over_runs_equals_line_by_line(
    before: list[str], body: list[str], chunk: int
) -> None:
    saved = text_lines.CHUNK
    text_lines.CHUNK = chunk  # many runs, and items and lines across chunk reads
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "chat.txt"
            text = "\n".join([*before, "23/03/2022, 13:31 - Alice: start", *body]) + "\n"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            with Evidence() as evidence:
                evidence.add_input(path)
                (file,) = list(evidence.files())
                by_runs = _records_and_warnings(file, by_line=False)
                by_line = _records_and_warnings(file, by_line=True)
    finally:
        text_lines.CHUNK = saved
    assert by_runs == by_line
