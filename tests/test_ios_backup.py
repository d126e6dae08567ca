"""iOS backups: files named through Manifest.db; encrypted backups decrypted with the case password."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import zipfile
from pathlib import Path

from tests.conftest import ROOT
from triage.casefile import load_case
from triage.cli import main
from triage.jsonl import read_records
from triage.run import run_case
from triage.store import Store

PLAIN = ROOT / "fixtures" / "ios_backup" / "generated" / "plain"
UDID = "00008030-000A1B2C3D4E5F60"
SMS_DB = ROOT / "fixtures" / "sms" / "generated" / "ios16"

_spec = importlib.util.spec_from_file_location(
    "ios_backup_fixtures", ROOT / "fixtures" / "ios_backup" / "make_fixtures.py"
)
assert _spec and _spec.loader
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)


def encrypted_backup(target: Path, password: str) -> Path:
    # Small key-derivation counts keep the test quick; the format is the same.
    return make.write_backup(target, password, dpic=1, iterations=1).parent


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def case_file(folder: Path, source: str, password: str | None) -> Path:
    lines = ["case:", "  reference: TEST/IOS", "sources:", f"  - path: {source}"]
    if password:
        lines.append(f"    password: {password}")
    path = folder / "case.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def parse(cli, path: Path) -> tuple[list[dict], str]:
    """The message lines of ``triage parse`` (call lines, ``"record": "call"``, left out)."""
    result = cli.invoke(main, ["parse", str(path)])
    rows = list(read_records(result.stdout.splitlines()))
    return [r for r in rows if r.get("record") != "call"], result.stderr


def bodies(rows: list[dict]) -> list[tuple]:
    return sorted((r["platform"], r["timestamp_utc"] or "", r["body"] or "") for r in rows)


def test_backup_files_are_named_by_domain_and_path(cli) -> None:
    rows, stderr = parse(cli, PLAIN)
    files = {r["source"]["file"] for r in rows}
    label = f"{PLAIN}/{UDID}"
    assert files == {
        f"{label}!/HomeDomain/Library/SMS/sms.db",
        f"{label}!/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite",
    }
    direct, _ = parse(cli, SMS_DB)
    sms = [r for r in rows if r["source"]["file"].endswith("sms.db")]
    assert bodies(sms) == bodies(direct)
    paths = [a["path"] for r in sms for a in r["attachments"] if a["path"]]
    assert (
        f"{label}!/MediaDomain/Library/SMS/Attachments/01/01/IOS16-ATT-0001/IMG_0001.PNG" in paths
    )
    assert "listed in Manifest.db but not in the backup" in stderr

    detect = cli.invoke(main, ["detect", "--json", str(PLAIN)])
    listed = [json.loads(x)["file"] for x in detect.stdout.splitlines()]
    # Hashed names and the manifest itself are not offered again as files of their own.
    assert not any("/3d/3d0d7e5f" in f or f.endswith("Manifest.db") for f in listed)


def test_encrypted_backup_is_decrypted_with_the_case_password(tmp_path: Path, cli) -> None:
    evidence = encrypted_backup(tmp_path / "evidence", "correct horse")
    before = snapshot(evidence)
    result = run_case(load_case(case_file(tmp_path, "evidence", "correct horse")), tmp_path / "out")

    assert snapshot(evidence) == before  # nothing decrypted was written next to the evidence
    store = Store.open(result.store_path)
    stored = [(s.message.source.file, s.message.body) for s in store.messages()]
    store.close()
    plain_rows, _ = parse(cli, PLAIN)
    assert len(stored) == len(plain_rows)
    assert any(f.endswith(f"{UDID}!/HomeDomain/Library/SMS/sms.db") for f, _ in stored)
    manifest_text = (tmp_path / "out" / "manifest.json").read_text()
    assert "correct horse" not in manifest_text
    manifest = json.loads(manifest_text)
    sms = next(s for s in manifest["sources"] if s["file"].endswith("sms.db"))
    assert sms["stored_as"].endswith("/3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28")
    assert sms["counts"]["messages"] == 15


def test_encrypted_backup_in_a_zip_is_decrypted_from_a_private_copy(tmp_path: Path) -> None:
    folder = encrypted_backup(tmp_path / "build", "pw")
    archive = tmp_path / "backup.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    shutil.rmtree(folder)
    result = run_case(load_case(case_file(tmp_path, "backup.zip", "pw")), tmp_path / "out")
    counts = {s.file.logical.rsplit("/", 1)[-1]: s.counts for s in result.sources}
    assert counts["sms.db"]["messages"] == 15
    # ChatStorage holds 10 rows: 9 messages and a call.
    assert (counts["ChatStorage.sqlite"]["messages"], counts["ChatStorage.sqlite"]["calls"]) == (
        9,
        1,
    )


def test_encrypted_backup_without_password_is_reported(tmp_path: Path, cli) -> None:
    evidence = encrypted_backup(tmp_path / "evidence", "pw")
    detect = cli.invoke(main, ["detect", "--json", str(evidence)])
    rows = [json.loads(x) for x in detect.stdout.splitlines()]
    reasons = [r["reason"] for r in rows]
    assert any("encrypted iOS backup: password needed" in r for r in reasons)
    assert any(r.get("not_read") and r["category"] == "encrypted" for r in rows)
    # One line for the backup, not one per ciphertext file.
    assert not any("/3d/" in r["file"] for r in rows)

    wrong = run_case(load_case(case_file(tmp_path, "evidence", "not it")), tmp_path / "out")
    assert any("does not open it" in reason for _, reason in wrong.skipped)
    assert wrong.sources == []
