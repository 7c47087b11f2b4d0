"""A researcher's own bibliography: BibTeX (through ``bibtexparser`` v2 and its
LaTeX-decoding and name middleware), RIS (through ``rispy``) and CSL-JSON,
the exports of Zotero, JabRef, DBLP, arXiv and Google Scholar.

An entry's arXiv ID is found where each format keeps it (``eprint`` with
``archiveprefix = {arXiv}`` or ``eprinttype = {arxiv}``, an arXiv URL, DOI,
journal or note); its DOI and keywords are kept too. ``@string`` macros,
``#`` concatenation, month macros and ``crossref`` inheritance are resolved.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from paperdesk.importers.dailypapers import DumpRejected, ParseResult
from paperdesk.importers.records import (
    MAX_AUTHORS,
    MAX_TITLE_CHARS,
    RecordWarning,
    arxiv_abs,
    arxiv_pdf,
    dated,
    delatex,
    find_arxiv,
    http_link,
    names,
    person,
    split_keywords,
    text,
    unique,
)
from paperdesk.model import Entry, normalise_doi

_MONTHS = {m: n for n, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def _bib_value(value: Any) -> str:
    return value if isinstance(value, str) else str(value) if value is not None else ""


def _strip_braces(value: str) -> str:
    return collapse(value.replace("{", "").replace("}", ""))


def collapse(value: str) -> str:
    return " ".join(value.split())


def _interpolate(raw: str, strings: dict[str, str]) -> str:
    """A value joined with ``#`` from macros, braced and quoted parts."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in raw:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        if char == "#" and depth == 0 and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    out = []
    for index, piece in enumerate(parts):
        # One space either side of each "#" separates; more is the value's own.
        if index and piece[:1].isspace():
            piece = piece[1:]
        if index < len(parts) - 1 and piece[-1:].isspace():
            piece = piece[:-1]
        part = piece.strip()
        if (
            part.lower() not in strings
            and part.lower() not in _MONTHS
            and not (len(part) >= 2 and part[0] + part[-1] in ("{}", '""'))
        ):
            out.append(piece)
        elif len(part) >= 2 and part[0] + part[-1] in ("{}", '""'):
            out.append(part[1:-1])
        elif part.lower() in strings:
            out.append(strings[part.lower()])
        elif part.lower() in _MONTHS:
            out.append(str(_MONTHS[part.lower()]))
        else:
            out.append(part)
    return "".join(out)


def parse_bibtex(source: str) -> ParseResult:
    """Entries from BibTeX or BibLaTeX; a block that cannot be read (an unclosed
    brace) or a duplicate key is a warning naming its line."""
    import bibtexparser
    from bibtexparser import middlewares

    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    try:
        library = bibtexparser.parse_string(
            source,
            append_middleware=[
                middlewares.MonthIntMiddleware(True),
                # Names are split before LaTeX is decoded: decoding drops the braces
                # that keep "{Smith and Sons}" one name (the names are decoded below).
                middlewares.SeparateCoAuthors(),
                middlewares.SplitNameParts(),
                middlewares.LatexDecodingMiddleware(),
            ],
        )
    except RecursionError:
        raise DumpRejected("is nested too deeply to be BibTeX") from None
    except Exception as error:  # noqa: BLE001 - the parser's own errors are many
        raise DumpRejected(f"cannot be read as BibTeX ({type(error).__name__}: {error})") from None
    result = ParseResult(has_structure=True)
    for block in library.failed_blocks:
        line = (block.start_line or 0) + 1
        if type(block).__name__ == "DuplicateBlockKeyBlock":
            message = f"duplicate key {getattr(block, 'key', '?')!r}: the first entry is kept"
        else:
            message = "cannot be read (an unclosed brace or quote?); skipped"
        result.warnings.append(RecordWarning(line, message, "entry at line"))  # type: ignore[arg-type]
    strings = {s.key.lower(): _bib_value(s.value) for s in library.strings}
    raw = {e.key.lower(): e for e in library.entries}
    for entry in library.entries:
        fields = {f.key.lower(): f.value for f in entry.fields}
        parent_key = _bib_value(fields.get("crossref")).strip().lower()
        if parent_key in raw and raw[parent_key] is not entry:
            for f in raw[parent_key].fields:
                fields.setdefault(f.key.lower(), f.value)
                if f.key.lower() == "title":
                    fields.setdefault("booktitle", f.value)
        line = (entry.start_line or 0) + 1
        made = _bib_entry(fields, strings, line)
        if made is None:
            result.warnings.append(RecordWarning(line, "has no title; skipped", "entry at line"))  # type: ignore[arg-type]
            continue
        result.entries.append(made)
        result.page_dates.append(None)
    if not result.entries:
        reason = f" ({result.warnings[0]})" if result.warnings else ""
        raise DumpRejected(f"holds no BibTeX entry that could be read{reason}")
    return result


