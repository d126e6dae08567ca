"""WhatsApp "Export chat" text: a bare ``.txt`` or the ``_chat.txt`` / ``WhatsApp Chat with X.txt``
inside a "with media" zip, from Android and iOS, in any locale the app exports.

Format (public peers' parsers and test exports: Pustur/whatsapp-chat-parser ``src/parser.ts`` and
``tests/parser.test.ts``, starkdmi/whats_json ``test/data``, lucasrodes/whatstk
``whatstk/whatsapp/parser.py``; the file cited per variant in ``fixtures/whatsapp_txt/README.md``):

* one item per header line ``[DATE, TIME:SS] Author: body`` (iOS) or ``DATE, TIME - Author: body``
  (Android), every separator, clock and date layout listed in :mod:`parsers.whatsapp_txt_grammar`;
  lines without a header continue the item above (multi-line bodies, blank lines, captions);
* local wall-clock time with no zone and no stated day/month order: the order is inferred per file
  (reported with its evidence, or reported ambiguous and left unread), times are converted with
  the case time zone and marked ``zone_assumed``;
* Android system lines have no author; iOS prints them under the chat name with a leading LRM;
* media as ``<attached: NAME>`` / ``NAME (file attached)`` linked to the zip member beside the text,
  or as an omitted-media placeholder; deletion placeholders and ``<This message was edited>``.

The file is read twice as a stream (one pass to fix the layout, date order, authors and chat
facts; one to yield messages), so memory stays bounded whatever the export's length.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parsers import whatsapp_txt_grammar as g
from triage.addressing import sender_and_recipients
from triage.clock import local_to_utc
from triage.evidence import EvidenceFile, read_text
from triage.identity import normalise_name, party
from triage.model import Attachment, Conversation, Message, Party, Record
from triage.registry import Match, ParseContext, Parser, Probe

#: The header layout is fixed from the first HEAD_HEADERS header lines (within HEAD_LINES lines);
#: detection looks at up to DETECT_LINES lines of the 64 KiB head. Long multi-line messages at
#: the top of a chat are why these are not smaller.
HEAD_LINES = 5000
HEAD_HEADERS = 50
DETECT_LINES = 400
#: Stands for "the owner wrote nothing here": every person message is incoming.
OWNER_ABSENT = "\x00owner wrote nothing"
#: Distinct authors remembered; a chat export never has more members than a group allows.
MAX_AUTHORS = 5000


@dataclass(slots=True)
class _Header:
    """One header line read with the file's strict grammar."""

    line_no: int
    raw: str
    body_text: str  # invisible marks removed, spaces as written
    view: str  # cleaned + ASCII digits, for the header fields
    match: re.Match[str]
    author: str | None
    first: str  # the body on the header line itself
    lrm: bool  # the body starts with U+200E (iOS placeholders and system texts)
    lrm_inside: bool  # the body holds U+200E anywhere


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


def _lines(file: EvidenceFile) -> Iterator[str]:
    with read_text(file) as handle:
        for line in handle:
            yield line.rstrip("\r\n")


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


def _read_header(regex: re.Pattern[str], raw: str, line_no: int, bracket: bool) -> _Header | None:
    body_text = g.strip_invisible(raw)
    view = g.header_view(g.plain_spaces(body_text))
    m = regex.match(view)
    if m is None:
        return None
    rest = body_text[m.start("rest") :]
    author, first = g.split_author(rest)
    if author is not None:
        author = author.strip()
    lrm, lrm_inside = _lrm_body(raw, bracket)
    return _Header(line_no, raw, body_text, view, m, author, first, lrm, lrm_inside)


def _marker_text(text: str) -> str:
    return g.plain_spaces(text).strip()


