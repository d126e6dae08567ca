"""Text from evidence made safe to show: on the examiner's terminal, and bidi controls in the report.

File names, member names, message text and error messages come from the evidence, and a name can
carry ANSI escape sequences (recolour, move the cursor, rewrite earlier lines, set the window
title), a newline that splits one warning into two, or a bidirectional override that makes
``photo<RLO>gpj.exe`` read as ``photoexe.jpg``. Everything printed goes through :func:`shown`,
which writes such characters as visible escapes (``\\x1b``, ``\\n``, ``\\u202e``), and, for the
rich console, escapes its ``[markup]`` too.
"""

from __future__ import annotations

import re

from rich.markup import escape

# C0 controls (tab included: it can hide text), DEL, C1 controls (0x9b is a one-byte CSI on some
# terminals), the line and paragraph separators, and the bidirectional embedding, override and
# isolate controls and marks.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: object) -> str:
    """``text`` with every control, line-break and bidi character written as a visible escape."""
    return _UNSAFE.sub(_visible, str(text))


def shown(text: object) -> str:
    """:func:`plain`, and rich markup escaped: for values interpolated into console output."""
    return escape(plain(text))


# Controls that reorder the text around them: embeddings, overrides and isolates. In a file name
# ``photo<RLO>gpj.exe`` displays as "photoexe.jpg". Marks (LRM, RLM, ALM) only nudge neutral
# characters and are common around phone numbers, so the report leaves them.
BIDI_CONTROLS = {
    "\u202a": "LRE",
    "\u202b": "RLE",
    "\u202c": "PDF",
    "\u202d": "LRO",
    "\u202e": "RLO",
    "\u2066": "LRI",
    "\u2067": "RLI",
    "\u2068": "FSI",
    "\u2069": "PDI",
}
_BIDI = re.compile("[" + "".join(BIDI_CONTROLS) + "]")


def bidi_visible(text: str) -> str:
    """``text`` with each bidi embedding/override/isolate control written as ``[RLO U+202E]``
    (no HTML-special characters, so it is safe inside already-escaped markup too)."""
    # Most text is ASCII (a flag of the string, no scan) or holds none of the controls (a fast
    # substring search each); the regex is only for text that has one.
    if text.isascii() or not any(control in text for control in BIDI_CONTROLS):
        return text
    return _BIDI.sub(lambda m: f"[{BIDI_CONTROLS[m.group(0)]} U+{ord(m.group(0)):04X}]", text)
