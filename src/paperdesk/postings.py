"""Matching and ranking straight from the posting lists, for one searcher.

Whoosh finds matches by walking its matchers a posting at a time, in Python:
an AND of three common words with a hundred matches cost 100 ms at 100k
papers, a single common word 70 ms. Here a query is answered in two steps,
each over one array slot per document (numpy), so the work is in C whatever
the length of the lists:

1. **The exact matches**, as a mask: each term's posting list is read a block
   at a time and sets its slots; AND, OR and NOT combine the masks; phrases
   are checked only at the documents that have all their words. The number of
   matches is the search's total.
2. **The ranking**: for queries made of terms and phrases (words, fields,
   expansions, filters), each term adds its BM25F score at its postings to one
   float per document, computed with the same operations as Whoosh's scorer
   (a phrase scores as the AND of its words), and the best of the matches are
   sorted out. Other queries (numeric ranges) are scored by Whoosh's own
   matchers, moved straight to each match instead of walking the lists.

Posting lists are cached for the life of the searcher, up to a budget, most
recently used kept (``is:unread`` and ``published:2024`` come back often).
Like ``paperdesk.index``, this module may import ``whoosh``.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence

import paperdesk.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.matching import IntersectionMatcher, ListMatcher, NullMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query.wrappers import WrappingQuery
from whoosh.reading import TermNotFound
from whoosh.support.levenshtein import damerau_levenshtein
from whoosh.util.numeric import byte_to_length, length_to_byte

from paperdesk.codec import positions_of, postings_arrays

# Fields whose terms only select (state, tags, coarse dates): they narrow the
# matches but add nothing to a paper's rank.
FILTER_FIELDS = frozenset({"state", "tag", "year", "month", "host"})
# Postings kept in the cache: about 24 bytes each (number, weight, index, score),
# ~60 more once a term's set is taken (for sorted results); at 1M papers "model"
# alone has 440k. Least recently used go first.
CACHE_POSTINGS = 3_000_000
# Phrase matches kept (they are small: the documents where the words stand together).
CACHE_PHRASES = 64
# A query Whoosh has to score with its own matchers is moved straight to each of
# its matches when there are at most this many; past it Whoosh's block-skipping
# top-N collector is faster.
CANDIDATE_SCORING_LIMIT = 2_000
_NO_SCORES = np.empty(0)
_NO_DOCS = np.empty(0, dtype=np.intp)
# Past this many documents, keys_of reads the whole ID column at once.
KEYS_AT_ONCE = 2_000
# Field lengths are kept as one byte per document; this decodes them.
_LENGTH_OF_BYTE_ARRAY = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)

Ranked = list[tuple[float, int]]  # (score, document number), best first


def text_of(term: object) -> str:
    """An index term or stored value as text (Whoosh gives bytes or str)."""
    return term.decode("utf-8") if isinstance(term, bytes) else str(term)


class TermPostings:
    """One term's postings over the whole index: sorted document numbers and weights."""

    __slots__ = ("ids", "weights", "scores", "_docs", "_at")

    def __init__(self, ids: array, weights: array) -> None:
        self.ids = ids
        self.weights = weights
        # The term's score at each posting, per query boost (see Postings._term_scores).
        self.scores: dict[float, np.ndarray] = {}
        self._docs: frozenset[int] | None = None
        self._at: np.ndarray | None = None

    @property
    def docs(self) -> frozenset[int]:
        if self._docs is None:
            self._docs = frozenset(self.ids)
        return self._docs

    @property
    def at(self) -> np.ndarray:
        """The document numbers as an index array (one slot per document)."""
        if self._at is None:
            self._at = np.frombuffer(self.ids, dtype=np.uint32).astype(np.intp)
        return self._at


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
        self._lengths: dict[str, np.ndarray] = {}
        self._ids_column = None
        self.doc_count = searcher.doc_count_all()
        self._live: np.ndarray | None = None
        self._keys: np.ndarray | bool | None = None  # see keys_of
        self._deleted_docs: dict[int, np.ndarray] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._ranges: dict[wq.NumericRange, list[bytes]] = {}  # see _range_terms

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
        together = self.mask(wq.And([wq.Term(query.fieldname, word) for word in query.words]))
        candidates = np.flatnonzero(together).tolist()
        if query.slop == 1 and query.boost == 1.0:
            at_once = self._phrase_at_once(query.fieldname, list(query.words), together)
            if at_once is not None:
                found = frozenset(at_once.tolist())
            else:
                found = frozenset(self._phrase_docs(query.fieldname, list(query.words), candidates))
        else:
            found = frozenset(self.verified(query, candidates))
        self._phrases[key] = found
        if len(self._phrases) > CACHE_PHRASES:
            self._phrases.popitem(last=False)
        return found

    def _phrase_at_once(
        self, field_name: str, words: list, candidates: np.ndarray
    ) -> np.ndarray | None:
        """The candidates (a mask) where the words stand next to each other, in
        order, from every position of each word at once; None when a segment does
        not keep its positions as arrays (``codec.PositionArray``).

        Each word's positions at the candidates become (document, position minus
        the word's place in the phrase) keys; the phrase is where a key is in
        every word's keys. At 1M papers, a phrase of two common words has 100k
        candidates: 0.5 s one candidate at a time."""
        keys: np.ndarray | None = None
        for place, word in enumerate(words):
            docs_parts, position_parts = [], []
            for leaf, offset in self.leaves:
                try:
                    matcher = leaf.reader().postings(field_name, word)
                except TermNotFound:
                    continue
                while isinstance(matcher, FilterMatcher):
                    matcher = matcher.child  # deleted documents are not candidates
                found = positions_of(matcher, offset)
                if found is None:
                    return None
                docs_parts.append(found[0])
                position_parts.append(found[1])
            if not docs_parts:
                return np.empty(0, dtype=np.intp)
            docs, positions = np.concatenate(docs_parts), np.concatenate(position_parts)
            inside = candidates[docs] & (positions >= place)
            word_keys = (docs[inside] << 32) | (positions[inside].astype(np.int64) - place)
            word_keys = np.sort(word_keys, kind="stable")  # sorted already: a check
            if keys is None:
                keys = word_keys
            elif len(word_keys):
                at = np.searchsorted(word_keys, keys).clip(max=len(word_keys) - 1)
                keys = keys[word_keys[at] == keys]
            else:
                keys = word_keys
            if not len(keys):
                break
        return np.unique(keys >> 32) if keys is not None else np.empty(0, dtype=np.intp)

    def _phrase_docs(self, field_name: str, words: list, candidates: list[int]) -> set[int]:
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

    def dense(self, query: wq.Query, limit: int | None) -> tuple[int, Ranked] | None:
        """(number of matches, the best ``limit`` of them) for a query of terms and
        phrases joined by AND, OR and AND NOT; None for another query.

        Both steps use one array slot per document: the matches as a mask (a term
        sets the slots of its postings; AND, OR and NOT are the masks' own), the
        scores as one float per document that each term adds its BM25F score to at
        its postings, in C whatever the length of the lists. Filter terms at the
        top of the query select without ranking, as in Whoosh with a filter.
        """
        found = self.dense_arrays(query, limit)
        if found is None:
            return None
        total, scores, docs = found
        return total, list(zip(scores.tolist(), docs.tolist(), strict=True))

    def dense_arrays(
        self, query: wq.Query, limit: int | None
    ) -> tuple[int, np.ndarray, np.ndarray] | None:
        """``dense`` as (number of matches, scores, documents) arrays, best first:
        a long ranking (every match, for the app's list) stays in numpy."""
        ranked = ranked_part(query)
        if not _only_terms(ranked):
            return None
        matches = self.mask(query)
        total = int(np.count_nonzero(matches))
        if not total:
            return 0, _NO_SCORES, _NO_DOCS
        scores = np.zeros(self.doc_count)
        self._add_scores(ranked, scores, None)
        return (total, *best_arrays(scores, matches, limit))

    def dense_sorted(self, query: wq.Query, column: str, limit: int | None) -> tuple[int, Ranked]:
        """(number of matches, the first ``limit`` of them by a numeric column,
        highest first) as Whoosh's sorting collector orders them: by the column's
        value, then the higher document first, with the value in place of the
        score. Whoosh reads the value of every match one at a time (1M papers
        with "model": 430k matches, seconds); here the column is read whole."""
        total, keys, docs = self.sorted_arrays(query, column, limit)
        return total, list(zip(sort_scores(keys), docs.tolist(), strict=True))

    def sorted_arrays(
        self, query: wq.Query, column: str, limit: int | None
    ) -> tuple[int, np.ndarray, np.ndarray]:
        """``dense_sorted`` as (number of matches, values, documents) arrays."""
        docs = np.flatnonzero(self.mask(query))
        if not len(docs):
            return 0, _NO_SCORES, _NO_DOCS
        keys = self._column(column)[docs]
        # The documents are in ascending order, so a stable sort by value, read
        # backwards, puts the higher document first among equal values.
        order = np.argsort(keys, kind="stable")[::-1][:limit]
        return len(docs), keys[order], docs[order]

    def _column(self, name: str) -> np.ndarray:
        """Every document's value in a numeric column, in document order (kept)."""
        found = self._columns.get(name)
        if found is None:
            parts = [
                _leaf_column(leaf.reader(), name, leaf.doc_count_all()) for leaf, _ in self.leaves
            ]
            found = self._columns[name] = (
                np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
            )
        return found

    def ranked(
        self, query: wq.Query, matches: set[int] | frozenset[int], limit: int | None
    ) -> Ranked | None:
        """The best ``limit`` of a few matches (``matches`` must be what
        ``of(query)`` returned) of a query ``dense`` does not rank, scored by
        Whoosh's own matchers moved straight to them; None when there are many
        (Whoosh's top-N search with its block skipping is faster then)."""
        if len(matches) > CANDIDATE_SCORING_LIMIT:
            return None
        return best(self._matcher_scores(ranked_part(query), matches), limit)

    def mask(self, query: wq.Query) -> np.ndarray:
        """The documents ``query`` matches, exactly, as one bool per document."""
        if isinstance(query, wq.Term):
            found = np.zeros(self.doc_count, dtype=bool)
            found[self.postings(query.fieldname, query.text).at] = True
            return found
        if isinstance(query, wq.Every):
            return self.live().copy()
        if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
            return np.zeros(self.doc_count, dtype=bool)
        if isinstance(query, wq.AndNot):
            found = self.mask(query.a)
            found[self.mask(query.b)] = False
            return found
        if isinstance(query, wq.Not):
            found = self.live().copy()
            found[self.mask(query.query)] = False
            return found
        if isinstance(query, wq.And) and query.subqueries:
            found = self.mask(query.subqueries[0])
            for sub in query.subqueries[1:]:
                found &= self.mask(sub)
            return found
        if isinstance(query, wq.Or):
            found = np.zeros(self.doc_count, dtype=bool)
            for sub in query.subqueries:
                if type(sub) is wq.Term:  # (the common case: no mask of its own)
                    found[self.postings(sub.fieldname, sub.text).at] = True
                else:
                    found |= self.mask(sub)
            return found
        if type(query) is wq.NumericRange:
            found = np.zeros(self.doc_count, dtype=bool)
            for text in self._range_terms(query):
                found[self.postings(query.fieldname, text).at] = True
            return found
        docs = self.of(query)  # phrases (cached) and the rest
        found = np.zeros(self.doc_count, dtype=bool)
        found[np.fromiter(docs, dtype=np.intp, count=len(docs))] = True
        return found

    def _range_terms(self, query: wq.NumericRange) -> list[bytes]:
        """The index terms a numeric range covers: Whoosh's trie terms for it (a
        few per precision level), each level's span read from the vocabulary."""
        found = self._ranges.get(query)
        if found is not None:
            return found
        reader = self.searcher.reader()
        found = []
        pending = [query._compile_query(reader)]
        while pending:
            part = pending.pop()
            if isinstance(part, wq.ConstantScoreQuery):
                pending.append(part.child)
            elif isinstance(part, wq.Or):
                pending.extend(part.subqueries)
            elif isinstance(part, wq.Term):
                found.append(part.text)
            elif isinstance(part, wq.TermRange):
                found.extend(part._btexts(reader))
            elif not (part is wq.NullQuery or isinstance(part, type(wq.NullQuery))):
                raise TypeError(f"unexpected part of a numeric range: {part!r}")
        self._ranges[query] = found
        return found

    def live(self) -> np.ndarray:
        """Every document not deleted, as a mask."""
        if self._live is None:
            live = np.ones(self.doc_count, dtype=bool)
            for leaf, offset in self.leaves:
                reader = leaf.reader()
                if reader.has_deletions():
                    live[self._deleted(reader) + offset] = False
            self._live = live
        return self._live

    def _add_scores(self, query: wq.Query, scores: np.ndarray, where: np.ndarray | None) -> None:
        """Add ``query``'s score to ``scores`` as Whoosh sums them: every part of an
        AND, the parts of an OR that match the document, the positive side of an
        AND NOT, a term's BM25F score. Only the matches' slots are read afterwards,
        so a term adds at all its postings; ``where`` narrows that to the documents
        an enclosing part matches (a phrase, an AND inside an OR)."""
        if isinstance(query, wq.Term):
            postings = self.postings(query.fieldname, query.text)
            if not postings.ids:
                return
            at, term_scores = postings.at, self._term_scores(query, postings)
            if where is not None:
                inside = where[at]
                at, term_scores = at[inside], term_scores[inside]
            scores[at] += term_scores
        elif isinstance(query, wq.Phrase):
            # Whoosh scores a phrase as the AND of its words at the phrase's matches.
            found = self.mask(query) if where is None else where & self.mask(query)
            for word in query.words:
                self._add_scores(wq.Term(query.fieldname, word), scores, found)
        elif isinstance(query, wq.Every):
            scores[self.live() if where is None else where] += query.boost
        elif type(query) is wq.NumericRange:  # a constant score, as Whoosh gives it
            found = self.mask(query)
            scores[found if where is None else where & found] += query.boost
        elif type(query) is wq.Not:  # Whoosh's InverseMatcher: 1.0, whatever the boost
            found = self.mask(query)
            scores[found if where is None else where & found] += 1.0
        elif isinstance(query, wq.AndNot):
            self._add_scores(query.a, scores, where)
        elif isinstance(query, wq.And):
            for sub in query.subqueries:
                self._add_scores(sub, scores, where)
        elif isinstance(query, wq.Or):
            for sub in query.subqueries:
                if isinstance(sub, (wq.And, wq.AndNot)):
                    # Its terms may be where it does not match: only where it does.
                    found = self.mask(sub)
                    self._add_scores(sub, scores, found if where is None else where & found)
                else:  # a term, an OR, a phrase: each adds only where it matches
                    self._add_scores(sub, scores, where)

    def _term_scores(self, term: wq.Term, postings: TermPostings) -> np.ndarray:
        """The term's score at each of its postings, in their order (kept with them),
        computed as Whoosh's BM25F does for one document at a time: the same
        operations on the same doubles, so the same results to the last bit."""
        found = postings.scores.get(term.boost)
        if found is not None:
            return found
        searcher, field_name = self.searcher, term.fieldname
        weights = np.frombuffer(postings.weights, dtype=np.float32).astype(np.float64)
        if not searcher.schema[field_name].scorable:
            found = weights * term.boost
        else:
            idf, avgfl, b, k1 = _bm25_parameters(searcher, field_name, term.text)
            lengths = _LENGTH_OF_BYTE_ARRAY[self._field_lengths(field_name)[postings.at]]
            found = idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl)))
            found = found * term.boost
        postings.scores[term.boost] = found
        return found

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

    def _field_lengths(self, field_name: str) -> np.ndarray:
        """Every document's length byte for a field, in document order."""
        lengths = self._lengths.get(field_name)
        if lengths is None:
            parts = []
            for leaf, _offset in self.leaves:
                parts.append(_leaf_lengths(leaf.reader(), field_name, leaf.doc_count_all()))
            lengths = self._lengths[field_name] = np.frombuffer(b"".join(parts), dtype=np.uint8)
        return lengths

    def key_of(self, doc: int) -> str:
        """A document's paper ID, from the ``id`` column.

        The column reader is kept: opening it reads every document's offset
        (10 ms at 100k papers, 100 ms at 1M), once per searcher, not per search.
        """
        if self._ids_column is None:
            self._ids_column = self.searcher.reader().column_reader("id")
        return text_of(self._ids_column[doc])

    def keys_of(self, docs: Sequence[int] | np.ndarray) -> list[str]:
        """Many documents' paper IDs, in order. A long list (every match of a
        common word, for the app's list) is looked up in the whole column read at
        once, when every ID in it has one length: 440k IDs took 1.3 s one by one."""
        if len(docs) < KEYS_AT_ONCE or self._keys is False:
            return [self.key_of(doc) for doc in _ints(docs)]
        if self._keys is None:
            self._keys = _fixed_width_keys(self.leaves)
            if self._keys is False:
                return [self.key_of(doc) for doc in _ints(docs)]
        return self._keys[np.asarray(docs, dtype=np.intp)].astype(str).tolist()

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
        id_parts: list[np.ndarray] = []
        weight_parts: list[np.ndarray] = []
        for leaf, offset in self.leaves:
            reader = leaf.reader()
            try:  # (one term lookup: asking ``in`` first made it two)
                matcher = reader.postings(field_name, text)
            except TermNotFound:
                continue
            while isinstance(matcher, FilterMatcher):
                matcher = matcher.child  # deletions are taken out below
            found = postings_arrays(matcher)
            if found is None:  # an inlined list, or another codec's blocks
                block_ids, block_weights = array("I"), array("f")
                for some_ids, some_weights in _blocks(matcher):
                    block_ids.extend(some_ids)
                    block_weights.extend(some_weights)
                found = (
                    np.frombuffer(block_ids, dtype=np.uint32).astype(np.int64),
                    np.frombuffer(block_weights, dtype=np.float32),
                )
            leaf_ids, leaf_weights = found
            if reader.has_deletions():
                kept = ~np.isin(leaf_ids, self._deleted(reader))
                leaf_ids, leaf_weights = leaf_ids[kept], leaf_weights[kept]
            id_parts.append(leaf_ids + offset if offset else leaf_ids)
            weight_parts.append(leaf_weights)
        ids, weights = array("I"), array("f")
        if id_parts:
            all_ids = np.concatenate(id_parts)
            ids.frombytes(all_ids.astype(np.uint32).tobytes())
            weights.frombytes(np.concatenate(weight_parts).astype(np.float32).tobytes())
        found = TermPostings(ids, weights)
        if id_parts:
            found._at = all_ids.astype(np.intp, copy=False)
        return found

    def _deleted(self, reader) -> np.ndarray:
        """A segment's deleted document numbers, as an array (kept)."""
        key = id(reader)
        deleted = self._deleted_docs.get(key)
        if deleted is None:
            deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
            self._deleted_docs[key] = deleted
        return deleted


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


