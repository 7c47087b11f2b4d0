"""Your interest, learned from your decisions: the examples, the features, the
model and its measure (issue 20; `benchmarks/interest.py` measures it).

Pure computation on papers and decisions; nothing here reads or writes the
library. scikit-learn is imported by the functions that train or score (its
import alone takes about a second), so nothing that does not rank pays for it.

- **Examples.** A star is a positive, "not for me" a strong negative, a paper
  read without a star a weak one (READ_WEIGHT); each with the time it was
  decided, so a model can learn from a recent window and be measured on a
  time split.
- **Features.** TF-IDF of the title (twice) and the abstract, words and word
  pairs hashed into TEXT_COLUMNS columns (a paper's counts depend on its text
  alone, so the library's are kept between trainings); and tokens for the
  organisation, author names, categories and keywords where a source gave
  them, weighted by META_WEIGHT.
- **Model.** A logistic regression with balanced class weights and the
  examples' weights. Muted features (a term, an author, an organisation) can
  no longer raise a score: their weights are capped at zero.
- **Measure.** Scholar Inbox's protocol: each positive ranked against four
  negatives; NDCG and MRR of the positive.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paperdesk.model import Paper, normalise_title

if TYPE_CHECKING:
    from paperdesk.library.state import PaperState

READ_WEIGHT = 0.3  # a paper read without a star: a weak negative
META_WEIGHT = 0.5  # organisation, authors, categories, keywords against the text
MIN_POSITIVES = 5
MIN_NEGATIVES = 5
MIN_EXAMPLES = 20
WINDOW = 2000  # the most recent decisions a model learns from
# A library up to this size is vectorised whole; a larger one learns the
# words' rarity from its decided papers and a spread of the rest.
FIT_PAPERS = 20_000
SCORE_BATCH = 20_000  # papers scored (and written) at a time past FIT_PAPERS
MODEL_FORMAT = 2  # of the saved model (interest-model.pickle beside the library)


@dataclass(frozen=True)
class Example:
    paper: Paper
    label: int  # 1 liked, 0 not
    weight: float
    at: str  # when it was decided (ISO 8601), "" when unknown


def examples(papers: Iterable[Paper], states: Mapping[str, PaperState]) -> list[Example]:
    """What the decisions say, oldest first: stars, "not for me", read without a star."""
    found = []
    for paper in papers:
        got = states.get(paper.id)
        if paper.starred:
            found.append(Example(paper, 1, 1.0, (got.starred.at if got else None) or ""))
        elif paper.dismissed:
            found.append(Example(paper, 0, 1.0, (got.dismissed.at if got else None) or ""))
        elif paper.read:
            found.append(Example(paper, 0, READ_WEIGHT, (got.read.at if got else None) or ""))
    found.sort(key=lambda e: e.at)
    return found


def missing(found: Sequence[Example]) -> str | None:
    """Why there are too few decisions to learn from (and how many more), or None."""
    positives = sum(1 for e in found if e.label == 1)
    negatives = len(found) - positives
    needs = []
    if positives < MIN_POSITIVES:
        needs.append(f"{MIN_POSITIVES - positives} more starred")
    if negatives < MIN_NEGATIVES:
        needs.append(f"{MIN_NEGATIVES - negatives} more 'not for me' or read")
    if len(found) < MIN_EXAMPLES:
        needs.append(f"{MIN_EXAMPLES - len(found)} more decisions in all")
    if not needs:
        return None
    return "too few decisions to learn your interest: " + ", ".join(needs)


def text_of(paper: Paper) -> str:
    return f"{paper.title}\n{paper.title}\n{paper.abstract}"


def meta_of(paper: Paper) -> list[str]:
    """The paper's organisation, authors, categories and keywords as tokens."""
    tokens = [f"cat:{c.lower()}" for c in paper.categories]
    if paper.organization:
        tokens.append(f"org:{normalise_title(paper.organization)}")
    tokens += [f"au:{normalise_title(name)}" for name in paper.author_names[:30]]
    tokens += [f"kw:{normalise_title(k)}" for k in paper.keywords[:30]]
    return tokens


def _tokens(tokens: list[str]) -> list[str]:
    return tokens


