"""One identifier given for two case contacts is said in the terminal, on the first screen and on
both contact pages, with how many messages count for each (real AOSP mmssms.db, real parser)."""

from __future__ import annotations

from pathlib import Path

from tests.test_analysers_duty import ROSTER, ROWS
from tests.test_analysers_support import build_mmssms, run, write_case
from triage.cli import main

TWO = """contacts:
  - name: Female A
    role: victim
    identifiers:
      - phone: "+44 7700 900123"
  - name: Female B
    role: witness
    identifiers:
      - phone: "07700 900123"
      - phone: "07700 900456"
  - name: Female C
    role: witness
    identifiers:
      - phone: "07700 900789"
"""


def _case(tmp_path: Path) -> Path:
    build_mmssms(tmp_path / "evidence" / "mmssms.db", [r for r, _, _ in ROWS])
    (tmp_path / "roster.csv").write_text(ROSTER, "utf-8")
    return write_case(tmp_path, TWO + "roster:\n  csv: roster.csv\nsources:\n  - evidence\n")


SENTENCE = (
    "The identifier +44 7700 900123 / 07700 900123 is given in the case file for Female A and "
    "Female B: every message with it counts for each of them, so their figures are not separate"
)


def test_shared_identifier_is_said_everywhere(cli, tmp_path: Path) -> None:
    case = _case(tmp_path)
    out = tmp_path / "out"
    result = cli.invoke(main, ["run", str(case), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"warning: {SENTENCE}." in " ".join(result.output.split())

    r = run(case, tmp_path / "again")
    finding = r.one("contact.shared-identifier")
    with_a = sum(1 for row, _, _ in ROWS if row.address == "07700 900123")
    assert finding.data["contacts"] == ["contact-1", "contact-2"]
    assert finding.data["identifier"] == "+447700900123"
    assert finding.data["messages_in_common"] == with_a == len(finding.refs)
    assert finding.why == f"{SENTENCE}. {with_a} messages counted for each of them."
    summaries = {f.subject: f.data["message_count"] for f in r.findings("contact.summary")}
    assert summaries == {"contact-1": with_a, "contact-2": with_a}

    index = (out / "index.html").read_text("utf-8")
    assert index.count('class="notice shared-identifier"') == 1
    for key in ("contact-1", "contact-2"):
        page = (out / "contacts" / f"{key}.html").read_text("utf-8")
        assert "given in the case file for Female A and Female B" in page, key
    assert "shared-identifier" not in (out / "contacts" / "contact-3.html").read_text("utf-8")


def test_no_warning_when_identifiers_are_distinct(cli, tmp_path: Path) -> None:
    case = _case(tmp_path)
    case.write_text(case.read_text("utf-8").replace('"07700 900123"', '"07700 900555"'), "utf-8")
    result = cli.invoke(main, ["run", str(case), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "given in the case file for" not in result.output
    assert "shared-identifier" not in (tmp_path / "out" / "index.html").read_text("utf-8")
