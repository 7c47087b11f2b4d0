"""What the index holds: its fields, one paper as a document, the sort columns.

``INDEX_SCHEMA_VERSION`` names the on-disk format: an index written with
another one (other fields, other analysis, classes pickled under other module
paths) is rebuilt from the library with a message saying why.
"""

from __future__ import annotations

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, FieldType, Schema
from whoosh.formats import Existence

from paperdesk import query as q
from paperdesk.model import Paper, fold_accents
from paperdesk.search.analysis import (
    PLAIN_ANALYZER,
    SPELL_ANALYZER,
    TEXT_ANALYZER,
    spelling_words,
)
from paperdesk.search.codec import PositionArray

# 11: the engine moved into paperdesk.search (the schema pickles its classes' paths).
# 12: author names, categories, arXiv IDs and DOIs (author: cat: arxiv: doi:).
# 13: "not for me" as a state (is:dismissed, is:undismissed).
# 14: the user's notes (note:, and a bare word searches them too), listing days (day:).
INDEX_SCHEMA_VERSION = 14
# A bare word searches these; the highlights mark matches in them.
DEFAULT_FIELDS = ("title", "abstract", "org", "tag", "author", "note")
HIGHLIGHT_FIELDS = ("title", "abstract", "org", "tag", "author", "note")
# Fields whose terms only select (state, tags, coarse dates, identifiers): they
# narrow the matches but add nothing to a paper's rank.
FILTER_FIELDS = frozenset({"state", "tag", "year", "month", "host", "cat", "arxiv", "doi", "day"})
# The numeric column each order of a search reads (paperdesk.sorts.SEARCH_SORTS);
# relevance has none.
SORT_COLUMNS: dict[str, str | None] = {
    "relevance": None,
    "published": "published_sort",
    "upvotes": "upvotes_sort",
    "interest": "interest",  # not in the index: the scores beside the library
}


def _positional_text(field_boost: float = 1.0) -> TEXT:
    """A text field whose positions are kept as arrays (``codec.PositionArray``),
    so phrases are checked a block of postings at a time."""
    field = TEXT(analyzer=TEXT_ANALYZER, field_boost=field_boost, phrase=True)
    field.format = PositionArray(field_boost=field_boost)
    return field


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        title=_positional_text(field_boost=2.5),
        abstract=_positional_text(),
        note=_positional_text(),
        # Only the *vocabulary* of this field is ever read (terms_within), never
        # its postings. Whoosh's own spelling=True field posts every word of
        # every paper, which was 40% of a rebuild; see paper_document.
        spell=FieldType(Existence(), SPELL_ANALYZER, scorable=False),
        org=TEXT(analyzer=PLAIN_ANALYZER, phrase=False),
        # Author names, one word a term (author:hinton, author:"geoffrey hinton").
        author=TEXT(analyzer=PLAIN_ANALYZER, phrase=False),
        cat=KEYWORD(commas=True, lowercase=True),
        arxiv=ID(),
        doi=ID(),
        tag=KEYWORD(commas=True, lowercase=True, scorable=True),
        host=KEYWORD(commas=True, lowercase=True),
        state=KEYWORD(),
        # The listing days a paper was on (its pages' dates): day:2025-11-11.
        day=KEYWORD(commas=True),
        # Whole numbers; a date is YYYYMMDD. signed=False looks tempting but Whoosh
        # 2.7.5 then answers ranges wrongly (authors:[1 TO 2] matched 3, 4, 16...).
        authors=NUMERIC(int, bits=32, shift_step=8),
        upvotes=NUMERIC(int, bits=32, shift_step=8),
        published=NUMERIC(int, bits=32, shift_step=8),
        # Coarse date terms: published:2024 and published:2024-06 are one term
        # lookup each instead of a numeric range over day values.
        year=ID(),
        month=ID(),
        # Sort keys live in columns of their own, present on every paper, so a
        # paper without a date or upvotes sorts last (the range fields above
        # leave it out, so ranges never match it).
        published_sort=COLUMN(NumericColumn("i", default=0)),
        upvotes_sort=COLUMN(NumericColumn("i", default=0)),
    )


def paper_document(
    paper: Paper, seen_words: set[str] | None = None, spell: bool = True
) -> dict[str, object]:
    """The fields of one paper as the index holds them.

    ``seen_words`` is for a rebuild: the unstemmed words already given to the
    ``spell`` field by earlier papers. This paper then adds only the new ones,
    so the field holds the vocabulary with one posting per word instead of one
    per word and paper. An update (``seen_words`` None) carries all its words:
    the paper that first brought a word may be replaced later. ``spell``
    False leaves that field out (a bulk build makes it from the words it
    splits anyway, ``bulk``).
    """
    hosts = []
    for link in paper.links:
        host = link.split("://", 1)[-1].split("/", 1)[0].lower()
        if host.startswith("www."):
            host = host[4:]
        if host and host not in hosts:
            hosts.append(host)
    state = [
        "read" if paper.read else "unread",
        "starred" if paper.starred else "unstarred",
        "tagged" if paper.tags else "untagged",
        "dismissed" if paper.dismissed else "undismissed",
    ]
    doc: dict[str, object] = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "spell": _new_words(paper, seen_words) if spell else None,
        "org": paper.organization or "",
        # Accents folded, as in text: tag:unicode-tag finds "ünïcode-tag".
        "tag": ",".join(fold_accents(tag) for tag in paper.tags),
        "host": ",".join(hosts),
        "state": " ".join(state),
        "author": "\n".join(paper.author_names),
        "cat": ",".join(paper.categories),
        "note": paper.note or "",
        "day": ",".join(sorted({s.page_date for s in paper.sources if s.page_date})),
    }
    if paper.arxiv_id:
        doc["arxiv"] = paper.arxiv_id.lower()
    if paper.doi:
        doc["doi"] = paper.doi
    if paper.authors is not None:
        doc["authors"] = paper.authors
    if paper.upvotes is not None:
        doc["upvotes"] = paper.upvotes
    if paper.published is not None:
        doc["published"] = q.date_number(paper.published)
        doc["year"] = f"{paper.published.year:04d}"
        doc["month"] = f"{paper.published.year:04d}-{paper.published.month:02d}"
    doc["published_sort"] = doc.get("published", 0)
    doc["upvotes_sort"] = paper.upvotes + 1 if paper.upvotes is not None else 0
    return doc


def _new_words(paper: Paper, seen_words: set[str] | None) -> str:
    text = f"{paper.title}\n{paper.abstract}"
    if seen_words is None:
        return text
    words = spelling_words(text)
    words.difference_update(seen_words)
    seen_words.update(words)
    return " ".join(words)
