"""Lexicons: loading with line-and-field errors, one-pass matching, and the demo's hit counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.lexicon import (
    LexiconError,
    Matcher,
    default_lexicon_path,
    load_lexicon,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case-words.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def terms(matcher: Matcher, text: str) -> list[tuple[str, str]]:
    return [(h.category, text[h.start : h.end]) for h in matcher.hits(text)]


def test_default_lexicon_loads_with_its_identity() -> None:
    lex = load_lexicon(default_lexicon_path())
    assert lex.name == "default" and lex.version == "1"
    import hashlib

    assert lex.sha256 == hashlib.sha256(default_lexicon_path().read_bytes()).hexdigest()
    assert {t.category for t in lex.terms} == {
        "endearment",
        "sexual",
        "meet",
        "delete-or-secret",
        "derogatory",
    }


def test_case_folding_word_boundaries_emoji_and_regex(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """name: t
version: "2"
entries:
  - category: endearment
    words: [babe, "good girl"]
  - category: endearment
    words: [Hun]
    case_fold: false
  - category: sexual
    emoji: ["🍑"]
  - category: meet
    words: [round]
    word_boundary: false
  - category: delete-or-secret
    regex: ["delete (?:the|these) (?:texts?|messages?)"]
""",
    )
    m = Matcher([load_lexicon(path)])
    assert terms(m, "BABE, Babel, babes") == [("endearment", "BABE")]
    assert terms(m, "Good Girl!") == [("endearment", "Good Girl")]
    assert terms(m, "Hun hun") == [("endearment", "Hun")]
    assert terms(m, "peach🍑🍑") == [("sexual", "🍑"), ("sexual", "🍑")]
    assert terms(m, "come around") == [("meet", "round")]
    assert terms(m, "Delete THESE messages; undelete the texts") == [
        ("delete-or-secret", "Delete THESE messages")
    ]
    assert m.hits("nothing here") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: t\nversion: 1\n", "case-words.yaml line 1: entries: missing"),
        (
            "name: t\nversion: 1\nentries:\n  - category: flirting\n    words: [a]\n",
            "case-words.yaml line 4: entries[0].category: expected one of endearment, sexual,",
        ),
        (
            "name: t\nversion: 1\nentries:\n  - category: meet\n    words: [a]\n    regex: [b]\n",
            "case-words.yaml line 4: entries[0]: give exactly one of words:",
        ),
        (
            "name: t\nversion: 1\nentries:\n  - category: meet\n    regex: [ok, '(unclosed']\n",
            "case-words.yaml line 5: entries[0].regex[1]: not a valid regular expression",
        ),
        (
            "name: t\nversion: 1\nentries:\n  - category: meet\n    words: [a]\n"
            "    case_fold: maybe\n",
            "case-words.yaml line 6: entries[0].case_fold: expected true or false",
        ),
        (
            "name: t\nversion: 1\nentries:\n  - category: meet\n    wrods: [a]\n",
            "case-words.yaml line 5: entries[0].wrods: unknown key",
        ),
    ],
)
def test_errors_name_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(LexiconError) as err:
        load_lexicon(write(tmp_path, text))
    assert str(err.value).startswith(expected)


def test_bad_lexicon_named_by_case_file_is_a_one_line_error(
    demo_case: Path,
    cli: CliRunner,
) -> None:
    from triage.casefile import load_case
    from triage.cli import main

    (demo_case.parent / "words.yaml").write_text(
        "name: mine\nversion: 1\nentries:\n  - category: nope\n    words: [x]\n", encoding="utf-8"
    )
    demo_case.write_text(
        demo_case.read_text(encoding="utf-8") + "\nlexicons:\n  - words.yaml\n", encoding="utf-8"
    )
    assert load_case(demo_case).lexicons == [(demo_case.parent / "words.yaml").resolve()]
    result = cli.invoke(main, ["run", str(demo_case), "--out", str(demo_case.parent / "out")])
    assert result.exit_code != 0
    assert "words.yaml line 4: entries[0].category: expected one of" in result.output
    assert "Traceback" not in result.output


def test_demo_hit_counts(demo_case: Path, tmp_path: Path) -> None:
    """Hand-derived from fixtures/demo/generate.py with profiles/lexicons/default.yaml.

    Female A, live rows only (deleted SMS "Delete these after yeah" and "Don't tell anyone...",
    and WhatsApp "Don't make me come round" deleted for me, are not searched):
      SMS: 06/03 "Thinking about you" (endearment), 07/03 "Fancy a drink" (meet), 09/03
      "thinking about you" (endearment), 19/03 "Miss you" (endearment), 02/04 "Can I come
      round" (meet); "Thinking of you" is no term.
      WhatsApp: "Delete the texts x" (delete-or-secret), "Good girl", "Thinking about you",
      "Still think about you" (endearment).
      -> endearment 6 messages / 6 hits, meet 2 / 2, delete-or-secret 1 / 1.
    Female C (Messenger): "Small world. Fancy a drink?" -> meet 1 / 1.
    """
    from triage.casefile import load_case
    from triage.run import run_case
    from triage.store import Store

    run = run_case(load_case(demo_case), tmp_path / "out", report=False)
    store = Store.open(run.store_path)
    found = {(f.rule, f.subject): f for f in store.findings("lexicon")}
    a = found[("lexicon.contact", "contact-1")].data["categories"]
    assert a == {
        "endearment": {"hits": 6, "messages": 6},
        "meet": {"hits": 2, "messages": 2},
        "delete-or-secret": {"hits": 1, "messages": 1},
    }
    c = found[("lexicon.contact", "contact-3")].data["categories"]
    assert c == {"meet": {"hits": 1, "messages": 1}}
    assert ("lexicon.contact", "contact-2") not in found
    summary = found[("lexicon.summary", None)].data
    assert summary["lexicons"][0]["name"] == "default"
    assert len(summary["lexicons"][0]["sha256"]) == 64
    manifest = __import__("json").loads(run.manifest_path.read_text(encoding="utf-8"))
    assert "default" in str(manifest["settings"]["lexicons"])
    store.close()
