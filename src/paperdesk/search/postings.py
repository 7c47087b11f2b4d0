"""Posting lists and per-document arrays, read straight from the index files.

One ``Postings`` serves one searcher (a point-in-time view of the index). It
reads a term's posting list over every segment as two arrays (document
numbers and weights, deletions taken out), a block at a time when the
segment is in paperdesk's format (``codec``), and keeps them for the life of
the searcher, up to a budget, most recently used kept (``is:unread`` and
``published:2024`` come back often). It also reads whole columns at once: a
field's length bytes (for BM25F), the numeric sort columns, the paper IDs,
the live documents. ``matching``, ``scoring`` and ``collect`` work on these
arrays; nothing here decides what a query means.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import length_to_byte

from paperdesk.errors import SearchCancelled
from paperdesk.search.codec import postings_arrays
from paperdesk.search.vocabulary import text_of

# Postings kept in the cache: about 24 bytes each (number, weight, index, score),
# at 1M papers "model" alone has 440k. Least recently used go first.
CACHE_POSTINGS = 3_000_000
# Past this many documents, keys_of reads the whole ID column at once.
KEYS_AT_ONCE = 2_000


class TermPostings:
    """One term's postings over the whole index: sorted document numbers and weights."""

    __slots__ = ("ids", "weights", "scores", "_at")

    def __init__(self, ids: array, weights: array) -> None:
        self.ids = ids
        self.weights = weights
        # The term's score at each posting, per query boost (see scoring.term_scores).
        self.scores: dict[float, np.ndarray] = {}
        self._at: np.ndarray | None = None

    @property
    def at(self) -> np.ndarray:
        """The document numbers as an index array (one slot per document)."""
        if self._at is None:
            self._at = np.frombuffer(self.ids, dtype=np.uint32).astype(np.intp)
        return self._at


