"""arXiv: the API's Atom (``export.arxiv.org/api/query``) and the listing feeds
(``rss.arxiv.org/rss/CATS`` as RSS 2.0, ``/atom/CATS`` as Atom), shared/FORMATS.md.

Read with the standard library's XML parser by local element names, so a
namespace declared on each element (the API since 2025) reads like one
declared on the root. Expat refuses entity expansion bombs, and no external
entity or DTD is ever fetched. In a listing, ``new`` and ``cross``
announcements are papers; ``replace`` and ``replace-cross`` are new versions
of papers already announced (``Entry.update_only``).
"""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree

from paperdesk.importers.dailypapers import DumpRejected, ParseResult, extract_links
from paperdesk.importers.records import (
    MAX_TITLE_CHARS,
    RecordWarning,
    arxiv_abs,
    arxiv_pdf,
    find_arxiv,
    iso_date,
    names,
    rfc822_date,
    text,
    unique,
)
from paperdesk.model import Entry, normalise_doi


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag.split(":")[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _first(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text_of(element: ElementTree.Element, name: str) -> str:
    found = _first(element, name)
    return "".join(found.itertext()) if found is not None else ""


def read_xml(source: str) -> ElementTree.Element:
    if "<!ENTITY" in source[:10000]:
        raise DumpRejected("declares XML entities, which paperdesk does not expand")
    try:
        return ElementTree.fromstring(source.lstrip("\ufeff").encode("utf-8"))
    except ElementTree.ParseError as error:
        raise DumpRejected(f"is not well-formed XML ({error})") from None


def kind_of(root: ElementTree.Element) -> str:
    """``arxiv-feed`` (a listing) or ``arxiv-api`` (a query's answer), from the XML."""
    if _local(root.tag) == "rss":
        return "arxiv-feed"
    feed_id = _text_of(root, "id")
    if "rss.arxiv.org" in feed_id or any(
        _first(entry, "announce_type") is not None for entry in _children(root, "entry")
    ):
        return "arxiv-feed"
    return "arxiv-api"


def parse(source: str) -> ParseResult:
    """Entries from arXiv XML of either kind; DumpRejected for an error answer."""
    return parse_root(read_xml(source))


def parse_root(root: ElementTree.Element) -> ParseResult:
    if _local(root.tag) == "rss":
        channel = _first(root, "channel")
        if channel is None:
            raise DumpRejected("is an RSS document without a channel")
        return _listing(channel, _children(channel, "item"), rss=True)
    if _local(root.tag) != "feed":
        raise DumpRejected(f"is XML but not an arXiv feed (its root is <{_local(root.tag)}>)")
    if kind_of(root) == "arxiv-feed":
        return _listing(root, _children(root, "entry"), rss=False)
    return _api(root)


def _feed_error(container: ElementTree.Element) -> None:
    title = text(_text_of(container, "title"), 300)
    if title.lower().startswith("feed error"):
        detail = text(_text_of(container, "description") or _text_of(container, "subtitle"), 300)
        raise DumpRejected(f"is an arXiv feed error: {detail or title}")


# --- the API --------------------------------------------------------------------------------


def _api(root: ElementTree.Element) -> ParseResult:
    result = ParseResult(has_structure=True)
    for position, entry in enumerate(_children(root, "entry"), start=1):
        ident = text(_text_of(entry, "id"), 300)
        if "arxiv.org/api/errors" in ident:
            reason = text(_text_of(entry, "summary"), 300) or text(_text_of(entry, "title"), 300)
            raise DumpRejected(f"is an arXiv API error: {reason}")
        found = find_arxiv(ident)
        title = text(_text_of(entry, "title"), MAX_TITLE_CHARS)
        primary = _first(entry, "primary_category")
        if not found or not title or (primary is not None and not primary.get("term")):
            result.warnings.append(
                RecordWarning(
                    position, "no arXiv ID or title (an ID that does not exist?)", "entry"
                )  # type: ignore[arg-type]
            )
            continue
        arxiv_id, version = found
        categories = [primary.get("term", "")] if primary is not None else []
        categories += [c.get("term", "") for c in _children(entry, "category")]
        author_names = names(_text_of(a, "name") for a in _children(entry, "author"))
        abstract = text(_text_of(entry, "summary"))
        pdf = next(
            (
                link.get("href")
                for link in _children(entry, "link")
                if link.get("title") == "pdf" and link.get("href")
            ),
            None,
        )
        published_text = text(_text_of(entry, "published"), 40)
        result.entries.append(
            Entry(
                title=title,
                abstract=abstract,
                authors=len(author_names) or None,
                published=iso_date(published_text),
                published_raw=published_text or None,
                links=unique([arxiv_abs(arxiv_id), *extract_links(abstract)]),
                line=position,
                arxiv_id=arxiv_id,
                arxiv_version=version,
                doi=normalise_doi(_text_of(entry, "doi")),
                author_names=author_names,
                categories=tuple(dict.fromkeys(c for c in categories if c)),
                pdf=_https(pdf) if pdf else arxiv_pdf(arxiv_id),
                origin="arxiv-api",
            )
        )
        result.page_dates.append(None)
    return result


def _https(url: str) -> str:
    return "https://" + url[len("http://") :] if url.startswith("http://") else url


# --- the listing feeds ----------------------------------------------------------------------

_ANNOUNCE = re.compile(r"Announce Type:\s*([\w-]+)", re.IGNORECASE)
_ABSTRACT = re.compile(r"^.*?Abstract:\s*", re.DOTALL)


def _listing(container: ElementTree.Element, items: list, rss: bool) -> ParseResult:
    _feed_error(container)
    result = ParseResult(has_structure=True)
    feed_day = (
        rfc822_date(_text_of(container, "pubDate") or _text_of(container, "lastBuildDate"))
        if rss
        else iso_date(_text_of(container, "updated"))
    )
    for position, item in enumerate(items, start=1):
        description = _text_of(item, "description") or _text_of(item, "summary")
        link = text(_text_of(item, "link"), 500) if rss else ""
        if not rss:
            link = next((a.get("href", "") for a in _children(item, "link") if a.get("href")), "")
        found = find_arxiv(_text_of(item, "id"), _text_of(item, "guid"), link, description)
        title = text(_text_of(item, "title"), MAX_TITLE_CHARS)
        if not found or not title:
            result.warnings.append(RecordWarning(position, "no arXiv ID or title", "item"))  # type: ignore[arg-type]
            continue
        arxiv_id, version = found
        announce = text(_text_of(item, "announce_type"), 40).lower()
        if not announce:
            match = _ANNOUNCE.search(description)
            announce = match.group(1).lower() if match else "new"
        abstract = text(_ABSTRACT.sub("", description, count=1))
        day = (
            rfc822_date(_text_of(item, "pubDate"))
            if rss
            else iso_date(_text_of(item, "published") or _text_of(item, "updated"))
        ) or feed_day
        creators = ", ".join("".join(c.itertext()) for c in _children(item, "creator"))
        author_names = names(re.split(r",\s*|\s+and\s+", creators)) if creators else ()
        replacement = announce.startswith("replace")
        result.entries.append(
            Entry(
                title=title,
                abstract=abstract,
                authors=len(author_names) or None,
                # A new announcement's day is the paper's; a replacement keeps its own.
                published=None if replacement else day,
                published_raw=None,
                links=unique([arxiv_abs(arxiv_id), *extract_links(abstract)]),
                line=position,
                page_date=day,
                arxiv_id=arxiv_id,
                arxiv_version=version,
                author_names=author_names,
                categories=tuple(
                    dict.fromkeys(
                        t
                        for c in _children(item, "category")
                        if (t := text(c.get("term") or "".join(c.itertext()), 40))
                    )
                ),
                pdf=arxiv_pdf(arxiv_id),
                origin="arxiv-feed",
                update_only=replacement,
            )
        )
        result.page_dates.append(day)
    return result


def listing_day(result: ParseResult) -> date | None:
    days = [d for d in result.page_dates if d]
    return max(days) if days else None
