"""Full-file-system extractions (zip, tar.gz, folder): every source found, and coverage that names
what was not read."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
import zipfile
from pathlib import Path

from tests.conftest import ROOT
from tests.test_run import write_case
from triage.casefile import load_case
from triage.cli import main
from triage.run import run_case
from triage.store import Store

ANDROID = ROOT / "fixtures" / "ffs" / "generated" / "android-ffs.zip"
IOS = ROOT / "fixtures" / "ffs" / "generated" / "ios-ffs.zip"
GROUPS = "private/var/mobile/Containers/Shared/AppGroup"


def run(tmp_path: Path, source: Path):
    if source.parent != tmp_path:
        shutil.copy(source, tmp_path / source.name)
    case = load_case(write_case(tmp_path, [source.name]))
    result = run_case(case, tmp_path / "out")
    manifest = json.loads(result.manifest_path.read_text())
    return result, manifest


def sources(result, label: str) -> dict[str, tuple[str, int]]:
    return {
        s.file.logical.removeprefix(label + "!/"): (
            s.parser,
            s.counts["messages"] + s.counts["contacts"],
        )
        for s in result.sources
    }


def not_read(manifest: dict) -> dict[str, tuple[str, str]]:
    return {
        n["file"].split("!/", 1)[-1]: (n["category"], n["reason"]) for n in manifest["not_read"]
    }


def check_android(result, manifest: dict, label: str) -> None:
    found = sources(result, label)
    assert {k: v[0] for k, v in found.items()} == {
        "data/data/com.whatsapp/databases/msgstore.db": "whatsapp_android",
        "data/data/com.whatsapp/databases/wa.db": "whatsapp_android_contacts",
        "data/data/com.whatsapp.w4b/databases/msgstore.db": "whatsapp_android",
        "data/user/999/com.whatsapp/databases/msgstore.db": "whatsapp_android",
        "data/user/999/com.whatsapp/databases/wa.db": "whatsapp_android_contacts",
        "data/media/0/Download/chat-copy.db": "whatsapp_android",
        "data/user_de/0/com.android.providers.telephony/databases/mmssms.db": "android_mmssms",
        "data/data/com.facebook.orca/databases/threads_db2": "messenger_threads_db2",
        "data/data/com.facebook.orca/databases/msys_database_100000000000001": "messenger_msys",
    }
    assert all(count > 0 for _, count in found.values())
    apps = {f.split("!/", 1)[-1]: d.get("app") for f, d in manifest["decisions"].items()}
    assert apps["data/data/com.whatsapp.w4b/databases/msgstore.db"] == "WhatsApp Business"
    assert apps["data/user/999/com.whatsapp/databases/msgstore.db"].startswith(
        "WhatsApp (Android user 999"
    )
    assert apps["data/data/com.whatsapp/databases/msgstore.db"] == "WhatsApp"
    assert apps["data/data/com.facebook.orca/databases/threads_db2"] == "Messenger"
    unread = not_read(manifest)
    crypt = "data/media/0/Android/media/com.whatsapp/WhatsApp/Databases/msgstore-2024-03-11.1.db.crypt14"
    assert unread[crypt][0] == "encrypted" and "encrypted: key needed" in unread[crypt][1]
    assert unread["data/data/org.thoughtcrime.securesms"][0] == "unread app"
    assert "signal.db" in unread["data/data/org.thoughtcrime.securesms"][1]
    assert unread["data/data/org.telegram.messenger"][0] == "unread app"
    assert unread["data/media/0/Download/chat-copy.db"] == (
        "partially read",
        "partially read by whatsapp_android: column message_media.file_hash missing",
    )
    assert unread["data/data/com.whatsapp/databases"] == (
        "unknown schema",
        "1 database(s) beside the messages with no known schema, not read: axolotl.db",
    )
    assert len(unread) == 5
    # The renamed copy's messages are the main database's, and threads_db2 holds the msys
    # mailbox again: each counted once.
    store = Store.open(result.store_path)
    dup_files = {d["file"].split("!/", 1)[-1] for d in store.duplicates()}
    assert dup_files == {
        "data/media/0/Download/chat-copy.db",
        "data/data/com.facebook.orca/databases/threads_db2",
    }
    pictures = {m["file"].split("!/", 1)[-1] for m in store.media_files()}
    assert "data/media/0/DCIM/Camera/IMG_20240312_101500.jpg" in pictures
    store.close()
    html = (result.out / "coverage.html").read_text()
    for text in ("Relevant but not read", "encrypted: key needed", "Signal is on the phone"):
        assert text in html
    assert "column message_media.file_hash missing" in html
    # Per source: the install it belongs to and the schema variant recognised.
    assert "WhatsApp Business; whatsapp schema: transitional" in html
    assert "WhatsApp; whatsapp schema: current" in html


def test_android_full_file_system_zip(tmp_path: Path) -> None:
    result, manifest = run(tmp_path, ANDROID)
    check_android(result, manifest, ANDROID.name)


def test_android_full_file_system_tar_gz_and_folder_read_the_same(tmp_path: Path) -> None:
    tgz = tmp_path / "phone.tar.gz"
    folder = tmp_path / "phone"
    with zipfile.ZipFile(ANDROID) as zf, tarfile.open(tgz, "w:gz") as tar:
        zf.extractall(folder)
        tar.add(folder, arcname=".")
    shutil.rmtree(folder)
    result, manifest = run(tmp_path, tgz)
    check_android(result, manifest, "phone.tar.gz")

    other = tmp_path / "folder"
    other.mkdir()
    with zipfile.ZipFile(ANDROID) as zf:
        zf.extractall(other / "phone")
    result, manifest = run(other, other / "phone")
    found = sources(result, "phone")
    assert len(found) == 9
    assert {n["category"] for n in manifest["not_read"]} == {
        "encrypted",
        "unread app",
        "partially read",
        "unknown schema",
    }


def test_ios_full_file_system_zip(tmp_path: Path) -> None:
    result, manifest = run(tmp_path, IOS)
    found = sources(result, IOS.name)
    wa = f"{GROUPS}/3F2504E0-4F89-11D3-9A0C-0305E82C3301/ChatStorage.sqlite"
    business = f"{GROUPS}/9C2D7B11-6E3A-4F2B-8D5C-1A2B3C4D5E6F/ChatStorage.sqlite"
    assert {k: v[0] for k, v in found.items()} == {
        "private/var/mobile/Library/SMS/sms.db": "ios_sms",
        wa: "whatsapp_ios",
        business: "whatsapp_ios",
        f"{GROUPS}/3F2504E0-4F89-11D3-9A0C-0305E82C3301/ContactsV2.sqlite": "whatsapp_ios_contacts",
    }
    assert found[wa][1] == found[business][1] > 0  # Business has its own stanza ids: not merged
    apps = {f.split("!/", 1)[-1]: d.get("app") for f, d in manifest["decisions"].items()}
    assert (apps[wa], apps[business]) == ("WhatsApp", "WhatsApp Business")
    unread = not_read(manifest)
    assert unread == {
        f"{GROUPS}/5D1E0F3A-7B2C-4D8E-9F10-213243546576": (
            "unread app",
            "Signal is on the phone (1 file(s); databases signal.sqlite): triage does not read it",
        )
    }
    store = Store.open(result.store_path)
    pictures = {m["file"].split("!/", 1)[-1] for m in store.media_files()}
    store.close()
    assert "private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG" in pictures


def test_database_missing_a_required_column_is_named(tmp_path: Path, cli) -> None:
    db = tmp_path / "renamed.bin"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id, from_me, key_id, "
        "sender_jid_row_id, timestamp, message_type)"
    )
    conn.execute("CREATE TABLE chat (_id INTEGER PRIMARY KEY, jid_row_id)")
    conn.execute("CREATE TABLE jid (_id INTEGER PRIMARY KEY, user, server, raw_string)")
    conn.execute("INSERT INTO message VALUES (1, 1, 0, 'K', 0, 1700000000000, 0)")
    conn.commit()
    conn.close()
    result = cli.invoke(main, ["detect", "--json", str(db)])
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert (
        rows[0]["reason"]
        == "not read: looks like whatsapp_android: column message.text_data missing"
    )
    assert any(r.get("not_read") and r["category"] == "unknown schema" for r in rows)


def test_run_names_what_was_not_read_in_the_terminal(tmp_path: Path, cli) -> None:
    shutil.copy(IOS, tmp_path / IOS.name)
    case = write_case(tmp_path, [IOS.name])
    result = cli.invoke(main, ["run", str(case), "--out", str(tmp_path / "out")])
    assert "not read (unread app)" in result.stderr
    assert "Signal is on the phone" in " ".join(result.stderr.split())
