"""Building a whole index at once: segments written from arrays, not posting by posting.

Whoosh's writer analyses every field of every paper through its filter chain
(a generator and a Token per word), hands each posting to a pool that sorts
them, then writes them one ``add_posting`` call at a time: 300-900 papers a
second here, 95% of an import. A rebuild knows every paper up front, so this
module writes the same segment files itself:

- **Words.** The stemmed fields (title, abstract, note) are split with the
  analyzer's own regular expression; each distinct word goes through the
  analyzer's filters once (lower case, possessive, accents, stemmer) and is
  remembered, so a paper costs one dictionary look-up per word. A filter acts
  on one token at a time, so a word analysed alone gives what it gives inside
  the text.
- **Postings.** Each paper's words become term numbers in one array per
  field; a stable sort by term number (numpy) groups them into postings
  (document, frequency, positions), already in document and position order.
- **Blocks.** Each term's postings are cut into blocks of ``codec.BLOCK_LIMIT``
  and written in the block format of ``codec`` with numpy: differences of
  document numbers, weights, and the positions as the ``PositionArray``
  values, compressed as Whoosh compresses them.
- **The other fields** (identifiers, keywords, numbers, author names, the
  spelling vocabulary) have few words per paper: their terms come from
  Whoosh's own ``field.index`` (remembered per value where values repeat) or,
  for an ID field, the value itself; their postings are collected per term.
- **Per document**: field lengths, the stored ID and the sort columns go
  through Whoosh's own per-document writer, so those files are Whoosh's.

The result is the index Whoosh's writer builds from ``schema.paper_document``
(the same terms, postings, weights, positions, lengths, stored fields and
columns: ``tests/unit/test_bulk.py`` compares the two field by field), in one
segment per ``SEGMENT_PAPERS`` papers, which bounds the memory a build takes.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, cast

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.fields import ID
from whoosh.filedb import filetables as _filetables
from whoosh.system import emptybytes, pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from paperdesk.errors import LibraryError
from paperdesk.model import Paper
from paperdesk.search.analysis import PLAIN_ANALYZER, SPELL_ANALYZER, TEXT_ANALYZER, WORD
from paperdesk.search.codec import (
    _BYTES,
    _CONSTANT,
    _FLOATS,
    _HEADER,
    _ONES,
    _PARTS,
    _VALUES,
    BLOCK_LIMIT,
    PaperdeskCodec,
    _little,
    _smallest_typecode,
    value_part,
    weight_part,
)
from paperdesk.search.schema import paper_document

# Papers per segment: a segment's word arrays take about 25 bytes a word (a
# paper has 200-250), so 100,000 papers stay near 600 MB at the peak.
SEGMENT_PAPERS = 100_000
# Fields whose postings are built from word arrays (positions kept).
POSITIONAL = ("title", "abstract", "note")
# From this many papers a rebuild uses a second process (on two cores or more),
# for the papers whose ID (a hash) is from SPLIT_AT on: about half.
PARALLEL_PAPERS = 4_000
SPLIT_AT = "8"
# Terms with at most this many postings are written in plain Python (see _small).
SMALL_TERM = 48
_TERMINFO = W3TermInfo._struct
_KEY_VALUE_LENGTHS = _filetables._lengths
# The postings of this many bytes are written at once.
FLUSH_BYTES = 4 << 20
# Fields analysed by PLAIN_ANALYZER (schema.make_schema).
PLAIN_FIELDS = ("author", "org")
# A field value cache is dropped past this many entries (identifiers never repeat).
CACHE_LIMIT = 200_000

Progress = Callable[[int, int], None]


def _smallest(largest: int) -> np.dtype:
    for code in ("u1", "u2", "u4"):
        if largest < 1 << (8 * np.dtype(code).itemsize):
            return np.dtype(f"<{code}")
    return np.dtype("<u8")


_TYPECODE = {1: b"B", 2: b"H", 4: b"I", 8: b"Q"}


class _Words:
    """Word -> term number for the stemmed fields, through the analyzer once per word."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.terms: list[bytes] = []
        # a word -> its term's number, or -1 when the analyzer made other than one token
        self._of_word: dict[str, int] = {}
        self._several: dict[str, tuple[int, ...]] = {}

    def numbers_of(self, words: list[str]) -> list[int]:
        get = self._of_word.get
        found: list[int | None] = list(map(get, words))  # None: a word not seen before
        if None in found:  # new words: analysed together, then looked up again
            self._learn([w for w, n in zip(words, found, strict=True) if n is None])
            found = list(map(get, words))
        out = cast("list[int]", found)
        if -1 in out:  # a word that is not one term (none that WORD splits, but be exact)
            several = self._several
            out = []
            for word in words:
                number = get(word, -2)
                if number == -1:
                    out.extend(several[word])
                else:
                    out.append(number)
        return out

    def _learn(self, fresh: list[str]) -> None:
        """The term numbers of new words, in one call of the analyzer: its
        filters act on one token at a time, and each word is one token of the
        words joined by spaces (checked; a word alone otherwise)."""
        fresh = list(dict.fromkeys(fresh))
        tokens = [token.text for token in TEXT_ANALYZER(" ".join(fresh))]
        if len(tokens) == len(fresh):
            for word, text in zip(fresh, tokens, strict=True):
                self._of_word[word] = self._number(text)
            return
        for word in fresh:  # pragma: no cover - a word the tokenizer splits
            found = [self._number(token.text) for token in TEXT_ANALYZER(word)]
            if len(found) == 1:
                self._of_word[word] = found[0]
            else:
                self._of_word[word] = -1
                self._several[word] = tuple(found)

    def _number(self, text: str) -> int:
        number = self.numbers.get(text)
        if number is None:
            number = self.numbers[text] = len(self.terms)
            self.terms.append(text.encode("utf-8"))
        return number


