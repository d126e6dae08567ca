"""The investigator's report and the exports beside it, rendered from the case store only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from triage.collector import collector_paused
from triage.store import SCHEMA_VERSION, Store


class NotACaseStore(ValueError):
    """The folder holds no case store written by ``triage run`` (or one without its case)."""


def report_from_store(store: Store, out: Path) -> Path:
    """Write the report into ``out`` from the store alone: the case and the run's settings are
    read from its meta, so a finished case directory is all that is needed."""
    from triage.analysers import Settings
    from triage.casefile import case_from_data
    from triage.report.writer import write_report

    meta = store.meta()
    if "case" not in meta:
        raise NotACaseStore(f"{store.path}: no case recorded in the store (not a triage run)")
    written = str(meta.get("schema_version"))
    if written != str(SCHEMA_VERSION):
        # The pages read columns a store of another schema does not have (or has differently):
        # say so instead of failing half-way through the pages.
        raise NotACaseStore(
            f"{store.path}: written with case store schema {written}; this version of triage"
            f" reads schema {SCHEMA_VERSION}. Run 'triage run' on the case file again to"
            " rebuild the case directory."
        )
    # The pages keep the search index's rows and the messages later pages list until the end.
    with collector_paused():
        return write_report(
            store, case_from_data(meta["case"]), out, Settings(meta.get("settings", {}))
        )


def rebuild_report(case_dir: Path) -> Path:
    """Rebuild the report of a finished case directory from its ``case.sqlite``."""
    path = case_dir / "case.sqlite"
    if not path.is_file():
        raise NotACaseStore(f"{case_dir}: no case.sqlite (give the --out folder of a triage run)")
    store = None
    try:
        store = Store.open(path)
        store.meta()
    except sqlite3.DatabaseError as exc:
        if store is not None:
            store.close()
        # Not an SQLite file, or one without the store's tables: not a run's store.
        raise NotACaseStore(
            f"{path}: not a case store written by 'triage run' ({exc}); give the --out folder"
            " of a triage run"
        ) from None
    try:
        return report_from_store(store, case_dir)
    finally:
        store.close()


def __getattr__(name: str) -> Any:
    # The pages' writer (and the analysers it imports) only when asked for: the exports' process
    # imports this package for the exports alone, and would spend a third of its start there.
    if name == "write_report":
        from triage.report.writer import write_report

        return write_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["NotACaseStore", "rebuild_report", "report_from_store", "write_report"]
