"""What a conversation page says of the copies it holds of messages counted on another of the
subject's devices (:meth:`triage.store.Store.conversation_copies`): the same group or SMS thread
is present on both phones, and each message is counted once, where its first copy was read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def copies_held(
    copies: dict[str, dict[str, Any]],
    meta: dict[str, Any],
    title_of: Callable[[str], str],
    href_of: Callable[[str], str],
) -> dict[str, dict[str, Any]]:
    """Conversation key -> {``copies``, ``devices`` (labels, joined), ``kept_in`` [{``title``,
    ``device`` (label), ``copies``, ``href``}]} for the page of each conversation holding copies."""
    labels = {d["key"]: d["label"] for d in meta.get("devices") or []}
    return {
        key: {
            "copies": entry["copies"],
            "devices": " and ".join(labels.get(d, d or "?") for d in entry["devices"]),
            "kept_in": [
                {
                    "title": title_of(k["key"]),
                    "device": labels.get(k["device"], k["device"] or "?"),
                    "copies": k["copies"],
                    "href": href_of(k["key"]),
                }
                for k in entry["kept_in"]
            ],
        }
        for key, entry in copies.items()
    }
