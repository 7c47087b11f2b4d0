"""The index's words: fuzzy words, prefixes and "did you mean".

Everything here reads the term lists (the vocabulary), never a posting list.
The ``spell`` field holds the unstemmed words, one posting each (see
``schema.paper_document``): edit distances are measured against it.
"""

from __future__ import annotations

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

from whoosh.support.levenshtein import damerau_levenshtein

from paperdesk import query as q
from paperdesk.search.analysis import STEMMED_FIELDS, analyse, stems

# "Did you mean" is offered when a search finds fewer than this many papers.
SUGGEST_BELOW = 5


def text_of(term: object) -> str:
    """An index term or stored value as text (Whoosh gives bytes or str)."""
    return term.decode("utf-8") if isinstance(term, bytes) else str(term)


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
                if within_one(text, word):
                    found.append(word)
            elif damerau_levenshtein(word, text, limit=maxdist) <= maxdist:
                found.append(word)
    return found


def within_one(a: str, b: str) -> bool:
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


def fuzzy_terms(reader, name: str, word: q.Word) -> list[str]:
    """Index terms within the word's edit distance.

    The distance is measured on whole words (the spelling field keeps them
    unstemmed), then each near word is stemmed like the field: "grokkng~"
    finds "grokking", whose stem "grokk" is three edits from "grokkng".
    """
    text = word.text.lower()
    if name in STEMMED_FIELDS:
        near = set(near_words(reader, "spell", text, word.fuzzy))
        near.add(text)
        found = {stem for w in near for stem in analyse(name, w)}
    else:
        found = set(near_words(reader, name, text, word.fuzzy))
    return sorted(stem for stem in found if (name, stem) in reader)


def prefix_frequencies(reader, name: str, prefixes) -> dict[str, int]:
    """Every index term starting with one of the prefixes, with its document
    frequency, read a segment at a time: a sequential walk of each segment's
    vocabulary. (``a*`` at 1M papers, 10k terms: asking each term's frequency
    took 1.5 s, Whoosh's merged walk over the segments 0.5 s, this 0.07 s.)"""
    found: dict[str, int] = {}
    for leaf, _offset in reader.leaf_readers():
        for prefix in prefixes:
            if not prefix:
                continue
            for text, info in leaf.iter_prefix(name, prefix):
                term = text_of(text)
                found[term] = found.get(term, 0) + info.doc_frequency()
    return found


def closest_word(reader, word: str) -> str | None:
    """The indexed word nearest to ``word``: fewest edits, then most documents."""
    for distance in (1, 2):
        candidates = set(near_words(reader, "spell", word, distance))
        candidates.discard(word)
        if candidates:

            def documents(candidate: str) -> int:
                return sum(
                    reader.doc_frequency(name, stem)
                    for stem in stems(candidate)
                    for name in STEMMED_FIELDS
                )

            return max(sorted(candidates), key=documents)
    return None


def did_you_mean(reader, text: str, tree: q.Node, total: int) -> str | None:
    """The query with its unknown words replaced by the closest words in the
    index, when it found few papers; None when there is nothing to offer."""
    if total >= SUGGEST_BELOW:
        return None
    replacements: list[tuple[q.Word, str]] = []
    for word in q.words_of(tree):
        if word.prefix or word.fuzzy or word.field not in (None, *STEMMED_FIELDS):
            continue
        tokens = stems(word.text)
        if not tokens or any(
            reader.doc_frequency(name, token) for token in tokens for name in STEMMED_FIELDS
        ):
            continue
        best = closest_word(reader, word.text.lower())
        if best and best != word.text.lower():
            replacements.append((word, best))
    if not replacements:
        return None
    corrected = text
    for word, best in sorted(replacements, key=lambda pair: pair[0].start, reverse=True):
        corrected = corrected[: word.start] + best + corrected[word.end :]
    return corrected
