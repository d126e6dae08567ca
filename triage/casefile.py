"""The case file: what the examiner tells triage about the case, in YAML.

Validation reads the YAML node tree (not just the loaded values) so every error names the file,
the line and the field: ``case.yaml line 14: contacts[2].role: expected one of victim, witness,
complainant, other``. The full reference with a worked example is in the README.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

from triage.identity import normalise_name, party
from triage.model import Party

ROLES = ("victim", "witness", "complainant", "other")
# What a seized device is to the subject: a work device (issued by the force: contact with a case
# contact on it is a finding of its own), a personal one, or another (an account download).
DEVICE_KINDS = ("work", "personal", "other")
# Roles of the case file's `people:` list: officers and others who are not contacts of interest
# but whom the group analyser names (colleagues in the subject's group chats).
PEOPLE_ROLES = ("colleague", "supervisor", "other")
IDENTIFIER_KINDS = (
    "phone",
    "email",
    "whatsapp",
    "lid",
    "facebook",
    "facebook_url",
    "name",
    "other",
)
# Identifier kinds written in the case file -> Party scheme passed to identity.party().
_SCHEME = {
    "phone": "phone",
    "email": "email",
    "whatsapp": None,  # a jid or number; identity.party works out which
    "lid": "whatsapp_lid",
    "facebook": "facebook",
    "facebook_url": "facebook",
    "name": "name",
    "other": "other",
}


class CaseFileError(ValueError):
    """A case file problem, already worded as the one line the user sees."""


@dataclass
class Identifier:
    kind: str
    value: str
    party: Party


@dataclass
class CaseContact:
    key: str  # stable id for findings and report pages ("contact-1")
    name: str
    role: str
    identifiers: list[Identifier]
    aliases: list[str] = field(default_factory=list)
    dates: dict[str, dt.date] = field(default_factory=dict)
    notes: str | None = None
    date_of_birth: dt.date | None = None
    # Record references held on police systems (crime, intelligence, person record numbers), as
    # written; audit lookups of one of them match her exactly.
    records: list[str] = field(default_factory=list)

    def match_ids(self) -> set[str]:
        """Every normalised identifier that means this contact, names and aliases included."""
        ids = {i.party.id for i in self.identifiers if i.party.id}
        ids.update(normalise_name(a) for a in self.aliases)
        return ids


@dataclass
class Exhibit:
    id: str
    kind: str  # image | video | hash_list | vics
    path: Path
    description: str | None = None
    sensitive: bool = True


@dataclass
class SourceSpec:
    path: Path
    label: str
    # Opens an encrypted iOS backup in this source; never written to the manifest or report.
    password: str | None = field(default=None, repr=False)
    # The key of the device this source was extracted from (see :class:`Device`).
    device: str = "device-1"


@dataclass
class Roster:
    csv: Path | None = None
    pattern: str | None = None
    anchor: dt.date | None = None
    overrides: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Device:
    """One seized device (or account download) of the subject, from the case file's ``devices:``.

    ``identifiers`` are the device's own owner identifiers (its SIM numbers, WhatsApp and Facebook
    accounts); the subject's identifiers mean him on every device. ``roster`` overrides the case
    roster for this device's records. A case file with a plain ``sources:`` list has one device,
    ``device-1``, with no identifiers of its own (``declared`` false).
    """

    key: str  # "device-1", ...: stable id for records, findings and report pages
    label: str
    kind: str  # one of DEVICE_KINDS
    identifiers: list[Identifier] = field(default_factory=list)
    roster: Roster | None = None
    declared: bool = True


@dataclass
class AuditSpec:
    """The case file's ``audit:`` section: exports of police-system audit trails."""

    files: list[Path]
    profile: str
    users: list[str]


