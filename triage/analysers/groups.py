"""Group participation: who wrote, shared, replied and read in each group conversation.

For every group conversation, per member (the subject for his own rows): messages written,
media shared by type (from the attachment's MIME type), replies to another member's post (a
quoted message the source names, WhatsApp ``message_quoted``), reactions to another member's
post (WhatsApp ``message_add_on_reaction``; a reaction taken back is not counted), first and last row they wrote,
membership events from system rows (WhatsApp ``message_system.action_type`` with the members a
notice is about), and delivery and read receipts where the source keeps them (WhatsApp
``receipt_user``). Members are matched to case contacts and to the case file's ``people:``
(colleagues). Media posted in the group are listed with who posted them and any exhibit the
media analyser matched to that message. Receipts say a member's phone received or showed a
message; they are not proof that the person read it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.media import exhibit_matches
from triage.analysers.parties import ContactIndex, plural
from triage.casefile import Case
from triage.model import Party
from triage.store import Finding, Store

SUBJECT = "subject"
# message_system.action_type (fixtures/whatsapp_db/README.md; sepinf-inc/IPED
# ExtractorAndroidNew.java, KnugiHK android_handler.py). The tools disagree on some codes, so
# the raw code is kept beside each label.
ACTIONS = {
    4: "added",
    12: "added",
    5: "left",
    13: "left",
    7: "removed",
    14: "removed",
    15: "made admin",
    16: "admin removed",
}


def media_type(mime: str) -> str:
    head = mime.split("/", 1)[0] if mime else ""
    return head if head in ("image", "video", "audio") else "other"


def copies_sentence(copies: dict[str, Any], case: Case) -> str:
    """What a conversation holds as copies of messages counted on another device
    (:meth:`triage.store.Store.conversation_copies`), in one sentence."""

    def label(key: str | None) -> str:
        device = case.device(key)
        return device.label if device is not None else key or "another device"

    held = " and ".join(label(d) for d in copies["devices"])
    where = "; ".join(
        f"{plural(k['copies'], 'message')} on {label(k['device'])}" for k in copies["kept_in"]
    )
    n = copies["copies"]
    return (
        f"{plural(n, 'message')} held here on {held}"
        f" {'is a copy of a message' if n == 1 else 'are copies of messages'} counted once,"
        f" where the first copy was read ({where}): the conversation"
        " is present on both devices, and these copies are not counted again."
    )


class GroupsAnalyser(Analyser):
    name = "groups"
    version = "1"
    beside = True

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        parties = store.parties()
        contacts = ContactIndex(case)
        people = ContactIndex(dataclasses.replace(case, contacts=case.people))
        # The exhibits the media analyser matches to each message (its ``exhibit.match``).
        exhibits_of: dict[int, list[str]] = {}
        for match, _, messages in exhibit_matches(store):
            for m in messages:
                exhibits_of.setdefault(m.id, []).append(match["exhibit_id"] or "")
        findings: list[Finding] = []
        labels: list[tuple[int, str, Any]] = []
        # The same group on two of his phones: messages of this copy counted in the other's.
        copied = store.conversation_copies()
        for key, platform, title, listed in store.group_conversations():
            members: dict[str, dict[str, Any]] = {}

            def member(
                p: Party | None,
                outgoing: bool = False,
                members: dict[str, dict[str, Any]] = members,
            ) -> dict[str, Any]:
                if outgoing or (p is not None and p.id in contacts.owner_ids):
                    mkey, shown = SUBJECT, case.subject_name or "the subject"
                    p = None
                elif p is None:
                    mkey, shown = "unknown", "unknown member"
                else:
                    mkey, shown = p.id or p.raw, p.name or p.raw
                if mkey not in members:
                    contact = contacts.contacts_for(p)
                    person = people.contacts_for(p)
                    members[mkey] = {
                        "member": mkey,
                        "name": person[0].name if person else contact[0].name if contact else shown,
                        "party": {"raw": p.raw, "id": p.id, "name": p.name} if p else None,
                        "is_subject": mkey == SUBJECT,
                        "contact_key": contact[0].key if contact else None,
                        "person_key": person[0].key if person else None,
                        "person_role": person[0].role if person else None,
                        "listed_member": False,
                        "messages": 0,
                        "media": {},
                        "replies_to_others": 0,
                        "reactions_to_others": 0,
                        "first_utc": None,
                        "last_utc": None,
                        "delivered": 0,
                        "read": 0,
                        "last_read_utc": None,
                        "events": [],
                    }
                return members[mkey]

            def by_ref(ref: dict[str, Any] | None) -> dict[str, Any]:
                if not ref:
                    return member(None)
                return member(Party(ref["raw"], ref.get("id"), None, "phone"))

            member(None, outgoing=True)
            for pid in listed:
                member(parties[pid])["listed_member"] = True
            events: list[dict[str, Any]] = []
            media: list[dict[str, Any]] = []
            ids: list[int] = []
            for row in store.group_activity(key):
                ids.append(row["id"])
                sender = parties.get(row["sender"]) if row["sender"] is not None else None
                author = member(sender, outgoing=row["direction"] == "outgoing")
                labels.append((row["id"], "member", author["member"]))
                when = row["timestamp_utc"]
                if when:
                    author["first_utc"] = min(filter(None, [author["first_utc"], when]))
                    author["last_utc"] = max(filter(None, [author["last_utc"], when]))
                extra = row["extra"]
                if row["direction"] == "system" or row["kind"] == "system":
                    code = extra.get("action_type")
                    if code is None:
                        continue
                    for ref in extra.get("system_participants") or [None]:
                        about = by_ref(ref) if ref else author
                        event = {
                            "event": ACTIONS.get(code, "other"),
                            "action_type": code,
                            "member": about["member"],
                            "by": author["member"],
                            "timestamp_utc": when,
                            "message_id": row["id"],
                        }
                        events.append(event)
                        about["events"].append(event)
                    continue
                author["messages"] += 1
                for mime in row["mimes"] or ([""] if row["kind"] == "media" else []):
                    kind = media_type(mime)
                    author["media"][kind] = author["media"].get(kind, 0) + 1
                    media.append(
                        {
                            "message_id": row["id"],
                            "member": author["member"],
                            "type": kind,
                            "mime": mime or None,
                            "timestamp_utc": when,
                            "exhibits": sorted(set(exhibits_of.get(row["id"], []))),
                        }
                    )
                quoted = extra.get("quoted")
                if quoted:
                    target = (
                        member(None, True)
                        if quoted.get("from_me")
                        else by_ref(quoted.get("sender"))
                    )
                    if target is not author:
                        author["replies_to_others"] += 1
                # A reaction sits on the message reacted to; it counts for whoever reacted.
                for reaction in extra.get("reactions") or []:
                    reactor = (
                        member(None, True)
                        if reaction.get("from_me")
                        else by_ref(reaction.get("party"))
                    )
                    if reaction.get("emoji") and reactor is not author:
                        reactor["reactions_to_others"] += 1
                for receipt in extra.get("receipts") or []:
                    reader = by_ref(receipt.get("party"))
                    if receipt.get("delivered_utc"):
                        reader["delivered"] += 1
                    if receipt.get("read_utc"):
                        reader["read"] += 1
                        reader["last_read_utc"] = max(
                            filter(None, [reader["last_read_utc"], receipt["read_utc"]])
                        )
            table = list(members.values())
            writers = sum(1 for m in table if m["messages"])
            readers_only = [
                m["name"] for m in table if not m["messages"] and (m["read"] or m["delivered"])
            ]
            why = (
                f"Group conversation {title or key} ({platform}): "
                f"{plural(len(table), 'member')} seen, {writers:,} of them wrote messages, "
                f"{plural(len(media), 'media item')} "
                f"{'was' if len(media) == 1 else 'were'} posted and "
                f"{plural(len(events), 'membership event')} recorded."
            )
            if readers_only:
                why += (
                    " Receipts show messages reached "
                    + ", ".join(readers_only)
                    + " who wrote none (a receipt says the phone received or showed a message)."
                )
            copies = copied.get(key)
            if copies:
                why += " " + copies_sentence(copies, case)
            findings.append(
                Finding(
                    analyser=self.name,
                    rule="group.participation",
                    subject=key,
                    title=f"Group participation: {title or key}",
                    why=why,
                    weight=0.5 if any(m["person_key"] or m["contact_key"] for m in table) else 0.2,
                    data={
                        "conversation": key,
                        "title": title,
                        "platform": platform,
                        "members": table,
                        "events": events,
                        "media": media,
                        **({"copies": copies} if copies else {}),
                    },
                    refs=ids,
                )
            )
        store.add_labels(self.name, labels)
        return findings
