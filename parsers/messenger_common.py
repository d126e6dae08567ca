"""Shared helpers for the Facebook Messenger parsers (not a parser itself).

* :func:`fix_mojibake` repairs the Latin-1 mis-decoding of every string in "Download Your
  Information" (DYI) JSON (``"caf\\u00c3\\u00a9"`` is "café"): ``s.encode("latin-1").decode("utf-8")``
  as in ``joweich/chat-miner:chatminer/chatparsers.py`` (PR joweich/chat-miner#78), guarded
  because a string that is already correct either holds characters above U+00FF
  (MasterScrat/Chatistics#65) or is not valid UTF-8 once encoded; the original is then kept, as
  ``kenn-io/msgvault:internal/fbmessenger/slug.go`` ``DecodeMojibake`` does.
* :class:`DuplicateKeys` gives one message the same ``Message.duplicate_key`` in every copy of it
  (DYI JSON, DYI HTML, the end-to-end-encrypted export, the Android app databases).
* :func:`download_owner` works out whose download a DYI folder is.
* :func:`resolve_media` finds a media file named by a DYI/E2EE ``uri`` inside the evidence only.
* :func:`thread_call` builds the :class:`~triage.model.Call` of a call entry in a thread (the
  downloads and ``threads_db2`` keep calls as thread entries), and :func:`call_sentence` reads the
  English call sentence a download prints for one.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import mimetypes
import posixpath
import re
import unicodedata
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from triage.evidence import Container, EvidenceFile
from triage.identity import normalise_name, party
from triage.model import Attachment, Call, CallDirection, CallResult, Party, Provenance
from triage.registry import ParseContext

#: Where the messages folder sits in the three DYI layouts (kenn-io/msgvault
#: ``internal/fbmessenger/discover.go`` ``messagesRootCandidates``).
ACTIVITY_FOLDERS = ("your_activity_across_facebook", "your_facebook_activity")
#: Thread sections of a download; all share one file format (same source).
SECTIONS = ("inbox", "archived_threads", "filtered_threads", "message_requests", "e2ee_cutover")
MESSAGE_JSON = re.compile(r"^message_(\d+)\.json$")
MESSAGE_HTML = re.compile(r"^message_(\d+)\.html$")

PLATFORM = "messenger"


# -- text ---------------------------------------------------------------------------------------
def fix_mojibake(text: str) -> str:
    """Undo Facebook's Latin-1 mis-decoding of UTF-8 in one string; unchanged when not mojibake."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def mojibake_evidence(strings: Iterable[object]) -> dict[str, int]:
    """What a file's strings say about mojibake: how many non-ASCII strings a repair would change
    (``repairable``), how many hold characters above U+00FF and so are already real Unicode
    (``unicode``), and how many are Latin-1 text that is not UTF-8 once encoded (``latin1``)."""
    counts = {"repairable": 0, "unicode": 0, "latin1": 0}
    for text in strings:
        if not isinstance(text, str) or text.isascii():
            continue
        if any(ord(c) > 0xFF for c in text):
            counts["unicode"] += 1
        elif fix_mojibake(text) != text:
            counts["repairable"] += 1
        else:
            counts["latin1"] += 1
    return counts


def decide_mojibake(ctx: ParseContext, file: EvidenceFile, strings: Iterable[object]) -> bool:
    """Whether to repair a whole file's strings, decided from the file's own evidence and
    recorded: only when some strings repair and none is already real Unicode or plain Latin-1
    (a file is written one way throughout), never blindly."""
    counts = mojibake_evidence(strings)
    repair = counts["repairable"] > 0 and counts["unicode"] == 0 and counts["latin1"] == 0
    if counts["repairable"] and not repair:
        ctx.warn(
            file.logical,
            "mixed text encodings: mojibake not repaired",
            f"{counts['repairable']} string(s) look like Latin-1 mojibake, "
            f"{counts['unicode'] + counts['latin1']} are proper text",
        )
    if counts["repairable"] or counts["unicode"] or counts["latin1"]:
        ctx.decide(
            file.logical,
            mojibake=(
                ("repaired" if repair else "not repaired")
                + f" (non-ASCII strings: {counts['repairable']} repairable as UTF-8 read as "
                f"Latin-1, {counts['unicode']} with characters above U+00FF, "
                f"{counts['latin1']} Latin-1 only)"
            ),
        )
    return repair


