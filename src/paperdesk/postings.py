"""Matching and ranking straight from the posting lists, for one searcher.

Whoosh finds matches by walking its matchers a posting at a time, in Python:
an AND of three common words with a hundred matches cost 100 ms at 100k
papers, a single common word 70 ms. Here a query is answered in two steps:

1. **The exact matches**, as a set: each term's posting list is read a block
   at a time and the sets are combined (AND, OR, NOT); phrases are checked
   only at the documents that have all their words. The number of matches is
   the search's total.
2. **The ranking**: for queries made of terms and phrases (words, fields,
   expansions, filters), the BM25F score of each match is summed from its
   terms' weights and the field lengths, exactly as Whoosh's scorer computes
   it (a phrase scores as the AND of its words); other queries (numeric
   ranges) are scored by Whoosh's own matchers, moved straight to each match
   instead of walking the lists.

Posting lists are cached for the life of the searcher, up to a budget, most
recently used kept (``is:unread`` and ``published:2024`` come back often).
Like ``paperdesk.index``, this module may import ``whoosh``.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence

from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.matching import IntersectionMatcher, ListMatcher, NullMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query.wrappers import WrappingQuery
from whoosh.support.levenshtein import damerau_levenshtein
from whoosh.util.numeric import byte_to_length, length_to_byte

# Fields whose terms only select (state, tags, coarse dates): they narrow the
# matches but add nothing to a paper's rank.
FILTER_FIELDS = frozenset({"state", "tag", "year", "month", "host"})
# Postings kept in the cache: 8 bytes each in arrays, ~60 more once a term's set is
# taken (at 1M papers "model" alone has 440k). Least recently used go first.
CACHE_POSTINGS = 3_000_000
# Phrase matches kept (they are small: the documents where the words stand together).
CACHE_PHRASES = 64
# A query Whoosh has to score with its own matchers is moved straight to each of
# its matches when there are at most this many; past it Whoosh's block-skipping
# top-N collector is faster.
CANDIDATE_SCORING_LIMIT = 2_000
# Field lengths are kept as one byte per document; this decodes them.
_LENGTH_OF_BYTE = [byte_to_length(b) for b in range(256)]

Ranked = list[tuple[float, int]]  # (score, document number), best first


def text_of(term: object) -> str:
    """An index term or stored value as text (Whoosh gives bytes or str)."""
    return term.decode("utf-8") if isinstance(term, bytes) else str(term)


class TermPostings:
    """One term's postings over the whole index: sorted document numbers and weights."""

    __slots__ = ("ids", "weights", "scores", "_docs")

    def __init__(self, ids: array, weights: array) -> None:
        self.ids = ids
        self.weights = weights
        # The term's score at each posting, per query boost (see Postings._term_scores).
        self.scores: dict[float, array] = {}
        self._docs: frozenset[int] | None = None

    @property
    def docs(self) -> frozenset[int]:
        if self._docs is None:
            self._docs = frozenset(self.ids)
        return self._docs


