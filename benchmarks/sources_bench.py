"""Importing papers that carry arXiv IDs (what fetches and bibliographies bring):
the identity lookups (arXiv ID, DOI, title through aliases) and the merge.

    python benchmarks/sources_bench.py [--papers 20000] [--repeat 3]

Prints medians over the repeats, papers per second: a first import (every
paper new), the same again (every paper unchanged), and a re-import under
other titles (every paper found by its arXiv ID and updated). Also the parse
rate of Hugging Face API JSON. The store only, without the search index.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from paperdesk.importers import hf
from paperdesk.library import Library
from paperdesk.model import Entry

WORDS = (
    "learning model language vision agent policy reward graph diffusion token attention "
    "memory retrieval reasoning robust sparse scaling benchmark dataset transformer"
).split()


def entries(count: int, retitled: bool = False) -> list[Entry]:
    made = []
    for n in range(count):
        words = " ".join(WORDS[(n * 7 + k) % len(WORDS)] for k in range(6))
        title = f"{words} {n}" + (" (revised)" if retitled else "")
        made.append(
            Entry(
                title=title,
                abstract=f"We study {words}. " * 12,
                arxiv_id=f"25{n // 100000:02d}.{n % 100000:05d}",
                author_names=tuple(f"Author {n % 97} {k}" for k in range(5)),
                categories=("cs.LG", "cs.CL"),
                upvotes=n % 50,
                links=(f"https://arxiv.org/abs/25{n // 100000:02d}.{n % 100000:05d}",),
                origin="hf-api",
            )
        )
    return made


def hf_items(count: int) -> str:
    items = [
        {
            "title": f"Paper number {n} about {WORDS[n % len(WORDS)]}",
            "paper": {
                "id": f"2510.{n:05d}",
                "summary": "An abstract\nwrapped over\nlines. " * 10,
                "authors": [{"name": f"Author {k}", "hidden": False} for k in range(6)],
                "publishedAt": "2025-10-16T10:40:52.000Z",
                "upvotes": n % 40,
                "ai_keywords": ["rl", "agents"],
            },
            "publishedAt": "2025-10-17T00:00:00.000Z",
            "numComments": 2,
        }
        for n in range(count)
    ]
    return json.dumps(items)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} papers/s ({seconds:.2f} s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    first, again, retitled, parse = [], [], [], []
    batch, renamed = entries(args.papers), entries(args.papers, retitled=True)
    text = hf_items(args.papers)
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            library = Library(Path(tmp) / "library.sqlite3")
            for store, into in ((batch, first), (batch, again), (renamed, retitled)):
                started = time.perf_counter()
                library.import_entries(store, "bench.json")
                into.append(time.perf_counter() - started)
            library.close()
        started = time.perf_counter()
        hf.parse_json(text)
        parse.append(time.perf_counter() - started)
    n = args.papers
    print(f"papers: {n:,}, repeats: {args.repeat} (medians)")
    print(f"first import (all new):            {rate(n, statistics.median(first))}")
    print(f"the same again (all unchanged):    {rate(n, statistics.median(again))}")
    print(f"other titles (found by arXiv ID):  {rate(n, statistics.median(retitled))}")
    print(f"parse Hugging Face API JSON:       {rate(n, statistics.median(parse))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
