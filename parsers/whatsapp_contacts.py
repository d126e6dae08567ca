"""WhatsApp contact databases: Android ``wa.db`` and iOS ``ContactsV2.sqlite``.

Each is a source of its own (one :class:`ContactEntry` per row) and is also read by the message
parsers, as a sibling file, for the names of chat partners and group members.

Android ``wa.db`` (``/data/data/com.whatsapp/databases/wa.db``), table ``wa_contacts``:
``jid`` (the WhatsApp identity), ``display_name`` (the address-book name), ``given_name``,
``family_name``, ``wa_name`` (the name the person set in WhatsApp), ``number`` (the address-book
form of the number; it may lack the country and area code, so it is kept as a fact and never used
as an identifier), ``status``, ``is_whatsapp_user``. Schema: frozenspider/chat-history-manager
``crates/loaders/resources/test/whatsapp-android_2023-10/wa.sql``; name precedence display_name
then wa_name as in KnugiHK/WhatsApp-Chat-Exporter ``android_handler.py`` ``contacts``
(``COALESCE(display_name, wa_name)``), given+family before the jid as in abrignoni/ALEAPP.

iOS ``ContactsV2.sqlite`` (``.../Shared/AppGroup/<UUID>/ContactsV2.sqlite``), Core Data entity
``ZWAADDRESSBOOKCONTACT``: ``ZFULLNAME``, ``ZGIVENNAME``, ``ZPHONENUMBER`` (address-book form),
``ZPHONENUMBERLABEL``, ``ZWHATSAPPID`` (full jid or only its user part), ``ZIDENTIFIER`` (the
CNContact id: one person may have two rows), ``ZABOUTTEXT``. Sources: sepinf-inc/IPED
``iped-parsers/.../whatsapp/WAContactsExtractorIOS.java``; abrignoni/iLEAPP
``scripts/artifacts/whatsApp.py`` (``whatsAppContacts``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from triage.parsers.whatsapp_common import jid_party, whatsapp_id_to_jid

from triage.evidence import EvidenceFile
from triage.model import ContactEntry, Record
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard

# Optional wa_contacts columns, in the order a name is chosen from them.
WA_NAME_COLUMNS = ("display_name", "given_name", "family_name", "wa_name")
WA_EXTRA_COLUMNS = ("number", "status", "is_whatsapp_user", "raw_contact_id", "nickname")
IOS_CONTACT_COLUMNS = (
    "ZFULLNAME",
    "ZGIVENNAME",
    "ZLASTNAME",
    "ZPHONENUMBER",
    "ZPHONENUMBERLABEL",
    "ZIDENTIFIER",
    "ZABOUTTEXT",
)


def _wa_name(row: dict[str, object]) -> str | None:
    display = row.get("display_name")
    if display:
        return str(display)
    given = " ".join(str(row[c]) for c in ("given_name", "family_name") if row.get(c)).strip()
    if given:
        return given
    wa_name = row.get("wa_name")
    return str(wa_name) if wa_name else None


def _wa_rows(conn: sqlite3.Connection) -> Iterator[tuple[int, dict[str, object]]]:
    columns = table_columns(conn, "wa_contacts")
    wanted = [c for c in (*WA_NAME_COLUMNS, *WA_EXTRA_COLUMNS) if c in columns]
    query = "SELECT _id, jid" + "".join(f", {c}" for c in wanted) + " FROM wa_contacts ORDER BY _id"
    for row in conn.execute(query):
        yield row[0], {"jid": row[1], **dict(zip(wanted, row[2:], strict=True))}


def load_wa_names(conn: sqlite3.Connection) -> dict[str, str]:
    """jid -> best name from an Android ``wa.db`` connection (bounded by the address book)."""
    names: dict[str, str] = {}
    for _rowid, row in _wa_rows(conn):
        name = _wa_name(row)
        if row["jid"] and name:
            names[str(row["jid"])] = name
    return names


def _ios_rows(conn: sqlite3.Connection) -> Iterator[tuple[int, dict[str, object]]]:
    columns = table_columns(conn, "ZWAADDRESSBOOKCONTACT")
    wanted = [c for c in IOS_CONTACT_COLUMNS if c in columns]
    query = (
        "SELECT Z_PK, ZWHATSAPPID"
        + "".join(f", {c}" for c in wanted)
        + " FROM ZWAADDRESSBOOKCONTACT ORDER BY Z_PK"
    )
    for row in conn.execute(query):
        yield row[0], {"ZWHATSAPPID": row[1], **dict(zip(wanted, row[2:], strict=True))}


def _ios_name(row: dict[str, object]) -> str | None:
    if row.get("ZFULLNAME"):
        return str(row["ZFULLNAME"])
    joined = " ".join(str(row[c]) for c in ("ZGIVENNAME", "ZLASTNAME") if row.get(c)).strip()
    return joined or None


def load_ios_contact_names(conn: sqlite3.Connection) -> dict[str, str]:
    """jid -> address-book name from an iOS ``ContactsV2.sqlite`` connection."""
    names: dict[str, str] = {}
    for _pk, row in _ios_rows(conn):
        jid = whatsapp_id_to_jid(row.get("ZWHATSAPPID"))  # type: ignore[arg-type]
        name = _ios_name(row)
        if jid and name:
            names.setdefault(jid, name)
    return names


class WhatsAppAndroidContacts(Parser):
    name = "whatsapp_android_contacts"
    version = "2"
    description = "WhatsApp for Android contacts database wa.db (wa_contacts)"
    required_tables = {"wa_contacts": {"_id", "jid", "display_name", "wa_name"}}

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            guard = RecordGuard(ctx, file.logical)
            for rowid, row in _wa_rows(conn):
                locator = f"wa_contacts._id={rowid}"
                with guard(locator):
                    jid = row["jid"]
                    if not jid:
                        ctx.warn(file.logical, "wa_contacts row without a jid", locator)
                        continue
                    name = _wa_name(row)
                    identifier = jid_party(str(jid), ctx.region, name=name)
                    extra = {k: v for k, v in row.items() if k != "jid" and v not in (None, "")}
                    yield ContactEntry(
                        name=name,
                        identifiers=[identifier] if identifier else [],
                        source=self.provenance(file, locator),
                        extra=extra,
                    )


class WhatsAppIOSContacts(Parser):
    name = "whatsapp_ios_contacts"
    version = "2"
    description = "WhatsApp for iOS contacts database ContactsV2.sqlite (ZWAADDRESSBOOKCONTACT)"
    required_tables = {"ZWAADDRESSBOOKCONTACT": {"Z_PK", "ZWHATSAPPID", "ZFULLNAME"}}

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            guard = RecordGuard(ctx, file.logical)
            for pk, row in _ios_rows(conn):
                locator = f"ZWAADDRESSBOOKCONTACT.Z_PK={pk}"
                with guard(locator):
                    jid = whatsapp_id_to_jid(row.get("ZWHATSAPPID"))  # type: ignore[arg-type]
                    name = _ios_name(row)
                    if jid is None and not row.get("ZPHONENUMBER"):
                        ctx.warn(file.logical, "address-book row without an identifier", locator)
                        continue
                    identifier = jid_party(jid, ctx.region, name=name) if jid else None
                    extra = {
                        k: v for k, v in row.items() if k != "ZWHATSAPPID" and v not in (None, "")
                    }
                    yield ContactEntry(
                        name=name,
                        identifiers=[identifier] if identifier else [],
                        source=self.provenance(file, locator),
                        extra=extra,
                    )