def fix_all(value: object) -> object:
    """Repair every string inside a decoded JSON value, keys included (per string, never the file)."""
    if isinstance(value, str):
        return fix_mojibake(value)
    if isinstance(value, list):
        return [fix_all(v) for v in value]
    if isinstance(value, dict):
        return {fix_mojibake(k): fix_all(v) for k, v in value.items()}
    return value


def numbered_siblings(file: EvidenceFile, pattern: re.Pattern[str]) -> list[EvidenceFile]:
    """Every ``message_N`` file in ``file``'s folder, in numeric order (message_2 before _10)."""
    prefix = file.folder + "/" if file.folder else ""
    found = []
    for member, other in file.container.files.items():
        if posixpath.dirname(member) != file.folder:
            continue
        m = pattern.match(member[len(prefix) :])
        if m:
            found.append((int(m.group(1)), other))
    return [f for _, f in sorted(found, key=lambda pair: pair[0])]


# -- duplicate keys ------------------------------------------------------------------------------
_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)


def _norm_text(text: str | None) -> str:
    """Text as every copy shows it: mojibake repaired, NFC, links left out (the HTML form
    prints a shared link in the body, the JSON form keeps it apart), whitespace collapsed."""
    if not text:
        return ""
    return " ".join(_URL.sub(" ", unicodedata.normalize("NFC", fix_mojibake(text))).split())


def key_name(name: str) -> str:
    """A display name as every copy spells it: mojibake repaired, accents folded, case and
    punctuation ignored (as kenn-io/msgvault ``slug.go`` ``Slug`` compares names)."""
    folded = unicodedata.normalize("NFKD", fix_mojibake(name))
    letters = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", letters).split()) or normalise_name(name)


class DuplicateKeys:
    """``Message.duplicate_key`` for one thread, the same in every copy of a message.

    The key is a digest of: the thread's participant names (case-folded, sorted), the sender's
    name, the time truncated to the minute in UTC, the text (NFC, whitespace collapsed) or else
    the number of media items, and the occurrence number of that combination in the thread.

    Minute precision because the HTML download only shows minutes (in the account's local time,
    converted with the case zone); the occurrence number keeps two identical messages sent in the
    same minute apart, so they are never taken for copies of each other. Feed messages in time
    order.
    """

    def __init__(self, participants: Iterable[str]) -> None:
        self.scope = "\x1f".join(sorted({key_name(p) for p in participants if p}))
        self.minute: str | None = None
        self.seen: Counter[tuple[str, str, str]] = Counter()

    def key(self, sender: str | None, when: datetime | None, text: str | None, media: int) -> str:
        minute = when.strftime("%Y-%m-%dT%H:%M") if when is not None else "no-time"
        if minute != self.minute:
            # Only messages within the same minute can collide; forget the rest.
            self.minute = minute
            self.seen.clear()
        content = _norm_text(text) or (f"[media x{media}]" if media else "")
        combo = (key_name(sender or ""), minute, content)
        self.seen[combo] += 1
        raw = "\x1e".join((self.scope, *combo, str(self.seen[combo])))
        return "messenger:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


# -- owner -------------------------------------------------------------------------------------
@dataclass
class Owner:
    """Whose messages are outgoing: a display name (downloads) and/or a Facebook id (apps)."""

    name: str | None
    fb_id: str | None
    basis: str

    @property
    def known(self) -> bool:
        return bool(self.name or self.fb_id)

    def is_name(self, name: str | None) -> bool:
        return bool(self.name and name and normalise_name(name) == normalise_name(self.name))


def case_owner_names(ctx: ParseContext) -> set[str]:
    """The case file subject's names, normalised: ``subject.name`` and every ``- name:`` among
    ``subject.identifiers`` (the parse context's ``owner_names``), and name-scheme identifiers."""
    names = {normalise_name(n) for n in ctx.owner_names if n}
    names |= {p.id for p in ctx.owner if p.scheme == "name" and p.id}
    return names


