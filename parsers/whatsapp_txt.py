"""WhatsApp "Export chat" text: a bare ``.txt`` or the ``_chat.txt`` / ``WhatsApp Chat with X.txt``
inside a "with media" zip, from Android and iOS, in any locale the app exports.

Format (public peers' parsers and test exports: Pustur/whatsapp-chat-parser ``src/parser.ts`` and
``tests/parser.test.ts``, starkdmi/whats_json ``test/data``, lucasrodes/whatstk
``whatstk/whatsapp/parser.py``; the file cited per variant in ``fixtures/whatsapp_txt/README.md``):

* one item per header line ``[DATE, TIME:SS] Author: body`` (iOS) or ``DATE, TIME - Author: body``
  (Android), every separator, clock and date layout listed in :mod:`triage.parsers.whatsapp_txt_grammar`;
  lines without a header continue the item above (multi-line bodies, blank lines, captions);
* local wall-clock time with no zone and no stated day/month order: the order is inferred per file
  from the dates (reported with its evidence); where the dates cannot tell, it is assumed from the
  file's language (AM/PM markers, app notices, file name), else the case region, and every record
  whose two readings differ is flagged. Times are converted with the case time zone and marked
  ``zone_assumed``;
* Android system lines have no author; iOS prints them under the chat name with a leading LRM;
* media as ``<attached: NAME>`` / ``NAME (file attached)`` linked to the zip member beside the text,
  or as an omitted-media placeholder; deletion placeholders and ``<This message was edited>``;
* a call line, printed under the caller's name (Android ``Missed voice call``; iOS ``Missed voice
  call, Tap to call back``, ``Voice call, No answer``, ``Video call, 12 min``, ``Silenced voice
  call, Focus mode``: :func:`triage.parsers.whatsapp_txt_grammar.call_line`, English only), is a
  :class:`~triage.model.Call` with what the line says (result, duration where printed), its local
  time read as for messages (``zone_assumed``) and ``extra["from_text_export"]``.

The file is read twice as a stream (one pass to fix the layout, date order, authors and chat
facts; one to yield messages), so memory stays bounded whatever the export's length; the text is
read through :class:`triage.text_lines.TextLines` (UTF-16 with a byte-order mark, NUL bytes,
undecodable bytes and over-long lines counted and reported).
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from triage.parsers import whatsapp_txt_grammar as g
from triage.parsers.whatsapp_txt_halves import split_second_pass
from triage.parsers.whatsapp_txt_scan_halves import split_scan

from triage.addressing import sender_and_recipients
from triage.clock import local_to_utc
from triage.evidence import EvidenceFile
from triage.identity import normalise_name, party
from triage.model import (
    MESSAGE_LEADING_FIELDS,
    Attachment,
    Call,
    CallDirection,
    CallResult,
    Conversation,
    Message,
    Party,
    Provenance,
    Record,
    positional,
)
from triage.registry import Match, ParseContext, Parser, Probe
from triage.text_lines import TextLines, decode_head

if TYPE_CHECKING:
    from triage.ingest import MessageSink

#: The header layout is fixed from the first HEAD_HEADERS header lines (within HEAD_LINES lines);
#: detection looks at up to DETECT_LINES lines of the 64 KiB head. Long multi-line messages at
#: the top of a chat are why these are not smaller.
HEAD_LINES = 5000
HEAD_HEADERS = 50
DETECT_LINES = 400
#: How far detection reads past a first line that fills the whole head.
DETECT_BYTES = 128 * 1024 * 1024
#: Stands for "the owner wrote nothing here": every person message is incoming.
OWNER_ABSENT = "\x00owner wrote nothing"
#: Distinct authors remembered; a chat export never has more members than a group allows.
MAX_AUTHORS = 5000
#: Message shapes remembered (MessageSink); past this the messages are yielded whole.
MAX_SHAPES = 4 * MAX_AUTHORS
#: Header times and local days remembered (a chat rarely spans more; the cache then restarts).
MAX_TIMES = 8192
_UNSET: Any = object()
# Messages built by position (keywords cost a third of building the message).
_new_message = positional(Message, MESSAGE_LEADING_FIELDS)
# Times of day as offsets from midnight, made once (a reading adds one to its day's midnight).
_MINUTES = [timedelta(minutes=n) for n in range(24 * 60)]
_SECONDS = [timedelta(seconds=n) for n in range(60)]
_DELETED_STARTS = g.DELETED_STARTS
_new_tuple = tuple.__new__


class _Header(NamedTuple):
    """One header line read with the file's strict grammar (a named tuple: one is made per
    item, and it is cheaper to build than a dataclass)."""

    line_no: int
    raw: str
    body_text: str  # invisible marks removed, spaces as written
    match: re.Match[str]  # over the header view: cleaned, ASCII digits
    author: str | None
    first: str  # the body on the header line itself
    lrm: bool  # the body starts with U+200E (iOS placeholders and system texts)
    lrm_inside: bool  # the body holds U+200E anywhere
    dt: str  # the date and time as written (body text); its reading depends on it alone


@dataclass
class _Scan:
    """Facts about the whole file gathered in the first pass."""

    shape: g.Shape | None = None
    regex: re.Pattern[str] | None = None
    year_pos: int | None = None
    evidence: g.OrderEvidence = field(default_factory=g.OrderEvidence)
    authors: Counter[str] = field(default_factory=Counter)
    own_deletion_authors: Counter[str] = field(default_factory=Counter)
    group_events: list[str] = field(default_factory=list)
    you_events: int = 0
    not_owner: Counter[str] = field(default_factory=Counter)
    chat_name: str | None = None
    chat_name_line: int | None = None
    headers: int = 0
    first_header: str | None = None
    marker: str | None = None  # the first AM/PM marker, as written in the header view
    language: tuple[str, str] | None = None  # (language, where) of the first localised notice
    # Header lines before each run of lines (TextLines.runs), in the order of the runs.
    run_headers: list[int] = field(default_factory=list)


def _view(raw: str) -> tuple[str, str]:
    """(body text, header view) of one line: invisible marks removed; for the header also odd
    spaces made plain and Arabic-Indic digits made ASCII. Pure-ASCII lines are their own view."""
    if raw.isascii():
        return raw, raw
    body_text = g.strip_invisible(raw)
    return body_text, g.header_view(g.plain_spaces(body_text))


def _lrm_body(raw: str, bracket: bool) -> tuple[bool, bool]:
    """Whether the body of a bracketed (iOS) line starts with U+200E, and whether it holds one.

    iOS puts the mark before its placeholders and system texts (and inside document placeholders,
    ``Resume.pdf • ‎2 pages ‎document omitted``) but never in what a person typed (whats_json
    ``test/data/languages/*_ios.txt``)."""
    if not bracket or g.LRM not in raw:
        return False, False
    start = raw.find("]")
    idx = raw.find(": ", start + 1)
    if idx < 0:
        return False, False
    return raw[idx + 2 : idx + 3] == g.LRM, g.LRM in raw[idx + 2 :]


def _split_author(rest: str) -> tuple[str | None, str]:
    """:func:`g.split_author`, with its common case (a short author without quotes) inline."""
    idx = rest.find(": ")
    if 0 < idx <= 80:
        author = rest[:idx]
        if '"' not in author and "\u201c" not in author and "\u201d" not in author:
            return author, rest[idx + 2 :]
    return g.split_author(rest)


def _marker_text(text: str) -> str:
    return g.plain_spaces(text).strip()


def _add_date(
    evidence: g.OrderEvidence, m: re.Match[str], year_pos: int | None, written: str
) -> str | None:
    """Add a header's date to the evidence; the date as written, or ``None`` when its
    components cannot be read (the next header is then compared afresh)."""
    a, b, c, era = m.group("a", "b", "c", "era")
    try:
        p, q, year_text = g.split_date(a, b, c, year_pos)
        year = g.year_value(year_text, bool(era)) if year_text else 0
    except (ValueError, IndexError):
        return None
    evidence.add(p, q, year)
    return written


class WhatsAppTxt(Parser):
    """WhatsApp "Export chat" text (Android and iOS, every locale layout), bare or in a zip."""

    name = "whatsapp_txt"
    version = "5"
    description = 'WhatsApp "Export chat" text (.txt, or _chat.txt in a zip with media)'

    # -- detection -------------------------------------------------------------------------------
    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        lines = _detect_lines(probe)
        shapes: Counter[g.Shape] = Counter()
        authored: Counter[g.Shape] = Counter()
        first_shape: g.Shape | None = None
        first_ok = False
        seen_text = False
        for line in lines:
            found = g.generic_shape(g.header_view(g.clean(line)))
            if found is None:
                seen_text = seen_text or bool(g.clean(line).strip())
                continue
            shape, m = found
            shapes[shape] += 1
            author = g.split_author(m["rest"])[0]
            if author is not None:
                authored[shape] += 1
            if first_shape is None and not seen_text:
                first_shape = shape
                # A chat of one item: its header opens the file, and it names an author or is
                # the app's own notice (the encryption banner every chat starts with).
                first_ok = author is not None or g.strong_system(m["rest"])
        # Several header lines of one layout, at least one with an author: a chat, not a log;
        # or a file that opens with a single chat header.
        for shape, hits in shapes.most_common():
            if hits >= 2 and authored[shape] >= 1:
                return Match(self, 10 + min(hits, 20))
        if first_ok:
            return Match(self, 10)
        return None

    # -- first pass ------------------------------------------------------------------------------
    def _choose_shape(self, file: EvidenceFile) -> tuple[g.Shape, int | None] | None:
        """The most common header layout among the first lines, and where its year is."""
        shapes: Counter[g.Shape] = Counter()
        authored: Counter[g.Shape] = Counter()
        year_pos: dict[g.Shape, int] = {}
        for count, raw in enumerate(TextLines(file)):
            if count >= HEAD_LINES or shapes.total() >= HEAD_HEADERS:
                break
            found = g.generic_shape(g.header_view(g.clean(raw)))
            if found is None:
                continue
            shape, m = found
            shapes[shape] += 1
            authored[shape] += g.split_author(m["rest"])[0] is not None
            comps = (m["a"], m["b"], m["c"])
            for i, comp in enumerate(comps):
                if comp is not None and (len(comp) >= 3 or comp[0] in "RH"):
                    year_pos.setdefault(shape, i)
        if not shapes:
            return None
        # The commonest layout among those with authored lines (lines of another layout that
        # only look like headers, pasted dates, have no "Author: " part).
        shape = max(shapes, key=lambda s: (authored[s] > 0, shapes[s]))
        if shape in year_pos:
            return shape, year_pos[shape]
        # Two-digit years: last, as in every peer and every sample (Pustur normalizeDate).
        return shape, (2 if shape.year else None)

    def _scan(
        self, file: EvidenceFile, ctx: ParseContext, by_line: bool = False, split: bool = False
    ) -> _Scan:
        """The first pass. ``by_line`` reads every line on its own (what the search over a run
        must equal: a test compares the two). With ``split`` a large Android export's second
        half is scanned by a fork meanwhile (:mod:`triage.parsers.whatsapp_txt_scan_halves`)."""
        scan = _Scan()
        chosen = self._choose_shape(file)
        if chosen is None:
            return scan
        scan.shape, scan.year_pos = chosen
        if scan.year_pos == 2 and ctx.date_order == "YMD" and scan.shape.year:
            scan.year_pos = 0
        scan.regex = g.compile_shape(scan.shape)
        scan.evidence.year_pos = scan.year_pos
        # iOS lines need their LRMs and the chat name read line by line; an Android run of
        # lines is read with one search over the run.
        block = not scan.shape.bracket and not by_line
        runs = numbered(TextLines(file).runs())
        halves = split_scan(self, file, scan) if split and block else None
        if halves is None:
            self._scan_runs(scan, runs, block)
            return scan
        try:
            self._scan_runs(scan, halves.first(runs, scan), block)
            halves.join(scan)  # the child's facts merged, when the first half stopped for them
        finally:
            halves.close()
        return scan

    def _scan_runs(self, scan: _Scan, runs: Iterator[Run], block: bool) -> None:
        """The first pass over runs of lines (numbered), into ``scan`` (set up by :meth:`_scan`;
        its counts start from zero)."""
        assert scan.shape is not None and scan.regex is not None
        match = scan.regex.match
        bracket = scan.shape.bracket
        finditer = g.compile_shape(scan.shape, block=True).finditer if block else None
        evidence = scan.evidence
        year_pos = scan.year_pos
        last_date: str | None = None
        same = 0  # headers since the last date change with that same date (counted in bulk)
        headers = 0
        authors = scan.authors
        starts = g.DELETED_STARTS
        for run, _, base in runs:
            scan.run_headers.append(headers)
            view = None
            if finditer is not None:
                text = "\n" + "\n".join(run)
                if text.isascii():
                    view = text
                else:
                    body = g.strip_invisible(text)
                    # The view of the run is the text itself unless a digit or space of a header
                    # is written otherwise (Arabic-Indic digits, NBSP): then line by line.
                    view = body if g.header_view(g.plain_spaces(body)) == body else None
            if view is not None:
                # One search over the run; what a line's author part says is read here only
                # for the common form (an author, then a body that cannot be a deletion notice).
                written: list[str] = []  # authors in the order of their lines
                # A position in the view, and the number in the run of the line it is on.
                at, k = 0, 1
                for m in finditer(view):
                    dd, author, first = m.group("dd", "au", "first")
                    headers += 1
                    if dd == last_date:
                        same += 1
                    else:
                        evidence.repeat(same)
                        same = 0
                        last_date = _add_date(evidence, m, year_pos, dd)
                    if (
                        headers == 1
                        or author is None
                        or first[:3].casefold() in starts
                        or first[:1].isspace()
                    ):
                        k += view.count("\n", at, m.start())
                        at = m.start()
                        if headers == 1:
                            scan.first_header = m["line"]
                            scan.marker = m["ap"]
                        rest = first if author is None else view[m.start("au") : m.end()]
                        author = self._scan_rest(scan, base + k, rest)
                        if author is None:
                            continue
                    written.append(author)
                for author, count in Counter(written).items():
                    author = author.strip()
                    known = authors.get(author)
                    if known is not None:
                        authors[author] = known + count
                    elif len(authors) < MAX_AUTHORS:
                        authors[author] = count
                continue
            for line_no_k, raw in enumerate(run, start=base + 1):
                if raw.isascii():
                    m = match(raw)
                    if m is None:
                        continue
                    body_text = raw
                    rest = m["rest"]
                else:
                    body_text, header_text = _view(raw)
                    m = match(header_text)
                    if m is None:
                        continue
                    rest = body_text[m.start("rest") :]
                headers += 1
                if headers == 1:
                    scan.first_header = body_text
                    scan.marker = m["ap"]
                dd = m["dd"]
                if dd == last_date:
                    # Consecutive items of one day: the same evidence again, nothing new.
                    same += 1
                else:
                    evidence.repeat(same)
                    same = 0
                    last_date = _add_date(evidence, m, year_pos, dd)
                if not bracket:
                    author = self._scan_rest(scan, line_no_k, rest)
                    if author is not None:
                        count = authors.get(author)
                        if count is not None:
                            authors[author] = count + 1
                        elif len(authors) < MAX_AUTHORS:
                            authors[author] = 1
                    continue
                author, first = _split_author(rest)
                if author is None:
                    self._scan_system(scan, line_no_k, _marker_text(first))
                    continue
                author = author.strip()
                lrm, lrm_inside = _lrm_body(raw, bracket)
                dt = body_text[m.start("dt") : m.end("dt")]
                header = _Header(line_no_k, raw, body_text, m, author, first, lrm, lrm_inside, dt)
                if self._scan_ios(scan, header, _marker_text(first)):
                    continue
                self._scan_deletion(scan, line_no_k, author, first)
                count = authors.get(author)
                if count is not None:
                    authors[author] = count + 1
                elif len(authors) < MAX_AUTHORS:
                    authors[author] = 1
        evidence.repeat(same)
        scan.headers = headers

    def _scan_rest(self, scan: _Scan, line_no: int, rest: str) -> str | None:
        """What the part of an Android header line after the time says: its author (stripped),
        or ``None`` for a system line (its facts noted)."""
        author, first = _split_author(rest)
        if author is None:
            self._scan_system(scan, line_no, _marker_text(first))
            return None
        author = author.strip()
        self._scan_deletion(scan, line_no, author, first)
        return author

    def _scan_deletion(self, scan: _Scan, line_no: int, author: str, first: str) -> None:
        """Note a deletion placeholder (whose, and the language it is written in)."""
        if first[:3].casefold() in g.DELETED_STARTS or first[:1].isspace():  # g.may_be_deletion
            own = g.deletion_marker(_marker_text(first))
            if own is not None:
                if own:
                    scan.own_deletion_authors[author] += 1
                if scan.language is None:
                    self._note_language(scan, line_no, _marker_text(first))

    def _scan_ios(self, scan: _Scan, header: _Header, first: str) -> bool:
        """iOS facts of one authored line; True when the line is a system text."""
        if (
            scan.chat_name is None
            and header.line_no <= HEAD_LINES
            and (header.lrm or g.strong_system(first))
            and g.media_marker(first, lrm=True) is None
            and g.deletion_marker(first) is None
            and not g.call_marker(first)
            and "http" not in first
        ):
            # iOS prints its first notice (end-to-end encryption) under the chat's name.
            scan.chat_name = header.author
            scan.chat_name_line = header.line_no
        if self._ios_system(scan, header, first):
            self._scan_system(scan, header.line_no, first)
            return True
        return False

    @staticmethod
    def _note_language(scan: _Scan, line_no: int, text: str) -> None:
        language = g.text_language(text)
        if language is not None:
            scan.language = (language, f"the app text of line {line_no} ({text[:60]!r})")

    @classmethod
    def _scan_system(cls, scan: _Scan, line_no: int, first: str) -> None:
        if g.is_group_event(first) and len(scan.group_events) < 5:
            scan.group_events.append(f"line {line_no}: {first[:80]}")
        scan.you_events += g.is_you_event(first)
        actor = g.acts_on_owner(first)
        if actor and len(scan.not_owner) < MAX_AUTHORS:
            scan.not_owner[actor] += 1
        if scan.language is None:
            cls._note_language(scan, line_no, first)

    @staticmethod
    def _ios_system(scan: _Scan, header: _Header, first: str) -> bool:
        """An iOS system text printed under the chat name (LRM-prefixed), or one of the notices
        nobody types when the LRMs were lost."""
        if header.author is None or scan.shape is None or not scan.shape.bracket:
            return False
        if not header.lrm:
            return g.strong_system(first)
        if (
            g.media_marker(first, lrm=True) is not None
            or g.deletion_marker(first) is not None
            or g.call_marker(first)
            or "http" in first  # shared locations are LRM-prefixed too: a person's message
            or first.startswith("POLL:")
        ):
            return False
        return header.author == scan.chat_name or g.looks_system(first)

    # -- decisions -------------------------------------------------------------------------------
    def _title(self, file: EvidenceFile, scan: _Scan) -> tuple[str | None, str]:
        title = g.title_from_name(file.name)
        if title:
            return title, f"file name {file.name!r}"
        label = _archive_name(file)
        if label.lower().endswith(".zip"):
            title = g.title_from_name(label)
            if title:
                return title, f"archive name {label!r}"
        if scan.chat_name:
            return scan.chat_name, f"iOS chat-name author of line {scan.chat_name_line}"
        return None, "no title in the file name or the file"

    def _group(self, scan: _Scan) -> tuple[bool, str]:
        people = list(scan.authors)
        if len(people) > 2:
            return True, f"{len(people)} distinct authors"
        if scan.group_events:
            return True, f"group events: {scan.group_events[0]}"
        if scan.chat_name and len(people) >= 2 and scan.chat_name not in scan.authors:
            return True, f"iOS chat name {scan.chat_name!r} is not one of the {len(people)} authors"
        return False, f"{len(people)} distinct author(s) and no group events"

    def _owner(
        self, file: EvidenceFile, ctx: ParseContext, scan: _Scan, title: str | None, is_group: bool
    ) -> tuple[str | None, str, str]:
        """(owner's display name as written, how it was found, confidence)."""
        by_norm = {normalise_name(a): a for a in scan.authors}
        for name in ctx.owner_names:
            if normalise_name(name) in by_norm:
                return by_norm[normalise_name(name)], f"case owner name {name!r}", "certain"
        if ctx.owner:
            owner_ids = {o.id for o in ctx.owner if o.id}
            for author in scan.authors:
                if g.is_phone_author(author):
                    found = party(author, ctx.region, scheme="phone")
                    if found is not None and found.id in owner_ids:
                        return author, f"case owner number {found.id}", "certain"
        if ctx.owner_names:
            ctx.warn(
                file.logical,
                "owner name not among authors",
                f"none of {ctx.owner_names} wrote in this export; trying the file's own markers",
            )
        if len(scan.own_deletion_authors) == 1:
            author = next(iter(scan.own_deletion_authors))
            return author, f"'You deleted this message' placeholder by {author!r}", "high"
        if len(scan.own_deletion_authors) > 1:
            ctx.warn(
                file.logical,
                "conflicting owner markers",
                f"'You deleted this message' from {sorted(scan.own_deletion_authors)}",
            )
        excluded = {normalise_name(a) for a in scan.not_owner}
        candidates = [a for a in scan.authors if normalise_name(a) not in excluded]
        if scan.authors and excluded and not candidates:
            shown = ", ".join(sorted(scan.not_owner)[:3])
            return (
                OWNER_ABSENT,
                f"every author is shown not to be the owner ({shown} acted on 'you')",
                "high",
            )
        if not is_group and len(scan.authors) == 2 and len(candidates) == 1:
            return candidates[0], f"{sorted(scan.not_owner)[0]!r} acted on 'you'", "high"
        if not is_group and len(scan.authors) == 2:
            for other in (title, scan.chat_name):
                if other and normalise_name(other) in by_norm:
                    contact = by_norm[normalise_name(other)]
                    owner = next(a for a in scan.authors if a != contact)
                    return (
                        owner,
                        f"one-to-one chat named after the other author {contact!r}",
                        "medium",
                    )
        return None, "the export does not name its owner", "none"

    def _order(
        self, file: EvidenceFile, ctx: ParseContext, scan: _Scan
    ) -> tuple[g.OrderDecision, list[str]]:
        """The day/month order, and the language evidence considered when the dates could not
        tell (empty otherwise)."""
        decision = g.decide_order(scan.evidence, ctx.date_order)
        if decision.confidence != "ambiguous" or scan.year_pos is None:
            return decision, []
        hints: list[tuple[str, str]] = []
        marker = g.marker_language(scan.marker)
        if marker:
            hints.append((marker, f"the AM/PM marker {scan.marker!r}"))
        if scan.language:
            hints.append(scan.language)
        for name, where in ((file.name, "file name"), (_archive_name(file), "archive name")):
            language = g.name_language(name)
            if language:
                hints.append((language, f"the {where} {name!r}"))
        assumed = g.assumed_order(hints, ctx.region)
        considered = [f"{g.DAY_FIRST_LANGUAGES.get(lang, lang)}: {where}" for lang, where in hints]
        return (
            g.OrderDecision(
                assumed.day_first, "assumed", f"{decision.reason}; assumed: {assumed.reason}"
            ),
            considered,
        )

    # -- second pass -----------------------------------------------------------------------------
    def parse_into(self, file: EvidenceFile, ctx: ParseContext, sink: Any) -> Iterator[Record]:
        return self.parse(file, ctx, sink=sink)

    def parse(
        self,
        file: EvidenceFile,
        ctx: ParseContext,
        by_line: bool = False,
        sink: MessageSink | None = None,
    ) -> Iterator[Record]:
        """Messages and calls of one export; ``by_line`` reads every line on its own, as
        :meth:`_scan` does (the same records: a test compares them). With a ``sink``
        (:meth:`triage.registry.Parser.parse_into`) the messages are given to it by shape (one
        per author, kind and attachment: :meth:`_State.message`), not yielded; the second pass
        over a large export is then split between two processes
        (:mod:`triage.parsers.whatsapp_txt_halves`)."""
        scan = self._scan(file, ctx, by_line, split=sink is not None)
        if scan.shape is None or scan.regex is None:
            ctx.warn(file.logical, "no header lines", "no line has a WhatsApp export header")
            return
        decision, considered = self._order(file, ctx, scan)
        order = decision.order_name(scan.year_pos)
        title, title_source = self._title(file, scan)
        is_group, group_reason = self._group(scan)
        owner_name, owner_reason, owner_conf = self._owner(file, ctx, scan, title, is_group)
        absent = owner_name == OWNER_ABSENT
        evidence: dict[str, Any] = {"reason": decision.reason, **scan.evidence.as_dict()}
        facts: dict[str, Any] = {}
        if decision.confidence == "assumed":
            evidence["language_evidence"] = considered
            facts["notice"] = (
                f"Day and month could not be told apart from the dates; {order} was assumed "
                f"({decision.reason.split('assumed: ')[-1]}). Messages whose date reads "
                "differently the other way are flagged 'date_order_assumed'; give --date-order "
                "to read them otherwise."
            )
        ctx.decide(
            file.logical,
            header_shape=scan.shape.describe(),
            date_order=order,
            confidence=decision.confidence,
            evidence=evidence,
            timezone_assumed=ctx.timezone_name,
            title=title,
            title_source=title_source,
            is_group=is_group,
            group_evidence=group_reason,
            owner_author=None if absent else owner_name,
            owner_evidence=owner_reason,
            owner_confidence=owner_conf,
            # Android prints the owner's own group actions as "You ..." (never his name).
            you_system_lines=scan.you_events,
            direction=(
                "incoming for every person message"
                if absent
                else "by owner author"
                if owner_name
                else "unknown for every person message"
            ),
            **facts,
        )
        if decision.day_first is None:
            ctx.warn(
                file.logical,
                f"date order {decision.confidence}",
                f"{decision.reason}; timestamps left empty where day and month differ "
                "(give --date-order DMY or MDY)",
            )
        elif decision.confidence == "assumed":
            ctx.warn(
                file.logical,
                "date order assumed",
                f"{order}: {decision.reason} (give --date-order DMY or MDY to change)",
            )
        elif decision.confidence == "low":
            ctx.warn(file.logical, "date order inferred with low confidence", decision.reason)
        if scan.year_pos is None:
            ctx.warn(
                file.logical,
                "date without a year",
                f"header layout {scan.shape.describe()!r} has no year: timestamps left empty",
            )
        if owner_name is None:
            ctx.warn(
                file.logical,
                "direction unknown",
                "the export does not say which author is the phone's owner (give owner names)",
            )

        state = _State(self, file, ctx, scan, decision, owner_name, title, is_group, sink)
        lines = TextLines(file)
        bracket = scan.shape.bracket
        match = scan.regex.match
        finditer = None if bracket or by_line else g.compile_shape(scan.shape, block=True).finditer
        read = _Reading(state, match, finditer, bracket)
        halves = None if sink is None else split_second_pass(state, scan, sink, read)
        if halves is None:
            yield from read.items(numbered(lines.runs()))
        else:
            try:
                yield from read.items(halves.first(lines))
                # The first half is read; the second, read by the child, is taken whole, or
                # (whatever went wrong there) read here.
                if not halves.join(lines):
                    yield from read.items(halves.rest())
            finally:
                halves.close()
        state.report_unlinked_media()
        _report_text(file, ctx, lines)


def numbered(runs: Iterator[tuple[list[str], dict[int, int]]]) -> Iterator[Run]:
    """Runs of lines (:meth:`TextLines.runs`) with the number of the line before each."""
    line_no = 0
    for run, cuts in runs:
        yield run, cuts, line_no
        line_no += len(run)


#: A run of lines, the full lengths of those of them that were cut (by index), and the number of
#: the line before the run.
Run = tuple[list[str], dict[int, int], int]


class _Reading:
    """The second pass over runs of lines, from a header line or the start of the file."""

    def __init__(
        self,
        state: _State,
        match: Callable[[str], re.Match[str] | None],
        finditer: Callable[[str], Iterator[re.Match[str]]] | None,
        bracket: bool,
    ) -> None:
        self.state = state
        self.match = match
        self.finditer = finditer
        self.bracket = bracket

    def is_header(self, raw: str) -> bool:
        """Whether a line opens an item (as :meth:`items` reads it line by line)."""
        return self.match(raw if raw.isascii() else _view(raw)[1]) is not None

    def items(self, runs: Iterator[Run]) -> Iterator[Record]:
        """The records of the items whose header lines are in ``runs`` (messages given to the
        state's sink are not yielded); the first line must open an item or the file."""
        state, match, finditer, bracket = self.state, self.match, self.finditer, self.bracket
        pending: _Header | None = None
        extra_lines: list[str] = []
        message = state.message
        more = state.more
        for run, cuts, base in runs:
            text = None
            if finditer is not None and not cuts:
                text = "\n" + "\n".join(run)
                # A run read at once holds no mark to remove and no digit or space to read
                # otherwise, so its lines are their own body text and header view.
                if not text.isascii() and (
                    g.strip_invisible(text) != text or g.header_view(g.plain_spaces(text)) != text
                ):
                    text = None
            if text is not None:
                at = 0  # where the lines after the last header start ("\n" before each)
                no = base  # the number of the line before the one at ``at``
                for m in finditer(text):
                    start = m.start()
                    if start != at:
                        for raw in text[at + 1 : start].split("\n"):
                            no += 1
                            more(pending, extra_lines, no, raw, raw)
                    no += 1
                    if pending is not None:
                        item = message(pending, extra_lines)
                        if item is not None:
                            yield item
                    raw, dt, author, first = m.group("line", "dt", "au", "first")
                    if author is None:
                        author, first = g.split_author(first)
                    if author is not None:
                        author = author.strip()
                    pending = _new_tuple(
                        _Header, (no, raw, raw, m, author, first, False, False, dt)
                    )
                    extra_lines = []
                    at = m.end()
                if at != len(text):
                    for raw in text[at + 1 :].split("\n"):
                        no += 1
                        more(pending, extra_lines, no, raw, raw)
                continue
            for no, raw in enumerate(run, start=base + 1):
                if raw.isascii():
                    m = match(raw)
                    body_text = raw
                    if m is not None:
                        rest, dt = m.group("rest", "dt")
                else:
                    body_text, view = _view(raw)
                    m = match(view)
                    if m is not None:
                        rest = body_text[m.start("rest") :]
                        dt = body_text[m.start("dt") : m.end("dt")]
                if cuts and no - base - 1 in cuts:
                    state.cut(pending, no, cuts[no - base - 1])
                if m is None:
                    more(pending, extra_lines, no, raw, body_text)
                    continue
                if pending is not None:
                    item = message(pending, extra_lines)
                    if item is not None:
                        yield item
                # _split_author's common case inline.
                idx = rest.find(": ")
                author = rest[:idx] if 0 < idx <= 80 else '"'
                if '"' not in author and "\u201c" not in author and "\u201d" not in author:
                    author, first = author.strip(), rest[idx + 2 :]
                else:
                    author, first = g.split_author(rest)
                    if author is not None:
                        author = author.strip()
                lrm, lrm_inside = _lrm_body(raw, bracket) if bracket else (False, False)
                pending = _new_tuple(
                    _Header, (no, raw, body_text, m, author, first, lrm, lrm_inside, dt)
                )
                extra_lines = []
        if pending is not None:
            item = message(pending, extra_lines)
            if item is not None:
                yield item


def _archive_name(file: EvidenceFile) -> str:
    parent = getattr(file.container, "parent_file", None)
    return parent.name if parent is not None else posixpath.basename(file.container.label)


def _detect_lines(probe: Probe) -> list[str]:
    """The first lines of a file for detection. A head with no line end at all is one over-long
    line (a pasted blob, a damaged file): the lines after it are read past it, in bounded memory."""
    text = decode_head(probe.head)
    if "\n" in text or "\r" in text or probe.file.size <= len(probe.head):
        return text.lstrip("\ufeff").splitlines()[:DETECT_LINES]
    if not text.strip():
        return []  # NULs or blanks only: no text to look past
    found: list[str] = []
    for line in TextLines(probe.file, max_line=4096, max_bytes=DETECT_BYTES):
        found.append(line)
        if len(found) >= DETECT_LINES:
            break
    return found


def _report_text(file: EvidenceFile, ctx: ParseContext, lines: TextLines) -> None:
    """Say what reading the text changed or could not keep."""
    if lines.encoding != "utf-8":
        ctx.decide(file.logical, encoding=lines.encoding)
    if lines.replaced:
        ctx.warn(
            file.logical,
            "invalid text bytes replaced",
            f"{lines.replaced:,} invalid {lines.encoding.upper()} sequence"
            f"{'s' if lines.replaced != 1 else ''} replaced (with U+FFFD)",
        )
    if lines.nul_removed:
        ctx.warn(
            file.logical,
            "NUL characters removed",
            f"{lines.nul_removed:,} NUL character{'s' if lines.nul_removed != 1 else ''} removed",
        )
    for line_no, length in lines.long_lines:
        ctx.warn(
            file.logical,
            "over-long line cut",
            f"line {line_no}: {length:,} characters, the first {lines.max_line:,} kept",
        )


class _State:
    """Builds messages for one file once the first pass has fixed everything file-wide."""

    def __init__(
        self,
        parser: WhatsAppTxt,
        file: EvidenceFile,
        ctx: ParseContext,
        scan: _Scan,
        decision: g.OrderDecision,
        owner_name: str | None,
        title: str | None,
        is_group: bool,
        sink: MessageSink | None = None,
    ) -> None:
        self.parser = parser
        self.sink = sink
        # (author, kind, deleted, edited, media marker and file) -> the first message of that
        # shape (MessageSink): every field of a message but its time, texts, locator, key and
        # extra follows from it.
        self._shapes: dict[tuple[Any, ...], Message] = {}
        self.file = file
        self.logical = file.logical
        self.sha256 = file.sha256
        self.ctx = ctx
        self.scan = scan
        self.decision = decision
        self.assumed = decision.confidence == "assumed"
        self.bracket = scan.shape is not None and scan.shape.bracket
        self.owner_norm = (
            owner_name
            if owner_name == OWNER_ABSENT
            else normalise_name(owner_name)
            if owner_name
            else None
        )
        self.owner = ctx.owner_party()
        self.index = 0
        self.parties: dict[str, Party] = {}
        self._owner_as: dict[str, Party] = {}
        participants = [
            self.owner_as(a) if self.is_owner_author(a) else self.author_party(a)
            for a in sorted(scan.authors)
        ]
        if owner_name == OWNER_ABSENT:
            # The export came from the owner's phone: he is in the chat though he wrote nothing.
            participants.append(self.owner)
        self.conversation = Conversation(
            id=f"whatsapp:export:{file.sha256[:16]}",
            title=title,
            is_group=is_group,
            participants=participants,
        )
        self.others = [self.author_party(a) for a in scan.authors if not self.is_owner_author(a)]
        self._siblings: dict[str, EvidenceFile | None] = {}
        self._authors: dict[str, tuple[str, Party, list[Party]]] = {}
        self._times: dict[str, tuple[datetime | None, str | None, bool]] = {}
        self._days: dict[tuple[int, int, int], timedelta | None] = {}
        # header time as written -> (hour, minute, second, impossible 12 h reading, since midnight)
        self._clocks: dict[str, tuple[int, int, int, bool, timedelta | None]] = {}
        # by day-first or not: header date as written -> (year, month, day, that local
        # midnight in UTC or None)
        self._dates: dict[bool, dict[str, tuple[int, int, int, datetime | None]]] = {
            True: {},
            False: {},
        }
        self._cuts: dict[int, list[dict[str, int]]] = {}
        self._key_prefix = hashlib.sha256((scan.first_header or "").encode() + b"\x1e")
        self._plain_times = decision.day_first is not None and not self.assumed
        self._day_first = bool(decision.day_first)

    def is_owner_author(self, author: str) -> bool:
        return self.owner_norm is not None and normalise_name(author) == self.owner_norm

    def owner_as(self, author: str) -> Party:
        """The owner as this export names him: his name exactly as written, his identity."""
        found = self._owner_as.get(author)
        if found is None:
            o = self.owner
            found = Party(raw=author, id=o.id, name=o.name, scheme=o.scheme)
            if len(self._owner_as) < MAX_AUTHORS:
                self._owner_as[author] = found
        return found

    def author_party(self, author: str) -> Party:
        found = self.parties.get(author)
        if found is None:
            if g.is_phone_author(author):
                found = party(author, self.ctx.region, scheme="phone")
            else:
                found = party(author, self.ctx.region, name=author, scheme="name")
            assert found is not None
            if len(self.parties) < MAX_AUTHORS:
                self.parties[author] = found
        return found

    def sibling(self, name: str) -> EvidenceFile | None:
        if name not in self._siblings:
            self._siblings[name] = self.file.sibling(name)
        return self._siblings[name]

    def more(
        self, pending: _Header | None, lines: list[str], line_no: int, raw: str, body_text: str
    ) -> None:
        """A line without a header: the next line of the item above, or, before the first
        header, a line of no item (reported)."""
        if pending is None:
            if raw.strip():
                self.ctx.warn(self.logical, "unparsed line", f"line {line_no}: {raw[:80]!r}")
            return
        first_char = body_text[:1]
        if (first_char.isdigit() or first_char == "[") and g.generic_shape(
            g.header_view(g.plain_spaces(body_text))
        ) is not None:
            self.ctx.warn(
                self.logical,
                "header of another layout kept as a continuation line",
                f"line {line_no}: {raw[:80]!r}",
            )
        lines.append(body_text)

    def cut(self, pending: _Header | None, line_no: int, length: int) -> None:
        """Remember that ``line_no`` was cut short, for the message it belongs to."""
        self._cuts.setdefault(line_no, []).append({"line": line_no, "characters": length})

    # -- time ------------------------------------------------------------------------------------
    def _reading(
        self, m: re.Match[str], day_first: bool
    ) -> tuple[datetime | None, str | None, bool]:
        """(UTC time, note, whether the 12 h clock was impossible) of one header's date."""
        # Remembered by the date and the time of day as written (the reading depends on the
        # components in them alone).
        date_text, time_text = m.group("dd", "tt")
        dates = self._dates[day_first]
        date = dates.get(date_text)
        if date is None:
            date = self._date(m.group("a", "b", "c", "era"), day_first)
            if len(dates) >= MAX_TIMES:
                dates.clear()
            dates[date_text] = date
        year, month, day, midnight = date
        if not year:
            return None, None, False
        clock = self._clocks.get(time_text)
        if clock is None:
            clock = self._clock(time_text, *m.group("h", "mi", "s", "ap"))
        hour, minute, second, impossible, since_midnight = clock
        if since_midnight is None:
            return None, "invalid", impossible
        if midnight is not None:
            # No clock change that day: its UTC midnight plus the time of day.
            return midnight + since_midnight, None, impossible
        naive = g.naive_datetime(day, month, year, hour, minute, second)
        if naive is None:
            return None, "invalid", impossible
        utc, note = local_to_utc(naive, self.ctx.timezone)
        return utc, note, impossible

    def _clock(
        self, text: str, h: str, mi: str, seconds: str | None, ap: str | None
    ) -> tuple[int, int, int, bool, timedelta | None]:
        """(hour, minute, second, whether the 12 h reading was impossible, the time since
        midnight or ``None`` when out of range) of a header time as written, remembered."""
        hour, impossible = g.clock_hour(int(h), ap) if ap else (int(h), False)
        minute = int(mi)
        second = int(seconds) if seconds else 0
        since = None
        if hour <= 23 and minute <= 59 and second <= 59:
            since = _MINUTES[hour * 60 + minute] + _SECONDS[second]
        clock = (hour, minute, second, impossible, since)
        if len(self._clocks) >= MAX_TIMES:
            self._clocks.clear()
        self._clocks[text] = clock
        return clock

    def _date(
        self, written: tuple[Any, ...], day_first: bool
    ) -> tuple[int, int, int, datetime | None]:
        """(year, month, day, the UTC time of that local midnight or ``None`` on a day with a
        clock change) of a header date as written; year 0 when it has no year."""
        p, q, year_text = g.split_date(written[0], written[1], written[2], self.scan.year_pos)
        date: tuple[int, int, int, datetime | None] = (0, 0, 0, None)
        if year_text is not None:
            day, month = (p, q) if day_first else (q, p)
            year = g.year_value(year_text, bool(written[3]))
            offset = self._days.get((year, month, day), _UNSET)
            if offset is _UNSET:
                offset = self._day_offset(year, month, day)
            midnight = None
            if offset is not None:
                midnight = datetime(year, month, day, tzinfo=UTC) - offset
            date = (year, month, day, midnight)
        return date

    def _day_offset(self, year: int, month: int, day: int) -> timedelta | None:
        """The zone's UTC offset on a local day without a clock change, else ``None`` (the day's
        times are then converted one by one, so skipped and repeated hours are noticed)."""
        offset = None
        try:
            start = datetime(year, month, day, tzinfo=self.ctx.timezone)
            end = datetime(year, month, day, 23, 59, 59, tzinfo=self.ctx.timezone)
            before, after = start.utcoffset(), end.utcoffset()
            if before == after and before == end.replace(fold=1).utcoffset():
                offset = before
        except ValueError:
            pass  # an impossible date: reported by the one-by-one path
        if len(self._days) >= MAX_TIMES:
            self._days.clear()
        self._days[(year, month, day)] = offset
        return offset

    def timestamp(self, header: _Header, extra: dict[str, Any]) -> datetime | None:
        m = header.match
        if self.decision.day_first is None or self.assumed:
            first, note1, imp1 = self._reading(m, True)
            second, note2, imp2 = self._reading(m, False)
            if first is not None and first == second:
                return self._noted(header, extra, first, note1, imp1)
            if self.decision.day_first is None or first is not None or second is not None:
                extra["date_readings"] = {
                    "day_first": first.strftime("%Y-%m-%dT%H:%M:%SZ") if first else None,
                    "month_first": second.strftime("%Y-%m-%dT%H:%M:%SZ") if second else None,
                }
            if self.decision.day_first is None:
                return None
            extra["date_order_assumed"] = "day first" if self.decision.day_first else "month first"
            if self.decision.day_first:
                return self._noted(header, extra, first, note1, imp1)
            return self._noted(header, extra, second, note2, imp2)
        # Consecutive items often share a minute; the reading depends on the header text only.
        key = header.dt
        cached = self._times.get(key)
        if cached is None:
            cached = self._reading(m, self.decision.day_first)
            if len(self._times) >= MAX_TIMES:
                self._times.clear()
            self._times[key] = cached
        utc, note, impossible = cached
        if note is None and not impossible:
            return utc
        return self._noted(header, extra, utc, note, impossible)

    def _noted(
        self,
        header: _Header,
        extra: dict[str, Any],
        utc: datetime | None,
        note: str | None,
        impossible: bool,
    ) -> datetime | None:
        """Report what is odd about one header's time, and flag the record."""
        if note is None and not impossible:
            return utc
        m = header.match
        locator = f"line {header.line_no}"
        raw_dt = header.dt
        if impossible:
            extra["clock"] = f"hour {int(m['h'])} with {m['ap']!r}: read as the 24-hour time"
            self.ctx.warn(
                self.logical,
                "impossible 12-hour time read as 24-hour",
                f"{locator}: {raw_dt!r}",
            )
        if note == "invalid":
            self.ctx.warn(self.logical, "invalid date", f"{locator}: {raw_dt!r}")
        elif note in ("ambiguous", "nonexistent"):
            extra["local_time"] = note
            self.ctx.warn(
                self.logical,
                f"{note} local time",
                f"{locator}: {raw_dt!r} in {self.ctx.timezone_name} "
                + (
                    "(first occurrence used)"
                    if note == "ambiguous"
                    else "(offset before the change)"
                ),
            )
        return utc

    # -- messages --------------------------------------------------------------------------------
    def message(self, header: _Header, more: list[str]) -> Message | Call | None:
        # Unpacked at once (a named tuple's fields by name cost a lookup each).
        line_no, raw, body_text, m, author, first, _, lrm_inside, dt = header
        self.index = index = self.index + 1
        if more and not more[-1].strip():
            while more and not more[-1].strip():
                more = more[:-1]  # blank lines between items belong to no message
        extra: dict[str, Any] = {"raw_line": raw, "index": index}
        if more:
            extra["line_end"] = line_no + len(more)
        if self._cuts:
            cuts = [
                c for n in range(line_no, line_no + len(more) + 1) for c in self._cuts.pop(n, [])
            ]
            if cuts:
                extra["lines_cut"] = cuts
        if self._plain_times:
            # The common case inline: consecutive items often share a minute, and the reading
            # depends on the header text only.
            cached = self._times.get(dt)
            if cached is None:
                cached = self._time_of(dt, m)
            timestamp, note, impossible = cached
            if note is not None or impossible:
                timestamp = self._noted(header, extra, timestamp, note, impossible)
        else:
            timestamp = self.timestamp(header, extra)
        first_marker = first.strip() if first.isascii() else _marker_text(first)
        kind = "text"
        attachments: list[Attachment] = []
        media: tuple[str, str | None] | None = None
        deleted = edited = False
        body: str | None = "\n".join([first, *more]) if more else first

        if author is None or (
            self.bracket and self.parser._ios_system(self.scan, header, first_marker)
        ):
            kind = direction = "system"
            sender: Party | None = None
            recipients: list[Party] = []
            if author is not None:
                extra["author"] = author
        else:
            extra["author"] = author
            found = self._authors.get(author)
            if found is None:
                direction, sender, recipients = self.addressing(author)
            else:
                direction, sender, recipients = found[0], found[1], found[2].copy()
            # g.may_be_deletion inline (a stripped text never starts with a space).
            own = (
                g.deletion_marker(first_marker)
                if not more and first_marker[:3].casefold() in _DELETED_STARTS
                else None
            )
            marker = None
            if own is None and first_marker:
                # A cheap test that rules out most texts before g.media_marker looks closer.
                if (
                    lrm_inside
                    or first_marker[-1] in ">)"
                    or first_marker[-8:].casefold().endswith(_OMITTED_ENDINGS)
                ):
                    marker = g.media_marker(
                        first_marker, lrm=lrm_inside, sibling_exists=self.sibling
                    )
            if own is not None:
                kind, deleted, body = "deleted", True, None
                extra["deletion_marker"] = first_marker
            elif marker is not None:
                kind = "media"
                attachments.append(self.attachment(marker))
                media = (marker.label, marker.file)  # what the attachment follows from
                caption = "\n".join(([marker.caption] if marker.caption else []) + more)
                body = caption if caption.strip() else None
                extra["media_marker"] = marker.label
            elif not more and "call" in first_marker and (said := g.call_line(first_marker)):
                return self.call(header, timestamp, said, direction, sender, recipients, extra)
            elif first_marker == "null" and not more:
                # Android prints view-once media as the body "null" (whats_json english_android).
                kind = "other"
                extra["possible_view_once"] = True
            if body is not None and "<" in body:
                body, edited = g.strip_edited(body)
        # The duplicate key (see duplicate_key), inline.
        digest = self._key_prefix.copy()
        text = f"{line_no}\x1e{body_text}"
        digest.update((text + "\x1e" + "\x1e".join(more) if more else text).encode())
        # hexdigest()[:32], hexing only the 16 bytes kept.
        key = "whatsapp_txt:" + digest.digest()[:16].hex()
        locator = f"line {line_no}"
        sink = self.sink
        if sink is not None:
            shape_key = (author, kind, deleted, edited, media)
            shape = self._shapes.get(shape_key)
            if shape is None and len(self._shapes) < MAX_SHAPES:
                shape = self._shapes[shape_key] = self._message(
                    timestamp, dt, direction, sender, recipients, body, kind, locator, deleted,
                    edited, attachments, extra, key,
                )  # fmt: skip
            if shape is not None:
                sink.message(shape, timestamp, dt, body, locator, key, extra)
                return None
        return self._message(
            timestamp, dt, direction, sender, recipients, body, kind, locator, deleted, edited,
            attachments, extra, key,
        )  # fmt: skip

    def _message(
        self,
        timestamp: datetime | None,
        dt: str,
        direction: str,
        sender: Party | None,
        recipients: list[Party],
        body: str | None,
        kind: str,
        locator: str,
        deleted: bool,
        edited: bool,
        attachments: list[Attachment],
        extra: dict[str, Any],
        key: str,
    ) -> Message:
        # In the order of MESSAGE_LEADING_FIELDS.
        return _new_message(
            "whatsapp",
            self.conversation,
            timestamp,
            dt,
            True,  # zone_assumed
            direction,
            sender,
            recipients,
            body,
            kind,
            # Provenance's own constructor, less one Python call (every item makes one).
            _new_tuple(Provenance, (self.logical, self.sha256, "whatsapp_txt", locator)),
            deleted,
            edited,
            attachments,
            None,  # record_id
            None,  # order_key
            extra,
            key,
        )

    def _time_of(self, key: str, m: re.Match[str]) -> tuple[datetime | None, str | None, bool]:
        """The reading of a header time not seen lately, remembered by its text."""
        # _reading's common case inline: a day and a time of day both read before, on a day
        # without a clock change.
        date_text, time_text = m.group("dd", "tt")
        date = self._dates[self._day_first].get(date_text)
        clock = self._clocks.get(time_text)
        if date is not None and clock is not None and date[3] is not None and clock[4] is not None:
            cached = (date[3] + clock[4], None, clock[3])
        else:
            cached = self._reading(m, self._day_first)
        times = self._times
        if len(times) >= MAX_TIMES:
            times.clear()
        times[key] = cached
        return cached

    def call(
        self,
        header: _Header,
        timestamp: datetime | None,
        said: g.CallLine,
        direction: str,
        sender: Party | None,
        recipients: list[Party],
        extra: dict[str, Any],
    ) -> Call:
        """A call line as the call it records. The line is printed under the caller's name, so
        its direction is the line's; the result is what the line says (a duration is a
        connected call; "No answer" and a missed call the owner placed were not answered)."""
        way: CallDirection = direction if direction in ("incoming", "outgoing") else "unknown"  # type: ignore[assignment]
        result: CallResult
        if said.outcome == "duration":
            result = "answered"
        elif said.outcome == "elsewhere":
            result = "answered_elsewhere"
        elif said.outcome == "no_answer" or said.state in ("missed", "silenced"):
            result = {"incoming": "missed", "outgoing": "not_answered"}.get(way, "unknown")  # type: ignore[assignment]
        else:
            result = "unknown"
        if said.state == "silenced":
            extra["silenced"] = said.detail
        extra["from_text_export"] = True
        is_group = said.group or self.conversation.is_group
        if way == "outgoing":
            counterpart = recipients[0] if len(recipients) == 1 and not is_group else None
        else:
            counterpart = sender
        return Call(
            network="whatsapp",
            timestamp_utc=timestamp,
            timestamp_raw=header.dt,
            direction=way,
            result=result,
            source=Provenance(self.logical, self.sha256, "whatsapp_txt", f"line {header.line_no}"),
            duration_s=said.seconds,
            counterpart=counterpart,
            is_group=is_group,
            video=said.video,
            conversation_id=self.conversation.id,
            result_code=f"line text={g.strip_invisible(header.first).strip()}",
            zone_assumed=True,
            extra=extra,
            duplicate_key=self.duplicate_key(header, []),
        )

    def duplicate_key(self, header: _Header, more: list[str]) -> str:
        """The same item in another copy of the same export (the zip and its unpacked text, a
        later export of the same chat): the chat's first line, the item's line number and text.
        The line number keeps keys unique within a file; the first line keeps two chats apart
        and makes an export whose older part was cut off (Android caps exports) match nothing,
        so nothing is merged that might not be the same message."""
        # sha256 over "\x1e".join([first line, line number, text, *more lines]), the
        # first line's share hashed once per file.
        digest = self._key_prefix.copy()
        text = f"{header.line_no}\x1e{header.body_text}"
        digest.update((text + "\x1e" + "\x1e".join(more) if more else text).encode())
        return "whatsapp_txt:" + digest.hexdigest()[:32]

    def addressing(self, author: str) -> tuple[str, Party, list[Party]]:
        """(direction, sender, recipients) of a person's message, fixed per author."""
        found = self._authors.get(author)
        if found is None:
            direction = self.direction(author)
            sender, recipients = self.parties_for(author, direction)
            found = (direction, sender, recipients)
            if len(self._authors) < MAX_AUTHORS:
                self._authors[author] = found
        direction, sender, recipients = found
        return direction, sender, list(recipients)

    def direction(self, author: str) -> str:
        if self.owner_norm is None:
            return "unknown"
        return "outgoing" if normalise_name(author) == self.owner_norm else "incoming"

    def parties_for(self, author: str, direction: str) -> tuple[Party, list[Party]]:
        author_party = None if direction == "outgoing" else self.author_party(author)
        # An export lists only the people who wrote in it: not who else was in the group, and
        # not whom an unknown-direction line went to.
        members = self.others if direction == "outgoing" and not self.conversation.is_group else []
        # The owner as this line names him (his name as written, his identity).
        owner = self.owner_as(author) if direction == "outgoing" else self.owner
        sender, recipients = sender_and_recipients(direction, owner, author_party, members)
        assert sender is not None
        return sender, recipients

    def report_unlinked_media(self) -> None:
        """Files beside the text in a "with media" archive that no message names: a message
        may have been removed from the text, or the file added to the archive afterwards."""
        container = self.file.container
        if container.separator != "!/" or self.file.folder:
            # Only an export's own archive (text at its root): a folder on the phone, or one
            # inside a whole extraction, holds unrelated files beside a bare .txt.
            return
        for member, other in sorted(container.files.items()):
            if (
                other is self.file
                or posixpath.dirname(member) != self.file.folder
                or other.name in self._siblings
                or other.name.lower().endswith(".txt")
            ):
                continue
            self.ctx.warn(
                self.file.logical,
                "file in the export not named by any message",
                other.logical,
            )

    def attachment(self, marker: g.MediaMarker) -> Attachment:
        if marker.file is None:
            return Attachment(
                name=None, note=f"media not included in the export ({marker.label!r})"
            )
        mime = mimetypes.guess_type(marker.file)[0]
        found = self.sibling(marker.file)
        if found is None:
            return Attachment(
                name=marker.file,
                mime=mime,
                note="named in the export but not found beside it",
            )
        return Attachment(
            name=marker.file, path=found.logical, sha256=found.sha256, mime=mime, size=found.size
        )


_OMITTED_ENDINGS = ("omitted", "omitida", "omitido")
