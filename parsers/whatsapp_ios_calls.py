"""WhatsApp for iOS call history ``CallHistory.sqlite`` (Core Data SQLite in WhatsApp's shared app
group, ``/private/var/mobile/Containers/Shared/AppGroup/<uuid>/CallHistory.sqlite``).

Facts used (abrignoni/iLEAPP ``scripts/artifacts/whatsApp.py``, artifact ``whatsAppCallHistory``):

* ``ZWACDCALLEVENT``: one row per call; ``ZDATE`` start in seconds since 2001-01-01 UTC,
  ``ZDURATION`` seconds, ``ZOUTCOME`` 0 ended, 1 missed, 4 rejected (other codes are shown raw by
  iLEAPP and kept raw here), ``ZGROUPCALLCREATORUSERJIDSTRING`` the jid that placed the call,
  ``Z1CALLEVENTS`` the key shared with its participants;
* ``ZWACDCALLEVENTPARTICIPANT(Z1PARTICIPANTS, ZJIDSTRING)``: the other parties, joined on
  ``ZWACDCALLEVENT.Z1CALLEVENTS = ZWACDCALLEVENTPARTICIPANT.Z1PARTICIPANTS``; iLEAPP reads the call
  as incoming when the creator jid is a participant's, otherwise outgoing.

Assumptions (not publicly documented; ``fixtures/calls/README.md``): ``ZVIDEO`` 1 a video call and
``ZCALLIDSTRING`` WhatsApp's call id, read only when present. A call with no creator jid has an
unknown direction. Schema facts and fixtures: ``fixtures/calls/README.md``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from triage.parsers.whatsapp_common import PLATFORM, conversation_id, is_group_jid, jid_party

from triage.clock import from_apple
from triage.evidence import EvidenceFile
from triage.model import Call, CallDirection, CallResult, Party, Record
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import table_columns
from triage.sqlite_rows import RecordGuard

REQUIRED = {"Z_PK", "ZDATE", "ZDURATION", "ZOUTCOME"}
OPTIONAL = ("Z1CALLEVENTS", "ZGROUPCALLCREATORUSERJIDSTRING", "ZVIDEO", "ZCALLIDSTRING")
OUTCOMES = {0: "ended", 1: "missed", 4: "rejected"}


def outcome_result(code: Any, direction: CallDirection, duration: float | None) -> CallResult:
    meaning = OUTCOMES.get(code)
    if meaning == "ended":
        if duration and duration > 0:
            return "answered"
        return "not_answered" if direction == "outgoing" else "unknown"
    if meaning in ("missed", "rejected"):
        if direction == "outgoing":
            return "not_answered"
        return "missed" if meaning == "missed" else "rejected"
    return "unknown"


class WhatsAppIOSCalls(Parser):
    name = "whatsapp_ios_calls"
    version = "1"
    description = "WhatsApp for iOS call history (CallHistory.sqlite ZWACDCALLEVENT)"
    required_tables = {
        "ZWACDCALLEVENT": REQUIRED,
        "ZWACDCALLEVENTPARTICIPANT": {"Z1PARTICIPANTS", "ZJIDSTRING"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            participants = _participants(conn)
            columns = table_columns(conn, "ZWACDCALLEVENT")
            select = sorted(REQUIRED) + [c for c in OPTIONAL if c in columns]
            guard = RecordGuard(ctx, file.logical)
            query = f"SELECT {', '.join(select)} FROM ZWACDCALLEVENT ORDER BY Z_PK"
            for values in conn.execute(query):
                row = dict(zip(select, values, strict=True))
                locator = f"ZWACDCALLEVENT.Z_PK={row['Z_PK']}"
                with guard(locator):
                    jids = participants.get(row.get("Z1CALLEVENTS"), [])
                    yield self._call(file, ctx, row, locator, jids)

    def _call(
        self,
        file: EvidenceFile,
        ctx: ParseContext,
        row: dict[str, Any],
        locator: str,
        jids: list[str],
    ) -> Call:
        creator = row.get("ZGROUPCALLCREATORUSERJIDSTRING") or None
        direction: CallDirection
        if creator is None:
            direction = "unknown"
        else:
            direction = "incoming" if creator in jids else "outgoing"
        if row["ZOUTCOME"] not in OUTCOMES:
            ctx.warn(file.logical, "unknown ZOUTCOME", f"{locator}: ZOUTCOME={row['ZOUTCOME']}")
        duration = row["ZDURATION"]
        when = from_apple(row["ZDATE"])
        if when is None:
            ctx.warn(file.logical, "call without a date", locator)
        people = [p for p in (jid_party(j, ctx.region) for j in jids) if p is not None]
        counterpart: Party | None = None
        if direction == "incoming":
            counterpart = next((p for p in people if p.raw == creator), None)
        elif people:
            counterpart = people[0]
        others = [p for p in people if counterpart is None or p.id != counterpart.id]
        call_id = row.get("ZCALLIDSTRING") or None
        video = row.get("ZVIDEO")
        one_to_one = len(jids) == 1 and not is_group_jid(jids[0])
        extra: dict[str, Any] = {"ZOUTCOME": row["ZOUTCOME"]}
        if creator:
            extra["creator_jid"] = creator
        if call_id:
            extra["call_id"] = call_id
        return Call(
            network="whatsapp",
            timestamp_utc=when,
            timestamp_raw=str(row["ZDATE"]),
            direction=direction,
            result=outcome_result(row["ZOUTCOME"], direction, duration),
            source=self.provenance(file, locator),
            duration_s=duration,
            counterpart=counterpart,
            participants=others,
            is_group=len(jids) > 1,
            video=None if video is None else bool(video),
            conversation_id=conversation_id(jids[0]) if one_to_one else None,
            app="net.whatsapp.WhatsApp",
            result_code=f"ZOUTCOME={row['ZOUTCOME']}",
            extra=extra,
            duplicate_key=f"{PLATFORM}:call:{call_id}" if call_id else None,
        )


def _participants(conn: sqlite3.Connection) -> dict[Any, list[str]]:
    out: dict[Any, list[str]] = defaultdict(list)
    query = (
        "SELECT Z1PARTICIPANTS, ZJIDSTRING FROM ZWACDCALLEVENTPARTICIPANT"
        " WHERE ZJIDSTRING IS NOT NULL ORDER BY Z_PK"
    )
    for key, jid in conn.execute(query):
        out[key].append(str(jid))
    return out
