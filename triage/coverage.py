"""Coverage: what in the evidence looked relevant but was not read, and why.

Detection says which parser reads each file. This module adds what an examiner must also be told,
so that nothing is silently left out of a whole extraction (ALEAPP's users' first complaint is an
artefact that yields zero rows after an app update):

* messaging apps present on the phone that triage does not parse (Signal, Telegram, Instagram...),
  found by their Android package / iOS bundle or app-group ids in paths and by their database names;
* encrypted stores: WhatsApp ``.crypt12/14/15`` backups ("encrypted: key needed"), a
  password-protected UFDR, an encrypted iOS backup without its password;
* databases at a known messaging location, or shaped like a known format, that no parser read
  (unknown schema, or a required column missing);
* schema drift in sources that were read: a table the parser reads whose columns it knows are
  missing ("partially read: column X missing").

The same list goes to ``triage detect``, the manifest (``not_read``) and the report's coverage page.
"""

from __future__ import annotations

import plistlib
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from triage.evidence import Evidence, ZipContainer
from triage.registry import Detection, Parser, Probe, all_parsers


@dataclass(frozen=True)
class NotRead:
    """One thing in the evidence that was relevant to the case and was not (fully) read."""

    file: str
    category: str  # "unread app" | "encrypted" | "unknown schema" | "partially read"
    reason: str
    app: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class App:
    name: str
    ids: tuple[str, ...]  # Android package names, iOS bundle / app-group ids
    databases: tuple[str, ...] = ()
    source: str = ""


#: Messaging apps triage does not parse. Ids are matched as whole path components; databases by
#: file name. Sources: the artefact scripts that read them (abrignoni/ALEAPP and
#: abrignoni/iLEAPP ``scripts/artifacts/``), else the app's package name alone.
UNREAD_APPS: tuple[App, ...] = (
    App(
        "Signal",
        (
            "org.thoughtcrime.securesms",
            "group.org.whispersystems.signal",
            "org.whispersystems.signal",
        ),
        ("signal.db", "signal.sqlite"),
        "ALEAPP signalAndroid.py (databases/signal.db, SQLCipher); iLEAPP signalIOS.py (grdb/signal.sqlite)",
    ),
    App(
        "Telegram",
        ("org.telegram.messenger", "org.telegram.messenger.web", "ph.telegra.Telegraph"),
        ("cache4.db",),
        "ALEAPP telegramAndroid.py (files/cache4.db); iLEAPP telegramMesssages.py (postbox/db/db_sqlite)",
    ),
    App(
        "Instagram",
        ("com.instagram.android", "com.burbn.instagram"),
        ("direct.db",),
        "iLEAPP instagramThreads.py (DirectSQLiteDatabase/*.db)",
    ),
    App(
        "Snapchat",
        ("com.snapchat.android", "com.toyopagroup.picaboo"),
        ("arroyo.db",),
        "ALEAPP snapchat.py (databases/arroyo.db, main.db); iLEAPP snapchat.py (arroyo/arroyo.db)",
    ),
    App("Viber", ("com.viber.voip",), ("viber_messages", "viber_data"), "package name"),
    App(
        "Wickr", ("com.mywickr.wickr2", "com.wickr.pro", "com.mywickr.WickrMe"), (), "package name"
    ),
    App(
        "Threema",
        ("ch.threema.app", "ch.threema.app.work", "ch.threema.iapp"),
        ("threema4.db", "ThreemaData.sqlite"),
        "iLEAPP Threema.py (ThreemaData.sqlite)",
    ),
    App("Skype", ("com.skype.raider", "com.skype.skype", "com.skype.m2"), (), "package name"),
    App("LINE", ("jp.naver.line.android", "jp.naver.line"), ("naver_line",), "package name"),
    App("Kik", ("kik.android", "com.kik.chat"), ("kikDatabase.db",), "package name"),
    App("WeChat", ("com.tencent.mm", "com.tencent.xin"), ("EnMicroMsg.db",), "package name"),
    App("Discord", ("com.discord", "com.hammerandchisel.discord"), (), "package name"),
    App(
        "Microsoft Teams", ("com.microsoft.teams", "com.microsoft.skype.teams"), (), "package name"
    ),
    App(
        "Google Messages (RCS)",
        ("com.google.android.apps.messaging",),
        ("bugle_db",),
        "t413/SMS-Tools initdb/init_bugle_db.sql: RCS chats live in bugle_db, not mmssms.db",
    ),
)