# The words and word pairs are hashed into this many columns (no vocabulary to
# build, so a paper's counts never change and can be kept between trainings:
# ``word_counts``). Features that share a column are rare and weigh little.
TEXT_COLUMNS = 2**20


def _hasher():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        ngram_range=(1, 2),
        stop_words="english",
        strip_accents="unicode",
        alternate_sign=False,
        norm=None,
        n_features=TEXT_COLUMNS,
        dtype=_float32(),
    )


def word_counts(papers: Sequence[Paper]):
    """Each paper's words and word pairs (title twice, abstract), counted into
    TEXT_COLUMNS hashed columns: a sparse matrix, one row a paper. It depends on
    the papers' text alone, so it can be kept for papers that did not change."""
    return _hasher().transform([text_of(p) for p in papers])


def fingerprints(papers: Sequence[Paper]) -> list[int]:
    """A checksum of each paper's text: its kept ``word_counts`` row is still good
    while this is the same."""
    import zlib

    return [zlib.crc32(text_of(p).encode("utf-8")) for p in papers]


def counts_for(papers: Sequence[Paper], kept: tuple[Any, Any, Any] | None):
    """The papers' ``word_counts``, reusing the rows of ``kept`` (IDs, their
    fingerprints, their counts) whose text is unchanged: a retrain counts only
    the papers that are new or changed. Returns the counts and what to keep
    (the same triple for these papers)."""
    import numpy as np
    from scipy.sparse import csr_matrix, vstack

    ids = np.array([p.id for p in papers], dtype=object).astype("S")
    prints = np.array(fingerprints(papers), dtype=np.uint32)
    rows = np.full(len(papers), -1, dtype=np.int64)
    if kept is not None and len(kept[0]) and len(papers):
        kept_ids, kept_prints, _ = kept
        width = max(ids.dtype.itemsize, kept_ids.dtype.itemsize)
        wanted, known = ids.astype(f"S{width}"), kept_ids.astype(f"S{width}")
        order = np.argsort(known, kind="stable")
        at = np.searchsorted(known[order], wanted).clip(max=len(known) - 1)
        found = order[at]
        same = (known[found] == wanted) & (kept_prints[found] == prints)
        rows[same] = found[same]
    fresh = np.flatnonzero(rows < 0)
    if kept is not None and not len(fresh):
        counts = kept[2][rows]
    else:
        counted = word_counts([papers[int(i)] for i in fresh]) if len(fresh) else None
        parts, source = [], np.empty(len(papers), dtype=np.int64)
        reused = np.flatnonzero(rows >= 0)
        if len(reused):
            parts.append(kept[2][rows[reused]])  # type: ignore[index]
        if counted is not None:
            parts.append(counted)
        stacked = vstack(parts, format="csr") if parts else csr_matrix((0, TEXT_COLUMNS))
        # Back into the papers' order: reused rows first in ``stacked``, then fresh.
        source[reused] = np.arange(len(reused))
        source[fresh] = len(reused) + np.arange(len(fresh))
        counts = stacked[source]
    return counts.astype(np.float32), (ids, prints, counts)


def _columns_of(names: Sequence[str]) -> list[int]:
    """The hashed column of each word or word pair."""
    from sklearn.feature_extraction import FeatureHasher

    hashed = FeatureHasher(
        TEXT_COLUMNS, input_type="string", alternate_sign=False, dtype=_float32()
    ).transform([[name] for name in names])
    return hashed.indices.tolist()


def _names_in(papers: Sequence[Paper]) -> dict[int, str]:
    """The words and pairs of these papers, by hashed column (the first seen)."""
    analyse = _hasher().build_analyzer()
    found: dict[str, None] = {}
    for paper in papers:
        found.update(dict.fromkeys(analyse(text_of(paper))))
    names = list(found)
    columns = _columns_of(names)
    named: dict[int, str] = {}
    for column, name in zip(columns, names, strict=True):
        named.setdefault(column, name)
    return named