def case_owner_fb_ids(ctx: ParseContext) -> set[str]:
    return {p.id for p in ctx.owner if p.scheme == "facebook" and p.id}


def owner_from_case(ctx: ParseContext, names: Iterable[str]) -> Owner | None:
    """The participant the case file names as the subject, if one does."""
    wanted = case_owner_names(ctx)
    for name in names:
        if name and normalise_name(name) in wanted:
            return Owner(name, None, "a name of the case file's subject matches a participant")
    return None


def download_root(file: EvidenceFile) -> tuple[str, str] | None:
    """(download root, messages folder) for a file inside a DYI download, from its path.

    ``.../messages/<section>/<thread>/message_N.json`` with ``messages`` directly in the download
    or under ``your_activity_across_facebook/`` (2024) or ``your_facebook_activity/`` (2025+).
    """
    parts = file.member.split("/")
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] in SECTIONS and parts[i - 1] == "messages":
            messages = "/".join(parts[:i])
            root_parts = parts[: i - 1]
            if root_parts and root_parts[-1] in ACTIVITY_FOLDERS:
                root_parts = root_parts[:-1]
            return "/".join(root_parts), messages
    return None


def _read_json(file: EvidenceFile) -> object | None:
    try:
        with file.open() as handle:
            return json.loads(handle.read().decode("utf-8-sig"))
    except (OSError, ValueError):
        return None


