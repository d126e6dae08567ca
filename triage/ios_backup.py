"""iTunes/Finder iOS backups: files named by domain and path through ``Manifest.db``.

A backup folder holds ``Manifest.db``, ``Manifest.plist``, ``Info.plist``, ``Status.plist`` and the
files themselves in two-hex-digit folders named by ``fileID`` (``3d/3d0d7e5f...``), where
``fileID`` is the SHA-1 of ``domain-relativePath`` (mvt-project/mvt ``src/mvt/ios/modules/base.py``
and ``modules/backup/manifest.py``; jsharkey13/iphone_backup_decrypt ``utils.py``
``backup_file_path``). ``Manifest.db`` table ``Files(fileID, domain, relativePath, flags, file)``
lists every file (``flags`` 1 = file); ``file`` is an NSKeyedArchiver ``MBFile`` plist with
``Size`` and, in an encrypted backup, ``ProtectionClass`` and ``EncryptionKey``.

Each backup found in the evidence becomes a :class:`BackupContainer` whose members are
``<domain>/<relativePath>`` (``HomeDomain/Library/SMS/sms.db``), so detection, parsers, provenance
and the report name files as the phone did; the hashed files it stands for are not offered to
detection again. The file each member is stored as is kept (:func:`stored_as`) for the manifest.

An encrypted backup (``Manifest.plist`` ``IsEncrypted``) is decrypted with the
``iphone-backup-decrypt`` library when the case file gives the source's password; every
decrypted byte (including the library's decrypted copy of ``Manifest.db``) is written only inside
the run's temporary directory. Without a password it is reported "encrypted: password needed".
"""

from __future__ import annotations

import contextlib
import io
import plistlib
import posixpath
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from triage.evidence import (
    CHUNK,
    Container,
    Evidence,
    EvidenceFile,
    FolderContainer,
    Notice,
    Refusal,
)
from triage.views import ViewContainer

MANIFEST_FILES = ("Manifest.db", "Manifest.plist", "Info.plist", "Status.plist")


def _mbfile_size(blob: Any) -> int | None:
    """``Size`` from a ``Files.file`` NSKeyedArchiver plist, when it can be read."""
    if not isinstance(blob, bytes | bytearray):
        return None
    try:
        plist = plistlib.loads(bytes(blob))
        root = plist["$objects"][plist["$top"]["root"].data]
        return int(root.get("Size"))
    except (
        plistlib.InvalidFileException,
        KeyError,
        IndexError,
        TypeError,
        ValueError,
        AttributeError,
    ):
        return None


@contextlib.contextmanager
def _library_in(folder: Path) -> Iterator[io.StringIO]:
    """Run the decryption library with its temporary files inside ``folder`` and its messages
    (it prints size notes to stdout) captured, so ``triage parse`` output stays clean."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(folder)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            yield captured
    finally:
        tempfile.tempdir = saved


class BackupContainer(ViewContainer):
    """An iOS backup seen through its manifest: members are ``domain/relativePath``."""

    def __init__(
        self,
        evidence: Evidence,
        base: Container,
        folder: str,
        label: str,
        rows: list[tuple[str, str, str, Any]],
        decryptor: Any = None,
    ) -> None:
        super().__init__(evidence, label)
        self.base = base
        self.folder = folder
        self.decryptor = decryptor
        self.encrypted = decryptor is not None
        self._plain: dict[str, Path] = {}
        self.missing = 0
        for file_id, domain, relative, blob in rows:
            stored = self._stored_file(file_id)
            if stored is None:
                self.missing += 1
                continue
            size = _mbfile_size(blob) if self.encrypted else stored.size
            self.show(f"{domain}/{relative}", stored, size)

    def _stored_file(self, file_id: str) -> EvidenceFile | None:
        for name in (f"{file_id[:2]}/{file_id}", file_id):
            found = self.base.get(posixpath.join(self.folder, name) if self.folder else name)
            if found is not None:
                return found
        return None

    def open_member(self, member: str) -> BinaryIO:
        if not self.encrypted:
            return super().open_member(member)
        return open(self._decrypted(member), "rb")

    def local_path(self, member: str) -> Path:
        if not self.encrypted:
            return super().local_path(member)
        return self._decrypted(member)

    def _decrypted(self, member: str) -> Path:
        """A decrypted copy in the run's temporary directory, made once."""
        if member not in self._plain:
            domain, _, relative = member.partition("/")
            target = self.evidence.scratch("ios-backup", posixpath.basename(member))
            self.decryptor.fetch(self.stored[member], domain, relative, target)
            self._plain[member] = target
        return self._plain[member]


