"""The search engine: a full-text index of the library on Whoosh's files.

Nothing outside this package imports Whoosh or the engine's insides. The one
interface the rest of paperdesk uses is ``SearchIndex`` (search, search_ids,
similar, sync, rebuild) with its results (``SearchResults``, ``Hit``) and
errors (``IndexBusy``, ``IndexDeferred``), and ``highlights`` for marking a
search's terms in a paper's text. Importing this package loads none of the
engine: ``SearchIndex`` and its companions load ``index`` when first named,
and ``highlights`` loads only the analysis.

The layers, in the order a search passes them (docs/SEARCH.md):

- ``schema``, ``analysis``: what the index holds, how text becomes terms;
- ``compiler``: a parsed query (``paperdesk.query``) to the engine's query;
- ``postings``, ``codec``: posting lists and per-document arrays, read and
  written in paperdesk's block format;
- ``matching``: the one evaluator, every query form to one mask;
- ``scoring``: BM25F for every document at once;
- ``collect``: the top N, by relevance or by a column, and the total;
- ``highlights``, ``vocabulary`` (did you mean, fuzzy words, prefixes);
- ``index``: the files, the sync from the library, the searches;
- ``whoosh_fixes``: the patches to whoosh-reloaded, and its version check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperdesk.search.index import (
        Hit,
        IndexBusy,
        IndexDeferred,
        SearchIndex,
        SearchResults,
    )

__all__ = ["Hit", "IndexBusy", "IndexDeferred", "SearchIndex", "SearchResults"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from paperdesk.search import index

        return getattr(index, name)
    raise AttributeError(f"module 'paperdesk.search' has no attribute {name!r}")
