"""The sizes, depths and counts the tool enforces on hostile input, in one place.

Each limit has a default chosen so real extractions never reach it, and each can be changed for a
run from the environment, ``TRIAGE_LIMIT_<NAME>`` (for example ``TRIAGE_LIMIT_ARCHIVE_NESTING=5``).
The values in force are recorded in the manifest's settings. README "Guarantees and limits" lists
them with what happens when one is reached (always reported, never silent).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Limit:
    default: int
    what: str


LIMITS: dict[str, Limit] = {
    "archive_nesting": Limit(
        3, "archives opened inside archives, counting the outermost; a deeper one is reported as "
        "'not opened: nesting limit N reached'"
    ),
    "warning_examples": Limit(5, "examples kept per file and kind of warning (all are counted)"),
    "damaged_ranges": Limit(
        1000, "damaged rowid ranges read around per table of a malformed database; beyond it the "
        "rest of the table is reported as not read"
    ),
    "text_line_chars": Limit(
        1 << 20, "characters kept of one line of a text export; the rest of the line is skipped "
        "and its number and length reported"
    ),
    "picture_pixels": Limit(
        2 * 89_478_485, "pixels of one picture (twice Pillow's warning limit); a larger one is "
        "refused as a decompression bomb and reported"
    ),
    "xlsx_message_rows": Limit(
        20_000, "rows of the messages sheet of triage.xlsx given to messages without a case "
        "contact (writing a spreadsheet costs about 100 times the CSV): every message with a "
        "case contact is listed whatever the limit, the others in time order while the sheet "
        "holds fewer rows; the sheet's last row says how many are not listed, and messages.csv "
        "lists every message"
    ),
}  # fmt: skip


@cache
def limit(name: str) -> int:
    """The value in force for ``name``: ``TRIAGE_LIMIT_<NAME>`` when set to a positive integer,
    else the default (a malformed setting is refused rather than guessed)."""
    raw = os.environ.get(f"TRIAGE_LIMIT_{name.upper()}")
    if raw is None or raw == "":
        return LIMITS[name].default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(
            f"TRIAGE_LIMIT_{name.upper()}={raw!r}: expected a positive integer"
        ) from None
    if value < 1:
        raise ValueError(f"TRIAGE_LIMIT_{name.upper()}={raw!r}: expected a positive integer")
    return value


def limits_in_force() -> dict[str, int]:
    return {name: limit(name) for name in LIMITS}
