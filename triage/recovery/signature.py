"""What a record of one table may look like, to tell its deleted records from noise.

A carved byte range is accepted as a record of a table only when its field count is the table's
(or one that live rows show, for rows older than an ``ALTER TABLE ADD COLUMN``) and every serial
type fits its column: the rowid alias is stored as NULL (type 0); NOT NULL columns are never NULL;
TEXT-affinity columns hold NULL or TEXT (SQLite converts numbers stored into them to text, and
message apps do not write BLOBs there unless live rows show it); numeric columns hold NULL,
integers or floats unless live rows show otherwise; types 10 and 11 never occur
(https://www.sqlite.org/fileformat2.html section 2.1, https://www.sqlite.org/datatype3.html
section 3). The storage classes live rows actually use are added per column, as sqlite-dissect
learns its signatures (DC3 sqlite-dissect, ``sqlite_dissect/carving/signature.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from triage.sqlitefile.record import serial_class
from triage.sqlitefile.schema import Column

_DEFAULT_CLASSES = {
    # SQLite would store a BLOB in a TEXT column, but message apps write text there; a BLOB is
    # allowed only where live rows show one.
    "TEXT": frozenset({"null", "text"}),
    "INTEGER": frozenset({"null", "int", "float"}),
    "NUMERIC": frozenset({"null", "int", "float"}),
    "REAL": frozenset({"null", "int", "float"}),
    "BLOB": frozenset({"null", "int", "float", "text", "blob"}),
}


def value_class(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, bytes):
        return "blob"
    return "text"


@dataclass
class TableSignature:
    """Per-column allowed storage classes of one table, with what carving needs to know."""

    table: str
    root: int
    columns: list[Column]
    key_columns: tuple[str, ...] = ()
    classes: list[set[str]] = field(default_factory=list)
    field_counts: set[int] = field(default_factory=set)
    min_non_null: int = 0

    def __post_init__(self) -> None:
        if not self.classes:
            self.classes = [set(_DEFAULT_CLASSES[c.affinity]) for c in self.columns]
            for i, column in enumerate(self.columns):
                if column.rowid_alias:
                    self.classes[i] = {"null"}
                elif column.not_null:
                    self.classes[i].discard("null")
        if not self.field_counts:
            self.field_counts = {len(self.columns)}
        if not self.min_non_null:
            self.min_non_null = max(2, len(self.columns) // 4)
        self._allowed = [
            {s for s in range(0, 14) if serial_class(s) in cls} for cls in self.classes
        ]
        self._rowid_column = next((i for i, c in enumerate(self.columns) if c.rowid_alias), None)

    @property
    def rowid_column(self) -> int | None:
        return self._rowid_column

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def learn(self, rows: Iterable[Sequence[Any]]) -> None:
        """Widen the allowed classes with what live rows hold, and learn their field counts and
        how many non-NULL fields a real row has at least."""
        fewest = None
        for values in rows:
            self.field_counts.add(len(values))
            for i, value in enumerate(values[: len(self.columns)]):
                if i != self.rowid_column:
                    self.classes[i].add(value_class(value))
            non_null = sum(v is not None for v in values)
            fewest = non_null if fewest is None else min(fewest, non_null)
        if fewest is not None:
            self.min_non_null = max(2, min(fewest, len(self.columns) // 3))
        self.__post_init__()

    def allows(self, column: int, serial: int) -> bool:
        """Whether ``serial`` may be the serial type of ``column``."""
        if serial >= 12:
            return ("text" if serial % 2 else "blob") in self.classes[column]
        return serial in self._allowed[column]


def fits(sig: TableSignature, serials: list[int]) -> bool:
    """Whether an intact record's serial types fit the table (field count and every type)."""
    return len(serials) in sig.field_counts and all(sig.allows(i, s) for i, s in enumerate(serials))


def first_bytes(sig: TableSignature, column: int) -> bytes:
    """A 256-entry table: 1 where a serial type of ``column`` may start with that byte (bytes
    from 0x80 start multi-byte varints, which only long TEXT or BLOB values need)."""
    if column >= len(sig.columns):
        return bytes(256)
    long_ok = bool({"text", "blob"} & sig.classes[column])
    return bytes(int(sig.allows(column, b)) if b < 0x80 else int(long_ok) for b in range(256))
