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


class SearchCancelled(Exception):
    """A running search was cancelled by its caller (the app: typing went on).
    Not a problem to report: there is nothing to show."""


def damaged_message(library_path: object, problem: str) -> str:
    """What the user reads when the library file is found damaged (by a write,
    a read or a backup's check): what happened and what to do."""
    return (
        f"the library {library_path} is damaged ({problem}); it was left as it is and "
        "nothing more is written to it. `paperdesk restore` brings back the newest backup "
        "with every decision made since"
    )