class Postings:
    """Exact match sets and rankings for queries on one searcher (see the module)."""

    def __init__(self, searcher, cache_postings: int = CACHE_POSTINGS) -> None:
        self.searcher = searcher
        self.leaves = list(searcher.leaf_searchers())
        self._cache: OrderedDict[tuple[str, object], TermPostings] = OrderedDict()
        self._cached = 0
        self._budget = cache_postings
        self._all: frozenset[int] | None = None
        self._phrases: OrderedDict[tuple, frozenset[int]] = OrderedDict()
        self._lengths: dict[str, bytes] = {}
        self._ids_column = None

    # --- matches ---------------------------------------------------------------------

    def of(self, query: wq.Query) -> frozenset[int] | set[int]:
        """The documents ``query`` matches, exactly."""
        if isinstance(query, wq.Term):
            return self.term(query.fieldname, query.text)
        if isinstance(query, wq.Every):
            return self.everything()
        if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
            return frozenset()
        if isinstance(query, wq.AndNot):
            return set(self.of(query.a)) - self.of(query.b)
        if isinstance(query, wq.Not):
            return set(self.everything()) - self.of(query.query)
        if isinstance(query, wq.And):
            sets = sorted((self.of(sub) for sub in query.subqueries), key=len)
            result = set(sets[0]) if sets else set()
            for other in sets[1:]:
                if not result:
                    break
                result &= other
            return result
        if isinstance(query, wq.Or):
            result = set()
            for sub in query.subqueries:
                result |= self.of(sub)
            return result
        if isinstance(query, wq.NumericRange):
            simple = query.simplify(self.searcher.reader())
            if not isinstance(simple, wq.NumericRange):
                return self.of(simple)
        if isinstance(query, wq.Phrase) and query.words:
            return self._phrase(query)
        return set(self.searcher.docs_for_query(query))

    def _phrase(self, query: wq.Phrase) -> frozenset[int]:
        """The documents with every word, then the positions checked in those only.
        Kept (a few, most recent): a phrase is asked for again to be ranked, and
        again as the user types on."""
        key = (query.fieldname, tuple(query.words), query.slop, query.boost)
        found = self._phrases.get(key)
        if found is not None:
            self._phrases.move_to_end(key)
            return found
        sets = sorted((self.term(query.fieldname, word) for word in query.words), key=len)
        candidates = set(sets[0])
        for other in sets[1:]:
            candidates &= other
        if query.slop == 1 and query.boost == 1.0:
            found = frozenset(self._phrase_docs(query.fieldname, list(query.words), candidates))
        else:
            found = frozenset(self.verified(query, candidates))
        self._phrases[key] = found
        if len(self._phrases) > CACHE_PHRASES:
            self._phrases.popitem(last=False)
        return found

    def _phrase_docs(self, field_name: str, words: list, candidates: set[int]) -> set[int]:
        """The candidates where the words stand next to each other, in order.

        Each word's posting list is moved straight to the candidates and their
        positions compared as sets: Whoosh's span matchers cost 70 us a candidate.
        """
        found: set[int] = set()
        for leaf, offset, local in self._by_leaf(candidates):
            reader = leaf.reader()
            decode = reader.schema[field_name].format.decoder("positions")
            values: list[dict[int, bytes]] = []
            for word in words:
                matcher = reader.postings(field_name, word)
                while isinstance(matcher, FilterMatcher):
                    matcher = matcher.child
                at: dict[int, bytes] = {}
                for doc in local:
                    if not matcher.is_active():
                        break
                    matcher.skip_to(doc)
                    if matcher.is_active() and matcher.id() == doc:
                        at[doc] = matcher.value()
                values.append(at)
            for doc in local:
                if not all(doc in at for at in values):
                    continue
                starts = set(decode(values[0][doc]))
                for i, at in enumerate(values[1:], start=1):
                    starts &= {position - i for position in decode(at[doc])}
                    if not starts:
                        break
                if starts:
                    found.add(offset + doc)
        return found

    def term(self, field_name: str, text: object) -> frozenset[int]:
        return self.postings(field_name, text).docs

    def everything(self) -> frozenset[int]:
        if self._all is None:
            self._all = frozenset(
                offset + docnum
                for leaf, offset in self.leaves
                for docnum in leaf.reader().all_doc_ids()
            )
        return self._all

    def within(self, query: wq.Query, docs: Iterable[int]) -> wq.Query:
        """``query`` matched (and scored) only at ``docs``, which it must match."""
        return _Within(query, {id(leaf): local for leaf, _offset, local in self._by_leaf(docs)})

    def _by_leaf(self, docs: Iterable[int]) -> Iterator[tuple[object, int, list[int]]]:
        """(segment searcher, its offset, its document numbers among ``docs``, sorted)
        for each segment that has any."""
        ordered = sorted(docs)
        for leaf, offset in self.leaves:
            start = bisect_left(ordered, offset)
            end = bisect_left(ordered, offset + leaf.doc_count_all())
            if start < end:
                yield leaf, offset, [doc - offset for doc in ordered[start:end]]

    def verified(self, query: wq.Query, candidates: Iterable[int]) -> set[int]:
        """The candidates ``query`` really matches."""
        within = self.within(query, candidates)
        found: set[int] = set()
        for leaf, offset in self.leaves:
            matcher = within.matcher(leaf, leaf.context(needs_current=False))
            found.update(offset + docnum for docnum in matcher.all_ids())
        return found

    # --- ranking ---------------------------------------------------------------------

    def ranked(
        self, query: wq.Query, matches: set[int] | frozenset[int], limit: int | None
    ) -> Ranked | None:
        """The best ``limit`` matches by BM25F score (ties: lower document first).

        ``matches`` must be what ``of(query)`` returned. Filter terms at the top
        of the query select without ranking, as in Whoosh with a filter. None
        when Whoosh's own top-N search is the faster way (a phrase or a range
        with many matches).
        """
        ranked = ranked_part(query)
        if _only_terms(ranked):
            scores = dict.fromkeys(matches, 0.0)
            # Without filters taken off, the matches are all of the ranked part's.
            self._add_scores(ranked, matches, scores, covers=ranked is query)
        elif len(matches) <= CANDIDATE_SCORING_LIMIT:
            scores = self._matcher_scores(ranked, matches)
        else:
            return None
        return best(scores, limit)

    def term_union(self, query: wq.Query) -> dict[int, float] | None:
        """Every match of a word or an OR of terms with its score, or None for
        another query.

        The common single-word search (``models``: an OR of the word in title,
        abstract and organisation) needs no match set: the scores are summed
        over each term's postings and the matches are the documents scored.
        """
        terms = _or_terms(query)
        if terms is None:
            return None
        scores: dict[int, float] = {}
        for term in terms:
            postings = self.postings(term.fieldname, term.text)
            term_scores = self._term_scores(term, postings)
            if not scores:
                scores = dict(zip(postings.ids, term_scores, strict=True))
                continue
            get = scores.get
            for doc, score in zip(postings.ids, term_scores, strict=True):
                scores[doc] = get(doc, 0.0) + score
        return scores

    def _add_scores(self, query: wq.Query, docs, scores: dict[int, float], covers: bool) -> None:
        """Add ``query``'s score at each of ``docs`` (which all match it), as Whoosh
        sums them: every part of an AND, the parts of an OR that match the
        document, the positive side of an AND NOT, a term's BM25F score.
        ``covers``: ``docs`` are all the query's matches, not some of them."""
        if isinstance(query, wq.Term):
            self._add_term(query, docs, scores, covers)
        elif isinstance(query, wq.Phrase):
            # Whoosh scores a phrase as the AND of its words (its span matcher
            # wraps their intersection).
            for word in query.words:
                self._add_term(wq.Term(query.fieldname, word), docs, scores, covers=False)
        elif isinstance(query, wq.Every):
            for doc in docs:
                scores[doc] += query.boost
        elif isinstance(query, wq.AndNot):
            self._add_scores(query.a, docs, scores, covers=False)
        elif isinstance(query, wq.And):
            for sub in query.subqueries:
                self._add_scores(sub, docs, scores, covers=False)
        elif isinstance(query, wq.Or):
            for sub in query.subqueries:
                if isinstance(sub, wq.Term):  # adds only where the term is
                    self._add_term(sub, docs, scores, covers)
                else:
                    self._add_scores(sub, docs & self.of(sub), scores, covers=False)

    def _add_term(self, term: wq.Term, docs, scores: dict[int, float], covers: bool) -> None:
        """Add a term's score at those of ``docs`` that have it (at every posting
        of it when ``docs`` covers them)."""
        postings = self.postings(term.fieldname, term.text)
        ids = postings.ids
        if not ids or not docs:
            return
        if not covers and len(docs) * 16 < len(ids):
            # A few documents in a long list: found by bisection, scored one by one.
            score_at = self._pair_scorer(term)
            lengths = self._field_lengths(term.fieldname)
            weights, count = postings.weights, len(ids)
            for doc in docs:
                at = bisect_left(ids, doc)
                if at < count and ids[at] == doc:
                    scores[doc] += score_at(lengths[doc], weights[at])
            return
        term_scores = self._term_scores(term, postings)
        if covers:
            for doc, score in zip(ids, term_scores, strict=True):
                scores[doc] += score
        else:
            for doc, score in zip(ids, term_scores, strict=True):
                if doc in docs:
                    scores[doc] += score

    def _term_scores(self, term: wq.Term, postings: TermPostings) -> array:
        """The term's score at each of its postings, in their order (kept with them).

        A BM25F score depends on the document only through the term's weight in
        it and the field's length byte: each pair that occurs is scored once and
        the scores looked up in C.
        """
        found = postings.scores.get(term.boost)
        if found is not None:
            return found
        score_at = self._pair_scorer(term)
        lengths = self._field_lengths(term.fieldname)
        length_bytes = bytes(map(lengths.__getitem__, postings.ids))
        pairs = list(zip(length_bytes, postings.weights, strict=True))
        table = {pair: score_at(*pair) for pair in set(pairs)}
        found = array("d", map(table.__getitem__, pairs))
        postings.scores[term.boost] = found
        return found

    def _pair_scorer(self, term: wq.Term) -> Callable[[int, float], float]:
        """The term's score (boost included) as a function of a document's length
        byte for the field and the term's weight in it, as Whoosh computes it."""
        searcher, field_name, boost = self.searcher, term.fieldname, term.boost
        if not searcher.schema[field_name].scorable:
            return lambda _length_byte, weight: weight * boost
        score = _bm25_of(searcher, searcher.weighting, field_name, term.text)
        return lambda length_byte, weight: score(length_byte, weight) * boost

    def _matcher_scores(self, query: wq.Query, matches) -> dict[int, float]:
        """Scores from Whoosh's own matchers, each moved straight to the matches."""
        within = self.within(query, matches)
        scores: dict[int, float] = {}
        for leaf, offset in self.leaves:
            matcher = within.matcher(leaf, leaf.context(needs_current=True))
            while matcher.is_active():
                scores[offset + matcher.id()] = matcher.score()
                matcher.next()
        return scores

    def _field_lengths(self, field_name: str) -> bytes:
        """Every document's length byte for a field, in document order."""
        lengths = self._lengths.get(field_name)
        if lengths is None:
            parts = []
            for leaf, _offset in self.leaves:
                parts.append(_leaf_lengths(leaf.reader(), field_name, leaf.doc_count_all()))
            lengths = self._lengths[field_name] = b"".join(parts)
        return lengths

    def key_of(self, doc: int) -> str:
        """A document's paper ID, from the ``id`` column.

        The column reader is kept: opening it reads every document's offset
        (10 ms at 100k papers, 100 ms at 1M), once per searcher, not per search.
        """
        if self._ids_column is None:
            self._ids_column = self.searcher.reader().column_reader("id")
        return text_of(self._ids_column[doc])

    # --- the cache -------------------------------------------------------------------

    def postings(self, field_name: str, text: object) -> TermPostings:
        key = (field_name, text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        found = self._read(field_name, text)
        self._cache[key] = found
        self._cached += len(found.ids)
        while self._cached > self._budget and len(self._cache) > 1:
            _key, dropped = self._cache.popitem(last=False)
            self._cached -= len(dropped.ids)
        return found

    def _read(self, field_name: str, text: object) -> TermPostings:
        ids = array("I")
        weights = array("f")
        for leaf, offset in self.leaves:
            reader = leaf.reader()
            if field_name not in reader.schema or (field_name, text) not in reader:
                continue
            matcher = reader.postings(field_name, text)
            while isinstance(matcher, FilterMatcher):
                matcher = matcher.child  # deletions are taken out below
            deleted = reader.deleted_docs_set if reader.has_deletions() else None
            for block_ids, block_weights in _blocks(matcher):
                if deleted and not deleted.isdisjoint(block_ids):
                    kept = [i for i, doc in enumerate(block_ids) if doc not in deleted]
                    block_ids = [block_ids[i] for i in kept]
                    block_weights = [block_weights[i] for i in kept]
                if offset or not isinstance(block_ids, array) or block_ids.typecode != "I":
                    block_ids = map(offset.__add__, block_ids)
                ids.extend(block_ids)
                weights.extend(block_weights)
        return TermPostings(ids, weights)


def _blocks(matcher) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """A posting list's document numbers and weights, a block at a time when possible
    (as the arrays ``paperdesk.codec`` decodes)."""
    if not all(
        hasattr(matcher, name) for name in ("_read_ids", "_read_weights", "_next_block", "_i")
    ):
        ids, weights = [], []  # another matcher (an inlined list): the generic way
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights
        return
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._weights is None:
            matcher._read_weights()
        start = matcher._i
        if start:
            yield matcher._ids[start:], matcher._weights[start:]
        else:
            yield matcher._ids, matcher._weights
        matcher._next_block()


def _leaf_lengths(reader, field_name: str, doc_count: int) -> bytes:
    """One segment's length bytes for a field (0 where a document has none).

    Whoosh's codec keeps them as a column of one byte per document: it is read
    whole. Another reader is asked document by document.
    """
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        column = perdoc._cached_reader(_lenfield(field_name), LENGTHS_COLUMN)
    if column is not None and getattr(column, "_fixedlen", None) == 1:
        count = min(column._count, doc_count)
        raw = column._dbfile.get(column._basepos, count)
        return bytes(raw) + bytes(doc_count - count)
    lengths = bytearray(doc_count)
    for docnum in range(doc_count):
        length = reader.doc_field_length(docnum, field_name, 0) or 0
        lengths[docnum] = length_to_byte(length)
    return bytes(lengths)


def _bm25_of(searcher, weighting, field_name: str, text: object):
    """Whoosh's BM25F score of one term in one document, as a function of the
    document's length byte for the field and the term's weight in it."""
    idf = searcher.idf(field_name, text)
    avgfl = searcher.avg_field_length(field_name) or 1
    b = weighting._field_B.get(field_name, weighting.B)
    k1 = weighting.K1
    length_of = _LENGTH_OF_BYTE

    def score(length_byte: int, tf: float) -> float:
        fl = length_of[length_byte]
        return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))

    return score