def _field(fields: dict, name: str, strings: dict[str, str]) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        if "#" in value or value.strip().lower() in strings:
            value = delatex(_interpolate(value, strings))
        return _strip_braces(value)
    return _strip_braces(_bib_value(value))


def _bib_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        found = []
        for name in value:
            if hasattr(name, "first"):
                parts = [*name.first, *name.von, *name.last]
                full = " ".join(parts)
                if name.jr:
                    full += ", " + " ".join(name.jr)
                # Already split: decode and unbrace, but never swap at a comma.
                found.append(_strip_braces(delatex(full)))
            elif isinstance(name, str):
                found.append(person(name))
        return tuple(n for n in found if n and n.lower() != "others")[:MAX_AUTHORS]
    if isinstance(value, str):
        return names(re.split(r"\s+and\s+", value))
    return ()


def _bib_entry(fields: dict, strings: dict[str, str], line: int) -> Entry | None:
    title = text(_field(fields, "title", strings), MAX_TITLE_CHARS)
    if not title:
        return None
    prefix = _field(fields, "archiveprefix", strings) or _field(fields, "eprinttype", strings)
    eprint = _field(fields, "eprint", strings)
    candidates = [f"arXiv:{eprint}" if prefix.lower() == "arxiv" or not prefix else ""]
    candidates += [
        _field(fields, k, strings) for k in ("url", "doi", "journal", "note", "howpublished")
    ]
    arxiv = find_arxiv(*candidates)
    arxiv_id, version = arxiv if arxiv else (None, None)
    doi = normalise_doi(_field(fields, "doi", strings))
    year = _field(fields, "year", strings)
    month = _field(fields, "month", strings)
    day = _field(fields, "day", strings)
    iso = _field(fields, "date", strings)
    published, precision = None, "day"
    if iso:
        bits = re.match(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", iso)
        if bits:
            published, precision = dated(int(bits[1]), bits[2], bits[3])
    if published is None and year:
        number = _MONTHS.get(month.strip().lower()[:3]) if not month.isdigit() else month
        published, precision = dated(year, number, day if day.isdigit() else None)
    raw_date = iso or " ".join(p for p in (year, month, day) if p) or None
    author_names = _bib_names(fields.get("author") or fields.get("editor"))
    url = http_link(_field(fields, "url", strings))
    abstract = text(_field(fields, "abstract", strings))
    keywords = split_keywords(_field(fields, "keywords", strings))
    categories = tuple(c for c in [_field(fields, "primaryclass", strings)] if c)
    return Entry(
        title=title,
        abstract=abstract,
        authors=len(author_names) or None,
        published=published,
        published_raw=raw_date,
        published_precision=precision,
        links=unique([url, arxiv_abs(arxiv_id)]),
        line=line,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=doi,
        author_names=author_names,
        categories=categories if arxiv_id else (),
        keywords=keywords,
        pdf=arxiv_pdf(arxiv_id)
        if arxiv_id
        else (url if url and url.lower().endswith(".pdf") else None),
        origin="bibtex",
    )


# --- RIS ------------------------------------------------------------------------------------


_RIS_START = re.compile(r"^TY  - ", re.MULTILINE)
_RIS_END = re.compile(r"^ER  -", re.MULTILINE)


def parse_ris(source: str) -> ParseResult:
    """Entries from RIS (``TY  -`` ... ``ER  -``); a record without a title is a
    warning by its position."""
    import rispy

    result = ParseResult(has_structure=True)
    starts = [m.start() for m in _RIS_START.finditer(source)]
    ends = [m.start() for m in _RIS_END.finditer(source)]
    if starts and (not ends or ends[-1] < starts[-1]):
        # rispy drops a record without its end line; read it to the end of the file.
        source = source.rstrip() + "\nER  - \n"
        result.warnings.append(
            RecordWarning(len(starts), "has no end line (ER); read to the end of the file")  # type: ignore[arg-type]
        )
    try:
        records = rispy.loads(source)
    except Exception as error:  # noqa: BLE001 - rispy raises plain IOError/ValueError
        raise DumpRejected(f"cannot be read as RIS ({error})") from None
    return _collect(result, records, _ris_entry, "record", "RIS record")


def _ris_entry(record: dict, position: int) -> Entry | None:
    def one(*keys: str) -> str:
        for key in keys:
            value = record.get(key)
            if isinstance(value, list):
                value = value[0] if value else ""
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    title = text(one("title", "primary_title", "translated_title"), MAX_TITLE_CHARS)
    if not title:
        return None
    authors = [*record.get("authors", []), *record.get("first_authors", [])]
    author_names = names(a for a in authors if isinstance(a, str))
    urls = [u for u in record.get("urls", []) if isinstance(u, str)]
    arxiv = find_arxiv(
        *urls, one("doi"), one("notes", "note"), one("secondary_title", "journal_name")
    )
    arxiv_id, version = arxiv if arxiv else (None, None)
    raw_date = one("date", "publication_year", "year")
    bits = re.match(r"(\d{4})(?:[/-](\d{1,2}))?(?:[/-](\d{1,2}))?", raw_date) if raw_date else None
    published, precision = dated(int(bits[1]), bits[2], bits[3]) if bits else (None, "day")
    abstract = text(one("abstract", "notes_abstract"))
    return Entry(
        title=title,
        abstract=abstract,
        authors=len(author_names) or None,
        published=published,
        published_raw=raw_date or None,
        published_precision=precision,
        links=unique(
            [
                *(http_link(u) for u in urls),
                arxiv_abs(arxiv_id),
            ]
        ),
        line=position,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=normalise_doi(one("doi")),
        author_names=author_names,
        keywords=split_keywords(record.get("keywords", [])),
        pdf=arxiv_pdf(arxiv_id),
        origin="ris",
    )


# --- CSL-JSON -------------------------------------------------------------------------------


def looks_like_csl(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(item, dict) for item in data[:20])
        and any(("type" in item or "issued" in item) and "title" in item for item in data[:20])
        and not any("paper" in item for item in data[:20])
    )


