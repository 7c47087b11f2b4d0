"""Which format a file is, told by its content (never by its name), and the
parser of each. ``FORMATS`` are the names ``paperdesk import --format`` takes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from paperdesk.importers.dailypapers import DumpRejected, ParseResult

FORMATS = (
    "dailypapers",  # a saved Daily Papers page as text (shared/FORMAT.md)
    "hf-api",  # the Hugging Face Daily Papers API's JSON
    "hf-page",  # a saved Hugging Face papers page (HTML)
    "arxiv-api",  # the arXiv API's Atom
    "arxiv-feed",  # an arXiv listing feed (RSS 2.0 or Atom)
    "bibtex",
    "ris",
    "csl-json",
)
# The file names a directory import takes (the content still decides the format).
SUFFIXES = (".txt", ".json", ".html", ".htm", ".xml", ".atom", ".rss", ".bib", ".bibtex", ".ris")

SNIFF_CHARS = 8192
_BIBTEX = re.compile(r"^[ \t]*@[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_RIS = re.compile(r"^TY  - ", re.MULTILINE)
_HTML = re.compile(r"<html[\s>]|<!doctype html", re.IGNORECASE)


def detect(head: str) -> str:
    """The format of a file from its first characters."""
    start = head.lstrip("\ufeff \t\r\n")[:SNIFF_CHARS]
    if start.startswith(("[", "{")):
        return "json"  # told apart once parsed: see parse
    if start.startswith("<"):
        if _HTML.search(start):
            return "hf-page"
        return "xml"
    if _RIS.search(start):
        return "ris"
    if _BIBTEX.search(start):
        return "bibtex"
    return "dailypapers"


def parse(text: str, forced: str | None = None) -> tuple[str, ParseResult]:
    """A file's format and entries; DumpRejected says in one line why it cannot be
    read. (The pipeline reads large Daily Papers dumps in pieces instead.)"""
    kind = forced or detect(text)
    if kind == "dailypapers":
        from paperdesk.importers import dailypapers

        result = dailypapers.parse(text)
        dailypapers.check_is_dump(result)
        return kind, result
    if kind in ("json", "hf-api", "csl-json"):
        data = _json(text)
        from paperdesk.importers import bibliography, hf

        if kind == "csl-json" or (kind == "json" and bibliography.looks_like_csl(data)):
            return "csl-json", bibliography.parse_csl_data(data)
        return "hf-api", hf.parse_items(hf.items_of(data), "hf-api")
    if kind in ("xml", "arxiv-api", "arxiv-feed"):
        from paperdesk.importers import arxiv

        root = arxiv.read_xml(text)
        found = arxiv.kind_of(root)
        if kind != "xml" and found != kind:
            raise DumpRejected(f"is not {kind} but {found}; leave out --format or give that one")
        return found, arxiv.parse_root(root)
    parsers: dict[str, Callable[[str], ParseResult]] = {
        "hf-page": _lazy("hf", "parse_html"),
        "bibtex": _lazy("bibliography", "parse_bibtex"),
        "ris": _lazy("bibliography", "parse_ris"),
    }
    return kind, parsers[kind](text)


def _lazy(module: str, name: str) -> Callable[[str], ParseResult]:
    def call(text: str) -> ParseResult:
        import importlib

        return getattr(importlib.import_module(f"paperdesk.importers.{module}"), name)(text)

    return call


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        reason = getattr(error, "msg", "nested too deeply")
        where = f" at line {error.lineno}" if isinstance(error, json.JSONDecodeError) else ""
        raise DumpRejected(f"is not valid JSON ({reason}{where})") from None
