"""Android address book ``contacts2.db`` (the Contacts provider), with the ``calls`` table that
older versions keep in the same file.

Location ``/data/data/com.android.providers.contacts/databases/contacts2.db``. Tables read
(aosp-mirror/platform_packages_providers_contactsprovider
``src/com/android/providers/contacts/ContactsDatabaseHelper.java``):

* ``raw_contacts(_id, account_id, contact_id, deleted, display_name, starred, ...)``: one row per
  contact per account (the phone, a Google account, WhatsApp's ``com.whatsapp`` raw contacts);
  ``deleted`` = 1 marks a contact deleted on the phone and awaiting sync
  (ContactsContract.RawContactsColumns.DELETED, developer.android.com), so the entry is kept and
  flagged rather than dropped; older files name the account in ``account_name``/``account_type``
  on the row itself instead of ``account_id``;
* ``accounts(_id, account_name, account_type)``;
* ``data(_id, mimetype_id, raw_contact_id, data1...data4)`` with ``mimetypes(_id, mimetype)``:
  ``vnd.android.cursor.item/phone_v2`` (``data1`` number as typed, ``data2`` type, ``data3``
  label, ``data4`` E.164), ``vnd.android.cursor.item/email_v2`` (``data1`` address),
  ``vnd.android.cursor.item/name`` (``data1`` display name, ``data2`` given, ``data3`` family)
  (ContactsContract.CommonDataKinds.Phone, .Email, .StructuredName);
* ``calls`` when present (before the call log moved to ``calllog.db``): read as calls by
  ``parsers/android_calllog.py``'s reader.

One :class:`ContactEntry` per raw contact: the name the phone holds for the person, with every
number and address as identifiers, and its provenance (``raw_contacts._id=N``). Schema facts and
fixtures: ``fixtures/calls/README.md``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from triage.parsers.android_calllog import CALLS_REQUIRED, read_calls_table

from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import ContactEntry, Party, Record
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard

PHONE = "vnd.android.cursor.item/phone_v2"
EMAIL = "vnd.android.cursor.item/email_v2"
NAME = "vnd.android.cursor.item/name"
# ContactsContract.CommonDataKinds.Phone TYPE_* (data2).
PHONE_TYPES = {0: "custom", 1: "home", 2: "mobile", 3: "work", 4: "fax work", 5: "fax home"}
PHONE_TYPES.update({6: "pager", 7: "other", 17: "work mobile", 20: "mms"})


class AndroidContacts(Parser):
    name = "android_contacts"
    version = "1"
    description = "Android address book (contacts2.db raw_contacts/data), with its old calls table"
    required_tables = {
        "raw_contacts": {"_id", "deleted"},
        "data": {"_id", "mimetype_id", "raw_contact_id", "data1"},
        "mimetypes": {"_id", "mimetype"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            yield from self._contacts(file, conn, ctx)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "calls" in tables and CALLS_REQUIRED <= table_columns(conn, "calls"):
                yield from read_calls_table(self, file, conn, ctx)

    def _contacts(
        self, file: EvidenceFile, conn: sqlite3.Connection, ctx: ParseContext
    ) -> Iterator[ContactEntry]:
        details = _data_rows(conn)
        accounts = _accounts(conn)
        columns = table_columns(conn, "raw_contacts")
        optional = [
            c
            for c in (
                "contact_id",
                "display_name",
                "account_id",
                "account_name",
                "account_type",
                "starred",
            )
            if c in columns
        ]
        select = ["_id", "deleted", *optional]
        guard = RecordGuard(ctx, file.logical)
        for values in conn.execute(f"SELECT {', '.join(select)} FROM raw_contacts ORDER BY _id"):
            row: dict[str, Any] = dict(zip(select, values, strict=True))
            locator = f"raw_contacts._id={row['_id']}"
            with guard(locator):
                info = details.get(row["_id"], {})
                identifiers: list[Party] = []
                labels: list[str] = []
                for number, kind, label, e164 in info.get(PHONE, []):
                    found = party(str(e164 or number), ctx.region)
                    if found is not None and found.id:
                        identifiers.append(Party(raw=str(number), id=found.id, scheme=found.scheme))
                        # data columns are TEXT: the type code comes back as "2".
                        code = int(kind) if str(kind or "").isdigit() else kind
                        labels.append(label or PHONE_TYPES.get(code, f"type {kind}"))
                for address, *_ in info.get(EMAIL, []):
                    found = party(str(address), ctx.region, scheme="email")
                    if found is not None and found.id:
                        identifiers.append(found)
                names = info.get(NAME, [])
                name = row.get("display_name") or (names[0][0] if names else None)
                account_name, account_type = accounts.get(row.get("account_id"), (None, None))
                extra: dict[str, Any] = {
                    "raw_contact_id": row["_id"],
                    "contact_id": row.get("contact_id"),
                    "account_name": row.get("account_name", account_name),
                    "account_type": row.get("account_type", account_type),
                    "phone_labels": labels,
                }
                if row.get("starred"):
                    extra["starred"] = True
                if row["deleted"]:
                    extra["deleted"] = "marked deleted on the phone (raw_contacts.deleted = 1)"
                if not identifiers and not name:
                    continue
                yield ContactEntry(
                    name=str(name) if name else None,
                    identifiers=identifiers,
                    source=self.provenance(file, locator),
                    extra={k: v for k, v in extra.items() if v not in (None, [])},
                )


def _accounts(conn: sqlite3.Connection) -> dict[Any, tuple[str | None, str | None]]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "accounts" not in tables or not {"_id", "account_name", "account_type"} <= table_columns(
        conn, "accounts"
    ):
        return {}
    return {
        i: (n, t)
        for i, n, t in conn.execute("SELECT _id, account_name, account_type FROM accounts")
    }


def _data_rows(conn: sqlite3.Connection) -> dict[int, dict[str, list[tuple]]]:
    """raw contact id -> mimetype -> (data1, data2, data3, data4) rows, for the three kinds read.

    One pass over ``data``; an address book holds thousands of rows, not millions."""
    columns = table_columns(conn, "data")
    wanted = [c if c in columns else "NULL" for c in ("data1", "data2", "data3", "data4")]
    out: dict[int, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    query = (
        f"SELECT d.raw_contact_id, m.mimetype, {', '.join('d.' + c if c != 'NULL' else c for c in wanted)}"
        " FROM data d JOIN mimetypes m ON m._id = d.mimetype_id"
        " WHERE m.mimetype IN (?, ?, ?) ORDER BY d._id"
    )
    for raw_id, mimetype, *values in conn.execute(query, (PHONE, EMAIL, NAME)):
        if values[0] in (None, ""):
            continue
        out[raw_id][mimetype].append(tuple(values))
    return out
