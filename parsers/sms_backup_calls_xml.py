""" "SMS Backup & Restore" call-log backup XML (``calls-<date>.xml``), by SyncTech.

The app writes the call log to its own file beside the messages backup:
``<calls count="N" backup_set=... backup_date=...>`` holding one ``<call .../>`` per call log row,
attribute values copied from the phone's call log as they are (synctech.com.au
"fields in XML backup files"; kenn-io/msgvault ``internal/synctechsms/types.go``;
karlicoss/HPI ``my/smscalls.py``):

* ``number``; ``duration`` seconds; ``date`` ms since 1970 UTC; ``type`` the Android
  ``CallLog.Calls.TYPE`` (1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 refused
  list, i.e. blocked; 7 answered elsewhere); ``presentation`` 1 allowed, 2 restricted, 3 unknown,
  4 payphone; ``contact_name`` the name on the phone, ``(Unknown)`` when none;
* ``readable_date`` is the same moment as text in the phone's locale and zone, so it is kept but
  never parsed; ``subscription_id`` the SIM.

Older "Call Logs Backup & Restore" files carry only ``number, duration, date, type,
readable_date, contact_name`` (phillipgreenii/mobilecombackup ``testdata/to_process/00/
calls-test.xml``). Read by streaming, as the messages backup is (``parsers/sms_backup_stream.py``).
Schema facts and fixtures: ``fixtures/calls/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from triage.parsers.android_calllog import OLD_WITHHELD, PRESENTATION, TYPES, VIDEO
from triage.parsers.sms_backup_stream import UNKNOWN_NAMES, BackupElements, as_int, value

from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import Call, Record
from triage.registry import Match, ParseContext, Parser, Probe

_ROOT = re.compile(r"<calls[\s>]")


class SmsBackupCallsXml(Parser):
    name = "sms_backup_calls_xml"
    version = "2"
    description = '"SMS Backup & Restore" call-log backup XML'
    # A backup is a copy of the phone's call log: when both are present, the database is kept.
    priority = 10

    def match(self, probe: Probe) -> Match | None:
        if not self.sniffed(probe):
            return None
        head = probe.text_head()
        if not _ROOT.search(head):
            return None
        return Match(self, 30 + (10 if "<call " in head else 0))

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        stream = BackupElements(file, ctx, "calls", ("call",), "calls")
        for _, n, elem in stream:
            locator = f"calls/call[{n}]"
            try:
                yield self._call(file, ctx, elem, locator)
            except (ValueError, TypeError) as exc:
                ctx.warn(file.logical, "unreadable element", f"{locator}: {exc}")
        seen, declared = stream.seen["call"], stream.declared
        if declared is not None and declared != seen:
            ctx.warn(
                file.logical,
                "count mismatch",
                f'<calls count="{declared}"> but the file holds {seen} calls',
            )

    def _call(self, file: EvidenceFile, ctx: ParseContext, elem: Element, locator: str) -> Call:
        code = as_int(value(elem, "type"))
        if code in TYPES:
            direction, result = TYPES[code]
        else:
            direction, result = "unknown", "unknown"
            ctx.warn(file.logical, "unknown call type", f"{locator}: type={elem.get('type')}")
        duration = as_int(value(elem, "duration"))
        if code == 2 and not duration:
            result = "not_answered"
        date = value(elem, "date")
        when = from_unix_ms(as_int(date))
        if when is None:
            ctx.warn(file.logical, "call without a date", locator)
        extra: dict[str, Any] = {
            k: elem.get(k)
            for k in ("readable_date", "subscription_id", "presentation", "contact_name")
            if elem.get(k) not in (None, "", "null")
        }
        number = value(elem, "number")
        presentation = as_int(value(elem, "presentation"))
        name = value(elem, "contact_name")
        name = None if name in UNKNOWN_NAMES else name
        counterpart = None
        if presentation not in (None, 1):
            extra["withheld"] = PRESENTATION.get(presentation, f"presentation {presentation}")
        elif number and number.strip() in OLD_WITHHELD:
            extra["withheld"] = OLD_WITHHELD[number.strip()]
        elif number:
            counterpart = party(number, ctx.region, name=name)
        features = as_int(value(elem, "features"))
        return Call(
            network="cellular",
            timestamp_utc=when,
            timestamp_raw=str(date),
            direction=direction,
            result=result,
            source=self.provenance(file, locator),
            duration_s=duration,
            counterpart=counterpart,
            video=None if features is None else bool(features & VIDEO),
            result_code=f"type={elem.get('type')}",
            extra=extra,
        )