class _Plain:
    """Word -> terms for the plain fields (author names, organisations, one
    analyzer), each distinct word analysed once."""

    def __init__(self, analyzer) -> None:
        self._analyzer = analyzer
        self._pattern = analyzer[0].expression  # its tokenizer's expression
        self._of_word: dict[str, tuple[str, ...]] = {}

    def terms(self, text: str) -> list[str]:
        of_word = self._of_word
        out: list[str] = []
        for word in self._pattern.findall(text):
            found = of_word.get(word)
            if found is None:
                found = of_word[word] = tuple(t.text for t in self._analyzer(word))
            out.extend(found)
        return out


class _Collected:
    """One non-positional field's postings, per term: documents, weights, values."""

    __slots__ = ("docs", "weights", "values")

    def __init__(self) -> None:
        self.docs = array("I")
        self.weights = array("f")
        self.values: list[bytes] = []


class _Segment:
    """The postings and per-document values of one segment being built."""

    def __init__(self) -> None:
        self.count = 0
        # positional fields: term numbers of every word, and where each paper starts
        self.tokens = {name: array("I") for name in POSITIONAL}
        self.starts = {name: array("Q", [0]) for name in POSITIONAL}
        # other fields: term bytes -> postings
        self.collected: dict[str, dict[bytes, _Collected]] = {}
        # scorable fields: each paper's length (number of words)
        self.lengths: dict[str, array] = {}


