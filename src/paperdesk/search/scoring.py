"""Scoring: each match's relevance, as Whoosh's BM25F gives it, for every
document at once.

A compiled query adds its score to one float per document: every part of an
AND, the parts of an OR that match the document, the positive side of an AND
NOT, a term's BM25F score at its postings (computed with the same operations
on the same doubles as Whoosh's scorer, so the same results to the last
bit), a phrase as the AND of its words at its matches, a constant for a
numeric range, an ID prefix, a NOT and ``Every``. Filter terms at the top of
the query (``schema.FILTER_FIELDS``) select without ranking, as in Whoosh
with a filter. Only the matches' slots are read afterwards (``collect``).

An interest range (``interest:>=0.7``) scores as any range does; the
interest order itself is a column (``collect``), not part of the relevance.
"""

from __future__ import annotations

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh import query as wq
from whoosh.util.numeric import byte_to_length

from paperdesk.search.compiler import ScoreRange
from paperdesk.search.matching import is_null, mask
from paperdesk.search.postings import Postings, TermPostings
from paperdesk.search.schema import FILTER_FIELDS

# Field lengths are kept as one byte per document; this decodes them.
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def relevance(p: Postings, query: wq.Query) -> np.ndarray:
    """Every document's score for ``query`` (meaningful at its matches only)."""
    scores = np.zeros(p.doc_count)
    add_scores(p, ranked_part(query), scores, None)
    return scores


def ranked_part(query: wq.Query) -> wq.Query:
    """A query without its top-level filter terms (which select but do not rank)."""
    if type(query) is not wq.And:
        return query
    ranked = [
        sub
        for sub in query.subqueries
        if not (type(sub) is wq.Term and sub.fieldname in FILTER_FIELDS)
    ]
    if len(ranked) == len(query.subqueries):
        return query
    if not ranked:
        return wq.Every()
    return ranked[0] if len(ranked) == 1 else wq.And(ranked)


def add_scores(p: Postings, query: wq.Query, scores: np.ndarray, where: np.ndarray | None) -> None:
    """Add ``query``'s score to ``scores`` as Whoosh sums them (see the module);
    ``where`` narrows a term's postings to the documents an enclosing part
    matches (a phrase, an AND inside an OR)."""
    kind = type(query)
    if kind is wq.Term:
        postings = p.postings(query.fieldname, query.text)
        if not postings.ids:
            return
        at, term = postings.at, term_scores(p, query, postings)
        if where is not None:
            inside = where[at]
            at, term = at[inside], term[inside]
        scores[at] += term
    elif kind is wq.Phrase and query.boost == 1.0:
        # Whoosh scores a phrase as the AND of its words at the phrase's matches.
        found = mask(p, query) if where is None else where & mask(p, query)
        for word in query.words:
            add_scores(p, wq.Term(query.fieldname, word), scores, found)
    elif kind is wq.Every:
        scores[p.live() if where is None else where] += query.boost
    elif (
        (kind is wq.NumericRange and query.constantscore)
        or (kind is wq.Prefix and query.constantscore)
        or kind is ScoreRange
    ):  # a constant score, as Whoosh gives them (and an interest range, as any range)
        found = mask(p, query)
        scores[found if where is None else where & found] += query.boost
    elif kind is wq.Not:  # Whoosh's InverseMatcher: 1.0, whatever the boost
        found = mask(p, query)
        scores[found if where is None else where & found] += 1.0
    elif is_null(query):
        return
    elif kind is wq.AndNot:
        add_scores(p, query.a, scores, where)
    elif kind is wq.And and query.boost == 1.0:
        for sub in query.subqueries:
            add_scores(p, sub, scores, where)
    elif kind is wq.Or and query.boost == 1.0:
        for sub in query.subqueries:
            if type(sub) in (wq.And, wq.AndNot):
                # Its terms may be where it does not match: only where it does.
                found = mask(p, sub)
                add_scores(p, sub, scores, found if where is None else where & found)
            else:  # a term, an OR, a phrase: each adds only where it matches
                add_scores(p, sub, scores, where)
    else:
        raise TypeError(f"the engine cannot score {query!r} (see paperdesk.search.compiler)")


def term_scores(p: Postings, term: wq.Term, postings: TermPostings) -> np.ndarray:
    """The term's score at each of its postings, in their order (kept with them),
    computed as Whoosh's BM25F does for one document at a time: the same
    operations on the same doubles, so the same results to the last bit."""
    found = postings.scores.get(term.boost)
    if found is not None:
        return found
    searcher, field_name = p.searcher, term.fieldname
    weights = np.frombuffer(postings.weights, dtype=np.float32).astype(np.float64)
    if not searcher.schema[field_name].scorable:
        found = weights * term.boost
    else:
        idf, avgfl, b, k1 = _bm25_parameters(searcher, field_name, term.text)
        lengths = _LENGTH_OF_BYTE[p.field_lengths(field_name)[postings.at]]
        found = idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl)))
        found = found * term.boost
    postings.scores[term.boost] = found
    return found


def _bm25_parameters(searcher, field_name: str, text: object) -> tuple[float, float, float, float]:
    """Whoosh's BM25F parameters for one term: idf, the field's average length, B, K1."""
    weighting = searcher.weighting
    idf = searcher.idf(field_name, text)
    avgfl = searcher.avg_field_length(field_name) or 1
    b = weighting._field_B.get(field_name, weighting.B)
    return idf, avgfl, b, weighting.K1
