"""Parser plugins, and detection of what each evidence file is by its content.

A parser is a small class in a module under ``parsers/``; it is found automatically (no central
list to edit). Each declares, as data, how to recognise its format:

* SQLite formats list ``required_tables`` (table -> columns that must all exist), like plaso's
  SQLite plugins; the best match is the parser whose declaration covers the most columns;
* other formats implement :meth:`Parser.match` over a :class:`Probe` (the first 64 KiB, the file
  name as a hint only, and the SQLite schema when the file is a database).

``parse`` is a generator of :mod:`triage.model` records; problems with the input are reported
through :meth:`ParseContext.warn`, counted, and never raised for a single bad row or line.
"""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from triage.evidence import SQLITE_COMPANIONS, SQLITE_MAGIC, EvidenceFile
from triage.limits import limit
from triage.model import IdSpace, Party, Provenance, Record
from triage.parsers import SNIFFS
from triage.reasons import clean
from triage.sqlite_meta import is_autoincrement, sequence_value

#: The device owner when the case file gives no identifier for him.
OWNER = Party(raw="(device owner)", id="owner", name=None, scheme="owner")


@dataclass
class Warning_:
    """A problem met while reading one source: counted per (file, category), with examples."""

    file: str
    category: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


class ParseContext:
    """What a parser needs to know about the case, and where it reports problems and decisions."""

    def __init__(
        self,
        timezone: str = "Europe/London",
        region: str = "GB",
        date_order: str | None = None,
        owner: list[Party] | None = None,
        owner_names: list[str] | None = None,
    ) -> None:
        self.timezone_name = timezone
        self.timezone = ZoneInfo(timezone)
        self.region = region
        self.date_order = date_order
        self.owner = owner or []
        self.owner_names = owner_names or []
        self.warnings: dict[tuple[str, str], Warning_] = {}
        self.decisions: dict[str, dict[str, Any]] = {}
        self.counts: Counter[str] = Counter()
        # Files a parser was given (or found as part of its source) but could not read at all.
        self.unread_files: list[tuple[str, str]] = []

    def warn(self, file: str, category: str, example: str) -> None:
        """Record one problem (``category`` such as "unparsed line", ``example`` naming the place)."""
        key = (file, category)
        entry = self.warnings.setdefault(key, Warning_(file, category))
        entry.count += 1
        if len(entry.examples) < limit("warning_examples"):
            entry.examples.append(clean(example))

    def file_not_read(self, file: str, reason: str, category: str = "file not read") -> None:
        """A whole file of a source could not be read (a corrupt ``message_2.json``): it is named
        in the warnings, on stderr and in coverage, and the command exits "partly read"."""
        self.unread_files.append((file, reason))
        self.warn(file, category, reason)

    def decide(self, file: str, **facts: Any) -> None:
        """Record a decision a parser made about a file (e.g. inferred date order and evidence)."""
        self.decisions.setdefault(file, {}).update(facts)

    def absorb(self, other: ParseContext) -> None:
        """Add what ``other`` recorded (warnings, decisions, files not read) as if its calls had
        been made on this context, after those made here (a parse run in a second process,
        :mod:`triage.parse_worker`)."""
        most = limit("warning_examples")
        for key, entry in other.warnings.items():
            mine = self.warnings.setdefault(key, Warning_(entry.file, entry.category))
            mine.count += entry.count
            mine.examples.extend(entry.examples[: max(0, most - len(mine.examples))])
        for file, facts in other.decisions.items():
            self.decisions.setdefault(file, {}).update(facts)
        self.unread_files.extend(other.unread_files)
        self.counts.update(other.counts)

    def owner_party(self) -> Party:
        """The device owner as a party: his first identifier from the case file, else a marker
        that says only "the owner of this phone" (outgoing messages always have that sender)."""
        return self.owner[0] if self.owner else OWNER

    def is_owner(self, party: Party | None) -> bool:
        return (
            party is not None and party.id is not None and any(party.id == o.id for o in self.owner)
        )


