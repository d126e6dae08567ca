"""Benchmark: WhatsApp "Export chat" text parser against whatstk on the same 200,000-line file.

Not run in CI. Usage::

    pip install whatstk          # the comparison only; not a dependency of triage
    python bench/bench_whatsapp_txt.py [--lines 200000]

It writes an Android-layout export (``dd/mm/yyyy, hh:mm - Author: body``; multi-line bodies,
media placeholders, system lines) into a temporary folder, then times, in this order and in one
process: our parser through :class:`triage.evidence.Evidence` (two streaming passes plus the
SHA-256 of the file for provenance), and whatstk's ``df_from_whatsapp`` with the header format
given (so its auto-detection is not timed), each ``--repeat`` times, keeping the fastest run
(the machines this runs on are shared, so single runs are noisy). Peak RSS is read with ``resource.getrusage`` after
each run; whatstk's figure includes ours because ru_maxrss never goes down.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers.whatsapp_txt import WhatsAppTxt  # noqa: E402
from triage.evidence import Evidence  # noqa: E402
from triage.registry import ParseContext  # noqa: E402

AUTHORS = ["Alice Smith", "Bob", "+44 7700 900123", "Carol", "Dave Jones"]
WORDS = "the shift report was late again and nobody checked the custody log before handover".split()


def generate(path: Path, lines: int, seed: int = 7) -> int:
    """Write an export of exactly ``lines`` lines; returns the number of messages in it."""
    rng = random.Random(seed)
    written = messages = 0
    minute = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        while written < lines:
            minute += rng.randint(0, 3)
            day, rem = divmod(minute, 24 * 60)
            hour, mins = divmod(rem, 60)
            month, dom = divmod(day % 336, 28)
            header = f"{dom + 1:02d}/{month + 1:02d}/2022, {hour:02d}:{mins:02d} - "
            roll = rng.random()
            extra: list[str] = []
            if roll < 0.02:
                text = f"{rng.choice(AUTHORS)} left"
            elif roll < 0.07:
                text = f"{rng.choice(AUTHORS)}: <Media omitted>"
            elif roll < 0.09:
                text = f"{rng.choice(AUTHORS)}: This message was deleted"
            else:
                body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 18)))
                text = f"{rng.choice(AUTHORS)}: {body}"
                if roll > 0.93:
                    extra = [" ".join(rng.choice(WORDS) for _ in range(5))] * rng.randint(1, 3)
            chunk = [header + text, *extra][: lines - written]
            out.write("\n".join(chunk) + "\n")
            written += len(chunk)
            messages += 1
    return messages


def peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run_ours(path: Path) -> tuple[int, float]:
    parser = WhatsAppTxt()
    ctx = ParseContext(owner_names=["Bob"])
    start = time.perf_counter()
    with Evidence() as evidence:
        evidence.add_input(path)
        (file,) = list(evidence.files())
        count = sum(1 for _ in parser.parse(file, ctx))
    return count, time.perf_counter() - start


def run_whatstk(path: Path) -> tuple[int, float] | None:
    try:
        from whatstk.whatsapp.parser import df_from_whatsapp
    except ImportError:
        return None
    start = time.perf_counter()
    df = df_from_whatsapp(
        str(path), auto_header=False, hformat="%d/%m/%Y, %H:%M - %name:", max_size=None
    )
    return len(df), time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each parser; the fastest is reported"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-wa-") as tmp:
        path = Path(tmp) / "WhatsApp Chat with Bench.txt"
        expected = generate(path, args.lines)
        size = path.stat().st_size
        print(f"file: {args.lines:,} lines, {expected:,} items, {size / 1e6:.1f} MB")
        base = peak_rss_mib()
        print(f"peak RSS before parsing: {base:.1f} MiB")

        count, secs = min((run_ours(path) for _ in range(args.repeat)), key=lambda r: r[1])
        print(
            f"triage whatsapp_txt: {count:,} messages in {secs:.2f} s = "
            f"{count / secs:,.0f} messages/s; peak RSS {peak_rss_mib():.1f} MiB"
        )
        runs = [run_whatstk(path) for _ in range(args.repeat)]
        theirs = None if runs[0] is None else min(runs, key=lambda r: r[1])  # type: ignore[index]
        if theirs is None:
            print("whatstk: not installed (pip install whatstk) - comparison skipped")
            return
        tcount, tsecs = theirs
        print(
            f"whatstk df_from_whatsapp: {tcount:,} rows in {tsecs:.2f} s = "
            f"{tcount / tsecs:,.0f} messages/s; peak RSS {peak_rss_mib():.1f} MiB "
            "(includes the run above)"
        )
        print(f"speed ratio triage/whatstk: {(count / secs) / (tcount / tsecs):.2f}")


if __name__ == "__main__":
    main()