def _fixed_width_keys(leaves) -> np.ndarray | bool:
    """Every document's ID as one array of fixed-width byte strings, read a segment
    at a time from Whoosh's variable-length column, or False when the column is
    not laid out so (IDs of different lengths, another column type)."""
    parts = []
    width = None
    for leaf, _offset in leaves:
        reader = leaf.reader()
        count = leaf.doc_count_all()
        if not count:
            continue
        try:
            column = reader.column_reader("id", translate=False)
            lengths = np.frombuffer(column._lengths, dtype=column._lengths.typecode)
            offsets = np.frombuffer(column._offsets, dtype=column._offsets.typecode)
        except (AttributeError, TypeError, ValueError):
            return False
        if len(lengths) != count or width not in (None, int(lengths[0])):
            return False
        width = int(lengths[0])
        if not width or np.any(lengths != width) or np.any(offsets != np.arange(count) * width):
            return False
        raw = column._dbfile.get(column._basepos, count * width)
        parts.append(np.frombuffer(raw, dtype=f"S{width}"))
    if width is None:
        return False
    return np.concatenate(parts)


def _leaf_column(reader, name: str, doc_count: int) -> np.ndarray:
    """One segment's values of a numeric column, as 64-bit integers. Whoosh's
    numeric column is a big-endian array (documents past its end have the
    default): it is read whole. Another reader is asked document by document."""
    column = reader.column_reader(name, translate=False)
    typecode = getattr(column, "_typecode", None)
    if typecode in tuple("bBhHiIlLqQ") and hasattr(column, "_dbfile"):
        count = min(column._count, doc_count)
        raw = column._dbfile.get(column._basepos, count * column._fixedlen)
        values = np.full(doc_count, column._default, dtype=np.int64)
        values[:count] = np.frombuffer(raw, dtype=np.dtype(typecode).newbyteorder(">"))
        return values
    return np.fromiter((column[doc] for doc in range(doc_count)), dtype=np.int64, count=doc_count)


