"""The bad-input corpus: one small folder per class of hostile or broken evidence.

Every case is built from scratch by this script (nothing binary is committed), in the real formats
the tool reads: the SQLite schemas are the fixtures' own (``fixtures/sms/make_fixtures.py`` and
``fixtures/whatsapp_db/make_fixtures.py``, which cite AOSP TelephonyProvider and WhatsApp's
schema), zip entries follow PKWARE's APPNOTE.TXT (traditional PKWARE encryption in section 6.1,
Unix mode bits in the external attributes as Info-ZIP writes them), tar files are Python's own
``tarfile``, and the XML is SMS Backup & Restore's layout with the "store emojis" surrogate
references described in ``fixtures/sms/README.md``.

Each case pairs the damage with a good source beside it, so a test can check three things: the
expected message names the damaged item, the rest is still read (``messages``), and nothing
about the evidence changes.

    python tests/corpus/make_corpus.py OUT_DIR        # builds every case into OUT_DIR/<name>/
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sqlite3
import struct
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_CHAT_LINES = 4  # messages in the good WhatsApp export placed beside the damage


def _load(name: str, path: Path):  # noqa: ANN202 - a module
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SMS = _load("corpus_sms_fixtures", ROOT / "fixtures" / "sms" / "make_fixtures.py")
WA = _load("corpus_wa_fixtures", ROOT / "fixtures" / "whatsapp_db" / "make_fixtures.py")


@dataclass
class Case:
    """One corpus input: what to build, what must be said, and what must still be read."""

    name: str
    issue_item: str
    build: Callable[[Path], None]
    #: Substrings that must appear in the warnings (``triage parse`` stderr).
    expect: list[str]
    #: Messages ``triage parse`` must still print from the case folder.
    messages: int
    #: Substrings that must never appear on stderr (raw escapes, addresses).
    forbid: list[str] = field(default_factory=list)
    #: Substrings that must appear in the JSONL on stdout.
    stdout: list[str] = field(default_factory=list)
    #: The command run over the case: ``parse`` (messages counted from its JSONL), ``hash``
    #: (pictures), or ``run`` (a whole case run: messages from the store, the expected text
    #: looked for in the manifest and on the coverage page).
    command: str = "parse"


CASES: dict[str, Case] = {}


def case(  # noqa: ANN201
    name: str,
    issue_item: str,
    expect: list[str],
    messages: int,
    forbid=None,  # noqa: ANN001
    stdout=None,  # noqa: ANN001
    command: str = "parse",
):
    def register(build: Callable[[Path], None]) -> Callable[[Path], None]:
        CASES[name] = Case(
            name, issue_item, build, expect, messages, forbid or [], stdout or [], command
        )
        return build

    return register


# -- building blocks ------------------------------------------------------------------------------
def good_chat() -> bytes:
    """A WhatsApp for Android "Export chat" text with GOOD_CHAT_LINES messages."""
    lines = [
        "13/03/2026, 10:00 - Alice: Are you on tonight?",
        "13/03/2026, 10:01 - Bob: Yes from 7",
        "14/03/2026, 10:02 - Alice: See you there",
        "14/03/2026, 10:05 - Bob: OK",
    ]
    assert len(lines) == GOOD_CHAT_LINES
    return ("\n".join(lines) + "\n").encode("utf-8")


def mmssms(path: Path, rows: list[tuple[object, ...]]) -> None:
    """An AOSP mmssms.db (SMS tables only) with ``rows`` of (_id, date, type, body)."""
    conn = sqlite3.connect(path)
    for sql in (SMS.AOSP_SMS, SMS.THREADS, SMS.CANONICAL):
        conn.execute(sql)
    conn.execute("INSERT INTO canonical_addresses VALUES (1, '+447700900123')")
    conn.execute("INSERT INTO threads (_id, recipient_ids) VALUES (1, '1')")
    conn.executemany(
        "INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?, 1, ?, ?, ?, ?)",
        [(r[0], "+447700900123", r[1], r[2], r[3]) for r in rows],
    )
    conn.commit()
    conn.close()


def _crc_update(crc: int, byte: int) -> int:
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def zipcrypto(data: bytes, password: bytes, check: int) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1) of ``data`` with its 12-byte header."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = _crc_update(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _crc_update(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for plain in bytes(11) + bytes([check]) + data:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(plain ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(plain)
    return bytes(out)


def write_zip(path: Path, entries: list[tuple[str, bytes, dict[str, object]]]) -> None:
    """A stored (uncompressed) zip with entries exactly as given, duplicates and all.

    Options per entry: ``password`` (traditional encryption), ``mode`` (Unix mode bits, e.g.
    ``0o120777`` for a symbolic link whose data is the link target).
    """
    body = io.BytesIO()
    central = []
    for name, data, opts in entries:
        raw_name = name.encode("utf-8")
        crc = zlib.crc32(data)
        flags = 0x800  # names are UTF-8
        payload = data
        if opts.get("password"):
            flags |= 0x1
            payload = zipcrypto(data, opts["password"], crc >> 24)  # type: ignore[arg-type]
        mode = int(opts.get("mode", 0o100644))  # type: ignore[call-overload]
        offset = body.tell()
        header = struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 0, 0, 0x21, crc, len(payload), len(data),
            len(raw_name), 0,
        )  # fmt: skip
        body.write(header + raw_name + payload)
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                (3 << 8) | 20,
                20,
                flags,
                0,
                0,
                0x21,
                crc,
                len(payload),
                len(data),
                len(raw_name),
                0,
                0,
                0,
                0,
                mode << 16,
                offset,
            )  # fmt: skip
            + raw_name
        )
    start = body.tell()
    for record in central:
        body.write(record)
    size = body.tell() - start
    body.write(
        struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0)
    )
    path.write_bytes(body.getvalue())


def tar_gz(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1772000000
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def noise(size: int, seed: int) -> bytes:
    """Incompressible bytes (so a cut in a gzip stream falls where we put it)."""
    out = bytearray()
    state = seed
    while len(out) < size:
        state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out += state.to_bytes(8, "little")
    return bytes(out[:size])


# -- item 1: one bad member or archive is contained ------------------------------------------------
@case(
    "encrypted_zip_member",
    "13.1",
    ["extraction.zip!/secret/msgstore.db", "encrypted member: password required"],
    GOOD_CHAT_LINES,
)
def _encrypted(folder: Path) -> None:
    write_zip(
        folder / "extraction.zip",
        [
            ("secret/msgstore.db", b"SQLite format 3\x00" + bytes(100), {"password": b"1234"}),
            ("WhatsApp Chat with Alice.txt", good_chat(), {}),
        ],
    )


@case(
    "truncated_tar_gz",
    "13.1",
    ["extraction.tar.gz!/media/big.bin", "archive unreadable from here", "truncated"],
    GOOD_CHAT_LINES,
)
def _truncated_tar(folder: Path) -> None:
    data = tar_gz(
        [("WhatsApp Chat with Alice.txt", good_chat()), ("media/big.bin", noise(200_000, 7))]
    )
    (folder / "extraction.tar.gz").write_bytes(data[: len(data) - 60_000])


@case(
    "truncated_tar_gz_inside_zip",
    "13.1",
    ["outer.zip!/inner.tgz", "truncated"],
    2 * GOOD_CHAT_LINES,
)
def _truncated_nested(folder: Path) -> None:
    inner = tar_gz(
        [("WhatsApp Chat with Alice.txt", good_chat()), ("media/big.bin", noise(200_000, 9))]
    )
    write_zip(
        folder / "outer.zip",
        [
            ("inner.tgz", inner[: len(inner) - 60_000], {}),
            ("WhatsApp Chat with Bob.txt", good_chat(), {}),
        ],
    )


@case("not_an_archive", "13.1", ["broken.zip", "archive could not be opened"], GOOD_CHAT_LINES)
def _not_archive(folder: Path) -> None:
    (folder / "broken.zip").write_bytes(b"PK\x03\x04" + noise(500, 3))
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat())


# -- item 2: SQLite rows and pages --------------------------------------------------------------
def leaf_pages(path: Path) -> list[tuple[int, int, int]]:
    """(page number, first rowid, cell count) of every table b-tree leaf page of a database."""
    data = path.read_bytes()
    page_size = struct.unpack(">H", data[16:18])[0] or 65536
    found = []
    for number in range(2, len(data) // page_size + 1):
        page = data[(number - 1) * page_size : number * page_size]
        if page[0] != 0x0D:
            continue
        cells = struct.unpack(">H", page[3:5])[0]
        if not cells:
            continue
        pointer = struct.unpack(">H", page[8:10])[0]
        _, used = _varint(page, pointer)  # payload size
        rowid, _ = _varint(page, pointer + used)
        found.append((number, rowid, cells))
    return found


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        byte = buf[at + i]
        if i == 8:
            return (value << 8) | byte, 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, i + 1
    raise AssertionError("unreachable")


def corrupt_page(path: Path, number: int) -> None:
    """Overwrite one page's b-tree header with bytes no page type uses."""
    page_size = struct.unpack(">H", path.read_bytes()[16:18])[0] or 65536
    with open(path, "r+b") as handle:
        handle.seek((number - 1) * page_size)
        handle.write(b"\xff" * 12)


