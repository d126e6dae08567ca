"""Spreadsheet- and machine-friendly exports written beside the HTML report.

``findings.json`` (schema in the README), ``messages.csv``, ``calls.csv`` and ``findings.csv``
(UTF-8 with a BOM so spreadsheet programs open them as UTF-8; cells that start with = + - @, a tab
or a carriage return are prefixed with an apostrophe so a message body can never run as a
formula). ``triage.xlsx`` (:mod:`triage.report.workbook`) holds the same rows as typed cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import orjson

from triage.casefile import Case
from triage.model import Provenance, iso_utc
from triage.report.coverage_view import all_pictures
from triage.store import Finding, Store
from triage.store.codec import loads
from triage.store.messages import ExportRow

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_GUARDED = frozenset(FORMULA_START)
FINDINGS_SCHEMA = 1


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _text(value: str | None) -> str:
    """A text cell (``None`` as empty), guarded as :func:`_cell` guards any cell."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


def finding_devices(store: Store, findings: Sequence[Any]) -> dict[int, list[dict[str, str]]]:
    """finding id -> the devices (key and case-file label, in case-file order) holding the
    messages it rests on, their copies included, or the device it is about (``data.device``).
    With one device, every finding resting on messages is on it, and nothing is queried."""
    devices = store.meta().get("devices") or []
    order = {d["key"]: {"key": d["key"], "label": d["label"]} for d in devices}
    if len(order) == 1:
        (only,) = order.values()
        return {f.id: [only] for f in findings if f.refs}
    held = store.devices_of(r for f in findings for r in f.refs) if order else {}
    out = {}
    for f in findings:
        keys = {d for r in f.refs for d in held.get(r, ())}
        about = f.data.get("device") if isinstance(f.data, dict) else None
        if isinstance(about, str):
            keys.add(about)
        out[f.id] = [order[k] for k in order if k in keys]
    return out


def read_findings(store: Store, findings: Sequence[Finding] | None) -> Sequence[Finding]:
    """The store's findings: ``findings`` when the caller has read them already (the exports
    process reads them once for its nine readers, about 0.04 s each at 300,000 messages)."""
    return store.findings() if findings is None else findings


def analyser_findings(
    store: Store, analyser: str, findings: Sequence[Finding] | None
) -> Sequence[Finding]:
    """``store.findings(analyser)``, taken from ``findings`` when the caller has read them."""
    if findings is None:
        return store.findings(analyser)
    return [f for f in findings if f.analyser == analyser]


def finding_refs(findings: Sequence[Finding]) -> set[int]:
    """The ids of the messages the findings rest on."""
    return {r for f in findings for r in f.refs}


def write_findings_json(
    store: Store,
    path: Path,
    findings: Sequence[Finding] | None = None,
    provenance: dict[int, tuple[str | None, Provenance]] | None = None,
) -> None:
    """``findings.json``; ``provenance`` holds what :func:`write_messages_csv` gave of the
    messages it wrote among the findings' references (each reference's time and source), so
    only the others (recovered messages) are read here."""
    findings = read_findings(store, findings)
    if provenance is None:
        refs = store.provenance_of(finding_refs(findings))
    else:
        refs = provenance
        missing = finding_refs(findings).difference(provenance)
        if missing:
            refs = {**provenance, **store.provenance_of(missing)}
    devices = finding_devices(store, findings)
    data = {
        "schema": FINDINGS_SCHEMA,
        "case": store.meta(),
        "findings": [
            {
                "id": f.id,
                "analyser": f.analyser,
                "rule": f.rule,
                "subject": f.subject,
                "title": f.title,
                "why": f.why,
                "weight": f.weight,
                "data": f.data,
                "devices": devices.get(f.id, []),
                "refs": [
                    {
                        "message_id": ref,
                        "timestamp_utc": refs[ref][0],
                        "file": refs[ref][1].file,
                        "sha256": refs[ref][1].sha256,
                        "format": refs[ref][1].format,
                        "locator": refs[ref][1].locator,
                    }
                    for ref in f.refs
                    if ref in refs
                ],
            }
            for f in findings
        ],
    }
    # orjson where it writes what the standard library writes (100 times faster on the
    # message references that make up most of the file); the refs above hold only ids and text.
    if _same_in_orjson([data["case"], *((f.data, f.weight) for f in findings)]):
        try:
            path.write_bytes(orjson.dumps(data, option=_INDENTED))
            return
        except TypeError:
            pass  # surrogates, keys that are not text, integers past 64 bits: as before
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", "utf-8")