class WhatsAppTxt(Parser):
    """WhatsApp "Export chat" text (Android and iOS, every locale layout), bare or in a zip."""

    name = "whatsapp_txt"
    version = "2"
    description = 'WhatsApp "Export chat" text (.txt, or _chat.txt in a zip with media)'

    # -- detection -------------------------------------------------------------------------------
    def match(self, probe: Probe) -> Match | None:
        if probe.is_sqlite or b"\x00" in probe.head[:4096]:
            return None
        lines = probe.text_head().splitlines()[:DETECT_LINES]
        shapes: Counter[g.Shape] = Counter()
        authored: Counter[g.Shape] = Counter()
        for line in lines:
            found = g.generic_shape(g.header_view(g.clean(line)))
            if found is None:
                continue
            shape, m = found
            shapes[shape] += 1
            if g.split_author(m["rest"])[0] is not None:
                authored[shape] += 1
        if not shapes:
            return None
        shape, hits = shapes.most_common(1)[0]
        # Several header lines of one layout, at least one with an author: a chat, not a log.
        if hits < 2 or authored[shape] < 1:
            return None
        return Match(self, 10 + min(hits, 20))

    # -- first pass ------------------------------------------------------------------------------
    def _choose_shape(self, file: EvidenceFile) -> tuple[g.Shape, int | None] | None:
        """The most common header layout among the first lines, and where its year is."""
        shapes: Counter[g.Shape] = Counter()
        year_pos: dict[g.Shape, int] = {}
        for count, raw in enumerate(_lines(file)):
            if count >= HEAD_LINES or shapes.total() >= HEAD_HEADERS:
                break
            found = g.generic_shape(g.header_view(g.clean(raw)))
            if found is None:
                continue
            shape, m = found
            shapes[shape] += 1
            comps = (m["a"], m["b"], m["c"])
            for i, comp in enumerate(comps):
                if comp is not None and (len(comp) >= 3 or comp[0] in "RH"):
                    year_pos.setdefault(shape, i)
        if not shapes:
            return None
        shape = shapes.most_common(1)[0][0]
        if shape in year_pos:
            return shape, year_pos[shape]
        # Two-digit years: last, as in every peer and every sample (Pustur normalizeDate).
        return shape, (2 if shape.year else None)

    def _scan(self, file: EvidenceFile, ctx: ParseContext) -> _Scan:
        scan = _Scan()
        chosen = self._choose_shape(file)
        if chosen is None:
            return scan
        scan.shape, scan.year_pos = chosen
        if scan.year_pos == 2 and ctx.date_order == "YMD" and scan.shape.year:
            scan.year_pos = 0
        scan.regex = g.compile_shape(scan.shape)
        scan.evidence.year_pos = scan.year_pos
        for line_no, raw in enumerate(_lines(file), start=1):
            header = _read_header(scan.regex, raw, line_no, scan.shape.bracket)
            if header is None:
                continue
            scan.headers += 1
            if scan.first_header is None:
                scan.first_header = header.body_text
            m = header.match
            try:
                p, q, year_text = g.split_date(m["a"], m["b"], m["c"], scan.year_pos)
                year = g.year_value(year_text, bool(m["era"])) if year_text else 0
                scan.evidence.add(p, q, year)
            except (ValueError, IndexError):
                pass
            self._scan_body(scan, header)
        return scan

    def _scan_body(self, scan: _Scan, header: _Header) -> None:
        first = _marker_text(header.first)
        if header.author is None:
            self._scan_system(scan, header, first)
            return
        if (
            scan.chat_name is None
            and header.line_no <= HEAD_LINES
            and (
                header.lrm
                or (scan.shape is not None and scan.shape.bracket and g.strong_system(first))
            )
        ):
            if (
                g.media_marker(first, lrm=True) is None
                and g.deletion_marker(first) is None
                and not g.call_marker(first)
                and "http" not in first
            ):
                # iOS prints its first notice (end-to-end encryption) under the chat's name.
                scan.chat_name = header.author
                scan.chat_name_line = header.line_no
        if self._ios_system(scan, header, first):
            self._scan_system(scan, header, first)
            return
        own = g.deletion_marker(first)
        if own:
            scan.own_deletion_authors[header.author] += 1
        if header.author in scan.authors or len(scan.authors) < MAX_AUTHORS:
            scan.authors[header.author] += 1

    @staticmethod
    def _scan_system(scan: _Scan, header: _Header, first: str) -> None:
        if g.is_group_event(first) and len(scan.group_events) < 5:
            scan.group_events.append(f"line {header.line_no}: {first[:80]}")
        scan.you_events += g.is_you_event(first)
        actor = g.acts_on_owner(first)
        if actor and len(scan.not_owner) < MAX_AUTHORS:
            scan.not_owner[actor] += 1

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
        parent = getattr(file.container, "parent_file", None)
        label = parent.name if parent is not None else posixpath.basename(file.container.label)
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

    # -- second pass -----------------------------------------------------------------------------
    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        scan = self._scan(file, ctx)
        if scan.shape is None or scan.regex is None:
            ctx.warn(file.logical, "no header lines", "no line has a WhatsApp export header")
            return
        decision = g.decide_order(scan.evidence, ctx.date_order)
        order = decision.order_name(scan.year_pos)
        title, title_source = self._title(file, scan)
        is_group, group_reason = self._group(scan)
        owner_name, owner_reason, owner_conf = self._owner(file, ctx, scan, title, is_group)
        absent = owner_name == OWNER_ABSENT
        ctx.decide(
            file.logical,
            header_shape=scan.shape.describe(),
            date_order=order,
            confidence=decision.confidence,
            evidence={"reason": decision.reason, **scan.evidence.as_dict()},
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
        )
        if decision.day_first is None:
            ctx.warn(
                file.logical,
                f"date order {decision.confidence}",
                f"{decision.reason}; timestamps left empty where day and month differ "
                "(give --date-order DMY or MDY)",
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

        state = _State(self, file, ctx, scan, decision, owner_name, title, is_group)
        pending: _Header | None = None
        extra_lines: list[str] = []
        bracket = scan.shape.bracket
        for line_no, raw in enumerate(_lines(file), start=1):
            header = _read_header(scan.regex, raw, line_no, bracket)
            if header is not None:
                if pending is not None:
                    yield state.message(pending, extra_lines)
                pending, extra_lines = header, []
                continue
            if pending is None:
                if raw.strip():
                    ctx.warn(file.logical, "unparsed line", f"line {line_no}: {raw[:80]!r}")
                continue
            text = g.strip_invisible(raw)
            if text[:1].isdigit() or text[:1] == "[":
                if g.generic_shape(g.header_view(g.plain_spaces(text))) is not None:
                    ctx.warn(
                        file.logical,
                        "header of another layout kept as a continuation line",
                        f"line {line_no}: {raw[:80]!r}",
                    )
            extra_lines.append(text)
        if pending is not None:
            yield state.message(pending, extra_lines)
        state.report_unlinked_media()


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
    ) -> None:
        self.parser = parser
        self.file = file
        self.ctx = ctx
        self.scan = scan
        self.decision = decision
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
        participants = [self.author_party(a) for a in sorted(scan.authors)]
        self.conversation = Conversation(
            id=f"whatsapp:export:{file.sha256[:16]}",
            title=title,
            is_group=is_group,
            participants=participants,
        )
        self.others = [
            self.author_party(a) for a in scan.authors if normalise_name(a) != self.owner_norm
        ]
        self._siblings: dict[str, EvidenceFile | None] = {}
        self._directions: dict[str, str] = {}
        self._times: dict[str, tuple[datetime | None, str | None]] = {}

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

    # -- time ------------------------------------------------------------------------------------
    def _reading(self, header: _Header, day_first: bool) -> tuple[datetime | None, str | None]:
        m = header.match
        p, q, year_text = g.split_date(m["a"], m["b"], m["c"], self.scan.year_pos)
        if year_text is None:
            return None, None
        day, month = (p, q) if day_first else (q, p)
        hour = g.to_hour(int(m["h"]), m["ap"])
        naive = g.naive_datetime(
            day,
            month,
            g.year_value(year_text, bool(m["era"])),
            hour,
            int(m["mi"]),
            int(m["s"] or 0),
        )
        if naive is None:
            return None, "invalid"
        utc, note = local_to_utc(naive, self.ctx.timezone)
        return utc, note

    def timestamp(self, header: _Header, extra: dict[str, Any]) -> datetime | None:
        locator = f"line {header.line_no}"
        raw_dt = header.body_text[header.match.start("dt") : header.match.end("dt")]
        if self.decision.day_first is None:
            first, _ = self._reading(header, True)
            second, _ = self._reading(header, False)
            if first is not None and first == second:
                return first
            extra["date_readings"] = {
                "day_first": first.strftime("%Y-%m-%dT%H:%M:%SZ") if first else None,
                "month_first": second.strftime("%Y-%m-%dT%H:%M:%SZ") if second else None,
            }
            return None
        # Consecutive items often share a minute; the reading depends on the header text only.
        key = header.view[header.match.start("dt") : header.match.end("dt")]
        cached = self._times.get(key)
        if cached is None:
            cached = self._reading(header, self.decision.day_first)
            if len(self._times) >= 4096:
                self._times.clear()
            self._times[key] = cached
        utc, note = cached
        if note == "invalid":
            self.ctx.warn(self.file.logical, "invalid date", f"{locator}: {raw_dt!r}")
        elif note in ("ambiguous", "nonexistent"):
            extra["local_time"] = note
            self.ctx.warn(
                self.file.logical,
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
    def message(self, header: _Header, more: list[str]) -> Message:
        self.index += 1
        while more and not more[-1].strip():
            more = more[:-1]  # blank lines between items belong to no message
        extra: dict[str, Any] = {"raw_line": header.raw, "index": self.index}
        if more:
            extra["line_end"] = header.line_no + len(more)
        timestamp = self.timestamp(header, extra)
        first_marker = _marker_text(header.first)
        kind, direction = "text", "unknown"
        sender: Party | None = None
        recipients: list[Party] = []
        attachments: list[Attachment] = []
        deleted = edited = False
        body: str | None = "\n".join([header.first, *more])

        if header.author is None or self.parser._ios_system(self.scan, header, first_marker):
            kind = direction = "system"
            if header.author is not None:
                extra["author"] = header.author
        else:
            extra["author"] = header.author
            direction = self.direction(header.author)
            sender, recipients = self.parties_for(header.author, direction)
            own = g.deletion_marker(first_marker) if not more else None
            marker = (
                g.media_marker(first_marker, lrm=header.lrm_inside, sibling_exists=self.sibling)
                if own is None
                else None
            )
            if own is not None:
                kind, deleted, body = "deleted", True, None
                extra["deletion_marker"] = first_marker
            elif marker is not None:
                kind = "media"
                attachments.append(self.attachment(marker))
                caption = "\n".join(([marker.caption] if marker.caption else []) + more)
                body = caption if caption.strip() else None
                extra["media_marker"] = marker.label
            elif g.call_marker(first_marker) and not more:
                kind = "call"
            elif first_marker == "null" and not more:
                # Android prints view-once media as the body "null" (whats_json english_android).
                kind = "other"
                extra["possible_view_once"] = True
            if body is not None:
                body, edited = g.strip_edited(body)
        return Message(
            duplicate_key=self.duplicate_key(header, more),
            platform="whatsapp",
            conversation=self.conversation,
            timestamp_utc=timestamp,
            timestamp_raw=header.body_text[header.match.start("dt") : header.match.end("dt")],
            zone_assumed=True,
            direction=direction,
            sender=sender,
            recipients=recipients,
            body=body,
            kind=kind,
            source=self.parser.provenance(self.file, f"line {header.line_no}"),
            deleted=deleted,
            edited=edited,
            attachments=attachments,
            extra=extra,
        )

    def duplicate_key(self, header: _Header, more: list[str]) -> str:
        """The same item in another copy of the same export (the zip and its unpacked text, a
        later export of the same chat): the chat's first line, the item's line number and text.
        The line number keeps keys unique within a file; the first line keeps two chats apart
        and makes an export whose older part was cut off (Android caps exports) match nothing,
        so nothing is merged that might not be the same message."""
        digest = hashlib.sha256(
            "\x1e".join(
                [self.scan.first_header or "", str(header.line_no), header.body_text, *more]
            ).encode()
        ).hexdigest()
        return f"whatsapp_txt:{digest[:32]}"

    def direction(self, author: str) -> str:
        if self.owner_norm is None:
            return "unknown"
        found = self._directions.get(author)
        if found is None:
            found = "outgoing" if normalise_name(author) == self.owner_norm else "incoming"
            if len(self._directions) < MAX_AUTHORS:
                self._directions[author] = found
        return found

    def parties_for(self, author: str, direction: str) -> tuple[Party, list[Party]]:
        author_party = None if direction == "outgoing" else self.author_party(author)
        # An export lists only the people who wrote in it: not who else was in the group, and
        # not whom an unknown-direction line went to.
        members = self.others if direction == "outgoing" and not self.conversation.is_group else []
        sender, recipients = sender_and_recipients(direction, self.owner, author_party, members)
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