class BulkBuilder:
    """Writes a fresh index's segments from papers (see the module)."""

    def __init__(self, ix) -> None:
        self.ix = ix
        self.schema = ix.schema
        self.storage = ix.storage
        self.codec = PaperdeskCodec()
        self.words = _Words()
        self._plain = _Plain(PLAIN_ANALYZER)
        self._spell: set[str] = set()  # the words seen
        self._spelled: set[str] = set()
        self._cache: dict[str, dict[Any, list[tuple[bytes, int, float, bytes]]]] = {}
        self._freq_bytes: dict[str, dict[int, bytes]] = {}
        self.segments: list[Any] = []

    # --- one paper's fields -----------------------------------------------------------

    def _field_terms(self, name: str, field, value) -> list[tuple[bytes, int, float, bytes]]:
        """(term bytes, frequency, weight, value bytes) of one non-positional field,
        as Whoosh's ``field.index`` gives them."""
        if isinstance(field, ID):  # IDTokenizer, Existence: the value is the term
            return (
                [(value.encode("utf-8"), 1, field.format.field_boost, emptybytes)] if value else []
            )
        if name in PLAIN_FIELDS:
            return self._frequencies(name, field, self._plain.terms(value))
        cache = self._cache.setdefault(name, {})
        found = cache.get(value)
        if found is None:
            if len(cache) > CACHE_LIMIT:
                cache.clear()
            found = cache[value] = [
                (tbytes, freq, weight, vbytes or emptybytes)
                for tbytes, freq, weight, vbytes in field.index(value)
            ]
        return found

    def _frequencies(self, name: str, field, words: list[str]):
        """A ``Frequency`` field's terms from its words (Whoosh's ``word_values``)."""
        encoded = self._freq_bytes.setdefault(name, {})
        boost = field.format.field_boost
        out = []
        for word, freq in Counter(words).items():
            vbytes = encoded.get(freq)
            if vbytes is None:
                vbytes = encoded[freq] = pack_uint(freq)
            out.append((word.encode("utf-8"), freq, freq * boost, vbytes))
        return out

    def _spelling(self, words: list[str]) -> list[str]:
        """The ``spell`` field's new terms from a paper's title and abstract words:
        each term once in the whole index, in the first paper that has it (what
        ``paper_document`` gives with ``seen_words``, without analysing every
        word of every paper twice). New words go through the analyzer together,
        as in ``_Words._learn``."""
        known = self._spell
        unseen = set(words)
        unseen -= known  # in C: most of a paper's words are known after the first thousands
        if not unseen:
            return []
        fresh = sorted(unseen)  # the field's terms in any order are the same postings
        known |= unseen
        tokens = [token.text for token in SPELL_ANALYZER(" ".join(fresh))]
        if len(tokens) != len(fresh):  # pragma: no cover - a word the tokenizer splits
            tokens = [token.text for word in fresh for token in SPELL_ANALYZER(word)]
        spelled = self._spelled
        new = []
        for text in tokens:
            if text not in spelled:
                spelled.add(text)
                new.append(text)
        return new

    def _add(self, segment: _Segment, perdoc, paper: Paper) -> None:
        doc = paper_document(paper, spell=False)
        docnum = segment.count
        schema = self.schema
        split = {name: WORD.findall(doc[name]) for name in POSITIONAL}  # type: ignore[call-overload]
        spelled = self._spelling(split["title"] + split["abstract"])
        if spelled:
            doc["spell"] = " ".join(spelled)
        perdoc.start_doc(docnum)
        for name in sorted(doc):
            value = doc[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if field.indexed:
                if name in POSITIONAL:
                    numbers = self.words.numbers_of(split[name])
                    tokens = segment.tokens[name]
                    tokens.extend(numbers)
                    segment.starts[name].append(len(tokens))
                    length = len(numbers)
                else:
                    if name == "spell":
                        boost = field.format.field_boost
                        terms = [(t.encode("utf-8"), 1, boost, emptybytes) for t in spelled]
                    else:
                        terms = self._field_terms(name, field, value)
                    collected = segment.collected.setdefault(name, {})
                    for tbytes, freq, weight, vbytes in terms:
                        postings = collected.get(tbytes)
                        if postings is None:
                            postings = collected[tbytes] = _Collected()
                        postings.docs.append(docnum)
                        postings.weights.append(weight)
                        postings.values.append(vbytes)
                        length += freq
                if field.scorable:
                    lengths = segment.lengths.get(name)
                    if lengths is None:
                        lengths = segment.lengths[name] = array("I")
                    if len(lengths) < docnum:
                        lengths.extend([0] * (docnum - len(lengths)))
                    lengths.append(length)
                else:
                    length = 0
            perdoc.add_field(name, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdoc.add_column_value(name, column, field.to_column_value(value))
        perdoc.finish_doc()
        segment.count += 1

    # --- the whole build --------------------------------------------------------------

    def build(
        self,
        papers: Iterable[Paper],
        total: int,
        progress: Progress | None = None,
        commit: bool = True,
    ) -> int:
        done = 0
        segment = perdoc = None
        for paper in papers:
            if segment is None:
                whoosh_segment = self.codec.new_segment(self.storage, self.ix.indexname)
                perdoc = self.codec.per_document_writer(self.storage, whoosh_segment)
                segment = _Segment()
            self._add(segment, perdoc, paper)
            done += 1
            if progress and done % 500 == 0:
                progress(done, total)
            if segment.count >= SEGMENT_PAPERS:
                self._finish(whoosh_segment, perdoc, segment)
                segment = perdoc = None
        if segment is not None:
            self._finish(whoosh_segment, perdoc, segment)
        if commit:
            self._commit()
        return done

    def build_library(self, library, total: int, progress: Progress | None = None) -> int:
        """Every paper of ``library``; on two cores and from PARALLEL_PAPERS papers,
        half of them (by ID, which is a hash) in a forked second process, each
        half its own segments. Returns how many papers."""
        if not _can_fork(total):
            return self.build(library.iter_all(), total, progress)
        import multiprocessing

        context = multiprocessing.get_context("fork")
        counted = context.Value("q", 0, lock=False)
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_build_half, args=(self, library.path, send, counted, os.getpid())
        )
        child.start()
        send.close()
        try:
            own = self.build(
                library.iter_all(stop=SPLIT_AT),
                total,
                (lambda done, _t: progress(done + counted.value, total)) if progress else None,
                commit=False,
            )
            try:
                status, found = receive.recv()
            except EOFError:
                raise LibraryError(
                    "the search index was not built: its second writer process ended early"
                ) from None
            if status != "ok":
                raise LibraryError(
                    f"the search index was not built: its second writer process failed ({found})"
                )
            self.segments.extend(found[1])
            self._commit()
            return own + found[0]
        finally:
            receive.close()
            child.join(timeout=5)
            if child.is_alive():  # pragma: no cover - only when this process was interrupted
                child.kill()
                child.join()

    def _commit(self) -> None:
        from whoosh.index import TOC, clean_files

        name = self.ix.indexname
        generation = self.ix.latest_generation() + 1
        TOC(self.schema, self.segments, generation).write(self.storage, name)
        clean_files(self.storage, name, generation, self.segments)
        self.storage.temp_storage(f"{name}.tmp").destroy()  # the per-document writers' own

    def _finish(self, whoosh_segment, perdoc, segment: _Segment) -> None:
        count = segment.count
        perdoc.close()
        whoosh_segment.set_doc_count(count)
        # A posting's length is the one the length column keeps (a byte), as
        # Whoosh's writer reads it back before writing the postings.
        quantised = {name: _quantised(lengths, count) for name, lengths in segment.lengths.items()}
        writer = _FieldsWriter(self.codec, self.storage, whoosh_segment)
        for name in sorted(set(segment.collected) | {n for n in POSITIONAL}):
            field = self.schema[name]
            if name in POSITIONAL:
                if not len(segment.tokens[name]):
                    continue
                writer.positional(name, field, segment, self.words, quantised.get(name))
            elif segment.collected.get(name):
                writer.collected(name, field, segment.collected[name], quantised.get(name))
        writer.close()
        # One compound file per segment, as Whoosh's writer assembles them.
        whoosh_segment.create_compound_file(self.storage)
        whoosh_segment.compound = True
        self.segments.append(whoosh_segment)


def _can_fork(total: int) -> bool:
    """Whether a second writer process pays, and forking is safe (no other
    threads: the app builds in one process)."""
    import threading

    return (
        total >= PARALLEL_PAPERS
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and hasattr(os, "fork")
    )


def _build_half(builder: BulkBuilder, path, send, counted, parent: int) -> None:
    """The second writer process: the papers from SPLIT_AT on, into segments of
    its own, sent back (pickled) for the parent's table of contents."""
    from paperdesk.library import Library
    from paperdesk.processes import die_with_parent

    die_with_parent(parent)
    try:
        library = Library(path, create=False, read_only=True, announce=False)

        def count(done: int, _total: int) -> None:
            counted.value = done

        done = builder.build(library.iter_all(start=SPLIT_AT), 0, count, commit=False)
        library.close()
        send.send(("ok", (done, builder.segments)))
    except BaseException as error:  # noqa: BLE001 - the parent says it in one line
        send.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        send.close()
        os._exit(0)


def _quantised(lengths: array, count: int) -> np.ndarray:
    table = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)
    full = np.zeros(count, dtype=np.int64)
    full[: len(lengths)] = np.frombuffer(lengths, dtype=np.uint32)
    as_bytes = np.array([length_to_byte(n) for n in range(int(full.max(initial=0)) + 1)])
    return table[as_bytes[full]]


