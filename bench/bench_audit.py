"""Benchmark: import a generated RMS-style audit export (default 1,000,000 rows) into a store.

Usage: python bench/bench_audit.py [ROWS]. Prints rows/s and the peak RSS: rows are streamed
(csv reader -> batched inserts), so memory stays bounded whatever the row count.
"""

from __future__ import annotations

import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

from triage.audit_trail import AuditRead, load_profile, read_audit
from triage.evidence import sha256_file
from triage.store import Store


def main(rows: int = 1_000_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "audit.csv"
        with open(export, "w", newline="", encoding="utf-8") as handle:
            w = csv.writer(handle)
            w.writerow(
                [
                    "Access Date/Time",
                    "User ID",
                    "Module",
                    "Activity",
                    "Forenames",
                    "Surname",
                    "DOB",
                    "Telephone",
                    "Address",
                    "Record Ref",
                ]
            )
            for n in range(rows):
                day, sec = 1 + n % 28, n % 86400
                w.writerow(
                    [
                        f"{day:02d}/03/2026 {sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}",
                        f"U{n % 500}",
                        "Person",
                        "Search",
                        "Name",
                        f"S{n % 9973}",
                        "01/01/1990",
                        f"07700 9{n % 100000:05d}",
                        "",
                        f"REF-{n}",
                    ]
                )
        store = Store.create(Path(tmp) / "case.sqlite")
        sha = sha256_file(export)
        read = AuditRead()
        start = time.perf_counter()
        stored = store.add_audit(
            1,
            read_audit(export, "audit.csv", sha, load_profile("rms"), "Europe/London", "GB", read),
        )
        seconds = time.perf_counter() - start
        store.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{stored:,} rows in {seconds:.1f} s = {stored / seconds:,.0f} rows/s; peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
