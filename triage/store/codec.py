"""How model values become SQLite values and back, derived from the model's own field types.

A new scalar field on :class:`triage.model.Message` becomes a column of the same name with no
edit here: :data:`MESSAGE_SCALARS` is read from the dataclass, and each field's type annotation
picks its encoder (``datetime`` -> ISO 8601 UTC text, ``bool`` -> 0/1, the rest as is). Fields
that hold other records (conversation, parties, attachments, provenance, extra) are stored in
their own tables by :mod:`triage.store.messages`.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import orjson

from triage.model import Call, Message

_SORTED = orjson.OPT_SORT_KEYS
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON (deterministic; orjson, with the standard library as fallback
    for what orjson refuses, such as integers beyond 64 bits).

    Dicts whose keys are all text (nearly every one) are written without orjson's option for
    other keys, whose slower path gives the same text for them: a third less per message."""
    try:
        return orjson.dumps(value, option=_SORTED, default=str).decode()
    except TypeError:
        pass
    try:
        return orjson.dumps(value, option=_OPTIONS, default=str).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def dumps_each(values: list[Any]) -> list[str | None]:
    """:func:`dumps` of each of ``values``, ``None`` for an empty or missing one: the common
    case by one comprehension of orjson calls (a call of :func:`dumps` per value cost a sixth
    of what orjson itself does), the whole list by :func:`dumps` when orjson refuses one."""
    try:
        return [
            None if not value else orjson.dumps(value, option=_SORTED, default=str).decode()
            for value in values
        ]
    except TypeError:
        return [None if not value else dumps(value) for value in values]


def loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


# Message fields kept in tables of their own (see triage.store.messages).
MESSAGE_RECORD_FIELDS = ("conversation", "sender", "recipients", "attachments", "source", "extra")


def _base_type(annotation: Any) -> Any:
    """``datetime | None`` -> ``datetime``; a Literal -> ``str``."""
    if typing.get_origin(annotation) is typing.Literal:
        return str
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else str
    return annotation


def _utc_text(value: dt.datetime | None) -> str | None:
    """:func:`triage.model.iso_utc`, by ``isoformat`` (several times faster than strftime)."""
    if value is None:
        return None
    if value.utcoffset() != _ZERO:
        value = value.astimezone(dt.UTC)
    text = value.isoformat(timespec="seconds")[:19]
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


_ZERO = dt.timedelta(0)


def _from_utc_text(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _to_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _to_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _identity(value: Any) -> Any:
    return value


_ENCODERS: dict[Any, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = {
    dt.datetime: ("TEXT", _utc_text, _from_utc_text),
    bool: ("INTEGER", _to_int, _to_bool),
    int: ("INTEGER", _identity, _identity),
    float: ("REAL", _identity, _identity),
    str: ("TEXT", _identity, _identity),
}


def _scalars(
    cls: type = Message, record_fields: tuple[str, ...] = MESSAGE_RECORD_FIELDS
) -> list[tuple[str, str, Callable[[Any], Any], Callable[[Any], Any]]]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        if f.name in record_fields:
            continue
        sql_type, encode, decode = _ENCODERS.get(_base_type(hints[f.name]), _ENCODERS[str])
        out.append((f.name, sql_type, encode, decode))
    return out


# (column, SQL type, encoder, decoder) of every scalar Message field, in model order.
MESSAGE_SCALARS = _scalars()
MESSAGE_SCALAR_NAMES = tuple(name for name, *_ in MESSAGE_SCALARS)

# Call fields kept in tables of their own (see triage.store.calls), and the scalar columns of the
# rest, derived from :class:`triage.model.Call` the same way.
CALL_RECORD_FIELDS = ("counterpart", "participants", "source", "extra")
CALL_SCALARS = _scalars(Call, CALL_RECORD_FIELDS)
CALL_SCALAR_NAMES = tuple(name for name, *_ in CALL_SCALARS)


#: The scalar fields of a message stored as they are given, in column order: all but its time.
MESSAGE_RAW_NAMES = tuple(name for name in MESSAGE_SCALAR_NAMES if name != "timestamp_utc")


def raw_cell_source(name: str, value: str) -> str:
    """Python source of the column value of the scalar field ``name`` of
    :data:`MESSAGE_RAW_NAMES`, given the source ``value`` of the field's value: a bool goes to
    SQLite as the int 1 or 0 (what SQLite stores for it either way): the sqlite3 module binds an
    exact int directly, but looks a bool up as a value to adapt first, which cost a third of the
    insert at 300,000 messages; a field with an encoder of its own through it; any other value
    goes as it is. Used where a batch is prepared (:mod:`triage.store.message_cells`), so the
    store's process takes the values as they are."""
    encode = _RAW_ENCODE[name]
    if encode is _to_int:
        return f"(1 if (v := {value}) is True else 0 if v is False else v)"
    if encode is _identity:
        return value
    return f"_encode_{name}({value})"


_RAW_ENCODE = {name: encode for name, _, encode, _ in MESSAGE_SCALARS if name in MESSAGE_RAW_NAMES}
#: The encoders :func:`raw_cell_source` names, by the names it gives them.
RAW_CELL_ENCODERS = {
    f"_encode_{name}": encode
    for name, encode in _RAW_ENCODE.items()
    if encode is not _to_int and encode is not _identity
}


def _decoder_source(offset: int) -> str:
    """Source of a function turning one ``messages`` row into a Message, written out from the
    model's fields once (a generic loop costs more than the rest of reading a message)."""
    args = []
    for n, (name, _, _, decode) in enumerate(MESSAGE_SCALARS):
        value = f"row[{offset + n}]"
        if decode is _from_utc_text:
            value = f"(_dt({value}) if {value} else None)"
        elif decode is _to_bool:
            value = f"(None if {value} is None else {value} == 1)"
        args.append(f"{name}={value}")
    recipients = f"row[{offset + len(MESSAGE_SCALARS)}]"
    return f"""
def decode(row):
    recipients = {recipients}
    return Message(
        conversation=conversations[row[2]],
        sender=None if row[3] is None else parties[row[3]],
        recipients=[parties[int(p)] for p in recipients.split(",")] if recipients else [],
        source=Provenance(*files[row[4]], row[5]),
        attachments=attachments.get(row[0], []),
        extra=loads(row[6]) if row[6] else {{}},
        {", ".join(args)},
    )
"""


def message_decoder(
    offset: int,
    conversations: dict[int, Any],
    parties: dict[int, Any],
    files: dict[int, tuple[str, str, str]],
    attachments: dict[int, list[Any]],
) -> Callable[[tuple], Message]:
    """A decoder for rows laid out as (id, source_id, conversation_id, sender_party, file_id,
    locator, extra, *MESSAGE_SCALARS at ``offset``, recipients "id,id")."""
    from triage.model import Provenance

    namespace: dict[str, Any] = {
        "Message": Message,
        "Provenance": Provenance,
        "conversations": conversations,
        "parties": parties,
        "files": files,
        "attachments": attachments,
        "loads": loads,
        "_dt": dt.datetime.fromisoformat,
    }
    exec(_decoder_source(offset), namespace)  # noqa: S102 - our own generated code, no input
    return namespace["decode"]