@dataclass
class Probe:
    """What detection may look at: the content, and the file name only as a hint."""

    file: EvidenceFile

    @cached_property
    def head(self) -> bytes:
        try:
            return self.file.head()
        except OSError as exc:
            self.read_error = str(exc)
            return b""

    read_error: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.head.startswith(SQLITE_MAGIC)

    @cached_property
    def schema(self) -> dict[str, set[str]]:
        """Table -> column names, read from a private copy; empty when not a readable database."""
        if not self.is_sqlite:
            return {}
        try:
            with self.file.sqlite() as conn:
                tables = [
                    r[0]
                    for r in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type IN ('table','view')"
                    )
                ]
                return {
                    t: {row[1] for row in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables
                }
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            return {}

    def text_head(self) -> str:
        # Decoded once: several detectors (and the sniffs of SNIFF_TESTS) read it.
        text = self.__dict__.get("_text_head")
        if text is None:
            text = self.__dict__["_text_head"] = self.head.decode("utf-8", errors="replace").lstrip(
                "\ufeff"
            )
        return text


@dataclass
class Match:
    parser: Parser
    score: int
    # Other files this parser reads as part of the same source (sibling message_N.json, a
    # companion contacts database); they are not offered to other parsers.
    claims: list[EvidenceFile] = field(default_factory=list)


class Parser(ABC):
    """Base class of every source-format parser."""

    #: Stable format id, used in provenance and the manifest ("android_mmssms").
    name: ClassVar[str] = ""
    #: Bumped whenever the parser's output for the same input changes.
    version: ClassVar[str] = "1"
    #: One line for ``triage detect`` and the manifest.
    description: ClassVar[str] = ""
    #: When two sources hold copies of the same messages (see ``Message.duplicate_key``), the
    #: source read by the higher-priority parser is ingested first and its copy kept.
    priority: ClassVar[int] = 0
    #: table -> columns that must exist (SQLite formats).
    required_tables: ClassVar[dict[str, set[str]]] = {}
    #: table -> columns read when the table has them; a present table lacking some is reported
    #: as "partially read" in the coverage (:mod:`triage.coverage`).
    optional_columns: ClassVar[dict[str, set[str]]] = {}

    def declared_schemas(self) -> list[dict[str, set[str]]]:
        """The table/column sets that identify this format, for reporting near misses."""
        return [self.required_tables] if self.required_tables else []

    def sniffed(self, probe: Probe) -> bool:
        """Whether ``probe`` passes the sniff this parser's module declares in
        :data:`triage.parsers.SNIFFS` (always, for a module not listed there). Every ``match``
        starts with it, so detection's choice of which modules to import and the parsers' own
        first test are one rule."""
        package, _, module = type(self).__module__.rpartition(".")
        kind = SNIFFS.get(module) if package == "triage.parsers" else None
        return kind is None or SNIFF_TESTS[kind](probe)

    def match(self, probe: Probe) -> Match | None:
        if not self.required_tables or not probe.is_sqlite or not self.sniffed(probe):
            return None
        schema = probe.schema
        for table, columns in self.required_tables.items():
            if table not in schema or not columns <= schema[table]:
                return None
        score = sum(len(c) + 1 for c in self.required_tables.values())
        return Match(self, score)

    @abstractmethod
    def parse(self, file: EvidenceFile, ctx: ParseContext) -> Iterator[Record]:
        """Implemented by every subclass."""

    def parse_into(self, file: EvidenceFile, ctx: ParseContext, sink: Any) -> Iterator[Record]:
        """:meth:`parse`, for ``triage parse --jsonl``: a parser whose messages share most of
        their fields may hand some to ``sink`` (a :class:`triage.ingest.MessageSink`) by shape
        and fields instead of yielding them; the records yielded and the lines given, in the
        order given, are what :meth:`parse` yields. By default everything is yielded."""
        return self.parse(file, ctx)

    def sqlite_id_space(
        self,
        file: EvidenceFile,
        conn: sqlite3.Connection,
        table: str,
        id_column: str,
        ids: list[int],
        *,
        order_key: str | None = None,
        note: str | None = None,
        high_water: int | None = None,
    ) -> IdSpace:
        """How ``table`` numbers its rows: AUTOINCREMENT read from ``sqlite_master.sql``, the
        high-water mark from ``sqlite_sequence`` unless the format keeps its own (Core Data's
        ``Z_PRIMARYKEY.Z_MAX``), and the ids present."""
        return IdSpace(
            file=file.logical,
            sha256=file.sha256,
            format=self.name,
            table=table,
            id_column=id_column,
            autoincrement=is_autoincrement(conn, table),
            high_water=high_water if high_water is not None else sequence_value(conn, table),
            ids=ids,
            order_key=order_key,
            note=note,
        )

    def provenance(self, file: EvidenceFile, locator: str) -> Provenance:
        return Provenance(file=file.logical, sha256=file.sha256, format=self.name, locator=locator)

    def provenance_maker(self, file: EvidenceFile) -> Callable[[str], Provenance]:
        """:meth:`provenance` for the many records of one file: the file's path, its digest and
        this parser's format are looked up once, and only the locator varies."""
        path, digest, name = file.logical, file.sha256, self.name
        new = tuple.__new__

        def make(locator: str) -> Provenance:
            # The tuple made directly: a named tuple's own __new__, reached through its type, is
            # a Python function and costs about as much again.
            return new(Provenance, (path, digest, name, locator))

        return make


#: What each kind of :data:`triage.parsers.SNIFFS` requires of a file: the first test of the
#: ``match`` of every parser declared with that kind (:meth:`Parser.sniffed`).
SNIFF_TESTS: dict[str, Callable[[Probe], bool]] = {
    "sqlite": lambda probe: probe.is_sqlite,
    "text": lambda probe: not probe.is_sqlite,
    "json": lambda probe: not probe.is_sqlite and probe.text_head().lstrip().startswith("{"),
    "xml": lambda probe: not probe.is_sqlite and probe.text_head().lstrip().startswith("<"),
    "html": lambda probe: not probe.is_sqlite and "<html" in probe.text_head()[:2000].lower(),
    "ufdr": lambda probe: "<project" in probe.text_head()[:4096],
    "none": lambda probe: False,
}


class ParserModules:
    """The parser modules of the ``parsers`` package, each imported when first needed: for
    every module (:func:`all_parsers`) or for the modules one file could belong to
    (:meth:`for_probe`, by :data:`triage.parsers.SNIFFS`)."""

    def __init__(self) -> None:
        import triage.parsers as parsers

        self.sniffs: dict[str, str] = SNIFFS
        self.names = sorted(i.name for i in pkgutil.iter_modules(parsers.__path__))
        self._loaded: dict[str, list[Parser]] = {}

    def parsers_of(self, name: str) -> list[Parser]:
        """One instance of every parser class defined in the module ``name``."""
        found = self._loaded.get(name)
        if found is None:
            module = importlib.import_module(f"triage.parsers.{name}")
            found = self._loaded[name] = [
                obj()
                for obj in vars(module).values()
                if isinstance(obj, type)
                and issubclass(obj, Parser)
                and obj is not Parser
                and obj.__module__ == module.__name__
                and obj.name
            ]
        return found

    def all(self) -> list[Parser]:
        return sorted((p for n in self.names for p in self.parsers_of(n)), key=lambda p: p.name)

    def for_probe(self, probe: Probe) -> list[Parser]:
        """The parsers that could match the file: those of every module whose sniff holds (or
        that declares none), in the order of :func:`all_parsers`."""
        found: list[Parser] = []
        for name in self.names:
            kind = self.sniffs.get(name)
            if kind is not None:
                try:
                    if not SNIFF_TESTS[kind](probe):
                        continue
                except Exception:  # noqa: S112 - the module's own match() says what it is
                    pass
            found.extend(self.parsers_of(name))
        return sorted(found, key=lambda p: p.name)


def all_parsers() -> list[Parser]:
    """One instance of every parser class defined in the ``parsers`` package."""
    return ParserModules().all()


@dataclass
class Detection:
    """The outcome of detection for one evidence file."""

    file: EvidenceFile
    parser: Parser | None
    reason: str
    score: int = 0
    claimed_by: EvidenceFile | None = None
    also_matched: list[str] = field(default_factory=list)
    claims: list[EvidenceFile] = field(default_factory=list)
    # The file looks like evidence that should have been read (a damaged database, a WAL
    # without its database): said on stderr and in coverage, and parse/run exit non-zero.
    problem: bool = False


def detect(files: list[EvidenceFile], parsers: list[Parser] | None = None) -> list[Detection]:
    """Decide, for every file, which parser reads it, or why none does."""
    # Without a list, only the modules a file could belong to are imported (start-up time).
    modules = ParserModules()
    results: dict[int, Detection] = {}
    claimed: dict[int, EvidenceFile] = {}
    for file in files:
        if id(file) in claimed:
            continue
        companion_of = _sqlite_companion_of(file)
        if companion_of is not None:
            claimed[id(file)] = companion_of
            continue
        probe = Probe(file)
        matches = []
        for parser in parsers if parsers is not None else modules.for_probe(probe):
            try:
                found = parser.match(probe)
            except Exception as exc:  # a parser's detector must never stop detection
                found = None
                probe.__dict__.setdefault("errors", []).append(f"{parser.name}: {exc}")
            if found is not None:
                matches.append(found)
        if not matches:
            reason, problem = _why_skipped(probe)
            results[id(file)] = Detection(file, None, reason, problem=problem)
            continue
        matches.sort(key=lambda m: (-m.score, m.parser.name))
        best = matches[0]
        results[id(file)] = Detection(
            file,
            best.parser,
            "matched by content",
            best.score,
            also_matched=[m.parser.name for m in matches[1:]],
            claims=best.claims,
        )
        for other in best.claims:
            claimed[id(other)] = file
            results.pop(id(other), None)
    out = []
    for file in files:
        if id(file) in claimed:
            owner = claimed[id(file)]
            out.append(
                Detection(file, None, f"read together with {owner.logical}", claimed_by=owner)
            )
        else:
            out.append(results[id(file)])
    return out


def _sqlite_companion_of(file: EvidenceFile) -> EvidenceFile | None:
    for suffix in SQLITE_COMPANIONS:
        if file.name.endswith(suffix):
            main = file.sibling(file.name[: -len(suffix)])
            if main is not None:
                return main
    return None


def _why_skipped(probe: Probe) -> tuple[str, bool]:
    """Why no parser took the file, and whether that is a problem (see ``Detection.problem``)."""
    from triage.media.inventory import sniff_image
    from triage.unread import why_not_read

    if probe.head == b"" and probe.read_error:
        return f"could not be read: {probe.read_error}", True
    if probe.file.size and sniff_image(probe.head[:32]):
        return "picture: not a message source; hashed and compared with the exhibits", False
    found = why_not_read(probe.file, probe.head)
    if found is None:
        return "no parser recognised the content", False
    return found.reason, found.problem