@dataclass
class InterestModel:
    """TF-IDF and metadata features, a weighted, class-balanced logistic regression."""

    muted: frozenset[str] = frozenset()
    C: float = 4.0
    meta_weight: float = META_WEIGHT
    _idf: Any = field(default=None, repr=False)
    _meta: Any = field(default=None, repr=False)
    _classifier: Any = field(default=None, repr=False)
    _meta_names: list[str] = field(default_factory=list, repr=False)
    # The named features with the largest weights, each way (``strongest``).
    _top: list[tuple[str, float]] = field(default_factory=list, repr=False)
    # The scores of the corpus ``fit`` was given, in its order (not saved).
    corpus_scores: Any = field(default=None, repr=False)

    def fit(
        self, found: Sequence[Example], corpus: Sequence[Paper] = (), counts: Any = None
    ) -> InterestModel:
        """Learn from the examples (the newest WINDOW); ``corpus`` (the library)
        gives the words their rarity, so a word every paper has weighs little;
        ``counts``: the corpus's ``word_counts``, if kept from before. The
        corpus is vectorised once: ``corpus_scores`` are its papers' scores,
        in its order (not saved with the model)."""
        from scipy.sparse import hstack, vstack
        from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        recent = list(found)[-WINDOW:]
        papers = list(corpus) or [e.paper for e in recent]
        if counts is None or counts.shape[0] != len(papers):
            counts = word_counts(papers)
        else:
            counts = counts.copy()  # (the transformer scales it in place)
        self._idf = TfidfTransformer(sublinear_tf=True).fit(counts)
        matrix = self._idf.transform(counts)
        metadata = [meta_of(p) for p in papers]
        # A library of text pages alone has no metadata: then the words are all.
        self._meta = None
        self._meta_names = []
        if any(metadata) and self.meta_weight > 0:
            self._meta = TfidfVectorizer(
                analyzer=_tokens, dtype=_float32(), min_df=1, lowercase=False
            )
            matrix = hstack(
                [matrix, self._meta.fit_transform(metadata) * self.meta_weight], format="csr"
            )
            self._meta_names = list(self._meta.get_feature_names_out())
        else:
            matrix = matrix.tocsr()
        row_of = {p.id: index for index, p in enumerate(papers)}
        inside = [e for e in recent if e.paper.id in row_of]
        outside = [e for e in recent if e.paper.id not in row_of]
        rows = [matrix[[row_of[e.paper.id] for e in inside]]] if inside else []
        if outside:
            rows.append(self._features([e.paper for e in outside]))
        ordered = [*inside, *outside]
        self._classifier = LogisticRegression(
            C=self.C, class_weight="balanced", max_iter=2000, solver="liblinear"
        ).fit(
            vstack(rows, format="csr"),
            [e.label for e in ordered],
            sample_weight=[e.weight for e in ordered],
        )
        self._apply_mutes()
        self._top = self._named_top([e.paper for e in ordered])
        self.corpus_scores = self._classifier.predict_proba(matrix)[:, 1]
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("corpus_scores", None)  # the library keeps the scores
        return state

    def _features(self, papers: Sequence[Paper]):
        from scipy.sparse import hstack

        text = self._idf.transform(word_counts(papers))
        if self._meta is None:
            return text.tocsr()
        meta = self._meta.transform([meta_of(p) for p in papers]) * self.meta_weight
        return hstack([text, meta], format="csr")

    def _name(self, column: int, text_names: dict[int, str]) -> str | None:
        if column >= TEXT_COLUMNS:
            return self._meta_names[column - TEXT_COLUMNS]
        return text_names.get(column)

    def _apply_mutes(self) -> None:
        if not self.muted:
            return
        coef = self._classifier.coef_[0]
        meta = {name: TEXT_COLUMNS + i for i, name in enumerate(self._meta_names)}
        words = [name for name in self.muted if name not in meta]
        columns = [meta[name] for name in self.muted if name in meta] + _columns_of(words)
        for column in columns:
            if coef[column] > 0:
                coef[column] = 0.0

    def _named_top(self, examples: Sequence[Paper], k: int = 50) -> list[tuple[str, float]]:
        """The largest weights each way, named (a weight is learned only where an
        example has the feature, so the examples' words name them all)."""
        import numpy as np

        coef = self._classifier.coef_[0]
        order = np.argsort(coef)
        wanted = [int(i) for i in (*order[::-1][:k], *order[:k]) if coef[i] != 0]
        text_names = _names_in(examples) if any(i < TEXT_COLUMNS for i in wanted) else {}
        top = []
        for column in wanted:
            name = self._name(column, text_names)
            if name is not None:
                top.append((name, float(coef[column])))
        return top

    def score(self, papers: Sequence[Paper]):
        """Each paper's interest in [0, 1] (a numpy array, in the order given)."""
        if not papers:
            import numpy as np

            return np.zeros(0)
        return self._classifier.predict_proba(self._features(papers))[:, 1]

    def strongest(self, k: int = 10) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The features that raise scores the most, and those that lower them most."""
        up = sorted((t for t in self._top if t[1] > 0), key=lambda t: -t[1])[:k]
        down = sorted((t for t in self._top if t[1] < 0), key=lambda t: t[1])[:k]
        return up, down

    def why(self, paper: Paper, k: int = 3) -> list[tuple[str, float]]:
        """The features that raised or lowered this paper's score the most."""
        row = self._features([paper])
        coef = self._classifier.coef_[0]
        text_names = _names_in([paper])
        parts = []
        for index, value in zip(row.indices.tolist(), row.data.tolist(), strict=True):
            name = self._name(index, text_names) if coef[index] != 0 else None
            if name is not None:
                parts.append((name, float(value * coef[index])))
        up = sorted((p for p in parts if p[1] > 0), key=lambda p: -p[1])[:k]
        down = sorted((p for p in parts if p[1] < 0), key=lambda p: p[1])[: max(1, k // 2)]
        return [*up, *down]


def why_line(reasons: Sequence[tuple[str, float]]) -> str:
    """ "+ reinforcement learning, + policy, − vision": what moved a score."""
    return ", ".join(f"{'+' if value > 0 else '−'} {name}" for name, value in reasons)


def _float32():
    import numpy as np

    return np.float32


# --- the measure --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    ndcg: float
    mrr: float
    trials: int


def rank_measure(
    scores: Callable[[Sequence[Paper]], Sequence[float]],
    positives: Sequence[Paper],
    negatives: Sequence[Paper],
    *,
    per_positive: int = 4,
    seed: int = 0,
) -> Measure:
    """Scholar Inbox's protocol: each positive ranked against ``per_positive``
    random negatives; the NDCG and MRR of the positive (ties count against it)."""
    rng = random.Random(seed)
    if not positives or len(negatives) < per_positive:
        return Measure(float("nan"), float("nan"), 0)
    ndcg = mrr = 0.0
    for positive in positives:
        group = [positive, *rng.sample(list(negatives), per_positive)]
        values = list(scores(group))
        rank = 1 + sum(1 for v in values[1:] if v >= values[0])
        ndcg += 1.0 / math.log2(rank + 1)
        mrr += 1.0 / rank
    return Measure(ndcg / len(positives), mrr / len(positives), len(positives))


# --- the user's own measure -------------------------------------------------------------------

TEST_SHARE = 0.3  # the newest decisions, held out


@dataclass(frozen=True)
class Report:
    trained_on: int
    tested_on: int
    model: Measure
    random: Measure


def time_split_report(
    found: Sequence[Example], corpus: Sequence[Paper], muted: frozenset[str] = frozenset()
) -> Report | str:
    """Train on the older decisions, rank the newer ones: each newer liked paper
    against 4 newer ones not liked (Scholar Inbox's protocol), beside random
    scores; or why that cannot be done yet."""
    strong = [e for e in found if e.weight >= 1.0 or e.label == 1]
    cut = int(len(found) * (1 - TEST_SHARE))
    train, test = list(found[:cut]), list(found[cut:])
    why = missing(train)
    positives = [e.paper for e in test if e.label == 1]
    negatives = [e.paper for e in test if e.label == 0]
    if why or not positives or len(negatives) < 4 or not strong:
        need = why or "the newest 30% of your decisions need a star and 4 papers not liked"
        return f"cannot measure yet: {need}"
    model = InterestModel(muted=muted).fit(train, corpus)
    rng = random.Random(7)
    return Report(
        len(train),
        len(test),
        rank_measure(model.score, positives, negatives),
        rank_measure(lambda papers: [rng.random() for _ in papers], positives, negatives),
    )