#: Encrypted WhatsApp backups: ``msgstore.db.crypt14`` and the like (whatsapp reference: the key is
#: ``/data/data/com.whatsapp/files/key``, or the 64-digit end-to-end backup key for crypt15).
CRYPT_NAME = re.compile(r"\.crypt(\d+)$", re.IGNORECASE)
#: Where each read format normally lives, for "at a known location but not read".
MESSAGING_LOCATIONS = (
    "com.whatsapp/databases/",
    "com.whatsapp.w4b/databases/",
    "com.android.providers.telephony/databases/",
    "com.facebook.orca/databases/",
    "Library/SMS/",
    "group.net.whatsapp.WhatsApp.shared",
    "group.net.whatsapp.WhatsAppSMB.shared",
)


#: iOS names each app container folder by a UUID; this plist inside names the app (group) id
#: (abrignoni/iLEAPP ``scripts/artifacts/appGrouplisting.py``, key ``MCMMetadataIdentifier``).
CONTAINER_METADATA = ".com.apple.mobile_container_manager.metadata.plist"


class AppIndex:
    """Which app each path belongs to: Android package folders, iOS containers by their
    metadata plist, and the Android user an app is installed for."""

    def __init__(self, detections: list[Detection]) -> None:
        self.containers: dict[str, str] = {}
        for d in detections:
            if d.file.name != CONTAINER_METADATA:
                continue
            try:
                with d.file.open() as handle:
                    data = plistlib.load(handle)
            except (OSError, plistlib.InvalidFileException, ValueError):
                continue
            ident = data.get("MCMMetadataIdentifier") if isinstance(data, dict) else None
            if isinstance(ident, str):
                folder = d.file.logical.rsplit("/", 1)[0]
                self.containers[folder + "/"] = ident
                d.reason = f"iOS app container metadata: the folder belongs to {ident}"

    def ids(self, path: str) -> list[str]:
        """Package / bundle / app-group ids a path lies under."""
        parts = path.replace("\\", "/").split("/")
        found = [p for p in parts if "." in p and not p.startswith(".")]
        found += [ident for folder, ident in self.containers.items() if path.startswith(folder)]
        return found

    def label(self, path: str) -> str | None:
        """WhatsApp, WhatsApp Business, Messenger or Facebook (which keeps its own copy of the
        Messenger mailbox), and the Android user when not the main one (dual
        apps, second space and work profiles run as another user,
        https://source.android.com/docs/devices/admin/multi-user)."""
        ids = self.ids(path)
        name = None
        if any(i == "com.whatsapp.w4b" or "WhatsAppSMB" in i for i in ids):
            name = "WhatsApp Business"
        elif any(i == "com.whatsapp" or i.startswith("group.net.whatsapp.WhatsApp") for i in ids):
            name = "WhatsApp"
        elif any(i in ("com.facebook.orca", "group.com.facebook.Messenger") for i in ids):
            name = "Messenger"
        elif "com.facebook.katana" in ids:
            name = "Facebook"
        if name is None:
            return None
        parts = path.split("/")
        for i, part in enumerate(parts[:-1]):
            if part in ("user", "user_de") and parts[i + 1].isdigit() and parts[i + 1] != "0":
                return (
                    f"{name} (Android user {parts[i + 1]}: dual app, second space or work profile)"
                )
        return name

    def unread_app(self, path: str) -> App | None:
        ids = set(self.ids(path))
        name = path.rsplit("/", 1)[-1]
        for app in UNREAD_APPS:
            if ids.intersection(app.ids) or name in app.databases:
                return app
        return None

    def app_root(self, path: str, app: App) -> str:
        for folder, ident in self.containers.items():
            if ident in app.ids and path.startswith(folder):
                return folder.rstrip("/")
        parts = path.split("/")
        for i, part in enumerate(parts):
            if part in app.ids:
                return "/".join(parts[: i + 1])
        return path


def _encrypted_ufdrs(evidence: Evidence) -> list[NotRead]:
    out = []
    for container in evidence.containers:
        if not isinstance(container, ZipContainer):
            continue
        try:
            info = container.zip.getinfo("report.xml")
        except KeyError:
            continue
        if info.flag_bits & 0x1:
            encrypted = sum(1 for i in container.zip.infolist() if i.flag_bits & 0x1)
            out.append(
                NotRead(
                    container.label,
                    "encrypted",
                    f"password-protected UFDR: report.xml and {encrypted - 1} other file(s) are "
                    "encrypted; not read (a password is needed)",
                    "Cellebrite UFDR",
                )
            )
    return out


def _near_miss(probe: Probe, parsers: Iterable[Parser]) -> str | None:
    """A database shaped like a known format whose declared tables are there but columns are
    missing: which parser and which columns."""
    schema = probe.schema
    best: tuple[int, str] | None = None
    for parser in parsers:
        for declared in parser.declared_schemas():
            if not declared or not all(t in schema for t in declared):
                continue
            missing = sorted(
                f"{t}.{c}" for t, cols in declared.items() for c in cols if c not in schema[t]
            )
            if missing and (best is None or len(missing) < best[0]):
                best = (len(missing), f"{parser.name}: column {', '.join(missing)} missing")
    return best[1] if best else None


