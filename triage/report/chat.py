"""Chat-style message lists, rendered in Python rather than in a jinja2 template.

A phone can hold hundreds of thousands of messages and each is rendered once; a template costs
about ten times as much per message as this, which made large reports take many minutes. Every
value that comes from evidence goes through :func:`markupsafe.escape` (``_e``) exactly as
autoescape would do; tests render hostile bodies, names and attachment names to check this.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from triage.report import plain
from triage.report.gap_text import LABEL
from triage.store import PageMessage

if TYPE_CHECKING:
    from triage.report.writer import Report

# The duty analyser's status codes in words (the labels it writes on each message and call).
STATUS_NAMES = {
    "on_duty": "on duty",
    "off_duty": "off duty",
    "rest_day": "rest day",
    "leave": "leave",
    "sick": "sick",
    "training": "training",
    "unknown": "unknown",
}


def _e(value: Any) -> str:
    """``value`` escaped as autoescape does (a plain string by ``str.replace``, which is the
    same and cheaper than building a ``Markup`` per string)."""
    if type(value) is str:
        if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
            return (
                value.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace('"', "&#34;")
                .replace("'", "&#39;")
            )
        return value
    return str(escape("" if value is None else value))


def _gap(g: dict[str, Any], root: str) -> str:
    """A gap where it falls among the messages, in the words of the gaps page (gap_text)."""
    traces = ", ".join(
        f'<a href="{root}gaps.html#trace-{_e(t["id"])}">{_e(t["kind"])}</a>' for t in g["traces"]
    )
    return (
        f'<li class="gap" id="gap-{_e(g["id"])}">{_e(LABEL)}: {_e(g["sentence"])}'
        + (f' <span class="small">Deletion traces: {traces}.</span>' if traces else "")
        + f"{_filled(g.get('recovered') or [], g.get('conversation_key'))}"
        '<details class="prov"><summary>provenance</summary><dl>'
        f'<dt>numbering</dt><dd class="mono">{_e(g["technical"])}</dd>'
        f'<dt>file</dt><dd class="path">{_e(g["file"])}</dd>'
        f"<dt>strength</dt><dd>{_e(g['strength'])}</dd></dl></details></li>"
    )


def _filled(recovered: list[dict[str, Any]], conversation: str | None) -> str:
    """The recovered records that fill a gap, linked where they are shown in this conversation."""
    if not recovered:
        return ""
    links = ", ".join(
        (
            f'<a href="#m{int(r["message_id"])}">{_e(r["key"])}</a>'
            if r.get("conversation") == conversation
            else _e(r["key"])
        )
        + f" from {_e(r['source'])}"
        for r in recovered
    )
    return f'<br><span class="small">Recovered from deleted database content: {links}</span>'


def _attachments(items: list[Any]) -> str:
    out = ['<ul class="att">']
    for a in items:
        out.append(f"<li>{_e(a.name or 'attachment')}")
        if a.mime:
            out.append(f' <span class="muted">{_e(a.mime)}</span>')
        if a.size:
            out.append(f' <span class="muted">{a.size:,} bytes</span>')
        if a.note:
            out.append(f' <span class="muted">{_e(a.note)}</span>')
        if a.sha256:
            out.append(f'<br><span class="hash muted">SHA-256 {_e(a.sha256)}</span>')
        if not a.path:
            out.append('<br><span class="muted">file not found in the sources read</span>')
        out.append("</li>")
    out.append("</ul>")
    return "".join(out)


def _copy(c: dict[str, Any]) -> str:
    """Another copy of the message, read from another source (and device): where it is."""
    on = f" (on {_e(c['device'])})" if c.get("device") else ""
    files = "".join(
        f'<br><span class="path">{_e(a["path"] or a["name"] or "")}</span>'
        f' <span class="hash">SHA-256 {_e(a["sha256"] or "")}</span>'
        for a in c.get("attachments") or []
    )
    return f'<dt>also held{on}</dt><dd class="mono">{_e(c["file"])} {_e(c["locator"])}{files}</dd>'


def _recovery(r: dict[str, Any]) -> str:
    """Where a recovered record was read and what of it did not survive."""
    lost = ", ".join(r["lost_fields"]) or "none"
    live = f" (live row {r['live_rowid']})" if r.get("live_rowid") is not None else ""
    return (
        f'<dt>recovered from</dt><dd class="mono">{_e(r["source"])}</dd>'
        f"<dt>recovery</dt><dd>{_e(r['status'])}{_e(live)}, {_e(r['confidence'])} confidence; "
        f"fields not recovered: {_e(lost)}</dd>"
    )


#: Where a page's legend goes: written by the template before its messages, filled in once they
#: are written (a comment no escaped evidence text can contain).
LEGEND_MARK = "<!--triage:legend-->"
_DIGITS = "0123456789-]"


class Legend:
    """What the messages of one page share, stated once at its head instead of under each one.

    Each source file the page's messages were read from is listed as S1, S2... with its link to
    the coverage page, its SHA-256, the parser that read it and how its record locators read in
    plain words ("message._id=N is record N in the WhatsApp message table"); each way they were
    addressed as A1, A2... with the parties named in full and as the source recorded them. A
    message's provenance names its S and A, with its own record, raw time and anything only it
    has (other copies, recovery). Printed, the legend opens the page like a key: every message
    still traces to file, SHA-256 and record.
    """

    def __init__(self, root: str, source_ids: dict[str, int]) -> None:
        self.root = root
        self.source_ids = source_ids
        self.sources: dict[tuple[str, str, str], str] = {}
        self.rules: dict[tuple[tuple[str, str, str], str], None] = {}
        self.source_rules: dict[tuple[str, str, str], list[str]] = {}
        self.addressing: dict[tuple[str, str], str] = {}
        self._address_refs: dict[int, str] = {}
        self._kept: list[tuple[str, str]] = []  # keeps the ids of the entries seen unique

    def source(self, file: tuple[str, str, str]) -> str:
        """The escaped reference to a source file ("S1", linked to its entry)."""
        found = self.sources.get(file)
        if found is None:
            n = len(self.sources) + 1
            found = self.sources[file] = f'<a href="#src-{n}">S{n}</a>'
        return found

    def rule(self, file: tuple[str, str, str], locator: str) -> None:
        """Note the shape of a record locator, so the legend says how it reads in plain words."""
        shape = (file, locator.rstrip(_DIGITS))
        if shape not in self.rules:
            self.rules[shape] = None
            words = plain.locator_rule(file[2], locator)
            rules = self.source_rules.setdefault(file, [])
            if words and words not in rules:
                rules.append(words)

    def address(self, entry: tuple[str, str]) -> str:
        """The escaped reference to a way of addressing: (parties in full, as recorded)."""
        found = self._address_refs.get(id(entry))
        if found is None:
            found = self.addressing.get(entry)
            if found is None:
                n = len(self.addressing) + 1
                found = self.addressing[entry] = f'<a href="#addr-{n}">A{n}</a>'
            self._address_refs[id(entry)] = found
            self._kept.append(entry)
        return found

    def html(self) -> str:
        if not self.sources:
            return ""
        out = [
            '<details class="prov"><summary>provenance of the messages on this page</summary>'
            '<dl class="legend"><dt>key</dt><dd>Under each message, its source (S1...) and how'
            " it was addressed (A1...) as listed here, its record in the source and its raw"
            " time; No. is its id in the case store (message_id in messages.csv)</dd>"
        ]
        for n, (file, _) in enumerate(self.sources.items(), 1):
            name, sha256, fmt = file
            source_id = self.source_ids.get(name)
            name_text = _e(name)
            if source_id:
                name_text = f'<a href="{self.root}coverage.html#source-{source_id}">{name_text}</a>'
            out.append(
                f'<dt id="src-{n}">S{n}</dt><dd class="path">{name_text}</dd>'
                f'<dt>S{n} SHA-256</dt><dd class="hash">{_e(sha256)}</dd>'
                f"<dt>S{n} parser</dt><dd>{_e(fmt)}</dd>"
            )
            out.extend(
                f"<dt>S{n} records</dt><dd>{_e(words)}</dd>"
                for words in self.source_rules.get(file, [])
            )
        for n, (parties, recorded) in enumerate(self.addressing, 1):
            out.append(
                f'<dt id="addr-{n}">A{n}</dt><dd>{parties}</dd>'
                f'<dt>A{n} as recorded</dt><dd class="mono">{recorded}</dd>'
            )
        out.append("</dl></details>")
        return "".join(out)


class MessageHtml:
    """Message bubbles of one kind of page (its ``root``; whether the case contact is shown),
    written straight from the stored message (a :class:`triage.store.PageMessage`).

    A phone's messages share most of what a bubble shows: who wrote to whom, the source file,
    the minute, the badges. Those pieces are escaped once and kept (parties, recipient lists and
    files are shared objects in a read, so they are keyed by identity, and the cache keeps them
    alive); only the body, the record locator, the raw time and the ids are escaped per message.
    """

    def __init__(self, report: Report, root: str, show_contact: bool) -> None:
        self.r = report
        self.root = root
        self.show_contact = show_contact
        self.zone_badge = (
            '<span class="badge flag" title="The source stores local time without a zone; '
            f'{_e(report.case.timezone)} was assumed">zone assumed</span>'
        )
        self._who: dict[tuple[Any, ...], tuple[str, str, tuple[str, str], Any]] = {}
        self._nobody: dict[tuple[str, bool], str] = {}
        self._status: dict[str, str] = {}
        self._marked: list[tuple[str, str] | None] = [None] * len(report.marks.kinds)
        self._by_shared: dict[int, tuple[str, str, tuple[str, str], str, str, str, str]] = {}
        self._kept_shared: list[tuple[Any, ...]] = []
        self._times: dict[str, str] = {}
        self.legend = Legend(root, report.source_index)

    def _parties(self, m: PageMessage) -> tuple[str, str, tuple[str, str], Any]:
        """(start of the bubble before its id, the rest of its head, its way of addressing for
        the page's legend (the parties in full, as recorded; escaped), the parties kept alive)
        of a message's sender and recipients."""
        conv = m.conversation
        key = (
            m.direction,
            id(m.sender),
            id(m.recipients),
            m.status_update,
            conv.is_group and conv.id,
        )
        found = self._who.get(key)
        if found is not None:
            return found
        r = self.r
        sender_short, sender_full = r._party_texts(m.sender)
        recipients = [r._party_texts(p) for p in m.recipients]
        # To a group or the Status updates, a message is addressed to it, not to its members.
        addressed = (
            r.namer.addressed_to(m, r.conversation_title(conv.id))
            if m.status_update or conv.is_group
            else None
        )
        to = addressed or ", ".join(short for short, _ in recipients)
        parties = (
            "From "
            + sender_full
            + (f" to {addressed}" if addressed else "")
            + (
                (" (" if addressed else " to ")
                + ", ".join(full for _, full in recipients)
                + (")" if addressed else "")
                if recipients
                else ""
            )
        )
        who = f"{_e(sender_short)} to {_e(to)}" if m.direction == "outgoing" else _e(sender_short)
        found = self._who[key] = (
            f'<li class="msg {_e(m.direction)}" id="m',
            f'"><div class="bubble"><div class="who">{who}</div>',
            (_e(parties), _e(_recorded(m))),
            (m.sender, m.recipients),
        )
        return found

    def __call__(
        self,
        m: PageMessage,
        place: str | None = None,
        times: tuple[str, str, str] | None = None,
    ) -> str:
        """One bubble; ``place`` links it to its conversation page, ``times`` are its
        ``Report._times`` when the caller has them already."""
        return self.rows([(m, times or self.r._times(m.utc), place)])[0]

    def rows(self, rows: Iterable[Any]) -> list[str]:
        """The HTML of each row of ``Report.timeline_rows``: day headings, bubbles, calls and
        deletion gaps (a message as the tuple ``(message, its Report._times[, the page of its
        conversation])``, the other rows as dicts: a tuple is cheaper to build and read).

        A page holds up to a thousand bubbles and a report hundreds of thousands, so this is one
        loop with the report's tables looked up once, as locals. Each bubble is one format
        string with the common case first: each piece a message does not have is an empty
        string, and what is shared (parties, badges, the source's reference in the page's
        legend) comes from a cache without a call."""
        r = self.r
        root = self.root
        show_contact = self.show_contact
        by_shared = self._by_shared
        nobody = self._nobody
        shown_times = self._times
        marks, marks_end = r.marks.codes, r.marks.end
        marked = self._marked
        exhibits = r.views.exhibits
        device_labels = r.device_labels
        copies_of = r.copies
        legend = self.legend
        rules = legend.rules
        sources = legend.sources
        address_refs = legend._address_refs
        last_file: tuple[str, str, str] | None = None
        last_shape = source = ""
        plain_shape = True
        out: list[str] = []
        append = out.append
        for row in rows:
            if type(row) is not tuple:
                kind = row["type"]
                if kind == "day":
                    append(f'<li class="day"><span>{_e(row["day"])}</span></li>')
                elif kind == "gap":
                    append(_gap(row["gap"], root))
                else:
                    append(_call(row["c"], root, show_contact))
                continue
            m: PageMessage = row[0]
            # Unpacked once: a named tuple's field by name is a generic attribute lookup, and a
            # bubble reads most of them.
            (mid, _, raw, body, locator, attachments, recovered, _, _, _, message_kind, deleted,
             _, _, _, _, _, _, file, shared) = m  # fmt: skip
            # What it shares with other messages, written once per combination (found by the
            # shared values' identity): its head, its flags' and device's badges, its platform.
            found = by_shared.get(id(shared))
            if found is None:
                found = self._shared(m)
            start, head, addressing, flag_badges, zone, device_badge, platform = found
            if body:
                if "&" in body or "<" in body or ">" in body or '"' in body or "'" in body:
                    body = _e(body)
                text = f'<div class="body">{body}</div>'
            elif not attachments:
                text = nobody.get((message_kind, deleted)) or self._no_text(m)
            else:
                text = ""
            _, short, full = row[1]
            # Its labels' badges (duty status and night; case contact), once per combination.
            mark = marks[mid] if mid < marks_end else 0
            badges, contact_badge = marked[mark] or self._mark_badges(mark)
            if flag_badges:
                badges += flag_badges
            if recovered:
                what = (
                    "recovered: deleted row"
                    if recovered["status"] == "deleted"
                    else "recovered: earlier version of a live row"
                )
                badges += (
                    f'<span class="badge flag recovered" title="{_e(recovered["source"])}">'
                    f"{_e(what)}, {_e(recovered['confidence'])} confidence</span>"
                )
            if contact_badge:
                badges += contact_badge
            if mid in exhibits:
                for exhibit, n in exhibits[mid]:
                    badges += (
                        f'<a class="badge exhibit" href="{root}exhibits.html#match-{n}">'
                        f"carried exhibit {_e(exhibit)}</a>"
                    )
            place = row[2] if len(row) > 2 else None
            if place:
                badges += f'<a class="small" href="{root}{_e(place)}">in its conversation</a>'
            if device_badge:
                badges += device_badge
            # What a locator's digits follow is the same across many messages (its shape, the
            # digits of its record aside): checked in the legend and for escaping once per run
            # of messages from one source with one shape. The digits need no escaping.
            shape = locator.rstrip(_DIGITS)
            if file is not last_file or shape != last_shape:
                if (file, shape) not in rules:
                    legend.rule(file, locator)
                source = sources.get(file) or legend.source(file)
                plain_shape = _e(shape) == shape
                last_file, last_shape = file, shape
            if not plain_shape:
                locator = _e(locator)
            if type(raw) is not str or not raw.isdigit():
                raw = _e(raw)
            addressed = address_refs.get(id(addressing)) or legend.address(addressing)
            copies = copies_of.get(mid)
            own = (
                "".join(
                    _copy({**c, "device": device_labels.get(c["device"] or "")}) for c in copies
                )
                if copies
                else ""
            )
            if recovered:
                own += _recovery(recovered)
            ident = str(mid)
            append(
                f"{start}{ident}{head}{text}{_attachments(attachments) if attachments else ''}"
                f'<div class="meta"><span class="no">No. {ident}</span>'
                f"{shown_times.get(full) or self._time(short, full)}"
                f"{zone}{badges}"
                f'{platform}{source}</dd><dt>record</dt><dd class="mono">{locator}</dd>'
                f"<dt>addressed</dt><dd>{addressed}</dd>{own}"
                f'<dt>raw time</dt><dd class="mono">{raw}</dd>'
                "</dl></details></div></li>"
            )
        return out

    def _shared(self, m: PageMessage) -> tuple[str, str, tuple[str, str], str, str, str, str]:
        """(start of the bubble, the rest of its head, its way of addressing, its deleted and
        edited badges, its zone badge, its device badge, its platform and the start of its
        provenance) of what a message shares with others (:attr:`PageMessage.shared`, kept
        alive by the cache so that its identity stays its own)."""
        start, head, addressing, _ = self._parties(m)
        flags = '<span class="badge flag">deleted/unsent</span>' if m.deleted else ""
        if m.edited:
            flags += '<span class="badge flag">edited</span>'
        device = self.r.device_labels.get(m.device or "")
        found = self._by_shared[id(m.shared)] = (
            start,
            head,
            addressing,
            flags,
            self.zone_badge if m.zone_assumed else "",
            f'<span class="badge device">{_e(device)}</span>' if device else "",
            f'<span class="muted">{_e(m.platform)}</span></div>'
            '<details class="prov"><summary>provenance</summary><dl><dt>source</dt><dd>',
        )
        self._kept_shared.append(m.shared)
        return found

    def _mark_badges(self, mark: int) -> tuple[str, str]:
        """(duty status and night badges, case contact badge if this page shows it) of a
        combination of labels."""
        status, night, contact = self.r.marks.kinds[mark]
        badges = self._status_badge(status) if status else ""
        if night:
            badges += '<span class="badge night">night</span>'
        name = self.r.names.get(contact) if self.show_contact else None
        found = self._marked[mark] = (
            badges,
            f'<span class="badge">{_e(name)}</span>' if name else "",
        )
        return found

    def _time(self, short: str, full: str) -> str:
        # The full time names the minute (and the zone), so it alone keys the time shown.
        found = self._times[full] = _time(short, full)
        return found

    def _no_text(self, m: PageMessage) -> str:
        deleted = ", content deleted" if m.deleted else ""
        found = self._nobody[(m.kind, m.deleted)] = (
            f'<div class="nobody">({_e(m.kind)}{deleted}, no text)</div>'
        )
        return found

    def _status_badge(self, status: str) -> str:
        name = STATUS_NAMES.get(status, status)
        found = self._status[status] = f'<span class="badge {_e(status)}">{_e(name)}</span>'
        return found


def _recorded(m: PageMessage) -> str:
    """Sender and recipients exactly as the source held them (JIDs, numbers as written)."""
    sender = m.sender.raw if m.sender else "not named"
    to = "; ".join(p.raw for p in m.recipients)
    return f"from {sender}" + (f" to {to}" if to else "")


def _call(c: dict[str, Any], root: str, show_contact: bool) -> str:
    """A call in the chronology, at its time: who placed it, its result and duration."""
    what = ("video call" if c["video"] else "call") + f" ({c['network']})"
    placed = "placed by the device owner to" if c["direction"] == "outgoing" else "from"
    if c["direction"] == "unknown":
        placed = "with"
    parts = [
        f'<li class="msg call {_e(c["direction"])}" id="c{c["id"]}"><div class="bubble">'
        f'<div class="who">{_e(what)} {_e(placed)} {_e(c["with"])}</div>'
        f'<div class="body">{_e(c["result"])}, {_e(c["duration"])}</div>'
        f'<div class="meta"><span class="no">Call {c["id"]}</span>'
        + _time(c["time"], c["full_time"])
    ]
    if c["status"]:
        parts.append(f'<span class="badge {_e(c["status"])}">{_e(c["status_name"])}</span>')
    if c["night"]:
        parts.append('<span class="badge night">night</span>')
    if c["contact"] and show_contact:
        parts.append(f'<span class="badge">{_e(c["contact"])}</span>')
    source = c["source"]
    parts.append(_provenance_head("call", source.file, source.sha256, c["source_id"], root))
    parts.append(
        f'<dt>record</dt><dd class="mono">{_e(source.locator)}</dd>'
        f"<dt>parser</dt><dd>{_e(source.format)}</dd>"
        f'<dt>result code</dt><dd class="mono">{_e(c["result_code"])}</dd>'
        f'<dt>raw time</dt><dd class="mono">{_e(c["raw_time"])}</dd>'
        f'<dt>call id</dt><dd class="mono">{c["id"]}</dd></dl></details></div></li>'
    )
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _time(short: str, full: str) -> str:
    """The time as the chat shows it (HH:MM, the full time with its zone on hover) and, for
    print, the full time with its zone (print.css shows one or the other)."""
    return (
        f'<span class="time" title="{_e(full)}">{_e(short)}</span>'
        f'<span class="when-print">{_e(full)}</span>'
    )


@functools.lru_cache(maxsize=4096)
def _provenance_head(
    platform: str, file: str, sha256: str, source_id: int | None, root: str
) -> str:
    """The part of a message's provenance its whole source shares (escaped once per source)."""
    file_text = _e(file)
    if source_id:
        file_text = f'<a href="{root}coverage.html#source-{source_id}">{file_text}</a>'
    return (
        f'<span class="muted">{_e(platform)}</span></div>'
        '<details class="prov"><summary>provenance</summary><dl>'
        f"<dt>file</dt><dd>{file_text}</dd>"
        f'<dt>SHA-256</dt><dd class="hash">{_e(sha256)}</dd>'
    )


def render_chat(rows: Iterable[Any], root: str, show_contact: bool, message: MessageHtml) -> Markup:
    """``rows`` from ``Report.timeline_rows``: day headings, messages, calls and deletion gaps;
    ``message`` writes the message bubbles of this kind of page (into its ``legend``)."""
    out = message.rows(rows)
    if not out:
        return Markup('<ol class="chat"></ol>')
    # Each row on a line of its own; the list's tags joined with its first and last rows, so
    # the page's rows are copied once into it.
    out[0] = '<ol class="chat">' + out[0]
    out[-1] += "\n</ol>"
    return Markup("\n".join(out))
