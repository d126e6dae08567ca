"""How the store keeps recipients: each distinct recipient list once, referenced by message.

A message's recipients are a list of party ids in position order (:mod:`triage.addressing`). A
one-to-one chat's messages share two lists (the owner, the counterpart) and a group's one list a
sender, so ``messages.recipient_list`` refers to a row of ``recipient_lists`` (the ids as
"id,id") whose parties ``recipient_list_parties`` also lists one row each, for SQL that looks a
party up. The view ``recipients`` gives the rows a message a recipient as before. Stored per
message per recipient, a 200-member group of 30,000 messages made 6.2 million rows.
"""

from __future__ import annotations

#: A message row ``m``'s recipient party ids in position order, "id,id" (NULL for none).
RECIPIENT_IDS = "(SELECT l.parties FROM recipient_lists l WHERE l.id = m.recipient_list)"
