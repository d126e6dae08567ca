"""The investigator's report and the exports beside it, rendered from the case store only."""

from triage.report.writer import write_report

__all__ = ["write_report"]
