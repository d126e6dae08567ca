"""Report at scale: a synthetic phone with 500,000 SMS, run end to end, then opened in Chromium.

Not a test and not run in CI. Prints the time to write the report, the size of the first page
and of the largest page, the number of pages, and how long headless Chromium takes to load the
first page and a full conversation page. Targets: first page < 2 MB, load < 5 s.

    python bench/bench_report.py [--messages 500000] [--out bench/out/report]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import Browser, chromium_path  # noqa: E402
from tests.test_run import SMS_SCHEMA  # noqa: E402
from triage.casefile import load_case  # noqa: E402
from triage.run import Progress, run_case  # noqa: E402

CONTACT = "07700 900123"
START_MS = 1735689600000  # 2025-01-01T00:00:00Z


def build(folder: Path, total: int) -> Path:
    """An AOSP mmssms.db with ``total`` messages over ~2 years in 300 threads (one of them the
    case contact's, with 20,000 messages), and a case file naming that contact."""
    evidence = folder / "evidence"
    evidence.mkdir(parents=True)
    rng = random.Random(7)
    conn = sqlite3.connect(evidence / "mmssms.db")
    conn.executescript(SMS_SCHEMA)
    addresses = [CONTACT] + [f"07700 9{n:05d}" for n in range(1, 300)]
    conn.executemany(
        "INSERT INTO canonical_addresses (_id, address) VALUES (?, ?)",
        [(i + 1, a) for i, a in enumerate(addresses)],
    )
    conn.executemany(
        "INSERT INTO threads (_id, recipient_ids) VALUES (?, ?)",
        [(i + 1, str(i + 1)) for i in range(len(addresses))],
    )
    words = "ok see you later thanks call me when free running late where are you yes no".split()
    step = (2 * 365 * 86400 * 1000) // total

    def rows():
        for i in range(1, total + 1):
            thread = 1 if i % 25 == 0 else rng.randrange(2, len(addresses) + 1)
            body = " ".join(rng.choice(words) for _ in range(rng.randrange(2, 12)))
            yield (i, thread, addresses[thread - 1], START_MS + i * step, rng.choice((1, 2)), body)

    conn.executemany(
        "INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?,?,?,?,?,?)", rows()
    )
    conn.commit()
    conn.close()
    case = folder / "case.yaml"
    case.write_text(
        "case:\n  reference: BENCH/1\nsubject:\n  name: Bench Owner\n"
        "contacts:\n  - name: Contact A\n    role: victim\n    identifiers:\n"
        f'      - phone: "{CONTACT}"\n'
        "sources:\n  - evidence\n",
        "utf-8",
    )
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "report")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    started = time.monotonic()
    case_path = build(args.out / "case", args.messages)
    print(f"built {args.messages:,} messages in {time.monotonic() - started:.1f} s")

    out = args.out / "run"
    stages: list[tuple[str, float]] = []
    progress = Progress(stage=lambda name: stages.append((name, time.monotonic())))
    started = time.monotonic()
    run_case(load_case(case_path), out, progress=progress)
    stages.append(("end", time.monotonic()))
    for (name, at), (_, following) in zip(stages, stages[1:], strict=False):
        print(f"  {name}: {following - at:.1f} s")
    print(f"run total: {time.monotonic() - started:.1f} s")
    pages = list(out.rglob("*.html"))
    largest = max(pages, key=lambda p: p.stat().st_size)
    index = out / "index.html"
    print(f"pages: {len(pages):,}; total HTML {sum(p.stat().st_size for p in pages) / 1e6:.0f} MB")
    print(f"first page: {index.stat().st_size / 1024:.1f} KB")
    print(f"largest page: {largest.relative_to(out)} {largest.stat().st_size / 1e6:.2f} MB")
    if chromium_path() is None:
        print("chromium not installed: load times not measured")
        return
    with Browser() as browser:
        for page in (index, out / "contacts" / "contact-1.html", largest):
            seconds = browser.open(page.as_uri(), timeout=60)
            print(f"chromium load {page.relative_to(out)}: {seconds:.2f} s")
            browser.drain(0.2)
            problems = browser.problems()
            if problems:
                print("  problems:", problems[:3])


if __name__ == "__main__":
    main()
