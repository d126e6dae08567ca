"""Varints, serial types and records (https://www.sqlite.org/fileformat2.html, sections 1.6, 2.1).

A record is a header (a varint giving the header's own length, then one varint *serial type* per
column) followed by the values. Serial types: 0 NULL; 1-4 big-endian two's-complement integers of
1, 2, 3, 4 bytes; 5 a 6-byte integer; 6 an 8-byte integer; 7 an IEEE 754 big-endian float; 8 and 9
the constants 0 and 1 (schema format 4); 10 and 11 reserved (never in a well-formed file); even
N >= 12 a BLOB of (N-12)/2 bytes; odd N >= 13 a TEXT of (N-13)/2 bytes in the database encoding.
"""

from __future__ import annotations

import struct
from typing import Any

_FIXED_SIZES = (0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1)
_FLOAT = struct.Struct(">d")
#: Text encodings by the header's value at offset 56 (section 1.3.13).
ENCODINGS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}


class Corrupt(ValueError):
    """Bytes that do not follow the file format where they should."""


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """The unsigned 64-bit value of the varint at ``pos`` and the position after it.

    Bytes 1-8 give 7 bits each (high bit set = another byte follows); a ninth byte gives 8 bits.
    Raises :class:`IndexError` when the buffer ends inside the varint.
    """
    value = 0
    for i in range(8):
        byte = buf[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    return (value << 8) | buf[pos + 8], pos + 9


def varint_size(value: int) -> int:
    """How many bytes SQLite uses for ``value`` (it always writes the shortest form)."""
    value &= 0xFFFFFFFFFFFFFFFF
    if value > 0x00FFFFFFFFFFFFFF:
        return 9
    size = 1
    while value > 0x7F:
        value >>= 7
        size += 1
    return size


def signed64(value: int) -> int:
    """A varint's unsigned value read as the signed 64-bit rowid it encodes."""
    return value - (1 << 64) if value >= 1 << 63 else value


def serial_size(serial: int) -> int:
    """Bytes of the value for ``serial``; -1 for the reserved types 10 and 11."""
    if serial < 12:
        return _FIXED_SIZES[serial]
    return (serial - 12) >> 1


def serial_class(serial: int) -> str:
    """``null``, ``int``, ``float``, ``blob`` or ``text``: the storage class a serial type gives."""
    if serial == 0:
        return "null"
    if serial <= 6 or serial in (8, 9):
        return "int"
    if serial == 7:
        return "float"
    if serial in (10, 11):
        return "reserved"
    return "blob" if serial % 2 == 0 else "text"


def decode_value(serial: int, buf: bytes | memoryview, pos: int, encoding: str) -> Any:
    """The value of ``serial`` stored at ``pos``. Text that does not decode raises ``Corrupt``."""
    if serial == 0:
        return None
    if serial == 8:
        return 0
    if serial == 9:
        return 1
    if serial <= 6:
        size = _FIXED_SIZES[serial]
        return int.from_bytes(buf[pos : pos + size], "big", signed=True)
    if serial == 7:
        return _FLOAT.unpack_from(buf, pos)[0]
    if serial in (10, 11):
        raise Corrupt(f"reserved serial type {serial}")
    size = (serial - 12) >> 1
    raw = bytes(buf[pos : pos + size])
    if serial % 2 == 0:
        return raw
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Corrupt("text does not decode") from exc


def parse_header(payload: bytes | memoryview, pos: int = 0) -> tuple[list[int], int]:
    """Serial types of the record at ``pos`` and the position of its first value."""
    header_len, cursor = read_varint(payload, pos)
    end = pos + header_len
    if header_len < 1 or end > len(payload):
        raise Corrupt("record header runs past the payload")
    serials = []
    while cursor < end:
        serial, cursor = read_varint(payload, cursor)
        serials.append(serial)
    if cursor != end:
        raise Corrupt("record header length does not match its serial types")
    return serials, end


def decode_record(payload: bytes | memoryview, encoding: str = "utf-8") -> list[Any]:
    """All values of a complete record; raises :class:`Corrupt` when it does not add up."""
    serials, pos = parse_header(payload)
    values = []
    for serial in serials:
        size = serial_size(serial)
        if size < 0 or pos + size > len(payload):
            raise Corrupt("record body shorter than its header says")
        values.append(decode_value(serial, payload, pos, encoding))
        pos += size
    if pos != len(payload):
        raise Corrupt("record body longer than its header says")
    return values