CORRUPT_ROWS = 3000


@case(
    "sqlite_corrupt_page_mid_table",
    "13.2",
    ["damaged database: rows not read", "sms: rows from rowid"],
    -1,  # set when built: the rows on sound pages
)
def _corrupt(folder: Path) -> None:
    db = folder / "mmssms.db"
    mmssms(
        db,
        [
            (i, 1772000000000 + i * 1000, 1, f"message number {i}")
            for i in range(1, CORRUPT_ROWS + 1)
        ],
    )
    pages = [p for p in leaf_pages(db) if p[2] > 10]
    middle = pages[len(pages) // 2]
    corrupt_page(db, middle[0])
    CASES["sqlite_corrupt_page_mid_table"].messages = CORRUPT_ROWS - middle[2]


@case(
    "sqlite_text_in_numeric_column",
    "13.2",
    ["bad record skipped", "sms._id=2", "sms._id=5: type=inbox"],
    6,
)
def _text_in_numeric(folder: Path) -> None:
    rows = [(i, 1772000000000 + i * 1000, 1, f"text {i}") for i in range(1, 8)]
    rows[1] = (2, "yesterday", 1, "text 2")
    rows[4] = (5, 1772000005000, "inbox", "text 5")
    mmssms(folder / "mmssms.db", rows)


@case(
    "sqlite_out_of_range_integer",
    "13.2",
    ["bad record skipped", "messages._id=3"],
    4,
)
def _out_of_range(folder: Path) -> None:
    conn = sqlite3.connect(folder / "msgstore.db")
    conn.executescript(WA.LEGACY_SCHEMA)
    for rowid in range(1, 6):
        WA._legacy(conn, rowid, WA.ALICE, rowid % 2, rowid, data=f"message {rowid}")
    conn.execute("UPDATE messages SET timestamp = ? WHERE _id = 3", (2**63 - 1,))
    WA.insert(conn, "chat_list", _id=1, key_remote_jid=WA.ALICE, message_table_id=5)
    conn.commit()
    conn.close()


@case("sqlite_invalid_utf8_text", "13.2", [], 3, stdout=["text \ufffd\ufffd 2"])
def _invalid_utf8(folder: Path) -> None:
    rows = [(i, 1772000000000 + i * 1000, 1, f"text {i}") for i in range(1, 4)]
    mmssms(folder / "mmssms.db", rows)
    conn = sqlite3.connect(folder / "mmssms.db")
    conn.execute("UPDATE sms SET body = CAST(? AS TEXT) WHERE _id = 2", (b"text \xff\xfe 2",))
    conn.commit()
    conn.close()


@case("sqlite_bytes_value", "13.2", [], 3, stdout=['"body":"base64:'])
def _bytes_value(folder: Path) -> None:
    rows = [(i, 1772000000000 + i * 1000, 1, f"text {i}") for i in range(1, 4)]
    rows[1] = (2, 1772000002000, 1, b"\x00\xffbinary body")
    mmssms(folder / "mmssms.db", rows)


# -- item 4: duplicate names -----------------------------------------------------------------------
@case(
    "duplicate_zip_names",
    "13.4",
    ["duplicate member name (every copy read)"],
    2 * GOOD_CHAT_LINES,
)
def _duplicates(folder: Path) -> None:
    second = good_chat().replace(b"Alice", b"Carol")
    write_zip(
        folder / "export.zip",
        [("_chat.txt", good_chat(), {}), ("_chat.txt", second, {})],
    )


# -- item 7: links and nesting ---------------------------------------------------------------------
@case(
    "zip_symlink_member",
    "13.7",
    ["extraction.zip!/data/passwd.txt", "link in archive not followed"],
    GOOD_CHAT_LINES,
)
def _symlink(folder: Path) -> None:
    write_zip(
        folder / "extraction.zip",
        [
            ("data/passwd.txt", b"/etc/passwd", {"mode": 0o120777}),
            ("WhatsApp Chat with Alice.txt", good_chat(), {}),
        ],
    )


@case(
    "archive_nesting_limit",
    "13.7",
    ["l1.zip!/l2.zip!/l3.zip!/l4.zip", "not opened: nesting limit 3 reached"],
    3 * GOOD_CHAT_LINES,
)
def _nesting(folder: Path) -> None:
    scratch = folder / "tmp.zip"
    write_zip(scratch, [("WhatsApp Chat with Dave.txt", good_chat(), {})])
    for level in (3, 2, 1):  # l{level}.zip holds l{level+1}.zip and a chat of its own
        inner = scratch.read_bytes()
        write_zip(
            scratch,
            [
                (f"l{level + 1}.zip", inner, {}),
                (f"WhatsApp Chat with L{level}.txt", good_chat(), {}),
            ],
        )
    scratch.rename(folder / "l1.zip")


# -- item 11: surrogate character references in an SMS backup ---------------------------------------
@case("xml_surrogate_references", "13.11", ["surrogate character references repaired"], 3)
def _surrogates(folder: Path) -> None:
    bodies = [
        "Hi &#55357;&#56832; there",
        "two &#55357;&#56832;&#55357;&#56846;",
        "lone &#56832; end",
    ]
    elements = "".join(
        SMS.sms_element(SMS.ALICE, 1772000000000 + i * 60000, 1, f"BODY{i}", "Alice").replace(
            f'body="BODY{i}"', f'body="{body}"'
        )
        for i, body in enumerate(bodies)
    )
    xml = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        f'<smses count="{len(bodies)}" backup_set="corpus" backup_date="1772000000000" type="full">\n'
        f"{elements}</smses>\n"
    )
    (folder / "sms-20260301.xml").write_text(xml, encoding="utf-8")


