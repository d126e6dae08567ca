"""iOS call history ``CallHistory.storedata`` (Core Data SQLite; also ``CallHistoryTemp.storedata``).

Location ``/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata``; in an iTunes/Finder
backup ``HomeDomain-Library/CallHistoryDB/CallHistory.storedata`` (file id
``5a4935c78a5255723f707230a451d79c540d2741``, mvt-project/mvt ``src/mvt/ios/modules/mixed/
calls.py``). It holds cellular calls, FaceTime, and the calls of apps that report to CallKit
(WhatsApp, Messenger...).

Facts used, table ``ZCALLRECORD`` (abrignoni/iLEAPP ``scripts/artifacts/callHistory.py``;
richinfante/iphonebackuptools ``tools/reports/phone/calls.js``):

* ``ZDATE`` call start in seconds since 2001-01-01 UTC; ``ZDURATION`` seconds;
* ``ZORIGINATED`` 1 outgoing, 0 incoming; ``ZANSWERED`` 1 answered. In the public sample
  shamrockmuffin/case ``CallHistory.storedata`` every outgoing row has ``ZANSWERED`` 0, even
  those that lasted minutes, so for outgoing calls the result comes from the duration;
* ``ZCALLTYPE`` 1 phone, 8 FaceTime video, 16 FaceTime audio, 0 a third-party app, named by
  ``ZSERVICE_PROVIDER`` (``com.apple.Telephony``, ``com.apple.FaceTime``, an app's bundle id;
  iLEAPP matches WhatsApp's with ``LIKE '%whatsapp'``);
* ``ZADDRESS`` number or e-mail address, TEXT or BLOB (mvt decodes bytes; iLEAPP strips
  ``b'...'``); ``ZNAME`` a cached name; ``ZDISCONNECTED_CAUSE``, ``ZLOCATION`` kept as facts
  (the cause codes are not agreed between tools, so they are never turned into a result);
* group calls: ``Z_2REMOTEPARTICIPANTHANDLES`` joins calls to ``ZHANDLE(ZVALUE)``; its column
  names carry Core Data entity numbers that vary, so they are found by suffix
  (iLEAPP ``scripts/artifacts/callHistoryGroupCall.py`` does the same).

Schema facts and fixtures: ``fixtures/calls/README.md``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from triage.clock import from_apple
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import Call, CallNetwork, CallResult, Party, Record
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard

REQUIRED = {"Z_PK", "ZDATE", "ZDURATION", "ZORIGINATED", "ZANSWERED", "ZCALLTYPE", "ZADDRESS"}
OPTIONAL = (
    "ZSERVICE_PROVIDER",
    "ZNAME",
    "ZDISCONNECTED_CAUSE",
    "ZLOCATION",
    "ZISO_COUNTRY_CODE",
    "ZCALL_CATEGORY",
    "ZREAD",
)
CALL_TYPES: dict[int, tuple[CallNetwork, bool | None]] = {
    1: ("cellular", False),
    8: ("facetime", True),
    16: ("facetime", False),
}
PROVIDERS: tuple[tuple[str, CallNetwork], ...] = (
    ("whatsapp", "whatsapp"),
    ("com.facebook.messenger", "messenger"),
    ("com.apple.facetime", "facetime"),
    ("com.apple.telephony", "cellular"),
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


class IOSCallHistory(Parser):
    name = "ios_callhistory"
    version = "1"
    description = "iOS call history (CallHistory.storedata ZCALLRECORD)"
    required_tables = {"ZCALLRECORD": REQUIRED}

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            handles = _group_handles(conn)
            columns = table_columns(conn, "ZCALLRECORD")
            optional = [c for c in OPTIONAL if c in columns]
            select = sorted(REQUIRED) + optional
            guard = RecordGuard(ctx, file.logical)
            query = f"SELECT {', '.join(select)} FROM ZCALLRECORD ORDER BY Z_PK"
            for values in conn.execute(query):
                row = dict(zip(select, values, strict=True))
                locator = f"ZCALLRECORD.Z_PK={row['Z_PK']}"
                with guard(locator):
                    yield self._call(file, ctx, row, locator, handles.get(row["Z_PK"], []))

    def _call(
        self,
        file: EvidenceFile,
        ctx: ParseContext,
        row: dict[str, Any],
        locator: str,
        handles: list[str],
    ) -> Call:
        kind = row["ZCALLTYPE"]
        provider = _text(row.get("ZSERVICE_PROVIDER"))
        network: CallNetwork
        if kind in CALL_TYPES:
            network, video = CALL_TYPES[kind]
        else:
            network, video = "other", None
            if kind != 0:
                ctx.warn(file.logical, "unknown ZCALLTYPE", f"{locator}: ZCALLTYPE={kind}")
        if provider and kind not in (8, 16):
            lowered = provider.lower()
            network = next((n for marker, n in PROVIDERS if marker in lowered), network)
        if video is None and row.get("ZCALL_CATEGORY") == 2:
            video = True
        outgoing = bool(row["ZORIGINATED"])
        duration = row["ZDURATION"]
        result: CallResult
        if outgoing:
            result = "answered" if duration and duration > 0 else "not_answered"
        else:
            result = "answered" if row["ZANSWERED"] else "missed"
        when = from_apple(row["ZDATE"])
        if when is None:
            ctx.warn(file.logical, "call without a date", locator)
        address = _text(row["ZADDRESS"])
        name = _text(row.get("ZNAME")) or None
        counterpart = party(address, ctx.region, name=name) if address else None
        others: list[Party] = []
        for value in handles:
            p = party(value, ctx.region)
            if p is not None and (counterpart is None or p.id != counterpart.id):
                others.append(p)
        extra = {
            k: _text(row[k]) if k == "ZSERVICE_PROVIDER" else row[k]
            for k in ("ZSERVICE_PROVIDER", "ZDISCONNECTED_CAUSE", "ZLOCATION", "ZISO_COUNTRY_CODE")
            if row.get(k) not in (None, "")
        }
        extra["ZANSWERED"] = row["ZANSWERED"]
        return Call(
            network=network,
            timestamp_utc=when,
            timestamp_raw=str(row["ZDATE"]),
            direction="outgoing" if outgoing else "incoming",
            result=result,
            source=self.provenance(file, locator),
            duration_s=duration,
            counterpart=counterpart,
            participants=others,
            is_group=bool(others),
            video=video,
            app=provider,
            result_code=f"ZORIGINATED={row['ZORIGINATED']},ZANSWERED={row['ZANSWERED']}",
            record_id=row["Z_PK"],
            extra=extra,
        )


def _group_handles(conn: sqlite3.Connection) -> dict[int, list[str]]:
    """call Z_PK -> handle values of its remote participants, from the join table whose name
    ends in ``REMOTEPARTICIPANTHANDLES``, when the file has one."""
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if r[0].upper().endswith("REMOTEPARTICIPANTHANDLES")
    ]
    if not tables or "ZHANDLE" not in {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }:
        return {}
    table = tables[0]
    columns = table_columns(conn, table)
    call_col = next((c for c in columns if c.upper().endswith("REMOTEPARTICIPANTCALLS")), None)
    handle_col = next((c for c in columns if c.upper().endswith("REMOTEPARTICIPANTHANDLES")), None)
    if call_col is None or handle_col is None or "ZVALUE" not in table_columns(conn, "ZHANDLE"):
        return {}
    out: dict[int, list[str]] = defaultdict(list)
    for call, value in conn.execute(
        f'SELECT j."{call_col}", h.ZVALUE FROM "{table}" j JOIN ZHANDLE h ON h.Z_PK = j."{handle_col}"'
        f' ORDER BY j."{call_col}", h.Z_PK'
    ):
        text = _text(value)
        if text:
            out[call].append(text)
    return out
