"""One wording for a gap in the record numbers, used on the gaps page, inline in a conversation
and on a contact page, from the gap finding alone (docs/FINDINGS.md, ``gap.id``/``gap.order``).

Where a gap belongs is the gaps analyser's decision (``subject``, ``attributed_by``,
``between``); the report only words it: "in the conversation with Female A", or "between the
conversations with Female A and Female B" when it lies between conversations, never
"unattributed" on one page and "Deletion gap" on another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from triage.report import plain
from triage.report.formats import count
from triage.store import Finding

LABEL = "Gap in the record numbers"
POSITIONS = {
    "leading": "before the first record that survives",
    "trailing": "after the last record that survives",
}


def view(
    f: Finding,
    title: Callable[[str], str | None],
    names: dict[str, str],
    when: Callable[[Any], str],
    traces: list[Finding],
) -> dict[str, Any]:
    """Everything a page shows of one gap. ``title`` names a conversation key (``None`` for a
    key with no conversation), ``when`` writes a UTC time in the case zone."""
    d = f.data
    low, high = d.get("missing_from"), d.get("missing_to")
    minimum = d.get("missing_min")
    if minimum is None and isinstance(low, int) and isinstance(high, int):
        minimum = high - low + 1
    if low is None or high is None:
        span = "?" if low is None and high is None else str(low if low is not None else high)
    else:
        span = f"{low}-{high}" if low != high else f"{low}"
    key = f.subject if f.subject and title(f.subject) is not None else None
    order = f.rule == "gap.order"
    what = (
        f"at least {count(minimum, 'record')} missing"
        if isinstance(minimum, int)
        else "records missing"
    )
    records = (
        f"{'order numbers' if order else 'record numbers'} {span} in "
        + plain.table(d.get("format"), d.get("table"))
        if order
        else plain.records(d.get("format"), d.get("table"), low, high)
    )
    start = when(d["window_start_utc"]) if d.get("window_start_utc") else None
    end = when(d["window_end_utc"]) if d.get("window_end_utc") else None
    if start and end:
        window = f"between {start} and {end}"
    elif end:
        window = f"before {end}"
    elif start:
        window = f"after {start}"
    else:
        window = "at no known time"
    conversation = title(key) if key else None
    if conversation:
        where = f"in the conversation {conversation}"
        basis = [b for b in d.get("attributed_by") or [] if b != "both neighbours"]
        if basis:
            where += f" (placed there by {' and '.join(basis)})"
    else:
        others = [title(k) or k for k in d.get("between") or []]
        if len(others) > 1:
            where = "between the conversations " + " and ".join(others)
        elif d.get("position") in POSITIONS:
            where = POSITIONS[d["position"]] + (f", next to {others[0]}" if others else "")
        else:
            where = "in no single conversation"
    return {
        "id": f.id,
        "subject": f.subject,
        "conversation": conversation or where,
        "conversation_key": key if conversation else None,
        "contact": names.get(d.get("contact_key") or ""),
        "contact_key": d.get("contact_key"),
        "minimum": minimum if minimum is not None else "?",
        "what": what,
        "records": records,
        "where": where,
        "window": window,
        "sentence": f"{what[0].upper()}{what[1:]} ({records}), {where}, {window}.",
        "range": span,
        "file": d.get("file"),
        "table": d.get("table"),
        "id_column": d.get("id_column"),
        "technical": f"{d.get('table')}.{d.get('id_column')} {span}",
        "start": start or "before the first message read",
        "end": end or "after the last message read",
        "strength": d.get("strength"),
        "position": d.get("position"),
        "why": f.why,
        "recovered": d.get("recovered") or [],
        "traces": [{"id": t.id, "kind": t.data.get("kind")} for t in traces],
    }
