"""Why a file was not read: what it was found to be, in words an examiner can act on.

Detection decides by content which parser reads a file; this module describes the files no
parser took ("SQLite database truncated at 8,192 of 94,208 bytes", "not a SQLite database
(header damaged)", "SQLite write-ahead log without its database"). Names are used only to choose
how serious the finding is (a ``.db`` file that is not a database is worth a warning; a random
cache file is not), never to decide what a file is.

SQLite header facts (sqlite.org "Database File Format", section 1.3): the 16-byte magic string,
the page size at offset 16 (big-endian, 1 meaning 65536), the file change counter at offset 24,
the in-header database size in pages at offset 28, valid only when the version-valid-for number
at offset 92 equals the change counter.
"""

from __future__ import annotations

import re
import sqlite3
import struct
from dataclasses import dataclass

from triage.evidence import SQLITE_MAGIC, EvidenceFile
from triage.sqlite_wal import is_wal_header, read_wal

SQLITE_HEADER = 100
# Endings of files that are expected to be databases; used only to weigh a finding.
DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".sqlitedb", ".storedata")
_PAGE = re.compile(r"\bpage (\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Unread:
    """Why one file was not read. ``problem`` marks files that look like evidence the tool
    should have read (a damaged database, a WAL without its database), as opposed to files that
    are simply not message sources; problems make ``parse`` and ``run`` exit non-zero."""

    reason: str
    problem: bool


def looks_like_database_name(name: str) -> bool:
    return name.lower().endswith(DATABASE_SUFFIXES)


def sqlite_header_size(head: bytes) -> tuple[int, int | None] | None:
    """(page size, database size in bytes when the header records it validly), or ``None`` when
    the header's page size is not a power of two between 512 and 65536."""
    if len(head) < SQLITE_HEADER:
        return None
    (raw_page,) = struct.unpack(">H", head[16:18])
    page = 65536 if raw_page == 1 else raw_page
    if page < 512 or page & (page - 1):
        return None
    change, pages = struct.unpack(">II", head[24:32])
    (valid_for,) = struct.unpack(">I", head[92:96])
    expected = page * pages if pages and valid_for == change else None
    return page, expected


def describe_content(head: bytes) -> str:
    """A few words on what bytes that no parser took look like (text, HTML, JSON, binary)."""
    if not head:
        return "empty"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive"
    sample = head[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(sample) - 4:
            return "binary data of no known format"
        text = sample[: exc.start].decode("utf-8")
    if "\x00" in text:
        return "binary data of no known format"
    stripped = text.lstrip("\ufeff \t\r\n").lower()
    if stripped.startswith(("<!doctype html", "<html")) or "<html" in stripped[:512]:
        return "HTML"
    if stripped.startswith("<?xml"):
        return "XML"
    if stripped.startswith(("{", "[")):
        return "JSON"
    return "text"


def _first_line(head: bytes, encoding: str = "utf-8") -> str:
    text = head[:2048].decode(encoding, errors="replace").lstrip("\ufeff")
    line = text.splitlines()[0] if text.splitlines() else ""
    return line if len(line) <= 60 else line[:57] + "..."


def _text_reason(head: bytes, size: int) -> str:
    kind = describe_content(head)
    if kind == "UTF-16 text":
        encoding = "utf-16"
        text = head.decode(encoding, errors="replace")
    elif kind == "text":
        encoding = "utf-8"
        text = head.decode(encoding, errors="replace")
    else:
        return f"{kind} that no parser recognised"
    if _is_case_file(text):
        return "a triage case file, not evidence (give it to 'triage run')"
    lines = len([line for line in text.splitlines() if line.strip()])
    counted = f"{lines:,} line(s)" if len(head) >= size else f"{lines:,}+ lines"
    first = _first_line(head, encoding)
    return f"{kind} of {counted} that no parser recognised (first line: {first!r})"


def _is_case_file(text: str) -> bool:
    keys = {line.split(":", 1)[0] for line in text.splitlines() if line and line[0].isalpha()}
    return {"case", "sources"} <= keys


def _sqlite_reason(file: EvidenceFile, head: bytes) -> str:
    size = file.size
    layout = sqlite_header_size(head)
    if size < SQLITE_HEADER or (layout is not None and size < layout[0]):
        return f"SQLite header only ({size:,} bytes, less than one page): no database content"
    if layout is None:
        return "SQLite database with a damaged header (page size not valid)"
    page, expected = layout
    if expected is not None and size < expected:
        return f"SQLite database truncated: file is truncated at {size:,} of {expected:,} bytes"
    if size % page:
        whole = size - size % page
        return (
            f"SQLite database truncated: {size:,} bytes is not a whole number of {page:,}-byte "
            f"pages (cut {size - whole:,} bytes into page {whole // page + 1:,})"
        )
    try:
        with file.sqlite() as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name"
                )
            ]
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        return f"SQLite database that could not be read: {exc}{_damage_place(file, head)}"
    if not tables:
        return "SQLite database with no tables"
    shown = ", ".join(tables[:6]) + (" ..." if len(tables) > 6 else "")
    return f"SQLite database with no known schema (tables: {shown})"


def _damage_place(file: EvidenceFile, head: bytes) -> str:
    """Where the damage is: page 1 when the schema table's b-tree header is not one (its page
    type byte at offset 100 must be 0x05 or 0x0D, sqlite.org file format section 1.6), else where
    SQLite's integrity check first finds it (" (page 14 malformed: ...)")."""
    if len(head) > SQLITE_HEADER and head[SQLITE_HEADER] not in (0x05, 0x0D):
        return (
            f" (page 1 malformed: the schema table's b-tree page type is "
            f"0x{head[SQLITE_HEADER]:02x}, not a table page)"
        )
    try:
        with file.sqlite() as conn:
            rows = conn.execute("PRAGMA integrity_check(5)").fetchall()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        found = _PAGE.search(str(exc))
        return f" (page {found.group(1)} malformed)" if found else ""
    for (line,) in rows:
        found = _PAGE.search(str(line))
        if found:
            return f" (page {found.group(1)} malformed: {str(line).strip()})"
    return ""


def why_not_read(file: EvidenceFile, head: bytes) -> Unread | None:
    """What ``file`` (first bytes ``head``) is and why it was not read, or ``None`` for the
    kinds detection already words itself (pictures)."""
    database_name = looks_like_database_name(file.name)
    if file.size == 0:
        return Unread("empty file (0 bytes)", database_name)
    if is_wal_header(head):
        with file.open() as stream:
            summary = read_wal(stream, file.size)
        detail = f": {summary.describe()}" if summary else ""
        return Unread(f"SQLite write-ahead log (WAL) without its database{detail}", True)
    if head.startswith(SQLITE_MAGIC):
        reason = _sqlite_reason(file, head)
        return Unread(reason, not reason.startswith("SQLite database with no known schema"))
    if database_name:
        layout = sqlite_header_size(head)
        if layout is not None and file.size % layout[0] == 0:
            return Unread(
                "not a SQLite database (header damaged: the first 16 bytes are not "
                "'SQLite format 3', the rest of the header is a database's)",
                True,
            )
        return Unread(f"not a SQLite database ({describe_content(head)})", True)
    return Unread(_text_reason(head, file.size), False)
