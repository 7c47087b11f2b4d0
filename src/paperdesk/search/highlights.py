"""Matches marked in a paper's text: the spans of a search's terms, the title
marked, an abstract snippet around the best match.

Only the analysis is loaded here, never the engine: the preview pane
highlights with this module alone.
"""

from __future__ import annotations

from paperdesk.model import Paper
from paperdesk.search.analysis import STEMMED_FIELDS, term_spans

Terms = frozenset[tuple[str, str]]  # (field, analysed term) pairs a query matched
SNIPPET_CHARS = 220


def match_spans(text: str, field_name: str, terms: Terms) -> list[tuple[int, int]]:
    """Character spans of ``text`` whose analysed form is one of the query's terms."""
    wanted = {term for name, term in terms if name == field_name}
    if not wanted or not text:
        return []
    spans = term_spans(text, field_name in STEMMED_FIELDS)
    return [(start, end) for start, end, term in spans if term in wanted]


def mark(text: str, spans: list[tuple[int, int]], before: str = "**", after: str = "**") -> str:
    pieces = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append(f"{before}{text[start:end]}{after}")
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def snippet_window(
    text: str, spans: list[tuple[int, int]], width: int = SNIPPET_CHARS
) -> tuple[int, int]:
    """The window of ``text`` about ``width`` long holding the most matches."""
    if len(text) <= width:
        return 0, len(text)
    best_start, best_count = 0, 0
    for index, (start, _end) in enumerate(spans):
        count = sum(1 for s, e in spans[index:] if e <= start + width)
        if count > best_count:
            best_start, best_count = start, count
    if best_count:
        best_start = max(0, best_start - width // 5)
        # Start on a word boundary.
        space = text.rfind(" ", 0, best_start)
        best_start = 0 if space < 0 or best_start == 0 else space + 1
    end = min(len(text), best_start + width)
    if end < len(text):
        space = text.rfind(" ", best_start, end)
        if space > best_start:
            end = space
    return best_start, end


def highlight(paper: Paper, terms: Terms) -> dict[str, str]:
    """The title with matches marked, and an abstract snippet around the best match."""
    title = mark(paper.title, match_spans(paper.title, "title", terms))
    spans = match_spans(paper.abstract, "abstract", terms)
    start, end = snippet_window(paper.abstract, spans)
    inside = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
    snippet = mark(paper.abstract[start:end], inside)
    if start > 0:
        snippet = "…" + snippet
    if end < len(paper.abstract):
        snippet += "…"
    return {"title": title, "abstract": snippet}