def best(scores: dict[int, float], limit: int | None) -> Ranked:
    """The ``limit`` best (score, document), by score then lower document first.

    The ``limit``-th best score is found first (``nlargest`` on bare floats runs
    in C), so only the documents scoring at least that are decorated and sorted.
    """
    if limit is not None and len(scores) > 8 * limit:
        if limit <= 0:
            return []
        floor = heapq.nlargest(limit, scores.values())[-1]
        pool = [(score, doc) for doc, score in scores.items() if score >= floor]
    else:
        pool = [(score, doc) for doc, score in scores.items()]
    pool.sort(key=lambda pair: (-pair[0], pair[1]))
    return pool if limit is None else pool[:limit]


def _only_terms(query: wq.Query) -> bool:
    """Whether a query is made of terms and phrases joined by AND, OR and AND NOT
    (scored here); anything else (ranges, NOT alone, boosted groups) is left to
    Whoosh."""
    if isinstance(query, (wq.Term, wq.Every)):
        return type(query) in (wq.Term, wq.Every)
    if type(query) is wq.Phrase:
        return bool(query.words) and query.slop == 1 and query.boost == 1.0
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return True
    if type(query) is wq.AndNot:
        return _only_terms(query.a)
    if type(query) in (wq.And, wq.Or):
        return query.boost == 1.0 and all(_only_terms(sub) for sub in query.subqueries)
    return False


