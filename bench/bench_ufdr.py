"""Benchmark: stream a generated ~500 MB Cellebrite UFDR ``report.xml``.

Shows that :mod:`triage.parsers.ufdr_report` reads a report in bounded memory (target: peak RSS under
300 MiB for a 500 MB file) and at what rate. Not run in CI. Usage::

    python bench/bench_ufdr.py [--size-mb 500] [--chat-messages 400] [--big-chat 50000]

The report is written to a temporary directory (never committed) with the fixture generator's
element writers (``fixtures/ufdr/make_fixtures.py``): WhatsApp chats of ``--chat-messages``
messages each (one chat of ``--big-chat`` messages, to show that a chat's size does not matter),
one attachment in twenty messages (each a tagged file), one message in 97 deleted. The parse runs
in a child process so its peak RSS (``ru_maxrss`` of the child) is not inflated by the generator.
Reported: file size, models read, seconds, MB/s, messages/s and the child's peak RSS.

Measured 2026-12-01 on the shared 2-core machine (load average 6-7 from other work; the child got
about 55 % of a core): 524.8 MB, 360,800 messages in 778 chats (one of 50,000), 22,795 tagged
files: 84.9 s wall (48 s CPU), 6.2 MB/s, 4,249 messages/s, peak RSS 75.5 MiB.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fixture_writers():  # noqa: ANN202 - a module loaded from its path
    spec = importlib.util.spec_from_file_location(
        "ufdr_fixtures", ROOT / "fixtures" / "ufdr" / "make_fixtures.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(path: Path, size_mb: int, per_chat: int, big_chat: int) -> dict[str, int]:
    """Write report.xml chat by chat, so the generator's own memory stays small too."""
    fx = _fixture_writers()
    target = size_mb * 1024 * 1024
    owner = ("447700900001@s.whatsapp.net", "Owner", True)
    # Tagged files come before the decoded data in a report; one per 20 messages, sized up front.
    approx_message = 1150
    n_files = max(1, target // approx_message // 20)
    head, _, tail = fx.report_xml({"Chat": ["@@MODELS@@"]}, ["@@FILES@@"]).partition("@@FILES@@")
    before_models, _, after_models = tail.partition("@@MODELS@@")
    counts = {"messages": 0, "chats": 0, "tagged_files": int(n_files)}
    with open(path, "w", encoding="utf-8") as out:
        out.write(head)
        for i in range(n_files):
            out.write(
                fx.tagged_file(
                    f"f-{i}",
                    f"/data/media/0/WhatsApp/Media/WhatsApp Images/IMG-{i:08d}.jpg",
                    f"files\\Image\\IMG-{i:08d}.jpg",
                    f"{i:032x}",
                )
            )
        out.write(before_models)
        chat = 0
        while out.tell() < target:
            size = big_chat if chat == 1 else per_chat
            jid = f"4477009{chat % 100000:05d}@s.whatsapp.net"
            other = (jid, f"Contact {chat}", False)
            out.write(
                f'<model type="Chat" id="c-{chat}" deleted_state="Intact" decoding_confidence="High">'
                + fx.field("Source", "WhatsApp")
                + fx.field("Id", jid)
                + '<multiModelField name="Participants" type="Party">'
                + fx.party(jid, f"Contact {chat}", False, pid=f"c-{chat}-p")
                + fx.party(*owner, pid=f"c-{chat}-o")
                + '</multiModelField><multiModelField name="Messages" type="InstantMessage">'
            )
            for m in range(size):
                n = counts["messages"]
                att = ""
                if n % 20 == 0:
                    att = fx.attachment(
                        f"a-{n}", f"f-{(n // 20) % n_files}", f"IMG-{n}.jpg", "image/jpeg"
                    )
                second = n % 86400
                out.write(
                    fx.message(
                        f"m-{n}",
                        f"3EB0{n:016X}",
                        owner if m % 3 == 0 else other,
                        f"Message {n} in chat {chat}: are you on shift tonight? Call me after 10.",
                        f"2024-03-{1 + n % 28:02d}T{second // 3600:02d}:{second % 3600 // 60:02d}:"
                        f"{second % 60:02d}.000+00:00",
                        deleted="Deleted" if n % 97 == 0 else "Intact",
                        attachments=att,
                        source_index=n,
                    )
                )
                counts["messages"] += 1
            out.write("</multiModelField></model>")
            counts["chats"] += 1
            chat += 1
        out.write(after_models)
    return counts


def parse_child(path: Path) -> None:
    """Run in the child: parse, then print the figures as JSON."""
    sys.path.insert(0, str(ROOT))
    from triage.parsers.ufdr_report import UfdrReport

    from triage.evidence import Evidence
    from triage.model import Message
    from triage.registry import ParseContext

    start = time.perf_counter()
    records = messages = attachments = 0
    with Evidence() as evidence:
        evidence.add_input(path.parent, "bench")
        report = next(f for f in evidence.files() if f.name == "report.xml")
        ctx = ParseContext()
        for record in UfdrReport().parse(report, ctx):
            records += 1
            if isinstance(record, Message):
                messages += 1
                attachments += len(record.attachments)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "records": records,
                "messages": messages,
                "attachments": attachments,
                "seconds": round(seconds, 2),
                "peak_rss_mib": round(peak, 1),
                "decisions": ctx.decisions,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--chat-messages", type=int, default=400)
    parser.add_argument("--big-chat", type=int, default=50_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        parse_child(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="bench-ufdr-") as tmp:
        path = Path(tmp) / "report.xml"
        t0 = time.perf_counter()
        counts = generate(path, args.size_mb, args.chat_messages, args.big_chat)
        generated = time.perf_counter() - t0
        size = path.stat().st_size
        print(f"generated {size / 1e6:,.1f} MB in {generated:,.1f} s: {counts}")
        run = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        models = figures["decisions"]["bench/report.xml"]["ufdr_models_read"]
        print(f"models read: {models}")
        print(
            f"parsed {figures['messages']:,} messages ({figures['attachments']:,} attachments) in "
            f"{figures['seconds']:,.1f} s: {size / 1e6 / figures['seconds']:,.1f} MB/s, "
            f"{figures['messages'] / figures['seconds']:,.0f} messages/s; "
            f"peak RSS {figures['peak_rss_mib']:,.1f} MiB (target < 300 MiB)"
        )


if __name__ == "__main__":
    main()
