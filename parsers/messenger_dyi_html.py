"""Facebook Messenger "Download Your Information" (DYI) HTML download, ``message_N.html``.

Format: the HTML rendering of the same download and folder layout as the JSON form (see
``parsers/messenger_dyi_json.py``). The minified class names change between exports (``_a706``,
``_a6-g``, ``_2ph_``, ``_a72d``...), so the page is read by structure, as
``kenn-io/msgvault:internal/fbmessenger/html_parser.go`` does: a "Participants: A, B" header, then
one block per message whose first child is the sender, whose last child is the time and whose
children in between are the body and media (``<img src="photos/...">``, video, audio, links).

Times are local-time strings of the exporting account with no zone (``"Sep 13, 2020, 12:26 PM"``,
``"Oct 19, 2019 at 2:37 PM"``, ``"19 Oct 2019, 14:37"``, seconds in some exports): they are
converted with the case timezone (``ctx.timezone``) and marked ``zone_assumed``; precision is
noted in ``extra``. No reactions, no unsent flag and no message types are rendered, so the JSON
form (higher ``priority``) is the copy kept when both are present. Facebook writes the HTML as
UTF-8; a page re-saved through a wrong encoding shows mojibake (``ZoÃ« Ward``), which is repaired
only when the thread's own strings say so (:func:`triage.parsers.messenger_common.decide_mojibake`). A
"Participants: A, B and C" header is split on the final "and" too.

The page has no message types, so a call entry is known by its sentence alone ("You called X.",
"X called you.", "X missed your call.", "You missed a call from X.": the ``content`` of the JSON
``Call`` entry, printed as the block's body; English only). Such a block is a
:class:`~triage.model.Call` with no duration (the page does not give one) and the same
``duplicate_key`` as its JSON copy, which is the one kept.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from triage.parsers.messenger_common import (
    MESSAGE_HTML,
    PLATFORM,
    DuplicateKeys,
    call_sentence,
    decide_mojibake,
    download_owner,
    download_root,
    entry_result,
    name_party,
    numbered_siblings,
    owner_party,
    resolve_media,
    resolve_owner,
    split_participants,
    thread_call,
)
from triage.parsers.messenger_common import fix_mojibake as repair_text

from triage.addressing import sender_and_recipients
from triage.clock import local_to_utc
from triage.evidence import EvidenceFile, read_text
from triage.model import Conversation, Message, Record
from triage.registry import Match, ParseContext, Parser, Probe
from triage.sqlite_rows import RecordGuard

#: (strptime format, precision). ``%p`` matches am/pm in any case.
TIME_FORMATS = (
    ("%b %d, %Y, %I:%M %p", "minute"),
    ("%b %d, %Y at %I:%M %p", "minute"),
    ("%d %b %Y, %H:%M", "minute"),
    ("%b %d, %Y, %I:%M:%S %p", "second"),
    ("%b %d, %Y %I:%M:%S %p", "second"),
    ("%b %d, %Y %I:%M %p", "minute"),
    ("%d %B %Y, %H:%M", "minute"),
    ("%B %d, %Y at %I:%M %p", "minute"),
)
VOID = {"img", "br", "hr", "meta", "link", "input", "source", "col", "wbr", "area", "base"}
MEDIA_TAGS = {"img": "src", "video": "src", "audio": "src", "source": "src"}


def parse_time(text: str) -> tuple[datetime, str] | None:
    """A zone-less local time string as naive datetime and its precision, else ``None``."""
    text = " ".join(text.replace("\u202f", " ").split())
    if not 10 <= len(text) <= 40 or not re.search(r"\d{4}", text):
        return None
    for fmt, precision in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt), precision
        except ValueError:
            continue
    return None


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Any] = field(default_factory=list)  # Node | str

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text_block() for c in self.children)

    def text_block(self) -> str:
        inner = self.text()
        if self.tag in ("div", "p", "li", "br", "h1", "h2", "h3", "tr"):
            return "\n" + inner + "\n"
        return inner

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.elements():
            yield from c.walk()


class _TreeBuilder(HTMLParser):
    """A forgiving DOM from the stdlib tokenizer (unclosed tags are closed by their parent)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.stack[-1].tag not in ("script", "style"):
            self.stack[-1].children.append(data)