class _Decryptor:
    """iphone-backup-decrypt over a backup folder on disk (a private copy when in an archive)."""

    def __init__(self, evidence: Evidence, directory: Path, password: str, copies: bool) -> None:
        from iphone_backup_decrypt import EncryptedBackup

        self.evidence = evidence
        self.directory = directory
        self.copies = copies  # the folder is our scratch copy: stored files are copied in on demand
        self.workdir = evidence.scratch("ios-backup-keys", "lib")
        self.workdir.mkdir()
        self.notes: list[str] = []
        with _library_in(self.workdir) as out:
            self.backup = EncryptedBackup(backup_directory=str(directory), passphrase=password)
            self.backup.test_decryption()
        self.notes.extend(line for line in out.getvalue().splitlines() if line)

    def close(self) -> None:
        # The library deletes its decrypted copy of Manifest.db when the object is released
        # (EncryptedBackup.__del__); release it while the run's temporary directory still exists.
        backup, self.backup = self.backup, None
        del backup

    def rows(self) -> list[tuple[str, str, str, Any]]:
        with _library_in(self.workdir), self.backup.manifest_db_cursor() as cur:
            cur.execute(
                "SELECT fileID, domain, relativePath, file FROM Files WHERE flags = 1 "
                "ORDER BY domain, relativePath"
            )
            return list(cur.fetchall())

    def fetch(self, stored: EvidenceFile, domain: str, relative: str, target: Path) -> None:
        if self.copies:
            file_id = stored.name
            dest = self.directory / file_id[:2] / file_id
            dest.parent.mkdir(exist_ok=True)
            if not dest.exists():
                with stored.open() as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        with _library_in(self.workdir) as out:
            self.backup.extract_file(
                relative_path=relative, domain_like=domain, output_filename=str(target)
            )
        self.notes.extend(line for line in out.getvalue().splitlines() if line)


def _manifest_rows(manifest: EvidenceFile) -> list[tuple[str, str, str, Any]]:
    with manifest.sqlite() as conn:
        return list(
            conn.execute(
                "SELECT fileID, domain, relativePath, file FROM Files WHERE flags = 1 "
                "ORDER BY domain, relativePath"
            )
        )


def _is_encrypted(plist_file: EvidenceFile) -> bool | None:
    try:
        with plist_file.open() as handle:
            data = plistlib.load(handle)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None
    return bool(data.get("IsEncrypted")) if isinstance(data, dict) else None


def open_backups(evidence: Evidence, container: Container, password: str | None) -> list[Container]:
    """Every iOS backup inside ``container``, opened through its manifest."""
    opened: list[Container] = []
    for manifest in container.find_suffix("Manifest.db"):
        folder = manifest.folder
        plist = container.get(
            posixpath.join(folder, "Manifest.plist") if folder else "Manifest.plist"
        )
        if plist is None:
            continue
        label = f"{container.label}/{folder}" if folder else container.label
        if container.separator != "/" and folder:
            label = f"{container.label}!/{folder}"
        encrypted = _is_encrypted(plist)
        try:
            if encrypted:
                backup = _open_encrypted(evidence, container, folder, label, password)
            else:
                backup = BackupContainer(
                    evidence, container, folder, label, _manifest_rows(manifest)
                )
        except _NotOpened as exc:
            container.refused.append(Refusal(label, str(exc)))
            _hide_backup_files(evidence, container, folder)
            continue
        except (sqlite3.DatabaseError, OSError, ValueError) as exc:
            container.refused.append(
                Refusal(label, f"iOS backup manifest could not be read: {exc}")
            )
            continue
        for name in MANIFEST_FILES:
            found = container.get(posixpath.join(folder, name) if folder else name)
            if found is not None:
                evidence.opened_archives.add(id(found))
        if backup.missing:
            backup.notices.append(
                Notice(
                    label,
                    "iOS backup: files listed in Manifest.db but not in the backup",
                    f"{backup.missing} file(s)",
                )
            )
        evidence.containers.append(backup)
        opened.append(backup)
    return opened


class _NotOpened(Exception):
    """An encrypted backup that cannot be decrypted: the reason is the refusal shown."""


def _open_encrypted(
    evidence: Evidence, container: Container, folder: str, label: str, password: str | None
) -> BackupContainer:
    if not password:
        raise _NotOpened(
            "encrypted iOS backup: password needed (give the source's password in the case file); "
            "its files were not read"
        )
    if isinstance(container, FolderContainer):
        directory, copies = container.root / folder, False
    else:
        directory = evidence.scratch("ios-backup", "backup")
        directory.mkdir()
        for name in ("Manifest.db", "Manifest.plist"):
            src = container.get(posixpath.join(folder, name) if folder else name)
            if src is not None:
                with src.open() as s, open(directory / name, "wb") as d:
                    shutil.copyfileobj(s, d, CHUNK)
        copies = True
    from iphone_backup_decrypt.exceptions import IncorrectPassphraseError

    try:
        decryptor = _Decryptor(evidence, directory, password, copies)
    except IncorrectPassphraseError:
        raise _NotOpened(
            "encrypted iOS backup: the password given does not open it; its files were not read"
        ) from None
    except Exception as exc:  # the library raises its own and ValueError on damaged keybags
        raise _NotOpened(f"encrypted iOS backup could not be decrypted: {exc}") from None
    return BackupContainer(evidence, container, folder, label, decryptor.rows(), decryptor)


def _hide_backup_files(evidence: Evidence, container: Container, folder: str) -> None:
    """Ciphertext files of an unopened encrypted backup: one refusal says why, not thousands."""
    prefix = f"{folder}/" if folder else ""
    for member, file in container.files.items():
        if not member.startswith(prefix):
            continue
        rest = member[len(prefix) :]
        parts = rest.split("/")
        hashed = len(parts) == 2 and len(parts[0]) == 2 and parts[1].startswith(parts[0])
        if hashed or rest in MANIFEST_FILES:
            evidence.opened_archives.add(id(file))