def _leaf_lengths(reader, field_name: str, doc_count: int) -> bytes:
    """One segment's length bytes for a field (0 where a document has none).

    Whoosh's codec keeps them as a column of one byte per document: it is read
    whole. Another reader is asked document by document.
    """
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        column = perdoc._cached_reader(_lenfield(field_name), LENGTHS_COLUMN)
        if column is None:  # no document of the segment has the field
            return bytes(doc_count)
    if column is not None and getattr(column, "_fixedlen", None) == 1:
        count = min(column._count, doc_count)
        raw = column._dbfile.get(column._basepos, count)
        return bytes(raw) + bytes(doc_count - count)
    lengths = bytearray(doc_count)
    for docnum in range(doc_count):
        length = reader.doc_field_length(docnum, field_name, 0) or 0
        lengths[docnum] = length_to_byte(length)
    return bytes(lengths)


def _bm25_parameters(searcher, field_name: str, text: object) -> tuple[float, float, float, float]:
    """Whoosh's BM25F parameters for one term: idf, the field's average length, B, K1."""
    weighting = searcher.weighting
    idf = searcher.idf(field_name, text)
    avgfl = searcher.avg_field_length(field_name) or 1
    b = weighting._field_B.get(field_name, weighting.B)
    return idf, avgfl, b, weighting.K1


