"""Search index benchmark: paperdesk's index against a plain default Whoosh index.

    python benchmarks/index_bench.py [--sizes 10k,100k] [--queries 40]

For each size: builds a library from a synthetic dump, then measures bulk
index time, a 100-paper daily import into the library end to end (parse,
store, index sync), query latency p50/p95 per query kind, and the highlight
time of one shown paper. The same papers go into a plain Whoosh index
(default writer, StemmingAnalyzer, DATETIME date, stored text, QueryParser)
as the baseline. Prints one table per size; medians and percentiles only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import REAL, dump  # noqa: E402

from paperdesk.desk import Desk  # noqa: E402
from paperdesk.search.highlights import highlight  # noqa: E402


def size_of(text: str) -> int:
    text = text.strip().lower()
    if text.endswith("m"):
        return int(float(text[:-1]) * 1_000_000)
    if text.endswith("k"):
        return int(float(text[:-1]) * 1_000)
    return int(text)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def query_sets(rng: random.Random, n: int) -> dict[str, list[tuple[str, str]]]:
    """(paperdesk query, plain Whoosh query) pairs per kind."""
    words = [w for w in REAL if len(w) > 4]
    sets: dict[str, list[tuple[str, str]]] = {}

    def pick(k: int) -> list[str]:
        return rng.sample(words, k)

    sets["term"] = [(q, q) for q in (" ".join(pick(rng.randint(1, 3))) for _ in range(n))]
    sets["phrase"] = [(f'"{a} {b}"', f'"{a} {b}"') for a, b in (pick(2) for _ in range(n))]
    sets["field"] = [(f"title:{w}", f"title:{w}") for (w,) in (pick(1) for _ in range(n))]
    sets["prefix"] = [(f"{w[:4]}*", f"{w[:4]}*") for (w,) in (pick(1) for _ in range(n))]
    sets["fuzzy"] = [(f"{w[:-1]}~", f"{w[:-1]}~") for (w,) in (pick(1) for _ in range(n))]
    # Ranges in three forms, in turn: a whole year (one term for paperdesk), a
    # number from a bound (a numeric range) and a date from a bound.
    sets["range"] = []
    for number in range(n):
        (w,) = pick(1)
        y = rng.randint(2015, 2024)
        if number % 3 == 0:
            pair = (f"{w} published:{y}", f"{w} published:[{y}0101 to {y}1231]")
        elif number % 3 == 1:
            votes = rng.randint(1, 20)
            pair = (f"{w} upvotes:>={votes}", f"{w} upvotes:[{votes} to]")
        else:
            day = f"{y}-{rng.randint(1, 12):02d}-01"
            pair = (f"{w} published:>={day}", f"{w} published:[{day} to]")
        sets["range"].append(pair)
    sets["state"] = [
        (f"{w} is:unread", f"{w} state:unread") for (w,) in (pick(1) for _ in range(n))
    ]
    return sets


def build_plain(papers, path: Path):
    from whoosh import index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema

    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StemmingAnalyzer(), stored=True, field_boost=2.0),
        abstract=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        org=TEXT(stored=True),
        tag=KEYWORD(commas=True),
        state=KEYWORD(),
        authors=NUMERIC(),
        upvotes=NUMERIC(),
        published=DATETIME(),
    )
    ix = index.create_in(str(path), schema)
    writer = ix.writer()
    for paper in papers:
        doc = {
            "id": paper.id,
            "title": paper.title,
            "abstract": paper.abstract,
            "org": paper.organization or "",
            "state": "unread",
        }
        if paper.published:
            doc["published"] = datetime(
                paper.published.year, paper.published.month, paper.published.day
            )
        if paper.upvotes is not None:
            doc["upvotes"] = paper.upvotes
        writer.add_document(**doc)
    writer.commit()
    return ix


def time_plain_queries(ix, queries: list[str]) -> tuple[list[float], list[float]]:
    from whoosh.qparser import MultifieldParser
    from whoosh.qparser.dateparse import DateParserPlugin

    parser = MultifieldParser(["title", "abstract"], ix.schema)
    parser.add_plugin(DateParserPlugin(basedate=datetime(2025, 1, 1)))
    latencies, highlight_times = [], []
    with ix.searcher() as searcher:
        for text in queries:
            start = time.perf_counter()
            results = searcher.search(parser.parse(text), limit=20)
            len(results)
            # What a tool shows: the stored fields of the shown hits (paperdesk's
            # figure includes reading its 20 shown papers from SQLite).
            for hit in results:
                hit.fields()
            latencies.append(time.perf_counter() - start)
            if results:
                start = time.perf_counter()
                results[0].highlights("title")
                results[0].highlights("abstract")
                highlight_times.append(time.perf_counter() - start)
    return latencies, highlight_times


def run_size(n: int, n_queries: int) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    rng = random.Random(n)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        dump_path = tmp_path / "big.txt"
        dump_path.write_text(dump(n), encoding="utf-8")
        desk = Desk(tmp_path / "data")
        start = time.perf_counter()
        report = desk.import_file(dump_path, year=2025)
        store_s = time.perf_counter() - start
        assert report.stats and report.stats.new == n, report.summary
        start = time.perf_counter()
        desk.rebuild_index()
        ours_index_s = time.perf_counter() - start
        papers = list(desk.library.iter_all())
        start = time.perf_counter()
        (tmp_path / "plain").mkdir()
        plain = build_plain(papers, tmp_path / "plain")
        plain_index_s = time.perf_counter() - start
        rows.append(("import to store (parse + store)", f"{store_s:.2f} s", "", ""))
        rows.append(
            (
                "bulk index",
                f"{ours_index_s:.1f} s ({n / ours_index_s:,.0f}/s)",
                f"{plain_index_s:.1f} s ({n / plain_index_s:,.0f}/s)",
                f"{ours_index_s / plain_index_s:.2f}",
            )
        )

        daily = tmp_path / "daily.txt"
        daily.write_text(dump(100, seed=n + 1), encoding="utf-8")
        start = time.perf_counter()
        daily_report = desk.import_file(daily, year=2025)
        desk.sync_index()
        daily_s = time.perf_counter() - start
        assert daily_report.stats and daily_report.stats.new == 100, daily_report.summary
        rows.append(("daily import of 100 (end to end)", f"{daily_s:.2f} s", "", ""))

        desk.search("warmup")
        sets = query_sets(rng, n_queries)
        highlight_ours: list[float] = []
        for kind, pairs in sets.items():
            ours = []
            for text, _plain_text in pairs:
                start = time.perf_counter()
                results = desk.search(text, limit=20, with_highlights=False)
                ours.append(time.perf_counter() - start)
                if results.hits:
                    start = time.perf_counter()
                    highlight(results.hits[0].paper, results.terms)
                    highlight_ours.append(time.perf_counter() - start)
            plain_times, _ = time_plain_queries(plain, [p for _t, p in pairs])
            p50, p95 = statistics.median(ours), percentile(ours, 0.95)
            b50, b95 = statistics.median(plain_times), percentile(plain_times, 0.95)
            rows.append(
                (
                    f"query {kind} p50 / p95",
                    f"{p50 * 1e3:.1f} / {p95 * 1e3:.1f} ms",
                    f"{b50 * 1e3:.1f} / {b95 * 1e3:.1f} ms",
                    f"{p95 / b95:.2f}",
                )
            )
        _, plain_highlights = time_plain_queries(plain, [t for _o, t in sets["term"]])
        h_ours = statistics.median(highlight_ours)
        h_plain = statistics.median(plain_highlights) if plain_highlights else float("nan")
        rows.append(
            (
                "highlight one paper (median)",
                f"{h_ours * 1e3:.2f} ms",
                f"{h_plain * 1e3:.2f} ms",
                f"{h_ours / h_plain:.2f}",
            )
        )
        desk.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k")
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    for text in args.sizes.split(","):
        n = size_of(text)
        rows = run_size(n, args.queries)
        print(f"\n## {n:,} papers\n")
        print("| measure | paperdesk | plain Whoosh | ratio |")
        print("| --- | --- | --- | --- |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
