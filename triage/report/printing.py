"""The printed report as an exhibit: every page headed and footed with the case.

Chromium prints CSS page-margin boxes (``@page { @top-left { content: ... } }``) on every
sheet, with ``counter(page)`` and ``counter(pages)`` for "Page N of M". Their text cannot be read
from the page, so the ``@page`` block is written for each case, after the fixed print rules of
``static/print.css``, into ``assets/print.css``. The case reference, examiner and production date
come from the case file (``case.reference``, ``case.examiner``, ``case.produced``), never from
the clock, so the same inputs still give the same bytes. Every string is written as a CSS string
with everything but plain letters, digits and a few punctuation marks escaped, so no text from
the case file can end the string or the rule.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from triage.casefile import Case

_PLAIN = re.compile(r"[A-Za-z0-9 ,.:/()_-]")


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: anything outside a small safe set as a six-digit
    escape (which needs no terminating space)."""
    return '"' + "".join(c if _PLAIN.fullmatch(c) else f"\\{ord(c):06x}" for c in text) + '"'


def page_texts(case: Case) -> dict[str, str]:
    """The header and footer texts of every printed page."""
    produced = (
        f"Produced {case.produced.day} {case.produced:%b %Y}"
        if case.produced
        else "Production date not given in the case file (case.produced)"
    )
    examiner = f"by {case.examiner}" if case.examiner else "examiner not named (case.examiner)"
    return {
        "top-left": f"Case {case.reference}",
        "top-right": "Triage report: a view of the case store, not conclusions",
        "bottom-left": f"{produced}, {examiner}",
    }


def page_rules(case: Case) -> str:
    texts = page_texts(case)
    box = "font: 8pt system-ui, sans-serif; color: #222;"
    rules = [
        "@page {",
        "  size: A4;",
        "  margin: 18mm 14mm 18mm 14mm;",
        *(f"  @{name} {{ content: {css_string(text)}; {box} }}" for name, text in texts.items()),
        f'  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} }}',
        "}",
    ]
    return "\n".join(rules) + "\n"


def write_print_css(assets: Path, case: Case) -> None:
    """``assets/print.css``: the fixed print rules, then this case's page header and footer."""
    fixed = resources.files("triage.report").joinpath("static", "print.css").read_text("utf-8")
    (assets / "print.css").write_text(fixed + "\n" + page_rules(case), "utf-8")