def build_tree(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


@dataclass
class Block:
    sender: str
    time_text: str
    local: datetime
    precision: str
    body: str
    media: list[str]
    index: int


def find_blocks(root: Node, participants: set[str] | None = None) -> list[Block]:
    """Message blocks: an element whose first child is a short name, last child a time, and
    that holds no smaller such block. ``participants`` (when known) must contain the sender."""
    found: list[Block] = []

    def visit(node: Node) -> bool:
        inner = False
        for child in node.elements():
            inner = visit(child) or inner
        if inner:
            return True
        kids = node.elements()
        if len(kids) < 2:
            return False
        sender = _clean(kids[0].text())
        stamp = parse_time(_clean(kids[-1].text()))
        if not sender or "\n" in sender or len(sender) > 120 or stamp is None:
            return False
        if participants and sender not in participants:
            return False
        body_parts, media = [], []
        for kid in kids[1:-1]:
            body_parts.append(_clean(kid.text()))
            for el in kid.walk():
                attr = MEDIA_TAGS.get(el.tag)
                if attr and el.attrs.get(attr):
                    media.append(el.attrs[attr])
                elif el.tag == "a" and _local_link(el.attrs.get("href", "")):
                    media.append(el.attrs["href"])
        body = "\n".join(p for p in body_parts if p)
        found.append(
            Block(
                sender,
                _clean(kids[-1].text()),
                stamp[0],
                stamp[1],
                body,
                list(dict.fromkeys(media)),
                len(found),
            )
        )
        return True

    visit(root)
    return found


def _local_link(href: str) -> bool:
    return (
        bool(href)
        and not re.match(r"^[a-z][a-z0-9+.-]*:", href, re.IGNORECASE)
        and not href.startswith("#")
    )


def title_and_participants(root: Node) -> tuple[str | None, list[str]]:
    title = None
    participants: list[str] = []
    for node in root.walk():
        if node.tag == "title" and title is None:
            title = _clean(node.text()) or None
        for child in node.children:
            if isinstance(child, str) and not participants:
                m = re.match(r"\s*Participants:\s*(.+)", child, re.DOTALL)
                if m:
                    participants = split_participants(m.group(1))
    return title, participants


class MessengerDyiHtml(Parser):
    name = "messenger_dyi_html"
    version = "4"
    description = "Facebook Messenger download (DYI) HTML thread, message_N.html"
    # Same messages as the JSON form with less in them (minutes, no reactions): kept second.
    priority = 20

    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        head = probe.text_head()
        root = build_tree(head)
        _, participants = title_and_participants(root)
        blocks = find_blocks(root, set(participants) or None)
        # Without the "Participants:" header the structure alone is weaker evidence, so the
        # download's own file name must agree as well.
        if not blocks or not (
            participants or (len(blocks) >= 2 and MESSAGE_HTML.match(probe.file.name))
        ):
            return None
        siblings = []
        if MESSAGE_HTML.match(probe.file.name):
            siblings = [
                f for f in numbered_siblings(probe.file, MESSAGE_HTML) if f is not probe.file
            ]
        return Match(self, 25, claims=siblings)

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        files = numbered_siblings(file, MESSAGE_HTML) if MESSAGE_HTML.match(file.name) else []
        if file not in files:
            files = [file]
        # Only the blocks are kept, one page tree at a time, so a long thread stays small.
        title, participants, page_blocks = None, [], []
        for n, f in enumerate(files):
            with read_text(f) as handle:
                root = build_tree(handle.read())
            if n == 0:
                title, participants = title_and_participants(root)
            page_blocks.append((f, find_blocks(root, set(participants) or None)))
        # Pages saved through a wrong encoding show names and text as mojibake; whether to
        # repair is decided for the thread from its own strings.
        strings = [title, *participants]
        strings += [t for _, blocks in page_blocks for b in blocks for t in (b.sender, b.body)]
        if decide_mojibake(ctx, file, strings):
            title = repair_text(title) if title else title
            participants = [repair_text(p) for p in participants]
            for _, blocks in page_blocks:
                for b in blocks:
                    b.sender, b.body = repair_text(b.sender), repair_text(b.body)
        if not participants:
            participants = list(
                dict.fromkeys(b.sender for _, blocks in page_blocks for b in blocks)
            )
            ctx.warn(
                file.logical,
                "no 'Participants:' header",
                f"participants taken from the senders seen: {', '.join(participants)}",
            )
        owner = resolve_owner(file, ctx, participants, download_owner(file, "html"))
        where = download_root(file)
        thread_path = posixpath.relpath(file.folder, where[1]) if where else file.folder
        ctx.decide(
            file.logical,
            thread_files=[f.name for f in files],
            times=f"local time without zone, read as {ctx.timezone_name}",
        )
        conv = Conversation(
            id=f"messenger:dyi:{thread_path}",
            title=title,
            is_group=len(participants) > 2,
            participants=[name_party(p) for p in participants],
        )
        rows = []
        for page_no, (f, blocks) in enumerate(page_blocks):
            if not blocks:
                ctx.warn(file.logical, "no message blocks found", f.name)
            for block in blocks:
                when, note = local_to_utc(block.local, ctx.timezone)
                if note:
                    ctx.warn(
                        file.logical,
                        f"{note} local time",
                        f"{f.name} block[{block.index}]: {block.time_text} in {ctx.timezone_name}",
                    )
                rows.append((when, page_no, -block.index, f, block, note))
        # Pages and blocks are newest first, like the JSON form; yield oldest first.
        rows.sort(key=lambda r: (r[0], -r[1], r[2]))
        keys = DuplicateKeys(participants)
        me = owner_party(ctx, owner)
        guard = RecordGuard(ctx, file.logical)
        for when, _, _, f, block, note in rows:
            locator = f"{f.name} block[{block.index}]"
            with guard(locator):
                bases = [f.folder]
                if where:
                    bases += [where[0], posixpath.dirname(where[1])]
                attachments = [
                    resolve_media(f, src, list(dict.fromkeys(bases)), ctx, locator)
                    for src in block.media
                ]
                others = [name_party(p) for p in participants if not owner.is_name(p)]
                if owner.is_name(block.sender):
                    direction, author = "outgoing", me
                else:
                    direction = "incoming" if owner.known else "unknown"
                    author = name_party(block.sender)
                sender, recipients = sender_and_recipients(
                    direction, me, author, others, is_group=True
                )
                body = block.body or None
                key = keys.key(block.sender, when, body, len(attachments))
                said = None if attachments else call_sentence(body)
                if said is not None:
                    way = direction if direction in ("incoming", "outgoing") else "unknown"
                    yield thread_call(
                        direction=way,
                        caller=author if way != "outgoing" else None,
                        others=others,
                        is_group=conv.is_group,
                        source=self.provenance(f, locator),
                        timestamp_utc=when,
                        timestamp_raw=block.time_text,
                        result=entry_result(way, None, False, said[1]),
                        result_code=f"sentence={body}",
                        conversation_id=conv.id,
                        zone_assumed=True,
                        duplicate_key=key,
                        extra={
                            "sender_name": block.sender,
                            "content": body,
                            "time_precision": block.precision,
                            "time_basis": "time of the call entry in the thread",
                        },
                    )
                    continue
                kind = "media" if attachments else ("text" if body else "other")
                extra: dict[str, Any] = {
                    "sender_name": block.sender,
                    "time_precision": block.precision,
                    "time_note": f"local time of the exporting account, zone not stated; "
                    f"read as {ctx.timezone_name}",
                }
                if note:
                    extra["local_time"] = note
                yield Message(
                    platform=PLATFORM,
                    conversation=conv,
                    timestamp_utc=when,
                    timestamp_raw=block.time_text,
                    zone_assumed=True,
                    direction=direction,
                    sender=sender,
                    recipients=recipients,
                    body=body,
                    kind=kind,
                    source=self.provenance(f, locator),
                    attachments=attachments,
                    extra=extra,
                    duplicate_key=key,
                )