def _or_terms(query: wq.Query) -> list[wq.Term] | None:
    """The terms of a term or of (nested) ORs of terms, or None for another query."""
    if type(query) is wq.Term:
        return [query]
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return []
    if type(query) is not wq.Or or query.boost != 1.0:
        return None
    terms: list[wq.Term] = []
    for sub in query.subqueries:
        found = _or_terms(sub)
        if found is None:
            return None
        terms.extend(found)
    return terms


def ranked_part(query: wq.Query) -> wq.Query:
    """A query without its top-level filter terms (which select but do not rank)."""
    if not isinstance(query, wq.And):
        return query
    ranked = [
        sub
        for sub in query.subqueries
        if not (isinstance(sub, wq.Term) and sub.fieldname in FILTER_FIELDS)
    ]
    if len(ranked) == len(query.subqueries):
        return query
    if not ranked:
        return wq.Every()
    return ranked[0] if len(ranked) == 1 else wq.And(ranked)


def split_filters(query: wq.Query, postings: Postings) -> tuple[wq.Query, set[int] | None]:
    """Split a top-level AND into the part that ranks and a set of allowed documents."""
    if not isinstance(query, wq.And):
        return query, None
    ranked: list[wq.Query] = []
    allowed: set[int] | None = None
    for sub in query.subqueries:
        if isinstance(sub, wq.Term) and sub.fieldname in FILTER_FIELDS:
            docs = postings.of(sub)
            # A fresh set (Whoosh takes a set, not a frozenset): the cache stays intact.
            allowed = set(docs) if allowed is None else allowed & docs
        else:
            ranked.append(sub)
    if allowed is None:
        return query, None
    if not ranked:
        return wq.Every(), allowed
    return (ranked[0] if len(ranked) == 1 else wq.And(ranked)), allowed


