"""Android telephony provider database ``mmssms.db``: SMS.

Format: AOSP ``TelephonyProvider`` (``MmsSmsDatabaseHelper.java``, database versions up to 69) at
``/data/user_de/0/com.android.providers.telephony/databases/mmssms.db``.

* ``sms``: ``_id`` (no AUTOINCREMENT in AOSP, so ids of the newest rows can be reused), ``thread_id``,
  ``address`` (the other party as stored), ``date`` (ms since the Unix epoch, UTC), ``type``
  (1 inbox, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued; ``Telephony.TextBasedSmsColumns``),
  ``body``, ``read``, ``status``.
* ``threads`` + ``canonical_addresses``: ``recipient_ids`` is a space-separated list of
  ``canonical_addresses._id``, which gives each thread its participants.

Sources: aosp-mirror/platform_packages_providers_telephonyprovider
``src/com/android/providers/telephony/MmsSmsDatabaseHelper.java``; abrignoni/ALEAPP
``scripts/artifacts/smsmms.py`` (type meanings).
"""

from __future__ import annotations

from collections.abc import Iterator

from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import Conversation, IdSpace, Message, Record
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import is_autoincrement, sequence_value, table_columns

SMS_TYPES = {
    1: ("incoming", "inbox"),
    2: ("outgoing", "sent"),
    3: ("outgoing", "draft"),
    4: ("outgoing", "outbox"),
    5: ("outgoing", "failed"),
    6: ("outgoing", "queued"),
}


class AndroidMmsSms(Parser):
    name = "android_mmssms"
    version = "1"
    description = "Android telephony database mmssms.db (SMS)"
    required_tables = {
        "sms": {"_id", "thread_id", "address", "date", "type", "body"},
        "threads": {"_id", "recipient_ids"},
        "canonical_addresses": {"_id", "address"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            addresses = dict(conn.execute("SELECT _id, address FROM canonical_addresses"))
            threads: dict[int, list[str]] = {}
            for thread_id, recipient_ids in conn.execute("SELECT _id, recipient_ids FROM threads"):
                ids = [int(x) for x in str(recipient_ids or "").split() if x.isdigit()]
                threads[thread_id] = [addresses[i] for i in ids if i in addresses]

            columns = table_columns(conn, "sms")
            optional = [c for c in ("read", "status", "date_sent", "sub_id") if c in columns]
            query = (
                "SELECT _id, thread_id, address, date, type, body"
                + "".join(f", {c}" for c in optional)
                + " FROM sms ORDER BY _id"
            )
            ids: list[int] = []
            for row in conn.execute(query):
                rowid, thread_id, address, date, sms_type, body = row[:6]
                ids.append(rowid)
                locator = f"sms._id={rowid}"
                members = threads.get(thread_id) or ([address] if address else [])
                other = [party(a, ctx.region) for a in members]
                if sms_type not in SMS_TYPES:
                    ctx.warn(file.logical, "unknown sms.type", f"{locator}: type={sms_type}")
                direction, box = SMS_TYPES.get(sms_type, ("unknown", f"type {sms_type}"))
                counterpart = party(address, ctx.region) if address else None
                owner = ctx.owner_party()
                if direction == "incoming":
                    sender, recipients = counterpart, [owner]
                else:
                    sender, recipients = owner, ([counterpart] if counterpart else other)
                timestamp = from_unix_ms(date)
                if timestamp is None:
                    ctx.warn(file.logical, "message without a date", locator)
                extra = {"box": box, **dict(zip(optional, row[6:], strict=True))}
                yield Message(
                    platform="sms",
                    conversation=Conversation(
                        id=f"sms:thread:{thread_id}",
                        title=", ".join(members) or None,
                        is_group=len(members) > 1,
                        participants=[p for p in other if p is not None],
                    ),
                    timestamp_utc=timestamp,
                    timestamp_raw=str(date),
                    zone_assumed=False,
                    direction=direction,
                    sender=sender,
                    recipients=[r for r in recipients if r is not None],
                    body=body,
                    kind="text",
                    source=self.provenance(file, locator),
                    record_id=rowid,
                    extra=extra,
                )
            yield IdSpace(
                file=file.logical,
                sha256=file.sha256,
                format=self.name,
                table="sms",
                id_column="_id",
                autoincrement=is_autoincrement(conn, "sms"),
                high_water=sequence_value(conn, "sms"),
                ids=ids,
                note=None
                if is_autoincrement(conn, "sms")
                else "AOSP sms._id has no AUTOINCREMENT: the newest ids can be reused after deletion",
            )
