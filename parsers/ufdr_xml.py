"""Streaming reader of a Cellebrite UFDR ``report.xml``: its tagged files and decoded models.

This module defines no parser (``parsers/ufdr_report.py`` maps what it yields to records). A
``report.xml`` can be hundreds of megabytes, so it is read with ``defusedxml``'s ``iterparse``
and every element is dropped from the tree as soon as it has been turned into a small
:class:`UModel`; memory stays bounded by the largest single model, not by the file.

Structure read (``project`` root, Cellebrite namespace stripped), as documented by the public
readers onbernard/ufdr-rs ``src/models/*.rs`` and sepinf-inc/IPED
``iped-engine/src/main/java/iped/engine/datasource/UfedXmlReader.java``:

* ``sourceExtractions/extractionInfo`` (id, name, type);
* ``metadata/item`` (``DeviceInfoTimeZone`` and the other Device Info items);
* ``taggedFiles/file`` (``id``, original ``path``, ``deleted``) with ``metadata/item`` named
  ``Local Path`` (the file's place inside the UFDR, backslash separated), ``MD5``, ``SHA256``;
* ``decodedData/modelType/model``: ``field`` (a ``value`` or ``empty``), ``multiField`` (a list of
  values), ``modelField``/``multiModelField`` (nested models), ``jumptargets/targetid``.

Chats are streamed too: each ``InstantMessage`` of a Chat's ``Messages`` field is handed over as
soon as it ends, with the chat's header (fields and ``Participants``) read so far.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass(slots=True)
class UModel:
    """One decoded ``model`` element, reduced to what the records need."""

    type: str
    id: str | None
    attrs: dict[str, str]
    fields: dict[str, str | None] = field(default_factory=dict)
    multi: dict[str, list[str]] = field(default_factory=dict)
    models: dict[str, list[UModel]] = field(default_factory=dict)
    jumptargets: list[tuple[str, bool]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if value not in (None, "") else None

    def children(self, name: str) -> list[UModel]:
        return self.models.get(name, [])

    @property
    def deleted_state(self) -> str | None:
        return self.attrs.get("deleted_state")

    @property
    def is_deleted(self) -> bool:
        # IPED BaseModel.isDeleted(): Deleted and Trash mean deleted.
        return (self.deleted_state or "").lower() in ("deleted", "trash")


@dataclass(slots=True)
class TaggedFile:
    """A ``taggedFiles/file``: where the UFDR keeps it, where it was on the phone, its digests."""

    id: str
    local_path: str | None
    path: str | None
    md5: str | None
    sha256: str | None
    deleted: str | None


@dataclass(slots=True)
class ChatHeader:
    """What is known of a Chat when one of its messages is handed over."""

    model: UModel

    @property
    def participants(self) -> list[UModel]:
        return self.model.children("Participants")


@dataclass(slots=True)
class Event:
    """One thing read from ``report.xml``: a model, a chat message, a tagged file, or metadata."""

    kind: str  # "model" | "chat_message" | "tagged_file" | "metadata" | "extraction"
    model: UModel | None = None
    chat: ChatHeader | None = None
    tagged: TaggedFile | None = None
    name: str | None = None
    value: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)


def _value_text(elem: Element) -> str | None:
    """The text of a ``field``: its ``value`` child (Base64String decoded), ``None`` for ``empty``."""
    for child in elem:
        tag = local_name(child.tag)
        if tag == "empty":
            return None
        if tag == "value":
            text = child.text or ""
            if child.get("format") == "Base64String":
                try:
                    return base64.b64decode(text).decode("utf-8", errors="replace")
                except (binascii.Error, ValueError):
                    return text
            return text
    text = (elem.text or "").strip()
    return text or None


def to_model(elem: Element) -> UModel:
    """Convert a ``model`` element (already complete) and its nested models."""
    attrs = dict(elem.attrib)
    model = UModel(type=attrs.get("type", ""), id=attrs.get("id"), attrs=attrs)
    for child in elem:
        tag = local_name(child.tag)
        name = child.get("name", "")
        if tag == "field" or tag == "nodeField":
            model.fields[name] = _value_text(child)
        elif tag == "multiField":
            model.multi[name] = [
                v.text or "" for v in child if local_name(v.tag) == "value" and v.text is not None
            ]
        elif tag in ("modelField", "multiModelField"):
            model.models.setdefault(name, []).extend(
                to_model(m) for m in child if local_name(m.tag) == "model"
            )
        elif tag == "jumptargets":
            for target in child:
                if target.text:
                    model.jumptargets.append(
                        (target.text.strip(), target.get("isModel", "").lower() == "true")
                    )
        elif tag == "dataField":
            model.fields.setdefault(name, None)
    return model


def _tagged(elem: Element) -> TaggedFile:
    items: dict[str, str] = {}
    for child in elem:
        if local_name(child.tag) != "metadata":
            continue
        for item in child:
            if local_name(item.tag) == "item" and item.get("name"):
                items[item.get("name", "")] = (item.text or "").strip()
    return TaggedFile(
        id=elem.get("id", ""),
        local_path=items.get("Local Path") or None,
        path=elem.get("path"),
        md5=(items.get("MD5") or "").lower() or None,
        sha256=(items.get("SHA256") or items.get("SHA-256") or "").lower() or None,
        deleted=elem.get("deleted"),
    )


class _Chat:
    """A Chat being streamed: its element, and messages held back until its header is known."""

    def __init__(self, elem: Element) -> None:
        self.elem = elem
        self.header_ready = False
        self.held: list[UModel] = []
        self._header: ChatHeader | None = None

    def streamed_header(self) -> ChatHeader:
        """The header as it stood when Participants ended, read once for all messages."""
        if self._header is None:
            self._header = self.header()
        return self._header

    def header(self) -> ChatHeader:
        # Only the chat's own fields and Participants: its Messages were handed over one by one.
        shell = Element(self.elem.tag, self.elem.attrib)
        for child in self.elem:
            if child.get("name") != "Messages":
                shell.append(child)
        return ChatHeader(to_model(shell))


def read_report(stream: BinaryIO) -> Iterator[Event]:
    """Every event of ``report.xml`` in document order, dropping each element once read."""
    stack: list[Element] = []
    chat: _Chat | None = None
    for event, elem in iterparse(stream, events=("start", "end")):
        if event == "start":
            stack.append(elem)
            if (
                chat is None
                and local_name(elem.tag) == "model"
                and elem.get("type") == "Chat"
                and len(stack) >= 2
                and local_name(stack[-2].tag) == "modelType"
            ):
                chat = _Chat(elem)
            continue
        stack.pop()
        tag = local_name(elem.tag)
        parent = stack[-1] if stack else None
        parent_tag = local_name(parent.tag) if parent is not None else ""
        if tag == "model":
            if parent_tag == "modelType":
                if chat is not None and elem is chat.elem:
                    header = chat.header()
                    for held in chat.held:
                        yield Event("chat_message", model=held, chat=header)
                    yield Event("model", model=header.model)
                    chat = None
                else:
                    yield Event("model", model=to_model(elem))
                parent.remove(elem)  # type: ignore[union-attr]
            elif (
                chat is not None
                and parent is not None
                and parent_tag == "multiModelField"
                and parent.get("name") == "Messages"
                and len(stack) >= 2
                and stack[-2] is chat.elem
            ):
                message = to_model(elem)
                parent.remove(elem)
                if chat.header_ready:
                    yield Event("chat_message", model=message, chat=chat.streamed_header())
                else:
                    chat.held.append(message)
        elif (
            chat is not None
            and tag == "multiModelField"
            and elem.get("name") == "Participants"
            and parent is chat.elem
        ):
            chat.header_ready = True
            if chat.held:
                header = chat.streamed_header()
                for held in chat.held:
                    yield Event("chat_message", model=held, chat=header)
                chat.held = []
        elif tag == "file" and parent_tag == "taggedFiles":
            yield Event("tagged_file", tagged=_tagged(elem))
            parent.remove(elem)  # type: ignore[union-attr]
        elif tag == "item" and parent_tag == "metadata" and len(stack) == 2:
            yield Event(
                "metadata",
                name=elem.get("name"),
                value=(elem.text or "").strip() or None,
                attrs={"section": parent.get("section", "")},  # type: ignore[union-attr]
            )
            parent.remove(elem)  # type: ignore[union-attr]
        elif tag == "extractionInfo":
            yield Event("extraction", attrs=dict(elem.attrib))
        elif tag in ("metadata", "taggedFiles", "modelType", "decodedData") and len(stack) == 1:
            elem.clear()
            stack[0].remove(elem)
