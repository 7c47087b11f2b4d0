"""From a parsed query (``paperdesk.query``) to the engine's query objects.

The compiler decides what each form of the query language means in the
index: which fields a bare word searches, how a word is analysed, what a
prefix or a fuzzy word expands to (real index terms, at most
MAX_EXPANSIONS, the most frequent), which dates become coarse terms. Its
output is closed: terms, phrases, numeric ranges, ID prefixes and ``Every``
score ranges (``ScoreRange``)
joined by AND, OR, NOT and AND NOT. ``matching`` and ``scoring`` handle
exactly these; a new query form is added in all three (docs/SEARCH.md).
"""

from __future__ import annotations

import calendar

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

from whoosh import query as wq

from paperdesk import query as q
from paperdesk.search.analysis import STEMMED_FIELDS, STOP_WORDS, analyse
from paperdesk.search.schema import DEFAULT_FIELDS, HIGHLIGHT_FIELDS
from paperdesk.search.vocabulary import fuzzy_terms, prefix_frequencies, text_of

# Prefix and fuzzy words expand to at most this many index terms (most frequent
# first), which bounds their cost on a large vocabulary.
MAX_EXPANSIONS = 64


class ScoreRange(wq.Query):
    """A range of a score kept beside the library, not in the index (interest:
    ``interest:>=0.7``), in thousandths, both ends inclusive (None: open).
    ``matching`` reads the scores the search index loaded for it."""

    def __init__(self, fieldname: str, low: int | None, high: int | None) -> None:
        self.fieldname, self.low, self.high = fieldname, low, high
        self.boost = 1.0

    def __eq__(self, other: object) -> bool:
        return type(other) is ScoreRange and (other.fieldname, other.low, other.high) == (
            self.fieldname,
            self.low,
            self.high,
        )

    def __hash__(self) -> int:
        return hash((ScoreRange, self.fieldname, self.low, self.high))

    def __repr__(self) -> str:
        return f"ScoreRange({self.fieldname!r}, {self.low!r}, {self.high!r})"

    def is_leaf(self) -> bool:
        return True

    def field(self) -> str:
        return self.fieldname


def reads_interest(node: q.Node) -> bool:
    """Whether a parsed query filters by interest (its scores must be loaded)."""
    if isinstance(node, q.Range):
        return node.field == "interest"
    if isinstance(node, q.And | q.Or):
        return any(reads_interest(item) for item in node.items)
    if isinstance(node, q.Not):
        return reads_interest(node.item)
    return False


def compile_query(node: q.Node, reader) -> wq.Query:
    """The engine's query for a parsed query tree, on one index reader (prefixes
    and fuzzy words expand to the reader's terms)."""
    if isinstance(node, q.Everything):
        return wq.Every()
    if isinstance(node, q.Word):
        return _word_query(node, reader)
    if isinstance(node, q.Phrase):
        return _phrase_query(node)
    if isinstance(node, q.Range):
        return _range_query(node)
    if isinstance(node, q.State):
        return wq.Term("state", node.name)
    if isinstance(node, q.Not):
        return wq.And([wq.Every(), wq.Not(compile_query(node.item, reader))])
    if isinstance(node, q.Or):
        return wq.Or([compile_query(item, reader) for item in node.items])
    if isinstance(node, q.And):
        positives = [compile_query(i, reader) for i in node.items if not isinstance(i, q.Not)]
        negatives = [compile_query(i.item, reader) for i in node.items if isinstance(i, q.Not)]
        positives = [p for p in positives if not isinstance(p, wq.Every)] or [wq.Every()]
        if negatives:
            return wq.AndNot(
                wq.And(positives) if len(positives) > 1 else positives[0],
                wq.Or(negatives) if len(negatives) > 1 else negatives[0],
            )
        return wq.And(positives) if len(positives) > 1 else positives[0]
    raise TypeError(f"unknown query node {node!r}")


