from __future__ import annotations

from pathlib import Path

import pytest

from triage.casefile import CaseFileError, case_from_data, case_to_data, load_case
from triage.cli import main

GOOD = """\
case:
  reference: T/1
subject:
  name: PC Example
  identifiers:
    - phone: "07700 900001"
contacts:
  - name: Female A
    role: victim
    identifiers:
      - phone: "07700 900123"
      - "447700900124@s.whatsapp.net"
    dates:
      first_policing_contact: 2026-03-02
  - name: Female B
    role: witness
    identifiers:
      - email: b@example.org
sources:
  - evidence
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "evidence").mkdir(exist_ok=True)
    path = tmp_path / "case.yaml"
    path.write_text(text, "utf-8")
    return path


def test_valid_case_file_loads_with_defaults(tmp_path: Path) -> None:
    case = load_case(write(tmp_path, GOOD))
    assert case.reference == "T/1"
    assert case.timezone == "Europe/London" and case.region == "GB"
    assert [c.role for c in case.contacts] == ["victim", "witness"]
    assert case.contacts[0].match_ids() == {"+447700900123", "+447700900124"}
    assert str(case.contacts[0].dates["first_policing_contact"]) == "2026-03-02"
    assert case.owner_parties()[0].id == "+447700900001"
    assert len(case.sha256) == 64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("role: witness", "role: witnes"),
            "case.yaml line 16: contacts[1].role: expected one of victim, witness, complainant, other",
        ),
        (
            ("  reference: T/1", "  reference: T/1\n  timezone: Europe/Londn"),
            "case.yaml line 3: case.timezone: not a known IANA time zone (e.g. Europe/London)",
        ),
        (
            ("first_policing_contact: 2026-03-02", "first_policing_contact: 2nd March"),
            "case.yaml line 14: contacts[0].dates.first_policing_contact: expected a date as YYYY-MM-DD",
        ),
        (
            ("  - evidence", "  - missing-folder"),
            "case.yaml line 20: sources[0]: missing-folder: no such file or folder (paths are relative to the case file)",
        ),
        (("contacts:", "contacs:"), "case.yaml line 7: contacs: unknown key; expected one of"),
        (
            ('- phone: "07700 900001"', '- phone: "not a number"'),
            "case.yaml line 6: subject.identifiers[0].phone: 'not a number' is not a phone number for region GB",
        ),
    ],
)
def test_errors_name_line_and_field(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CaseFileError) as err:
        load_case(path)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("role: victim", "role: [victim"))
    with pytest.raises(CaseFileError, match=r"^case.yaml line \d+: not valid YAML"):
        load_case(path)


def test_cli_prints_one_line_error_and_exit_2(tmp_path: Path, cli) -> None:
    path = write(tmp_path, GOOD.replace("role: witness", "role: suspect"))
    result = cli.invoke(main, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        "error: case.yaml line 16: contacts[1].role: expected one of victim, witness, complainant, other"
    ]
    assert "Traceback" not in result.output


def test_examiner_and_production_date_for_the_printed_exhibit(tmp_path: Path) -> None:
    """case.examiner and case.produced are optional, kept in the case store's copy of the case
    (so `triage report` prints them again), and a wrong date names its line."""
    assert load_case(write(tmp_path, GOOD)).produced is None
    extra = "  reference: T/1\n  examiner: DC 1 A Examiner\n  produced: 2026-05-04"
    case = load_case(write(tmp_path, GOOD.replace("  reference: T/1", extra)))
    assert (case.examiner, str(case.produced)) == ("DC 1 A Examiner", "2026-05-04")
    again = case_from_data(case_to_data(case))
    assert (again.examiner, again.produced) == (case.examiner, case.produced)
    wrong = GOOD.replace("  reference: T/1", "  reference: T/1\n  produced: 4 May")
    with pytest.raises(CaseFileError) as err:
        load_case(write(tmp_path, wrong))
    assert str(err.value) == "case.yaml line 3: case.produced: expected a date as YYYY-MM-DD"
