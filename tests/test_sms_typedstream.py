"""The attributedBody typedstream reader against hand-checked byte layouts."""

from __future__ import annotations

import pytest
from triage.parsers.typedstream import TypedStreamError, decode_attributed_body

HEADER = b"\x04\x0bstreamtyped\x81\xe8\x03"


def archive(text: bytes, length: bytes | None = None) -> bytes:
    length = bytes([len(text)]) if length is None else length
    return (
        HEADER
        + b"\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85"
        + b"\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+"
        + length
        + text
        + b"\x86\x84\x02iI\x01\x05\x86"
    )


def test_short_body() -> None:
    assert decode_attributed_body(archive(b"Hello")) == "Hello"


def test_two_byte_length_and_utf8() -> None:
    text = ("\u00e9" * 100).encode()  # 200 bytes: needs 0x81 + int16
    data = archive(text, b"\x81" + len(text).to_bytes(2, "little"))
    assert decode_attributed_body(data) == "\u00e9" * 100


def test_mutable_string_class() -> None:
    data = archive(b"Hi").replace(b"\x12NSAttributedString", b"\x19NSMutableAttributedString")
    assert decode_attributed_body(data) == "Hi"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"bplist00...",
        HEADER.replace(b"streamtyped", b"streamtypex"),
        archive(b"Hello").replace(b"NSAttributedString", b"NSDictionaryZZZZZZ"),
        archive(b"Hello")[:60],
    ],
)
def test_rejects_other_data(data: bytes) -> None:
    with pytest.raises(TypedStreamError):
        decode_attributed_body(data)