# -- item 12: names that would drive the terminal ---------------------------------------------------
@case(
    "ansi_and_newline_member_names",
    "13.12",
    ["\\x1b[2J", "\\n"],
    GOOD_CHAT_LINES,
    forbid=["\x1b", "evil\nname"],
)
def _ansi(folder: Path) -> None:
    write_zip(
        folder / "extraction.zip",
        [
            ("../\x1b[2J\x1b[31mred.txt", b"escape", {}),
            ("evil\nname.db", b"SQLite format 3\x00" + bytes(100), {"password": b"x"}),
            ("WhatsApp Chat with Alice.txt", good_chat(), {}),
        ],
    )


# -- classes whose handling other parts of the issue added (items 3, 5-10, 15) --------------------
def small_db() -> bytes:
    """A real SQLite database of several pages (one table of text rows)."""
    path = Path(tempfile.mkdtemp()) / "x.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 100,)] * 800)
    conn.commit()
    conn.close()
    data = path.read_bytes()
    path.unlink()
    return data


@case("sqlite_zero_bytes", "13.5", ["msgstore.db: empty file"], GOOD_CHAT_LINES)
def _zero(folder: Path) -> None:
    (folder / "msgstore.db").write_bytes(b"")
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat())


@case(
    "sqlite_truncated",
    "13.6",
    ["msgstore.db: SQLite database truncated", "8,192 of"],
    GOOD_CHAT_LINES,
)
def _truncated_db(folder: Path) -> None:
    (folder / "msgstore.db").write_bytes(small_db()[:8192])
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat())


