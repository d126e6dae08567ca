"""The conversation pages a second process writes are the files written in-process, and whatever
goes wrong with it, its share is written in-process: the report is the same either way."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from triage.forking import can_fork
from triage.report import conversation_share, report_from_store, search, writer
from triage.store import Store

pytestmark = pytest.mark.skipif(not can_fork(), reason="a second process needs fork")


def _files(folder: Path) -> dict[str, bytes]:
    # The run's manifest is not rewritten by a report (and holds the run's times).
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json" and p.name != "case.sqlite"
    }


def _report(demo_run: Path, out: Path) -> dict[str, bytes]:
    shutil.copytree(demo_run, out)
    store = Store.open(out / "case.sqlite")
    try:
        report_from_store(store, out)
    finally:
        store.close()
    return _files(out)


@pytest.fixture
def in_process(demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The report of the demo run written in one process; afterwards, a second process is
    taken for its conversations whatever their size, with most of them for its share."""
    with monkeypatch.context() as local:
        local.setattr(conversation_share, "PARALLEL_FROM", 10**12)
        files = _report(demo_run, tmp_path / "here")
    monkeypatch.setattr(conversation_share, "PARALLEL_FROM", 0)
    monkeypatch.setattr(conversation_share, "SHARE", 0.9)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    return files


def _watch(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """What happened to the second process: its share, its result, shares written here."""
    seen: dict[str, list] = {"share": [], "result": [], "rows": [], "here": []}
    start, result, write_share = (
        conversation_share._Child.start.__func__,
        conversation_share._Child.result,
        conversation_share.write_share,
    )

    def watched_start(cls, report, positions):  # noqa: ANN001, ANN202
        seen["share"].append(positions)
        return start(cls, report, positions)

    def watched_result(self):  # noqa: ANN001, ANN202
        written = result(self)
        seen["result"].append(written)
        # (The merge takes the rows off the part as it goes.)
        seen["rows"].append(len(written.search.rows) if written else None)
        return written

    def watched_write_share(report, positions):  # noqa: ANN001, ANN202
        # Only the parent's calls are seen: the child's list is its own copy.
        seen["here"].append(positions)
        return write_share(report, positions)

    monkeypatch.setattr(conversation_share._Child, "start", classmethod(watched_start))
    monkeypatch.setattr(conversation_share._Child, "result", watched_result)
    monkeypatch.setattr(conversation_share, "write_share", watched_write_share)
    return seen


def test_a_second_process_writes_the_same_files(
    in_process: dict[str, bytes], demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _watch(monkeypatch)
    files = _report(demo_run, tmp_path / "there")
    (share,) = seen["share"]
    assert share and len(share) < len(Store.open(demo_run / "case.sqlite").conversations())
    (written,) = seen["result"]
    assert written is not None and seen["rows"][0]  # the child's share came back
    assert not seen["here"]
    assert files.keys() == in_process.keys()
    for name, data in in_process.items():
        assert files[name] == data, name


@pytest.mark.parametrize("failure", ["raises", "exits without sending"])
def test_a_failed_second_process_has_its_share_written_here(
    failure: str,
    in_process: dict[str, bytes],
    demo_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _watch(monkeypatch)

    def broken(self: Store) -> None:  # only the child opens a connection of its own
        if failure == "raises":
            raise RuntimeError("no connection")
        os._exit(0)

    monkeypatch.setattr(Store, "reconnect", broken)
    files = _report(demo_run, tmp_path / "there")
    assert seen["result"] == [None]
    assert seen["here"] == seen["share"] and seen["share"][0]
    for name, data in in_process.items():
        assert files[name] == data, name


def test_the_share_holds_no_conversation_a_later_page_lists_a_message_of(
    in_process: dict[str, bytes], demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _watch(monkeypatch)
    _report(demo_run, tmp_path / "there")
    (share,) = seen["share"]
    (written,) = seen["result"]
    assert not written.kept and not written.quotes
    store = Store.open(demo_run / "case.sqlite")
    try:
        conversations = store.conversation_summaries()
        listed = set(store.labels("contacts", "contact"))
        listed.update(mid for f in store.findings("groups") for mid in f.refs)
        busy = store.conversation_keys_of(listed)
    finally:
        store.close()
    assert busy
    assert not busy & {conversations[n]["key"] for n in share}


def _index() -> search.SearchIndex:
    """An index collecting stand-in rows (a platform and a party per message) with its codes."""
    index = search.SearchIndex.__new__(search.SearchIndex)
    index.rows, index.marks = [], []
    index.tables = {t: {} for t in search.TABLES}
    return index


def _collect(index: search.SearchIndex, position: int, messages: list[tuple[str, str]]) -> None:
    for n, (platform, party) in enumerate(messages):
        code = index._code
        status = code("statuses", party[0]) if party[0] != "z" else -1
        row = (False, n, f"{position}.{n}", "", code("parties", party), -1)
        row += (code("platforms", platform), status, 0, code("conversations", position), 1)
        index.rows.append(row)
    index.end_conversation(position)


def test_merged_codes_are_those_of_one_pass() -> None:
    conversations = [
        [("sms", "ann"), ("sms", "bob")],
        [("whatsapp", "cat"), ("sms", "ann"), ("sms", "zed")],
        [("sms", "dan"), ("whatsapp", "bob")],
        [],
        [("messenger", "eve"), ("sms", "cat"), ("sms", "dan")],
        [("messenger", "ann"), ("sms", "zed")],
    ]
    whole = _index()
    for n, messages in enumerate(conversations):
        _collect(whole, n, messages)
    expected = sorted(whole.rows), {t: list(whole.tables[t]) for t in search.TABLES}
    for split in ([0, 2, 3], [1, 4], [5], [0, 1, 2, 3, 4, 5], [1, 3, 5]):
        mine, theirs = _index(), _index()
        for n, messages in enumerate(conversations):
            _collect(theirs if n in split else mine, n, messages)
        rows, tables = search.merged([mine.part(), theirs.part()])
        assert (sorted(rows), {t: list(tables[t]) for t in search.TABLES}) == expected, split


def test_a_failure_here_ends_the_second_process(
    in_process: dict[str, bytes], demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[conversation_share._Child] = []
    start = conversation_share._Child.start.__func__

    def watched_start(cls, report, positions):  # noqa: ANN001, ANN202
        child = start(cls, report, positions)
        started.append(child)
        return child

    def broken(self, contact, ctx) -> None:  # noqa: ANN001
        raise RuntimeError("a contact page cannot be written")

    monkeypatch.setattr(conversation_share._Child, "start", classmethod(watched_start))
    monkeypatch.setattr(writer.Report, "write_contact", broken)
    with pytest.raises(RuntimeError, match="contact page"):
        _report(demo_run, tmp_path / "there")
    (child,) = started
    assert child.pipe.closed
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)  # collected: no process left behind