def _first_str(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value.strip() else None


def _profile_name(container: Container, root: str, messages: str) -> tuple[str, str] | None:
    """The account holder's name as the download itself states it, with the file it came from."""
    auto = container.get(posixpath.join(messages, "autofill_information.json"))
    if auto is not None:
        data = fix_all(_read_json(auto))
        if isinstance(data, dict):
            info = data.get("autofill_information_v2") or {}
            name = _first_str(info.get("FULL_NAME")) if isinstance(info, dict) else None
            if name:
                return name, auto.logical
    prefix = root + "/" if root else ""
    for member, other in sorted(container.files.items()):
        if not member.startswith(prefix) or not member.endswith(
            "profile_information/profile_information.json"
        ):
            continue
        data = fix_all(_read_json(other))
        profile = data.get("profile_v2") if isinstance(data, dict) else None
        name_obj = profile.get("name") if isinstance(profile, dict) else None
        name = _first_str(name_obj.get("full_name")) if isinstance(name_obj, dict) else None
        if name:
            return name, other.logical
    return None


_OWNER_CACHE: weakref.WeakKeyDictionary[Container, dict[tuple[str, str], Owner]] = (
    weakref.WeakKeyDictionary()
)


def download_owner(file: EvidenceFile, kind: str) -> Owner:
    """Whose download this is, when the download says so.

    In order: ``messages/autofill_information.json`` ``autofill_information_v2.FULL_NAME[0]``, the
    profile's ``profile_v2.name.full_name``, else the one participant present in every thread of
    the download (at least two threads). ``kind`` is ``"json"`` or ``"html"``. Cached per
    download because every thread of it asks.
    """
    where = download_root(file)
    if where is None:
        return Owner(None, None, "file is not inside a recognisable DYI folder layout")
    root, messages = where
    cache = _OWNER_CACHE.setdefault(file.container, {})
    if (messages, kind) in cache:
        return cache[(messages, kind)]
    stated = _profile_name(file.container, root, messages)
    if stated:
        owner = Owner(stated[0], None, f"account holder named in {stated[1]}")
    else:
        owner = _common_participant(file.container, messages, kind)
    cache[(messages, kind)] = owner
    return owner


def _common_participant(container: Container, messages: str, kind: str) -> Owner:
    pattern = MESSAGE_JSON if kind == "json" else MESSAGE_HTML
    first_files = {}
    for member, other in sorted(container.files.items()):
        if not member.startswith(messages + "/"):
            continue
        m = pattern.match(posixpath.basename(member))
        folder = posixpath.dirname(member)
        if m and (folder not in first_files or int(m.group(1)) < first_files[folder][0]):
            first_files[folder] = (int(m.group(1)), other)
    common: set[str] | None = None
    names: dict[str, str] = {}
    for _, other in first_files.values():
        found = thread_participants_json(other) if kind == "json" else html_participants(other)
        if not found:
            continue
        folded = {normalise_name(n) for n in found}
        names.update({normalise_name(n): n for n in found})
        common = folded if common is None else common & folded
    threads = len(first_files)
    if threads >= 2 and common is not None and len(common) == 1:
        only = next(iter(common))
        return Owner(names[only], None, f"only participant present in all {threads} threads")
    return Owner(None, None, f"no single participant common to the {threads} thread(s)")


def thread_participants_json(file: EvidenceFile) -> list[str]:
    data = _read_json(file)
    if not isinstance(data, dict):
        return []
    out = []
    for p in data.get("participants") or []:
        name = p.get("name") if isinstance(p, dict) else p
        if isinstance(name, str) and name:
            out.append(fix_mojibake(name))
    return out


_PARTICIPANTS_LINE = re.compile(r"Participants:\s*([^<\n]+)")


def html_participants(file: EvidenceFile) -> list[str]:
    """Names in the "Participants: A, B" header of a DYI HTML thread file."""
    try:
        text = file.head(1 << 20).decode("utf-8-sig", errors="replace")
    except OSError:
        return []
    m = _PARTICIPANTS_LINE.search(text)
    if not m:
        return []
    return split_participants(html_lib.unescape(m.group(1)))


def split_participants(text: str) -> list[str]:
    """Names of a "Participants: A, B and C" line (newer pages join the last with "and")."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names and " and " in names[-1]:
        names[-1:] = [n.strip() for n in names[-1].rsplit(" and ", 1) if n.strip()]
    return names


def resolve_owner(
    file: EvidenceFile, ctx: ParseContext, participants: list[str], stated: Owner
) -> Owner:
    """The case file's subject if he is a participant, else what the source says; warns when
    neither is known (directions are then "unknown")."""
    from_case = owner_from_case(ctx, participants)
    if from_case is not None:
        owner = from_case
    else:
        owner = stated
        if case_owner_names(ctx) and stated.known:
            ctx.warn(
                file.logical,
                "case owner names not among participants",
                f"{', '.join(participants)}; using {stated.name} ({stated.basis})",
            )
    if not owner.known:
        ctx.warn(
            file.logical,
            "owner unknown: directions are 'unknown'",
            f"{owner.basis}; add the name he uses on Facebook to the case file as "
            "subject.identifiers: - name: <his Facebook name>",
        )
    ctx.decide(file.logical, owner=owner.name or owner.fb_id, owner_basis=owner.basis)
    return owner


def owner_party(ctx: ParseContext, owner: Owner) -> Party:
    """The device owner's party (``ctx.owner_party()``, so his id is the case file's) as this
    source names him: a download names its author by display name, and that name is what the
    source holds (``raw``), not the case file's phone number."""
    base = ctx.owner_party()
    if not owner.name:
        return base
    return replace(base, raw=owner.name, name=base.name or owner.name)


def name_party(name: str) -> Party:
    made = party(name, scheme="name")
    assert made is not None
    return made


# -- media ---------------------------------------------------------------------------------------
def safe_uri(uri: str) -> str | None:
    """The uri as a relative '/'-path, or ``None`` when absolute or climbing out with '..'."""
    text = uri.strip().replace("\\", "/")
    if text.startswith("./"):
        text = text[2:]
    if not text or text.startswith("/") or re.match(r"^[A-Za-z]:", text) or "://" in text:
        return None
    if ".." in text.split("/"):
        return None
    return posixpath.normpath(text)


