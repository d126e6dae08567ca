"""Messages and calls as JSON lines, written fast: the stable schema of
:func:`triage.model.message_to_json` and :func:`triage.model.call_to_json`.

``triage parse`` writes hundreds of thousands of lines; with the standard library's encoder the
writing took longer than the parsing. Lines are encoded with ``orjson`` (compact separators: the
same values and key order as ``json.dumps``, without the spaces after ``,`` and ``:``), each
conversation is encoded once and reused as a pre-encoded fragment, and lines go out in batches.
A record ``orjson`` refuses (a lone surrogate, an integer beyond 64 bits) falls back to the
standard encoder with ASCII escapes, so every line is still valid JSON and nothing is dropped;
values JSON has no type for are written by :func:`triage.model.json_evidence_value` either way.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

import orjson

from triage.model import (
    Call,
    Conversation,
    Message,
    call_to_json,
    conversation_to_json,
    json_evidence_value,
    message_to_json,
)

BATCH = 1024
#: Conversations remembered; a source rarely has more, and the cache then restarts.
MAX_CONVERSATIONS = 4096


# Datetimes and dataclasses go through json_evidence_value, as with the standard encoder.
_OPTIONS = (
    orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def encode_line(record: dict[str, Any]) -> bytes:
    """One JSON line (with its newline) for a record in the JSONL schema, whatever the source
    put in its fields (BLOBs as ``base64:``, see :func:`triage.model.json_evidence_value`)."""
    try:
        return orjson.dumps(record, default=json_evidence_value, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(
            _plain(record), default=json_evidence_value, separators=(",", ":"), ensure_ascii=True
        )
        return text.encode("ascii") + b"\n"


def _plain(value: Any) -> Any:
    """``value`` with pre-encoded fragments decoded again, for the standard encoder."""
    if isinstance(value, orjson.Fragment):
        return json.loads(value.contents)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class JsonlWriter:
    """Write messages to a binary stream, one JSON object per line."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lines: list[bytes] = []
        # id -> (the conversation, kept alive so its id is not reused; its encoded form)
        self._conversations: dict[int, tuple[Conversation, orjson.Fragment]] = {}

    def _conversation(self, conv: Conversation) -> orjson.Fragment | dict[str, Any]:
        found = self._conversations.get(id(conv))
        if found is not None and found[0] is conv:
            return found[1]
        form = conversation_to_json(conv)
        try:
            fragment = orjson.Fragment(orjson.dumps(form))
        except (TypeError, orjson.JSONEncodeError):
            return form
        if len(self._conversations) >= MAX_CONVERSATIONS:
            self._conversations.clear()
        self._conversations[id(conv)] = (conv, fragment)
        return fragment

    def write(self, msg: Message) -> None:
        self.lines.append(encode_line(message_to_json(msg, self._conversation(msg.conversation))))
        if len(self.lines) >= BATCH:
            self.flush()

    def write_call(self, call: Call) -> None:
        self.lines.append(encode_line(call_to_json(call)))
        if len(self.lines) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.stream.write(b"".join(self.lines))
            self.lines.clear()
        self.stream.flush()
