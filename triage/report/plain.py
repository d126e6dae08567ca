"""Plain words for a lay reader: what a record locator, a table or a picture match means.

The technical form (``message._id=11``, ``phash distance 2``) stays under "provenance"; the page
says "record 11 in the WhatsApp message table" or "visually the same picture". Every page takes
these phrases from here, so a thing is called the same everywhere, and the method page's
glossary (:data:`GLOSSARY`) explains the words used.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# Parser format ids (triage.parsers.*) by prefix, as people call the app or store.
APPS = (
    ("whatsapp", "WhatsApp"),
    ("android_mmssms", "Android SMS/MMS"),
    ("android_calllog", "Android call log"),
    ("android_contacts", "Android contacts"),
    ("ios_sms", "iPhone Messages"),
    ("ios_callhistory", "iPhone call history"),
    ("ios_addressbook", "iPhone contacts"),
    ("messenger", "Messenger"),
    ("sms_backup", "SMS Backup & Restore"),
    ("ufdr", "Cellebrite report"),
    ("audit", "audit trail"),
)
_ROW = re.compile(r"^(?P<table>[A-Za-z_][\w]*)\.(?P<column>[\w]+)=(?P<id>-?\d+)$")
_LINE = re.compile(r"^line (?P<n>\d+)$")
_ENTRY = re.compile(r"^(?P<file>\S+) (?P<list>\w+)\[(?P<i>\d+)\]$")

GLOSSARY = (
    (
        "record",
        "one row of a table in an app's database (one message, call or contact), or one line "
        "or entry of an exported file.",
    ),
    (
        "record number (id)",
        "the number a database gives each record. Where the numbers are given in order and "
        "never reused, a missing number shows that a record once existed.",
    ),
    (
        "gap in the record numbers",
        "numbers missing between the records that survive. It counts missing numbers, not "
        "deleted messages: other records (system notices, Status updates) share the numbering.",
    ),
    (
        "deletion trace",
        "something the database keeps that points to a record no longer there (for example a "
        "chat's 'last message' pointing to a missing record).",
    ),
    (
        "recovered record",
        "a deleted record read back from unused space inside the database file; parts of it may "
        "be lost.",
    ),
    (
        "per 100 messages",
        "how many gaps there are for every 100 messages that carry record numbers, so that "
        "conversations of different sizes can be compared.",
    ),
    (
        "the same picture (identical file)",
        "the file's contents are identical to the exhibit, byte for byte (same SHA-256).",
    ),
    (
        "visually the same picture",
        "the picture looks the same as the exhibit though the file differs (resized, "
        "re-compressed, for example by a messaging app); found by comparing perceptual hashes.",
    ),
    (
        "similar picture, for review",
        "close to the exhibit but not close enough to call it the same picture: a person must "
        "look.",
    ),
    (
        "certain, probable, possible",
        "how strongly the numbering shows that records are missing: certain where the database "
        "never reuses a number, probable for a per-chat order number, possible where numbers "
        "can be reused.",
    ),
    (
        "zone assumed",
        "the source stores local time without saying which zone; the case's zone was assumed.",
    ),
    (
        "SHA-256",
        "a fingerprint of a file's exact contents; any change to the file changes it.",
    ),
    (
        "provenance",
        "where a record was read: the file, its SHA-256, the record within it and the parser.",
    ),
    (
        "rostered duty",
        "the periods the duty roster given in the case file marks as on duty.",
    ),
    (
        "UTC",
        "Coordinated Universal Time; every time is stored in UTC and shown in the case's zone.",
    ),
)


@functools.lru_cache(maxsize=1024)
def app(fmt: str | None) -> str:
    """The app or store a parser format id belongs to, as people call it (kept per format id:
    every message's provenance asks)."""
    for prefix, name in APPS:
        if fmt and fmt.startswith(prefix):
            return name
    return fmt or "source"


def table(fmt: str | None, name: str | None) -> str:
    """``the WhatsApp message table``."""
    return f"the {app(fmt)} {name or 'record'} table"


def records(fmt: str | None, name: str | None, low: Any, high: Any) -> str:
    """``record 11 in the WhatsApp message table`` / ``records 11 to 14 in ...``."""
    where = table(fmt, name)
    if isinstance(low, int) and isinstance(high, int) and low != high:
        return f"records {low:,} to {high:,} in {where}"
    one = low if isinstance(low, int) else high
    if isinstance(one, int):
        return f"record {one:,} in {where}"
    return f"records in {where}"


def locator(fmt: str | None, text: str | None) -> str:
    """A record locator in plain words; a locator of another shape is given as it is."""
    if not text:
        return "record not named"
    row = _ROW.match(text)
    if row:
        return f"record {int(row['id']):,} in {table(fmt, row['table'])}"
    line = _LINE.match(text)
    if line:
        return f"line {int(line['n']):,} of the {app(fmt)} file"
    entry = _ENTRY.match(text)
    if entry:
        # Exported JSON lists are numbered from 0; people count from 1.
        return f"entry {int(entry['i']) + 1:,} of the {entry['list']} list in {entry['file']}"
    return text


def locator_rule(fmt: str | None, text: str | None) -> str | None:
    """How every record locator shaped like ``text`` reads in plain words, for the legend of a
    page of messages: ``message._id=N is record N in the WhatsApp message table``; ``None`` for
    a shape :func:`locator` gives as it is."""
    if not text:
        return None
    row = _ROW.match(text)
    if row:
        return f"{row['table']}.{row['column']}=N is record N in {table(fmt, row['table'])}"
    if _LINE.match(text):
        return f"line N is line N of the {app(fmt)} file"
    entry = _ENTRY.match(text)
    if entry:
        return (
            f"{entry['file']} {entry['list']}[i] is entry i + 1 of the {entry['list']} list"
            f" in {entry['file']}"
        )
    return None


def match(method: str | None, band: str | None, via: str | None = None) -> str:
    """How an exhibit copy matched, in the glossary's words."""
    if method in ("sha256", "md5", "sha1") or band == "exact":
        what = "the same picture (identical file)"
    elif method == "region":
        what = "the exhibit found inside a larger picture"
    elif band == "review":
        what = "similar picture, for review"
    else:
        what = "visually the same picture"
    if via == "thumbnail":
        what += ", found as a smaller preview the app kept"
    elif via == "source_hash":
        what += ", found through the file hash the app recorded"
    return what
