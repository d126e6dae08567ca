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
    taken for its conversations whatever their size, this process leaving it most of them."""
    with monkeypatch.context() as local:
        local.setattr(conversation_share, "PARALLEL_FROM", 10**12)
        files = _report(demo_run, tmp_path / "here")
    monkeypatch.setattr(conversation_share, "PARALLEL_FROM", 0)
    monkeypatch.setattr(conversation_share, "TAIL", 0.9)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    return files


def _watch(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """What happened to the second process: the claims it was started with, its result, the
    conversations written here for it."""
    seen: dict[str, list] = {"share": [], "result": [], "rows": [], "here": []}
    start, result, write_share = (
        conversation_share._Child.start.__func__,
        conversation_share._Child.result,
        conversation_share.write_share,
    )

    def watched_start(cls, report, claims):  # noqa: ANN001, ANN202
        seen["share"].append(claims)
        return start(cls, report, claims)

    def watched_result(self):  # noqa: ANN001, ANN202
        written = result(self)
        seen["result"].append(written)
        # (The merge takes the rows off the part as it goes.)
        seen["rows"].append(len(written.search.rows) if written else None)
        return written

    def watched_write_share(report, positions):  # noqa: ANN001, ANN202
        # Only the parent's calls are seen: the child's list is its own copy.
        seen["here"].append(list(positions))
        return write_share(report, seen["here"][-1])

    monkeypatch.setattr(conversation_share._Child, "start", classmethod(watched_start))
    monkeypatch.setattr(conversation_share._Child, "result", watched_result)
    monkeypatch.setattr(conversation_share, "write_share", watched_write_share)
    return seen


def test_a_second_process_writes_the_same_files(
    in_process: dict[str, bytes], demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _watch(monkeypatch)
    files = _report(demo_run, tmp_path / "there")
    (claims,) = seen["share"]
    (written,) = seen["result"]
    assert written is not None and seen["rows"][0]  # the child's share came back
    total = len(Store.open(demo_run / "case.sqlite").conversations())
    assert written.positions and len(written.positions) < total
    # Each of the conversations handed out was written by one process: the child or this one.
    handed = {n for group in claims.groups for n in group}
    mine = {n for number in claims.taken for n in claims.groups[number]}
    assert set(written.positions) == handed - mine and mine <= handed
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
    (claims,) = seen["share"]
    theirs = [n for g, group in enumerate(claims.groups) if g not in claims.taken for n in group]
    assert theirs and seen["here"] == [theirs]
    for name, data in in_process.items():
        assert files[name] == data, name


def test_the_share_holds_no_conversation_a_later_page_lists_a_message_of(
    in_process: dict[str, bytes], demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _watch(monkeypatch)
    _report(demo_run, tmp_path / "there")
    (claims,) = seen["share"]
    (written,) = seen["result"]
    assert not written.kept and not written.quotes
    share = [n for group in claims.groups for n in group]
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

    def watched_start(cls, report, claims):  # noqa: ANN001, ANN202
        child = start(cls, report, claims)
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


def test_conversations_a_second_process_took_and_did_not_write_are_written_here(
    in_process: dict[str, bytes], demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _watch(monkeypatch)
    theirs = conversation_share.Claims.theirs

    def dies_after_one(self: conversation_share.Claims):  # noqa: ANN202 - runs in the child only
        group = self.take()
        if group is not None:
            yield group[0]
        os._exit(0)  # the rest of that group, and the group itself, never sent

    monkeypatch.setattr(conversation_share.Claims, "theirs", dies_after_one)
    files = _report(demo_run, tmp_path / "there")
    monkeypatch.setattr(conversation_share.Claims, "theirs", theirs)
    assert seen["result"] == [None]
    (claims,) = seen["share"]
    theirs_here = [
        n for g, group in enumerate(claims.groups) if g not in claims.taken for n in group
    ]
    assert seen["here"] == [theirs_here]
    for name, data in in_process.items():
        assert files[name] == data, name


class _Conversations:
    """A report as :class:`conversation_share.Claims` reads it: conversations with counts."""

    def __init__(self, counts: list[int]) -> None:
        self.conversations = [{"messages": n} for n in counts]


def test_each_group_is_taken_once_by_one_process_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conversation_share, "GROUP", 1 / 40)
    counts = [3, 1, 7, 2, 9, 4, 4, 1, 6, 5] * 30
    pool = list(range(len(counts)))
    claims = conversation_share.Claims.of(_Conversations(counts), pool)
    assert claims is not None and len(claims.groups) > 20
    assert [n for group in claims.groups for n in group] == pool
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        taken = list(claims.theirs())
        os.write(write, ",".join(map(str, taken)).encode())
        os._exit(0)
    os.close(write)
    mine = list(claims.theirs())
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read().decode()
    os.waitpid(pid, 0)
    claims.close()
    theirs = [int(n) for n in data.split(",")] if data else []
    assert mine == sorted(mine) and theirs == sorted(theirs)
    assert sorted(mine + theirs) == pool


def test_this_process_takes_groups_until_the_tail_and_writes_its_own_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conversation_share, "GROUP", 0.1)
    monkeypatch.setattr(conversation_share, "TAIL", 0.25)
    counts = [10] * 20
    pool = [n for n in range(len(counts)) if n % 4]  # 0, 4, 8... only this process writes
    claims = conversation_share.Claims.of(_Conversations(counts), pool)
    assert claims is not None
    order = list(claims.mine(set(pool), len(counts)))
    claims.close()
    assert order == sorted(order)
    assert set(range(0, 20, 4)) <= set(order)
    handed = [n for number in claims.taken for n in claims.groups[number]]
    assert set(order) - set(range(0, 20, 4)) == set(handed)
    left = sum(s for g, s in enumerate(claims.sizes) if g not in claims.taken)
    # It stopped once a quarter or less of the messages handed out was left, not before.
    assert 0 < left <= 0.25 * sum(claims.sizes)
    assert left + claims.sizes[claims.taken[-1]] > 0.25 * sum(claims.sizes)
    assert claims.unwritten([]) == sorted(set(pool) - set(handed))
