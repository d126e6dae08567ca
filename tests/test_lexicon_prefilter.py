"""The lexicon's prefilter (``Matcher.scan``) finds exactly the hits of matching text by text.

``Matcher.hits`` is the reference: one text, every term. ``scan`` rules texts out first with one
automaton over all folded texts, holding the folded terms and, for each regular expression,
text every match of it contains (``triage.regex_literals``); the tests draw lexicons and texts
rich in what could break that: case folds that change length or are not what ``re`` does
(dotted and dotless i, sharp s, long s, the Kelvin sign, ligatures), anchors, look-behinds,
back references, inline flags and line breaks inside texts.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.lexicon import Lexicon, Matcher, Term, default_lexicon_path, load_lexicon
from triage.regex_literals import IGNORECASE_FOLDS, required_literals

REGEXES = [
    r"(?:can|could|shall) (?:we|i) (?:meet|see you)",
    r"delete (?:the|this|my) (?:texts?|pics?)",
    r"(?:don'?t|do not) tell (?:anyone|your \w+)",
    r"^hi babe",
    r"babe$",
    r"\Akiss",
    r"(?<!x)kiss",
    r"(?i:KISS) me",
    r"(?-i:Kiss) me",
    r"(ab)\1 xx",
    r"[ks]iss+ me",
    r"x{2,3}yy",
    r"(?:ı|i)lk",
    r"ﬁne day",
    r"straße",
    r"(?s:a.b)",
    r"(?>abc)d",
    r"a*+bcd",
    r"(?m:^me$)",
    r"i\b",
    r"\bme\b",
]
WORDS = ["babe", "kiss me", "straße", "İlk", "ﬁne", "😘", "me", "STRASSE", "ı", "K", "ss"]
PIECES = [
    *"abcdxyIiİıſKſ_1.",
    "babe",
    "Babe",
    "BABE",
    "kiss",
    "KISS",
    "Kiss",
    "me",
    "ME",
    "hi",
    "can",
    "we",
    "meet",
    "see you",
    "delete",
    "this",
    "thİs",
    "THIS",
    "my",
    "texts",
    "don't",
    "dont",
    "do not",
    "tell",
    "anyone",
    "your",
    "mum",
    "straße",
    "STRASSE",
    "ﬁne",
    "fine",
    "day",
    "ab",
    "abab",
    "abc",
    "xx",
    "yy",
    "lk",
    "😘",
    "❤️",
    " ",
    " ",
    "\n",
    # Whole matches of the expressions above, so that texts often hold one.
    "dont tell anyone",
    "don't tell your mum",
    "do not tell anyone",
    "can we meet",
    "could İ see you",
    "shall ı meet",
    "delete thİs texts",
    "delete my pics",
    "Delete the text",
    "kiss me",
    "KISS me",
    "Kiss me",
    "xkiss",
    "hi babe",
    "abab xx",
    "sssiss me",
    "xxyy",
    "xxxxyy",
    "ılk",
    "İlk",
    "ﬁne day",
    "abcd",
    "aaabcd",
    "a\nb",
]

texts = st.lists(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), max_size=12)


@st.composite
def lexicons(draw: st.DrawFn) -> Lexicon:
    terms = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["words", "phrases", "emoji", "regex"]))
        text = draw(st.sampled_from(REGEXES if kind == "regex" else WORDS))
        terms.append(Term("meet", kind, text, "en", draw(st.booleans()), draw(st.booleans())))
    return Lexicon("t", "1", "0" * 64, Path("t.yaml"), None, terms)


def _reference(matcher: Matcher, batch: list[str]) -> list:
    return [(i, hits) for i, text in enumerate(batch) if (hits := matcher.hits(text))]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lexicons(), texts)
def test_scan_equals_matching_each_text(lexicon: Lexicon, batch: list[str]) -> None:
    matcher = Matcher([lexicon])
    assert matcher.scan(batch) == _reference(matcher, batch)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(REGEXES), st.booleans(), texts)
def test_every_match_holds_a_required_literal(pattern: str, fold: bool, batch: list[str]) -> None:
    compiled = re.compile(pattern, re.IGNORECASE if fold else 0)
    found = required_literals(compiled)
    if found is None:
        return
    assert "" not in found
    for text in batch:
        if compiled.search(text):
            assert any(literal in text.casefold() for literal in found), (text, found)


def test_ignorecase_folds_are_those_re_matches() -> None:
    """Every character ``re.IGNORECASE`` matches to an ASCII character folds to one of
    ``IGNORECASE_FOLDS``."""
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for char in string.printable:
        folds = {m.group().casefold() for m in re.finditer(re.escape(char), every, re.I)}
        assert folds <= IGNORECASE_FOLDS[char], char


def test_the_default_lexicon_needs_no_expression_run_on_every_text() -> None:
    matcher = Matcher([load_lexicon(default_lexicon_path())])
    assert matcher._regexes and not matcher._unfiltered
    text = "Could we meet later? Delete these texts. don't tell your mum. babe"
    assert matcher.scan(["nothing here", text]) == [(1, matcher.hits(text))]
    assert len(matcher.hits(text)) >= 4


def test_scan_equals_matching_each_text_on_every_pair_of_pieces() -> None:
    """Every term and expression at once, under each setting, over every piece and every
    two pieces joined: each whole match above is met alone, at either end of a text and next
    to a folded, dotted or joined character."""
    batch = PIECES + [a + b for a in PIECES for b in PIECES]
    for fold in (True, False):
        for boundary in (True, False):
            terms = [Term("meet", "regex", r, "en", fold, boundary) for r in REGEXES] + [
                Term("sexual", "words", w, "en", fold, boundary) for w in WORDS
            ]
            matcher = Matcher([Lexicon("t", "1", "0" * 64, Path("t.yaml"), None, terms)])
            assert matcher.scan(batch) == _reference(matcher, batch)
