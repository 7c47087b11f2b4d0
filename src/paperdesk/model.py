"""Papers and the user's state of them, as plain frozen dataclasses. No I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

# typing costs 3-5 ms to import; only the type checker needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PUNCT_AND_SPACE = re.compile(r"[\W_]+", re.UNICODE)


class _Pattern:
    """A regular expression compiled when first used: most commands never read an
    arXiv ID or a DOI, and compiling these takes longer than starring a paper."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        method = getattr(re.compile(*self._args), name)
        setattr(self, name, method)  # later calls go straight to the compiled pattern
        return method


ID_LENGTH = 10
MIN_ID_PREFIX = 4


def collapse_whitespace(text: str) -> str:
    """Collapse every whitespace run to one space and trim the ends."""
    return " ".join(text.split())


def normalise_title(title: str) -> str:
    """The identity of a paper: NFKC, case-folded, punctuation and spaces collapsed."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _PUNCT_AND_SPACE.sub(" ", folded).strip()


def paper_id(title: str) -> str:
    """A short ID, the same on every machine: BLAKE2b of the normalised title."""
    return id_of_normalised(normalise_title(title))


def id_of_normalised(normalised: str) -> str:
    import hashlib  # here: only imports make IDs, and hashlib takes 3 ms to load

    digest = hashlib.blake2b(normalised.encode("utf-8"), digest_size=16)
    return digest.hexdigest()[:ID_LENGTH]


def normalise_tag(tag: str) -> str:
    """Tags are lower-case words; inner spaces become dashes."""
    return "-".join(collapse_whitespace(unicodedata.normalize("NFKC", tag)).casefold().split())


MAX_TAG_CHARS = 64


def is_punctuation(text: str) -> bool:
    """Whether ``text`` is marks alone (dashes, dots, ``&``, quotes): no letter,
    digit or symbol. A search's bare word of such marks adds nothing."""
    return bool(text) and all(unicodedata.category(char)[0] == "P" for char in text)


def check_tag(tag: str) -> str:
    """A tag as the library keeps it; ValueError for one that is empty, too long
    or punctuation alone (a search could find it only as ``tag:-``)."""
    normalised = normalise_tag(tag)
    if not normalised:
        raise ValueError("a tag cannot be empty")
    if is_punctuation(normalised):
        raise ValueError(f"a tag needs a letter, a digit or a symbol, not only {normalised!r}")
    if len(normalised) > MAX_TAG_CHARS:
        raise ValueError(
            f"a tag is at most {MAX_TAG_CHARS} characters; this one has {len(normalised):,}"
        )
    return normalised


