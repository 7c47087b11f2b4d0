"""Bulk actions and sync at scale, as whole processes on a copy of a library.

    python benchmarks/bulk_sync.py DATA_DIR [--runs 3]

DATA_DIR is a built library (benchmarks/run.py leaves one in
benchmarks/.cache/run-N/data); it is copied, never changed. Prints the median
wall time of: `read --query` on about half the library, `undo` of it, a first
`sync` (every decision sent), a second `sync` with nothing new, and a sync
that merges the other machine's whole file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(data: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data), "PAPERDESK_NO_BACKGROUND": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "paperdesk", *args], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args}: {done.stderr}")
    return elapsed, done.stdout.strip()


def one_run(source: Path, query: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        a, b, folder = Path(tmp) / "a", Path(tmp) / "b", Path(tmp) / "folder"
        for copy in (a, b):
            shutil.copytree(source, copy)
        folder.mkdir()
        figures: dict[str, float] = {}
        figures["read --query"], said = timed(a, "read", "--query", query, "--yes")
        figures["papers marked"] = float(said.split()[2].replace(",", ""))
        figures["undo"], _ = timed(a, "undo")
        timed(a, "redo")
        figures["first sync (send all)"], _ = timed(a, "sync", str(folder))
        figures["sync, nothing new"], _ = timed(a, "sync", str(folder))
        figures["sync, merge the other's file"], said = timed(b, "sync", str(folder), "--json")
        figures["papers merged"] = float(json.loads(said)["updated"])
        figures["sync file MB"] = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--query", default="published:<2024-01-01")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # One copy brought up to this version's index (untimed), copied per run.
        template = Path(tmp) / "template"
        shutil.copytree(args.data, template, ignore=shutil.ignore_patterns("backups", "machine-id"))
        timed(template, "index", "update")
        runs = [one_run(template, args.query) for _ in range(args.runs)]
    print(f"{args.data} ({args.runs} runs, medians; query {args.query!r})")
    for name in runs[0]:
        value = statistics.median(r[name] for r in runs)
        unit = "" if "papers" in name or "MB" in name else " s"
        print(f"  {name:32} {value:10.2f}{unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