def not_read(evidence: Evidence, detections: list[Detection]) -> list[NotRead]:
    """Everything relevant that was not read, or read only in part, with the reason; also sets a
    precise ``reason`` on the detections concerned so every listing says the same."""
    # Every parser module imported only for a database no parser read (a run reading one
    # database does not otherwise import the text, JSON and XML parsers: about 0.025 s).
    parsers: list[Parser] | None = None
    index = AppIndex(detections)
    found: list[NotRead] = list(_encrypted_ufdrs(evidence))
    apps: dict[tuple[str, str], list[str]] = {}
    unknown: dict[tuple[str, str | None], list[str]] = {}
    for d in detections:
        path = d.file.logical
        crypt = CRYPT_NAME.search(d.file.name)
        if d.parser is None and d.claimed_by is None and crypt:
            d.reason = (
                f"encrypted WhatsApp backup (.crypt{crypt.group(1)}): encrypted: key needed "
                "(the app's key file or the 64-digit end-to-end backup key)"
            )
            found.append(NotRead(path, "encrypted", d.reason, index.label(path) or "WhatsApp"))
            continue
        if d.parser is not None:
            drift = _drift(d)
            if drift:
                found.append(NotRead(path, "partially read", drift, index.label(path)))
            continue
        if d.claimed_by is not None or d.file.name == CONTAINER_METADATA:
            continue
        app = index.unread_app(path)
        if app is not None:
            root = index.app_root(path, app)
            apps.setdefault((app.name, root), []).append(d.file.name)
            d.reason = f"{app.name} app data: triage does not read {app.name}"
            continue
        probe = Probe(d.file)
        if probe.is_sqlite:
            if parsers is None:
                parsers = all_parsers()
            miss = _near_miss(probe, parsers)
            if miss:
                d.reason = f"not read: looks like {miss}"
                found.append(NotRead(path, "unknown schema", d.reason, index.label(path)))
            elif any(loc in path for loc in MESSAGING_LOCATIONS):
                folder = path.rsplit("/", 1)[0]
                unknown.setdefault((folder, index.label(path)), []).append(d.file.name)
    # An app's own folder holds many small databases besides its messages: one line per folder.
    for (folder, label), names in sorted(unknown.items(), key=lambda i: i[0][0]):
        shown = ", ".join(sorted(names)[:8]) + (" ..." if len(names) > 8 else "")
        found.append(
            NotRead(
                folder,
                "unknown schema",
                f"{len(names)} database(s) beside the messages with no known schema, not read: "
                f"{shown}",
                label,
            )
        )
    for (name, root), files in sorted(apps.items()):
        app = next(a for a in UNREAD_APPS if a.name == name)
        dbs = sorted({f for f in files if f in app.databases or f.endswith((".db", ".sqlite"))})
        shown = ", ".join(dbs[:4]) + (" ..." if len(dbs) > 4 else "")
        found.append(
            NotRead(
                root,
                "unread app",
                f"{name} is on the phone ({len(files)} file(s)"
                + (f"; databases {shown}" if dbs else "")
                + "): triage does not read it",
                name,
            )
        )
    for refusal in evidence.refusals():
        if "password needed" in refusal.reason:
            found.append(NotRead(refusal.path, "encrypted", refusal.reason, "iOS backup"))
    return found


def _drift(d: Detection) -> str | None:
    parser = d.parser
    if parser is None or not parser.optional_columns:
        return None
    probe = Probe(d.file)
    schema = probe.schema
    missing = sorted(
        f"{t}.{c}"
        for t, cols in parser.optional_columns.items()
        if t in schema
        for c in cols
        if c not in schema[t]
    )
    if not missing:
        return None
    return f"partially read by {parser.name}: column {', '.join(missing)} missing"


def source_facts(decisions: dict[str, Any]) -> list[str]:
    """What a parser recorded about one source that tells how it was recognised: the app
    install, the schema variant (``whatsapp_schema`` and the like), the time zone it declared."""
    facts = []
    if decisions.get("app"):
        facts.append(str(decisions["app"]))
    for key, value in sorted(decisions.items()):
        if key.endswith("_schema") or key == "schema":
            facts.append(f"{key.replace('_', ' ')}: {value}")
    if decisions.get("ufdr_device_timezone"):
        facts.append(f"device time zone {decisions['ufdr_device_timezone']}")
    return facts