class _FieldsWriter:
    """The terms and postings files of one segment, a term at a time.

    The files are Whoosh's (``W3FieldWriter`` opens them); the bytes of many
    terms are written at once, and the terms file gets its entries as
    ``OrderedHashWriter.add`` would give them, many at a time (``_add_terms``).
    """

    def __init__(self, codec, storage, segment) -> None:
        self._fields = codec.field_writer(storage, segment)
        self._postfile = self._fields._postfile
        self._tindex = self._fields._tindex
        self._fieldmap = self._fields._fieldmap
        self._compression = codec._compression
        self._offset = self._postfile.tell()
        self._chunks: list[bytes] = []
        self._pending = 0
        self._terms: list[tuple[bytes, bytes]] = []

    def close(self) -> None:
        self._flush()
        self._fields.close()

    def _flush(self) -> None:
        if self._chunks:
            self._postfile.write(b"".join(self._chunks))
            self._chunks.clear()
            self._pending = 0
        if self._terms:
            _add_terms(self._tindex, self._terms)
            self._terms.clear()

    def _put(self, key: bytes, chunks: list[bytes], info: bytes) -> None:
        """One term: its blocks' bytes, and its term info without the extent."""
        start = self._offset
        size = sum(map(len, chunks))
        self._chunks.extend(chunks)
        self._offset += size
        self._pending += size
        self._terms.append((key, info + pack_long(start) + pack_int(size)))
        if self._pending > FLUSH_BYTES:
            self._flush()

    def _field_id(self, name: str) -> bytes:
        number = self._fieldmap.setdefault(name, len(self._fieldmap))
        return pack_ushort(number)

    # --- the fields -------------------------------------------------------------------

    def positional(self, name: str, field, segment: _Segment, words: _Words, lengths) -> None:
        """A positional field's postings from its word arrays (see the module)."""
        tokens = np.frombuffer(segment.tokens[name], dtype=np.uint32)
        starts = np.frombuffer(segment.starts[name], dtype=np.uint64).astype(np.int64)
        # Every word by term, stably: within a term by paper, then by position.
        order = np.argsort(tokens, kind="stable")
        sorted_terms = tokens[order]
        docs = np.searchsorted(starts, order, side="right")
        docs -= 1
        order -= starts[docs]  # each word's position in its paper's field
        positions = order.astype("<u4")
        del order
        docs = docs.astype(np.uint32)
        n = len(sorted_terms)
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(sorted_terms[1:], sorted_terms[:-1], out=new[1:])
        new[1:] |= docs[1:] != docs[:-1]
        posting_at = np.flatnonzero(new)  # where each (term, paper) posting starts
        del new
        freqs = np.diff(np.append(posting_at, n))
        posting_docs = docs[posting_at].astype(np.int64)
        posting_terms = sorted_terms[posting_at]
        del docs, sorted_terms
        term_at = np.flatnonzero(np.r_[True, posting_terms[1:] != posting_terms[:-1]])
        term_end = np.append(term_at[1:], len(posting_terms))
        numbers = posting_terms[term_at].tolist()
        del posting_terms
        # Each term's words: from its first posting's start to the next term's.
        first_word = posting_at[term_at].tolist()
        last_word = np.append(posting_at[term_end[:-1]], n).tolist()
        del posting_at
        # Terms in the order of their bytes, as the terms file keeps them.
        by_text = sorted(range(len(numbers)), key=lambda i: words.terms[numbers[i]])
        weights = freqs.astype(np.float32) * np.float32(field.format.field_boost)
        sizes = freqs * 4
        del freqs
        field_id = self._field_id(name)
        term_at_, term_end_ = term_at.tolist(), term_end.tolist()
        lengths_ = lengths.tolist() if lengths is not None else None
        for i in by_text:
            a, b = term_at_[i], term_end_[i]
            first, last = first_word[i], last_word[i]
            key = field_id + words.terms[numbers[i]]
            if b - a <= SMALL_TERM:
                docs_ = posting_docs[a:b].tolist()
                self._small(
                    key,
                    docs_,
                    weights[a:b].tolist(),
                    [lengths_[d] for d in docs_] if lengths_ is not None else None,
                    (sizes[a:b].tolist(), positions[first:last].tobytes()),
                )
            else:
                self._large(
                    key,
                    posting_docs[a:b],
                    weights[a:b],
                    lengths,
                    (sizes[a:b], positions[first:last]),
                )

    def collected(self, name: str, field, postings: dict[bytes, _Collected], lengths) -> None:
        """A field's postings collected per term."""
        field_id = self._field_id(name)
        fixed = field.format.fixed_value_size()
        lengths_ = lengths.tolist() if lengths is not None else None
        for tbytes in sorted(postings):
            p = postings[tbytes]
            # Whoosh keeps no values for a format without them, or when all are empty.
            values = p.values if fixed != 0 and any(p.values) else None
            kind = None if values is None else ("F", values) if fixed else ("V", values)
            if len(p.docs) <= SMALL_TERM:
                docs_ = p.docs.tolist()
                self._small(
                    field_id + tbytes,
                    docs_,
                    p.weights.tolist(),
                    [lengths_[d] for d in docs_] if lengths_ is not None else None,
                    kind,
                )
            else:
                docs = np.frombuffer(p.docs, dtype=np.uint32).astype(np.int64)
                weights = np.frombuffer(p.weights, dtype=np.float32)
                self._large(field_id + tbytes, docs, weights, lengths, kind)

    # --- one term ---------------------------------------------------------------------

    def _small(self, key: bytes, docs: list[int], weights: list[float],
               lengths: list[int] | None, values) -> None:  # fmt: skip
        """A term of at most SMALL_TERM postings (most terms: an ID's, a rare
        word's) as one block, in plain Python: numpy's calls cost more than the
        work at this size. Its block is not compressed (a block's header says
        whether it is): zlib makes a few dozen bytes no smaller."""
        deltas = [docs[0], *(b - a for a, b in zip(docs, docs[1:], strict=False))]
        id_code = _smallest_typecode(max(deltas))
        id_bytes = _little(array(id_code, deltas))
        kind, weight_bytes = weight_part(weights)
        value_bytes = value_part(values)
        parts = _PARTS.pack(id_code.encode("ascii"), len(id_bytes), kind, len(weight_bytes))
        length = _HEADER.size - 4 + len(parts) + len(id_bytes) + len(weight_bytes)
        length += len(value_bytes)
        if lengths is not None:
            minlength, maxlength = length_to_byte(min(lengths)), length_to_byte(max(lengths))
        else:
            minlength = maxlength = 0
        maxweight = max(weights)
        count = len(docs)
        header = _HEADER.pack(-length, count, docs[-1], maxweight, 0, minlength, maxlength)
        self._put(
            key,
            [WHOOSH3_HEADER_MAGIC, header, parts, id_bytes, weight_bytes, value_bytes],
            _TERMINFO.pack(
                0, sum(weights), count, minlength, maxlength, maxweight, docs[0], docs[-1]
            ),
        )

    def _large(self, key: bytes, docs, weights, lengths, values) -> None:
        """A term's postings as compressed blocks of BLOCK_LIMIT, from numpy arrays.
        ``values``: (value sizes, positions) arrays, (kind, values) as for
        ``_small``, or None."""
        count = len(docs)
        doc_lengths = lengths[docs] if lengths is not None else None
        comp = self._compression
        chunks = [WHOOSH3_HEADER_MAGIC]
        positional = values is not None and not isinstance(values[0], str)
        if positional:
            sizes, positions = values
            value_ends = np.cumsum(sizes // 4)
        for at in range(0, count, BLOCK_LIMIT):
            end = min(at + BLOCK_LIMIT, count)
            ids = docs[at:end]
            deltas = np.diff(ids, prepend=0)  # each block's first number is whole
            id_type = _smallest(int(deltas.max()))
            id_bytes = deltas.astype(id_type).tobytes()
            w = weights[at:end]
            if (w == 1.0).all():
                kind, weight_bytes = _ONES, b""
            elif (w == w[0]).all():
                kind, weight_bytes = _CONSTANT, struct.pack("<f", float(w[0]))
            elif ((w >= 0) & (w < 256) & (w == np.floor(w))).all():
                kind, weight_bytes = _BYTES, w.astype(np.uint8).tobytes()
            else:
                kind, weight_bytes = _FLOATS, w.astype("<f4").tobytes()
            if positional:
                lo = int(value_ends[at - 1]) if at else 0
                hi = int(value_ends[end - 1])
                block_sizes = sizes[at:end]
                size_type = _smallest(int(block_sizes.max()))
                size_bytes = block_sizes.astype(size_type).tobytes()
                value_bytes = b"".join(
                    (
                        b"V",
                        _VALUES.pack(_TYPECODE[size_type.itemsize], len(size_bytes)),
                        size_bytes,
                        positions[lo:hi].tobytes(),
                    )
                )
            elif values is not None:
                value_bytes = value_part((values[0], values[1][at:end]))
            else:
                value_bytes = b""
            if value_bytes and comp:
                value_bytes = zlib.compress(value_bytes, comp)
            parts = _PARTS.pack(_TYPECODE[id_type.itemsize], len(id_bytes), kind, len(weight_bytes))
            length = _HEADER.size - 4 + len(parts) + len(id_bytes) + len(weight_bytes)
            length += len(value_bytes)
            if doc_lengths is not None:
                block_lengths = doc_lengths[at:end]
                minlength = length_to_byte(int(block_lengths.min()))
                maxlength = length_to_byte(int(block_lengths.max()))
            else:
                minlength = maxlength = 0
            header = _HEADER.pack(
                -length if end == count else length,
                end - at,
                int(ids[-1]),
                float(w.max()),
                comp,
                minlength,
                maxlength,
            )
            chunks += (header, parts, id_bytes, weight_bytes, value_bytes)
        if doc_lengths is not None:
            minlength = length_to_byte(int(doc_lengths.min()))
            maxlength = length_to_byte(int(doc_lengths.max()))
        else:
            minlength = maxlength = 0
        info = _TERMINFO.pack(
            0,
            float(np.sum(weights, dtype=np.float64)),
            count,
            minlength,
            maxlength,
            float(weights.max()),
            int(docs[0]),
            int(docs[-1]),
        )
        self._put(key, chunks, info)


def _add_terms(tindex, items: list[tuple[bytes, bytes]]) -> None:
    """``OrderedHashWriter.add`` for many (key, value) pairs at once: the same
    bytes, positions, hash buckets and key index, in one write."""
    dbfile = tindex.dbfile
    position = dbfile.tell()
    chunks: list[bytes] = []
    hashfn = tindex.hashfn
    buckets = tindex.buckets
    index = tindex.index
    last = tindex.lastkey
    pack = _KEY_VALUE_LENGTHS.pack
    head = _KEY_VALUE_LENGTHS.size
    for key, value in items:
        if key <= last:
            raise ValueError(f"Keys must increase: {last!r}..{key!r}")
        index.append(position)
        chunks += (pack(len(key), len(value)), key, value)
        h = hashfn(key)
        buckets[h & 255].append((h, position))
        position += head + len(key) + len(value)
        last = key
    dbfile.write(b"".join(chunks))
    tindex.lastkey = last
