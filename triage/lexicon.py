"""Lexicons: user-editable lists of words, phrases, regular expressions and emoji by category.

A lexicon is a YAML file (``profiles/lexicons/<name>.yaml``; the format is documented in the
shipped ``default.yaml`` and in docs/FINDINGS.md). Each entry gives a ``category`` (one of
:data:`CATEGORIES`), a ``language``, one list of ``words``, ``phrases``, ``regex`` or ``emoji``,
and the options ``case_fold`` (default true) and ``word_boundary`` (default true, false for
emoji). Validation reads the YAML node tree so every error names the file, line and field, as
the case file does.

Matching is one pass per message: the word, phrase and emoji lists of all entries go into one
Aho-Corasick automaton per case setting (folded text and text as written), and each regular
expression is compiled once. A hit is one occurrence of one term.

Over many messages (:meth:`Matcher.scan`) a prefilter runs first: one automaton holding every
term's folded text and, for each regular expression, text every match of it contains
(:mod:`triage.regex_literals`), run once over all the folded texts joined. Only a message it
finds something in is matched term by term, so the hits are those of :meth:`Matcher.hits`.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import ahocorasick
import yaml

from triage.casefile import CaseFileError, _Reader, compose_yaml
from triage.regex_literals import required_literals
from triage.shipped import profiles_dir as shipped_profiles

CATEGORIES: tuple[str, ...] = (
    "endearment",  # terms of endearment
    "sexual",  # sexual content
    "meet",  # requests to meet
    "delete-or-secret",  # requests to delete messages or keep them secret
    "derogatory",  # derogatory language about victims or groups
)
TermKind = Literal["words", "phrases", "regex", "emoji"]
TERM_KINDS: tuple[str, ...] = ("words", "phrases", "regex", "emoji")


class LexiconError(CaseFileError):
    """A lexicon problem, worded as the one line the user sees (file, line, field)."""


@dataclass(frozen=True, slots=True)
class Term:
    category: str
    kind: TermKind
    text: str
    language: str
    case_fold: bool
    word_boundary: bool


@dataclass(frozen=True, slots=True)
class Hit:
    category: str
    term: str
    start: int
    end: int


@dataclass
class Lexicon:
    name: str
    version: str
    sha256: str
    path: Path
    description: str | None
    terms: list[Term] = field(default_factory=list)

    def identity(self) -> dict[str, str]:
        """What the manifest and report record: which lexicon, which version, which bytes."""
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "file": self.path.name,
        }


def lexicons_dir() -> Path:
    """``profiles/lexicons/`` shipped with triage."""
    return shipped_profiles("lexicons")


def default_lexicon_path() -> Path:
    return lexicons_dir() / "default.yaml"


def load_lexicon(path: Path | str) -> Lexicon:
    """Read and validate one lexicon file; raises :class:`LexiconError` naming line and field."""
    path = Path(path)
    raw, root = compose_yaml(path, "the lexicon", LexiconError)
    name = path.name
    if root is None:
        raise LexiconError(f"{name}: the lexicon is empty")
    try:
        return _parse(_Reader(name), root, raw, path)
    except LexiconError:
        raise
    except CaseFileError as exc:
        raise LexiconError(str(exc)) from None


def _parse(r: _Reader, root: yaml.Node, raw: bytes, path: Path) -> Lexicon:
    top = r.mapping(root, "", ("name", "version", "description", "language", "entries"))
    for required in ("name", "version", "entries"):
        if required not in top:
            raise _fail(r, root, required, "missing")
    default_language = r.text(top["language"], "language") if "language" in top else "en"
    lexicon = Lexicon(
        name=r.text(top["name"], "name"),
        version=r.text(top["version"], "version"),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
        description=r.text(top["description"], "description") if "description" in top else None,
    )
    for i, node in enumerate(r.sequence(top["entries"], "entries")):
        where = f"entries[{i}]"
        e = r.mapping(
            node, where, ("category", "language", "case_fold", "word_boundary", "note", *TERM_KINDS)
        )
        if "category" not in e:
            raise _fail(r, node, f"{where}.category", "missing")
        category = r.choice(e["category"], f"{where}.category", CATEGORIES)
        kinds = [k for k in TERM_KINDS if k in e]
        if len(kinds) != 1:
            raise _fail(r, node, where, "give exactly one of words:, phrases:, regex:, emoji:")
        kind = kinds[0]
        language = r.text(e["language"], f"{where}.language") if "language" in e else None
        case_fold = r.boolean(e["case_fold"], f"{where}.case_fold") if "case_fold" in e else True
        boundary = (
            r.boolean(e["word_boundary"], f"{where}.word_boundary")
            if "word_boundary" in e
            else kind != "emoji"
        )
        items = r.sequence(e[kind], f"{where}.{kind}")
        if not items:
            raise _fail(r, e[kind], f"{where}.{kind}", "list at least one entry")
        for j, item in enumerate(items):
            text = r.text(item, f"{where}.{kind}[{j}]")
            if kind == "regex":
                try:
                    re.compile(text)
                except re.error as exc:
                    raise _fail(
                        r, item, f"{where}.regex[{j}]", f"not a valid regular expression: {exc}"
                    ) from None
            elif not text.strip():
                raise _fail(r, item, f"{where}.{kind}[{j}]", "expected a value (text)")
            lexicon.terms.append(
                Term(category, kind, text, language or default_language, case_fold, boundary)  # type: ignore[arg-type]
            )
    return lexicon


def _fail(r: _Reader, node: yaml.Node, where: str, message: str) -> LexiconError:
    return LexiconError(str(r.fail(node, where, message)))


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class Matcher:
    """All terms of one or more lexicons, matched in one pass over a text."""

    def __init__(self, lexicons: Iterable[Lexicon]) -> None:
        self._folded = ahocorasick.Automaton()
        self._exact = ahocorasick.Automaton()
        self._regexes: list[tuple[re.Pattern[str], Term]] = []
        folded: dict[str, list[Term]] = {}
        exact: dict[str, list[Term]] = {}
        for lexicon in lexicons:
            for term in lexicon.terms:
                if term.kind == "regex":
                    pattern = rf"\b(?:{term.text})\b" if term.word_boundary else term.text
                    flags = re.IGNORECASE if term.case_fold else 0
                    self._regexes.append((re.compile(pattern, flags), term))
                elif term.case_fold:
                    folded.setdefault(term.text.casefold(), []).append(term)
                else:
                    exact.setdefault(term.text, []).append(term)
        for automaton, table in ((self._folded, folded), (self._exact, exact)):
            for key, terms in table.items():
                automaton.add_word(key, (len(key), tuple(terms)))
            if table:
                automaton.make_automaton()
        self._has_folded = bool(folded)
        self._has_exact = bool(exact)
        # The prefilter: every folded term, and text each regular expression's matches hold
        # (an expression with none worth using is run on every text instead).
        self._prefilter = ahocorasick.Automaton()
        self._unfiltered: list[re.Pattern[str]] = []
        keys = set(folded) | {key.casefold() for key in exact}
        for pattern, _term in self._regexes:
            found = required_literals(pattern)
            if found is None or min(map(len, found)) < 3:
                self._unfiltered.append(pattern)
            else:
                keys |= found
        for key in sorted(keys):
            self._prefilter.add_word(key, None)
        if keys:
            self._prefilter.make_automaton()

    def hits(self, text: str) -> list[Hit]:
        """Every occurrence of every term in ``text``, in order of where it starts."""
        found: list[Hit] = []
        if self._has_folded:
            # Offsets are in the folded text; a hit is shown with its whole message, so a fold
            # that changes length (German sharp s) only moves the offsets, never the match.
            self._scan(self._folded, text.casefold(), found)
        if self._has_exact:
            self._scan(self._exact, text, found)
        for pattern, term in self._regexes:
            for m in pattern.finditer(text):
                found.append(Hit(term.category, term.text, m.start(), m.end()))
        if len(found) > 1:
            found.sort(key=lambda h: (h.start, h.category, h.term))
        return found

    def scan(self, texts: Sequence[str]) -> list[tuple[int, list[Hit]]]:
        """(position in ``texts``, its hits) of every text with a hit, in order: what
        :meth:`hits` gives each text, found by matching only the texts the prefilter names."""
        candidates: set[int] = set()
        if len(self._prefilter):
            folded = [text.casefold() for text in texts]
            starts = list(itertools.accumulate((len(f) + 1 for f in folded), initial=0))
            # A term met across the separator only adds a text to match for nothing.
            joined = "\n".join(folded)
            where = bisect.bisect_right
            for end, _ in self._prefilter.iter(joined):
                candidates.add(where(starts, end) - 1)
        for pattern in self._unfiltered:
            search = pattern.search
            candidates.update(i for i, text in enumerate(texts) if search(text))
        out = []
        for i in sorted(candidates):
            found = self.hits(texts[i])
            if found:
                out.append((i, found))
        return out

    @staticmethod
    def _scan(automaton: ahocorasick.Automaton, text: str, found: list[Hit]) -> None:
        size = len(text)
        for end, (length, terms) in automaton.iter(text):
            start = end - length + 1
            before = text[start - 1] if start > 0 else ""
            after = text[end + 1] if end + 1 < size else ""
            for term in terms:
                if term.word_boundary and (
                    (before and _is_word(before) and _is_word(text[start]))
                    or (after and _is_word(after) and _is_word(text[end]))
                ):
                    continue
                found.append(Hit(term.category, term.text, start, end + 1))


def case_lexicon_paths(paths: Iterable[Path]) -> list[Path]:
    """The lexicon files a case names, or the shipped default when it names none."""
    return list(paths) or [default_lexicon_path()]


def load_lexicons(paths: Iterable[Path]) -> list[Lexicon]:
    """Every lexicon a case uses (see :func:`case_lexicon_paths`), validated."""
    return [load_lexicon(p) for p in case_lexicon_paths(paths)]
