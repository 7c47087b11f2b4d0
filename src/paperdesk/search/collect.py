"""Collecting: what a search gives back, from a query's mask and scores.

The one ranking path for every query: the matches as a mask (``matching``),
then either their relevance (``scoring``) and the best ``limit`` of them, or
their values in a numeric sort column, highest first. Both stay in numpy
arrays up to the paper IDs, so the app's list of a million matches is cheap.
Ties go as Whoosh's collectors order them: by relevance, the lower document
first; by a column, the higher document first.
"""

from __future__ import annotations

from dataclasses import dataclass

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh import query as wq

from paperdesk.search.matching import mask
from paperdesk.search.postings import Postings
from paperdesk.search.scoring import relevance

_NO_SCORES = np.empty(0)
_NO_DOCS = np.empty(0, dtype=np.intp)


@dataclass
class Collected:
    """A search's matches: how many, and the first ``limit`` in order (document
    numbers, with their relevance or their sort column's values)."""

    total: int
    values: np.ndarray
    docs: np.ndarray


def collect(p: Postings, query: wq.Query, limit: int | None, column: str | None) -> Collected:
    """The matches of a compiled query: ranked by relevance (``column`` None) or
    by a numeric column, the first ``limit`` of them (None: all)."""
    matches = mask(p, query)
    if column is not None:
        if not matches.any():
            return Collected(0, _NO_SCORES, _NO_DOCS)
        total, values, docs = by_column(sort_values(p, column), matches, limit)
    else:
        total = int(np.count_nonzero(matches))
        if not total:
            return Collected(0, _NO_SCORES, _NO_DOCS)
        values, docs = top(relevance(p, query), matches, limit)
    return Collected(total, values, docs)


def sort_values(p: Postings, column: str) -> np.ndarray:
    """A sort column's values by document. Interest is the scores the search
    index loaded; papers without one come after every scored paper, newest first
    (a date YYYYMMDD is below 10**8)."""
    if column != "interest":
        return p.column(column)
    values = p.loaded_interest()
    return np.where(np.isnan(values), p.column("published_sort") / 1e8 - 2.0, values)


def top(
    scores: np.ndarray, matches: np.ndarray, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``limit`` best (scores, documents) of the matches, by score then lower
    document first. Only the scores at least the ``limit``-th best are sorted."""
    docs = np.flatnonzero(matches)
    found = scores[docs]
    if limit is not None:
        if limit <= 0:
            return _NO_SCORES, _NO_DOCS
        if len(found) > limit:
            floor = np.partition(found, len(found) - limit)[len(found) - limit]
            keep = found >= floor
            docs, found = docs[keep], found[keep]
    # The documents are in ascending order, so a stable sort keeps the lower
    # document first among equal scores.
    order = np.argsort(-found, kind="stable")[:limit]
    return found[order], docs[order]


def by_column(
    values: np.ndarray, matches: np.ndarray, limit: int | None
) -> tuple[int, np.ndarray, np.ndarray]:
    """(number of matches, their values, documents) by a numeric column, highest
    first, as Whoosh's sorting collector orders them: by the value, then the
    higher document first. Whoosh reads the value of every match one at a time
    (1M papers with "model": 430k matches, seconds); here the column is whole."""
    docs = np.flatnonzero(matches)
    if not len(docs):
        return 0, _NO_SCORES, _NO_DOCS
    keys = values[docs]
    # The documents are in ascending order, so a stable sort by value, read
    # backwards, puts the higher document first among equal values.
    order = np.argsort(keys, kind="stable")[::-1][:limit]
    return len(docs), keys[order], docs[order]
