"""Android call log: ``calllog.db`` table ``calls`` (Android 7 on), and the same table read from
older ``contacts2.db`` files by ``parsers/android_contacts.py``.

Location ``/data/data/com.android.providers.contacts/databases/calllog.db`` (Samsung
``com.samsung.android.providers.contacts``). The table moved out of ``contacts2.db`` into its own
database in 2015 (aosp-mirror/platform_packages_providers_contactsprovider
``src/com/android/providers/contacts/CallLogDatabaseHelper.java``, ``onCreate`` and
``migrateFromLegacyTables``); both hold the same columns, the older ones fewer of them, so every
optional column is probed (``PRAGMA table_info``).

Facts used (android.provider.CallLog.Calls, developer.android.com/reference/android/provider/
CallLog.Calls; LineageOS/android_frameworks_base ``core/java/android/provider/CallLog.java``):

* ``date`` ms since 1970 UTC (call start), ``duration`` seconds;
* ``type`` 1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked, 7 answered
  externally (on another device);
* ``features`` bit 0x1 video;
* ``presentation`` 1 allowed, 2 restricted, 3 unknown, 4 payphone (5 unavailable): the number is
  empty unless allowed, and such a call is never matched to anybody;
* ``subscription_component_name`` the phone account (SIM or VoIP app) that handled the call;
  ``phone_account_address`` the owner's own number on that account;
* ``name`` and ``normalized_number`` are cached contact data (a snapshot, possibly stale);
* ``deleted`` belongs to voicemails (VoicemailContract.Voicemails) and is not a call-deletion
  flag. The framework keeps only the newest 500 calls per account (CallLog.java
  ``removeExpiredEntries``), so a short log is not evidence of deletion.

Schema facts and fixtures: ``fixtures/calls/README.md``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import Call, CallDirection, CallNetwork, CallResult, Record
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard

CALLS_REQUIRED = {"_id", "number", "date", "duration", "type"}
OPTIONAL = (
    "presentation",
    "features",
    "subscription_component_name",
    "subscription_id",
    "phone_account_address",
    "name",
    "normalized_number",
    "countryiso",
    "geocoded_location",
    "block_reason",
    "is_read",
    "new",
)
# calls.type -> (direction, result).
TYPES: dict[int, tuple[CallDirection, CallResult]] = {
    1: ("incoming", "answered"),
    2: ("outgoing", "answered"),  # refined by duration below
    3: ("incoming", "missed"),
    4: ("incoming", "voicemail"),
    5: ("incoming", "rejected"),
    6: ("incoming", "blocked"),
    7: ("incoming", "answered_elsewhere"),
}
PRESENTATION = {1: "allowed", 2: "restricted", 3: "unknown", 4: "payphone", 5: "unavailable"}
# Numbers written for withheld callers before presentation existed (ContactsDatabaseHelper.java
# upgradeToVersion800: -1 unknown, -2 restricted, -3 payphone).
OLD_WITHHELD = {"-1": "unknown", "-2": "restricted", "-3": "payphone"}
VIDEO = 0x1
TELEPHONY_MARKERS = ("com.android.phone", "telephony", "TelephonyConnectionService")
APP_NETWORKS: tuple[tuple[str, CallNetwork], ...] = (
    ("com.whatsapp", "whatsapp"),
    ("com.facebook.orca", "messenger"),
)


def network_of(component: str | None) -> tuple[CallNetwork, str | None]:
    """The network a phone account stands for: the SIM (cellular) unless it names an app."""
    if not component:
        return "cellular", None
    text = str(component)
    for marker, network in APP_NETWORKS:
        if marker in text:
            return network, text
    if any(m.lower() in text.lower() for m in TELEPHONY_MARKERS):
        return "cellular", text
    return "other", text


def read_calls_table(
    parser: Parser, file: EvidenceFile, conn: sqlite3.Connection, ctx: ParseContext
) -> Iterator[Call]:
    """Every row of ``calls`` as a :class:`Call`, whichever database holds the table."""
    columns = table_columns(conn, "calls")
    optional = [c for c in OPTIONAL if c in columns]
    select = ["_id", "number", "date", "duration", "type", *optional]
    guard = RecordGuard(ctx, file.logical)
    query = f"SELECT {', '.join(select)} FROM calls ORDER BY _id"
    for values in conn.execute(query):
        row: dict[str, Any] = dict(zip(select, values, strict=True))
        locator = f"calls._id={row['_id']}"
        with guard(locator):
            yield _call(parser, file, ctx, row, locator)


def _call(
    parser: Parser, file: EvidenceFile, ctx: ParseContext, row: dict[str, Any], locator: str
) -> Call:
    code = row["type"]
    extra: dict[str, Any] = {k: row[k] for k in OPTIONAL if row.get(k) not in (None, "")}
    if code in TYPES:
        direction, result = TYPES[code]
    else:
        direction, result = "unknown", "unknown"
        ctx.warn(file.logical, "unknown calls.type", f"{locator}: type={code}")
    duration = row["duration"]
    if code == 2 and not duration:
        # An outgoing row has no result of its own: nobody talked when it lasted 0 s.
        result = "not_answered"
    when = from_unix_ms(row["date"])
    if when is None:
        ctx.warn(file.logical, "call without a date", locator)
    number = row["number"]
    presentation = row.get("presentation")
    withheld = None
    if presentation is not None and presentation != 1:
        withheld = PRESENTATION.get(presentation, f"presentation {presentation}")
    elif number is not None and str(number).strip() in OLD_WITHHELD:
        withheld = OLD_WITHHELD[str(number).strip()]
    counterpart = None
    if withheld is not None:
        extra["withheld"] = withheld
    elif number not in (None, ""):
        counterpart = party(str(number), ctx.region, name=row.get("name") or None)
    network, app = network_of(row.get("subscription_component_name"))
    features = row.get("features")
    return Call(
        network=network,
        timestamp_utc=when,
        timestamp_raw=str(row["date"]),
        direction=direction,
        result=result,
        source=parser.provenance(file, locator),
        duration_s=duration,
        counterpart=counterpart,
        video=None if features is None else bool(int(features) & VIDEO),
        app=app,
        result_code=f"type={code}",
        record_id=row["_id"],
        extra=extra,
    )


class AndroidCallLog(Parser):
    name = "android_calllog"
    version = "1"
    description = "Android call log (calllog.db calls)"
    required_tables = {"calls": CALLS_REQUIRED}

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            yield from read_calls_table(self, file, conn, ctx)
