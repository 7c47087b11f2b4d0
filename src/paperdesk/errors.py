"""The errors paperdesk gives its user: each message says what and what to do.

Light on purpose (no imports): the search engine, the library and the
command line all raise them, and catching one loads nothing else.
"""

from __future__ import annotations


class LibraryError(Exception):
    """The library cannot be used; the message says what and what to do."""


class LibraryDamaged(LibraryError):
    """The library file is damaged: it is left as it is and nothing more is written."""


class BadInput(LibraryError):
    """A value the user gave that cannot be used (an empty or over-long tag)."""


class UnknownPaper(LibraryError):
    """An ID (or ID prefix) that names no paper, or more than one."""
