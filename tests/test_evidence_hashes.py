"""An input file on disk is hashed once on intake, and that hash is the one its sources record;
the check at the end of a run reads it again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from triage import evidence as evidence_module
from triage.evidence import Evidence

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _count_hashing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    hashed: list[str] = []
    stream = evidence_module.sha256_stream

    def counted(handle):  # noqa: ANN001, ANN202
        hashed.append(getattr(handle, "name", "?"))
        return stream(handle)

    monkeypatch.setattr(evidence_module, "sha256_stream", counted)
    return hashed


@pytest.mark.parametrize("as_folder", [True, False])
def test_a_file_on_disk_is_hashed_once_before_the_check_at_the_end(
    as_folder: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "extraction"
    folder.mkdir()
    data = b"SQLite format 3\x00" + bytes(range(256)) * 40
    (folder / "msgstore.db").write_bytes(data)
    (folder / "notes.txt").write_text("not a database\n")
    hashed = _count_hashing(monkeypatch)
    with Evidence() as ev:
        ev.add_input(folder if as_folder else folder / "msgstore.db", "phone")
        files = {f.member.rsplit("/", 1)[-1]: f for f in ev.files()}
        assert files["msgstore.db"].sha256 == hashlib.sha256(data).hexdigest()
        if as_folder:
            assert files["notes.txt"].sha256 == hashlib.sha256(b"not a database\n").hexdigest()
        intake = len(hashed)
        assert intake == (2 if as_folder else 1)
        assert ev.verify() == []
        assert len(hashed) == 2 * intake  # read again only by the check
        (folder / "msgstore.db").write_bytes(data + b"x")
        assert [line for line in ev.verify() if "SHA-256 changed" in line]


def test_an_archive_member_is_hashed_apart_from_its_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("WhatsApp Chat with A.txt", "12/03/2024, 08:01 - A: hello\n")
    with Evidence() as ev:
        ev.add_input(archive, "export")
        (member,) = list(ev.files())
        expected = hashlib.sha256(b"12/03/2024, 08:01 - A: hello\n").hexdigest()
        assert member.sha256 == expected
        assert ev.disk[archive.resolve()].sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
