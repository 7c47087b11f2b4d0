"""The interest ranking at scale: training, rescoring, and sorting and filtering
by interest, on synthetic libraries (issue 20's targets).

    python benchmarks/interest_scale.py [--sizes 10k,100k] [--million] [--runs 3]

For each size: a library of synthetic papers (benchmarks/synth.py) with its
search index, 100 papers starred (about reinforcement learning) and 100
"not for me" (about vision), then, medians of --runs in this process:

- train and rescore every paper (``Desk.train_interest``, end to end): the
  first time (scikit-learn imported, every word counted) and then (the
  words of unchanged papers kept);
- ``list --sort interest``: the first 20, and every ID (the app's list);
- ``search learning --sort interest`` (first 20) and ``interest:>=0.7``,
  the first time after a retrain (the scores are matched to the index's
  documents) and again (kept);
- a day's import of 100 papers with the model (the import scores them).

``--million`` adds 1M papers in the library alone (building its index takes
half an hour, issue 23): the background retrain, the list orders, and the
matching of 1M scores to 1M documents the engine does once per retrain.
Libraries are kept in benchmarks/.cache/interest-N.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from synth import dump, write_dump  # noqa: E402

from paperdesk.desk import Desk  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"


def size_of(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def timed(call, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def build(n: int, index: bool) -> Path:
    data = CACHE / f"interest-{n}" / "data"
    if (data / "built").exists():
        return data
    shutil.rmtree(data.parent, ignore_errors=True)
    data.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "dump.txt"
        print(f"[{n:,}] writing and importing the dump", file=sys.stderr, flush=True)
        write_dump(path, n)
        desk = Desk(data)
        desk.auto_sync_index = index
        report = desk.import_file(path, year=2025)
        if report.rejected:
            raise SystemExit(report.summary)
        if index:
            desk.sync_index()
        desk.close()
    (data / "built").write_text("")
    return data


def decide(desk: Desk, index: bool) -> None:
    """100 liked papers about reinforcement learning, 100 not for me about vision
    (the same each run: deciding again changes nothing)."""
    if index:
        liked = [h.paper.id for h in desk.search("reinforcement policy", limit=100).hits]
        disliked = [h.paper.id for h in desk.search("vision image", limit=150).hits]
    else:  # no index: by the title's words
        rows = desk.library._query(
            "SELECT id FROM papers WHERE abstract LIKE '%reinforcement%policy%' LIMIT 100"
        )
        liked = [r[0] for r in rows]
        rows = desk.library._query(
            "SELECT id FROM papers WHERE abstract LIKE '%vision%image%' LIMIT 150"
        )
        disliked = [r[0] for r in rows]
    desk.set_starred(liked, True)
    desk.set_dismissed([pid for pid in disliked if pid not in set(liked)][:100], True)


def measure(n: int, runs: int, index: bool) -> dict:
    data = build(n, index)
    desk = Desk(data)
    desk.auto_sync_index = index
    decide(desk, index)
    f: dict = {"papers": desk.count()}
    desk.counts_path.unlink(missing_ok=True)  # the first training counts every word
    progress: list[float] = []
    start = time.perf_counter()
    f["train_first_s"], line = timed(
        lambda: desk.train_interest(lambda done, total: progress.append(time.perf_counter())), 1
    )
    # Past FIT_PAPERS every training counts every word again: one is the figure.
    f["train_s"], line = (
        timed(lambda: desk.train_interest(), runs) if index else (f["train_first_s"], line)
    )
    f["progress_updates"] = len(progress)
    f["first_progress_s"] = (progress[0] - start) if progress else None
    f["line"] = line[0]
    f["first20_s"], _ = timed(lambda: desk.papers(sort="interest", limit=20), max(runs, 5))
    f["all_ids_s"], ids = timed(lambda: desk.ids(sort="interest"), runs)
    f["ids"] = len(ids)
    if index:
        for name, query, sort in (
            ("search_sort", "learning", "interest"),
            ("search_filter", "interest:>=0.7", "relevance"),
        ):
            desk.library.set_interest({ids[0]: 0.99})  # a new generation: matched again
            f[f"{name}_first_s"], _ = timed(lambda q=query, s=sort: desk.search(q, sort=s), 1)
            f[f"{name}_s"], _ = timed(lambda q=query, s=sort: desk.search(q, sort=s), 5)
        with tempfile.TemporaryDirectory() as work:  # on a copy: the cache stays as built
            day = Path(work) / "day.txt"
            day.write_text(dump(100, seed=n + 1))
            shutil.copytree(data, Path(work) / "data")
            copy = Desk(Path(work) / "data")
            copy.interest_model()  # loaded once, as the app or a long import has it
            start = time.perf_counter()
            copy.import_file(day, year=2025)
            f["daily_s"] = time.perf_counter() - start
            scored = sum(p.interest is not None for p in copy.papers(sort="added", limit=100))
            f["daily_scored"] = scored
            copy.close()
    else:
        f["match_s"] = match_million(n)
    desk.close()
    return f


def match_million(n: int) -> float:
    """The engine's once-per-retrain matching of n scores to n documents
    (``Postings.interest``), on n synthetic IDs in shuffled document order."""
    from paperdesk.search.postings import Postings

    rng = np.random.default_rng(1)
    ids = np.array([f"{i:010x}" for i in rng.permutation(n * 16)[:n]], dtype="S10")
    p = Postings.__new__(Postings)
    p.doc_count, p._keys, p._interest = n, ids, None
    pairs = [(key.decode(), float(score)) for key, score in zip(ids, rng.random(n), strict=True)]
    start = time.perf_counter()
    p.interest(1, lambda: pairs)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [(size_of(s), True) for s in args.sizes.split(",") if s]
    if args.million:
        sizes.append((1_000_000, False))
    print(
        f"{'papers':>9} {'train+score':>16} {'first 20':>9} {'all IDs':>8} "
        f"{'search':>13} {'interest:':>13} {'day of 100':>10}"
    )
    for n, index in sizes:
        f = measure(n, args.runs, index)
        if index:
            search = f"{f['search_sort_first_s'] * 1e3:.0f}/{f['search_sort_s'] * 1e3:.0f} ms"
            filt = f"{f['search_filter_first_s'] * 1e3:.0f}/{f['search_filter_s'] * 1e3:.0f} ms"
            daily = f"{f['daily_s']:.2f} s ({f['daily_scored']} scored)"
        else:
            search = f"match {f['match_s'] * 1e3:.0f} ms"
            filt = daily = "(no index)"
        print(
            f"{f['papers']:>9,} {f['train_first_s']:>6.2f}/{f['train_s']:.2f} s "
            f"{f['first20_s'] * 1e3:>6.1f} ms "
            f"{f['all_ids_s']:>6.2f} s {search:>13} {filt:>13} {daily:>10}",
            flush=True,
        )
        print(f"{'':>9} {f['line']}", flush=True)
        if f["progress_updates"] > 1:
            print(
                f"{'':>9} rescoring progress: {f['progress_updates']} updates, the first "
                f"after {f['first_progress_s']:.1f} s",
                flush=True,
            )
    print("train+score: the first (every word counted, scikit-learn imported) / then;")
    print("search and interest: first after a retrain / then (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
