"""Facebook Messenger on Android: the ``threads_db2`` and ``msys_database_<uid>`` databases.

Formats (``abrignoni/ALEAPP:scripts/artifacts/FacebookMessenger.py``, ALEAPP sample data up to
Android 16 / com.facebook.orca vc 343213368):

* ``com.facebook.orca/databases/threads_db2`` (older Messenger, also Katana): ``messages``
  (``msg_id``, ``thread_key``, ``text``, ``sender`` JSON ``{"user_key": "FACEBOOK:<id>", "name":
  ...}``, ``timestamp_ms``, ``msg_type``, ``attachments`` JSON list with ``filename``, ``shares``
  JSON, ``generic_admin_message_extensible_data`` JSON (calls: ``call_duration``, ``caller_id``,
  ``video``), ``snippet``), ``threads(thread_key)``, ``thread_users(user_key, first_name,
  last_name, username, ...)``, ``message_reactions(msg_id, reaction, ...)``. The local user id is
  the first line of the sibling file ``threads_db2-uid``. ALEAPP leaves out rows with
  ``msg_type = -1`` and admin rows; here they are kept and marked. Call rows (``msg_type`` 9, and
  203 with ``admin_text_thread_rtc_event`` ``group_call_ended``; sleuthkit/autopsy
  ``InternalPythonModules/android/fbmessenger.py``) are :class:`Call` records, stamped at the end
  of the call; a recovered call row stays a recovered message (recovered rows are messages).
* ``msys_database_<uid>`` (current "MSYS" mailbox of Messenger and of the Facebook app):
  ``messages(message_id, thread_key, sender_id, text, timestamp_ms, is_admin_message)``,
  ``contacts(id, name, normalized_name_for_search, username, phone_number, email_address,
  is_messenger_user, friendship_status, birthday_timestamp)``, ``attachments(message_id,
  title_text, subtitle_text, filename, playable_url, playable_url_mime_type)``,
  ``reactions(message_id, reaction, reaction_creation_timestamp_ms)``, ``call_log(call_timestamp_ms,
  call_duration, call_direction 1 out / 2 in, call_media_type 2 video, has_been_seen,
  thread_key)``. Outgoing when ``sender_id`` is the local user id.

The Facebook and Messenger apps keep the same mailbox twice, and ``threads_db2`` can hold the
same messages as ``msys``: all get the same ``duplicate_key`` (see
``parsers/messenger_common.py``), so each message is stored once. Message tables here are keyed
by text ids (``msg_id``/``message_id``), so an :class:`IdSpace` is only yielded for a message
table that has an integer primary key.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

from triage.parsers.messenger_common import (
    PLATFORM,
    DuplicateKeys,
    case_owner_fb_ids,
    entry_result,
    thread_call,
)
from triage.parsers.messenger_recovered import recovered_rows

from triage.addressing import sender_and_recipients
from triage.clock import from_unix_ms
from triage.evidence import EvidenceFile
from triage.identity import party
from triage.model import (
    Attachment,
    Call,
    CallDirection,
    CallResult,
    ContactEntry,
    Conversation,
    IdSpace,
    Message,
    Party,
    Record,
)
from triage.registry import ParseContext, Parser
from triage.sqlite_meta import is_autoincrement, table_columns
from triage.sqlite_rows import RecordGuard

_UID_NAME = re.compile(r"^msys_database_(\d+)$")


def fb_party(user_id: str | int | None, name: str | None = None) -> Party | None:
    """A Facebook user as a party: ``fb:<id>`` with the display name the database holds."""
    if user_id is None or str(user_id).strip() == "":
        return None
    text = str(user_id).strip()
    return party(text if text.upper().startswith("FACEBOOK:") else f"FACEBOOK:{text}", name=name)


def _is_call_row(msg_type: Any, event: str, admin: Any) -> bool:
    """A ``messages`` row that records a call: ``msg_type`` 9 (one-to-one call event), 203 with
    the ``group_call_ended`` event (the ``group_call_started`` row of the same call is a notice),
    or admin data with ``call_duration`` (sleuthkit/autopsy ``fbmessenger.py``; ALEAPP
    ``FacebookMessenger.py`` reads ``call_duration`` from that JSON)."""
    if msg_type == 203:
        return event == "group_call_ended"
    return msg_type == 9 or (isinstance(admin, dict) and "call_duration" in admin)


def _json(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None


def _integer_key(conn: sqlite3.Connection, table: str) -> str | None:
    for _, name, ctype, _, _, pk in conn.execute(f'PRAGMA table_info("{table}")'):
        if pk == 1 and str(ctype).upper() == "INTEGER":
            return name
    return None


def _id_space(
    parser: Parser, file: EvidenceFile, conn: sqlite3.Connection, table: str, ctx: ParseContext
) -> Iterator[IdSpace]:
    """An IdSpace for ``table`` when it has an INTEGER PRIMARY KEY; otherwise say why not."""
    column = _integer_key(conn, table)
    if column is None:
        ctx.decide(
            file.logical,
            **{f"id_space_{table}": "none: rows keyed by a text id, no integer id to gap-check"},
        )
        return
    auto = is_autoincrement(conn, table)
    ids = [r[0] for r in conn.execute(f'SELECT "{column}" FROM "{table}" ORDER BY 1')]
    yield parser.sqlite_id_space(
        file,
        conn,
        table,
        column,
        ids,
        note=None if auto else f"{table}.{column} has no AUTOINCREMENT: newest ids can be reused",
    )


def _owner_id(
    file: EvidenceFile, ctx: ParseContext, from_name: str | None
) -> tuple[str | None, str]:
    uid_file = file.sibling("threads_db2-uid")
    if uid_file is not None:
        try:
            with uid_file.open() as handle:
                uid = handle.read(200).decode("utf-8", errors="replace").strip().split()
        except OSError:
            uid = []
        if uid and uid[0].isdigit():
            return uid[0], f"first line of {uid_file.logical}"
    if from_name:
        return from_name, f"user id in the database file name {file.name}"
    ids = sorted(case_owner_fb_ids(ctx))
    if ids:
        return ids[0].removeprefix("fb:"), "case file owner Facebook id"
    return None, "no threads_db2-uid file, no id in the file name, none in the case file"


class _AppBase(Parser):
    # Device databases hold ids, record keys and what was on the phone: the copy to keep.
    priority = 50

    def _owner(self, file: EvidenceFile, ctx: ParseContext) -> tuple[str | None, Party | None]:
        m = _UID_NAME.match(file.name)
        uid, basis = _owner_id(file, ctx, m.group(1) if m else None)
        if uid is None:
            ctx.warn(file.logical, "owner unknown: directions are 'unknown'", basis)
        ctx.decide(file.logical, owner=f"fb:{uid}" if uid else None, owner_basis=basis)
        return uid, fb_party(uid) if uid else None

    @staticmethod
    def _me(ctx: ParseContext, owner: Party | None, name: str | None) -> Party:
        base = ctx.owner_party()
        if ctx.owner or owner is None:
            return base
        return Party(raw=owner.raw, id=owner.id, name=name, scheme=owner.scheme)


class MessengerThreadsDb2(_AppBase):
    name = "messenger_threads_db2"
    version = "3"
    description = "Facebook Messenger for Android threads_db2 (older mailbox)"
    required_tables = {
        "messages": {"msg_id", "thread_key", "text", "sender", "timestamp_ms", "msg_type"},
        "thread_users": {"user_key"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            uid, owner = self._owner(file, ctx)
            users = self._users(conn)
            for key, (name, extra) in users.items():
                ident = fb_party(key, name)
                if ident is not None:
                    yield ContactEntry(
                        name, [ident], self.provenance(file, f"thread_users.user_key={key}"), extra
                    )
            me = self._me(ctx, owner, users.get(uid or "", (None, {}))[0])
            members = self._participants(conn)
            reactions = self._reactions(conn)
            cols = table_columns(conn, "messages")
            optional = [
                c
                for c in (
                    "attachments",
                    "shares",
                    "generic_admin_message_extensible_data",
                    "snippet",
                    "admin_text_thread_rtc_event",
                )
                if c in cols
            ]
            query = (
                "SELECT rowid, msg_id, thread_key, text, sender, timestamp_ms, msg_type"
                + "".join(f', "{c}"' for c in optional)
                + " FROM messages ORDER BY thread_key, timestamp_ms, rowid"
            )
            # rowid is the integer primary key when the table has one, else an internal number
            # that VACUUM may change: only the former is kept as the record id.
            has_int_key = _integer_key(conn, "messages") is not None
            current = None
            keys = DuplicateKeys([])
            guard = RecordGuard(ctx, file.logical)
            rows = itertools.chain(
                ((row, None) for row in conn.execute(query)),
                recovered_rows(file, ctx, optional),
            )
            for row, recovered in rows:
                rowid, msg_id, thread_key, text, sender_raw, ts, msg_type = row[:7]
                more = dict(zip(optional, row[7:], strict=True))
                locator = f"messages.msg_id={msg_id}"
                if recovered:
                    locator = f"messages (recovered: {recovered['source']})"
                with guard(locator):
                    ids = self._thread_ids(thread_key, members, uid)
                    if thread_key != current:
                        current = thread_key
                        names = [users.get(i, (None, {}))[0] or f"fb:{i}" for i in ids]
                        keys = DuplicateKeys(names)
                        conv = Conversation(
                            id=f"messenger:thread:{thread_key}",
                            title=None,
                            is_group=str(thread_key).startswith("GROUP") or len(ids) > 2,
                            participants=[
                                p for i in ids if (p := fb_party(i, users.get(i, (None, {}))[0]))
                            ],
                        )
                    sender_obj = _json(sender_raw) or {}
                    if sender_raw and not isinstance(sender_obj, dict):
                        ctx.warn(file.logical, "unreadable sender JSON", locator)
                        sender_obj = {}
                    sender_key = str(sender_obj.get("user_key") or "")
                    sender_id = (
                        sender_key.split(":", 1)[1] if ":" in sender_key else sender_key or None
                    )
                    sender_name = (
                        sender_obj.get("name") or users.get(sender_id or "", (None, {}))[0]
                    )
                    when = from_unix_ms(ts)
                    if when is None:
                        ctx.warn(file.logical, "message without a date", locator)
                    admin = _json(more.get("generic_admin_message_extensible_data"))
                    attachments = self._attachments(more.get("attachments"))
                    extra: dict[str, Any] = {"msg_id": msg_id, "msg_type": msg_type}
                    if admin is not None:
                        extra["admin_data"] = admin
                    shares = _json(more.get("shares"))
                    if shares:
                        extra["shares"] = shares
                    if reactions.get(msg_id):
                        extra["reactions"] = reactions[msg_id]
                    event = str(more.get("admin_text_thread_rtc_event") or "").replace("-", "_")
                    if not recovered and _is_call_row(msg_type, event, admin):
                        yield self._db2_call(
                            file,
                            rowid if has_int_key else None,
                            locator,
                            conv,
                            me,
                            uid,
                            sender_id,
                            sender_name,
                            ts,
                            msg_type,
                            event,
                            admin if isinstance(admin, dict) else {},
                            msg_id,
                        )
                        continue
                    if msg_type == -1:
                        kind = "other"
                        extra["note"] = (
                            "msg_type -1 (left out of chats by ALEAPP; meaning undocumented)"
                        )
                    elif isinstance(admin, dict) and "call_duration" in admin:
                        kind = "call"
                    elif admin is not None or event:
                        # An app notice, such as the group_call_started row of a group call.
                        kind = "system"
                    elif attachments:
                        kind = "media"
                    elif text:
                        kind = "text"
                    else:
                        kind = "other"
                    if msg_type not in (0, -1, 8, 9, 203):
                        ctx.warn(
                            file.logical,
                            "msg_type not publicly documented",
                            f"{locator}: {msg_type}",
                        )
                    if uid is not None and sender_id == uid:
                        direction, author = "outgoing", None
                    else:
                        author = fb_party(sender_id, sender_name) if sender_id else None
                        direction = "incoming" if uid is not None else "unknown"
                    if kind == "system":
                        direction = "system"
                    sender, recipients = sender_and_recipients(
                        direction, me, author, conv.participants, conv.is_group
                    )
                    if recovered:
                        extra["recovered"] = recovered
                    yield Message(
                        platform=PLATFORM,
                        conversation=conv,
                        timestamp_utc=when,
                        timestamp_raw=str(ts),
                        zone_assumed=False,
                        direction=direction,
                        sender=sender,
                        recipients=recipients,
                        body=text,
                        kind=kind,
                        source=self.provenance(file, locator),
                        attachments=attachments,
                        record_id=rowid if has_int_key else None,
                        id_space="messages" if has_int_key else None,
                        extra=extra,
                        duplicate_key=None
                        if recovered
                        else keys.key(
                            sender_name or f"fb:{sender_id}", when, text, len(attachments)
                        ),
                        recovered=bool(recovered),
                    )
            yield from _id_space(self, file, conn, "messages", ctx)

    def _db2_call(
        self,
        file: EvidenceFile,
        record_id: int | None,
        locator: str,
        conv: Conversation,
        me: Party,
        uid: str | None,
        sender_id: str | None,
        sender_name: str | None,
        ts: Any,
        msg_type: Any,
        event: str,
        admin: dict[str, Any],
        msg_id: Any,
    ) -> Call:
        """A call-ended row as the call: placed by ``caller_id`` (else the row's sender), ended
        at ``timestamp_ms``, so it started ``call_duration`` seconds earlier (sleuthkit/autopsy
        ``InternalPythonModules/android/fbmessenger.py`` ``analyzeCallLogs``; ALEAPP does the
        same sum); ``video`` from the admin data; a ``missed_call`` event was not connected."""
        caller_id = str(admin.get("caller_id") or sender_id or "") or None
        if uid is None or caller_id is None:
            direction: CallDirection = "unknown"
        else:
            direction = "outgoing" if caller_id == uid else "incoming"
        duration = admin.get("call_duration")
        if not isinstance(duration, int | float) or isinstance(duration, bool):
            duration = None
        ended = from_unix_ms(ts)
        started = ended - dt.timedelta(seconds=duration) if ended and duration else ended
        caller = None
        if direction != "outgoing" and caller_id is not None:
            caller = next(
                (p for p in conv.participants if p.id == f"fb:{caller_id}"),
                fb_party(caller_id, sender_name),
            )
        others = [p for p in conv.participants if p.id != me.id and p.id != f"fb:{uid}"]
        video = admin.get("video")
        extra: dict[str, Any] = {"msg_id": msg_id, "msg_type": msg_type, "admin_data": admin}
        if event:
            extra["rtc_event"] = event
        if ended is not None:
            extra["ended_utc"] = ended.isoformat()
        call = thread_call(
            direction=direction,
            caller=caller,
            others=others,
            is_group=conv.is_group,
            source=self.provenance(file, locator),
            timestamp_utc=started,
            timestamp_raw=str(ts),
            result=entry_result(direction, duration, event == "missed_call"),
            result_code=f"msg_type={msg_type}"
            + (f"; admin_text_thread_rtc_event={event}" if event else ""),
            conversation_id=conv.id,
            duration_s=duration,
            video=video if isinstance(video, bool) else None,
            app="com.facebook.orca",
            extra=extra,
        )
        # The row still takes its id in ``messages`` (its IdSpace lists every row).
        call.record_id = record_id
        return call

    @staticmethod
    def _users(conn: sqlite3.Connection) -> dict[str, tuple[str | None, dict[str, Any]]]:
        cols = table_columns(conn, "thread_users")
        wanted = [c for c in ("name", "first_name", "last_name", "username") if c in cols]
        out = {}
        query = "SELECT user_key" + "".join(f', "{c}"' for c in wanted) + " FROM thread_users"
        for row in conn.execute(query):
            data = dict(zip(wanted, row[1:], strict=True))
            key = str(row[0] or "")
            uid = key.split(":", 1)[1] if ":" in key else key
            name = data.get("name") or " ".join(
                x for x in (data.get("first_name"), data.get("last_name")) if x
            )
            out[uid] = (name or None, {k: v for k, v in data.items() if v})
        return out

    @staticmethod
    def _participants(conn: sqlite3.Connection) -> dict[str, list[str]]:
        if "user_key" not in table_columns(conn, "thread_participants"):
            return {}
        out: dict[str, list[str]] = {}
        for thread_key, user_key in conn.execute(
            "SELECT thread_key, user_key FROM thread_participants ORDER BY rowid"
        ):
            uid = str(user_key or "").split(":", 1)[-1]
            out.setdefault(str(thread_key), []).append(uid)
        return out

    @staticmethod
    def _thread_ids(thread_key: Any, members: dict[str, list[str]], uid: str | None) -> list[str]:
        key = str(thread_key)
        if key in members:
            return members[key]
        if key.startswith("ONE_TO_ONE:"):
            return [i for i in key.split(":")[1:] if i]
        return [uid] if uid else []

    @staticmethod
    def _reactions(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
        cols = table_columns(conn, "message_reactions")
        if not {"msg_id", "reaction"} <= cols:
            return {}
        actor = next((c for c in ("user_key", "reactor_key", "actor") if c in cols), None)
        out: dict[str, list[dict[str, Any]]] = {}
        query = f"SELECT msg_id, reaction{', ' + actor if actor else ''} FROM message_reactions"
        for row in conn.execute(query):
            item = {"reaction": row[1]}
            if actor:
                item["actor"] = row[2]
            out.setdefault(row[0], []).append(item)
        return out

    @staticmethod
    def _attachments(value: Any) -> list[Attachment]:
        items = _json(value)
        if not isinstance(items, list):
            return []
        out = []
        for item in items:
            if not isinstance(item, dict):
                continue
            out.append(
                Attachment(
                    name=item.get("filename"),
                    mime=item.get("mime_type"),
                    size=item.get("file_size") if isinstance(item.get("file_size"), int) else None,
                    note="media file not located: threads_db2 keeps metadata only",
                )
            )
        return out


class MessengerMsys(_AppBase):
    name = "messenger_msys"
    version = "2"
    description = "Facebook Messenger / Facebook app MSYS mailbox, msys_database_<uid>"
    required_tables = {
        "messages": {"message_id", "thread_key", "sender_id", "text", "timestamp_ms"},
        "contacts": {"id", "name"},
    }

    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        with file.sqlite() as conn:
            uid, owner = self._owner(file, ctx)
            contacts = yield from self._contacts(file, conn)
            me = self._me(ctx, owner, contacts.get(uid or ""))
            attachments = self._attachment_map(conn)
            reactions = self._reactions(conn)
            cols = table_columns(conn, "messages")
            optional = [c for c in ("is_admin_message", "primary_sort_key") if c in cols]
            senders: dict[str, set[str]] = {}
            for thread_key, sender_id in conn.execute(
                "SELECT DISTINCT thread_key, sender_id FROM messages"
            ):
                senders.setdefault(str(thread_key), set()).add(str(sender_id))
            query = (
                "SELECT rowid, message_id, thread_key, sender_id, text, timestamp_ms"
                + "".join(f', "{c}"' for c in optional)
                + " FROM messages ORDER BY thread_key, timestamp_ms, rowid"
            )
            has_int_key = _integer_key(conn, "messages") is not None
            current = None
            keys = DuplicateKeys([])
            conv = Conversation(id="")
            guard = RecordGuard(ctx, file.logical)
            for row in conn.execute(query):
                rowid, message_id, thread_key, sender_id, text, ts = row[:6]
                more = dict(zip(optional, row[6:], strict=True))
                locator = f"messages.message_id={message_id}"
                with guard(locator):
                    if thread_key != current:
                        current = thread_key
                        ids = sorted(
                            senders.get(str(thread_key), set()) | ({uid} if uid else set())
                        )
                        if str(thread_key) in contacts and str(thread_key) not in ids:
                            # A one-to-one thread is keyed by the other user's id (ALEAPP joins
                            # call_log.thread_key to contacts.id).
                            ids.append(str(thread_key))
                        keys = DuplicateKeys([contacts.get(i) or f"fb:{i}" for i in ids])
                        conv = Conversation(
                            id=f"messenger:thread:{thread_key}",
                            title=None,
                            is_group=len(ids) > 2,
                            participants=[p for i in ids if (p := fb_party(i, contacts.get(i)))],
                        )
                    sender_id = str(sender_id) if sender_id is not None else None
                    sender_name = contacts.get(sender_id or "")
                    when = from_unix_ms(ts)
                    if when is None:
                        ctx.warn(file.logical, "message without a date", locator)
                    files = attachments.get(message_id, [])
                    admin = bool(more.get("is_admin_message"))
                    kind = "system" if admin else "media" if files else "text" if text else "other"
                    if uid is not None and sender_id == uid:
                        direction, author = "outgoing", None
                    else:
                        author = fb_party(sender_id, sender_name)
                        direction = "incoming" if uid is not None else "unknown"
                    if admin:
                        direction = "system"
                    sender, recipients = sender_and_recipients(
                        direction, me, author, conv.participants, conv.is_group
                    )
                    extra: dict[str, Any] = {"message_id": message_id, **more}
                    if reactions.get(message_id):
                        extra["reactions"] = reactions[message_id]
                    yield Message(
                        platform=PLATFORM,
                        conversation=conv,
                        timestamp_utc=when,
                        timestamp_raw=str(ts),
                        zone_assumed=False,
                        direction=direction,
                        sender=sender,
                        recipients=recipients,
                        body=text,
                        kind=kind,
                        source=self.provenance(file, locator),
                        attachments=files,
                        record_id=rowid if has_int_key else None,
                        id_space="messages" if has_int_key else None,
                        order_key=more.get("primary_sort_key")
                        if isinstance(more.get("primary_sort_key"), int)
                        else None,
                        extra=extra,
                        duplicate_key=keys.key(
                            sender_name or f"fb:{sender_id}", when, text, len(files)
                        ),
                    )
            yield from self._calls(file, conn, ctx, contacts, me)
            yield from _id_space(self, file, conn, "messages", ctx)

    def _contacts(self, file: EvidenceFile, conn: sqlite3.Connection) -> Iterator[ContactEntry]:
        cols = table_columns(conn, "contacts")
        wanted = [
            c
            for c in (
                "username",
                "phone_number",
                "email_address",
                "is_messenger_user",
                "friendship_status",
            )
            if c in cols
        ]
        names: dict[str, str | None] = {}
        query = "SELECT id, name" + "".join(f', "{c}"' for c in wanted) + " FROM contacts"
        for row in conn.execute(query):
            cid, name = str(row[0]), row[1]
            data = dict(zip(wanted, row[2:], strict=True))
            names[cid] = name
            idents = [fb_party(cid, name)]
            if data.get("phone_number"):
                idents.append(party(str(data["phone_number"]), name=name, scheme="phone"))
            if data.get("email_address"):
                idents.append(party(str(data["email_address"]), name=name, scheme="email"))
            yield ContactEntry(
                name,
                [i for i in idents if i is not None],
                self.provenance(file, f"contacts.id={cid}"),
                {k: v for k, v in data.items() if v not in (None, "")},
            )
        return names

    @staticmethod
    def _attachment_map(conn: sqlite3.Connection) -> dict[Any, list[Attachment]]:
        cols = table_columns(conn, "attachments")
        if "message_id" not in cols:
            return {}
        wanted = [
            c
            for c in ("filename", "title_text", "playable_url_mime_type", "playable_url")
            if c in cols
        ]
        out: dict[Any, list[Attachment]] = {}
        query = "SELECT message_id" + "".join(f', "{c}"' for c in wanted) + " FROM attachments"
        for row in conn.execute(query + " ORDER BY rowid"):
            data = dict(zip(wanted, row[1:], strict=True))
            # Signed CDN URLs expire and differ between copies; kept in the note, not the name.
            note = "media file not located: the mailbox keeps metadata only"
            if data.get("playable_url"):
                note += f"; url {data['playable_url']}"
            out.setdefault(row[0], []).append(
                Attachment(
                    name=data.get("filename") or data.get("title_text"),
                    mime=data.get("playable_url_mime_type"),
                    note=note,
                )
            )
        return out

    @staticmethod
    def _reactions(conn: sqlite3.Connection) -> dict[Any, list[dict[str, Any]]]:
        cols = table_columns(conn, "reactions")
        if not {"message_id", "reaction"} <= cols:
            return {}
        actor = "actor_id" if "actor_id" in cols else None
        out: dict[Any, list[dict[str, Any]]] = {}
        query = f"SELECT message_id, reaction{', actor_id' if actor else ''} FROM reactions"
        for row in conn.execute(query):
            item = {"reaction": row[1]}
            if actor:
                item["actor"] = row[2]
            out.setdefault(row[0], []).append(item)
        return out

    def _calls(
        self,
        file: EvidenceFile,
        conn: sqlite3.Connection,
        ctx: ParseContext,
        contacts: dict[str, str | None],
        me: Party,
    ) -> Iterator[Call]:
        """``call_log`` rows as calls (``call_direction`` 1 out / 2 in, ``call_media_type`` 2
        video, ``call_duration`` s: abrignoni/ALEAPP ``scripts/artifacts/FacebookMessenger.py``).
        What ``has_been_seen`` means is not documented, so it is kept as a fact and the result
        comes from the duration only."""
        cols = table_columns(conn, "call_log")
        if not {"call_timestamp_ms", "thread_key"} <= cols:
            return
        wanted = [
            c
            for c in ("call_duration", "call_direction", "call_media_type", "has_been_seen")
            if c in cols
        ]
        query = (
            "SELECT rowid, call_timestamp_ms, thread_key"
            + "".join(f', "{c}"' for c in wanted)
            + " FROM call_log ORDER BY call_timestamp_ms, rowid"
        )
        for row in conn.execute(query):
            rowid, ts, thread_key = row[:3]
            data = dict(zip(wanted, row[3:], strict=True))
            other = fb_party(thread_key, contacts.get(str(thread_key)))
            code = data.get("call_direction")
            direction: CallDirection
            if code == 1:
                direction = "outgoing"
            elif code == 2:
                direction = "incoming"
            else:
                ctx.warn(file.logical, "unknown call_log.call_direction", f"rowid={rowid}: {code}")
                direction = "unknown"
            duration = data.get("call_duration")
            result: CallResult = "answered" if duration else "unknown"
            yield Call(
                network="messenger",
                timestamp_utc=from_unix_ms(ts),
                timestamp_raw=str(ts),
                direction=direction,
                result=result,
                source=self.provenance(file, f"call_log.rowid={rowid}"),
                duration_s=duration,
                counterpart=other,
                video=None if "call_media_type" not in data else data["call_media_type"] == 2,
                conversation_id=f"messenger:thread:{thread_key}",
                app="com.facebook.orca",
                result_code=f"call_direction={code}",
                extra=data,
            )
