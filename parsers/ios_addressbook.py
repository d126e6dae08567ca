"""iOS address book ``AddressBook.sqlitedb`` (the AddressBook framework store, iOS 2 onwards;
still written beside the Contacts framework's own files on current iOS).

Location ``/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb``; in an iTunes/Finder
backup ``HomeDomain-Library/AddressBook/AddressBook.sqlitedb``. Facts used (abrignoni/iLEAPP
``scripts/artifacts/addressBook.py``; the Apple AddressBook reference "Default Multivalue List
Labels", developer.apple.com/documentation/addressbook):

* ``ABPerson(ROWID, First, Middle, Last, Organization, Nickname, ...)``: one row per person;
* ``ABMultiValue(UID, record_id, property, identifier, label, value)``: ``record_id`` is
  ``ABPerson.ROWID``; ``property`` 3 is a phone number, 4 an e-mail address (iLEAPP selects
  phones with ``property = 3`` and e-mails with ``property = 4``);
* ``ABMultiValueLabel(value)`` keyed by its rowid: ``ABMultiValue.label`` points at it; the
  built-in labels are stored wrapped, ``_$!<Mobile>!$_``, user labels as typed.

One :class:`ContactEntry` per ``ABPerson`` row: the name the phone holds (First Middle Last, else
the nickname or organisation), every phone number and e-mail as identifiers, and its provenance
(``ABPerson.ROWID=N``). Schema facts and fixtures: ``fixtures/calls/README.md``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import ContactEntry, Party, Record
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard

PHONE_PROPERTY = 3
EMAIL_PROPERTY = 4
PERSON_OPTIONAL = ("Middle", "Organization", "Nickname")


def _label(value: Any) -> str | None:
    """``_$!<Mobile>!$_`` -> ``Mobile``; a user's own label is kept as typed."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.startswith("_$!<") and text.endswith(">!$_"):
        return text[4:-4]
    return text


class IOSAddressBook(Parser):
    name = "ios_addressbook"
    version = "1"
    description = "iOS address book (AddressBook.sqlitedb ABPerson/ABMultiValue)"
    required_tables = {
        "ABPerson": {"ROWID", "First", "Last"},
        "ABMultiValue": {"record_id", "property", "label", "value"},
        "ABMultiValueLabel": {"value"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            values = _multivalues(conn)
            columns = table_columns(conn, "ABPerson")
            optional = [c for c in PERSON_OPTIONAL if c in columns]
            select = ["ROWID", "First", "Last", *optional]
            guard = RecordGuard(ctx, file.logical)
            query = f"SELECT {', '.join(select)} FROM ABPerson ORDER BY ROWID"
            for row_values in conn.execute(query):
                row = dict(zip(select, row_values, strict=True))
                locator = f"ABPerson.ROWID={row['ROWID']}"
                with guard(locator):
                    entry = self._entry(file, ctx, row, values.get(row["ROWID"], []), locator)
                    if entry is not None:
                        yield entry

    def _entry(
        self,
        file: EvidenceFile,
        ctx: ParseContext,
        row: dict[str, Any],
        items: list[tuple[int, str | None, str]],
        locator: str,
    ) -> ContactEntry | None:
        parts = [str(row[k]).strip() for k in ("First", "Middle", "Last") if row.get(k)]
        name = " ".join(p for p in parts if p) or row.get("Nickname") or row.get("Organization")
        identifiers: list[Party] = []
        labels: list[str] = []
        for prop, label, value in items:
            if prop == PHONE_PROPERTY:
                found = party(value, ctx.region)
                if found is not None and found.id:
                    identifiers.append(Party(raw=value, id=found.id, scheme=found.scheme))
                    labels.append(label or "no label")
            else:
                found = party(value, ctx.region, scheme="email")
                if found is not None and found.id:
                    identifiers.append(found)
        if not identifiers and not name:
            return None
        extra: dict[str, Any] = {
            "abperson_rowid": row["ROWID"],
            "organization": row.get("Organization"),
            "nickname": row.get("Nickname"),
            "phone_labels": labels,
        }
        return ContactEntry(
            name=str(name) if name else None,
            identifiers=identifiers,
            source=self.provenance(file, locator),
            extra={k: v for k, v in extra.items() if v not in (None, "", [])},
        )


def _multivalues(conn: sqlite3.Connection) -> dict[int, list[tuple[int, str | None, str]]]:
    """person rowid -> (property, label name, value) for phones and e-mails, in table order."""
    labels = {
        rowid: _label(v) for rowid, v in conn.execute("SELECT ROWID, value FROM ABMultiValueLabel")
    }
    out: dict[int, list[tuple[int, str | None, str]]] = defaultdict(list)
    query = (
        "SELECT record_id, property, label, value FROM ABMultiValue"
        " WHERE property IN (?, ?) ORDER BY ROWID"
    )
    for record_id, prop, label, value in conn.execute(query, (PHONE_PROPERTY, EMAIL_PROPERTY)):
        if value in (None, ""):
            continue
        out[record_id].append((prop, labels.get(label), str(value)))
    return out
