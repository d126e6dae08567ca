"""Messages kept from the conversation pass for the pages written after it.

The conversation pages decode every message of the case once. The contact pages, the filtered
views and the groups page list some of those again; their ids are known from the findings before
the pass starts, so only those messages are kept as the pass decodes them (and, for the lexicon
hits the groups page quotes, only the body). The whole case is never held.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable

from triage.store import PageMessage, Store

_ID = operator.itemgetter(0)  # a PageMessage's id


def _time_order(m: PageMessage) -> tuple[bool, str, int]:
    # The order Store.page_messages_by_ids gives: undated last, then UTC time, then store id.
    return (m.utc is None, m.utc or "", m.id)


class Held:
    """The messages with ``wanted`` ids and the bodies of ``quoted`` ids, as the pass meets them."""

    def __init__(self, wanted: set[int], quoted: set[int]) -> None:
        self.wanted = wanted
        self.quoted = quoted
        self.kept: dict[int, PageMessage] = {}
        self.quotes: dict[int, str] = {}

    def keep(self, chunk: list[PageMessage]) -> None:
        """Keep what later pages want of one page's messages. Most pages hold none of them, so
        the page's ids are first looked up by C loops (``set.intersection``); a loop in Python
        over every message was a twentieth of the conversation pages' CPU time."""
        wanted = self.wanted.intersection(map(_ID, chunk)) if self.wanted else ()
        quoted = self.quoted.intersection(map(_ID, chunk)) if self.quoted else ()
        if not wanted and not quoted:
            return
        for stored in chunk:
            if stored.id in wanted:
                self.kept[stored.id] = stored
            if stored.id in quoted:
                self.quotes[stored.id] = stored.body or ""

    def messages(self, store: Store, ids: Iterable[int]) -> list[PageMessage]:
        """These messages in time order; any the pass did not meet are read from the store."""
        wanted = set(ids)
        out = [self.kept[i] for i in wanted if i in self.kept]
        missing = [i for i in wanted if i not in self.kept]
        if missing:
            out.extend(store.page_messages_by_ids(missing))
        out.sort(key=_time_order)
        return out

    def bodies(self, store: Store, ids: Iterable[int]) -> dict[int, str]:
        """Message id -> body ("" for none) of these messages, as the store holds them."""
        wanted = set(ids)
        out = {i: self.quotes[i] for i in wanted if i in self.quotes}
        missing = [i for i in wanted if i not in self.quotes]
        if missing:
            out.update((m.id, m.body or "") for m in store.page_messages_by_ids(missing))
        return out