class _Candidates(ListMatcher):
    """A sorted list of document numbers that adds nothing to the score."""

    def skip_to(self, id):
        self._i = bisect_left(self._ids, id, self._i)

    def score(self):
        return 0.0

    def max_quality(self):
        return 0.0

    def supports_block_quality(self):
        return False

    def replace(self, minquality=0):
        return self if self.is_active() else NullMatcher()


class _Within(WrappingQuery):
    """A query matched only at given documents (per segment), which it must match.

    The segment's matcher is intersected with the candidates, so it moves by
    ``skip_to`` straight to each of them instead of walking its posting lists
    from match to match; scores are the query's own.
    """

    def __init__(self, child: wq.Query, by_leaf: dict[int, list[int]]) -> None:
        self.child = child
        self.by_leaf = by_leaf

    def _rewrap(self, child: wq.Query) -> _Within:
        return _Within(child, self.by_leaf)

    def matcher(self, searcher, context=None):
        docs = self.by_leaf.get(id(searcher))
        if not docs:
            return NullMatcher()
        inner = self.child.matcher(searcher, context)
        if not inner.is_active():
            return NullMatcher()
        return IntersectionMatcher(_Candidates(docs), inner)


# --- near words (fuzzy words and "did you mean") -----------------------------------------


def near_words(reader, field_name: str, text: str, maxdist: int, prefix: int = 1) -> list[str]:
    """The field's words within ``maxdist`` Damerau-Levenshtein edits of ``text``
    that share its first ``prefix`` characters: ``reader.terms_within``, faster.

    Whoosh measures the distance to every word with the prefix, reading the term
    list each time (0.4 s for one fuzzy word at 100k papers). The words are read
    once per reader and grouped by length, and only words of a length within
    ``maxdist`` are measured (distance 1 by a direct comparison).
    """
    vocabulary = reader.__dict__.setdefault("_paperdesk_words", {})
    key = (field_name, text[:prefix])
    by_length = vocabulary.get(key)
    if by_length is None:
        by_length = {}
        for term in reader.expand_prefix(field_name, text[:prefix]):
            word = text_of(term)
            by_length.setdefault(len(word), []).append(word)
        vocabulary[key] = by_length
    found: list[str] = []
    for length in range(len(text) - maxdist, len(text) + maxdist + 1):
        for word in by_length.get(length, ()):
            if maxdist == 1:
                if _within_one(text, word):
                    found.append(word)
            elif damerau_levenshtein(word, text, limit=maxdist) <= maxdist:
                found.append(word)
    return found


def _within_one(a: str, b: str) -> bool:
    """Whether two words are at most one edit apart (adjacent swaps count as one)."""
    if a == b:
        return True
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > 1:
        return False
    i = 0
    shorter = len(b)
    while i < shorter and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        rest = i + 1
        return a[rest:] == b[rest:] or (
            a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]
        )
    return a[i + 1 :] == b[i:]
