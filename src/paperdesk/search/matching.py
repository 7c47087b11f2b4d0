"""The one evaluator: which documents a compiled query matches, as a mask.

Whoosh finds matches by walking its matchers a posting at a time, in Python:
an AND of three common words with a hundred matches cost 100 ms at 100k
papers, a single common word 70 ms. Here every query form is a boolean array
with one slot per document, so the work is in C whatever the length of the
lists: a term sets the slots of its postings; AND, OR and NOT are the masks'
own operations; a numeric range is the OR of the trie terms Whoosh would
read; an ID prefix is read from the ID column; a phrase is checked only at
the documents that have all its words, from every position of each word at
once. The number of set slots is a search's total.

The forms are exactly what ``compiler`` produces; any other raises TypeError.
"""

from __future__ import annotations

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from paperdesk.search.codec import positions_of
from paperdesk.search.compiler import ScoreRange
from paperdesk.search.postings import Postings

# Phrase matches kept (they are small: the documents where the words stand together).
CACHE_PHRASES = 64


def is_null(query: wq.Query) -> bool:
    return query is wq.NullQuery or isinstance(query, type(wq.NullQuery))


def mask(p: Postings, query: wq.Query) -> np.ndarray:
    """The documents ``query`` matches, exactly, as one bool per document (a fresh
    array: the caller may change it)."""
    kind = type(query)
    if kind is wq.Term:
        found = np.zeros(p.doc_count, dtype=bool)
        found[p.postings(query.fieldname, query.text).at] = True
        return found
    if kind is wq.Every:
        return p.live().copy()
    if is_null(query):
        return np.zeros(p.doc_count, dtype=bool)
    if kind is wq.AndNot:
        found = mask(p, query.a)
        found[mask(p, query.b)] = False
        return found
    if kind is wq.Not:
        found = p.live().copy()
        found[mask(p, query.query)] = False
        return found
    if kind is wq.And:
        if not query.subqueries:
            return np.zeros(p.doc_count, dtype=bool)
        found = mask(p, query.subqueries[0])
        for sub in query.subqueries[1:]:
            found &= mask(p, sub)
        return found
    if kind is wq.Or:
        found = np.zeros(p.doc_count, dtype=bool)
        for sub in query.subqueries:
            if type(sub) is wq.Term:  # (the common case: no mask of its own)
                found[p.postings(sub.fieldname, sub.text).at] = True
            else:
                found |= mask(p, sub)
        return found
    if kind is wq.NumericRange:
        found = np.zeros(p.doc_count, dtype=bool)
        for text in range_terms(p, query):
            found[p.postings(query.fieldname, text).at] = True
        return found
    if kind is wq.Prefix:
        return _prefix(p, query)
    if kind is ScoreRange:
        values = np.rint(p.loaded_interest() * 1000)  # NaN (no score) matches no range
        found = p.live().copy()
        if query.low is not None:
            found &= values >= query.low
        if query.high is not None:
            found &= values <= query.high
        return found
    if kind is wq.Phrase:
        return phrase(p, query).copy()
    raise TypeError(f"the engine cannot match {query!r} (see paperdesk.search.compiler)")


def range_terms(p: Postings, query: wq.NumericRange) -> list[bytes]:
    """The index terms a numeric range covers: Whoosh's trie terms for it (a
    few per precision level), each level's span read from the vocabulary."""
    found = p.ranges.get(query)
    if found is not None:
        return found
    reader = p.reader
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
        elif not is_null(part):
            raise TypeError(f"unexpected part of a numeric range: {part!r}")
    p.ranges[query] = found
    return found


def _prefix(p: Postings, query: wq.Prefix) -> np.ndarray:
    """Documents whose term in the field starts with the prefix. For the paper ID
    (one term per document) the whole ID column is compared at once; otherwise
    each term's postings are read."""
    keys = p.all_keys() if query.fieldname == "id" else None
    if keys is not None:
        return np.char.startswith(keys, query.text.encode("utf-8")) & p.live()
    found = np.zeros(p.doc_count, dtype=bool)
    for text in p.reader.expand_prefix(query.fieldname, query.text):
        found[p.postings(query.fieldname, text).at] = True
    return found


def phrase(p: Postings, query: wq.Phrase) -> np.ndarray:
    """Documents where the words stand next to each other, in order (kept: a
    phrase is asked for again to be scored, and again as the user types on).

    The candidates are the documents with every word. Each word's positions at
    the candidates become (document, position minus the word's place in the
    phrase) keys; the phrase is where a key is in every word's keys. At 1M
    papers a phrase of two common words has 100k candidates: 0.5 s one
    candidate at a time, a few milliseconds at once.
    """
    if query.slop != 1 or not query.words:
        raise TypeError(f"the engine matches exact phrases only, not {query!r}")
    key = (query.fieldname, tuple(query.words))
    found = p.phrases.get(key)
    if found is not None:
        p.phrases.move_to_end(key)
        return found
    candidates = mask(p, wq.And([wq.Term(query.fieldname, word) for word in query.words]))
    keys: np.ndarray | None = None
    for place, word in enumerate(query.words):
        docs, positions = _positions(p, query.fieldname, word)
        inside = candidates[docs] & (positions >= place)
        word_keys = (docs[inside] << 32) | (positions[inside].astype(np.int64) - place)
        word_keys = np.sort(word_keys, kind="stable")  # sorted already: a check
        if keys is None or not len(word_keys):
            keys = word_keys
        else:
            at = np.searchsorted(word_keys, keys).clip(max=len(word_keys) - 1)
            keys = keys[word_keys[at] == keys]
        if not len(keys):
            break
    found = np.zeros(p.doc_count, dtype=bool)
    if keys is not None:
        found[np.unique(keys >> 32)] = True
    p.phrases[key] = found
    if len(p.phrases) > CACHE_PHRASES:
        p.phrases.popitem(last=False)
    return found


def _positions(p: Postings, field_name: str, word: object) -> tuple[np.ndarray, np.ndarray]:
    """Every position of a word over all segments: (document of each position,
    the position), by document then position. Deleted documents are kept (they
    are never candidates)."""
    docs_parts, position_parts = [], []
    for leaf, offset in p.leaves:
        try:
            matcher = leaf.reader().postings(field_name, word)
        except TermNotFound:
            continue
        while isinstance(matcher, FilterMatcher):
            matcher = matcher.child
        found = positions_of(matcher, offset)
        if found is None:  # another format: the matcher's own decoding
            found = _decoded_positions(matcher, offset)
        docs_parts.append(found[0])
        position_parts.append(found[1])
    if not docs_parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    return np.concatenate(docs_parts), np.concatenate(position_parts)


def _decoded_positions(matcher, offset: int) -> tuple[np.ndarray, np.ndarray]:
    docs: list[int] = []
    positions: list[int] = []
    while matcher.is_active():
        found = matcher.value_as("positions")
        docs.extend([matcher.id() + offset] * len(found))
        positions.extend(found)
        matcher.next()
    return np.array(docs, dtype=np.int64), np.array(positions, dtype=np.uint32)
