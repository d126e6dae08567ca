"""Streaming the XML backups of "SMS Backup & Restore" (SyncTech): messages and call log alike.

Both files are one root element (``<smses count=...>`` or ``<calls count=...>``) holding one child
per record, attribute values copied from the phone as they are, ``"null"`` meaning NULL
(https://synctech.com.au/sms-backup-restore/fields-in-xml-backup-files/; kenn-io/msgvault
``internal/synctechsms/types.go``). Backups with inline media reach several GB, so they are read
with ``defusedxml.ElementTree.iterparse`` and every element is cleared once its parser is done
with it; the rules for reading them (refused DTDs, the place a file stops being well-formed,
the root's advisory count, repaired surrogate references) live here once for both parsers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from triage.evidence import EvidenceFile
from triage.registry import ParseContext

UNKNOWN_NAMES = {"(Unknown)", ""}
# iterparse asks its source for 16 KiB at a time; expat rescans an unfinished token on every
# feed, so a multi-megabyte base64 attribute fed in 16 KiB pieces costs quadratic time.
# Larger reads keep it linear while memory stays bounded by one chunk plus one element.
READ_CHUNK = 4 * 1024 * 1024
# With its "store emojis" option the app writes each UTF-16 surrogate as its own character
# reference ("&#55357;&#56846;"), which XML forbids and expat rejects ("reference to invalid
# character number"; see README). Pairs are rejoined into one reference, lone halves become
# U+FFFD, and the repair is counted and reported.
_CHARREF = re.compile(rb"&#(x[0-9a-fA-F]+|[0-9]+);")
_SURROGATE_PAIR = re.compile(rb"&#(x[0-9a-fA-F]+|[0-9]+);&#(x[0-9a-fA-F]+|[0-9]+);")


def _codepoint(ref: bytes) -> int:
    return int(ref[1:], 16) if ref[:1] in (b"x", b"X") else int(ref)


class RepairingReader:
    """A binary stream for iterparse: large reads, surrogate character references repaired."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.pending = b""
        self.repaired = 0

    def _pair(self, match: re.Match[bytes]) -> bytes:
        high, low = _codepoint(match.group(1)), _codepoint(match.group(2))
        if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
            self.repaired += 1
            combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            return b"&#%d;" % combined
        return match.group(0)

    def _lone(self, match: re.Match[bytes]) -> bytes:
        if 0xD800 <= _codepoint(match.group(1)) <= 0xDFFF:
            self.repaired += 1
            return b"&#65533;"
        return match.group(0)

    def read(self, size: int = -1) -> bytes:
        data = self.pending + self.stream.read(max(size, READ_CHUNK))
        self.pending = b""
        if not data:
            return b""
        # Hold back a possibly split reference (a surrogate pair is 16 bytes) for the next read.
        cut = data.find(b"&", max(0, len(data) - 32))
        if cut != -1 and len(data) >= READ_CHUNK:
            data, self.pending = data[:cut], data[cut:]
        if b"&#" in data:
            data = _SURROGATE_PAIR.sub(self._pair, data)
            data = _CHARREF.sub(self._lone, data)
        return data


def value(elem: Element, key: str) -> str | None:
    """An attribute with the literal ``"null"`` read as NULL."""
    raw = elem.get(key)
    return None if raw is None or raw == "null" else raw


def as_int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


class BackupElements:
    """The record elements of one backup file, streamed: iterate for ``(tag, n, element)``.

    ``n`` counts elements of that tag from 1 (the locator is ``<root>/<tag>[n]``). A child whose
    tag is not in ``tags`` is reported and skipped; each element is cleared once the caller
    resumes. A file that stops being well-formed ends the stream with a warning naming the line
    and column (what came before is kept); DTDs and entities are refused. After iterating,
    ``declared`` is the root's ``count`` attribute and ``seen`` the elements read per tag.
    """

    def __init__(
        self, file: EvidenceFile, ctx: ParseContext, root_tag: str, tags: tuple[str, ...], noun: str
    ) -> None:
        self.file, self.ctx = file, ctx
        self.root_tag, self.tags, self.noun = root_tag, tags, noun
        self.declared: int | None = None
        self.seen: Counter[str] = Counter()

    def __iter__(self) -> Iterator[tuple[str, int, Element]]:
        file, ctx = self.file, self.ctx
        root: Element | None = None
        depth = 0
        with file.open() as handle:
            reader = RepairingReader(handle)
            try:
                for event, elem in iterparse(reader, events=("start", "end")):
                    if event == "start":
                        depth += 1
                        if depth == 1:
                            root = elem
                            if elem.tag != self.root_tag:
                                ctx.warn(file.logical, "unexpected root element", elem.tag)
                            self.declared = as_int(elem.get("count"))
                            ctx.decide(
                                file.logical,
                                backup_count=elem.get("count"),
                                backup_date=elem.get("backup_date"),
                                backup_set=elem.get("backup_set"),
                            )
                        continue
                    depth -= 1
                    if depth != 1:
                        continue  # nested elements are read with their record
                    if elem.tag in self.tags:
                        self.seen[elem.tag] += 1
                        yield elem.tag, self.seen[elem.tag], elem
                    else:
                        ctx.warn(
                            file.logical,
                            "unknown element",
                            f"<{elem.tag}> under <{self.root_tag}>",
                        )
                    # Drop what has been read: the element and the root's reference to it.
                    elem.clear()
                    if root is not None:
                        root.clear()
            except DefusedXmlException as exc:
                # DTD entities or external references: refused, as a backup never has them.
                ctx.warn(file.logical, "XML refused", f"{type(exc).__name__}: {exc}")
            except ParseError as exc:
                line, column = getattr(exc, "position", (0, 0))
                ctx.warn(
                    file.logical,
                    "XML not well-formed",
                    f"line {line} column {column}: {exc} ({self.noun} before it were read)",
                )
            if reader.repaired:
                ctx.warn(
                    file.logical,
                    "surrogate character references repaired",
                    f"{reader.repaired} UTF-16 surrogate references (emoji) rejoined or replaced",
                )