@dataclass
class Case:
    path: Path
    sha256: str
    reference: str
    timezone: str
    region: str
    subject_name: str | None
    subject_identifiers: list[Identifier]
    contacts: list[CaseContact]
    sources: list[SourceSpec]
    exhibits: list[Exhibit] = field(default_factory=list)
    roster: Roster | None = None
    night: tuple[dt.time, dt.time] = (dt.time(22, 0), dt.time(6, 0))
    title: str | None = None
    examiner: str | None = None  # case.examiner: who produces the report as an exhibit
    produced: dt.date | None = None  # case.produced: the exhibit's production date
    # Colleagues and others named in `people:` (keys "person-1"...), matched to group members.
    people: list[CaseContact] = field(default_factory=list)
    # Lexicon files named in `lexicons:`; empty means the shipped default.
    lexicons: list[Path] = field(default_factory=list)
    audit: AuditSpec | None = None
    tasking: Path | None = None
    # The devices the sources came from; a case file without ``devices:`` has one.
    devices: list[Device] = field(default_factory=lambda: [_single_device()])

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def several_devices(self) -> bool:
        """Whether records are told apart by device (a case file with ``devices:``)."""
        return any(d.declared for d in self.devices)

    def device(self, key: str | None) -> Device | None:
        return next((d for d in self.devices if d.key == key), None)

    def owner_parties(self, device: str | None = None) -> list[Party]:
        """The subject's identifiers. For ``device``: its own (so its first one sends its
        outgoing messages), then the subject's; with no device given, every device's too: any
        of them means him, whichever device holds the record."""
        out: list[Party] = []
        for i in self._owner_identifiers(device):
            if i.kind != "name" and i.party not in out:
                out.append(i.party)
        return out

    def owner_names(self, device: str | None = None) -> list[str]:
        return [i.value for i in self._owner_identifiers(device) if i.kind == "name"] + (
            [self.subject_name] if self.subject_name else []
        )

    def _owner_identifiers(self, device: str | None) -> list[Identifier]:
        devices = [d for d in self.devices if device is None or d.key == device]
        return [i for d in devices for i in d.identifiers] + self.subject_identifiers


def _single_device() -> Device:
    return Device(key="device-1", label="the device", kind="other", declared=False)


