"""Cellebrite UFDR: report.xml models read through ``triage parse`` and ``triage run``."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

from triage.parsers.ufdr_xml import read_report

from tests.conftest import ROOT
from tests.test_run import write_case
from triage.casefile import load_case
from triage.cli import main
from triage.jsonl import read_records
from triage.run import run_case
from triage.store import Store

UFDR = ROOT / "fixtures" / "ufdr" / "generated" / "android-whatsapp.ufdr"
PROTECTED = ROOT / "fixtures" / "ufdr" / "generated" / "protected.ufdr"


def parse_jsonl(cli, *paths: Path) -> tuple[list[dict], str]:
    result = cli.invoke(main, ["parse", *map(str, paths)])
    rows = list(read_records(result.stdout.splitlines()))
    return rows, result.stderr


def ufdr_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["source"]["format"] == "ufdr_report"]


def test_ufdr_models_are_read_with_parties_times_and_deleted_state(cli) -> None:
    rows, stderr = parse_jsonl(cli, UFDR)
    ufdr = ufdr_rows(rows)
    by_locator = {r["source"]["locator"].split(" ")[2]: r for r in ufdr}
    # Six chat messages (the quoted one inside m-reply is not a message; m-1 again at top level
    # is the same model), two SMS and two calls.
    assert sorted(by_locator) == sorted(
        ["id=m-1", "id=m-2", "id=m-7", "id=m-del", "id=m-reply", "id=m-gone", "id=s-1", "id=s-2"]
        + ["id=call-1", "id=call-2"]
    )
    out = by_locator["id=m-2"]
    assert out["direction"] == "outgoing" and out["sender"]["id"] == "owner"
    assert out["recipients"][0]["id"] == "+447700900123"
    assert out["conversation"]["id"] == "whatsapp:447700900123@s.whatsapp.net"
    assert out["conversation"]["is_group"] is False
    assert "jumptarget=/data/data/com.whatsapp/databases/msgstore.db" in out["source"]["locator"]
    assert "source_index=2" in out["source"]["locator"]
    incoming = by_locator["id=m-1"]
    assert incoming["direction"] == "incoming" and incoming["sender"]["name"] == "Alice"
    # +01:00 offset kept exact in UTC; deleted_state Deleted means deleted.
    deleted = by_locator["id=m-del"]
    assert deleted["timestamp_utc"] == "2024-03-12T10:30:00Z"
    assert deleted["timestamp_raw"] == "2024-03-12T11:30:00.000+01:00"
    assert deleted["deleted"] is True and deleted["extra"]["deleted_state"] == "Deleted"
    assert all("deleted_state" in r["extra"] for r in ufdr)
    assert by_locator["id=s-2"]["deleted"] is True  # Trash
    assert by_locator["id=s-1"]["deleted"] is False
    assert by_locator["id=m-1"]["extra"]["device_timezone"] == "Europe/London"
    sms_in, sms_out = by_locator["id=s-1"], by_locator["id=s-2"]
    assert (sms_in["platform"], sms_in["direction"], sms_in["sender"]["id"]) == (
        "sms",
        "incoming",
        "+447700900456",
    )
    assert sms_out["direction"] == "outgoing" and sms_out["recipients"][0]["id"] == "+447700900456"
    call = by_locator["id=call-1"]
    assert call["record"] == "call"
    assert (call["network"], call["direction"], call["result"], call["duration_s"]) == (
        "cellular",
        "outgoing",
        "answered",
        125.0,
    )
    assert call["counterpart"]["id"] == "+447700900123" and call["video"] is False
    assert call["extra"]["deleted_state"] == "Intact"
    wa_call = by_locator["id=call-2"]
    assert (wa_call["network"], wa_call["result"], wa_call["video"]) == (
        "whatsapp",
        "not_answered",
        True,
    )
    assert wa_call["conversation"] == "whatsapp:447700900123@s.whatsapp.net"
    assert "UFDR Location models not read" in stderr


def test_ufdr_attachments_follow_file_id_and_are_hashed_once(cli) -> None:
    rows, _ = parse_jsonl(cli, UFDR)
    by_id = {r["source"]["locator"].split(" ")[2]: r for r in ufdr_rows(rows)}
    image = by_id["id=m-7"]["attachments"]
    assert len(image) == 1
    # Named by its path on the phone (taggedFiles), though the UFDR stores it under files/Image.
    assert image[0]["path"].endswith(
        "android-whatsapp.ufdr!/data/media/0/Android/media/com.whatsapp/WhatsApp/Media/"
        "WhatsApp Images/IMG-20240312-WA0001.jpg"
    )
    data = zipfile.ZipFile(UFDR).read("files/Image/IMG-20240312-WA0001.jpg")
    assert image[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert f"MD5 recorded in the UFDR: {hashlib.md5(data).hexdigest()}" in image[0]["note"]
    # The same file_id twice in one message is one attachment.
    assert len(by_id["id=m-reply"]["attachments"]) == 1
    assert by_id["id=m-reply"]["extra"]["embedded_models"] == 1
    missing = by_id["id=m-gone"]["attachments"][0]
    assert missing["path"] is None and "not in the UFDR: files\\Video\\VID" in missing["note"]
    assert "file marked deleted" in missing["note"]


def test_ufdr_run_keeps_the_raw_database_copy_of_duplicated_messages(tmp_path: Path) -> None:
    shutil.copy(UFDR, tmp_path / "phone.ufdr")
    case = load_case(write_case(tmp_path, ["phone.ufdr"]))
    result = run_case(case, tmp_path / "out")
    formats = {s.parser: s for s in result.sources}
    assert set(formats) >= {"whatsapp_android", "ufdr_report"}
    store = Store.open(result.store_path)
    # m-1, m-2 and m-7 are in msgstore.db too: the database rows are the ones stored.
    chat = "whatsapp:447700900123@s.whatsapp.net"
    keys = [f"{chat}:0:3EB00000000000000001", f"{chat}:1:3EB00000000000000002"]
    keys.append(f"{chat}:0:3EB00000000000000007")
    messages = list(store.messages())
    rows = [
        (s.message.source.format, s.message.source.locator)
        for s in messages
        if s.message.duplicate_key in keys
    ]
    assert sorted(rows) == [
        ("whatsapp_android", "message._id=1"),
        ("whatsapp_android", "message._id=2"),
        ("whatsapp_android", "message._id=7"),
    ]
    dups = sorted(d["locator"] for d in store.duplicates())
    assert [d.split(" ")[2] for d in dups] == ["id=m-1", "id=m-2", "id=m-7"]
    ufdr_only = sum(1 for s in messages if s.message.source.format == "ufdr_report")
    assert ufdr_only == 5  # m-del, m-reply, m-gone, two SMS
    calls = [c for c in store.calls() if c.call.source.format == "ufdr_report"]
    # The WhatsApp call is msgstore.db's call_log row too: that copy is kept.
    assert [(c.call.direction, c.call.duration_s) for c in calls] == [("outgoing", 125.0)]
    assert [d["duplicate_key"] for d in store.call_duplicates()] == [
        "whatsapp:call:CALL0000000000000002"
    ]
    contacts = [e for _, e in store.contact_entries() if e.source.format == "ufdr_report"]
    assert [(e.name, e.identifiers[0].id) for e in contacts] == [("Alice Brown", "+447700900123")]
    manifest = json.loads(result.manifest_path.read_text())
    report = next(s for s in manifest["sources"] if s["file"] == "phone.ufdr!/report.xml")
    assert report["skipped_by_reason"] == {
        "UFDR Location models not read (not messages, calls or contacts)": 1
    }
    assert report["recognised"] == ["device time zone Europe/London"]
    decisions = manifest["decisions"]["phone.ufdr!/report.xml"]
    assert decisions["ufdr_device_timezone"] == "Europe/London"
    assert decisions["ufdr_models_not_read"] == {"Location": 1}
    assert decisions["ufdr_user_accounts"][0]["username"] == "447700900001@s.whatsapp.net"


def test_report_xml_streams_elements_and_does_not_keep_them() -> None:
    models = "".join(
        f'<model type="InstantMessage" id="m{i}"><field name="Body"><value>x{i}</value></field></model>'
        for i in range(50)
    )
    xml = f'<project xmlns="http://pa.cellebrite.com/report/2.0"><decodedData><modelType type="InstantMessage">{models}</modelType></decodedData></project>'
    events = list(read_report(io.BytesIO(xml.encode())))
    assert [e.model.get("Body") for e in events] == [f"x{i}" for i in range(50)]


def test_messages_before_participants_wait_for_the_chat_header() -> None:
    xml = (
        '<project><decodedData><modelType type="Chat"><model type="Chat" id="c">'
        '<multiModelField name="Messages"><model type="InstantMessage" id="m"/></multiModelField>'
        '<multiModelField name="Participants"><model type="Party" id="p">'
        '<field name="Identifier"><value>+447700900123</value></field></model></multiModelField>'
        "</model></modelType></decodedData></project>"
    )
    events = [e for e in read_report(io.BytesIO(xml.encode())) if e.kind == "chat_message"]
    assert len(events) == 1
    assert events[0].chat.participants[0].get("Identifier") == "+447700900123"


def test_password_protected_ufdr_is_reported(cli) -> None:
    result = cli.invoke(main, ["detect", "--json", str(PROTECTED)])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    reasons = " ".join(r["reason"] for r in rows)
    assert "password-protected UFDR" in reasons
    assert "internal error" not in result.output


def test_ufdr_files_are_named_by_their_path_on_the_phone(cli, tmp_path: Path) -> None:
    rows, _ = parse_jsonl(cli, UFDR)
    db = [r for r in rows if r["source"]["format"] == "whatsapp_android"]
    assert {r["source"]["file"] for r in db} == {
        f"{UFDR}!/data/data/com.whatsapp/databases/msgstore.db"
    }
    # The database finds its media (stored by the UFDR under files/Image) and its wa.db names.
    seven = next(r for r in db if r["source"]["locator"] == "message._id=7")
    assert seven["attachments"][0]["path"].endswith("WhatsApp Images/IMG-20240312-WA0001.jpg")
    assert seven["sender"]["name"]
    listed = cli.invoke(main, ["detect", "--json", str(UFDR)]).stdout
    assert "files/Database/msgstore.db" not in listed

    shutil.copy(UFDR, tmp_path / "phone.ufdr")
    result = run_case(load_case(write_case(tmp_path, ["phone.ufdr"])), tmp_path / "out")
    manifest = json.loads(result.manifest_path.read_text())
    stored = {s["file"]: s["stored_as"] for s in manifest["sources"]}
    assert stored["phone.ufdr!/data/data/com.whatsapp/databases/msgstore.db"] == (
        "phone.ufdr!/files/Database/msgstore.db"
    )


def test_ufdr_time_without_offset_is_read_in_the_device_zone(cli, tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<project xmlns="http://pa.cellebrite.com/report/2.0" reportVersion="7.0">'
        '<metadata section="Device Info"><item name="DeviceInfoTimeZone">America/New_York</item>'
        '</metadata><decodedData><modelType type="SMS"><model type="SMS" id="s" deleted_state="Intact">'
        '<field name="TimeStamp"><value type="TimeStamp">2024-07-01T12:00:00</value></field>'
        '<field name="Body"><value>hi</value></field><field name="Folder"><value>Inbox</value></field>'
        '<multiModelField name="Parties"><model type="Party"><field name="Identifier">'
        '<value>+12025550143</value></field><field name="Role"><value>From</value></field></model>'
        "</multiModelField></model></modelType></decodedData></project>"
    )
    path = tmp_path / "zoneless.ufdr"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("report.xml", xml)
    rows, stderr = parse_jsonl(cli, path)
    assert [(r["timestamp_utc"], r["zone_assumed"], r["sender"]["id"]) for r in rows] == [
        ("2024-07-01T16:00:00Z", True, "+12025550143")
    ]
    assert "time without offset read in the device time zone" in stderr


def test_outgoing_ufdr_message_keeps_the_owner_identifier(cli) -> None:
    rows, _ = parse_jsonl(cli, UFDR)
    out = next(r for r in ufdr_rows(rows) if " id=m-2 " in r["source"]["locator"])
    assert out["extra"]["owner_identifier"] == "447700900001@s.whatsapp.net"
