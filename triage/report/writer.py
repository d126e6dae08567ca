"""Render the investigator's HTML report from the case store and the case file.

The report is a folder of static pages that open from the file system with no network access:
one stylesheet and one small script written beside them (so the Content-Security-Policy can
forbid inline script), charts drawn as inline SVG by :mod:`triage.report.svg`, and every piece of
evidence text escaped by jinja2's autoescape (message bodies and names are hostile input).

Pages: ``index.html`` (first screen), ``contacts/contact-N[-pK].html`` (one per case contact,
messages paginated), ``conversations/<slug>-pK.html`` (every conversation, paginated),
``exhibits.html``, ``gaps.html``, ``correspondents.html``, ``coverage.html``, ``method.html``.
Pagination keeps every page small whatever the size of the phone: the first screen never holds
messages at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import operator
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from triage import __version__
from triage.analysers import Settings
from triage.casefile import Case, CaseContact
from triage.coverage import source_facts
from triage.model import Party, iso_utc, parse_iso_utc
from triage.report import (
    chronology,
    conversation_share,
    coverage_view,
    formats,
    gap_text,
    headlines,
    plain,
    printing,
    search,
    svg,
    views,
)
from triage.report.chat import LEGEND_MARK, STATUS_NAMES, Legend, MessageHtml, render_chat
from triage.report.copies_view import copies_held
from triage.report.export_job import Exports
from triage.report.held import Held
from triage.report.marks import Marks
from triage.report.naming import Namer, found_of
from triage.store import Finding, PageMessage, Store, StoredCall
from triage.terminal import bidi_visible

PAGE_SIZE = 1000
LIST_PAGE_SIZE = 2000
#: Copies not counted that the coverage page lists, in the order read (all are in the store).
DUPLICATES_LISTED = 500
#: Rows of each member a group's page lists (the first in time; the conversation pages hold all).
GROUP_ROWS_PER_MEMBER = 200
ASSETS = ("report.css", "report.js", "browse.css", "browse.js", "search.js")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"}
STATUS_COLOURS = {
    "on_duty": "#2c6e9b",
    "training": "#7fa7c6",
    "off_duty": "#c2692f",
    "rest_day": "#d99a5b",
    "leave": "#8d6a9f",
    "sick": "#b9a3c6",
    "unknown": "#c5ccd3",
}


@functools.cache
def environment() -> Environment:
    """The pages' template environment, one per process, so that each template is compiled once
    in it (all fourteen: 0.17-0.26 s of CPU), when first rendered or ahead of the report by
    :func:`compile_templates`; a forked process inherits what was compiled before the fork."""
    env = Environment(
        loader=PackageLoader("triage.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    env.filters["thousands"] = formats.number
    env.filters["number"] = formats.number
    env.filters["count"] = formats.count
    env.filters["date"] = formats.date
    env.filters["per100"] = formats.per_100
    env.filters["flatten"] = flatten
    return env


def compile_templates() -> None:
    """Compile every page template into :func:`environment` now: ``triage run`` does it while
    SQLite builds the store's indexes (triage.run), so the report does not."""
    env = environment()
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)


def _shown(value: Any) -> Any:
    """Every value written into a page: bidi controls from the evidence made visible, so a
    name cannot display as a different name (``Markup`` keeps its type: nothing is unescaped)."""
    if isinstance(value, Markup):
        # Given back as it is when nothing changes: a conversation's chat is most of its page,
        # and str() then Markup() copied all of it twice.
        shown = bidi_visible(value)
        return value if shown is value else Markup(shown)
    if isinstance(value, str):
        return bidi_visible(value)
    return value


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested settings as ("bands / phash / match", "10") rows: readable in a table and in print,
    unlike a dict's repr."""
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key in sorted(value, key=str):
            name = str(key).replace("_", " ")
            rows.extend(flatten(value[key], f"{prefix} / {name}" if prefix else name))
        return rows or [(prefix, "none")]
    if isinstance(value, list | tuple):
        return [(prefix, ", ".join(str(v) for v in value) or "none")]
    return [(prefix, "not set" if value is None else str(value))]


