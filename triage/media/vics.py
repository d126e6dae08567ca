"""Streaming reader for Project VIC / VICS JSON hash sets.

The VICS data model is shared only with law enforcement and vendors; the shape read here is the
one reconstructed from open importers (sepinf-inc/IPED ``iped-engine/.../hashdb/HashDBTool.java``,
abrignoni/GLEAPP ``gleapp/projectvic.py``):

* root object; v1.x carries ``"odata.metadata": ".../DataModels/1.x.xml#Media"``, v2.0
  ``"@odata.context": ".../2.0.xml/<US|UK|CUSTOM|Default>/$metadata#Media"``;
* ``value``: an array of Media objects (``MediaID``, ``Category``, ``MD5``, ``SHA1``, ``MediaSize``,
  ``Series``, ``Tags``, ``MediaFiles``, PhotoDNA as ``PhotoDNA``/``PDNA`` or nested
  ``{HashName, HashValue}``...); a case export (``…#Cases``) nests them one level deeper as
  ``value[i].Media[j]``;
* flags may arrive as the strings ``"true"``/``"false"``; files may start with a UTF-8 BOM.

Sets run to gigabytes, so the file is never loaded whole: the structure around the media array is
walked here, and each Media object (a few KB) is decoded on its own with the C JSON decoder.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import IO, Any

READ_SIZE = 1 << 16
MAX_VALUE = 64 << 20  # one Media object larger than this is treated as a broken file


class VicsError(ValueError):
    """The stream is not VICS JSON (or is broken); the message says where."""


class _Reader:
    """A pull parser over a text or binary stream, holding only the current window in memory."""

    def __init__(self, stream: IO[Any]) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.consumed = 0  # characters dropped from the front of buf, for error positions
        self.json = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(READ_SIZE)
        if not chunk:
            self.eof = True
            self.buf += self.decoder.decode(b"", final=True)
            return False
        text = self.decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        if self.pos > READ_SIZE:
            self.consumed += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += text.lstrip("\ufeff") if self.consumed == 0 and not self.buf else text
        return True

    def peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        got = self.peek()
        if got != char:
            raise VicsError(f"expected {char!r} at character {self.where()}, found {got!r}")
        self.pos += 1

    def where(self) -> int:
        return self.consumed + self.pos

    def value(self) -> Any:
        """Decode one complete JSON value, reading more of the stream until it is whole."""
        self.peek()
        while True:
            try:
                value, end = self.json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof or len(self.buf) - self.pos > MAX_VALUE:
                    raise VicsError(f"invalid JSON at character {self.where()}: {exc.msg}") from exc
                self._fill()
                continue
            # A number at the very end of the window may continue in the next chunk.
            if end == len(self.buf) and not self.eof and self._fill():
                continue
            self.pos = end
            return value

    def object_items(self) -> Iterator[str]:
        """Keys of the object starting here; the caller consumes each value before the next."""
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise VicsError(f"object key expected at character {self.where()}")
            self.expect(":")
            yield key
            sep = self.peek()
            self.pos += 1
            if sep == "}":
                return
            if sep != ",":
                raise VicsError(f"expected ',' or '}}' at character {self.where() - 1}")

    def array_items(self) -> Iterator[None]:
        """Positions at each element of the array starting here; the caller consumes it."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield None
            sep = self.peek()
            self.pos += 1
            if sep == "]":
                return
            if sep != ",":
                raise VicsError(f"expected ',' or ']' at character {self.where() - 1}")


def iter_vics_media(stream: IO[Any], meta: dict[str, Any] | None = None) -> Iterator[dict]:
    """Yield each Media object of a VICS JSON stream (binary or text), one at a time.

    Top-level scalars (``odata.metadata``, ``@odata.context``...) are put into ``meta`` when a dict
    is given. Both hash sets (``value[*]``) and case exports (``value[*].Media[*]``) are read.
    """
    meta = meta if meta is not None else {}
    reader = _Reader(stream)
    if reader.peek() != "{":
        raise VicsError("not a VICS JSON file: it does not start with an object")
    found_value = False
    for key in reader.object_items():
        if key != "value":
            meta[key] = reader.value()
            continue
        found_value = True
        if reader.peek() != "[":
            raise VicsError("'value' is not an array")
        for _ in reader.array_items():
            if reader.peek() != "{":
                reader.value()
                continue
            yield from _media_or_case(reader)
    if not found_value:
        raise VicsError("not a VICS JSON file: no 'value' array")


def _media_or_case(reader: _Reader) -> Iterator[dict]:
    """One element of ``value``: a Media object, or a Case whose ``Media`` array is streamed."""
    item: dict[str, Any] = {}
    is_case = False
    for key in reader.object_items():
        if key == "Media" and reader.peek() == "[":
            is_case = True
            for _ in reader.array_items():
                media = reader.value()
                if isinstance(media, dict):
                    yield media
        else:
            item[key] = reader.value()
    if not is_case:
        yield item


def truthy(value: Any) -> bool | None:
    """VICS flags arrive as booleans or as the strings "true"/"false" (``bool("false")`` is True)."""
    if value is None:
        return None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no", ""):
            return False
        return None
    return bool(value)