def sort_scores(values: np.ndarray) -> list[float]:
    """A sorted search's scores: the sort column's values, 0.0 for a paper
    without one (Whoosh's sorting collector gives the value as the score)."""
    return [value or 0.0 for value in values.tolist()]


def _ints(docs: Sequence[int] | np.ndarray) -> Sequence[int]:
    return docs.tolist() if isinstance(docs, np.ndarray) else docs


def best_of(scores: np.ndarray, matches: np.ndarray, limit: int | None) -> Ranked:
    """The ``limit`` best (score, document) of the matches, by score then lower
    document first."""
    found, docs = best_arrays(scores, matches, limit)
    return list(zip(found.tolist(), docs.tolist(), strict=True))


def best_arrays(
    scores: np.ndarray, matches: np.ndarray, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """``best_of`` as (scores, documents) arrays. Only the scores at least the
    ``limit``-th best are sorted."""
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
    """Whether a query is made of terms, phrases, numeric ranges and NOTs joined by
    AND, OR and AND NOT (scored here); anything else (boosted groups, other
    query types) is left to Whoosh."""
    if isinstance(query, (wq.Term, wq.Every)):
        return type(query) in (wq.Term, wq.Every)
    if type(query) is wq.NumericRange:
        return query.constantscore
    if type(query) is wq.Not:  # a mask of whatever it negates, and a constant score
        return True
    if type(query) is wq.Phrase:
        return bool(query.words) and query.slop == 1 and query.boost == 1.0
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return True
    if type(query) is wq.AndNot:
        return _only_terms(query.a)
    if type(query) in (wq.And, wq.Or):
        return query.boost == 1.0 and all(_only_terms(sub) for sub in query.subqueries)
    return False


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
