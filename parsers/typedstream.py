"""Read the plain text out of an iOS/macOS ``message.attributedBody`` (NSArchiver typedstream).

Since iOS 16 / macOS Ventura, ``sms.db``/``chat.db`` often leave ``message.text`` NULL and keep
the body only in ``attributedBody``: an ``NSAttributedString`` serialised by the legacy
``NSArchiver`` ("typedstream", little-endian signature ``streamtyped``). This module is a small
structural reader of exactly the part we need, the first ``NSString`` inside that object; it is
not a general unarchiver and adds no dependency.

Byte layout relied on (tags and integer encoding from dgelessus/python-typedstream
``src/typedstream/stream.py``, which took them from NeXT's ``typedstream.h``; the overall shape
matches the sample in ReagentX/imessage-exporter ``imessage-database/src/util/streamtyped.rs``)::

    04                      streamer version 4 (integer, see below)
    0B "streamtyped"        signature: unshared string; "streamtyped" = little-endian
    81 E8 03                system version 1000 (0x81 = 2-byte integer follows)
    84 01 "@"               a typed-value group; its type encoding "@" (object) is a *new shared
                            string* (0x84 = NEW, then length + bytes); later uses are references
    84                      NEW object
      84 84 12 "NSAttributedString" 00    its class: NEW class, name (shared string), version
      84 84 08 "NSObject" 00              superclass chain ...
      85                                  ... ended by NIL (or by a reference to a known class)
      92                    first content group: encoding "@" again, as reference 0x92 = #0
      84                    NEW object
        84 84 08 "NSString" 01            class NSString v1
        94                                superclass: reference to an already-seen class
        84 01 "+"           group with encoding "+" (unshared byte string)
        <len> <UTF-8 bytes> the text; <len> is an integer: one signed byte, or 0x81 + int16 LE,
                            or 0x82 + int32 LE
      86                    END of the NSString object
      ...                   attribute runs ("iI" ranges, NSDictionary of attributes), ignored

Tag bytes (signed): -127/0x81 int16 follows, -126/0x82 int32 follows, -125/0x83 float follows,
-124/0x84 NEW, -123/0x85 NIL, -122/0x86 END OF OBJECT; -128..-111 are reserved for tags and the
first reference number is -110 (0x92), so a single-byte reference ``r`` means index ``r - 0x92``.
Shared strings (type encodings, class names) and objects/classes have separate reference tables;
this reader only needs to know that a reference is not a NEW value.
"""

from __future__ import annotations

import struct

TAG_INT2 = 0x81
TAG_INT4 = 0x82
TAG_FLOAT = 0x83
TAG_NEW = 0x84
TAG_NIL = 0x85
TAG_END = 0x86
FIRST_TAG = 0x80
LAST_TAG = 0x91  # -111 as an unsigned byte

#: Classes whose first archived value is the plain string we want.
STRING_OWNERS = frozenset({b"NSAttributedString", b"NSMutableAttributedString"})
STRING_CLASSES = frozenset({b"NSString", b"NSMutableString"})


class TypedStreamError(ValueError):
    """The bytes are not a typedstream holding an attributed string we can read."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.little = True

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise TypedStreamError(f"unexpected end of data at offset {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise TypedStreamError(f"length {count} at offset {self.pos} runs past the end")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def integer(self, head: int | None = None) -> int:
        head = self.byte() if head is None else head
        order = "<" if self.little else ">"
        if head == TAG_INT2:
            return struct.unpack(order + "h", self.take(2))[0]
        if head == TAG_INT4:
            return struct.unpack(order + "i", self.take(4))[0]
        if FIRST_TAG <= head <= LAST_TAG:
            raise TypedStreamError(f"tag 0x{head:02x} where an integer was expected")
        return head - 256 if head > 127 else head

    def unshared_string(self, head: int | None = None) -> bytes | None:
        head = self.byte() if head is None else head
        if head == TAG_NIL:
            return None
        length = self.integer(head)
        return self.take(length)

    def shared_string(self) -> bytes | None:
        """A NEW shared string's bytes; ``None`` for NIL or a back-reference (already known)."""
        head = self.byte()
        if head == TAG_NEW:
            return self.unshared_string()
        if head == TAG_NIL:
            return None
        self._skip_reference(head)
        return None

    def _skip_reference(self, head: int) -> None:
        if head == TAG_INT2:
            self.take(2)
        elif head == TAG_INT4:
            self.take(4)
        elif FIRST_TAG <= head <= LAST_TAG:
            raise TypedStreamError(f"tag 0x{head:02x} where a reference was expected")

    def class_chain(self) -> list[bytes]:
        """Names of the literally stored classes of a NEW object (most derived first)."""
        names: list[bytes] = []
        while True:
            head = self.byte()
            if head == TAG_NEW:
                name = self.shared_string()
                self.integer()  # class version
                names.append(name or b"?")
                continue
            if head == TAG_NIL:
                return names
            self._skip_reference(head)
            return names


def decode_attributed_body(data: bytes | None) -> str:
    """The text of the ``NSAttributedString`` archived in ``data``.

    Raises :class:`TypedStreamError` when the bytes do not have the layout described in the
    module docstring (the caller reports that and keeps the message without a body).
    """
    if not data:
        raise TypedStreamError("empty attributedBody")
    reader = _Reader(bytes(data))
    version = reader.integer()
    if version not in (3, 4):
        raise TypedStreamError(f"unknown streamer version {version}")
    signature = reader.unshared_string()
    if signature == b"streamtyped":
        reader.little = True
    elif signature == b"typedstream":
        reader.little = False
    else:
        raise TypedStreamError(f"not a typedstream (signature {signature!r})")
    reader.integer()  # system version, 1000 on every Mac OS X / iOS

    # Root group: encoding "@", then the NSAttributedString object.
    encoding = reader.shared_string()
    if encoding not in (b"@", None):
        raise TypedStreamError(f"root value has type {encoding!r}, not an object")
    if reader.byte() != TAG_NEW:
        raise TypedStreamError("root object is not stored literally")
    owner = reader.class_chain()
    if not owner or owner[0] not in STRING_OWNERS:
        raise TypedStreamError(f"root object is {owner[:1]!r}, not an attributed string")

    # First content group of NSAttributedString: the NSString (encoding "@", usually a reference).
    reader.shared_string()
    if reader.byte() != TAG_NEW:
        raise TypedStreamError("string object is not stored literally")
    string_class = reader.class_chain()
    if not string_class or string_class[0] not in STRING_CLASSES:
        raise TypedStreamError(f"first value is {string_class[:1]!r}, not an NSString")
    encoding = reader.shared_string()
    if encoding not in (b"+", b"*", None):
        raise TypedStreamError(f"string content has type {encoding!r}")
    raw = reader.unshared_string()
    if raw is None:
        return ""
    # NSString archives its characters as UTF-8; a lone bad byte must not lose the message.
    return raw.decode("utf-8", errors="replace")
