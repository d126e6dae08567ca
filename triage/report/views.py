"""Filtered views: from a number on the first screen to exactly the messages behind it.

Each view is a page under ``views/`` listing the messages (or calls) one finding names, and only
those: the ids come from the finding itself (``refs``, ``message_ids``, ``outside_duty_ids``,
``night_ids``, an exhibit match's ``messages``, call refs with their ``status``), never from a
query of the report's own. A view says which finding it shows; each message in it links to its
place in its conversation, where it is marked on arrival (``#m<id>``, browse.js/browse.css).

The first screen's numbers become links by :meth:`Views.linked`: the headline text is kept as
the headline module wrote it, and each number whose view exists is wrapped in a link to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from triage.roster import OUTSIDE_DUTY
from triage.store import Finding

if TYPE_CHECKING:
    from triage.report.headlines import Headline
    from triage.report.writer import Report

FOLDER = "views"
PAGE_SIZE = 1000


@dataclass
class View:
    """One filtered view: a page name, what it shows, and the ids its finding lists."""

    name: str
    title: str
    source: str  # which finding and field the ids come from, in plain words
    findings: list[Finding]
    message_ids: list[int] = field(default_factory=list)
    call_ids: list[int] = field(default_factory=list)

    @property
    def href(self) -> str:
        return f"{FOLDER}/{self.name}.html"

    @property
    def count(self) -> int:
        return len(self.message_ids) + len(self.call_ids)


def _ids(value: Any) -> list[int]:
    return [int(v) for v in value or [] if isinstance(v, int)]


class Views:
    """Every filtered view of a run's findings, and the links to them."""

    def __init__(self, rules: dict[str, list[Finding]], names: dict[str, str]) -> None:
        self.by_key: dict[tuple[str, str], View] = {}
        # message id -> the exhibit matches that message carried: (exhibit id, match number).
        self.exhibits: dict[int, list[tuple[str, int]]] = {}
        for f in rules.get("duty.contact-split", []):
            key = f.subject or ""
            name = names.get(key, key)
            d = f.data
            self._add(
                "outside",
                key,
                f"Messages with {name} outside rostered duty",
                "the duty analysis's list of messages outside rostered duty",
                f,
                _ids(d.get("outside_duty_ids")),
                d.get("outside_duty_ids") is not None,
            )
            self._add(
                "outside-sent",
                key,
                f"Messages the device owner sent to {name} outside rostered duty",
                "the duty analysis's list of messages he sent outside rostered duty",
                f,
                _ids(d.get("outgoing_outside_duty_ids")),
                d.get("outgoing_outside_duty_ids") is not None,
            )
            self._add(
                "night",
                key,
                f"Messages with {name} at night",
                "the duty analysis's list of messages in the night window",
                f,
                _ids(d.get("night_ids")),
                d.get("night_ids") is not None,
            )
            calls = d.get("calls") or {}
            refs = calls.get("refs") or []
            listed = [r for r in refs if isinstance(r.get("call_id"), int)]
            call_views = (
                # (kind, title, where the ids come from, which of the listed calls)
                ("calls", f"Calls with {name}", "the duty analysis's list of calls", listed),
                (
                    "calls-outside",
                    f"Calls with {name} outside rostered duty",
                    "the duty analysis's call list, calls placed outside rostered duty",
                    [r for r in listed if r.get("status") in OUTSIDE_DUTY]
                    if calls.get("outside_duty") is not None
                    else [],
                ),
                (
                    "calls-night",
                    f"Calls with {name} at night",
                    "the duty analysis's call list, calls in the night window",
                    [r for r in listed if r.get("night") is True],
                ),
            )
            for kind, title, source, chosen in call_views:
                if chosen:
                    self.by_key[(kind, key)] = View(
                        f"{kind}-{key}", title, source, [f],
                        call_ids=[int(r["call_id"]) for r in chosen],
                    )  # fmt: skip
        for f in rules.get("contact.after-closure", []):
            key = f.subject or ""
            self._add(
                "after-closure",
                key,
                f"Messages with {names.get(key, key)} after the case closed",
                "the contact analysis's list of messages dated after the case closure date",
                f,
                list(f.refs),
                True,
            )
        carried: list[int] = []
        for n, f in enumerate(rules.get("exhibit.match", []), 1):
            exhibit = str(f.data.get("exhibit_id") or f.subject or "")
            for entry in f.data.get("messages") or []:
                mid = entry.get("message_id")
                if isinstance(mid, int):
                    self.exhibits.setdefault(mid, []).append((exhibit, n))
                    if mid not in carried:
                        carried.append(mid)
        if carried:
            self.by_key[("exhibit-messages", "")] = View(
                "exhibit-messages",
                "Messages that carried an exhibit match",
                "the picture matching's list of messages each exhibit match was sent or received in",
                list(rules["exhibit.match"]),
                message_ids=carried,
            )
        markers = rules.get("gap.marker", [])
        marked = [mid for f in markers for mid in _ids(f.data.get("message_ids"))]
        if marked:
            self.by_key[("deleted", "")] = View(
                "deleted",
                "Messages marked deleted or unsent by the app",
                "the deletion analysis's lists of messages the app marks deleted or unsent",
                list(markers),
                message_ids=marked,
            )

    def _add(
        self,
        kind: str,
        key: str,
        title: str,
        source: str,
        f: Finding,
        ids: list[int],
        listed: bool,
    ) -> None:
        if listed and ids:
            self.by_key[(kind, key)] = View(f"{kind}-{key}", title, source, [f], ids)

    # -- used by the writer and the templates --------------------------------------------------
    def href(self, kind: str, key: str = "", root: str = "") -> str | None:
        view = self.by_key.get((kind, key))
        return f"{root}{view.href}" if view else None

    def message_ids(self) -> set[int]:
        return {mid for v in self.by_key.values() for mid in v.message_ids}

    def exhibits_of(self, message_id: int) -> list[tuple[str, int]]:
        return self.exhibits.get(message_id, [])

    def linked(self, h: Headline, root: str = "") -> Markup:
        """The headline's text with each number that has a view (or a page) made a link."""
        return _link_spans(h.text, self._anchors(h, root))

    def _anchors(self, h: Headline, root: str) -> list[tuple[str, str]]:
        n = h.numbers
        key = str(n.get("contact") or "")
        out: list[tuple[str, str | None]] = []
        if h.rule == "contact.summary":
            out.append((rf"\b{n.get('found', 0):,} of [\d,]+ case contacts?", "#contacts"))
            if n.get("with_calls"):
                out.append(
                    (rf"(?<=Calls were found with ){n['with_calls']:,} of them", "#contacts")
                )
        elif h.rule == "duty.contact-split":
            view = self.by_key.get(("outside", key))
            if view:
                out.append((rf"\b{view.count:,}(?= of )", view.href))
            out.append((rf"\b{int(n.get('total') or 0):,} messages?\b", f"contacts/{key}.html"))
            sent = self.by_key.get(("outside-sent", key))
            if sent:
                out.append(
                    (
                        rf"\b{sent.count:,}(?= of (the )?[\d,]+ messages? (he|the device owner) sent)",
                        sent.href,
                    )
                )
            night = self.by_key.get(("night", key))
            if night:
                out.append((rf"\b{night.count:,} at night", night.href))
            every = self.by_key.get(("calls", key))
            if every:
                out.append((rf"\b{every.count:,} calls?(?= and [\d,]+ messages?)", every.href))
            calls = self.by_key.get(("calls-outside", key))
            if calls:
                out.append((rf"\b{calls.count:,} of the calls", calls.href))
            night_calls = self.by_key.get(("calls-night", key))
            if night_calls:
                # the calls' night figure follows the calls' own clause, never the messages'
                out.append(
                    (
                        rf"(?<=\bcalls outside rostered duty, ){night_calls.count:,} at night|(?<=in all\), ){night_calls.count:,} at night",
                        night_calls.href,
                    )
                )
        elif h.rule == "contact.after-closure":
            view = self.by_key.get(("after-closure", key))
            if view:
                out.append((rf"^{view.count:,} messages?", view.href))
        elif h.rule == "exhibit.match":
            out.append((r"^[\d,]+ exhibit match(es)?", "exhibits.html"))
            view = self.by_key.get(("exhibit-messages", ""))
            if view:
                out.append((r"\b(sent to|received from)\b[^;]*?(?=;|\.$|$)", view.href))
        elif h.rule == "gap.id":
            out.append((r"^[\d,]+ (deletion )?gaps?\b", "gaps.html"))
        elif h.rule == "gap.marker":
            view = self.by_key.get(("deleted", ""))
            if view:
                out.append((rf"^{view.count:,} messages?", view.href))
        return [(pattern, root + href) for pattern, href in out if href]

    # -- the pages -----------------------------------------------------------------------------
    def write(self, report: Report) -> None:
        folder = report.out / FOLDER
        for old in folder.glob("*.html"):
            old.unlink()
        for view in self.by_key.values():
            messages = report.messages_by_ids(view.message_ids)
            calls = report.store.calls_by_ids(view.call_ids) if view.call_ids else []
            pages = max(1, -(-len(messages) // PAGE_SIZE))
            for number in range(1, pages + 1):
                chunk = messages[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
                # Each message with the page of its conversation; no gaps (a view is not a
                # run of one conversation).
                rows = [
                    (*row, report.message_page.get(row[0].id)) if type(row) is tuple else row
                    for row in report.timeline_rows(chunk, calls if number == pages else [])
                    if type(row) is tuple or row["type"] != "gap"
                ]
                report.render(
                    "view.html.j2",
                    folder / _page(view.name, number),
                    v=view,
                    rows=rows,
                    page=number,
                    pages=pages,
                    page_base=view.name,
                    total=view.count,
                )


def _page(base: str, number: int) -> str:
    return f"{base}.html" if number == 1 else f"{base}-p{number}.html"


def _link_spans(text: str, anchors: list[tuple[str, str]]) -> Markup:
    """``text`` escaped, with the first match of each pattern (in order, not overlapping the
    previous one) wrapped in a link. A pattern that does not match adds nothing."""
    spans: list[tuple[int, int, str]] = []
    for pattern, href in anchors:
        taken = [(a, b) for a, b, _ in spans]
        for match in re.finditer(pattern, text):
            a, b = match.span()
            if a < b and all(b <= x or a >= y for x, y in taken):
                spans.append((a, b, href))
                break
    out: list[str] = []
    at = 0
    for a, b, href in sorted(spans):
        out.append(str(escape(text[at:a])))
        out.append(f'<a class="count" href="{escape(href)}">{escape(text[a:b])}</a>')
        at = b
    out.append(str(escape(text[at:])))
    return Markup("".join(out))
