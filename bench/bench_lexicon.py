"""Benchmark: lexicon matching over 1,000,000 messages with a 2,000-entry lexicon.

:class:`triage.lexicon.Matcher` (one Aho-Corasick pass per message for the word, phrase and
emoji lists, plus the compiled regular expressions) against the naive way: one compiled
``re.search`` per pattern per message (``\\b...\\b``, case-insensitive), on the same generated
messages. The naive loop is timed on the first ``--naive`` messages (2,000 patterns each) and
its rate extrapolated; the hit counts of the two are compared on that slice so the speed is not
bought by missing hits. Usage::

    python bench/bench_lexicon.py [--messages 1000000] [--entries 2000] [--naive 5000]

Reported: messages/s and MB/s of each, the ratio, hits found. Measured: see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
from pathlib import Path

from triage.lexicon import CATEGORIES, Matcher, load_lexicon

FILLER = (
    "the a on at shift back later see you going home tonight ok thanks yes no maybe "
    "briefing car van station job call radio report sarge cheers mate ring when where"
).split()


def make_lexicon(path: Path, entries: int, rng: random.Random) -> list[str]:
    """A lexicon of ``entries`` terms: mostly invented words, some two-word phrases, ten
    regular expressions; returns the terms as the naive loop's patterns."""
    words: set[str] = set()
    while len(words) < entries - 210:
        words.add("".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(4, 9))))
    ordered = sorted(words)
    phrases = [f"{a} {b}" for a, b in zip(ordered[:200], ordered[200:400], strict=True)]
    singles = ordered
    regexes = [rf"{w[:3]}\w+ (?:now|later)" for w in ordered[-10:]]
    lines = ["name: bench", 'version: "1"', "entries:"]
    for n, chunk in enumerate((singles, phrases)):
        lines += [
            f"  - category: {CATEGORIES[n]}",
            f"    {'words' if n == 0 else 'phrases'}: [" + ", ".join(chunk) + "]",
        ]
    lines += ["  - category: meet", "    regex:"] + [f"      - '{r}'" for r in regexes]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [re.escape(t) for t in singles + phrases] + regexes


def make_messages(count: int, terms: list[str], rng: random.Random) -> list[str]:
    """Chat-like messages of 6-16 filler words; about one in 50 carries a lexicon term."""
    plain = [t for t in terms if "\\w" not in t]
    out = []
    for _ in range(count):
        words = rng.choices(FILLER, k=rng.randint(6, 16))
        if rng.random() < 0.02:
            words.insert(rng.randrange(len(words)), rng.choice(plain).replace("\\ ", " ").upper())
        out.append(" ".join(words))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--naive", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(18)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        patterns = make_lexicon(path, args.entries, rng)
        lexicon = load_lexicon(path)
    messages = make_messages(args.messages, patterns, rng)
    megabytes = sum(len(m.encode()) for m in messages) / 1e6
    print(
        f"lexicon: {len(lexicon.terms)} entries; messages: {len(messages):,} ({megabytes:.0f} MB)"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    started = time.perf_counter()
    matcher = Matcher([lexicon])
    built = time.perf_counter() - started
    started = time.perf_counter()
    hits = sum(len(matcher.hits(m)) for m in messages)
    fast = time.perf_counter() - started
    print(
        f"Matcher: built in {built:.2f} s; {fast:.2f} s, {len(messages) / fast:,.0f} messages/s, "
        f"{megabytes / fast:.1f} MB/s, {hits:,} hits"
    )

    compiled = [re.compile(rf"\b(?:{p})\b", re.IGNORECASE) for p in patterns]
    sample = messages[: args.naive]
    started = time.perf_counter()
    naive_hits = 0
    for text in sample:
        for pattern in compiled:
            if pattern.search(text):
                naive_hits += 1
    slow = time.perf_counter() - started
    naive_rate = len(sample) / slow
    sample_hits = sum(len({(h.term, h.category) for h in matcher.hits(m)}) for m in sample)
    print(
        f"naive re.search loop: {len(sample):,} messages in {slow:.2f} s, "
        f"{naive_rate:,.0f} messages/s (1,000,000 would take {1_000_000 / naive_rate:,.0f} s); "
        f"messages x patterns matched: {naive_hits} (Matcher on the same slice: {sample_hits})"
    )
    print(f"ratio: {len(messages) / fast / naive_rate:,.0f}x the naive rate")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
