"""How the report names people, numbers and conversations: one rule for every page.

* **Numbers** are shown as formatted phone numbers (``+44 7700 900999``) whatever form the
  source held them in (a WhatsApp JID ``447700900999@s.whatsapp.net``, ``07700900222``); what
  the source held is kept under "provenance" beside the message.
* **People** are named by the case file when they are a case contact or the device owner, with
  the name or number the source gives in brackets when it differs ("Female A (Katie DV job)").
* **Conversations**: a group by its group name (the source's title), the WhatsApp Status
  updates as "Status updates", any other conversation by the people in it other than the device
  owner. A message sent to a group is addressed to the group, not to its members one by one.

The case store already holds the facts (``Conversation.is_group`` and title, a message's
``status_update``); this module only words them.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from triage.casefile import Case
from triage.identity import normalise_name
from triage.model import Message, Party

STATUS_TITLE = "Status updates"
OWNER_ID = "owner"


def phone_text(ident: str | None) -> str | None:
    """A normalised phone id (``+447700900999``) as people write it (``+44 7700 900999``);
    ``None`` for anything that is not one."""
    if not ident or not ident.startswith("+") or not ident[1:].isdigit():
        return None
    try:
        number = phonenumbers.parse(ident, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def found_text(
    name: str | None, raw: str | None, ident: str | None, scheme: str | None = None
) -> str | None:
    """What a party is called in the source, for reading: its name, else its number formatted,
    else what the source held."""
    if name:
        return name
    if scheme in (None, "phone"):
        formatted = phone_text(ident)
        if formatted:
            return formatted
    return raw or ident or None


def found_of(entry: dict[str, Any] | None) -> str | None:
    """:func:`found_text` of a party written into a finding as ``{raw, id, name[, scheme]}``."""
    if not entry:
        return None
    return found_text(entry.get("name"), entry.get("raw"), entry.get("id"), entry.get("scheme"))


class Namer:
    """The names of one case: case contacts and the device owner by their normalised ids."""

    def __init__(self, case: Case) -> None:
        self.owner_name = case.subject_name or "device owner"
        self.known: dict[str, str] = {}
        for contact in case.contacts:
            for ident in contact.match_ids():
                self.known.setdefault(ident, contact.name)
        self.owner_ids = {p.id for p in case.owner_parties() if p.id}
        # A download names the owner by display name (a name-scheme party, id the normalised
        # name), so his names identify him too.
        self.owner_ids.update(normalise_name(n) for n in case.owner_names() if n)
        self.owner_ids.add(OWNER_ID)
        for ident in self.owner_ids:
            self.known[ident] = self.owner_name

    def is_owner(self, p: Party | None) -> bool:
        return p is not None and p.id in self.owner_ids

    def found(self, p: Party) -> str:
        return found_text(p.name, p.raw, p.id, p.scheme) or "unknown"

    def full(self, p: Party | None) -> str:
        """The case name with what the source calls the party, when they differ."""
        if p is None:
            return "unknown"
        known = self.known.get(p.id or "")
        shown = self.found(p)
        if known and known != shown:
            return known if p.id == OWNER_ID else f"{known} ({shown})"
        return shown

    def short(self, p: Party | None) -> str:
        """The name a chat bubble shows: the case name when known, else the party as found."""
        if p is None:
            return "unknown"
        return self.known.get(p.id or "") or self.found(p)

    def conversation(self, conv: dict[str, Any]) -> str:
        """The title of a conversation summary (``Store.conversation_summaries`` row)."""
        if conv.get("status_updates") and conv["status_updates"] == conv.get("messages"):
            return STATUS_TITLE
        if conv.get("is_group") and conv.get("title"):
            return str(conv["title"])
        people = [self.full(p) for p in conv.get("participants") or [] if not self.is_owner(p)]
        return ", ".join(dict.fromkeys(people)) or conv.get("title") or conv.get("key") or ""

    def addressed_to(self, m: Message, title: str) -> str:
        """Whom a message went to, as a chat bubble says it: the group by its name, a Status
        update to the poster's contacts, else the recipients by name."""
        if m.status_update:
            return STATUS_TITLE
        if m.conversation.is_group:
            return f"the group {title}"
        return ", ".join(self.short(p) for p in m.recipients)
