"""Benchmark: stream a ~1 GB "SMS Backup & Restore" XML with inline base64 media.

Shows that :mod:`triage.parsers.sms_backup_xml` reads backups in bounded memory: the peak RSS must stay
far below the file size. Not run in CI (it writes and reads a gigabyte). Usage::

    python bench/bench_sms_xml.py [--size-mb 1024] [--media-kb 512] [--sms-per-mms 40]

The file is written to a temporary directory and deleted afterwards. Reported: file size,
messages, seconds, messages/second, MB/second and peak RSS (``resource.getrusage``
``ru_maxrss``, KiB on Linux) before and after parsing.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import resource
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

from triage.parsers.sms_backup_xml import SmsBackupXml

from triage.evidence import Evidence
from triage.model import Message
from triage.registry import ParseContext


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sms(index: int) -> str:
    kind = 1 if index % 3 else 2
    body = quoteattr(f"Message {index}: where are you & when is the shift change? <ok>")
    return (
        f'  <sms protocol="0" address="+4477009{index % 500:05d}" '
        f'date="{1700000000000 + index * 1000}" type="{kind}" subject="null" body={body} '
        'toa="null" sc_toa="null" service_center="null" read="1" status="-1" locked="0" '
        'date_sent="0" sub_id="1" readable_date="14 Nov 2023 22:13:20" contact_name="(Unknown)" />\n'
    )


def mms(index: int, media_b64: str) -> str:
    date = 1700000000000 + index * 1000
    return (
        f'  <mms date="{date}" msg_box="1" address="+447700900123~+447700900789" m_type="132" '
        f'm_id="mid-{index}" tr_id="tr-{index}" read="1" text_only="0" sub="null" '
        'contact_name="Alice, Carol" readable_date="14 Nov 2023 22:13:20">\n'
        "    <parts>\n"
        '      <part seq="-1" ct="application/smil" name="null" chset="null" cl="smil.xml" '
        'text="&lt;smil&gt;&lt;/smil&gt;" />\n'
        f'      <part seq="0" ct="text/plain" chset="106" cl="text_0.txt" text="photo {index}" />\n'
        f'      <part seq="1" ct="image/jpeg" chset="null" cl="IMG_{index}.jpg" text="null" '
        f'data="{media_b64}" />\n'
        "    </parts>\n    <addrs>\n"
        '      <addr address="+447700900123" type="137" charset="106" />\n'
        '      <addr address="+447700900999" type="151" charset="106" />\n'
        '      <addr address="+447700900789" type="151" charset="106" />\n'
        "    </addrs>\n  </mms>\n"
    )


def write_backup(path: Path, size_mb: int, media_kb: int, sms_per_mms: int) -> int:
    """Write the backup; returns the number of messages it holds."""
    # Pseudo-random (incompressible) media so the base64 looks like a real photo's.
    seed = hashlib.sha256(b"bench").digest()
    blocks, total = [], 0
    while total < media_kb * 1024:
        seed = hashlib.sha256(seed).digest()
        blocks.append(seed)
        total += len(seed)
    media_b64 = base64.b64encode(b"\xff\xd8\xff\xe0" + b"".join(blocks)).decode()
    target = size_mb * 1024 * 1024
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        # The count is only known at the end; reserve room for it and patch it in afterwards.
        out.write(
            "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
            "<!--File Created By SMS Backup & Restore v10.20.002 on 15/11/2023 08:00:00-->\n"
            '<smses count="0000000000">\n'
        )
        while out.tell() < target:
            for _ in range(sms_per_mms):
                out.write(sms(count))
                count += 1
            out.write(mms(count, media_b64))
            count += 1
        out.write("</smses>\n")
    with open(path, "r+b") as patch:
        head = patch.read(4096)
        at = head.index(b'count="') + len(b'count="')
        patch.seek(at)
        patch.write(f"{count:010d}".encode())
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--media-kb", type=int, default=512)
    parser.add_argument("--sms-per-mms", type=int, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sms-xml-") as tmp:
        path = Path(tmp) / "sms-bench.xml"
        started = time.perf_counter()
        expected = write_backup(path, args.size_mb, args.media_kb, args.sms_per_mms)
        size = path.stat().st_size
        print(
            f"wrote {size / 2**20:,.0f} MiB, {expected:,} messages in "
            f"{time.perf_counter() - started:.1f}s"
        )
        rss_before = peak_rss_mb()

        ctx = ParseContext(region="GB")
        with Evidence(workdir=Path(tmp)) as evidence:
            (container,) = evidence.add_input(path)
            (file,) = container.files.values()
            started = time.perf_counter()
            messages = attachments = 0
            for record in SmsBackupXml().parse(file, ctx):
                if isinstance(record, Message):
                    messages += 1
                    attachments += len(record.attachments)
            elapsed = time.perf_counter() - started
        rss_after = peak_rss_mb()

    problems = {f"{w.category}": w.count for w in ctx.warnings.values()}
    print(
        f"parsed {messages:,} messages ({attachments:,} attachments decoded and hashed) "
        f"in {elapsed:.1f}s"
    )
    print(f"  {messages / elapsed:,.0f} messages/s, {size / 2**20 / elapsed:,.1f} MiB/s")
    print(
        f"  peak RSS {rss_before:,.0f} MiB before parsing, {rss_after:,.0f} MiB after "
        f"(file {size / 2**20:,.0f} MiB)"
    )
    print(f"  warnings: {problems or 'none'}")
    if messages != expected:
        raise SystemExit(f"expected {expected} messages, parsed {messages}")


if __name__ == "__main__":
    main()
