"""A run that fails must not leave pages that look like a valid result.

When the run fails after its report was written (the evidence changed, an internal error), the
failure is recorded in the case store's meta (``run_failed``) and every page says so in a banner
(``base.html.j2``), so ``triage report`` keeps saying it. A run that fails before it writes its
report may leave the pages of an earlier run into the same folder, which are then views of a case
store this run has already replaced: those pages get the same banner, written into each one.
"""

from __future__ import annotations

import html
from pathlib import Path

BANNER_CLASS = "run-failed"


def banner(why: str) -> str:
    return (
        f'<p class="{BANNER_CLASS}" role="alert"><strong>This run failed; its results must not be '
        f"used.</strong> {html.escape(why)}</p>"
    )


def mark_pages(out: Path, why: str) -> int:
    """Put the failure banner at the top of every report page in ``out`` that lacks one; returns
    how many pages were marked."""
    marked = 0
    for page in sorted(out.rglob("*.html")):
        if (out / "media") in page.parents:
            continue
        text = page.read_text("utf-8")
        if f'class="{BANNER_CLASS}"' in text or "<main>" not in text:
            continue
        page.write_text(text.replace("<main>", "<main>\n" + banner(why), 1), "utf-8")
        marked += 1
    return marked
