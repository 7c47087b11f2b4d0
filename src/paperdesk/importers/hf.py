"""Hugging Face Daily Papers: the API's JSON (``/api/daily_papers``) and a saved
papers page, whose HTML carries the same list as JSON (shared/FORMATS.md).

``parse_json(text)`` reads one response (an array of items) or several
responses concatenated as an array of arrays; ``parse_html(text)`` finds the
list inside a saved page. Both give one entry per item with its arXiv ID,
author names, dates, upvotes, comments, organisation, code and keywords.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from paperdesk.importers.dailypapers import DumpRejected, ParseResult, extract_links
from paperdesk.importers.records import (
    MAX_TITLE_CHARS,
    RecordWarning,
    arxiv_abs,
    arxiv_pdf,
    count,
    find_arxiv,
    http_link,
    iso_date,
    names,
    split_keywords,
    text,
    unique,
)
from paperdesk.model import Entry


def parse_json(source: str, origin: str = "hf-api") -> ParseResult:
    """Entries from a saved ``/api/daily_papers`` response; DumpRejected for a
    file that is not one (broken JSON, a wrapper object, Python-repr items)."""
    from paperdesk.importers.formats import _json

    return parse_items(items_of(_json(source)), origin)


def items_of(data: Any) -> list[Any]:
    if isinstance(data, dict):
        if "error" in data:
            raise DumpRejected(
                f"is an error response from Hugging Face: {text(data['error'], 200)}"
            )
        lists = [key for key, value in data.items() if isinstance(value, list)]
        inside = f" (the list is under {lists[0]!r})" if lists else ""
        raise DumpRejected(
            "is a JSON object, not the Daily Papers array"
            + inside
            + "; save the API's array itself"
        )
    if not isinstance(data, list):
        raise DumpRejected("is JSON but not the Daily Papers array")
    if data and all(isinstance(item, list) for item in data):  # several responses, concatenated
        return [item for page in data for item in page]
    strings = [item for item in data if isinstance(item, str)]
    if strings and len(strings) * 2 >= len(data):
        hint = " (Python str(dict) text)" if strings[0].lstrip().startswith("{'") else ""
        raise DumpRejected(
            f"holds its items as strings{hint}, not JSON objects: "
            "a broken save of the API's response"
        )
    return data


def parse_items(items: list[Any], origin: str) -> ParseResult:
    result = ParseResult(has_structure=True)
    for position, item in enumerate(items, start=1):
        try:
            entry = _entry(item, origin, position)
        except _Skip as skip:
            result.warnings.append(RecordWarning(position, str(skip), "item"))  # type: ignore[arg-type]
            continue
        result.entries.append(entry)
        result.page_dates.append(entry.page_date)
    if items and not result.entries:
        raise DumpRejected(f"holds no readable Daily Papers item ({result.warnings[0]})")
    return result


class _Skip(Exception):
    pass


def _entry(item: Any, origin: str, position: int) -> Entry:
    if not isinstance(item, dict):
        raise _Skip(f"is {type(item).__name__}, not an object")
    paper: dict[str, Any] = item["paper"] if isinstance(item.get("paper"), dict) else item
    title = text(item.get("title") or paper.get("title"), MAX_TITLE_CHARS)
    if not title:
        raise _Skip("has no title")
    arxiv = find_arxiv(paper.get("id"))
    arxiv_id, version = arxiv if arxiv else (None, None)
    authors = paper.get("authors")
    author_names = names(
        a.get("name", "")
        for a in (authors if isinstance(authors, list) else [])
        if isinstance(a, dict) and not a.get("hidden")
    )
    organization = None
    for holder in (paper, item):
        org = holder.get("organization")
        if isinstance(org, dict):
            organization = text(org.get("fullname") or org.get("name"), 200) or None
            if organization:
                break
    daily = iso_date(paper.get("submittedOnDailyAt")) or iso_date(item.get("publishedAt"))
    code = http_link(paper.get("githubRepo"))
    abstract = text(paper.get("summary") or item.get("summary"))
    links = unique(
        [
            f"https://huggingface.co/papers/{arxiv_id}" if arxiv_id else None,
            arxiv_abs(arxiv_id),
            code,
            http_link(paper.get("projectPage")),
            *extract_links(abstract),
        ]
    )
    published_raw = paper.get("publishedAt") if isinstance(paper.get("publishedAt"), str) else None
    return Entry(
        title=title,
        abstract=abstract,
        authors=len(author_names) if isinstance(authors, list) else None,
        organization=organization,
        published=iso_date(paper.get("publishedAt")),
        published_raw=published_raw[:40] if published_raw else None,
        upvotes=count(paper.get("upvotes")),
        links=links,
        line=position,
        page_date=daily,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        author_names=author_names,
        comments=count(item.get("numComments")),
        keywords=split_keywords(paper.get("ai_keywords")),
        github_stars=count(paper.get("githubStars")) if code else None,
        pdf=arxiv_pdf(arxiv_id),
        origin=origin,
    )


# A saved page carries its data in components' props: data-props="{&quot;...}".
_PROPS = re.compile(r"""data-props\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def parse_html(source: str) -> ParseResult:
    """Entries from a saved Hugging Face papers page; DumpRejected for a page
    that does not hold the list (another page, or one saved without its data)."""
    for match in _PROPS.finditer(source):
        raw = html.unescape(match.group(1) if match.group(1) is not None else match.group(2))
        if '"paper"' not in raw and '"dailyPapers"' not in raw:
            continue
        try:
            props = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):
            continue
        items = _find_items(props)
        if items:
            return parse_items(items, "hf-page")
    raise DumpRejected(
        "is an HTML page without the Daily Papers data in it (save the page itself from "
        "huggingface.co/papers, or use `paperdesk fetch hf`)"
    )


def _find_items(value: Any, depth: int = 0) -> list[Any] | None:
    """The first list of paper items in a page's props."""
    if depth > 8:
        return None
    if isinstance(value, dict):
        for key in ("dailyPapers", "papers"):
            found = value.get(key)
            if isinstance(found, list) and found and _is_item(found[0]):
                return found
        for inner in value.values():
            found = _find_items(inner, depth + 1)
            if found:
                return found
    elif isinstance(value, list) and value and _is_item(value[0]):
        return value
    return None


def _is_item(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("paper"), dict)
