"""What the structured importers share: a warning by record position, dates
and names read leniently, the links of an arXiv paper, bounded text.

Each structured format (Hugging Face JSON and pages, arXiv Atom and feeds,
BibTeX, RIS, CSL-JSON) is a pure function from text to a ``ParseResult``
(``dailypapers.ParseResult``) and raises ``DumpRejected`` with one line when
the file as a whole cannot be read. A bad record is skipped with a warning
naming its position; the good ones are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from paperdesk.model import arxiv_id_of, collapse_whitespace

MAX_ABSTRACT_CHARS = 50_000
MAX_TITLE_CHARS = 1_000
MAX_AUTHORS = 5_000


@dataclass(frozen=True)
class RecordWarning:
    """A record that was skipped or partly read, by its position in the file."""

    position: int
    message: str
    what: str = "record"

    def __str__(self) -> str:
        return f"{self.what} {self.position}: {self.message}"


def text(value: object, limit: int = MAX_ABSTRACT_CHARS) -> str:
    """A value as one line of text: whitespace runs collapsed, bounded."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value) if isinstance(value, int | float) else ""
    return collapse_whitespace(value)[:limit]


def count(value: object) -> int | None:
    """A non-negative whole number, or None (absent is not zero)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**31 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number < 2**31 else None
    return None


_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)")


def iso_date(value: object) -> date | None:
    """The day of an ISO 8601 time (``2025-10-16T10:40:52.000Z``), or None."""
    if not isinstance(value, str):
        return None
    match = _ISO_DAY.match(value)
    if not match:
        return None
    return safe_date(int(match[1]), int(match[2]), int(match[3]))


def rfc822_date(value: str | None) -> date | None:
    """The day of an RSS ``pubDate`` (``Wed, 20 Aug 2025 00:00:00 -0400``)."""
    if not value:
        return None
    from email.utils import parsedate_tz

    parts = parsedate_tz(value)
    if not parts:
        return iso_date(value)
    return safe_date(parts[0], parts[1], parts[2])


def safe_date(year: int, month: int = 1, day: int = 1) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, TypeError, OverflowError):
        return None


def year_of(value: object) -> int | None:
    match = _YEAR.search(str(value)) if value is not None else None
    return int(match[1]) if match else None


def delatex(value: str) -> str:
    """LaTeX accents and escapes as Unicode (``Andr\\'e`` -> ``André``); text
    without a backslash is returned as it is."""
    if "\\" not in value:
        return value
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        return LatexNodes2Text(strict_latex_spaces=True).latex_to_text(value)
    except Exception:  # noqa: BLE001 - a name is better raw than lost
        return value


def person(name: str) -> str:
    """A name as people write it: "Rønnow, Troels F." -> "Troels F. Rønnow"."""
    name = collapse_whitespace(delatex(name).replace("{", "").replace("}", ""))
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if first and last:
            return f"{first} {last}"
    return name.strip(", ")


def names(values: Iterable[str]) -> tuple[str, ...]:
    found = [person(v) for v in values if isinstance(v, str) and v.strip()]
    return tuple(n for n in found if n)[:MAX_AUTHORS]


def split_keywords(value: object) -> tuple[str, ...]:
    """Keywords from a list or a comma- or semicolon-separated string."""
    items: list[str] = []
    if isinstance(value, str):
        items = re.split(r"[;,]", value)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                items.extend(re.split(r"[;,]", item) if ";" in item else [item])
    return tuple(dict.fromkeys(k for k in (collapse_whitespace(i) for i in items) if k))[:200]


def arxiv_abs(arxiv_id: str | None) -> str | None:
    """The abstract page of an arXiv paper (None without an ID)."""
    return f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None


def arxiv_pdf(arxiv_id: str | None) -> str | None:
    """The PDF of an arXiv paper (None without an ID)."""
    return f"https://arxiv.org/pdf/{arxiv_id}" if arxiv_id else None


def find_arxiv(*values: object) -> tuple[str, int | None] | None:
    """The first arXiv ID in any of the values (an eprint, a URL, a note)."""
    for value in values:
        if isinstance(value, str) and value:
            found = arxiv_id_of(value)
            if found:
                return found
    return None


def http_link(value: object) -> str | None:
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        link = value.strip()
        return link if " " not in link and len(link) < 2000 else None
    return None


def unique(links: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(link for link in links if link))


def date_from_parts(year: object, month: object = None, day: object = None) -> date | None:
    """A day from a year and an optional month and day (numbers or text); a
    missing month or day counts as the first."""
    return dated(year, month, day)[0]


def dated(year: object, month: object = None, day: object = None) -> tuple[date | None, str]:
    """``date_from_parts`` and how much of it the parts gave ("year", "month" or
    "day"): a month or day that is missing, or no real one, is not known."""
    y = count(year) if not isinstance(year, str) else year_of(year)
    if y is None:
        return None, "day"
    m, d = count(month), count(day)
    if m and d and (found := safe_date(y, m, d)):
        return found, "day"
    if m and (found := safe_date(y, m, 1)):
        return found, "month"
    return safe_date(y, 1, 1), "year"