def query_terms(wquery: wq.Query, reader) -> frozenset[tuple[str, str]]:
    """The index terms a query matches in the highlighted fields, expansions included.

    Whoosh's own ``existing_terms`` drops every field but the first: its loop
    variable shadows its ``fieldname`` parameter (whoosh-reloaded 2.7.5).
    """
    found = set()
    for leaf in wquery.leaves():
        for name, text in leaf.expanded_terms(reader, phrases=True):
            if name not in HIGHLIGHT_FIELDS:
                continue
            value = text_of(text)
            if (name, value) in reader:
                found.add((name, value))
    return frozenset(found)


def _expand(reader, field_name: str, terms: list[str]) -> wq.Query:
    """Real index terms as an OR, at most MAX_EXPANSIONS (the most frequent)."""
    if len(terms) <= MAX_EXPANSIONS:  # all of them: no frequency to ask
        return _most_frequent(field_name, dict.fromkeys(terms, 0))
    return _most_frequent(field_name, {t: reader.doc_frequency(field_name, t) for t in terms})


def _most_frequent(field_name: str, frequencies: dict[str, int]) -> wq.Query:
    """The terms as an OR, the most frequent first (ties alphabetical), at most
    MAX_EXPANSIONS."""
    ranked = sorted(frequencies.items(), key=lambda pair: (-pair[1], pair[0]))
    terms = sorted(term for term, _count in ranked[:MAX_EXPANSIONS])
    if not terms:
        return wq.NullQuery
    return wq.Or([wq.Term(field_name, term) for term in terms])


def _word_query(word: q.Word, reader) -> wq.Query:
    fields = (word.field,) if word.field else DEFAULT_FIELDS
    if not word.field and word.text.lower() in STOP_WORDS and not (word.prefix or word.fuzzy):
        return wq.Every()  # a stop word adds nothing to a bag of words
    parts: list[wq.Query] = []
    for name in fields:
        if name == "id":
            parts.append(wq.Prefix("id", word.text.lower()))
            continue
        if word.prefix:
            prefixes = (
                {word.text.lower(), *(analyse(name, word.text)[:1])}
                if name != "host"
                else {word.text.lower()}
            )
            parts.append(_most_frequent(name, prefix_frequencies(reader, name, prefixes)))
            continue
        tokens = analyse(name, word.text)
        if not tokens:
            continue
        if word.fuzzy:
            parts.append(_expand(reader, name, fuzzy_terms(reader, name, word)))
        else:
            parts.append(_tokens_query(name, tokens))
    if not parts:
        return wq.Every() if not word.field else wq.NullQuery
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _tokens_query(name: str, tokens: list[str]) -> wq.Query:
    """One word's (or one phrase's) analysed tokens in one field."""
    if len(tokens) == 1:
        return wq.Term(name, tokens[0])
    if name in STEMMED_FIELDS:
        return wq.Phrase(name, tokens)
    return wq.And([wq.Term(name, token) for token in tokens])


def _phrase_query(phrase: q.Phrase) -> wq.Query:
    fields = (phrase.field,) if phrase.field else STEMMED_FIELDS
    parts: list[wq.Query] = []
    for name in fields:
        tokens = analyse(name, " ".join(phrase.words))
        if tokens:
            parts.append(_tokens_query(name, tokens))
    if not parts:
        return wq.NullQuery
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _range_query(node: q.Range) -> wq.Query:
    """Whole years and whole months become coarse terms; other ranges stay numeric;
    interest is read from the scores beside the library."""
    low, high = node.low, node.high
    if node.field == "interest":
        return ScoreRange("interest", low, high)
    if node.field == "published" and low is not None and high is not None:
        if low % 10000 == 101 and high % 10000 == 1231 and 0 <= high // 10000 - low // 10000 < 50:
            years = range(low // 10000, high // 10000 + 1)
            terms = [wq.Term("year", f"{year:04d}") for year in years]
            return terms[0] if len(terms) == 1 else wq.Or(terms)
        if low // 100 == high // 100 and low % 100 == 1 and high % 100 >= 28:
            year, month = divmod(low // 100, 100)
            last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
            if high % 100 == last:
                return wq.Term("month", f"{year:04d}-{month:02d}")
    return wq.NumericRange(node.field, low, high)
