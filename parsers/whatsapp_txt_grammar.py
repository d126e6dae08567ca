"""Line grammar, date-order inference and body markers of WhatsApp "Export chat" text files.

This module defines no parser; :mod:`triage.parsers.whatsapp_txt` drives it. Everything here is pure
string work so it can be tested and benchmarked on its own.

Header shapes supported (facts from public peer test files, see ``fixtures/whatsapp_txt/README.md``):

* Android ``DATE, TIME - Author: body`` and iOS ``[DATE, TIME:SS] Author: body``
  (Pustur/whatsapp-chat-parser ``tests/parser.test.ts`` formats 1-10, starkdmi/whats_json
  ``test/data``, JBGruber/rwhatsapp ``tests/testthat/test-rwhatsapp.R``);
* date separators ``/ . -`` and a space, an optional ``.`` after the year (``13. 6. 2018.``);
* date/time separators ``,`` (also the Arabic comma U+060C), a space, ``à`` (fr), ``klo`` (fi),
  `` - ``; header/body separators `` - ``, ``] ``, ``: ``, ``; `` and (only after ``2018.``) a space;
* time first (``[21:41:35, 3/27/22]`` vi iOS, ``10:35 PM, 07 20 - `` with no year, rwhatsapp);
* 12 h clocks as ``AM``, ``am``, ``a.m.``, ``a. m.``, with NBSP/U+202F before or inside the marker,
  Arabic ``م`` (PM) / ``ص`` (AM); dotted times ``21.25.15``; a trailing ``.`` after the time;
* 2- and 4-digit years, year first or in the middle, Buddhist-era (``2565 BE``) and Japanese-era
  (``R4``) years, Arabic-Indic digits.

Invisible characters are removed only for matching; callers keep the raw line as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# One character for one character, so offsets found in the translated text are valid in the
# cleaned text (the body keeps its own digits; only the header is read through this table).
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹،", "01234567890123456789,")

LRM = "\u200e"


# Removed before matching: direction marks/embeddings/isolates, BOM/ZWNBSP, zero-width space
# (whats_json and WhatsR exports put them before "[", inside the date and around names). U+200D
# and U+FE0F are kept: they are part of emoji sequences. NBSP and narrow NBSP sit inside "p. m."
# and before "PM" (Pustur formats 11/12, chat_to_map) and become plain spaces.
_INVISIBLE_RE = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\u200b]")
_SPACES_RE = re.compile("[\u00a0\u202f\u2007\u2009]")


# Most lines are pure ASCII; skipping the character maps for them is most of the parser's speed.
def strip_invisible(text: str) -> str:
    """Text without direction marks, isolates, BOM and zero-width spaces (bodies, authors)."""
    return text if text.isascii() else _INVISIBLE_RE.sub("", text)


def plain_spaces(text: str) -> str:
    """NBSP and its relatives as plain spaces (same length: offsets stay valid)."""
    return text if text.isascii() else _SPACES_RE.sub(" ", text)


def clean(text: str) -> str:
    """Text with invisible marks removed and odd spaces made plain (for matching)."""
    return plain_spaces(strip_invisible(text))


def header_view(cleaned: str) -> str:
    """The cleaned text with Arabic-Indic digits and the Arabic comma mapped to ASCII."""
    return cleaned if cleaned.isascii() else cleaned.translate(_DIGITS)


# --- header grammar -------------------------------------------------------------------------------

_YEARISH = r"\d{1,4}|[RH]\d{1,2}"
_AMPM = r"[aApP]\.?\s?[mM]\.?|م|ص"
_S1 = r"(?P<s1>\s*,\s*|\s+(?:à|klo|-)\s+|\s+)"
# "13. 6. 2018. 21:25:15 a: m" has no separator after the time: allowed only after a date that
# ends in "." so that ordinary log lines ("2024-01-02 10:20:30 INFO: x") are not taken for chats.
_S2 = r"(?P<s2>\]\s*|\s*-(?:\s+|$)|:\s+|;\s+|(?<=\d)\s+(?=\S))"

_DATE = (
    r"(?P<a>\d{1,4})(?P<ds>[./\-]|\x20)\x20?(?P<b>\d{1,4})"
    rf"(?:(?P=ds)\x20?(?P<c>{_YEARISH})(?P<era>\x20?BE)?)?(?P<ddot>\.)?"
)
_TIME = (
    r"(?P<h>\d{1,2})(?P<ts>[:.])(?P<mi>\d{2})(?:(?P=ts)(?P<s>\d{2}))?"
    rf"(?:\s*(?P<ap>{_AMPM}))?(?P<tdot>\.)?"
)

GENERIC_DATE_FIRST = re.compile(
    rf"^(?P<ob>\[)?\s*(?P<dt>{_DATE}{_S1}{_TIME})\s*{_S2}(?P<rest>.*)$", re.S
)
GENERIC_TIME_FIRST = re.compile(
    rf"^(?P<ob>\[)?\s*(?P<dt>{_TIME}{_S1}{_DATE})\s*{_S2}(?P<rest>.*)$", re.S
)


@dataclass(frozen=True)
class Shape:
    """The header layout of one file, fixed from its first lines (every header has the same)."""

    bracket: bool
    time_first: bool
    date_sep: str
    year: bool  # a third date component is present
    era: bool
    date_dot: bool
    s1: str  # ",", " ", "à", "klo", "-"
    time_sep: str
    seconds: bool
    ampm: bool
    time_dot: bool
    s2: str  # "]", "-", ":", ";", " "

    def describe(self) -> str:
        date = self.date_sep.join(["N", "N", "N"] if self.year else ["N", "N"])
        time = self.time_sep.join(["h", "mm", "ss"] if self.seconds else ["h", "mm"])
        if self.ampm:
            time += " AM/PM"
        sep1 = {",": ", ", " ": " "}.get(self.s1, f" {self.s1} ")
        core = f"{time}{sep1}{date}" if self.time_first else f"{date}{sep1}{time}"
        if self.bracket:
            return f"[{core}] Author: body"
        sep2 = {"-": " - ", ":": ": ", ";": "; ", " ": " "}[self.s2]
        return f"{core}{sep2}Author: body"


def _s1_kind(text: str) -> str:
    text = text.strip()
    return text if text else " "


def _s2_kind(text: str) -> str:
    text = text.strip()
    return text if text else " "


def shape_of(m: re.Match[str], time_first: bool) -> Shape | None:
    s2 = _s2_kind(m["s2"])
    if (s2 == "]") != bool(m["ob"]):
        return None
    if s2 == " " and not m["ddot"]:
        return None
    return Shape(
        bracket=bool(m["ob"]),
        time_first=time_first,
        date_sep=m["ds"],
        year=m["c"] is not None,
        era=m["era"] is not None,
        date_dot=m["ddot"] is not None,
        s1=_s1_kind(m["s1"]),
        time_sep=m["ts"],
        seconds=m["s"] is not None,
        ampm=m["ap"] is not None,
        time_dot=m["tdot"] is not None,
        s2=s2,
    )


def generic_shape(view: str) -> tuple[Shape, re.Match[str]] | None:
    """The shape of a header line read by the permissive grammar, or ``None``."""
    m = GENERIC_DATE_FIRST.match(view)
    if m is not None:
        shape = shape_of(m, False)
        if shape is not None:
            return shape, m
    m = GENERIC_TIME_FIRST.match(view)
    if m is not None:
        shape = shape_of(m, True)
        if shape is not None:
            return shape, m
    return None


def compile_shape(shape: Shape, block: bool = False) -> re.Pattern[str]:
    """A strict header regex for one file: only lines laid out exactly like its headers match,
    so continuation lines that merely look like dates stay part of the message above.

    ``block``: the same header grammar for ``finditer`` over many lines at once, each preceded by
    ``"\\n"`` (white space never reaches into the next line). It captures the whole ``line`` and,
    instead of ``rest``, the author ``au`` where the line has the common form (``Author: body``,
    the author up to 80 characters with no colon or quote) and ``first``, the body on the line;
    else ``au`` is ``None`` and ``first`` is all of ``rest``."""
    if block:
        return re.compile(_shape_source(shape, r"[^\S\n]", r"(?=\n|\Z)", _BLOCK_TAIL))
    return re.compile(_shape_source(shape, r"\s", "$", r"(?P<rest>.*)$"), re.S)


_BLOCK_TAIL = '(?:(?P<au>[^:\n"\u201c\u201d]{1,80}): )?(?P<first>[^\n]*)'


def _shape_source(shape: Shape, ws: str, end: str, tail: str) -> str:
    """The header pattern with ``ws`` for white space and ``end`` for the end of the line."""
    ds = r"\x20" if shape.date_sep == " " else re.escape(shape.date_sep)
    # Groups absent from this layout sit in a second branch that never matches, so every match
    # has the same group names (None when absent) and the header branch tries none of them.
    absent: list[str] = []
    date = rf"(?P<a>\d{{1,4}}){ds}\x20?(?P<b>\d{{1,4}})"
    if shape.year:
        date += rf"{ds}\x20?(?P<c>{_YEARISH})"
        if shape.era:
            date += r"(?P<era>\x20?BE)"
        else:
            absent.append("era")
    else:
        absent += ["c", "era"]
    date += r"\.?" if shape.date_dot else ""
    ts = re.escape(shape.time_sep)
    time = rf"(?P<h>\d{{1,2}}){ts}(?P<mi>\d{{2}})"
    if shape.seconds:
        time += rf"{ts}(?P<s>\d{{2}})"
    else:
        absent.append("s")
    if shape.ampm:
        time += rf"\s*(?P<ap>{_AMPM})".replace(r"\s", ws)
    else:
        absent.append("ap")
    time += r"\.?" if shape.time_dot else ""
    s1 = {",": r"\s*,\s*", " ": r"\s+"}.get(shape.s1, rf"\s+{re.escape(shape.s1)}\s+")
    s2 = {
        "]": r"\]\s*",
        "-": rf"\s*-(?:\s+|{end})",
        ":": r":\s+",
        ";": r";\s+",
        " ": r"\s+(?=\S)",
    }[shape.s2]
    s1, s2 = s1.replace(r"\s", ws), s2.replace(r"\s", ws)
    # The date and the time as wholes too: a reading is remembered by each text (a chat repeats
    # its days and its times of day far more often than a date and time together).
    date, time = f"(?P<dd>{date})", f"(?P<tt>{time})"
    core = f"{time}{s1}{date}" if shape.time_first else f"{date}{s1}{time}"
    opening = rf"\[{ws}*" if shape.bracket else ""
    never = "".join(f"(?P<{name}>)" for name in absent)
    header = rf"{opening}(?P<dt>{core}){ws}*{s2}{tail}"
    if ws != r"\s":
        return rf"\n(?P<line>{header}|(?!){never})" if never else rf"\n(?P<line>{header})"
    return rf"^(?:{header}|(?!){never})" if never else rf"^{header}"


# --- dates ----------------------------------------------------------------------------------------

ORDERS = ("DMY", "MDY", "YMD")


def year_value(text: str, era: bool) -> int:
    """A calendar year from a year component: 2-digit years are 20yy (Pustur ``normalizeDate``,
    whatstk ``_parse_line``), Buddhist era minus 543, Japanese eras Reiwa (R1 = 2019) and Heisei
    (H1 = 1989) as in whats_json ``test/data/calendars``."""
    if text[0] in "RH":
        base = 2018 if text[0] == "R" else 1988
        return base + int(text[1:])
    value = int(text)
    if era:
        return value - 543
    if len(text) <= 2:
        return 2000 + value
    return value


@dataclass
class OrderEvidence:
    """Streaming counters from which the day/month order of one file is decided.

    ``p`` and ``q`` are the two non-year components in the order they are written.
    """

    year_pos: int | None = None
    headers: int = 0
    max_p: int = 0
    max_q: int = 0
    p_over_12: int = 0
    q_over_12: int = 0
    p_drops: int = 0  # p fell while q rose within one year: p behaves like a day
    q_drops: int = 0
    p_changes: int = 0
    q_changes: int = 0
    _prev: tuple[int, int, int] | None = field(default=None, repr=False)
    _first: tuple[int, int, int] | None = field(default=None, repr=False)  # for merge()

    def add(self, p: int, q: int, year: int) -> None:
        if self._first is None:
            self._first = (p, q, year)
        self.headers += 1
        self.max_p = max(self.max_p, p)
        self.max_q = max(self.max_q, q)
        self.p_over_12 += p > 12
        self.q_over_12 += q > 12
        if self._prev is not None:
            self._compare(self._prev, p, q, year)
        self._prev = (p, q, year)

    def _compare(self, prev: tuple[int, int, int], p: int, q: int, year: int) -> None:
        """A date against the one before it (within one year only)."""
        pp, pq, py = prev
        if py == year:
            if p < pp and q > pq:
                self.p_drops += 1
            elif q < pq and p > pp:
                self.q_drops += 1
            self.p_changes += p != pp
            self.q_changes += q != pq

    def repeat(self, times: int) -> None:
        """The date last added, seen ``times`` more times in a row: nothing new to compare."""
        if times and self._prev is not None:
            p, q, _ = self._prev
            self.headers += times
            self.p_over_12 += times * (p > 12)
            self.q_over_12 += times * (q > 12)

    def merge(self, later: OrderEvidence) -> None:
        """Add the evidence of the headers that follow this one's (gathered from scratch), as
        if added here: ``later``'s first date compared with this one's last. (Its first
        header, when it has this one's last date, was added there rather than repeated: the same
        counts, and the comparison of a date with itself changes nothing.)"""
        first = later._first
        if first is not None and self._prev is not None:
            self._compare(self._prev, *first)
        self.headers += later.headers
        self.max_p = max(self.max_p, later.max_p)
        self.max_q = max(self.max_q, later.max_q)
        self.p_over_12 += later.p_over_12
        self.q_over_12 += later.q_over_12
        self.p_drops += later.p_drops
        self.q_drops += later.q_drops
        self.p_changes += later.p_changes
        self.q_changes += later.q_changes
        if self._first is None:
            self._first = first
        if later._prev is not None:
            self._prev = later._prev

    def as_dict(self) -> dict[str, Any]:
        return {
            "headers": self.headers,
            "year_position": self.year_pos,
            "max_first": self.max_p,
            "max_second": self.max_q,
            "first_above_12": self.p_over_12,
            "second_above_12": self.q_over_12,
            "first_decreased_as_second_rose": self.p_drops,
            "second_decreased_as_first_rose": self.q_drops,
            "first_changes": self.p_changes,
            "second_changes": self.q_changes,
        }


@dataclass
class OrderDecision:
    day_first: bool | None  # of the two non-year components, is the first one the day?
    confidence: str  # certain / high / low / ambiguous / conflict / override / no-year
    reason: str

    def order_name(self, year_pos: int | None) -> str:
        if self.day_first is None:
            return "ambiguous"
        dm = "DM" if self.day_first else "MD"
        if year_pos is None:
            return dm
        return dm[:year_pos] + "Y" + dm[year_pos:]


def decide_order(ev: OrderEvidence, forced: str | None) -> OrderDecision:
    """Day-first or month-first for one file, from the strongest evidence available.

    In order: a value above 12 (only a day can be), a value that falls while the other rises
    within one year (the day resets when the month turns), then which component changes more
    often (the day). Same evidence as Pustur ``src/date.ts`` (checkAbove12, checkDecreasing,
    changeFrequencyAnalysis) but a file none of them decides is reported ambiguous instead of
    defaulting to day-first.
    """
    if forced:
        return OrderDecision(forced == "DMY", "override", f"date order {forced} given by the user")
    if ev.p_over_12 and ev.q_over_12:
        return OrderDecision(
            None, "conflict", "both components exceed 12 in some headers: not one date order"
        )
    if ev.p_over_12:
        return OrderDecision(True, "certain", f"first component reaches {ev.max_p} (> 12)")
    if ev.q_over_12:
        return OrderDecision(False, "certain", f"second component reaches {ev.max_q} (> 12)")
    if ev.year_pos == 0:
        # No locale writes year/day/month (whatstk assets/header_format_support.json lists
        # year-first only as y/m/d), so a year-first file with no contrary evidence is y/m/d.
        return OrderDecision(False, "high", "year written first: year/month/day")
    if ev.p_drops and not ev.q_drops:
        return OrderDecision(
            True, "high", f"first component fell while the second rose {ev.p_drops} time(s)"
        )
    if ev.q_drops and not ev.p_drops:
        return OrderDecision(
            False, "high", f"second component fell while the first rose {ev.q_drops} time(s)"
        )
    if ev.p_changes != ev.q_changes and not (ev.p_drops and ev.q_drops):
        day_first = ev.p_changes > ev.q_changes
        return OrderDecision(
            day_first,
            "low",
            f"the {'first' if day_first else 'second'} component changes more often "
            f"({ev.p_changes} vs {ev.q_changes}); the day changes more often than the month",
        )
    return OrderDecision(
        None, "ambiguous", "no component above 12 and no change pattern tells day from month"
    )


def split_date(a: str, b: str, c: str | None, year_pos: int | None) -> tuple[int, int, str | None]:
    """The two non-year components (as written) and the year text."""
    if year_pos is None or c is None:
        return int(a), int(b), None
    comps = [a, b, c]
    year = comps.pop(year_pos)
    return int(comps[0]), int(comps[1]), year


def to_hour(hour: int, ampm: str | None) -> int:
    """24 h hour from a 12 h clock: 12 AM is 00, 12 PM is 12 (Pustur ``convertTime12to24``)."""
    return clock_hour(hour, ampm)[0]


def clock_hour(hour: int, ampm: str | None) -> tuple[int, bool]:
    """(24 h hour, whether the 12 h reading was impossible).

    Real exports hold hours a 12 h clock cannot show (``23:59 PM``, ``00:30 PM``): the digits are
    then the 24 h value the phone meant, and the marker is the inconsistency to flag."""
    if not ampm:
        return hour, False
    pm = ampm[0] in "pPم"
    if hour > 12 or (hour == 0 and pm):
        return hour, True
    if hour == 12:
        return (12 if pm else 0), False
    return (hour + 12 if pm else hour), False


# --- day/month order when the dates cannot tell ----------------------------------------------------

# Languages whose locales write the day before the month (CLDR short date patterns: es "d/M/yy",
# pt "dd/MM/y", de "dd.MM.yy", fr "dd/MM/y", it "dd/MM/yy", nl "dd-MM-y", ru "dd.MM.y",
# tr "d.MM.y", pl "d.MM.y", id "dd/MM/yy", ar "d/M/y", cs "dd.MM.yy"). English is written both
# ways (en-US month first, en-GB day first), so it is no evidence.
DAY_FIRST_LANGUAGES = {
    "es": "Spanish",
    "pt": "Portuguese",
    "de": "German",
    "fr": "French",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "tr": "Turkish",
    "pl": "Polish",
    "id": "Indonesian",
    "ar": "Arabic",
    "cs": "Czech",
}
# Regions whose locales write the month first (CLDR: en-US "M/d/yy", and the territories that use
# en-US formats); every other region's dominant locale writes the day first or the year first.
MONTH_FIRST_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "PH", "FM", "MH", "PW"})


def marker_language(ampm: str | None) -> str | None:
    """The language an AM/PM marker is written in, where its spelling tells: ``a. m.``/``p. m.``
    with a space is the Spanish form (CLDR es ``a. m.``; Pustur format 11, chat-miner es-US test),
    ``ص``/``م`` Arabic (whats_json ``arabic_ios.txt``)."""
    if not ampm:
        return None
    if ampm in ("م", "ص"):
        return "ar"
    if re.fullmatch(r"[aApP]\. [mM]\.", ampm):
        return "es"
    return None


# System notices and placeholders in the language of the app (whats_json test/data/languages
# real exports; Android strings revoked_msg_*; German log of skowalak/whatsapp-to-sqlite).
_LANGUAGE_PHRASES = [
    (
        "es",
        re.compile(
            r"cifrados de extremo a extremo|Se eliminó este mensaje|Este mensaje fue eliminado|Eliminaste este mensaje|imagen omitida|archivo adjunto",
            re.I,
        ),
    ),
    (
        "pt",
        re.compile(
            r"criptografia de ponta a ponta|Mensagem apagada|Esta mensagem foi apagada|apagou esta mensagem|arquivo anexado|Mídia omitida",
            re.I,
        ),
    ),
    (
        "de",
        re.compile(
            r"Ende-zu-Ende-verschlüsselt|Diese Nachricht wurde gelöscht|diese Nachricht gelöscht|hat die Gruppe|hinzugefügt|Medien (?:weggelassen|ausgeschlossen)",
            re.I,
        ),
    ),
    (
        "fr",
        re.compile(
            r"chiffrés de bout en bout|Ce message a été supprimé|avez supprimé ce message|fichier joint",
            re.I,
        ),
    ),
    (
        "it",
        re.compile(
            r"crittografati end-to-end|Questo messaggio è stato eliminato|Hai eliminato questo messaggio",
            re.I,
        ),
    ),
    (
        "nl",
        re.compile(
            r"end-to-end versleuteld|Dit bericht is verwijderd|dit bericht verwijderd|Media weggelaten",
            re.I,
        ),
    ),
    ("ru", re.compile(r"Данное сообщение удалено|удалили данное сообщение|Без медиафайлов", re.I)),
    ("tr", re.compile(r"Bu mesaj silindi", re.I)),
    ("pl", re.compile(r"Ta wiadomość została usunięta", re.I)),
    ("id", re.compile(r"Pesan ini dihapus", re.I)),
    ("ar", re.compile(r"تم حذف هذه الرسالة")),
]


def text_language(text: str) -> str | None:
    """The language of an app notice or placeholder, when it is one of the known phrases
    (called on system lines and placeholders only)."""
    for language, pattern in _LANGUAGE_PHRASES:
        if pattern.search(text):
            return language
    return None


def assumed_order(hints: list[tuple[str, str]], region: str) -> OrderDecision:
    """Day or month first for a file whose dates cannot tell, from the file's own language
    evidence (``hints``: (language, where it was seen), strongest first), else the case region.

    The result is a stated default, never presented as read from the data: confidence
    ``assumed`` and the evidence named in the reason."""
    for language, where in hints:
        if language in DAY_FIRST_LANGUAGES:
            return OrderDecision(
                True,
                "assumed",
                f"{where} is {DAY_FIRST_LANGUAGES[language]}, whose locales write the day first",
            )
    if region.upper() in MONTH_FIRST_REGIONS:
        return OrderDecision(
            False, "assumed", f"case region {region} writes the month first (no language evidence)"
        )
    return OrderDecision(
        True, "assumed", f"case region {region} writes the day first (no language evidence)"
    )


def naive_datetime(
    day: int, month: int, year: int, hour: int, minute: int, second: int
) -> datetime | None:
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


# --- bodies ---------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return " ".join(text.strip().rstrip(".。").casefold().split())


# "Deleted for everyone" placeholders (starkdmi/whats_json real exports in test/data/languages;
# app string keys revoked_msg_incoming/outgoing in its tool/patterns_generator/data strings files). Value: True when the owner
# (the exporting user) deleted it, which also names the owner's display name as the author.
DELETED_PHRASES: dict[str, bool] = {
    # en
    "this message was deleted": False,
    "you deleted this message": True,
    # es
    "se eliminó este mensaje": False,
    "este mensaje fue eliminado": False,
    "eliminaste este mensaje": True,
    # pt-BR / pt-PT
    "mensagem apagada": False,
    "esta mensagem foi apagada": False,
    "apagou esta mensagem": True,
    "você apagou esta mensagem": True,
    # de
    "diese nachricht wurde gelöscht": False,
    "du hast diese nachricht gelöscht": True,
    # fr
    "ce message a été supprimé": False,
    "vous avez supprimé ce message": True,
    # it
    "questo messaggio è stato eliminato": False,
    "hai eliminato questo messaggio": True,
    # nl
    "dit bericht is verwijderd": False,
    "u hebt dit bericht verwijderd": True,
    "je hebt dit bericht verwijderd": True,
    # ru, tr, pl, id, ar, ja
    "данное сообщение удалено": False,
    "вы удалили данное сообщение": True,
    "bu mesaj silindi": False,
    "ta wiadomość została usunięta": False,
    "pesan ini dihapus": False,
    "تم حذف هذه الرسالة": False,
    "このメッセージは削除されました": False,
}
# By-admin variants extend the "was deleted" phrase ("This message was deleted by an admin.",
# "... by admin <name>"), so a phrase followed by a space and more words is still a deletion.
_DELETED_PREFIXES = tuple(p + " " for p, own in DELETED_PHRASES.items() if not own)


def deletion_marker(body: str) -> bool | None:
    """``None`` when ``body`` is no deletion placeholder; else whether the owner deleted it."""
    if len(body) > 120 or body.lstrip()[:3].casefold() not in DELETED_STARTS:
        return None
    folded = _fold(body)
    if len(folded) > 80:
        return None
    if folded in DELETED_PHRASES:
        return DELETED_PHRASES[folded]
    if folded.startswith(_DELETED_PREFIXES):
        return False
    return None


# Cheap first test: nearly every body is rejected on its first three letters.
DELETED_STARTS = frozenset(p[:3] for p in DELETED_PHRASES)


def may_be_deletion(body: str) -> bool:
    """False for a body that cannot be a deletion placeholder (the cheap part of
    :func:`deletion_marker`, for the per-line loop, which inlines it)."""
    return body[:3].casefold() in DELETED_STARTS or body[:1].isspace()


# Appended to an edited message's body (Dlurak/Whis src/lib/constants/whatsapp.ts).
EDITED_SUFFIXES = ("<This message was edited>",)


def strip_edited(body: str) -> tuple[str, bool]:
    stripped = body.rstrip()
    for suffix in EDITED_SUFFIXES:
        if stripped.endswith(suffix):
            return stripped[: -len(suffix)].rstrip(), True
    return body, False


_FILENAME = re.compile(r"^[^<>:/\\]*\.[A-Za-z0-9]{1,5}$")
# iOS "<attached: NAME>" in any language, with the spaced old form "< attached: NAME >" and the
# French "< pièce jointe : NAME >" (Pustur regexAttachment; whats_json Localizable.strings key zQ+5d).
_ANGLE_ATTACHED = re.compile(
    r"^(?P<pre>.*?)\s*<\s*(?P<label>[^<>:]{1,40}?)\s*:\s*(?P<file>[^<>]+?)\s*>$"
)
# Oldest iOS form "2015-08-04-PHOTO-00004762.jpg <attached>" and Turkish "<NAME eklendi>".
_ANGLE_WORD_AFTER = re.compile(
    r"^(?P<file>\S[^<>]*?\.[A-Za-z0-9]{1,5})\s*<\s*(?P<label>[^<>\s]{2,20})\s*>$"
)
_ANGLE_FILE_FIRST = re.compile(
    r"^<\s*(?P<file>[^<>\s][^<>]*?\.[A-Za-z0-9]{1,5})\s+(?P<label>[^<>\s.]{2,20})\s*>$"
)
# Android "NAME (file attached)" in any language (strings.xml email_file_attached).
_PAREN_ATTACHED = re.compile(r"^(?P<file>\S[^()]*?\.[A-Za-z0-9]{1,5}) \((?P<label>[^()]{3,40})\)$")
# Android's device file names, so a localised "(…)" label nobody listed is still recognised.
_ANDROID_MEDIA_NAME = re.compile(
    r"^(?:IMG|VID|PTT|AUD|STK|DOC|PHOTO|VIDEO|AUDIO)-\d{8}-WA\d{4,}\.[A-Za-z0-9]{2,5}$"
)
_ANDROID_ATTACHED_LABELS = {
    "file attached",
    "archivo adjunto",
    "archivo adjuntado",
    "arquivo anexado",
    "ficheiro anexado",
    "datei angehängt",
    "fichier joint",
    "file allegato",
    "bestand bijgevoegd",
    "файл добавлен",
    "soubor byl přiložen",
}
# Whole-body placeholders for media left out of the export (Android "<Media omitted>", iOS
# "image omitted", ...; whats_json strings files and real exports, whatsapp-to-sqlite tests).
_OMITTED_ANGLE = re.compile(r"^<(?P<label>[^<>:]{2,40})>$")
_OMITTED_WORDS = (
    "omitted",
    "weggelassen",
    "ausgeschlossen",
    "omitido",
    "omitida",
    "ocultado",
    "omis",
    "absente",
    "omesso",
    "omessa",
    "weggelaten",
    "vynechány",
    "пропущен",
    "без медиафайлов",
)


# whats_json test/data/languages/english_ios.txt and spanish_ios.txt (real exports).
_OMITTED_PHRASES = frozenset(
    {
        "image omitted",
        "video omitted",
        "audio omitted",
        "sticker omitted",
        "gif omitted",
        "document omitted",
        "contact card omitted",
        "imagen omitida",
        "video omitido",
        "audio omitido",
        "sticker omitido",
        "gif omitido",
        "tarjeta de contacto omitida",
        "documento omitido",
    }
)
_OMITTED_DOCUMENT = (" document omitted", " documento omitido")


@dataclass
class MediaMarker:
    file: str | None  # the attachment's file name, None when the media was omitted
    label: str  # the marker text as printed ("attached", "file attached", "Media omitted")
    caption: str  # text on the marker line besides the marker itself (iOS document titles)


def media_marker(body: str, lrm: bool = False, sibling_exists: Any = None) -> MediaMarker | None:
    """The attachment or omitted-media marker that makes up ``body`` (cleaned, one line).

    ``lrm``: the body began with U+200E, as iOS prints "image omitted" and other placeholders.
    ``sibling_exists(name)`` confirms a file name that only a generic ``name (…)`` shape found.
    """
    text = body.strip()
    if not text:
        return None
    if text.endswith(">"):
        m = _ANGLE_ATTACHED.match(text)
        if m and _FILENAME.match(m["file"]):
            return MediaMarker(m["file"], m["label"].strip(), m["pre"].strip(" •"))
        m = _ANGLE_WORD_AFTER.match(text) or _ANGLE_FILE_FIRST.match(text)
        if m:
            return MediaMarker(m["file"], m["label"], "")
        m = _OMITTED_ANGLE.match(text)
        if m and len(m["label"].split()) <= 4:
            return MediaMarker(None, m["label"].strip(), "")
    if text.endswith(")"):
        m = _PAREN_ATTACHED.match(text)
        if m:
            name, label = m["file"], m["label"].strip()
            if (
                label.casefold() in _ANDROID_ATTACHED_LABELS
                or _ANDROID_MEDIA_NAME.match(name)
                or (sibling_exists is not None and sibling_exists(name))
            ):
                return MediaMarker(name, label, "")
    words = text.casefold().split()
    if not lrm:
        # iOS placeholders whose LRM a copy of the export lost: known phrases only.
        folded = " ".join(words)
        if folded in _OMITTED_PHRASES or (len(words) <= 8 and folded.endswith(_OMITTED_DOCUMENT)):
            return MediaMarker(None, text, "")
        return None
    # "imagen omitida", "Tarjeta de contacto omitida", and documents with their title in front:
    # "Resume.pdf • 2 páginas documento omitido" (whats_json test/data/languages/spanish_ios.txt).
    if 2 <= len(words) <= 8 and words[-1] in _OMITTED_WORDS:
        return MediaMarker(None, text, "")
    if 2 <= len(words) <= 4 and words[0] in _OMITTED_WORDS:
        return MediaMarker(None, text, "")
    if " ".join(words[-2:]) == "без медиафайлов":
        return MediaMarker(None, text, "")
    return None


@dataclass(frozen=True)
class CallLine:
    """What a call line of an export says. ``state`` is ``missed``, ``silenced`` or ``None``;
    ``outcome`` what the detail after the comma says (``no_answer``, ``elsewhere``,
    ``duration``, ``call_back``, or ``None``); ``seconds`` the duration when one is printed."""

    video: bool
    group: bool
    state: str | None
    outcome: str | None
    seconds: int | None
    detail: str | None


# Android prints a missed call as "Missed voice call" / "Missed video call" / "Missed group voice
# call" under the caller's name (whats_json test/data/languages/english_android.txt); iOS adds a
# detail after a comma: "Missed voice call, Tap to call back", "Voice call, No answer", "Video
# call, 6 min", "Voice call, Answered on other device", "Silenced voice call, Focus mode" (public
# iOS export samples; see fixtures/whatsapp_txt/README.md). English only.
_CALL_LINE = re.compile(
    r"(?P<state>missed |silenced )?(?P<group>group )?(?P<media>voice|video) call"
    r"(?:[,.] (?P<detail>.{1,60}))?"
)
_CALL_DURATION = re.compile(r"(?:(\d{1,3}) (hr|h|min|sec|s)\b ?)+")
_CALL_UNITS = {"hr": 3600, "h": 3600, "min": 60, "sec": 1, "s": 1}


def call_line(body: str) -> CallLine | None:
    """A call line's facts, or ``None`` for any other text. A bare "Voice call" with nothing
    after it, or with a detail that is not one of the app's, is a person's text."""
    folded = _fold(strip_invisible(body))
    m = _CALL_LINE.fullmatch(folded)
    if m is None:
        return None
    state = (m["state"] or "").strip() or None
    detail = m["detail"]
    outcome: str | None = None
    seconds: int | None = None
    if detail is not None:
        if detail in ("tap to call back", "click to call back"):
            outcome = "call_back"
        elif detail == "no answer":
            outcome = "no_answer"
        elif detail == "answered on other device":
            outcome = "elsewhere"
        elif _CALL_DURATION.fullmatch(detail):
            outcome = "duration"
            seconds = sum(
                int(n) * _CALL_UNITS[unit]
                for n, unit in re.findall(r"(\d+) (hr|h|min|sec|s)", detail)
            )
        elif state != "silenced":
            return None  # "Video call, tonight?": typed by a person
    elif state is None:
        return None
    return CallLine(m["media"] == "video", m["group"] is not None, state, outcome, seconds, detail)


def call_marker(body: str) -> bool:
    return call_line(body) is not None


# System events, for bodies that are not "Author: text" and to tell a group chat. Android prints
# them with no author; iOS with the chat name as author and a leading LRM (whats_json group
# exports; Pustur tests/index.test.ts; German log in skowalak/whatsapp-to-sqlite tests/logs).
_SYSTEM_PATTERNS = re.compile(
    r"(?:end-to-end encrypted|end-to-end encryption|Ende-zu-Ende-verschlüsselt"
    r"|security code with .* changed|Sicherheitsnummer"
    r"|created group|changed the subject|changed this group's (?:icon|settings)"
    r"|changed the group description|deleted this group's icon|joined using this group's invite link"
    r"| added | added$|^added |\bremoved\b|\bleft$|You're now an admin|now an admin"
    r"|changed their phone number|changed to \+|changed the message timer|updated the message timer"
    r"|turned (?:on|off) disappearing messages|disappearing messages"
    r"|hat die Gruppe|hat dich hinzugefügt|hat .* hinzugefügt|hat .* entfernt|gewechselt\."
    r"|Gruppe verlassen)",
    re.I,
)
# Events that only happen in groups (is_group evidence).
_GROUP_EVENTS = re.compile(
    r"(?:created group|changed the subject|changed this group's|changed the group description"
    r"|deleted this group's icon|joined using this group's invite link|Messages to this group"
    r"| added | added$|^added |\bremoved\b|\bleft$|now an admin|hat die Gruppe|hinzugefügt"
    r"|Gruppe verlassen)",
    re.I,
)
# "You created group", "You added Bob", "You changed the subject" (Android en): the exporting owner
# speaking of himself; tells nothing of his display name but shows the format's "You" marker.
_YOU_EVENT = re.compile(r"^(?:You\b|Du |Vous |Tú |Você |Hai |Je |U )", re.I)


# Notices no person types, recognised even where a copy of the export lost its LRMs (the chat
# name's encryption and security-code notices: whats_json test/data/languages/*_ios.txt).
_STRONG_SYSTEM = re.compile(
    r"(?:^Messages and calls are end-to-end encrypted\.|^Messages to this group are now secured"
    r"|^Your security code with .{1,80} changed\.|^Los mensajes y las llamadas están cifrados"
    r"|Ende-zu-Ende-verschlüsselt\. Niemand|criptografia de ponta a ponta\. Ninguém"
    r"|chiffrés de bout en bout\.|crittografati end-to-end\.|end-to-end versleuteld\."
    r"| created group [\"“]| changed the subject (?:from|to) [\"“]"
    r"| joined using this group's invite link$)"
)


def strong_system(text: str) -> bool:
    return bool(_STRONG_SYSTEM.search(text))


# "Dmitry S added you" (whats_json test/data/android group export), German "… hat dich
# hinzugefügt." (whatsapp-to-sqlite German log): the named person is not the exporting owner.
_ACTS_ON_YOU = re.compile(
    r"^(?P<who>.+?) (?:added|removed) you$|^(?P<wer>.+?) hat dich (?:hinzugefügt|entfernt)\.?$"
)


def acts_on_owner(text: str) -> str | None:
    """The person a system line shows acting on the owner ("X added you"), else ``None``."""
    m = _ACTS_ON_YOU.match(text.strip())
    if m is None:
        return None
    return m["who"] or m["wer"]


def looks_system(text: str) -> bool:
    return bool(_SYSTEM_PATTERNS.search(text))


def is_group_event(text: str) -> bool:
    return bool(_GROUP_EVENTS.search(text))


def is_you_event(text: str) -> bool:
    return bool(_YOU_EVENT.match(text))


def split_author(rest: str) -> tuple[str | None, str]:
    """``(author, body)`` for an authored line, ``(None, rest)`` for an Android system line.

    The author runs to the first ``": "``. A candidate with an unbalanced quote is the first part
    of a system line quoting a group subject (``You changed the subject from "a: b"``), so the
    line is not split there.
    """
    idx = rest.find(": ")
    if idx <= 0:
        if rest.endswith(":") and 0 < len(rest) - 1 <= 80:
            return rest[:-1], ""  # empty body ("03/02/17, 18:42 - Luke: ", Pustur test)
        return None, rest
    author = rest[:idx]
    if (
        idx > 80
        or ('"' in author and author.count('"') % 2)
        or (("“" in author or "”" in author) and author.count("“") != author.count("”"))
    ):
        return None, rest
    return author, rest[idx + 2 :]


_PHONEISH = re.compile(r"^\+?[\d\s().\-]{6,}$")


def is_phone_author(author: str) -> bool:
    return bool(_PHONEISH.match(author.strip()))


# Android file-name templates ("WhatsApp Chat with %s", strings.xml email_conversation_subject)
# as localized in real exports (whats_json test/data/android, franklinbaldo/egregora test zip).
_TITLE_PATTERNS = [
    ("en", re.compile(r"^WhatsApp Chat with (?P<t>.+?)(?: \(\d+\))?\.txt$", re.I)),
    ("de", re.compile(r"^WhatsApp Chat mit (?P<t>.+?)(?: \(\d+\))?\.txt$", re.I)),
    ("pt", re.compile(r"^Conversa do WhatsApp com (?P<t>.+?)(?: \(\d+\))?\.txt$", re.I)),
    ("nl", re.compile(r"^WhatsApp-chat met (?P<t>.+?)(?: \(\d+\))?\.txt$", re.I)),
    ("cs", re.compile(r"^Chat WhatsApp s uživatelem (?P<t>.+?)(?: \(\d+\))?\.txt$", re.I)),
    ("ru", re.compile(r"^Чат WhatsApp с контактом (?P<t>.+?)(?: \(\d+\))?\.txt$", re.I)),
    (None, re.compile(r"^WhatsApp Chat - (?P<t>.+?)(?: \(\d+\))?\.(?:zip|txt)$", re.I)),
]


def title_from_name(name: str) -> str | None:
    found = _title_match(name)
    return found[1] if found else None


def name_language(name: str) -> str | None:
    """The language of an Android export's file-name template ("WhatsApp Chat mit X.txt": de)."""
    found = _title_match(name)
    return found[0] if found else None


def _title_match(name: str) -> tuple[str | None, str] | None:
    name = clean(name).strip()
    for language, pattern in _TITLE_PATTERNS:
        m = pattern.match(name)
        if m:
            return language, m["t"].strip()
    return None
