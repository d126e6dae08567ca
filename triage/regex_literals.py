"""Text that every match of a regular expression contains, so most texts can be ruled out
without running it.

:func:`required_literals` reads a compiled pattern's parse tree (``re._parser``, the parser
``re.compile`` itself uses) and gives a set of strings such that the case-folded text of every
match contains at least one of them, or ``None`` when it cannot say. Whatever it does not
understand (a back reference, a character class, a repeat of unknown length) it treats as
"anything", so the answer only ever errs on the side of ``None``.

The strings are in case-folded form (``str.casefold``), the form in which the lexicon already
matches its words: ``casefold`` maps each character on its own, so the fold of a match is a
piece of the fold of the text. Under ``re.IGNORECASE`` a pattern character stands for every
character the ``re`` module matches to it; for ASCII characters those are known
(:data:`IGNORECASE_FOLDS`, checked against ``re`` in the tests) and any other character under
``IGNORECASE`` is treated as "anything".
"""

from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parse
import string
from typing import Any

#: What the case-folded forms of the characters ``re.IGNORECASE`` matches to an ASCII character
#: can be: the character's own fold, and for "i" also those of dotted capital I (U+0130, which
#: folds to "i" and a combining dot) and dotless i (U+0131).
IGNORECASE_FOLDS: dict[str, frozenset[str]] = {
    c: frozenset({"i", "\u0131", "i\u0307"}) if c in "iI" else frozenset({c.casefold()})
    for c in string.printable
}

# Beyond this many alternatives a piece of a pattern counts as "anything".
_MOST = 64


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` contains one (case-folded), or ``None``;
    never a set holding the empty string."""
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - an unreadable tree only means no prefilter
        return None
    icase = bool(parsed.state.flags & re.IGNORECASE)
    return _required(list(parsed), icase)


def _product(parts: list[frozenset[str]]) -> frozenset[str] | None:
    out: set[str] = {""}
    for part in parts:
        out = {a + b for a in out for b in part}
        if len(out) > _MOST:
            return None
    return frozenset(out)


def _exact(item: tuple[Any, Any], icase: bool) -> frozenset[str] | None:
    """Every (case-folded) text ``item`` can match, when they are few and known."""
    op, av = item
    if op is sre.LITERAL:
        ch = chr(av)
        if not icase:
            return frozenset({ch.casefold()})
        return IGNORECASE_FOLDS.get(ch)
    if op is sre.IN:
        out: set[str] = set()
        for member_op, member in av:
            if member_op is not sre.LITERAL:
                return None
            found = _exact((sre.LITERAL, member), icase)
            if found is None:
                return None
            out |= found
        return frozenset(out) if out and len(out) <= _MOST else None
    if op is sre.SUBPATTERN:
        _group, add, remove, inner = av
        return _exact_seq(list(inner), _flags(icase, add, remove))
    if op is sre.BRANCH:
        out = set()
        for branch in av[1]:
            found = _exact_seq(list(branch), icase)
            if found is None:
                return None
            out |= found
        return frozenset(out) if len(out) <= _MOST else None
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, inner = av
        found = _exact_seq(list(inner), icase)
        if found is None or high > 3:
            return None
        choices: set[str] = set()
        for n in range(low, high + 1):
            more = _product([found] * n)
            if more is None:
                return None
            choices |= more
        return frozenset(choices) if len(choices) <= _MOST else None
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        # Zero width: it adds no characters to the match.
        return frozenset({""})
    if op is sre.ATOMIC_GROUP:
        return _exact_seq(list(av), icase)
    return None


def _exact_seq(items: list[tuple[Any, Any]], icase: bool) -> frozenset[str] | None:
    parts = []
    for item in items:
        found = _exact(item, icase)
        if found is None:
            return None
        parts.append(found)
    return _product(parts)


def _flags(icase: bool, add: int, remove: int) -> bool:
    if add & re.IGNORECASE:
        return True
    if remove & re.IGNORECASE:
        return False
    return icase


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The set that rules more texts out: the one whose shortest string is longer."""
    if a is None or "" in a:
        return None if b is None or "" in b else b
    if b is None or "" in b:
        return a
    return b if min(map(len, b)) > min(map(len, a)) else a


def _required(items: list[tuple[Any, Any]], icase: bool) -> frozenset[str] | None:
    """Strings of which every match of the sequence ``items`` contains one."""
    best: frozenset[str] | None = None
    # A stretch of items each with known texts matches one of their concatenations; a stretch
    # whose concatenations grow too many is cut where they do and started again.
    run: list[frozenset[str]] = []
    for item in [*items, (None, None)]:
        found = None if item[0] is None else _exact(item, icase)
        if found is not None:
            if _product([*run, found]) is None:
                best = _better(best, _product(run))
                run = []
            run.append(found)
            continue
        if run:
            best = _better(best, _product(run))
            run = []
        if item[0] is not None:
            best = _better(best, _required_in(item, icase))
    return best


def _required_in(item: tuple[Any, Any], icase: bool) -> frozenset[str] | None:
    op, av = item
    if op is sre.SUBPATTERN:
        _group, add, remove, inner = av
        return _required(list(inner), _flags(icase, add, remove))
    if op is sre.ATOMIC_GROUP:
        return _required(list(av), icase)
    if op is sre.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            found = _required(list(branch), icase)
            if found is None:
                return None
            out |= found
        return frozenset(out)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _required(list(av[2]), icase)
    return None


__all__ = ["IGNORECASE_FOLDS", "required_literals"]