@case("sqlite_header_only", "13.5", ["msgstore.db: SQLite header only"], GOOD_CHAT_LINES)
def _header_only(folder: Path) -> None:
    (folder / "msgstore.db").write_bytes(small_db()[:100])
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat())


@case("random_bytes_db", "13.5", ["msgstore.db: not a SQLite database"], GOOD_CHAT_LINES)
def _random_db(folder: Path) -> None:
    (folder / "msgstore.db").write_bytes(noise(5000, 11))
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat())


def wal_database(folder: Path) -> Path:
    """An AOSP mmssms.db whose last two rows are only in its -wal (never checkpointed)."""
    db = folder / "mmssms.db"
    mmssms(db, [(i, 1772000000000 + i * 1000, 1, f"text {i}") for i in range(1, 4)])
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    for i in (4, 5):
        conn.execute(
            "INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?, 1, ?, ?, 1, ?)",
            (i, "+447700900123", 1772000000000 + i * 1000, f"text {i}"),
        )
        conn.commit()
    keep = folder / "keep"
    keep.mkdir()
    shutil.copy(db, keep / db.name)
    shutil.copy(str(db) + "-wal", keep / (db.name + "-wal"))
    conn.close()  # a clean close checkpoints and deletes the WAL: the copies keep it
    for name in (db.name, db.name + "-wal", db.name + "-shm"):
        (folder / name).unlink(missing_ok=True)
    for item in keep.iterdir():
        item.rename(folder / item.name)
    keep.rmdir()
    return db