class Clock:
    """UTC -> case-timezone text. Every time the investigator sees goes through here."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def local(self, value: dt.datetime | str | None) -> dt.datetime | None:
        try:
            when = parse_iso_utc(value) if isinstance(value, str) else value
        except ValueError:
            # A finding with a malformed time must not stop the report; full() shows it as is.
            return None
        return when.astimezone(self.zone) if isinstance(when, dt.datetime) else None

    def full(self, value: dt.datetime | str | None) -> str:
        when = self.local(value)
        if when is None:
            return str(value) if isinstance(value, str) and value else "no time recorded"
        return formats.moment(when)

    def day(self, value: dt.datetime | str | None) -> str:
        when = self.local(value)
        return formats.day_heading(when) if when else "No time recorded"

    def time(self, value: dt.datetime | str | None) -> str:
        when = self.local(value)
        return when.strftime("%H:%M") if when else "--:--"


def slug(key: str) -> str:
    """A file-name-safe, collision-free name for a conversation key."""
    readable = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:40] or "conversation"
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def page_name(base: str, number: int) -> str:
    return f"{base}.html" if number == 1 else f"{base}-p{number}.html"


def _chunks(items: Iterable[PageMessage], size: int) -> Iterator[list[PageMessage]]:
    items = iter(items)
    return iter(lambda: list(itertools.islice(items, size)), [])


class Report:
    """Everything the templates need, read once from the store and the case."""

    def __init__(self, store: Store, case: Case, out: Path, settings: Settings) -> None:
        self.store = store
        self.case = case
        self.out = out
        self.settings = settings
        self.env = environment()
        self.clock = Clock(case.timezone)
        self.meta = store.meta()
        self.findings = store.findings()
        self.analysers_run = store.analysers_run()
        self.rules = headlines.by_rule(self.findings)
        self.sources = store.sources()
        self.source_index = {s["file"]: s["id"] for s in self.sources}
        self.conversations = store.conversation_summaries()
        self.conv_by_key = {c["key"]: c for c in self.conversations}
        self._titles: dict[str, str] = {}
        self._group_listings: list[tuple[Finding, dict[str, list[int]], dict[str, int]]] | None
        self._group_listings = None
        self.contact_labels: dict[int, str] = store.labels("contacts", "contact")
        # What each message's bubble and search row show of the labels, by message id.
        self.marks = Marks(
            store.label_column("duty", "status"),
            store.label_column("duty", "night"),
            self.contact_labels,
        )
        self.names = {c.key: c.name for c in case.contacts}
        # Each message's device is shown when the case has several (case file ``devices:``),
        # with every other copy of it the sources hold.
        self.device_labels = {d.key: d.label for d in case.devices} if case.several_devices else {}
        self.copies = store.copies_of()
        self.namer = Namer(case)
        self.glossary = plain.GLOSSARY
        self.plain = plain
        self.party_names = self.namer.known
        self.gaps = self.rules.get("gap.id", [])
        # Each gap's neighbours, and per neighbour the gaps beside it (in gap order): a page's
        # timeline looks only at the gaps beside its own messages, not at every gap of the case.
        self._gap_ends = [
            (g, g.data.get("before_message_id"), g.data.get("after_message_id")) for g in self.gaps
        ]
        self._gaps_beside: dict[Any, list[int]] = {}
        for number, (_, b, a) in enumerate(self._gap_ends):
            self._gaps_beside.setdefault(b, []).append(number)
            if a != b:
                self._gaps_beside.setdefault(a, []).append(number)
        self.traces_by_gap: dict[str, list[Finding]] = {}
        for trace in self.rules.get("gap.trace", []):
            for key in trace.data.get("gaps") or []:
                self.traces_by_gap.setdefault(str(key), []).append(trace)
        # Message ids other pages link to, so links can name the conversation page holding them.
        self.linked: set[int] = {
            int(e["message_id"])
            for f in self.rules.get("exhibit.match", [])
            for e in f.data.get("messages") or []
            if isinstance(e.get("message_id"), int)
        }
        self.views = views.Views(self.rules, {c.key: c.name for c in case.contacts})
        self.linked |= self.views.message_ids()
        self.message_page: dict[int, str] = {}
        # Calls placed by the analysers: call id -> (contact key, duty status, night).
        self.call_places: dict[int, tuple[str, str | None, bool | None]] = {
            ref["call_id"]: (f.subject or "", ref.get("status"), ref.get("night"))
            for f in self.rules.get("duty.contact-split", [])
            for ref in (f.data.get("calls") or {}).get("refs", [])
        }
        self.calls_by_conversation: dict[str, list[StoredCall]] = {}
        # Only calls held in a conversation (an app's calls); a call log's are never placed in one.
        for stored_call in store.calls("WHERE c.conversation_id <> ''"):
            if stored_call.call.conversation_id:
                self.calls_by_conversation.setdefault(stored_call.call.conversation_id, []).append(
                    stored_call
                )
        self._time_cache: dict[str, tuple[str, str, str]] = {}
        self._party_cache: dict[int, tuple[str, str]] = {}
        self._party_keep: list[Party | None] = []  # keeps the ids of cached parties unique
        self._bubbles: dict[tuple[str, bool], MessageHtml] = {}
        self._legend = Legend("", self.source_index)
        self.held = Held(set(), set())
        self.conversation_copies: dict[str, dict[str, Any]] = {}

    # -- helpers used by templates -----------------------------------------------------------------
    def party(self, p: Party | None) -> str:
        return self.namer.full(p)

    def short(self, p: Party | None) -> str:
        return self.namer.short(p)

    def found(self, entry: dict[str, Any] | None) -> str:
        """A party written into a finding (``{raw, id, name}``), named as the report names it."""
        return found_of(entry) or "unknown"

    def finding(self, rule: str, subject: str | None) -> Finding | None:
        for f in self.rules.get(rule, []):
            if f.subject == subject:
                return f
        return None

    def conversation_link(self, key: str, root: str) -> str:
        return f"{root}conversations/{page_name(slug(key), 1)}"

    def conversation_title(self, key: str) -> str:
        # Kept per key: every message of a conversation asks for its title (search index, group
        # bubbles), and naming its participants formats their phone numbers.
        title = self._titles.get(key)
        if title is None:
            conv = self.conv_by_key.get(key)
            title = self._titles[key] = self.namer.conversation(conv) if conv else key
        return title

    # -- message and call views ----------------------------------------------------------------------
    def call_view(self, stored: StoredCall) -> dict[str, Any]:
        c = stored.call
        day, time, full = self._times(iso_utc(c.timestamp_utc))
        key, status, night = self.call_places.get(stored.id, ("", None, None))
        return {
            "id": stored.id,
            "day": day,
            "time": time,
            "full_time": full,
            "direction": c.direction,
            "result": c.result.replace("_", " "),
            "duration": _duration(c.duration_s),
            "network": c.network,
            "video": c.video,
            "with": ", ".join(self._party_texts(p)[1] for p in c.parties) or "withheld or unknown",
            "status": status,
            "status_name": STATUS_NAMES.get(status or "", status),
            "night": bool(night),
            "contact": self.names.get(key),
            "source": c.source,
            "source_id": self.source_index.get(c.source.file),
            "raw_time": c.timestamp_raw,
            "result_code": c.result_code,
        }

    def _times(self, utc: str | None) -> tuple[str, str, str]:
        """(day heading, HH:MM, full local time) of a message time (its stored UTC text), kept
        per minute: the same minute always reads the same, and a busy chat has many messages in
        one minute."""
        if utc is None:
            return self.clock.day(None), self.clock.time(None), self.clock.full(None)
        key = utc[:16]
        found = self._time_cache.get(key)
        if found is None:
            if len(self._time_cache) > 100_000:
                self._time_cache.clear()
            local = parse_iso_utc(utc).astimezone(self.clock.zone)
            found = self._time_cache[key] = (
                formats.day_heading(local),
                local.strftime("%H:%M"),
                formats.moment(local),
            )
        return found

    def _party_texts(self, p: Party | None) -> tuple[str, str]:
        """(short, full) names of a party; parties are shared objects, so this is per party."""
        key = id(p)
        found = self._party_cache.get(key)
        if found is None:
            found = self._party_cache[key] = (self.short(p), self.party(p))
            self._party_keep.append(p)
        return found

    def gap_view(self, f: Finding) -> dict[str, Any]:
        return gap_text.view(
            f,
            lambda key: self.conversation_title(key) if key in self.conv_by_key else None,
            self.names,
            self.clock.full,
            self.traces_by_gap.get(str(f.data.get("key")), []),
        )

    def timeline_rows(
        self, messages: list[PageMessage], calls: list[StoredCall] | None = None
    ) -> list[Any]:
        """Messages (and calls, at their time) with day headings and deletion gaps placed where
        they fall: each message as the tuple ``(message, its Report._times)`` (:mod:`chat` reads
        ``(message, times, place)`` too), each other row a dict by its ``"type"``."""
        # A gap is drawn beside a surviving neighbour in the conversation it is placed in (a gap
        # between conversations, beside either neighbour): the gaps page says the same.
        after: dict[int, list[Finding]] = {}
        before: dict[int, list[Finding]] = {}
        beside = self._gaps_beside
        # The messages beside a gap, by id: few, so found by C loops over the page (a dict of
        # every message's conversation was about a third of this function's CPU).
        ends = beside.keys() & map(_ID, messages) if beside else ()
        if ends:
            conv_of = {m.id: m.conversation.id for m in messages if m.id in ends}
            near = sorted({n for mid in ends for n in beside[mid]})
            for gap, b, a in map(self._gap_ends.__getitem__, near):
                placed = gap.subject != "unattributed"
                if b in conv_of and (not placed or conv_of[b] == gap.subject):
                    after.setdefault(b, []).append(gap)
                elif a in conv_of and (not placed or conv_of[a] == gap.subject):
                    before.setdefault(a, []).append(gap)
        rows: list[Any] = []
        append = rows.append
        day = None
        minutes = self._time_cache
        gapped = before.keys() | after.keys()
        for stored in _by_time(messages, calls or []):
            if type(stored) is StoredCall:
                view = self.call_view(stored)
                if view["day"] != day:
                    day = view["day"]
                    append({"type": "day", "day": day})
                append({"type": "call", "c": view})
                continue
            utc = stored.utc
            times = minutes.get(utc[:16]) if utc is not None else None
            if times is None:
                times = self._times(utc)
            if times[0] != day:
                day = times[0]
                append({"type": "day", "day": day})
            if gapped and stored.id in gapped:
                rows.extend(
                    {"type": "gap", "gap": self.gap_view(g)} for g in before.get(stored.id, [])
                )
                append((stored, times))
                rows.extend(
                    {"type": "gap", "gap": self.gap_view(g)} for g in after.get(stored.id, [])
                )
            else:
                append((stored, times))
        return rows

    def chat(self, rows: list[Any], root: str, show_contact: bool) -> Markup:
        bubbles = self._bubbles.get((root, show_contact))
        if bubbles is None:
            bubbles = self._bubbles[(root, show_contact)] = MessageHtml(self, root, show_contact)
        bubbles.legend = self._legend
        return render_chat(rows, root, show_contact, bubbles)

    # -- writing -----------------------------------------------------------------------------------
    def render(self, template: str, path: Path, **context: Any) -> None:
        root = "../" * (len(path.relative_to(self.out).parts) - 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The page's messages are listed after its legend, which names what they share.
        self._legend = Legend(root, self.source_index)
        pieces = list(
            self.env.get_template(template).generate(
                r=self,
                root=root,
                meta=self.meta,
                case=self.case,
                version=__version__,
                legend=Markup(LEGEND_MARK),
                **context,
            )
        )
        # The page's pieces written as they are, the legend put in place of its mark (no
        # escaped text can hold the mark, so the first piece holding it is where the template
        # wrote it): joining a page of a thousand messages and replacing the mark in it were
        # two more copies of the whole page.
        legend = self._legend.html()
        for n, piece in enumerate(pieces):
            if LEGEND_MARK in piece:
                # str's replace: Markup's would escape the legend.
                pieces[n] = str.replace(piece, LEGEND_MARK, legend, 1)
                break
        with path.open("w", encoding="utf-8") as page:
            page.writelines(pieces)

    def write(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        # Pages of an earlier run into the same folder must not survive next to this run's pages.
        for folder in ("contacts", "conversations", "chronology", "groups"):
            for old in (self.out / folder).glob("*.html"):
                old.unlink()
        for old in self.out.glob("correspondents-p*.html"):
            old.unlink()
        assets = self.out / "assets"
        assets.mkdir(exist_ok=True)
        for name in ASSETS:
            data = resources.files("triage.report").joinpath("static", name).read_bytes()
            (assets / name).write_bytes(data)
        printing.write_print_css(assets, self.case)
        contacts = [self.contact_context(c) for c in self.case.contacts]
        self.render(
            "index.html.j2",
            self.out / "index.html",
            contacts=contacts,
            headlines=headlines.build(self.case, self.findings),
            missing=headlines.missing_analyses(self.case, self.findings, self.analysers_run),
            sources=self.sources,
            counts=self.store.counts(),
            skipped_reasons=self.skipped_reasons(),
        )
        self.search = search.SearchIndex(self)
        # The contact pages, the views and the groups page list messages the conversation pass
        # decodes anyway: those (and only those) are kept from it, so each is decoded once.
        self.held = Held(self._later_ids(), self._lexicon_ids())
        self.conversation_copies = copies_held(
            self.store.conversation_copies(),
            self.meta,
            self.conversation_title,
            lambda key: page_name(slug(key), 1),
        )
        pending = conversation_share.write_conversations(self)
        try:
            # What the second process's share does not feed first (none of its messages is
            # listed again: see conversation_share.shared), while it writes.
            for contact, ctx in zip(self.case.contacts, contacts, strict=True):
                self.write_contact(contact, ctx)
            self.write_groups()
            self.write_other_pages()
            searched = pending.finish()
        finally:
            pending.stop()
        self.views.write(self)
        # The pages listing messages again are written: what was kept for them can go.
        self.held = Held(set(), set())
        parts = self.search.write(self.out, searched)
        self.render(
            "search.html.j2",
            self.out / "search.html",
            total=self.store.counts()["messages"],
            parts=parts,
        )
        self.render("exhibits.html.j2", self.out / "exhibits.html", exhibits=self.exhibits())
        return self.out / "index.html"

    def write_other_pages(self) -> None:
        """The pages no conversation page feeds: chronologies, gaps, correspondents, coverage,
        method."""
        for timeline in chronology.timelines(self.store):
            page = self.out / "chronology" / f"{timeline.subject}.html"
            self.render("chronology.html.j2", page, timeline=timeline)
        self.render(
            "gaps.html.j2", self.out / "gaps.html", gaps=[self.gap_view(g) for g in self.gaps]
        )
        # The list of every conversation is paginated too: a phone can hold tens of thousands.
        listing = sorted(self.conversations, key=lambda c: (-c["messages"], c["key"]))
        listed_pages = max(1, -(-len(listing) // LIST_PAGE_SIZE))
        for number in range(1, listed_pages + 1):
            self.render(
                "correspondents.html.j2",
                self.out / page_name("correspondents", number),
                listing=listing[(number - 1) * LIST_PAGE_SIZE : number * LIST_PAGE_SIZE],
                page=number,
                pages=listed_pages,
                page_base="correspondents",
            )
        self.render(
            "coverage.html.j2",
            self.out / "coverage.html",
            skipped=self.store.skipped(),
            not_read=self.store.meta().get("not_read") or [],
            recognised={
                file: source_facts(facts)
                for file, facts in (self.store.meta().get("decisions") or {}).items()
            },
            problems=self.problems_by_file(),
            warnings=self.store.warnings(),
            duplicates=self.store.duplicates(limit=DUPLICATES_LISTED),
            duplicate_count=self.store.duplicate_count(),
            duplicates_listed=DUPLICATES_LISTED,
            counts=self.store.counts(),
            **self.coverage_context(),
        )
        self.render(
            "method.html.j2",
            self.out / "method.html",
            stats=self.store.message_stats(),
            settings=self.settings.values,
            missing=headlines.missing_analyses(self.case, self.findings, self.analysers_run),
        )

    # -- contacts ----------------------------------------------------------------------------------
    def contact_context(self, contact: CaseContact) -> dict[str, Any]:
        summary = self.finding("contact.summary", contact.key)
        duty = self.finding("duty.contact-split", contact.key)
        counts = (summary.data.get("counts") if summary else None) or {}
        total = sum(int(v or 0) for v in counts.values()) if summary else None
        none_found = self.finding("contact.none-found", contact.key)
        if total is None and none_found:
            total = 0
        split = None
        if duty and duty.data.get("total"):
            status_counts = duty.data.get("status_counts") or {}
            split = {
                "total": int(duty.data["total"]),
                "outside": headlines.outside_duty(duty.data),
                # Without a roster nothing is outside duty or inside it: never "0 of N".
                "roster": headlines.roster_used(duty.data),
                "sent": headlines.sent_outside(duty.data),
                "night": headlines.night_count(duty.data.get("night")),
                "counts": [
                    (k, STATUS_NAMES[k], int(status_counts.get(k) or 0), STATUS_COLOURS[k])
                    for k in STATUS_NAMES
                    if status_counts.get(k)
                ],
            }
        return {
            "contact": contact,
            "summary": summary.data if summary else None,
            "none_found": none_found,
            "after_closure": self.finding("contact.after-closure", contact.key),
            "duty": duty.data if duty else None,
            "on_duty": self.finding("duty.on-duty-contact", contact.key),
            "gap_rate": self.finding("gap.contact-rate", contact.key),
            "total": total,
            "split": split,
            "first": self.clock.full(summary.data.get("first_utc"))
            if summary and summary.data.get("first_utc")
            else None,
            "last": self.clock.full(summary.data.get("last_utc"))
            if summary and summary.data.get("last_utc")
            else None,
            "href": f"contacts/{contact.key}.html",
        }

    def contact_messages(self, contact: CaseContact, ctx: dict[str, Any]) -> list[PageMessage]:
        ids = [mid for mid, key in self.contact_labels.items() if key == contact.key]
        return self.messages_by_ids(ids)

    def messages_by_ids(self, ids: Iterable[int]) -> list[PageMessage]:
        """The messages with these ids in time order, as the store gives them: those kept from
        the conversation pass, the rest (none, when every conversation was written) read."""
        return self.held.messages(self.store, ids)

    def _later_ids(self) -> set[int]:
        """The ids of the messages the contact pages, the views and the group pages list."""
        # A phone's group chats can hold a tenth of its messages. Kept as full ``Message``
        # objects they cost about 250 MB at 1,000,000 messages; as page rows, a fraction of
        # that, and less CPU than reading them again.
        ids = set(self.contact_labels) | self.views.message_ids()
        for _, listed, _ in self.group_listings():
            for member_ids in listed.values():
                ids.update(member_ids)
        return ids

    def group_listings(self) -> list[tuple[Finding, dict[str, list[int]], dict[str, int]]]:
        """Per group finding: the ids its page lists by member (each member's first
        :data:`GROUP_ROWS_PER_MEMBER` rows, in the finding's time order) and how many rows
        each member has in all. A busy group can hold tens of thousands of messages: listed in
        full, 200 groups made a page of 100 MB."""
        if self._group_listings is None:
            member_of = self.store.labels("groups", "member")
            self._group_listings = []
            for f in self.store.findings("groups"):
                listed: dict[str, list[int]] = {}
                written: dict[str, int] = {}
                for mid in f.refs:
                    member = member_of.get(mid, "unknown")
                    written[member] = written.get(member, 0) + 1
                    if written[member] <= GROUP_ROWS_PER_MEMBER:
                        listed.setdefault(member, []).append(mid)
                self._group_listings.append((f, listed, written))
        return self._group_listings

    def _lexicon_ids(self) -> set[int]:
        return {
            h["message_id"]
            for f in self.store.findings("lexicon")
            if f.rule != "lexicon.summary"
            for h in f.data["messages"]
        }

    def write_contact(self, contact: CaseContact, ctx: dict[str, Any]) -> None:
        messages = self.contact_messages(contact, ctx)
        calls = self.store.calls_by_ids(
            cid for cid, (key, _, _) in self.call_places.items() if key == contact.key
        )
        pages = max(1, -(-len(messages) // PAGE_SIZE))
        charts = self.contact_charts(contact, messages, ctx)
        conversations = Counter(m.conversation.id for m in messages)
        gaps = [
            self.gap_view(g)
            for g in self.gaps
            if g.data.get("contact_key") == contact.key
            or g.subject in conversations
            or (
                g.subject == "unattributed"
                and contact.key in (g.data.get("adjacent_contacts") or [])
            )
        ]
        for number in range(1, pages + 1):
            chunk = messages[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
            self.render(
                "contact.html.j2",
                self.out / "contacts" / page_name(contact.key, number),
                c=ctx,
                charts=charts if number == 1 else None,
                conversations=[
                    (key, n, self.conversation_title(key))
                    for key, n in sorted(conversations.items())
                ],
                gaps=gaps,
                rows=self.timeline_rows(chunk, _calls_for_page(calls, chunk, number == pages)),
                page=number,
                pages=pages,
                page_base=contact.key,
                total=len(messages),
            )

    def contact_charts(
        self, contact: CaseContact, messages: list[PageMessage], ctx: dict[str, Any]
    ) -> dict[str, Any]:
        per_day: dict[dt.date, list[int]] = {}
        for m in messages:
            when = self.clock.local(m.utc)
            if when is None:
                continue
            entry = per_day.setdefault(when.date(), [0, 0])
            entry[0 if m.direction == "outgoing" else 1] += 1
        markers = [(d, name.replace("_", " ")) for name, d in sorted(contact.dates.items())]
        # The weekday-and-hour grid is the duty analyser's; without it the chart is not drawn.
        duty = ctx["duty"] or {}
        heat = duty.get("heatmap") if _grid(duty.get("heatmap")) else None
        overlay = duty.get("duty_heatmap") if _grid(duty.get("duty_heatmap")) else None
        return {
            "timeline": svg.timeline(
                [(d, v[0], v[1]) for d, v in sorted(per_day.items())],
                markers,
                f"Messages with {contact.name} over time ({self.case.timezone})",
            )
            if messages
            else None,
            "heatmap": svg.heatmap(
                heat, overlay, f"Messages with {contact.name} by weekday and hour"
            )
            if messages and heat is not None
            else None,
            "share": svg.share_bar(
                [(n, c, colour) for _, n, c, colour in ctx["split"]["counts"]],
                ctx["split"]["total"],
                "Duty status of the messages",
            )
            if ctx["split"]
            else None,
        }

    # -- groups and lexicon hits -------------------------------------------------------------------
    def write_groups(self) -> None:
        """groups.html (each group's member table and media, the lexicon hits) and, per group,
        groups/gN.html: its messages by member, up to :data:`GROUP_ROWS_PER_MEMBER` each."""
        groups = []
        for gi, (f, listed, written) in enumerate(self.group_listings(), 1):
            member_of = {mid: member for member, ids in listed.items() for mid in ids}
            by_member: dict[str, list[PageMessage]] = {}
            for stored in self.messages_by_ids(member_of):
                by_member.setdefault(member_of[stored.id], []).append(stored)
            group = {
                "f": f,
                "gi": gi,
                "names": {m["member"]: m["name"] for m in f.data["members"]},
                "page": f"groups/g{gi}.html",
                "listed": sum(len(ids) for ids in listed.values()),
                "total": len(f.refs),
                "written": written,
                "per_member": GROUP_ROWS_PER_MEMBER,
            }
            self.render(
                "group.html.j2",
                self.out / group["page"],
                g={**group, "by_member": {k: self.timeline_rows(v) for k, v in by_member.items()}},
            )
            groups.append(group)
        lexicon = [f for f in self.store.findings("lexicon")]
        summary = next((f for f in lexicon if f.rule == "lexicon.summary"), None)
        hits = [f for f in lexicon if f.rule != "lexicon.summary"]
        ids = {h["message_id"] for f in hits for h in f.data["messages"]}
        bodies = self.held.bodies(self.store, ids)
        self.render(
            "groups.html.j2",
            self.out / "groups.html",
            groups=groups,
            lexicon=summary,
            hits=hits,
            bodies=bodies,
        )

    # -- conversations -----------------------------------------------------------------------------
    def write_conversations(self, positions: Iterable[int]) -> None:
        """The pages of the conversations at these positions of ``self.conversations`` (in
        increasing order), with what they feed later: their search rows, the messages kept for
        later pages and the pages of the linked messages.

        ``positions`` is read as the pages go, one conversation with messages ahead of the one
        being written (the store reads a conversation's messages once asked for its key): the
        positions of a share taken as it is written (:mod:`triage.report.conversation_share`)."""
        numbered: deque[tuple[int, dict[str, Any]]] = deque()

        def keys() -> Iterator[str]:
            for n in positions:
                conv = self.conversations[n]
                numbered.append((n, conv))
                if conv["messages"]:
                    yield conv["key"]

        # The store gives the messages grouped by conversation, in the order asked; a
        # conversation with no message has no group. Taking a group takes the positions up to
        # the conversation it is of, so ``numbered`` holds it (and any before it) by then.
        groups = itertools.groupby(
            self.store.page_messages_by_conversation(keys()), key=lambda m: m.conversation.id
        )
        group = next(groups, None)
        copies = self.conversation_copies
        while numbered:
            position, conv = numbered.popleft()
            base = slug(conv["key"])
            pages = max(1, -(-conv["messages"] // PAGE_SIZE))

            matched = group is not None and group[0] == conv["key"]
            chunks = _chunks(group[1] if matched and group is not None else (), PAGE_SIZE)
            calls = list(self.calls_by_conversation.get(conv["key"], []))
            for number in range(1, pages + 1):
                chunk = next(chunks, [])
                page_calls = _calls_for_page(calls, chunk, number == pages)
                self.search.add(chunk, base, number)
                self.held.keep(chunk)
                # Few messages are linked to: the page's are found by a C loop over its ids.
                for mid in self.linked.intersection(map(_ID, chunk)):
                    self.message_page[mid] = f"conversations/{page_name(base, number)}#m{mid}"
                self.render(
                    "conversation.html.j2",
                    self.out / "conversations" / page_name(base, number),
                    conv=conv,
                    title=self.conversation_title(conv["key"]),
                    rows=self.timeline_rows(chunk, page_calls),
                    page=number,
                    pages=pages,
                    page_base=base,
                    total=conv["messages"],
                    copies=copies.get(conv["key"]),
                )
            self.search.end_conversation(position)
            if matched:
                # Only now: advancing the groups ends the current group's iterator.
                group = next(groups, None)

    def coverage_context(self) -> dict[str, Any]:
        """Each source of the case file and each picture, for the coverage page."""
        unreadable = (self.meta.get("media") or {}).get("unreadable") or []
        pictures = coverage_view.all_pictures(self.store.media_files(), unreadable)
        return {
            "by_source": coverage_view.source_coverage(
                self.case,
                self.sources,
                pictures,
                self.store.skipped(),
                self.meta.get("not_read") or [],
            ),
            "pictures": pictures[: coverage_view.PICTURES_LISTED],
            "pictures_total": len(pictures),
            "pictures_unreadable": sum(1 for p in pictures if p["status"] == "unreadable"),
        }

    def problems_by_file(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for warning in self.store.warnings():
            counts[warning["file"]] = counts.get(warning["file"], 0) + warning["count"]
        return counts

    def skipped_reasons(self) -> list[tuple[str, int, str]]:
        """Skipped files grouped by reason, so the first screen stays short for a full
        extraction with thousands of unreadable files."""
        groups: dict[str, list[str]] = {}
        for row in self.store.skipped():
            groups.setdefault(row["reason"], []).append(row["file"])
        return [(reason, len(files), files[0]) for reason, files in groups.items()]

    def correspondents(self) -> list[dict[str, Any]]:
        top = self.rules.get("correspondents.top", [])
        rows = (top[0].data.get("correspondents") if top else None) or []
        return [
            {
                **row,
                "known": self.party_names.get(row.get("id") or ""),
                "first": self.clock.full(row.get("first_utc")) if row.get("first_utc") else "",
                "last": self.clock.full(row.get("last_utc")) if row.get("last_utc") else "",
            }
            for row in rows
        ]

    # -- exhibits ----------------------------------------------------------------------------------
    def _media(self, relative: str | None) -> str | None:
        """A copy the run made under ``media/``, only if it is really there and inside it."""
        if not relative:
            return None
        target = (self.out / relative).resolve()
        media = (self.out / "media").resolve()
        if media not in target.parents or not target.is_file():
            return None
        return target.relative_to(self.out.resolve()).as_posix()

    def exhibits(self) -> list[dict[str, Any]]:
        # The media stage's copies of the exhibits (never the case file's paths again).
        copies = {e["id"]: e["copy"] for e in self.store.exhibits() if e.get("copy")}
        out = []
        matched = set()
        for n, f in enumerate(self.rules.get("exhibit.match", []), 1):
            d = f.data
            matched.add(d.get("exhibit_id") or f.subject)
            out.append(
                {
                    "n": n,
                    "finding": f,
                    "exhibit_id": d.get("exhibit_id") or f.subject,
                    "description": d.get("exhibit_description"),
                    "exhibit_image": self._media(d.get("exhibit_copy"))
                    or self._media(copies.get(d.get("exhibit_id") or f.subject or "")),
                    "file_image": self._media(d.get("file_copy")),
                    "file": d.get("file"),
                    "also_at": [x for x in d.get("files") or [] if x != d.get("file")],
                    "other_measures": d.get("also") if isinstance(d.get("also"), dict) else {},
                    "sha256": d.get("sha256"),
                    "method": d.get("method"),
                    "plain": plain.match(d.get("method"), d.get("band"), d.get("via")),
                    "thumbnail_record": plain.locator(
                        None, (d.get("thumbnail") or {}).get("locator")
                    )
                    if isinstance(d.get("thumbnail"), dict)
                    else None,
                    "distance": d.get("distance"),
                    "band": d.get("band"),
                    "orientation": d.get("orientation"),
                    "thumbnail": d.get("thumbnail")
                    if isinstance(d.get("thumbnail"), dict)
                    else None,
                    "outline": _outline(d.get("region"), d.get("picture_size")),
                    "video_frames": [
                        {
                            **f,
                            "image": self._media(f.get("copy")),
                            "exhibit_image": self._media(f.get("exhibit_copy")),
                        }
                        for f in ((d.get("video") or {}).get("shown") or [])
                        if isinstance(f, dict)
                    ],
                    "messages": [
                        {
                            **entry,
                            "who": headlines.counterparty_text(entry, self.names),
                            "when": self.clock.full(entry.get("timestamp_utc")),
                            "status_name": STATUS_NAMES.get(
                                entry.get("duty_status") or "", entry.get("duty_status")
                            ),
                            "href": self.message_page.get(entry.get("message_id")),
                        }
                        for entry in d.get("messages") or []
                    ],
                }
            )
        self.unmatched_exhibits = [e for e in self.case.exhibits if e.id not in matched]
        return out


def _outline(region: Any, size: Any) -> dict[str, int] | None:
    """The matched region as an SVG rectangle over the copy (viewBox = the picture's pixels)."""
    if not (isinstance(region, list) and len(region) == 4 and isinstance(size, list)):
        return None
    if len(size) != 2 or not all(isinstance(v, int) for v in [*region, *size]):
        return None
    left, top, right, bottom = region
    return {
        "w": size[0],
        "h": size[1],
        "x": left,
        "y": top,
        "rw": right - left,
        "rh": bottom - top,
        "stroke": max(2, size[0] // 150),
    }


def _grid(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 7
        and all(isinstance(row, list) and len(row) == 24 for row in value)
    )


def write_report(store: Store, case: Case, out: Path, settings: Settings) -> Path:
    """Write the report pages and the exports into ``out``; returns the path of ``index.html``.
    A large case's exports are written by a second process while the pages are rendered
    (:mod:`triage.report.export_job`); the files are the same either way."""
    out.mkdir(parents=True, exist_ok=True)
    exports = Exports(store, case, out)
    try:
        index = Report(store, case, out, settings).write()
    except BaseException:
        exports.close()
        raise
    exports.finish()
    return index


__all__ = ["PAGE_SIZE", "Clock", "Report", "slug", "write_report"]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "duration not recorded"
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}:{rest:02d}" if minutes else f"{rest} s"


_ID = operator.itemgetter(0)  # a PageMessage's id


def _when(item: PageMessage | StoredCall) -> tuple[bool, str, bool, int]:
    """Time order for messages and calls together (undated last; a message before a call in
    the same second)."""
    if isinstance(item, StoredCall):
        when = iso_utc(item.call.timestamp_utc)
        return (when is None, when or "", True, item.id)
    return (item.utc is None, item.utc or "", False, item.id)


def _by_time(
    messages: list[PageMessage], calls: list[StoredCall]
) -> list[PageMessage | StoredCall]:
    if not calls:
        return list(messages)
    return sorted([*messages, *calls], key=_when)


def _calls_for_page(
    calls: list[StoredCall], chunk: list[PageMessage], last_page: bool
) -> list[StoredCall]:
    """The calls that fall on a page of messages: up to its last message's time (every call
    left over on the last page); ``calls`` is consumed in time order."""
    if last_page or not chunk:
        taken, calls[:] = list(calls), []
        return taken
    limit = _when(chunk[-1])
    taken = [c for c in calls if _when(c) <= limit]
    calls[:] = [c for c in calls if _when(c) > limit]
    return taken
