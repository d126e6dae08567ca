"""Lines of a text evidence file, read in bounded memory whatever the bytes hold.

Text exports reach an examiner in odd shapes: saved as UTF-16 with a byte-order mark (Windows
tools, some phone backup apps), with NUL bytes in them (a file cut short and padded, a copy from
a damaged card), with bytes that are not UTF-8 at all, or with one enormous line that would
otherwise have to be held in memory whole. :class:`TextLines` reads all of them as a stream of
lines and counts what it had to change, so a parser can say so instead of changing it silently:

* the encoding is taken from the byte-order mark (UTF-8, UTF-16 LE/BE); without one, a head in
  which every other byte is NUL is UTF-16 without a mark, else UTF-8;
* undecodable bytes become U+FFFD, one per invalid sequence (the decoder's "maximal subpart"
  rule), and are counted;
* NUL characters are removed and counted (no text format this project reads uses them);
* lines end at ``\\r\\n``, ``\\r`` or ``\\n``, as Python's universal newlines split them; a line
  longer than ``max_line`` characters keeps its first ``max_line`` characters, the rest is
  skipped up to the next line end, and the line's number and full length are recorded.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field

from triage.evidence import EvidenceFile
from triage.limits import limit

CHUNK = 1 << 18
#: A longer line is cut here: no real chat line comes near it, and memory stays bounded.
MAX_LINE = limit("text_line_chars")
MAX_LONG_LINES = 5

_REPLACED = [0]


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _REPLACED[0] += 1
    return "\ufffd", exc.end


codecs.register_error("triage-count-replace", _count_and_replace)


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """(codec name, bytes of byte-order mark to skip) for a file starting with ``head``."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = head[:512]
    if len(sample) >= 8:
        even, odd = sample[0::2], sample[1::2]
        # ASCII text in UTF-16 has a NUL in every other byte, on one side only.
        if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
            return "utf-16-le", 0
        if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
            return "utf-16-be", 0
    return "utf-8", 0


def decode_head(head: bytes) -> str:
    """The text of a file's first bytes, decoded as :class:`TextLines` would (for detection)."""
    encoding, skip = sniff_encoding(head)
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    return decoder.decode(head[skip:]).replace("\x00", "")


@dataclass
class TextLines:
    """Iterate over the lines of ``file`` (terminators removed); counters are final once the
    iteration ends."""

    file: EvidenceFile
    max_line: int = MAX_LINE
    #: Stop after this many bytes (detection reads past one long line, not a whole disk image).
    max_bytes: int | None = None
    encoding: str = "utf-8"
    replaced: int = 0
    nul_removed: int = 0
    lines: int = 0
    long_lines: list[tuple[int, int]] = field(default_factory=list)
    long_line_count: int = 0
    #: The full length of the line just yielded when it was cut, else 0.
    cut: int = 0

    def __iter__(self) -> Iterator[str]:
        for run, cuts in self.runs():
            if not cuts:
                yield from run
                continue
            for index, line in enumerate(run):
                self.cut = cuts.get(index, 0)
                yield line
            self.cut = 0

    def runs(self) -> Iterator[tuple[list[str], dict[int, int]]]:
        """The same lines as iterating, a run at a time (the lines completed by one chunk read),
        with the full length of each line of the run that was cut, by its index in the run;
        ``cut`` is not set (a reader of runs takes it from there)."""
        limit = self.max_line
        with self.file.open() as handle:
            head = handle.read(CHUNK)
            self.encoding, skip = sniff_encoding(head)
            decoder = codecs.getincrementaldecoder(self.encoding)("triage-count-replace")
            data = head[skip:]
            pending = ""  # the start of a line whose end is not read yet
            skipping = 0  # length so far of an over-long line being skipped (0: not skipping)
            held = ""  # a chunk's final "\r", which may be the first half of "\r\n"
            read = skip
            while True:
                final = not data
                before = _REPLACED[0]
                text = held + decoder.decode(data, final)
                self.replaced += _REPLACED[0] - before
                held = ""
                if "\x00" in text:
                    self.nul_removed += text.count("\x00")
                    text = text.replace("\x00", "")
                if "\r" in text:
                    if not final and text.endswith("\r"):
                        held, text = "\r", text[:-1]
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                parts = text.split("\n")
                tail = parts.pop()
                if parts:
                    cuts: dict[int, int] = {}
                    first = parts[0]
                    if skipping:
                        parts[0] = pending
                        cuts[0] = self._long(skipping + len(first))
                    else:
                        line = pending + first if pending else first
                        if len(line) > limit:
                            cuts[0] = self._long(len(line))
                            line = line[:limit]
                        parts[0] = line
                    self.lines += 1
                    pending, skipping = "", 0
                    if len(text) > limit:
                        for index in range(1, len(parts)):
                            self.lines += 1
                            line = parts[index]
                            if len(line) > limit:
                                self.lines -= 1
                                cuts[index] = self._long(len(line))
                                self.lines += 1
                                parts[index] = line[:limit]
                    else:
                        # No line of this chunk can be over-long: counted at once.
                        self.lines += len(parts) - 1
                    yield parts, cuts
                if skipping:
                    skipping += len(tail)
                elif tail:
                    pending += tail
                    if len(pending) > limit:
                        skipping, pending = len(pending), pending[:limit]
                if final:
                    break
                read += len(data)
                data = (
                    b""
                    if self.max_bytes is not None and read >= self.max_bytes
                    else handle.read(CHUNK)
                )
            if skipping:
                last = {0: self._long(skipping)}
            elif pending:
                last = {}
            else:
                return
            self.lines += 1
            yield [pending], last

    def _long(self, length: int) -> int:
        self.long_line_count += 1
        if len(self.long_lines) < MAX_LONG_LINES:
            self.long_lines.append((self.lines + 1, length))
        return length