class Postings:
    """The posting lists and per-document arrays of one searcher (see the module)."""

    def __init__(self, searcher, cache_postings: int = CACHE_POSTINGS) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.leaves = list(searcher.leaf_searchers())
        self.doc_count = searcher.doc_count_all()
        self._cache: OrderedDict[tuple[str, object], TermPostings] = OrderedDict()
        self._cached = 0
        self._budget = cache_postings
        self._lengths: dict[str, np.ndarray] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._ids_column: Any = None  # Whoosh's column reader, opened once
        self._keys: np.ndarray | bool | None = None  # see keys_of
        self._live: np.ndarray | None = None
        self._interest: tuple[int, np.ndarray] | None = None
        self._deleted_docs: dict[int, np.ndarray] = {}
        # Kept for ``matching``: a phrase's matches, a range's terms (per query).
        self.phrases: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.ranges: dict[object, list[bytes]] = {}
        # The running search's "was I cancelled?" (the app's worker), asked before
        # each term's postings are read: a prefix of one letter reads hundreds.
        self.cancelled: Callable[[], bool] | None = None

    # --- one term's postings ---------------------------------------------------------

    def postings(self, field_name: str, text: object) -> TermPostings:
        if self.cancelled is not None and self.cancelled():
            raise SearchCancelled("the search was cancelled")
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
        term = TermPostings(ids, weights)
        if id_parts:
            term._at = all_ids.astype(np.intp, copy=False)
        return term

    # --- whole columns ----------------------------------------------------------------

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

    def field_lengths(self, field_name: str) -> np.ndarray:
        """Every document's length byte for a field, in document order."""
        lengths = self._lengths.get(field_name)
        if lengths is None:
            parts = []
            for leaf, _offset in self.leaves:
                parts.append(_leaf_lengths(leaf.reader(), field_name, leaf.doc_count_all()))
            lengths = self._lengths[field_name] = np.frombuffer(b"".join(parts), dtype=np.uint8)
        return lengths

    def column(self, name: str) -> np.ndarray:
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

    def key_of(self, doc: int) -> str:
        """A document's paper ID, from the ``id`` column.

        The column reader is kept: opening it reads every document's offset
        (10 ms at 100k papers, 100 ms at 1M), once per searcher, not per search.
        """
        if self._ids_column is None:
            self._ids_column = self.reader.column_reader("id")
        return text_of(self._ids_column[doc])

    def keys_of(self, docs: Sequence[int] | np.ndarray) -> list[str]:
        """Many documents' paper IDs, in order. A long list (every match of a
        common word, for the app's list) is looked up in the whole column read at
        once, when every ID in it has one length: 440k IDs took 1.3 s one by one."""
        keys = self.all_keys() if len(docs) >= KEYS_AT_ONCE else None
        if keys is None:
            return [self.key_of(doc) for doc in _ints(docs)]
        return keys[np.asarray(docs, dtype=np.intp)].astype(str).tolist()

    def all_keys(self) -> np.ndarray | None:
        """Every document's paper ID as fixed-width bytes (deleted ones too), or
        None when the IDs differ in length (then ask ``key_of``)."""
        if self._keys is None:
            self._keys = _fixed_width_keys(self.leaves)
        return self._keys if isinstance(self._keys, np.ndarray) else None

    def interest(
        self, generation: int, load: Callable[[], Sequence[tuple[str, float]]]
    ) -> np.ndarray:
        """Every document's interest score (NaN where none), from the library's
        (ID, score) pairs (``load``), kept until ``generation`` changes. The IDs
        are matched to documents in the ID column at once: 1M papers in well
        under a second, and then none until the next retrain."""
        if self._interest is not None and self._interest[0] == generation:
            return self._interest[1]
        values = np.full(self.doc_count, np.nan)
        pairs = load()
        if pairs and self.doc_count:
            keys = self.all_keys()
            if keys is None:
                keys = np.array(self.keys_of(range(self.doc_count)), dtype=object).astype("S")
            ids = np.array([pid for pid, _score in pairs], dtype="S")
            if ids.dtype.itemsize != keys.dtype.itemsize:  # IDs of another length
                width = max(ids.dtype.itemsize, keys.dtype.itemsize)
                ids, keys = ids.astype(f"S{width}"), keys.astype(f"S{width}")
            scores = np.array([score for _pid, score in pairs], dtype=np.float64)
            # Paper IDs are hex: as numbers they sort and search several times
            # faster than as byte strings (1M: 2.1 s -> 0.8 s).
            numbers, wanted = _hex_numbers(ids), _hex_numbers(keys)
            if numbers is None or wanted is None:
                numbers, wanted = ids, keys
            order = np.argsort(numbers)
            numbers, scores = numbers[order], scores[order]
            at = np.searchsorted(numbers, wanted).clip(max=len(numbers) - 1)
            hit = numbers[at] == wanted
            values[hit] = scores[at[hit]]
        self._interest = (generation, values)
        return values

    def loaded_interest(self) -> np.ndarray:
        """The interest scores ``interest`` last loaded (all NaN before: the search
        index loads them before a query or an order that reads them)."""
        if self._interest is None:
            return np.full(self.doc_count, np.nan)
        return self._interest[1]

    def _deleted(self, reader) -> np.ndarray:
        """A segment's deleted document numbers, as an array (kept)."""
        key = id(reader)
        deleted = self._deleted_docs.get(key)
        if deleted is None:
            deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
            self._deleted_docs[key] = deleted
        return deleted


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)


def _hex_numbers(keys: np.ndarray) -> np.ndarray | None:
    """Fixed-width hex IDs (bytes) as integers, or None when one is not hex or
    too long for 64 bits."""
    width = keys.dtype.itemsize
    if not len(keys) or width > 15:
        return None
    digits = _HEX[np.frombuffer(keys.tobytes(), dtype=np.uint8).reshape(len(keys), width)]
    if (digits == 255).any():
        return None
    powers = (np.uint64(16) ** np.arange(width - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)
    return (digits.astype(np.uint64) * powers).sum(axis=1, dtype=np.uint64)


def _blocks(matcher) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """A posting list's document numbers and weights, a block at a time when possible
    (as the arrays ``codec`` decodes)."""
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


def _ints(docs: Sequence[int] | np.ndarray) -> Sequence[int]:
    return docs.tolist() if isinstance(docs, np.ndarray) else docs
