"""Report at scale: a synthetic phone with 500,000 SMS, run end to end, then opened in Chromium.

Not a test and not run in CI. Prints the time to write the report, the size of the first page
and of the largest page, the number of pages, and how long headless Chromium takes to load the
first page and a full conversation page. Targets: first page < 2 MB, load < 5 s.

Search (search.html over the index in search/): for a common word, a word held by one message
near the end (so every part of the index is read), and a contact filter, the time from
navigation to the first result shown and to the whole count, each the best of 3. Baseline in the
same run: the obvious page, every message in one script file and one Array.filter over it
(``naive/``, built from the same store); the figure is the ratio ours / naive.

    python bench/bench_report.py [--messages 500000] [--out bench/out/report]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import Browser, chromium_path  # noqa: E402
from tests.test_run import SMS_SCHEMA  # noqa: E402
from triage.casefile import load_case  # noqa: E402
from triage.run import Progress, run_case  # noqa: E402

CONTACT = "07700 900123"
START_MS = 1735689600000  # 2025-01-01T00:00:00Z
RARE = "zebracrossing"  # one message near the end holds it: the search must read every part


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
            if i == total - 100:
                body += " " + RARE
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


def naive_search_page(out: Path, store_path: Path) -> Path:
    """The obvious way, as a baseline: every message in one script file (an array of objects),
    then one Array.filter over all of it and the first 200 results written into the page."""
    conn = sqlite3.connect(store_path)
    rows = conn.execute(
        "SELECT id, timestamp_utc, body FROM messages ORDER BY timestamp_utc IS NULL, timestamp_utc, id"
    ).fetchall()
    conn.close()
    folder = out / "naive"
    folder.mkdir(exist_ok=True)
    data = [{"i": i, "t": t, "b": b or ""} for i, t, b in rows]
    (folder / "all.js").write_bytes(b"var ALL = " + orjson.dumps(data) + b";\n")
    (folder / "naive.js").write_text(
        "var q = decodeURIComponent(location.hash.slice(3)).toLowerCase();\n"
        "var found = ALL.filter(function (m) { return m.b.toLowerCase().indexOf(q) >= 0; });\n"
        "var list = document.getElementById('r');\n"
        "found.slice(0, 200).forEach(function (m) { var li = document.createElement('li');"
        " li.textContent = m.i + ' ' + m.t + ' ' + m.b; list.appendChild(li); });\n"
        "document.documentElement.setAttribute('data-first-result-ms',"
        " String(Math.round(performance.now())));\n"
        "document.documentElement.setAttribute('data-search-done-ms',"
        " String(Math.round(performance.now())));\n"
        "document.documentElement.setAttribute('data-search-done', String(found.length));\n",
        "utf-8",
    )
    page = folder / "naive.html"
    page.write_text(
        '<!DOCTYPE html><meta charset="utf-8"><ol id="r"></ol>'
        '<script src="all.js"></script><script src="naive.js"></script>',
        "utf-8",
    )
    return page


def time_search(browser: Browser, url: str, timeout: float = 120.0) -> tuple[float, float, int]:
    """(ms to the first result, ms to the whole count, count) of one search page load."""
    browser.call("Page.navigate", url="about:blank")
    time.sleep(0.3)
    browser.call("Page.navigate", url=url)
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        first, end, done = browser.evaluate(
            "['data-first-result-ms', 'data-search-done-ms', 'data-search-done']"
            ".map(a => document.documentElement && location.href !== 'about:blank'"
            " ? document.documentElement.getAttribute(a) : null)"
        )
        if done is not None and first is not None:
            return float(first), float(end), int(done)
        time.sleep(0.02)
    raise TimeoutError(url)


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
        index_bytes = sum(p.stat().st_size for p in (out / "search").glob("*.js"))
        print(
            f"search index: {len(list((out / 'search').glob('part-*.js')))} parts, "
            f"{index_bytes / 1e6:.1f} MB"
        )
        naive = naive_search_page(args.out, out / "case.sqlite")
        print(f"naive index: {(naive.parent / 'all.js').stat().st_size / 1e6:.1f} MB")
        search = (out / "search.html").as_uri()
        for label, fragment, naive_word in (
            ("common word 'later'", "q=later", "later"),
            (f"rare word '{RARE}' (every part read)", f"q={RARE}", RARE),
            ("contact filter (Contact A, 20,000 messages)", "contact=0", None),
        ):
            ours = min(time_search(browser, f"{search}#{fragment}") for _ in range(3))
            line = (
                f"search {label}: first result {ours[0] / 1000:.2f} s, "
                f"all {ours[2]:,} counted {ours[1] / 1000:.2f} s"
            )
            if naive_word:
                base = min(
                    time_search(browser, f"{naive.as_uri()}#q={naive_word}") for _ in range(3)
                )
                line += (
                    f"; naive first result {base[0] / 1000:.2f} s ({base[2]:,}): "
                    f"ratio {ours[0] / base[0]:.2f}"
                )
            print(line)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
