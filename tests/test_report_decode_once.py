"""The report decodes each stored message once (issue 11): the contact pages, the filtered
views and the groups page take their messages from the conversation pass.

The pages read messages as :class:`triage.store.PageMessage` rows, never as full ``Message``
objects: both of the store's decoders are wrapped to count, per message id, how often a row is
decoded while the report of a finished run is written from ``case.sqlite``.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

import triage.store.messages as store_messages
from triage.casefile import load_case
from triage.report import report_from_store
from triage.run import run_case
from triage.store import Store

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> Counter[int]:
    counts: Counter[int] = Counter()
    real = getattr(store_messages, name)

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        decode = real(*args, **kwargs)

        def one(row):  # noqa: ANN001, ANN202
            counts[row[0]] += 1
            return decode(row)

        return one

    monkeypatch.setattr(store_messages, name, counting)
    return counts


def _decodes(
    monkeypatch: pytest.MonkeyPatch, store: Store, out: Path
) -> tuple[Counter[int], Counter[int]]:
    """(page rows, full messages) decoded per message id while the report is written."""
    pages = _counting(monkeypatch, "page_message_decoder")
    full = _counting(monkeypatch, "message_decoder")
    report_from_store(store, out)
    return pages, full


@pytest.mark.parametrize("case_file", ["case.yaml", "case-two-phones.yaml"])
def test_report_decodes_each_message_once(
    case_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    result = run_case(load_case(target / case_file), tmp_path / "out", report=False)
    store = Store.open(result.store_path)
    try:
        listed_again = set(store.labels("contacts", "contact"))
        in_groups = {mid for f in store.findings("groups") for mid in f.refs}
        # The case has messages the contact pages and the groups page list, so a second read
        # of either would show.
        assert listed_again - in_groups
        assert in_groups
        counts, full = _decodes(monkeypatch, store, tmp_path / "out")
        stored = {row[0] for row in store.conn.execute("SELECT id FROM messages")}
    finally:
        store.close()
    assert set(counts) == stored
    # The exports (messages.csv, the workbook) read rows of their own; nothing builds messages.
    assert not full, full
    assert max(counts.values()) == 1, {mid: n for mid, n in counts.items() if n > 1}


def test_sender_of_is_the_decoded_messages_sender(tmp_path: Path) -> None:
    # The contacts analyser reads a first message's sender this way instead of decoding it.
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    result = run_case(load_case(target / "case.yaml"), tmp_path / "out", report=False)
    store = Store.open(result.store_path)
    try:
        messages = list(store.messages()) + list(store.recovered_messages())
        assert any(s.message.sender is not None for s in messages)
        for s in messages:
            assert store.sender_of(s.id) is s.message.sender
        assert store.sender_of(10**9) is None
    finally:
        store.close()