class _Reader:
    """Walks YAML nodes, turning each problem into a CaseFileError naming file, line and field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, node: yaml.Node | None, where: str, message: str) -> CaseFileError:
        line = f" line {node.start_mark.line + 1}" if node is not None else ""
        return CaseFileError(f"{self.name}{line}: {where}: {message}")

    def mapping(
        self, node: yaml.Node, where: str, allowed: tuple[str, ...]
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected a mapping of keys to values")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key not in allowed:
                raise self.fail(
                    key_node,
                    f"{where}.{key}" if where else key,
                    f"unknown key; expected one of {', '.join(allowed)}",
                )
            if key in out:
                raise self.fail(key_node, f"{where}.{key}" if where else key, "given twice")
            out[key] = value_node
        return out

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "expected a list")
        return list(node.value)

    def text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.value == "" or node.tag.endswith(":null"):
            raise self.fail(node, where, "expected a value (text)")
        return str(node.value)

    def choice(self, node: yaml.Node, where: str, options: tuple[str, ...]) -> str:
        value = self.text(node, where)
        if value not in options:
            raise self.fail(node, where, f"expected one of {', '.join(options)}")
        return value

    def date(self, node: yaml.Node, where: str) -> dt.date:
        value = self.text(node, where)
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(node, where, "expected a date as YYYY-MM-DD") from None

    def time(self, node: yaml.Node, where: str) -> dt.time:
        value = self.text(node, where)
        try:
            return dt.time.fromisoformat(value if len(value) > 4 else value.zfill(5))
        except ValueError:
            raise self.fail(node, where, "expected a time as HH:MM") from None

    def boolean(self, node: yaml.Node, where: str) -> bool:
        value = self.text(node, where).lower()
        if value in ("true", "yes", "on"):
            return True
        if value in ("false", "no", "off"):
            return False
        raise self.fail(node, where, "expected true or false")


def _records(r: _Reader, node: yaml.Node, where: str) -> list[str]:
    refs = []
    for j, item in enumerate(r.sequence(node, where)):
        ref = r.text(item, f"{where}[{j}]").strip()
        if not ref:
            raise r.fail(item, f"{where}[{j}]", "expected a record reference, got an empty string")
        if ref in refs:
            raise r.fail(item, f"{where}[{j}]", f"{ref} is listed twice")
        refs.append(ref)
    return refs


def _aliases(r: Any, c: dict[str, Any], where: str) -> list[str]:
    """``aliases:`` of a contact or a person: display names, each a string."""
    if "aliases" not in c:
        return []
    seq = r.sequence(c["aliases"], f"{where}.aliases")
    return [r.text(a, f"{where}.aliases[{j}]") for j, a in enumerate(seq)]


def compose_yaml(path: Path, what: str, error: type[Exception]) -> tuple[bytes, yaml.Node | None]:
    """The bytes of a user-written YAML file and its node tree (nodes keep their line numbers).

    Every YAML file a user edits (case files, lexicons) is read by this one rule, so an unreadable
    file, text that is not UTF-8 and invalid YAML give the same one-line ``error`` naming the file
    and the line.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        return raw, yaml.compose(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise error(f"{path.name}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path.name}{line}: not valid YAML: {problem}") from None


def load_case(path: Path | str) -> Case:
    """Read and validate a case file; raises :class:`CaseFileError` with a one-line message."""
    path = Path(path)
    raw, root = compose_yaml(path, "the case file", CaseFileError)
    name = path.name
    if root is None:
        raise CaseFileError(f"{name}: the case file is empty")
    r = _Reader(name)
    base = path.parent
    top = r.mapping(
        root,
        "",
        (
            "case",
            "subject",
            "contacts",
            "people",
            "roster",
            "night",
            "exhibits",
            "sources",
            "devices",
            "lexicons",
            "audit",
            "tasking",
        ),
    )
    if "case" not in top:
        raise r.fail(root, "case", "missing; see the case-file reference in the README")
    if "sources" in top and "devices" in top:
        raise r.fail(
            top["devices"], "devices", "give sources: inside each device, or sources: alone"
        )
    if "sources" not in top and "devices" not in top:
        raise r.fail(root, "sources", "missing; see the case-file reference in the README")

    case_node = r.mapping(
        top["case"], "case", ("reference", "title", "timezone", "region", "examiner", "produced")
    )
    if "reference" not in case_node:
        raise r.fail(top["case"], "case.reference", "missing")
    reference = r.text(case_node["reference"], "case.reference")
    timezone = "Europe/London"
    if "timezone" in case_node:
        timezone = r.text(case_node["timezone"], "case.timezone")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise r.fail(
                case_node["timezone"],
                "case.timezone",
                "not a known IANA time zone (e.g. Europe/London)",
            ) from None
    region = "GB"
    if "region" in case_node:
        region = r.text(case_node["region"], "case.region").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise r.fail(case_node["region"], "case.region", "not a known two-letter region code")
    title = r.text(case_node["title"], "case.title") if "title" in case_node else None
    # Who produces the printed report as an exhibit, and on which date: given in the case file
    # so the pages stay the same for the same inputs (printed on every page's header and footer).
    examiner = r.text(case_node["examiner"], "case.examiner") if "examiner" in case_node else None
    produced = r.date(case_node["produced"], "case.produced") if "produced" in case_node else None

    subject_name = None
    subject_ids: list[Identifier] = []
    if "subject" in top:
        subj = r.mapping(top["subject"], "subject", ("name", "identifiers"))
        if "name" in subj:
            subject_name = r.text(subj["name"], "subject.name")
        if "identifiers" in subj:
            subject_ids = _identifiers(r, subj["identifiers"], "subject.identifiers", region)

    contacts: list[CaseContact] = []
    if "contacts" in top:
        for i, node in enumerate(r.sequence(top["contacts"], "contacts")):
            where = f"contacts[{i}]"
            c = r.mapping(
                node,
                where,
                (
                    "name",
                    "role",
                    "identifiers",
                    "aliases",
                    "dates",
                    "notes",
                    "date_of_birth",
                    "records",
                ),
            )
            for required in ("name", "role"):
                if required not in c:
                    raise r.fail(node, f"{where}.{required}", "missing")
            aliases = _aliases(r, c, where)
            dates = {}
            if "dates" in c:
                dn = c["dates"]
                if not isinstance(dn, yaml.MappingNode):
                    raise r.fail(dn, f"{where}.dates", "expected a mapping of name: YYYY-MM-DD")
                for key_node, value_node in dn.value:
                    dates[key_node.value] = r.date(value_node, f"{where}.dates.{key_node.value}")
            contacts.append(
                CaseContact(
                    key=f"contact-{i + 1}",
                    name=r.text(c["name"], f"{where}.name"),
                    role=r.choice(c["role"], f"{where}.role", ROLES),
                    identifiers=_identifiers(r, c["identifiers"], f"{where}.identifiers", region)
                    if "identifiers" in c
                    else [],
                    aliases=aliases,
                    dates=dates,
                    notes=r.text(c["notes"], f"{where}.notes") if "notes" in c else None,
                    date_of_birth=r.date(c["date_of_birth"], f"{where}.date_of_birth")
                    if "date_of_birth" in c
                    else None,
                    records=_records(r, c["records"], f"{where}.records") if "records" in c else [],
                )
            )
            if not contacts[-1].identifiers and not aliases:
                raise r.fail(node, f"{where}.identifiers", "give at least one identifier or alias")

    people: list[CaseContact] = []
    if "people" in top:
        for i, node in enumerate(r.sequence(top["people"], "people")):
            where = f"people[{i}]"
            c = r.mapping(node, where, ("name", "role", "identifiers", "aliases", "notes"))
            for required in ("name", "role"):
                if required not in c:
                    raise r.fail(node, f"{where}.{required}", "missing")
            aliases = _aliases(r, c, where)
            people.append(
                CaseContact(
                    key=f"person-{i + 1}",
                    name=r.text(c["name"], f"{where}.name"),
                    role=r.choice(c["role"], f"{where}.role", PEOPLE_ROLES),
                    identifiers=_identifiers(r, c["identifiers"], f"{where}.identifiers", region)
                    if "identifiers" in c
                    else [],
                    aliases=aliases,
                    notes=r.text(c["notes"], f"{where}.notes") if "notes" in c else None,
                )
            )
            if not people[-1].identifiers and not aliases:
                raise r.fail(node, f"{where}.identifiers", "give at least one identifier or alias")

    lexicons = (
        [
            _existing(r, n, f"lexicons[{j}]", base)
            for j, n in enumerate(r.sequence(top["lexicons"], "lexicons"))
        ]
        if "lexicons" in top
        else []
    )

    roster = _roster(r, top["roster"], "roster", base) if "roster" in top else None

    night = (dt.time(22, 0), dt.time(6, 0))
    if "night" in top:
        nn = r.mapping(top["night"], "night", ("start", "end"))
        night = (
            r.time(nn["start"], "night.start") if "start" in nn else night[0],
            r.time(nn["end"], "night.end") if "end" in nn else night[1],
        )

    exhibits: list[Exhibit] = []
    if "exhibits" in top:
        for i, node in enumerate(r.sequence(top["exhibits"], "exhibits")):
            where = f"exhibits[{i}]"
            e = r.mapping(
                node,
                where,
                ("id", "image", "video", "hash_list", "vics", "description", "sensitive"),
            )
            kinds = [k for k in ("image", "video", "hash_list", "vics") if k in e]
            if len(kinds) != 1:
                raise r.fail(node, where, "give exactly one of image:, video:, hash_list:, vics:")
            if "id" not in e:
                raise r.fail(node, f"{where}.id", "missing (the exhibit reference, e.g. ABC/1)")
            exhibits.append(
                Exhibit(
                    id=r.text(e["id"], f"{where}.id"),
                    kind=kinds[0],
                    path=_existing(r, e[kinds[0]], f"{where}.{kinds[0]}", base),
                    description=r.text(e["description"], f"{where}.description")
                    if "description" in e
                    else None,
                    sensitive=r.boolean(e["sensitive"], f"{where}.sensitive")
                    if "sensitive" in e
                    else True,
                )
            )

    if "devices" in top:
        devices = _devices(r, top["devices"], base, region)
        sources = [s for _, device_sources in devices for s in device_sources]
        device_list = [d for d, _ in devices]
    else:
        sources = _sources(r, top["sources"], "sources", base, "device-1")
        device_list = [_single_device()]

    audit = _audit(r, top["audit"], base) if "audit" in top else None
    tasking = _existing(r, top["tasking"], "tasking", base) if "tasking" in top else None

    return Case(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        reference=reference,
        title=title,
        examiner=examiner,
        produced=produced,
        timezone=timezone,
        region=region,
        subject_name=subject_name,
        subject_identifiers=subject_ids,
        contacts=contacts,
        sources=sources,
        exhibits=exhibits,
        roster=roster,
        night=night,
        people=people,
        lexicons=lexicons,
        audit=audit,
        tasking=tasking,
        devices=device_list,
    )


def _roster(r: _Reader, node: yaml.Node, where: str, base: Path) -> Roster:
    """A ``roster:`` mapping (the case's, or a device's override at ``devices[i].roster``)."""
    rn = r.mapping(node, where, ("csv", "pattern", "anchor", "overrides"))
    roster = Roster()
    if "csv" in rn:
        roster.csv = _existing(r, rn["csv"], f"{where}.csv", base)
    if "pattern" in rn:
        roster.pattern = r.text(rn["pattern"], f"{where}.pattern")
        # Imported here: triage.roster builds on this module's Case.
        from triage.roster import find_pattern, unknown_pattern

        if find_pattern(roster.pattern, base) is None:
            raise r.fail(rn["pattern"], f"{where}.pattern", unknown_pattern(roster.pattern))
        if "anchor" not in rn:
            raise r.fail(node, f"{where}.anchor", "a shift pattern needs an anchor date")
    if "anchor" in rn:
        roster.anchor = r.date(rn["anchor"], f"{where}.anchor")
    if roster.csv is None and roster.pattern is None:
        raise r.fail(node, where, "give either csv: or pattern: with anchor:")
    if "overrides" in rn:
        for j, item in enumerate(r.sequence(rn["overrides"], f"{where}.overrides")):
            here = f"{where}.overrides[{j}]"
            o = r.mapping(item, here, ("start", "end", "type", "note"))
            for required in ("start", "end", "type"):
                if required not in o:
                    raise r.fail(item, f"{here}.{required}", "missing")
            roster.overrides.append(
                {
                    "start": r.date(o["start"], f"{here}.start"),
                    "end": r.date(o["end"], f"{here}.end"),
                    "type": r.choice(
                        o["type"], f"{here}.type", ("duty", "rest", "leave", "sick", "training")
                    ),
                    "note": r.text(o["note"], f"{here}.note") if "note" in o else None,
                }
            )
    return roster


def _sources(r: _Reader, node: yaml.Node, where: str, base: Path, device: str) -> list[SourceSpec]:
    """A ``sources:`` list (the case's, or a device's at ``devices[i].sources``)."""
    sources: list[SourceSpec] = []
    for i, item in enumerate(r.sequence(node, where)):
        here = f"{where}[{i}]"
        password = None
        if isinstance(item, yaml.ScalarNode):
            spec_path = _existing(r, item, here, base)
            label = item.value
        else:
            s = r.mapping(item, here, ("path", "label", "password"))
            if "path" not in s:
                raise r.fail(item, f"{here}.path", "missing")
            spec_path = _existing(r, s["path"], f"{here}.path", base)
            label = r.text(s["label"], f"{here}.label") if "label" in s else s["path"].value
            if "password" in s:
                password = r.text(s["password"], f"{here}.password")
        sources.append(SourceSpec(spec_path, label, password, device))
    if not sources:
        raise r.fail(node, where, "list at least one file, folder or archive")
    return sources


def _devices(
    r: _Reader, node: yaml.Node, base: Path, region: str
) -> list[tuple[Device, list[SourceSpec]]]:
    """The ``devices:`` list: each device with its own sources."""
    out: list[tuple[Device, list[SourceSpec]]] = []
    labels: dict[str, int] = {}
    # Two devices cannot share a source, nor two sources a label (evidence is named by it).
    taken: dict[str | Path, str] = {}
    for i, item in enumerate(r.sequence(node, "devices")):
        where = f"devices[{i}]"
        d = r.mapping(item, where, ("label", "kind", "identifiers", "sources", "roster"))
        for required in ("label", "kind", "sources"):
            if required not in d:
                raise r.fail(item, f"{where}.{required}", "missing")
        label = r.text(d["label"], f"{where}.label")
        if label in labels:
            raise r.fail(
                d["label"], f"{where}.label", f"{label!r} is already devices[{labels[label]}]"
            )
        labels[label] = i
        key = f"device-{i + 1}"
        device = Device(
            key=key,
            label=label,
            kind=r.choice(d["kind"], f"{where}.kind", DEVICE_KINDS),
            identifiers=_identifiers(r, d["identifiers"], f"{where}.identifiers", region)
            if "identifiers" in d
            else [],
            roster=_roster(r, d["roster"], f"{where}.roster", base) if "roster" in d else None,
        )
        sources = _sources(r, d["sources"], f"{where}.sources", base, key)
        for j, spec in enumerate(sources):
            for mark, what in ((spec.label, f"label {spec.label!r}"), (spec.path, spec.path.name)):
                if mark in taken:
                    raise r.fail(
                        d["sources"].value[j],
                        f"{where}.sources[{j}]",
                        f"{what} is also a source of {taken[mark]}; give each source once,"
                        " with its own label",
                    )
                taken[mark] = label
        out.append((device, sources))
    if not out:
        raise r.fail(node, "devices", "list at least one device")
    return out


def _audit(r: _Reader, node: yaml.Node, base: Path) -> AuditSpec:
    a = r.mapping(node, "audit", ("files", "profile", "users"))
    for required in ("files", "profile", "users"):
        if required not in a:
            raise r.fail(node, f"audit.{required}", "missing")
    files = [
        _existing(r, n, f"audit.files[{i}]", base)
        for i, n in enumerate(r.sequence(a["files"], "audit.files"))
    ]
    users = [
        r.text(n, f"audit.users[{i}]") for i, n in enumerate(r.sequence(a["users"], "audit.users"))
    ]
    if not files:
        raise r.fail(a["files"], "audit.files", "list at least one audit export")
    if not users:
        raise r.fail(a["users"], "audit.users", "give the subject officer's user id(s)")
    return AuditSpec(files, r.text(a["profile"], "audit.profile"), users)


def _existing(r: _Reader, node: yaml.Node, where: str, base: Path) -> Path:
    value = r.text(node, where)
    path = (base / value).resolve() if not Path(value).is_absolute() else Path(value)
    if not path.exists():
        raise r.fail(
            node, where, f"{value}: no such file or folder (paths are relative to the case file)"
        )
    return path


def _identifiers(r: _Reader, node: yaml.Node, where: str, region: str) -> list[Identifier]:
    out = []
    for i, item in enumerate(r.sequence(node, where)):
        here = f"{where}[{i}]"
        if isinstance(item, yaml.ScalarNode):
            value = r.text(item, here)
            p = party(value, region)
            assert p is not None
            kind = {"phone": "phone", "email": "email", "facebook": "facebook"}.get(
                p.scheme, "other"
            )
            if p.scheme == "whatsapp_lid":
                kind = "lid"
        else:
            m = r.mapping(item, here, IDENTIFIER_KINDS)
            if len(m) != 1:
                raise r.fail(
                    item, here, "give one identifier per list item, e.g. - phone: 07700 900123"
                )
            kind, value_node = next(iter(m.items()))
            value = r.text(value_node, f"{here}.{kind}")
            p = party(value, region, scheme=_SCHEME[kind])
            assert p is not None
            if kind == "phone" and not (p.id or "").startswith("+"):
                raise r.fail(
                    value_node,
                    f"{here}.phone",
                    f"{value!r} is not a phone number for region {region}",
                )
        out.append(Identifier(kind, value, p))
    return out


def case_to_data(case: Case) -> dict[str, Any]:
    """The case as plain data for the case store's meta, so the report can be rebuilt from the
    store alone. Source passwords are never included."""

    def ident(i: Identifier) -> dict[str, Any]:
        p = i.party
        return {
            "kind": i.kind,
            "value": i.value,
            "party": {"raw": p.raw, "id": p.id, "name": p.name, "scheme": p.scheme},
        }

    roster = case.roster

    def person(c: CaseContact) -> dict[str, Any]:
        return {
            "key": c.key,
            "name": c.name,
            "role": c.role,
            "identifiers": [ident(i) for i in c.identifiers],
            "aliases": c.aliases,
            "dates": {k: d.isoformat() for k, d in c.dates.items()},
            "notes": c.notes,
        }

    return {
        "path": str(case.path),
        "sha256": case.sha256,
        "reference": case.reference,
        "timezone": case.timezone,
        "region": case.region,
        "title": case.title,
        "examiner": case.examiner,
        "produced": case.produced.isoformat() if case.produced else None,
        "subject_name": case.subject_name,
        "subject_identifiers": [ident(i) for i in case.subject_identifiers],
        "contacts": [
            {
                "key": c.key,
                "name": c.name,
                "role": c.role,
                "identifiers": [ident(i) for i in c.identifiers],
                "aliases": c.aliases,
                "dates": {k: d.isoformat() for k, d in c.dates.items()},
                "notes": c.notes,
                "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
                "records": c.records,
            }
            for c in case.contacts
        ],
        "people": [person(c) for c in case.people],
        "lexicons": [str(p) for p in case.lexicons],
        "sources": [
            {"path": str(s.path), "label": s.label, "device": s.device} for s in case.sources
        ],
        "devices": [
            {
                "key": d.key,
                "label": d.label,
                "kind": d.kind,
                "identifiers": [ident(i) for i in d.identifiers],
                "roster": _roster_data(d.roster),
                "declared": d.declared,
            }
            for d in case.devices
        ],
        "exhibits": [
            {
                "id": e.id,
                "kind": e.kind,
                "path": str(e.path),
                "description": e.description,
                "sensitive": e.sensitive,
            }
            for e in case.exhibits
        ],
        "roster": _roster_data(roster),
        "night": [t.strftime("%H:%M") for t in case.night],
        "audit": None
        if case.audit is None
        else {
            "files": [str(f) for f in case.audit.files],
            "profile": case.audit.profile,
            "users": case.audit.users,
        },
        "tasking": str(case.tasking) if case.tasking else None,
    }


def case_from_data(data: dict[str, Any]) -> Case:
    """The inverse of :func:`case_to_data`."""

    def ident(d: dict[str, Any]) -> Identifier:
        return Identifier(d["kind"], d["value"], Party(**d["party"]))

    roster = data.get("roster")
    return Case(
        path=Path(data["path"]),
        sha256=data["sha256"],
        reference=data["reference"],
        timezone=data["timezone"],
        region=data["region"],
        title=data.get("title"),
        examiner=data.get("examiner"),
        produced=dt.date.fromisoformat(data["produced"]) if data.get("produced") else None,
        subject_name=data.get("subject_name"),
        subject_identifiers=[ident(i) for i in data["subject_identifiers"]],
        contacts=[
            CaseContact(
                key=c["key"],
                name=c["name"],
                role=c["role"],
                identifiers=[ident(i) for i in c["identifiers"]],
                aliases=list(c["aliases"]),
                dates={k: dt.date.fromisoformat(v) for k, v in c["dates"].items()},
                notes=c.get("notes"),
                date_of_birth=dt.date.fromisoformat(c["date_of_birth"])
                if c.get("date_of_birth")
                else None,
                records=list(c.get("records") or []),
            )
            for c in data["contacts"]
        ],
        sources=[
            SourceSpec(Path(s["path"]), s["label"], device=s.get("device", "device-1"))
            for s in data["sources"]
        ],
        exhibits=[
            Exhibit(e["id"], e["kind"], Path(e["path"]), e.get("description"), e["sensitive"])
            for e in data["exhibits"]
        ],
        roster=_roster_from(roster),
        night=tuple(dt.time.fromisoformat(t) for t in data["night"]),  # type: ignore[arg-type]
        people=[
            CaseContact(
                key=c["key"],
                name=c["name"],
                role=c["role"],
                identifiers=[ident(i) for i in c["identifiers"]],
                aliases=list(c["aliases"]),
                notes=c.get("notes"),
            )
            for c in data.get("people", [])
        ],
        lexicons=[Path(p) for p in data.get("lexicons", [])],
        audit=AuditSpec(
            [Path(f) for f in data["audit"]["files"]],
            data["audit"]["profile"],
            data["audit"]["users"],
        )
        if data.get("audit")
        else None,
        tasking=Path(data["tasking"]) if data.get("tasking") else None,
        devices=[
            Device(
                key=d["key"],
                label=d["label"],
                kind=d["kind"],
                identifiers=[ident(i) for i in d["identifiers"]],
                roster=_roster_from(d.get("roster")),
                declared=d["declared"],
            )
            for d in data["devices"]
        ]
        if data.get("devices")
        else [_single_device()],
    )


def _roster_data(roster: Roster | None) -> dict[str, Any] | None:
    if roster is None:
        return None
    return {
        "csv": str(roster.csv) if roster.csv else None,
        "pattern": roster.pattern,
        "anchor": roster.anchor.isoformat() if roster.anchor else None,
        "overrides": [
            {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in o.items()}
            for o in roster.overrides
        ],
    }


def _roster_from(data: dict[str, Any] | None) -> Roster | None:
    if data is None:
        return None
    return Roster(
        csv=Path(data["csv"]) if data.get("csv") else None,
        pattern=data.get("pattern"),
        anchor=dt.date.fromisoformat(data["anchor"]) if data.get("anchor") else None,
        overrides=[
            {
                k: (dt.date.fromisoformat(v) if k in ("start", "end") and v else v)
                for k, v in o.items()
            }
            for o in data["overrides"]
        ],
    )
