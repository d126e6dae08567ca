"""The terminal summary of `triage run`, as an examiner reads it at 80 columns: the headline
sentences, one short-named row per file read (with calls and address-book entries named as
such), the sources of the case file counted apart from the files found in them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import DEMO
from triage.cli import main
from triage.run_summary import short_names


def test_demo_summary_reads_at_80_columns(cli, tmp_path: Path) -> None:
    result = cli.invoke(main, ["run", str(DEMO / "case.yaml"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = result.output
    lines = text.splitlines()
    # Every line fits 80 columns, but for those naming the output folder (a long temporary path).
    assert max(len(line) for line in lines if str(tmp_path) not in line) <= 80
    assert lines[0].startswith("Case DEMO/PSD/2026/0042: 4 sources in the case file")
    # The headline sentences of the first screen.
    assert "What the data shows" in text
    assert re.search(r"- 31 of 50 messages with Female A were sent or received outside", text)
    assert ".." not in text
    # Sources (what the case file lists) and files (what was found in them) are counted apart.
    files = len(json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))["sources"])
    assert files > 4
    assert f"{files} files read from the 4 sources (full paths in manifest.json):" in text
    header = next(line for line in lines if line.startswith("file "))
    assert header.split() == ["file", "read", "as", "messages", "calls", "address", "problems"]
    rows = {
        line.split()[0]: line.split()[1:]
        for line in lines
        if line.startswith(("msgstore.db", "contacts2.db", "calllog.db"))
    }
    assert rows["msgstore.db"] == ["whatsapp_android", "29", "0", "0", "0"]
    assert rows["contacts2.db"] == ["android_contacts", "0", "0", "5", "0"]
    assert rows["calllog.db"] == ["android_calllog", "0", "14", "0", "0"]
    assert "address book: entries read from the phone's or app's address book" in text
    assert "android-extraction.zip!/data" not in text  # the full paths are in the manifest
    assert "(s)" not in text


def test_short_names_grow_only_where_two_files_share_a_name() -> None:
    names = short_names(
        [
            "x.zip!/data/user/0/com.whatsapp/databases/msgstore.db",
            "x.zip!/data/user/10/com.whatsapp/databases/msgstore.db",
            "x.zip!/data/user_de/0/com.android.providers.telephony/databases/mmssms.db",
        ]
    )
    assert list(names.values()) == [
        "0/com.whatsapp/databases/msgstore.db",
        "10/com.whatsapp/databases/msgstore.db",
        "mmssms.db",
    ]