def parse_csl(source: str) -> ParseResult:
    """Entries from CSL-JSON (an array of items)."""
    from paperdesk.importers.formats import _json

    return parse_csl_data(_json(source))


def parse_csl_data(data: Any) -> ParseResult:
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise DumpRejected("is JSON but not a CSL-JSON array of items")
    return _collect(ParseResult(has_structure=True), data, _csl_entry, "item", "CSL-JSON item")


def _collect(
    result: ParseResult,
    records: list[Any],
    make: Callable[[dict, int], Entry | None],
    what: str,
    kind: str,
) -> ParseResult:
    """Each record as an entry; one without a title is a warning by its position,
    and a file of none is refused."""
    for position, record in enumerate(records, start=1):
        made = make(record, position) if isinstance(record, dict) else None
        if made is None:
            result.warnings.append(RecordWarning(position, "has no title; skipped", what))  # type: ignore[arg-type]
            continue
        result.entries.append(made)
        result.page_dates.append(None)
    if not result.entries:
        reason = f" ({result.warnings[0]})" if result.warnings else ""
        raise DumpRejected(f"holds no {kind} that could be read{reason}")
    return result


def _csl_entry(item: dict, position: int) -> Entry | None:
    title = text(item.get("title"), MAX_TITLE_CHARS)
    if not title:
        return None
    author_names = []
    for author in item.get("author") or []:
        if isinstance(author, dict):
            if author.get("literal"):
                author_names.append(str(author["literal"]))
            else:
                given, family = author.get("given") or "", author.get("family") or ""
                author_names.append(f"{given} {family}".strip())
    issued = item.get("issued")
    published, precision = None, "day"
    raw_date = None
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            first = [*parts[0], None, None]
            published, precision = dated(*first[:3])
            raw_date = "-".join(str(p) for p in parts[0][:3])
        elif isinstance(issued.get("raw"), str):
            raw_date = issued["raw"][:40]
            published, precision = dated(raw_date)  # the year of free text
    url = http_link(item.get("URL"))
    doi = normalise_doi(item.get("DOI") if isinstance(item.get("DOI"), str) else None)
    if doi is None or doi.startswith("10/"):  # a short DOI: the URL may hold the full one
        doi = normalise_doi(url if url and "doi.org/10." in url else None) or doi
    arxiv = find_arxiv(
        item.get("URL"),
        item.get("DOI"),
        item.get("number") if item.get("publisher") == "arXiv" else None,
        item.get("container-title"),
        item.get("note"),
    )
    arxiv_id, version = arxiv if arxiv else (None, None)
    return Entry(
        title=title,
        abstract=text(item.get("abstract")),
        authors=len(author_names) or None,
        published=published,
        published_raw=raw_date,
        published_precision=precision,
        links=unique([url, arxiv_abs(arxiv_id)]),
        line=position,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        doi=doi,
        author_names=names(person(n) for n in author_names),
        keywords=split_keywords(item.get("keyword")),
        pdf=arxiv_pdf(arxiv_id),
        origin="csl-json",
    )