def fold_accents(text: str) -> str:
    """Text without its accents (``ünïcode`` -> ``unicode``), for matching only."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# C0 and C1 control characters, DEL, and the bidirectional overrides, which can
# move or hide text: none may reach a terminal raw from a paper or a state file.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """Text safe to print: control characters (an escape sequence's ESC among them)
    become visible symbols (ESC is shown as U+241B); tabs and newlines stay."""
    return _CONTROL.sub(_picture, text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


@dataclass(frozen=True)
class Source:
    """Where a paper was seen: the dump's file name and the listing's date."""

    file: str
    page_date: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "page_date": self.page_date}


# An arXiv identifier: new style (2510.14545, 0704.0001) or old (hep-ph/9411242),
# with an optional version; inside a URL or after "arXiv:" too.
_ARXIV_ID = _Pattern(
    r"(?<![\w.])(?:arxiv:\s*)?"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d{1,3}))?"
    r"(?![\w.]*\d)",
    re.IGNORECASE,
)
_ARXIV_URL = _Pattern(
    r"arxiv\.org/(?:abs|pdf|html)/(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})"
    r"(?:v(?P<version>\d{1,3}))?",
    re.IGNORECASE,
)
_ARXIV_DOI = _Pattern(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_DOI = _Pattern(r"(10\.\d{4,9}/\S+|^10/[a-z0-9]+$)", re.IGNORECASE)


def arxiv_id_of(text: str | None) -> tuple[str, int | None] | None:
    """The arXiv ID (without its version) and the version in ``text``: a bare ID,
    ``arXiv:ID``, an abstract or PDF URL, or an arXiv DOI; None if there is none."""
    if not text:
        return None
    text = text.strip()
    doi = _ARXIV_DOI.match(text)
    if doi:
        text = doi.group(1)
    match = _ARXIV_URL.search(text) or _ARXIV_ID.fullmatch(text)
    if match is None and "arxiv" in text.lower():
        match = _ARXIV_ID.search(text)
    if match is None:
        return None
    ident = match.group("id")
    ident = ident if "/" not in ident else ident.lower()
    version = match.group("version")
    return ident, int(version) if version else None


def normalise_doi(text: str | None) -> str | None:
    """A DOI as the library keeps it: lower-case, without a resolver prefix; None
    when ``text`` holds none. arXiv's own DOIs (10.48550/arXiv.*) are arXiv IDs."""
    if not text:
        return None
    match = _DOI.search(text.strip())
    if not match:
        return None
    doi = match.group(1).rstrip(".,;)}]").lower()
    if _ARXIV_DOI.match(doi):
        return None
    return doi


@dataclass(frozen=True)
class Entry:
    """One paper as a single dump shows it, before it meets the library.

    ``origin`` names the format it came from (``dailypapers``, ``hf-api``,
    ``arxiv``, ``bibtex``...): the library keeps, for each field, the origin
    that gave it. ``update_only`` is an arXiv replacement: it updates a paper
    the library knows and never adds one.
    """

    title: str
    abstract: str
    authors: int | None = None
    organization: str | None = None
    published: date | None = None
    published_raw: str | None = None
    upvotes: int | None = None
    links: tuple[str, ...] = ()
    line: int = 0
    # How much of ``published`` the source gave: "year", "month" or "day" (a
    # year alone is kept as its first day, which is not a day the source gave).
    published_precision: str = "day"
    page_date: date | None = None
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    author_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    comments: int | None = None
    keywords: tuple[str, ...] = ()
    github_stars: int | None = None
    pdf: str | None = None
    origin: str = "dailypapers"
    update_only: bool = False

    @property
    def id(self) -> str:
        return paper_id(self.title)


@dataclass(frozen=True)
class Paper:
    """A paper in the library: what the dumps said plus what the user decided."""

    id: str
    title: str
    abstract: str = ""
    authors: int | None = None
    organization: str | None = None
    published: date | None = None
    published_raw: str | None = None
    upvotes: int | None = None
    links: tuple[str, ...] = ()
    read: bool = False
    starred: bool = False
    tags: tuple[str, ...] = ()
    first_seen: str = ""
    sources: tuple[Source, ...] = field(default_factory=tuple)
    arxiv_id: str | None = None
    arxiv_version: int | None = None
    doi: str | None = None
    author_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    comments: int | None = None
    keywords: tuple[str, ...] = ()
    github_stars: int | None = None
    pdf: str | None = None
    # Which format gave each field: (("abstract", "hf-api"), ("doi", "bibtex"), ...).
    origins: tuple[tuple[str, str], ...] = ()
    dismissed: bool = False  # "not for me"
    interest: float | None = None  # in [0, 1], from the model of the user's decisions
    note: str | None = None  # the user's Markdown note (None: none written)
    published_precision: str = "day"  # "year" or "month" for a bibliography's partial date

    def to_json(self) -> dict[str, Any]:
        """The paper object of ``--json`` output and the JSON export."""
        return {
            "id": self.id,
            "title": self.title,
            "abstract": self.abstract,
            "authors": self.authors,
            "organization": self.organization,
            "published": self.published.isoformat() if self.published else None,
            "published_raw": self.published_raw,
            "upvotes": self.upvotes,
            "links": list(self.links),
            "read": self.read,
            "starred": self.starred,
            "tags": list(self.tags),
            "first_seen": self.first_seen,
            "sources": [source.to_json() for source in self.sources],
            # What other sources tell (library schema 5): null or empty when unknown.
            "author_names": list(self.author_names),
            "arxiv_id": self.arxiv_id,
            "arxiv_version": self.arxiv_version,
            "doi": self.doi,
            "categories": list(self.categories),
            "comments": self.comments,
            "keywords": list(self.keywords),
            "github_stars": self.github_stars,
            "pdf": self.pdf,
            "field_sources": dict(self.origins),
            "dismissed": self.dismissed,
            "interest": None if self.interest is None else round(self.interest, 4),
            "note": self.note,
            # "year" or "month" (a bibliography's partial date): "published" is then
            # the first day of that year or month.
            "published_precision": self.published_precision,
        }


PRECISIONS = ("year", "month", "day")


def published_text(published: date | None, precision: str = "day") -> str:
    """A date as much as it is known: ``2019``, ``2019-05`` or ``2019-05-17``
    (ISO 8601's reduced forms; "" for none)."""
    if published is None:
        return ""
    text = published.isoformat()
    return text[:4] if precision == "year" else text[:7] if precision == "month" else text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def facts(paper: Paper) -> list[str]:
    """A paper's facts line, the same in the CLI, the preview and exports: its
    date, authors, upvotes, comments, organisation, arXiv ID and first
    categories (each left out when unknown)."""
    found = [
        published_text(paper.published, paper.published_precision) or "no date",
        _count(paper.authors, "author") if paper.authors is not None else None,
        _count(paper.upvotes, "upvote") if paper.upvotes is not None else None,
        _count(paper.comments, "comment") if paper.comments else None,
        paper.organization,
        f"arXiv:{paper.arxiv_id}" if paper.arxiv_id else None,
        " ".join(paper.categories[:3]) if paper.categories else None,
    ]
    return [fact for fact in found if fact]


def author_line(names: tuple[str, ...], limit: int = 6) -> str:
    """Author names for one line: the first ``limit``, then how many more."""
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def details(paper: Paper) -> list[tuple[str, str]]:
    """What other sources told about a paper, label and value, each left out when
    unknown: the same in ``show``, the preview and the Markdown export."""
    found = [
        ("by", author_line(paper.author_names) if paper.author_names else ""),
        ("cats", " ".join(paper.categories)),
        ("doi", paper.doi or ""),
        ("keys", ", ".join(paper.keywords[:8]) + (" …" if len(paper.keywords) > 8 else "")),
        ("code", f"{paper.github_stars:,} stars" if paper.github_stars is not None else ""),
        ("pdf", paper.pdf or ""),
    ]
    return [(label, value) for label, value in found if value]