@case(
    "wal_without_database",
    "13.7",
    ["mmssms.db-wal: SQLite write-ahead log (WAL) without its database"],
    GOOD_CHAT_LINES,
)
def _wal_only(folder: Path) -> None:
    wal_database(folder).unlink()
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat())


# 4 live rows, and the row of the torn frame recovered with low confidence (never as live).
@case("torn_wal", "13.7", ["torn WAL", "1 of 2 frame(s) ignored"], 5, stdout=['"torn"'])
def _torn_wal(folder: Path) -> None:
    db = wal_database(folder)
    wal = Path(str(db) + "-wal")
    data = bytearray(wal.read_bytes())
    data[-100] ^= 0xFF  # the last frame's checksum no longer matches: its commit is broken
    wal.write_bytes(bytes(data))


@case(
    "whatsapp_crypt14",
    "13.7",
    ["msgstore.db.crypt14", "encrypted: key needed"],
    GOOD_CHAT_LINES,
    command="run",
)
def _crypt14(folder: Path) -> None:
    base = folder / "sdcard" / "Android" / "media" / "com.whatsapp" / "WhatsApp" / "Databases"
    base.mkdir(parents=True)
    (base / "msgstore.db.crypt14").write_bytes(noise(4096, 5))
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat())


@case("export_utf16", "13.8", [], GOOD_CHAT_LINES)
def _utf16(folder: Path) -> None:
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat().decode().encode("utf-16"))


@case("export_nul_bytes", "13.8", ["NUL characters removed"], GOOD_CHAT_LINES)
def _nul(folder: Path) -> None:
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat().replace(b"Yes", b"Y\x00es"))


@case("export_over_long_line", "13.9", ["over-long line cut", "line 2"], GOOD_CHAT_LINES)
def _long_line(folder: Path) -> None:
    lines = good_chat().split(b"\n")
    lines[1] += b" " + b"x" * (3 << 20)
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(b"\n".join(lines))