_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
_PLAIN = (str, int, bool, type(None))


def _same_in_orjson(value: Any) -> bool:
    """Whether ``orjson`` writes ``value`` exactly as ``json.dumps(indent=2,
    ensure_ascii=False)`` does. They differ only on floats below 1e-4 (orjson writes
    ``0.00001`` and ``2.5e-7`` where json writes ``1e-05`` and ``2.5e-07``), on NaN and
    infinities (orjson writes ``null``) and on types json refuses (which orjson may accept);
    what orjson refuses instead raises, and the caller falls back."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind is float:
            if item != item or item in (float("inf"), float("-inf")):
                return False
            if item and abs(item) < 1e-4:
                return False
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


MESSAGE_COLUMNS = (
    "message_id",
    "timestamp_utc",
    "timestamp_local",
    "zone_assumed",
    "platform",
    "conversation",
    "conversation_title",
    "direction",
    "sender",
    "sender_id",
    "recipients",
    "kind",
    "deleted",
    "edited",
    "body",
    "attachments",
    "source_file",
    "source_sha256",
    "source_format",
    "source_locator",
    "case_contact_key",
    "case_contact",
    "duty_status",
    "night",
    "device",  # the case file's label of the device whose sources hold the message
)


# Caches of text per distinct value are emptied past this many entries.
_CACHE_MOST = 100_000


# A row of MESSAGE_COLUMNS as the runs of columns handed to a Sheet: (message_id, timestamp_utc,
# timestamp_local); zone_assumed to edited; body and attachments; the source file's three;
# source_locator; case_contact_key to device. The second, fourth and last repeat from row to row.
MESSAGE_RUNS = (
    slice(0, 3),
    slice(3, 14),
    slice(14, 16),
    slice(16, 19),
    slice(19, 20),
    slice(20, 25),
)


def message_runs(row: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
    """A :data:`MESSAGE_COLUMNS` row cut into its :data:`MESSAGE_RUNS`."""
    return tuple(row[run] for run in MESSAGE_RUNS)


class Sheet(Protocol):
    """Where the one pass over the messages hands the rows a second table lists (the
    workbook's messages sheet)."""

    def wants(self, case_contact_key: str) -> bool: ...

    def message(self, runs: tuple[tuple[Any, ...], ...]) -> Any:
        """A row in its :data:`MESSAGE_RUNS`; each repeating run is one tuple object for all
        the rows it is the same in, while the export's caches hold it."""


def _csv_cells(values: Iterable[Any]) -> str:
    """Cells as ``messages.csv`` writes them (text guarded, ``None`` empty) and ``csv.writer``
    quotes them, joined by commas, without the line's end."""
    buffer = io.StringIO()
    # A last empty cell, so that a lone empty value is not written as '""'.
    csv.writer(buffer).writerow([*(_cell(v) for v in values), ""])
    return buffer.getvalue()[:-3]


class _MessageExport:
    """:meth:`Store.message_export_rows` made into ``messages.csv`` lines and into rows of
    :data:`MESSAGE_COLUMNS` (values as stored, not guarded), from one place.

    What repeats from row to row (conversation, sender, recipients and flags; file; labels and
    device) is made into text once per distinct value; per row only the body, attachments,
    locator and times are looked at. The UTC text is the store's own (``YYYY-MM-DDTHH:MM:SS[.fff]Z``), so
    it and the local time made from it need neither a formula guard nor quotes."""

    def __init__(self, store: Store, case: Case | None, refs: Collection[int] = ()) -> None:
        self.store = store
        # The messages whose (UTC time, file id, locator) are kept as the rows go by.
        self.refs = refs
        self.kept: dict[int, tuple[str | None, int, str | None]] = {}
        self.conversations, self.parties, self.files = store.export_lookups()
        self.attachments = store.export_attachments()
        self.names = {c.key: c.name for c in case.contacts} if case else {}
        self.devices = {d.key: d.label for d in case.devices} if case else {}
        self.local_iso = _LocalTime(ZoneInfo(case.timezone) if case else None)
        self.contact_labels = store.labels("contacts", "contact")
        # The duty labels as their JSON text: a text is decoded once, for its tail.
        self.status_labels = store.label_texts("duty", "status")
        self.night_labels = store.label_texts("duty", "night")
        # facts text -> _Head; (contact, status text, night text, device) -> (raw values, CSV)
        self.heads: dict[str, _Head] = {}
        self.tails: dict[tuple, tuple[tuple, str]] = {}

    def batches(self) -> Iterator[list[ExportRow]]:
        return self.store.message_export_rows()

    def _head(self, facts: str, message_id: int) -> _Head:
        """What a facts text stands for: zone_assumed to edited (the columns from the
        conversation and sender to the flags), the source file's three and the device."""
        f = self.store.export_facts(facts, message_id)
        conversation = self.conversations[f.conversation_id]
        party = self.parties.get(f.sender_party) if f.sender_party is not None else None
        raw = (
            f.zone_assumed,
            f.platform,
            conversation.id,
            conversation.title,
            f.direction,
            None if party is None else party.raw,
            None if party is None else party.id,
            self.store.recipients_text(f.recipients),
            f.kind,
            f.deleted,
            f.edited,
        )
        source = self.files[f.file_id]
        heads = self.heads
        if len(heads) > _CACHE_MOST:
            heads.clear()
        found = heads[facts] = _Head(
            raw, _csv_cells(raw), source, _csv_cells(source), f.device, f.file_id
        )
        return found

    def _tail(self, key: tuple) -> tuple[tuple, str]:
        """case_contact_key to device: the labels and the device."""
        contact, status_text, night_text, device = key
        status = None if status_text is None else loads(status_text)
        night = None if night_text is None else loads(night_text)
        raw = (
            contact,
            self.names.get(contact, ""),
            status,
            "" if night is None else int(bool(night)),
            self.devices.get(device, device or ""),
        )
        tails = self.tails
        if len(tails) > _CACHE_MOST:
            tails.clear()
        found = tails[key] = (raw, _csv_cells(raw))
        return found

    def row(self, row: ExportRow) -> tuple[Any, ...]:
        """The :data:`MESSAGE_COLUMNS` row of one export row."""
        mid, utc, facts, body, locator = row
        head = self.heads.get(facts) or self._head(facts, mid)
        contact = self.contact_labels.get(mid) or ""
        status, night = self.status_labels.get(mid), self.night_labels.get(mid)
        key = (contact, status, night, head.device)
        tail = self.tails.get(key) or self._tail(key)
        return (
            mid,
            utc,
            self.local_iso(utc),
            *head.raw,
            body,
            self.attachments.get(mid),
            *head.source,
            locator,
            *tail[0],
        )

    def csv_text(self, rows: list[ExportRow], sheet: Sheet | None = None) -> str:
        """The ``messages.csv`` lines of a batch of export rows; the rows ``sheet`` wants are
        handed to it on the way."""
        guard = _GUARDED
        heads, tails = self.heads, self.tails
        minutes, local_iso = self.local_iso.minutes, self.local_iso
        contacts, statuses, nights = self.contact_labels, self.status_labels, self.night_labels
        refs, kept, attached = self.refs, self.kept, self.attachments
        lines = []
        for mid, utc, facts, body, locator in rows:
            head = heads.get(facts)
            if head is None:
                head = self._head(facts, mid)
            if mid in refs:
                kept[mid] = (utc, head.file_id, locator)
            contact = contacts.get(mid) or ""
            key = (contact, statuses.get(mid), nights.get(mid), head.device)
            tail = tails.get(key)
            if tail is None:
                tail = self._tail(key)
            if utc is None:
                local = ""
            else:
                # local_iso's own fast path, inlined: the local minute and offset of the UTC one
                minute = minutes.get(utc[:16]) if len(utc) == 20 and utc[19] == "Z" else None
                local = f"{minute[0]}{utc[16:19]}{minute[1]}" if minute else local_iso(utc)
            attachments = attached.get(mid) if attached else None
            if sheet is not None and sheet.wants(contact):
                sheet.message(
                    (
                        (mid, utc, local),
                        head.raw,
                        (body, attachments),
                        head.source,
                        (locator,),
                        tail[0],
                    )
                )
            # Text from the source: guarded and quoted only when it needs it (csv.writer quotes
            # a cell holding a comma, a double quote or a line break, and only then).
            if body is None:
                body = ""
            elif (
                type(body) is not str or body[:1] in guard
                or '"' in body or "," in body or "\n" in body or "\r" in body
            ):  # fmt: skip
                body = _csv_cells((body,))
            if attachments is None:
                attachments = ""
            elif (
                type(attachments) is not str or attachments[:1] in guard
                or '"' in attachments or "," in attachments or "\n" in attachments
                or "\r" in attachments
            ):  # fmt: skip
                attachments = _csv_cells((attachments,))
            if locator is None:
                locator = ""
            elif (
                type(locator) is not str or locator[:1] in guard
                or '"' in locator or "," in locator or "\n" in locator or "\r" in locator
            ):  # fmt: skip
                locator = _csv_cells((locator,))
            lines.append(
                f"{mid},{'' if utc is None else utc},{local},{head.text},{body},{attachments},"
                f"{head.source_text},{locator},{tail[1]}\r\n"
            )
        return "".join(lines)


class _Head(NamedTuple):
    """What one facts text of the export rows stands for: the raw values and CSV text of
    zone_assumed to edited and of the source file's three, the device and the file id."""

    raw: tuple
    text: str
    source: tuple
    source_text: str
    device: str | None
    file_id: int


def message_rows(store: Store, case: Case | None = None) -> Iterator[tuple[Any, ...]]:
    """One row of :data:`MESSAGE_COLUMNS` per message, values as stored (not guarded): the
    rows of ``messages.csv`` and the workbook's messages sheet. The case contact and duty
    columns come from the analysers' labels and are empty when no analyser labelled the message."""
    export = _MessageExport(store, case)
    for rows in export.batches():
        for row in rows:
            yield export.row(row)


def write_messages_csv(
    store: Store,
    path: Path,
    case: Case | None = None,
    sheet: Sheet | None = None,
    refs: Collection[int] = (),
) -> dict[int, tuple[str | None, Provenance]]:
    """``messages.csv``: :func:`message_rows`, every text cell guarded against formula use.
    The rows ``sheet`` wants (the workbook's messages sheet) are handed to it as they are
    written, so the messages are read once for both. Returns the (UTC time, provenance) of
    the messages written among ``refs``, as :meth:`Store.provenance_of` gives them (for
    ``findings.json``: 34,500 messages at 300,000, read again there in 69 queries before)."""
    export = _MessageExport(store, case, refs)
    # utf-8 with the byte-order mark written by hand: the same bytes as "utf-8-sig", encoded
    # without a Python-level encoder call per write.
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff" + _csv_cells(MESSAGE_COLUMNS) + "\r\n")
        for rows in export.batches():
            handle.write(export.csv_text(rows, sheet))
    files = export.files
    return {
        mid: (utc, Provenance(*files[fid], locator))
        for mid, (utc, fid, locator) in export.kept.items()
    }


class _LocalTime:
    """UTC text -> the case-zone time with its offset, as ``datetime.isoformat`` writes it;
    the zone's offset is looked up once per UTC minute."""

    def __init__(self, zone: ZoneInfo | None) -> None:
        self.zone = zone
        self.offsets: dict[str, timedelta] = {}
        self.minutes: dict[str, tuple[str, str] | tuple[()]] = {}

    def __call__(self, utc: str | None) -> str:
        if self.zone is None or not utc:
            return ""
        # "YYYY-MM-DDTHH:MM:SS[.mmm]Z": in a zone a whole number of minutes from UTC the
        # seconds read the same, so the local minute and offset text are kept per UTC minute.
        if len(utc) in (20, 24) and utc[-1] == "Z":
            minute = self.minutes.get(utc[:16])
            if minute is None:
                minute = self.minutes[utc[:16]] = self._minute(utc)
            if minute and (len(utc) == 20 or utc[19] == "."):
                # isoformat writes no fraction for zero microseconds, six digits otherwise.
                fraction = utc[19:23] + "000" if len(utc) == 24 and utc[20:23] != "000" else ""
                return f"{minute[0]}{utc[16:19]}{fraction}{minute[1]}"
        return self._isoformat(utc)

    def _isoformat(self, utc: str) -> str:
        when = datetime.fromisoformat(utc)
        offset = self.offsets.get(utc[:16])
        if offset is None:
            if len(self.offsets) > 100_000:
                self.offsets.clear()
            offset = self.offsets[utc[:16]] = when.astimezone(self.zone).utcoffset() or timedelta()
        return (when + offset).replace(tzinfo=timezone(offset)).isoformat()

    def _minute(self, utc: str) -> tuple[str, str] | tuple[()]:
        """(local "YYYY-MM-DDTHH:MM", "+HH:MM") of a UTC minute; empty where the fast path
        would not give what ``isoformat`` gives (offsets with seconds, years before 1000)."""
        if len(self.minutes) > 100_000:
            self.minutes.clear()
        try:
            whole = self._isoformat(utc[:16] + ":00Z")
            when = datetime.fromisoformat(utc[:16] + ":00+00:00")
        except (ValueError, OverflowError):
            return ()
        offset = when.astimezone(self.zone).utcoffset() or timedelta()
        if offset % timedelta(minutes=1) or len(whole) != 25 or when.year < 1000:
            return ()
        return whole[:16], whole[19:]


CALL_COLUMNS = (
    "call_id",
    "timestamp_utc",
    "timestamp_local",
    "network",
    "video",
    "direction",
    "result",
    "result_code",
    "duration_s",
    "counterpart",
    "counterpart_id",
    "counterpart_name",
    "participants",
    "is_group",
    "conversation",
    "app",
    "deleted",
    "source_file",
    "source_sha256",
    "source_format",
    "source_locator",
    "case_contact_key",
    "case_contact",
    "duty_status",
    "night",
)


def write_calls_csv(
    store: Store,
    path: Path,
    case: Case | None = None,
    findings: Sequence[Finding] | None = None,
) -> None:
    """One row per call in time order; the case contact, duty status and night come from the
    ``duty.contact-split`` findings (empty when no analyser placed the call)."""
    names = {c.key: c.name for c in case.contacts} if case else {}
    placed: dict[int, tuple[str, str, bool]] = {}
    for f in read_findings(store, findings):
        if f.rule != "duty.contact-split" or not f.subject:
            continue
        for ref in (f.data.get("calls") or {}).get("refs", []):
            placed.setdefault(ref["call_id"], (f.subject, ref.get("status"), ref.get("night")))
    local_iso = _LocalTime(ZoneInfo(case.timezone) if case else None)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CALL_COLUMNS)
        for stored in store.calls():
            c = stored.call
            utc = iso_utc(c.timestamp_utc)
            key, status, night = placed.get(stored.id, ("", "", None))
            other = c.counterpart
            writer.writerow(
                (
                    stored.id,
                    _text(utc),
                    local_iso(utc),
                    _text(c.network),
                    "" if c.video is None else int(c.video),
                    _text(c.direction),
                    _text(c.result),
                    _text(c.result_code),
                    "" if c.duration_s is None else c.duration_s,
                    _text(other.raw if other else None),
                    _text(other.id if other else None),
                    _text(other.name if other else None),
                    _text("; ".join(p.id or p.raw for p in c.participants)),
                    int(c.is_group),
                    _text(c.conversation_id),
                    _text(c.app),
                    int(c.deleted),
                    _text(c.source.file),
                    _text(c.source.sha256),
                    _text(c.source.format),
                    _text(c.source.locator),
                    _text(key),
                    _text(names.get(key, "")),
                    _text(status),
                    "" if night is None else int(bool(night)),
                )
            )


