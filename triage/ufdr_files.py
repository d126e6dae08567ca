"""The files of a Cellebrite UFDR under the paths they had on the phone.

A UFDR keeps extracted files by category (``files/Image/x.jpg``, ``files/Database/msgstore.db``);
where each was on the phone is only in ``report.xml``: ``taggedFiles/file`` gives the original
``path`` and the ``Local Path`` inside the UFDR (DFIRScience/UFDR2DIR ``README.md``; sepinf-inc/IPED
``UfedXmlReader.java``). This module reads that list (``taggedFiles`` precede the decoded models,
so only the start of ``report.xml`` is read) and shows every listed file, with the SQLite
companions kept beside it, under its original path in a :class:`~triage.views.ViewContainer`:
a raw ``msgstore.db`` inside the UFDR is then read, named and matched to its media as on the
phone. Files ``report.xml`` does not list stay where the UFDR put them.
"""

from __future__ import annotations

from triage.evidence import SQLITE_COMPANIONS, Container, Evidence, Notice
from triage.views import ViewContainer


def _safe(path: str) -> str | None:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or (len(parts[0]) == 2 and parts[0][1] == ":"):
        return None
    return "/".join(parts)


def open_ufdr_views(evidence: Evidence, container: Container) -> list[Container]:
    """A view of ``container``'s UFDR files by original path, when it holds a UFDR report."""
    report = container.get("report.xml")
    if report is None:
        return []
    try:
        if b"<project" not in report.head(4096):
            return []
    except OSError:
        return []
    # The XML reader imported only for a container holding a UFDR report: every input is asked,
    # and most hold none (0.013 s of a run's start).
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    from triage.parsers.ufdr_xml import read_report

    view = ViewContainer(evidence, container.label)
    unsafe = 0
    try:
        with report.open() as stream:
            for event in read_report(stream):
                if event.kind in ("model", "chat_message"):
                    break  # taggedFiles are over
                tagged = event.tagged
                if event.kind != "tagged_file" or tagged is None or not tagged.local_path:
                    continue
                local = _safe(tagged.local_path)
                stored = container.get(local) if local else None
                if stored is None or not tagged.path:
                    continue
                original = _safe(tagged.path)
                if original is None:
                    unsafe += 1
                    continue
                view.show(original, stored)
                for suffix in SQLITE_COMPANIONS:
                    companion = container.get(f"{local}{suffix}")
                    if companion is not None:
                        view.show(original + suffix, companion)
    except (ParseError, DefusedXmlException, OSError, ValueError, LookupError):
        # The parser reads report.xml again and reports what is wrong with it.
        pass
    if unsafe:
        view.notices.append(
            Notice(
                container.label, "UFDR files with an unusable original path", f"{unsafe} file(s)"
            )
        )
    if not view.files:
        return []
    evidence.containers.append(view)
    return [view]
