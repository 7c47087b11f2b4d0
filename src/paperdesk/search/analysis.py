"""How text becomes index terms: the analyzers of the schema and of queries.

Word characters, accents folded, lower-cased, then stemmed. No stop list in
the index: phrases keep every word, and "the" is cheap enough to index (a
bare stop word in a query matches everything instead, see ``compiler``).

This module loads only Whoosh's analysis package, not the engine: the
preview highlights matches with it (``highlights``).
"""

from __future__ import annotations

import re

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter
from whoosh.support.charset import accent_map

from paperdesk.model import arxiv_id_of, fold_accents, normalise_doi, normalise_tag

WORD_PATTERN = r"\w+(?:[.'’]\w+)*"
WORD = re.compile(WORD_PATTERN, re.UNICODE)
STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it of on or that the their this to with".split()
)
# The fields whose text is stemmed (the rest are analysed by PLAIN_ANALYZER or kept whole).
STEMMED_FIELDS = ("title", "abstract", "note")


class PossessiveFilter(Filter):
    """Drops a trailing 's (or ’s): "agent's" is the word "agent", so a search
    for agent finds it. In the index and in queries alike."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if len(text) > 2 and text[-2] in "'’" and text[-1] == "s":
                token.text = text[:-2]
            yield token


TEXT_ANALYZER = (
    RegexTokenizer(WORD_PATTERN)
    | LowercaseFilter()
    | PossessiveFilter()
    | CharsetFilter(accent_map)
    | StemFilter()
)
# The same words unstemmed: the vocabulary that fuzzy words and "did you mean"
# measure edit distances against.
SPELL_ANALYZER = (
    RegexTokenizer(WORD_PATTERN)
    | LowercaseFilter()
    | PossessiveFilter()
    | CharsetFilter(accent_map)
)
PLAIN_ANALYZER = RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)


# Each distinct word's term, analysed once (see term_spans); cleared when large.
_TERMS: dict[bool, dict[str, str]] = {True: {}, False: {}}
_TERMS_LIMIT = 100_000
_PLAIN_WORD = re.compile(r"\w+", re.UNICODE)  # PLAIN_ANALYZER's tokenizer


def term_spans(text: str, stemmed: bool) -> list[tuple[int, int, str]]:
    """(start, end, term) of each word of ``text``, as TEXT_ANALYZER (``stemmed``)
    or PLAIN_ANALYZER give them with ``chars=True``: the tokenizer's matches,
    each word through the filters once per process (they act on one token at a
    time, so a word alone gives what it gives in the text). The highlights of
    a page of results ran the whole analyzer chain per word: a third of a
    ``paperdesk search`` process's own work."""
    pattern, analyzer = (WORD, TEXT_ANALYZER) if stemmed else (_PLAIN_WORD, PLAIN_ANALYZER)
    known = _TERMS[stemmed]
    out = []
    for match in pattern.finditer(text):
        word = match.group()
        term = known.get(word)
        if term is None:
            if len(known) > _TERMS_LIMIT:
                known.clear()
            found = [token.text for token in analyzer(word, mode="query")]
            term = known[word] = found[0] if len(found) == 1 else ""
        out.append((match.start(), match.end(), term))
    return out


def analyse(field_name: str, text: str) -> list[str]:
    """``text`` as the index terms of one field."""
    if field_name in STEMMED_FIELDS:
        return [token.text for token in TEXT_ANALYZER(text)]
    if field_name in ("org", "author"):
        return [token.text for token in PLAIN_ANALYZER(text)]
    if field_name == "arxiv":
        found = arxiv_id_of(text)
        return [found[0].lower() if found else text.lower()] if text else []
    if field_name == "doi":
        return [normalise_doi(text) or text.lower()] if text else []
    if field_name == "tag":
        tag = fold_accents(normalise_tag(text))
        return [tag] if tag else []
    if field_name == "day":
        return [listing_day(text)] if text else []
    return [text.lower()] if text else []


def listing_day(text: str) -> str:
    """A listing day as the index holds it: today and yesterday become dates."""
    from datetime import date, timedelta

    word = text.strip().lower()
    if word in ("today", "yesterday"):
        return (date.today() - timedelta(days=1 if word == "yesterday" else 0)).isoformat()
    return word


def stems(word: str) -> list[str]:
    """A word's terms in the stemmed fields."""
    return [token.text for token in TEXT_ANALYZER(word)]


def spelling_words(text: str) -> set[str]:
    """The distinct unstemmed words of ``text``, as SPELL_ANALYZER gives them:
    its steps done once per distinct word (three times faster on a rebuild)."""
    return {
        _unpossessive(word.lower() if word.isascii() else word.lower().translate(accent_map))
        for word in set(WORD.findall(text))
    }


def _unpossessive(word: str) -> str:
    return word[:-2] if len(word) > 2 and word[-2] in "'’" and word[-1] == "s" else word
