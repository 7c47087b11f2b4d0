"""Parse rate and store insert rate on a large synthetic dump.

    python benchmarks/store_bench.py [--papers 100000] [--repeat 3]

Target (issue 2): 100k papers into the store, without the search index, in
under 10 s on a 2-core machine. Prints medians over the repeats.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import dump  # noqa: E402

from paperdesk.importers.dailypapers import parse  # noqa: E402
from paperdesk.library import Library  # noqa: E402

IMPORT = """
import sys, time
from pathlib import Path
from paperdesk.desk import Desk
desk = Desk(Path(sys.argv[2]))
start = time.perf_counter()
report = desk.import_file(Path(sys.argv[1]), year=2025)
print(time.perf_counter() - start)
assert report.stats is not None and report.stats.new > 0, report.summary
"""


def import_in_fresh_process(dump: Path, data: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT, str(dump), str(data)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    text = dump(args.papers)
    print(f"dump: {args.papers:,} papers, {len(text) / 1e6:.1f} MB")
    parse_times, store_times, reimport_times = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = parse(text, year=2025)
        parse_times.append(time.perf_counter() - start)
        assert len(result.entries) == args.papers, len(result.entries)
        with tempfile.TemporaryDirectory() as tmp:
            library = Library(Path(tmp) / "library.sqlite3")
            start = time.perf_counter()
            stats = library.import_entries(result.entries, "synthetic.txt")
            store_times.append(time.perf_counter() - start)
            assert stats.new == args.papers
            start = time.perf_counter()
            again = library.import_entries(result.entries, "synthetic.txt")
            reimport_times.append(time.perf_counter() - start)
            assert again.unchanged == args.papers
            library.close()
    # End to end, as `paperdesk import` does it (without the index): read and
    # decode the file, parse it in pieces in worker processes while storing.
    # In a fresh process, as the command runs: this one holds the parsed dump.
    end_to_end = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.txt"
        path.write_text(text, encoding="utf-8")
        for number in range(args.repeat):
            end_to_end.append(import_in_fresh_process(path, Path(tmp) / f"data{number}"))
    e = statistics.median(end_to_end)
    p, s, r = (statistics.median(t) for t in (parse_times, store_times, reimport_times))
    n = args.papers
    print(f"parse          median {p:6.2f} s  {n / p:10,.0f} papers/s")
    print(f"store insert   median {s:6.2f} s  {n / s:10,.0f} papers/s")
    print(f"re-import      median {r:6.2f} s  {n / r:10,.0f} papers/s  (all unchanged)")
    print(f"parse + store  median {p + s:6.2f} s  (one after the other, in one process)")
    print(f"import file    median {e:6.2f} s  {n / e:10,.0f} papers/s  (streamed; target < 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