def write_findings_csv(store: Store, path: Path, findings: Sequence[Finding] | None = None) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            (
                "finding_id", "analyser", "rule", "subject", "title", "why", "weight",
                "message_ids", "devices",
            )
        )  # fmt: skip
        findings = read_findings(store, findings)
        devices = finding_devices(store, findings)
        for f in findings:
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        f.id,
                        f.analyser,
                        f.rule,
                        f.subject or "",
                        f.title,
                        f.why,
                        f.weight,
                        " ".join(str(r) for r in f.refs),
                        "; ".join(d["label"] for d in devices.get(f.id, [])),
                    )
                ]
            )


def write_group_members_csv(
    store: Store, path: Path, findings: Sequence[Finding] | None = None
) -> None:
    """One row per group conversation and member, from the groups analyser's findings."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            (
                "conversation", "title", "member", "name", "is_subject", "contact_key",
                "person_key", "person_role", "listed_member", "messages", "media",
                "replies_to_others", "reactions_to_others", "first_utc", "last_utc", "delivered", "read",
                "last_read_utc", "events",
            )
        )  # fmt: skip
        for f in analyser_findings(store, "groups", findings):
            for m in f.data["members"]:
                writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            f.subject,
                            f.data.get("title") or "",
                            m["member"],
                            m["name"],
                            m["is_subject"],
                            m["contact_key"] or "",
                            m["person_key"] or "",
                            m["person_role"] or "",
                            m["listed_member"],
                            m["messages"],
                            " ".join(f"{k}:{n}" for k, n in sorted(m["media"].items())),
                            m["replies_to_others"],
                            m.get("reactions_to_others", 0),
                            m["first_utc"] or "",
                            m["last_utc"] or "",
                            m["delivered"],
                            m["read"],
                            m["last_read_utc"] or "",
                            " ".join(f"{e['event']}@{e['timestamp_utc']}" for e in m["events"]),
                        )
                    ]
                )


def write_lexicon_hits_csv(store: Store, path: Path) -> None:
    """One row per lexicon hit (message, category, term, offsets in the searched text)."""
    hits = store.labels("lexicon", "hits")
    refs = store.provenance_of(hits)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ("message_id", "timestamp_utc", "category", "term", "start", "end", "file", "locator")
        )
        for mid, rows in hits.items():
            when, source = refs[mid]
            for h in rows:
                writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            mid,
                            when or "",
                            h["category"],
                            h["term"],
                            h["start"],
                            h["end"],
                            source.file,
                            source.locator,
                        )
                    ]
                )


def write_pictures_csv(store: Store, path: Path) -> None:
    """``pictures.csv``: every picture found, hashed or unreadable and why (the coverage page
    lists the first of them)."""
    unreadable = (store.meta().get("media") or {}).get("unreadable") or []
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("file", "format", "size", "sha256", "status", "why"))
        for p in all_pictures(store.media_files(), unreadable):
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        p["file"],
                        p["format"] or "",
                        "" if p["size"] is None else p["size"],
                        p["sha256"] or "",
                        p["status"],
                        p["why"],
                    )
                ]
            )