def resolve_media(
    file: EvidenceFile, uri: str, bases: list[str], ctx: ParseContext, locator: str
) -> Attachment:
    """An :class:`Attachment` for ``uri``, looked up under each base folder in turn (inside the
    same evidence container only), hashed when found; refused or missing files get a note and a
    warning naming ``locator``."""
    name = posixpath.basename(uri.replace("\\", "/")) or None
    mime = mimetypes.guess_type(name or "")[0]
    rel = safe_uri(uri)
    if rel is None:
        ctx.warn(file.logical, "media path refused (absolute or '..')", f"{locator}: {uri}")
        return Attachment(name, None, None, mime, None, None, f"unsafe path refused: {uri}")
    for base in bases:
        member = posixpath.normpath(posixpath.join(base, rel)) if base else rel
        if member.startswith("../"):
            continue
        found = file.container.get(member)
        if found is not None:
            return Attachment(name, found.logical, found.sha256, mime, found.size)
    ctx.warn(file.logical, "media file not found in evidence", f"{locator}: {uri}")
    return Attachment(name, None, None, mime, None, None, f"not found in evidence: {uri}")


# -- calls kept as thread entries -------------------------------------------------------------
#: The sentences a download writes for a call entry (the JSON ``content`` of a ``Call``, printed
#: as the body of the HTML block): (pattern, whose side placed the call, result when it says).
#: English only; an entry in another language is not recognised here (see the fixture README).
CALL_SENTENCES: tuple[tuple[re.Pattern[str], CallDirection, CallResult | None], ...] = (
    (re.compile(r"^You called (?P<name>.+?)\.?$"), "outgoing", None),
    (re.compile(r"^(?P<name>.+?) called you\.?$"), "incoming", None),
    (re.compile(r"^(?P<name>.+?) missed your call\.?$"), "outgoing", "not_answered"),
    (re.compile(r"^You missed a call from (?P<name>.+?)\.?$"), "incoming", "missed"),
)


def call_sentence(text: str | None) -> tuple[CallDirection, CallResult | None] | None:
    """(direction, result or ``None``) of a download's call sentence, ``None`` for other text."""
    line = " ".join((text or "").split())
    for pattern, direction, result in CALL_SENTENCES:
        if pattern.match(line):
            return direction, result
    return None


def entry_result(
    direction: CallDirection, duration: float | None, missed: bool, said: CallResult | None = None
) -> CallResult:
    """A call entry's result: missed (or not answered, when the owner placed it) when the entry
    is flagged missed or lasted 0 s (as kenn-io/msgvault ``json_parser.go`` ``renderCallBody``
    reads DYI calls), answered when it lasted longer, else what the entry's sentence says."""
    if missed or duration == 0:
        return {"incoming": "missed", "outgoing": "not_answered"}.get(direction, "unknown")
    if duration is not None and duration > 0:
        return "answered"
    return said or "unknown"


def thread_call(
    *,
    direction: str,
    caller: Party | None,
    others: list[Party],
    is_group: bool,
    source: Provenance,
    timestamp_utc: datetime | None,
    timestamp_raw: str,
    result: CallResult,
    result_code: str,
    conversation_id: str,
    duration_s: float | None = None,
    video: bool | None = None,
    zone_assumed: bool = False,
    app: str | None = None,
    duplicate_key: str | None = None,
    extra: dict | None = None,
) -> Call:
    """The call of one thread entry. ``caller`` is the entry's sender (whoever placed the call),
    ``others`` the thread's participants other than the owner. The counterpart of a one-to-one
    call is the other participant; of a group call, the caller when someone else placed it,
    with everyone else as participants."""
    way: CallDirection = direction if direction in ("incoming", "outgoing") else "unknown"  # type: ignore[assignment]
    if not is_group and len(others) == 1:
        counterpart, participants = others[0], []
    elif way != "outgoing" and caller is not None:
        counterpart = caller
        participants = [p for p in others if p.id != caller.id]
    else:
        counterpart, participants = None, list(others)
    return Call(
        network="messenger",
        timestamp_utc=timestamp_utc,
        timestamp_raw=timestamp_raw,
        direction=way,
        result=result,
        source=source,
        duration_s=duration_s,
        counterpart=counterpart,
        participants=participants,
        is_group=is_group,
        video=video,
        conversation_id=conversation_id,
        app=app,
        result_code=result_code,
        zone_assumed=zone_assumed,
        duplicate_key=duplicate_key,
        extra=extra or {},
    )
