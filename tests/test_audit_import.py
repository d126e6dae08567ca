"""Audit-trail import: the RMS-style demo export read through its profile, as CSV and XLSX."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import xlsxwriter

from tests.conftest import DEMO
from triage.audit_trail import AuditMappingError, AuditRead, check_header, load_profile, read_audit
from triage.casefile import CaseFileError, load_case
from triage.cli import main
from triage.evidence import sha256_file
from triage.model import iso_utc
from triage.tasking import TaskingError, read_tasking

EXPORT = DEMO / "audit" / "rms-audit-export.csv"


def _events(path: Path) -> list:
    read = AuditRead()
    events = list(
        read_audit(
            path, path.name, sha256_file(path), load_profile("rms"), "Europe/London", "GB", read
        )
    )
    return events, read


def test_rms_export_rows_with_utc_times_and_row_provenance() -> None:
    events, read = _events(EXPORT)
    assert read.rows == 9 and read.undated == 0
    first = events[1]
    # 2 March is GMT; 12 April is BST: the wall time is an hour ahead of UTC.
    assert iso_utc(first.timestamp_utc) == "2026-03-02T09:20:41Z" and first.zone_assumed
    assert iso_utc(events[-1].timestamp_utc) == "2026-04-12T19:30:44Z"
    assert first.user == "D2291" and first.system == "Person" and first.action == "Search"
    assert first.subject_name == "Katie Lewis" and first.subject_dob == "14/06/1994"
    assert first.subject_phone == "+447700900123" and first.subject_phone_raw == "07700 900123"
    assert first.source.locator == "row 3" and first.source.sha256 == sha256_file(EXPORT)
    assert events[-1].subject_ref == "44/26/1187"


def test_xlsx_export_reads_as_the_csv_does(tmp_path: Path) -> None:
    book_path = tmp_path / "audit.xlsx"
    book = xlsxwriter.Workbook(str(book_path))
    sheet = book.add_worksheet("Audit")
    with open(EXPORT, encoding="utf-8") as handle:
        for r, row in enumerate(csv.reader(handle)):
            sheet.write_row(r, 0, row)
    book.close()
    from_csv, _ = _events(EXPORT)
    from_xlsx, read = _events(book_path)
    assert read.rows == 9
    strip = lambda e: (e.timestamp_utc, e.user, e.subject_name, e.subject_phone, e.subject_ref)  # noqa: E731
    assert [strip(e) for e in from_xlsx] == [strip(e) for e in from_csv]
    assert from_xlsx[1].source.locator == "row 3"


def test_missing_mapped_column_is_named_with_the_header(tmp_path: Path) -> None:
    bad = tmp_path / "export.csv"
    bad.write_text("Access Date/Time,User ID,Module\n02/03/2026 09:00:00,D2291,Person\n", "utf-8")
    with pytest.raises(AuditMappingError) as err:
        check_header(bad, "export.csv", load_profile("rms"))
    assert str(err.value) == (
        "export.csv: mapped column 'Activity' (action, profile rms) is not in the header line:"
        " Access Date/Time,User ID,Module"
    )


def test_generic_profile_reads_iso_times_with_zone(tmp_path: Path) -> None:
    export = tmp_path / "generic.csv"
    export.write_text(
        "timestamp,user_id,system,action,subject_name,subject_dob,subject_phone,subject_address,"
        "record_ref\n2026-03-29T01:30:00+01:00,u1,PNC,query,A B,,07700900123,,\nnot a time,u1,,,,,,,\n",
        "utf-8",
    )
    read = AuditRead()
    events = list(
        read_audit(export, "g.csv", "x", load_profile("generic"), "Europe/London", "GB", read)
    )
    assert iso_utc(events[0].timestamp_utc) == "2026-03-29T00:30:00Z" and not events[0].zone_assumed
    assert (
        events[1].timestamp_utc is None
        and read.undated == 1
        and read.examples == ["row 3: time 'not a time'"]
    )


def _case_copy(demo_case: Path, old: str, new: str) -> Path:
    text = demo_case.read_text("utf-8")
    assert old in text
    demo_case.write_text(text.replace(old, new), "utf-8")
    return demo_case


def test_audit_section_errors_name_line_and_field(demo_case: Path) -> None:
    _case_copy(demo_case, '  users: ["D2291"]\n', "")
    with pytest.raises(CaseFileError, match=r"^case\.yaml line \d+: audit\.users: missing$"):
        load_case(demo_case)


def test_tasking_errors_name_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "tasking.csv"
    bad.write_text("incident_ref,date,people\n1/1,2026-03-02,A\n2/2,02/03/2026,B\n", "utf-8")
    with pytest.raises(TaskingError) as err:
        read_tasking(bad, "GB")
    assert str(err.value) == "tasking.csv line 3: date: expected a date as YYYY-MM-DD"


def test_run_with_a_profile_that_does_not_fit_exits_2_with_one_line(demo_case: Path, cli) -> None:
    profile = demo_case.parent / "mine.yaml"
    shutil.copy(DEMO.parents[1] / "profiles" / "audit" / "rms.yaml", profile)
    profile.write_text(profile.read_text("utf-8").replace("Telephone", "Phone No"), "utf-8")
    _case_copy(demo_case, "profile: rms", "profile: mine.yaml")
    result = cli.invoke(main, ["run", str(demo_case), "--out", str(demo_case.parent / "out")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith(
        "error: audit/rms-audit-export.csv: mapped column 'Phone No' (phone"
    )
    assert "header line: Access Date/Time,User ID,Module," in lines[-1]


def test_run_hashes_the_audit_export_and_records_the_profile(
    demo_case: Path, tmp_path: Path
) -> None:
    from triage.run import run_case
    from triage.store import Store

    out = tmp_path / "out"
    run_case(load_case(demo_case), out, report=False)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    inputs = {i["file"]: i for i in manifest["inputs"]}
    for name in ("audit/rms-audit-export.csv", "tasking.csv"):
        assert inputs[name]["unchanged"] and inputs[name]["sha256_before"] == sha256_file(
            demo_case.parent / name
        )
    audit = manifest["settings"]["audit"]
    assert audit["profile"]["sha256"] == sha256_file(
        DEMO.parents[1] / "profiles" / "audit" / "rms.yaml"
    )
    assert audit["files"][0]["rows"] == 9 and audit["users"] == ["D2291"]
    store = Store.open(out / "case.sqlite")
    assert store.audit_counts() == {"D2291": 7, "S1450": 2}
    assert [e.event.source.locator for e in store.audit_events(["S1450"])] == ["row 2", "row 9"]
