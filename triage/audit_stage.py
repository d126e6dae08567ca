"""The run's audit-trail stage: check the mapping, hash each export, store its rows.

Audit exports and the tasking list are evidence like the phone's sources: each is registered with
the run's :class:`~triage.evidence.Evidence` (hashed before reading and again at the end of the
run) and every stored row carries its file, SHA-256 and row number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triage.audit_trail import VERSION, AuditProfile, AuditRead, check_header, load_profile
from triage.audit_trail import read_audit as read_rows
from triage.casefile import Case
from triage.evidence import Evidence
from triage.registry import ParseContext
from triage.store import Store
from triage.tasking import WINDOW_DAYS, read_tasking


@dataclass
class AuditPlan:
    profile: AuditProfile
    labels: list[str] = field(default_factory=list)


def prepare_audit(case: Case) -> AuditPlan | None:
    """Load the profile and check every export's header and the tasking list before anything
    is read; raises a :class:`~triage.casefile.CaseFileError` (one line, exit 2)."""
    if case.tasking is not None:
        read_tasking(case.tasking, case.region)
    if case.audit is None:
        return None
    profile = load_profile(case.audit.profile, case.path.parent)
    plan = AuditPlan(profile)
    for path in case.audit.files:
        label = _label(case, path)
        check_header(path, label, profile)
        plan.labels.append(label)
    return plan


def _label(case: Case, path: Any) -> str:
    try:
        return str(path.relative_to(case.path.parent.resolve()))
    except ValueError:
        return path.name


def import_audit(
    plan: AuditPlan | None, case: Case, evidence: Evidence, store: Store, ctx: ParseContext
) -> dict[str, Any]:
    """Store every audit row; returns the settings recorded in the manifest and method page."""
    if case.tasking is not None:
        evidence.register_disk_file(case.tasking, _label(case, case.tasking))
    if plan is None or case.audit is None:
        return {"tasking": _label(case, case.tasking)} if case.tasking else {}
    files = []
    for path, label in zip(case.audit.files, plan.labels, strict=True):
        evidence.register_disk_file(path, label)
        record = evidence.disk[path.resolve()]
        source_id = store.add_source(
            label, record.sha256, record.size, f"audit-trail:{plan.profile.name}", VERSION
        )
        read = AuditRead()
        error = None
        try:
            store.add_audit(
                source_id,
                read_rows(
                    path, label, record.sha256, plan.profile, case.timezone, case.region, read
                ),
            )
        except (OSError, ValueError, KeyError) as exc:
            # openpyxl raises these on a damaged workbook: rows read so far are kept.
            error = f"audit export could not be read to the end: {exc}"
            ctx.warn(label, "unreadable audit export", str(exc))
        store.finish_source(source_id, error)
        if read.undated:
            for example in read.examples:
                ctx.warn(label, "audit row time not readable (kept undated)", example)
            ctx.warnings[(label, "audit row time not readable (kept undated)")].count = read.undated
        if read.rows == 0:
            ctx.warn(label, "audit export with no rows", "the header was read but no row followed")
        files.append(
            {
                "file": label,
                "sha256": record.sha256,
                "rows": read.rows,
                "undated": read.undated,
                "empty_rows": read.empty,
            }
        )
    return {
        "profile": plan.profile.settings(),
        "files": files,
        "users": case.audit.users,
        "tasking": _label(case, case.tasking) if case.tasking else None,
        "tasking_window_days": WINDOW_DAYS,
    }
