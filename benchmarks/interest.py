"""How well does a model learned from a reader's decisions rank the papers of
later days? On the real arXiv corpus in ../shared/data/arxiv_corpus/.

    python benchmarks/interest.py [--seeds 3]

Simulated readers: each likes a set of primary categories (narrow: cs.IT;
broad: cs.CV; mixed: cs.CL, cs.GR or cs.GT), decides on papers of the first
three listing days (half liked, half not; 10% of the decisions flipped as
noise) and is ranked on the four later days. For 10, 20, 50 and 100
decisions, side by side in one run, the methods are:

- random;
- newest first (the listing's own order: arXiv ID);
- mean similarity to the liked papers (TF-IDF cosine);
- a plain TF-IDF + logistic regression;
- paperdesk's model on the words alone, and paperdesk's model (paperdesk.interest)
  with the categories and authors too.

The measures are NDCG and MRR by Scholar Inbox's protocol (each liked paper
of the later days against 4 random others, by the reader's true interest,
without noise), and precision@10 of each later day. The figures are means
over readers' seeds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

from paperdesk.interest import Example, InterestModel, rank_measure
from paperdesk.model import Paper

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv_corpus"
READERS = {"narrow": {"cs.IT"}, "broad": {"cs.CV"}, "mixed": {"cs.CL", "cs.GR", "cs.GT"}}
DECISIONS = (10, 20, 50, 100)
TRAIN_DAYS = 3
NOISE = 0.10


def load() -> list[tuple[str, Paper]]:
    """(listing day, paper) for each paper, at the first day it was listed."""
    seen: set[str] = set()
    found = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        day = path.stem.rsplit("_", 1)[-1]
        for line in path.open(encoding="utf-8"):
            item = json.loads(line)
            if item["id"] in seen:
                continue  # a replacement on a later day
            seen.add(item["id"])
            found.append(
                (
                    day,
                    Paper(
                        id=item["id"],
                        title=" ".join(item["title"].split()),
                        abstract=" ".join(item["summary"].split()),
                        author_names=tuple(item.get("authors") or ()),
                        categories=tuple(item.get("categories") or ()),
                        arxiv_id=item["id"],
                    ),
                )
            )
    return found


def likes(reader: set[str], paper: Paper) -> bool:
    return bool(paper.categories) and paper.categories[0] in reader


def plain_model(train: list[Example], corpus: list[Paper]):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer().fit([p.title + " " + p.abstract for p in corpus])
    classifier = LogisticRegression(max_iter=1000).fit(
        vectorizer.transform([e.paper.title + " " + e.paper.abstract for e in train]),
        [e.label for e in train],
    )
    return lambda papers: classifier.predict_proba(
        vectorizer.transform([p.title + " " + p.abstract for p in papers])
    )[:, 1]


def similarity_model(train: list[Example], corpus: list[Paper]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english").fit(
        [p.title + " " + p.abstract for p in corpus]
    )
    liked = [e.paper for e in train if e.label == 1]
    centre = vectorizer.transform([p.title + " " + p.abstract for p in liked]).mean(axis=0)

    def score(papers):
        import numpy as np

        matrix = vectorizer.transform([p.title + " " + p.abstract for p in papers])
        return np.asarray(matrix @ centre.T).ravel()

    return score


def ours(train: list[Example], corpus: list[Paper]):
    model = InterestModel().fit(train, corpus)
    return model.score


def ours_text_only(train: list[Example], corpus: list[Paper]):
    # Without categories, authors or keywords: what the words alone give (the
    # simulated readers' interest is a set of categories, which the full model sees).
    model = InterestModel(meta_weight=0.0).fit(train, corpus)
    return model.score


def newest(train: list[Example], corpus: list[Paper]):
    return lambda papers: [float(p.id.replace(".", "")) for p in papers]


def random_order(train: list[Example], corpus: list[Paper]):
    rng = random.Random(len(train))
    return lambda papers: [rng.random() for _ in papers]


METHODS = {
    "random": random_order,
    "newest first": newest,
    "mean similarity": similarity_model,
    "TF-IDF + LR": plain_model,
    "paperdesk, words only": ours_text_only,
    "paperdesk": ours,
}


def decisions(pool: list[Paper], reader: set[str], count: int, rng: random.Random) -> list[Example]:
    liked = [p for p in pool if likes(reader, p)]
    other = [p for p in pool if not likes(reader, p)]
    half = min(count // 2, len(liked))
    chosen = [(p, 1) for p in rng.sample(liked, half)]
    chosen += [(p, 0) for p in rng.sample(other, count - half)]
    rng.shuffle(chosen)
    made = []
    for step, (paper, label) in enumerate(chosen):
        if rng.random() < NOISE:
            label = 1 - label  # a decision the reader would take back
        made.append(Example(paper, label, 1.0, f"2026-06-2{step:04d}"))
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"needs the corpus in {CORPUS}", file=sys.stderr)
        return 1
    data = load()
    days = sorted({d for d, _ in data})
    train_days, test_days = days[:TRAIN_DAYS], days[TRAIN_DAYS:]
    pool = [p for d, p in data if d in train_days]
    corpus = [p for _, p in data]
    print(f"{len(corpus):,} papers; train days {train_days[0]}..{train_days[-1]} ({len(pool):,}), "
          f"test days {test_days[0]}..{test_days[-1]}; {args.seeds} seeds\n")  # fmt: skip
    print("| reader | decisions | method | NDCG | MRR | P@10 | P@10 / random |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, reader in READERS.items():
        test = [(d, p) for d, p in data if d in test_days]
        positives = [p for _, p in test if likes(reader, p)]
        negatives = [p for _, p in test if not likes(reader, p)]
        base = len(positives) / len(test)
        for count in DECISIONS:
            for method, make in METHODS.items():
                ndcgs, mrrs, precisions = [], [], []
                for seed in range(args.seeds):
                    rng = random.Random(seed * 1000 + count)
                    train = decisions(pool, reader, count, rng)
                    if len({e.label for e in train}) < 2:
                        continue
                    score = make(train, corpus)
                    measure = rank_measure(score, positives, negatives, seed=seed)
                    ndcgs.append(measure.ndcg)
                    mrrs.append(measure.mrr)
                    for day in test_days:
                        papers = [p for d, p in test if d == day]
                        values = list(score(papers))
                        top = sorted(range(len(papers)), key=lambda i: -values[i])[:10]
                        precisions.append(sum(likes(reader, papers[i]) for i in top) / len(top))
                if not ndcgs:
                    continue
                p10 = statistics.mean(precisions)
                print(
                    f"| {name} | {count} | {method} | {statistics.mean(ndcgs):.3f} | "
                    f"{statistics.mean(mrrs):.3f} | {p10:.2f} | {p10 / base:.1f}× |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