@case("export_invalid_utf8", "13.10", ["3 invalid UTF-8 sequences replaced"], GOOD_CHAT_LINES)
def _invalid_export(folder: Path) -> None:
    data = good_chat().replace(b"tonight", b"to\xffnig\xfeht\xc3")
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(data)


@case("export_one_line", "13.5", [], 1)
def _one_line(folder: Path) -> None:
    (folder / "WhatsApp Chat with Alice.txt").write_bytes(good_chat().split(b"\n")[0] + b"\n")


def messenger_thread(messages: list[dict[str, object]]) -> bytes:
    """A Facebook "Download Your Information" message_N.json (2023+ layout)."""
    return json.dumps(
        {
            "participants": [{"name": "Alice Brown"}, {"name": "Dan Reeve"}],
            "messages": messages,
            "title": "Alice Brown",
            "is_still_participant": True,
            "thread_path": "inbox/alicebrown_1110001",
            "magic_words": [],
        },
        indent=2,
    ).encode("utf-8")


@case(
    "messenger_truncated_and_bad_messages",
    "13.2-13.3",
    ["message_2.json: file partly read", "bad record skipped", "message_1.json messages[1]"],
    7,
)
def _messenger(folder: Path) -> None:
    thread = folder / "your_facebook_activity" / "messages" / "inbox" / "alicebrown_1110001"
    thread.mkdir(parents=True)
    newer = [
        {
            "sender_name": "Alice Brown",
            "timestamp_ms": 1772000000000 + i * 60000,
            "content": f"m{i}",
        }
        for i in range(5, 0, -1)
    ]
    newer[1]["timestamp_ms"] = 10**30  # far beyond any date
    newer[3]["timestamp_ms"] = "yesterday"  # wrong type: read, without a date
    (thread / "message_1.json").write_bytes(messenger_thread(newer))
    older = [
        {"sender_name": "Dan Reeve", "timestamp_ms": 1771000000000 + i * 60000, "content": f"o{i}"}
        for i in range(4, 0, -1)
    ]
    data = messenger_thread(older)
    (thread / "message_2.json").write_bytes(data[: len(data) * 2 // 3])


@case(
    "unreadable_heic",
    "13.15",
    ["broken.heic", "cannot decode"],
    0,
    forbid=[" at 0x", "object at"],
    command="hash",
)
def _heic(folder: Path) -> None:
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"heic")
    (folder / "broken.heic").write_bytes(ftyp + noise(2000, 13))


MESSENGER_DBS = ROOT / "fixtures" / "messenger" / "generated" / "android" / "data" / "data"


@case(
    "messenger_android_bad_rows",
    "13.2",
    ["bad record skipped", "messages.msg_id=", "messages.message_id="],
    -1,  # set when built: the fixture's messages less the two made unreadable
)
def _messenger_android(folder: Path) -> None:
    from triage.ingest import iter_records
    from triage.model import Message
    from triage.registry import ParseContext

    base = MESSENGER_DBS / "com.facebook.orca" / "databases"
    for name in ("threads_db2", "msys_database_100000000000001"):
        shutil.copy(base / name, folder / name)
    # Each bad row must cost exactly its own message: the clean copy's count, less two.
    clean = [r for _, r in iter_records([folder], ParseContext()) if isinstance(r, Message)]
    CASES["messenger_android_bad_rows"].messages = len(clean) - 2
    for name, key in (("threads_db2", "msg_id"), ("msys_database_100000000000001", "message_id")):
        conn = sqlite3.connect(folder / name)
        first = conn.execute(f"SELECT {key} FROM messages ORDER BY rowid LIMIT 1").fetchone()[0]
        conn.execute(f"UPDATE messages SET timestamp_ms = 1e30 WHERE {key} = ?", (first,))
        conn.commit()
        conn.close()


def build(out: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Build the named cases (all by default) into ``out/<name>/``; returns name -> folder."""
    made = {}
    for name, spec in CASES.items():
        if names and name not in names:
            continue
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        spec.build(folder)
        made[name] = folder
    return made


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for name, folder in build(Path(sys.argv[1])).items():
        print(f"{name}: {folder}")
