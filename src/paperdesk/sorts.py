"""The orders papers can be shown in: one list of names for the CLI, the app,
the library and the search engine.

The library lists papers in any of ``LIST_SORTS``; a search ranks its matches
in any of ``SEARCH_SORTS`` (relevance first). Any other name is refused with
the same message everywhere.
"""

from __future__ import annotations

LIST_SORTS = ("published", "upvotes", "title", "added", "interest")
SEARCH_SORTS = ("relevance", "published", "upvotes", "interest")


class UnknownSort(ValueError):
    """A sort name that is not one of the given ones."""


def checked(sort: str, allowed: tuple[str, ...]) -> str:
    """``sort`` if it is one of ``allowed``; else UnknownSort, naming them."""
    if sort not in allowed:
        raise UnknownSort(f"unknown sort {sort!r}; choose one of {', '.join(allowed)}")
    return sort
