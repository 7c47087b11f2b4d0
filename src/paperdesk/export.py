r"""Papers to Markdown, BibTeX, CSV and JSON: pure functions.

What each format guarantees (checked in the tests with the programs users feed
them to: bibtex, biber, pdflatex, GitHub's cmark-gfm, a CSV reader):

- ``bibtex``: ASCII only, so pdflatex + bibtex and pdflatex + biblatex/biber
  compile it; accents and symbols become LaTeX commands of the kernel, other
  characters (CJK, emoji) a visible ``<U+4E2D>``. Braces, backslashes and every
  LaTeX special in titles and abstracts print literally and never unbalance an
  entry. Keys depend on the paper alone (first title word, year, the first
  four characters of its ID), so a ``\cite`` keeps pointing at the same paper
  whatever else is exported later.
- ``biblatex``: the same entries with Unicode kept as it is, for biber with
  xelatex or lualatex (or pdflatex with inputenc).
- ``md``: GitHub-flavoured Markdown; text prints literally, links work.
- ``csv``: RFC 4180; a cell that a spreadsheet would run as a formula (it
  starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a
  leading ``'`` (OWASP's rule). ``excel=True`` adds a byte-order mark so
  spreadsheets read UTF-8.
- ``json``: the paper objects of ``list --json``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from paperdesk.model import Paper, author_line, facts, published_text

FORMATS = ("md", "bibtex", "biblatex", "csv", "json")
GROUPS = ("tag", "date", "none")
CSV_COLUMNS = (
    "id",
    "title",
    "published",
    "authors",
    "upvotes",
    "organization",
    "tags",
    "links",
    "read",
    "starred",
    "abstract",
    # Version 5 of the library: what other sources tell (after the first
    # columns, so scripts reading those by position keep working).
    "arxiv_id",
    "doi",
    "author_names",
    "categories",
    "keywords",
    "comments",
    "github_stars",
    "pdf",
    "note",  # the user's note (library 8)
)


class ExportError(ValueError):
    """An export that cannot be made as asked."""


def newest_first(papers: Sequence[Paper]) -> list[Paper]:
    """Published date, newest first; undated papers last, then by title."""
    return sorted(
        papers,
        key=lambda p: (
            p.published is None,
            -(p.published or date.min).toordinal(),
            p.title.casefold(),
        ),
    )


def render(
    papers: Sequence[Paper],
    fmt: str,
    *,
    title: str = "Starred papers",
    group_by: str = "tag",
    with_abstracts: bool = False,
    today: date | None = None,
    excel: bool = False,
) -> str:
    """The whole document for one format."""
    if fmt == "md":
        return to_markdown(
            papers, title=title, group_by=group_by, with_abstracts=with_abstracts, today=today
        )
    if fmt in ("bibtex", "biblatex"):
        return to_bibtex(papers, ascii_only=fmt == "bibtex")
    if fmt == "csv":
        return to_csv(papers, excel=excel)
    if fmt == "json":
        return to_json(papers)
    raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


# --- Markdown ---------------------------------------------------------------------------

# Every character CommonMark or GitHub gives a meaning, "$" for dollar maths.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$&])")
# What GitHub would turn into a link by itself (http://..., www....): escaping
# its ":" or "." keeps the text as text. (An e-mail address still becomes a
# mailto: link there; no escape prevents it.)
_AUTOLINK_TRIGGER = re.compile(r"(?<=[A-Za-z])(:)(?=//)|(?<![\w.])(www)(\.)", re.IGNORECASE)
# A URL in running text: kept whole as an autolink, never escaped inside.
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]}'*_]")
# What would start a list or a heading at the beginning of a line.
_BLOCK_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+*=])(?=\s|$)")


def md_escape(text: str) -> str:
    """Text that Markdown shows literally (GitHub and Obsidian alike), with no
    link made of it."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return _AUTOLINK_TRIGGER.sub(lambda m: "\\:" if m[1] else f"{m[2]}\\.", escaped)


def md_text(text: str) -> str:
    """Running text (an abstract): one paragraph, printed literally, its URLs
    as links. Nothing at its start can turn it into a list."""
    text = " ".join(text.split())
    pieces = []
    end = 0
    for match in _URL.finditer(text):
        pieces.append(md_escape(text[end : match.start()]))
        pieces.append(f"<{match.group()}>")
        end = match.end()
    pieces.append(md_escape(text[end:]))
    joined = "".join(pieces)
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", joined)


def md_code(text: str) -> str:
    """An inline code span that holds any text, backticks included."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_url(url: str) -> str:
    """A link destination that is exactly the URL: in angle brackets, where
    CommonMark takes parentheses and underscores as they are (only ``<``,
    ``>`` and spaces, which it cannot hold, are percent-encoded)."""
    return "<" + url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20") + ">"


def md_link(url: str) -> str:
    """A URL shown as itself and linking to itself."""
    if any(c in url for c in " <>") or not url.isprintable():
        return f"[{md_escape(url)}]({md_url(url)})"
    return f"<{url}>"


def _facts(paper: Paper) -> str:
    return " · ".join(md_escape(fact) for fact in facts(paper))


def _md_paper(paper: Paper, with_abstracts: bool) -> list[str]:
    title = md_escape(" ".join(paper.title.split()))
    heading = f"[{title}]({md_url(paper.links[0])})" if paper.links else title
    lines = [f"### {heading}", ""]
    if paper.author_names:
        lines.append(md_escape(author_line(paper.author_names)) + "  ")
    lines.extend([_facts(paper) + "  ", f"ID `{paper.id}`"])
    if paper.tags:
        lines[-1] += "  "
        lines.append("Tags: " + ", ".join(md_code(tag) for tag in paper.tags))
    links = list(paper.links)
    for extra in (paper.pdf, f"https://doi.org/{paper.doi}" if paper.doi else None):
        if extra and extra not in links:
            links.append(extra)
    if links:
        lines.append("")
        lines.extend(f"- {md_link(link)}" for link in links)
    if with_abstracts and paper.abstract:
        lines.extend(["", "> " + md_text(paper.abstract)])
    if paper.note and paper.note.strip():
        # The user's own Markdown, kept as written inside a quote block, so a
        # heading in it cannot pass for the next paper.
        lines.extend(["", "> **Note**", ">"])
        lines.extend(f"> {line}".rstrip() for line in paper.note.strip().splitlines())
    lines.append("")
    return lines


def to_markdown(
    papers: Sequence[Paper],
    *,
    title: str = "Starred papers",
    group_by: str = "tag",
    with_abstracts: bool = False,
    today: date | None = None,
) -> str:
    if group_by not in GROUPS:
        raise ExportError(f"unknown grouping {group_by!r}; choose one of: {', '.join(GROUPS)}")
    today = today or date.today()
    count = f"{len(papers)} paper{'s' if len(papers) != 1 else ''}"
    lines = [f"# {md_escape(title)}", "", f"{today.isoformat()} · {count}", ""]
    if not papers:
        lines.extend(["_No papers._", ""])
        return "\n".join(lines)
    for group, members in _groups(papers, group_by):
        if group is not None:
            lines.extend([f"## {md_escape(group)}", ""])
        for paper in members:
            lines.extend(_md_paper(paper, with_abstracts))
    return "\n".join(lines)


def _groups(papers: Sequence[Paper], group_by: str) -> list[tuple[str | None, list[Paper]]]:
    ordered = newest_first(papers)
    if group_by == "none":
        return [(None, ordered)]
    groups: dict[str, list[Paper]] = {}
    last: list[Paper] = []
    for paper in ordered:
        if group_by == "tag":
            if not paper.tags:
                last.append(paper)
            for tag in paper.tags:
                groups.setdefault(tag, []).append(paper)
        else:
            if paper.published is None:
                last.append(paper)
            else:
                month = published_text(paper.published, paper.published_precision)[:7]
                groups.setdefault(month, []).append(paper)  # a year alone: its own group
    keys = sorted(groups) if group_by == "tag" else sorted(groups, reverse=True)
    result: list[tuple[str | None, list[Paper]]] = [(key, groups[key]) for key in keys]
    if last:
        result.append(("Untagged" if group_by == "tag" else "No date", last))
    return result


# --- BibTeX ------------------------------------------------------------------------------

# Each LaTeX special as a command that prints it. Braces are \\textbrace...:
# BibTeX and biber count a "\\{" as a brace, so an abstract's lone "{" would
# unbalance the entry (and an unclosed one drop every later entry).
_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # In LaTeX's default font encoding these print as other glyphs (¡ ¿ —).
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # OT1, LaTeX's default font encoding, has no straight double quote.
    '"': "''",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX))
_ALREADY_ESCAPED = re.compile(r"\\([%&_$#])")


def latex_escape(text: str, ascii_only: bool = True) -> str:
    """Text that LaTeX prints literally, as one line. Abstracts often carry
    ``3.5\\%`` already escaped by their authors: that is read as the plain
    character first. With ``ascii_only`` every other character becomes a LaTeX
    command (or ``<U+XXXX>`` where LaTeX has none)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    text = _ALREADY_ESCAPED.sub(r"\1", text)
    text = _LATEX_RE.sub(lambda m: _LATEX[m.group()], text)
    if ascii_only and not text.isascii():
        text = "".join(c if c.isascii() else _latex_char(c) for c in text)
    return text


@functools.lru_cache(maxsize=4096)
def _latex_char(char: str) -> str:
    if char not in _unsafe() and char == unicodedata.normalize("NFC", char):
        latex = _encoder().unicode_to_latex(char)
        if latex.isascii() and "U+" not in latex:
            # An accent on a dotless i (na{\\"\\i}ve): biber turns it into a
            # dotless i and a combining mark, which pdflatex cannot print.
            return _DOTLESS.sub(r"\\\1\2", latex)
    return rf"\textless{{}}U+{ord(char):04X}\textgreater{{}}"


_DOTLESS = re.compile(r"\\([`'^\"~=.uvH])\\([ij])(?![a-zA-Z])")


@functools.cache
def _unsafe() -> frozenset[str]:
    """Characters whose LaTeX form a plain pdflatex article cannot print (Cyrillic,
    maths alphabets, arrows of amssymb...): found by compiling every character
    pylatexenc knows (scripts/latex_unsafe.py)."""
    from importlib.resources import files

    return frozenset((files("paperdesk.data") / "latex_unsafe.txt").read_text("utf-8").strip())


@functools.cache
def _encoder():
    # Imported only for a BibTeX export: no other command pays for it.
    from pylatexenc.latexencode import UnicodeToLatexEncoder

    return UnicodeToLatexEncoder(
        non_ascii_only=True,
        replacement_latex_protection="braces-all",
        unknown_char_policy="unihex",
        unknown_char_warning=False,
    )


STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "in", "to", "for", "and", "is"})


def _key_word(title: str) -> str:
    for raw in re.findall(r"\w+", title):
        word = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
        word = re.sub(r"[^A-Za-z0-9]", "", word).lower()
        if word and word not in STOP_WORDS and not word.isdigit():
            return word[:24]
    return "paper"


def bibtex_key(paper: Paper) -> str:
    """A key that depends on the paper alone: its first title word, its year and
    the first four characters of its ID (``grokking2023-7b6b``). Exporting more
    or fewer papers, or through a query, never changes it."""
    year = paper.published.year if paper.published else "nd"
    return f"{_key_word(paper.title)}{year}-{paper.id[:4]}"


def bibtex_keys(papers: Sequence[Paper]) -> list[str]:
    """Each paper's key. Two papers whose key would be the same (same first word,
    year and first four ID characters: about one pair in 65,536) take their
    whole ID instead, which is unique."""
    keys = [bibtex_key(p) for p in papers]
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return [
        key if counts[key] == 1 else f"{key.rsplit('-', 1)[0]}-{paper.id}"
        for key, paper in zip(keys, papers, strict=True)
    ]


def _bib_url(url: str) -> str:
    """A URL as biber and the url package read it (verbatim): only what would
    unbalance the entry is percent-encoded."""
    return "".join(
        f"%{ord(c):02X}" if c in '{}\\"' or not c.isascii() or not c.isprintable() else c
        for c in url
    )


def _bib_name(name: str, escape) -> str:
    """One author for BibTeX's name list: a name BibTeX would split wrongly (one
    holding a comma or the word "and") is braced whole."""
    text = escape(" ".join(name.split()))
    if "," in name or re.search(r"\band\b", name, re.IGNORECASE):
        return "{" + text + "}"
    return text


def _listed(paper: Paper) -> str | None:
    """The first day a listing showed the paper (YYYY-MM-DD), if known."""
    days = sorted(s.page_date for s in paper.sources if s.page_date)
    if days:
        return days[0]
    return paper.first_seen[:10] if re.match(r"\d{4}-\d\d-\d\d", paper.first_seen) else None


def to_bibtex(papers: Sequence[Paper], ascii_only: bool = True) -> str:
    """``@misc`` entries, newest first. ``ascii_only`` (the ``bibtex`` format)
    for pdflatex; without it (``biblatex``) Unicode is kept for biber."""
    ordered = newest_first(papers)

    def escape(text: str) -> str:
        return latex_escape(text, ascii_only)

    entries = []
    for key, paper in zip(bibtex_keys(ordered), ordered, strict=True):
        # Double braces keep the title's capitals as they are in every style.
        fields = [("title", "{" + escape(paper.title) + "}")]
        if paper.author_names:
            names = " and ".join(_bib_name(name, escape) for name in paper.author_names)
            fields.append(("author", names))
        # Without authors, styles sort (and bibtex warns) by key: the title.
        fields.append(("key", escape(paper.title)))
        note = []
        if paper.published:
            fields.append(("year", str(paper.published.year)))
            if paper.published_precision != "year":  # a year alone has no month
                fields.append(("month", paper.published.strftime("%b").lower()))
            fields.append(("date", published_text(paper.published, paper.published_precision)))
        elif listed := _listed(paper):
            # biblatex needs a year: the one of the first listing that showed it.
            fields.append(("year", listed[:4]))
            note.append(f"no publication date; listed {listed}")
        if paper.organization:
            fields.append(("organization", escape(paper.organization)))
        if paper.links:
            fields.append(("url", _bib_url(paper.links[0])))
        if paper.doi:
            fields.append(("doi", _bib_url(paper.doi)))
        if paper.arxiv_id:
            fields.append(("eprint", _bib_url(paper.arxiv_id)))
            fields.append(("archiveprefix", "arXiv"))
            if paper.categories:
                fields.append(("primaryclass", escape(paper.categories[0])))
        if paper.abstract:
            fields.append(("abstract", escape(paper.abstract)))
        if paper.upvotes is not None:
            note.append(f"{paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''}")
        if paper.authors is not None and not paper.author_names:
            note.append(f"{paper.authors} author{'s' if paper.authors != 1 else ''}")
        if paper.tags:
            note.append("tags: " + ", ".join(paper.tags))
        if note:
            fields.append(("note", escape("; ".join(note))))
        if paper.note and paper.note.strip():  # the user's note: BibTeX's annotation
            fields.append(("annote", escape(" ".join(paper.note.split()))))
        keywords = list(dict.fromkeys((*paper.tags, *paper.keywords)))
        if keywords:
            fields.append(("keywords", escape(", ".join(keywords))))
        # month is a macro (oct), not a string: styles print it and biber is quiet.
        body = ",\n".join(
            f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}"
            for name, value in fields
        )
        entries.append(f"@misc{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


# --- CSV and JSON ---------------------------------------------------------------------------


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell no spreadsheet runs as a formula: one that starts with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
    (OWASP's rule for CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(papers: Sequence[Paper], excel: bool = False) -> str:
    """RFC 4180: a header row, CRLF line ends, quotes where needed; text cells
    safe from formula injection. ``excel`` starts with a byte-order mark, which
    spreadsheets need to read UTF-8."""
    buffer = io.StringIO()
    if excel:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for paper in newest_first(papers):
        writer.writerow(
            [
                paper.id,
                csv_cell(paper.title),
                published_text(paper.published, paper.published_precision),
                "" if paper.authors is None else paper.authors,
                "" if paper.upvotes is None else paper.upvotes,
                csv_cell(paper.organization or ""),
                csv_cell("; ".join(paper.tags)),
                csv_cell(" ".join(paper.links)),
                "true" if paper.read else "false",
                "true" if paper.starred else "false",
                csv_cell(paper.abstract),
                paper.arxiv_id or "",
                csv_cell(paper.doi or ""),
                csv_cell("; ".join(paper.author_names)),
                csv_cell(" ".join(paper.categories)),
                csv_cell("; ".join(paper.keywords)),
                "" if paper.comments is None else paper.comments,
                "" if paper.github_stars is None else paper.github_stars,
                csv_cell(paper.pdf or ""),
                csv_cell(paper.note or ""),
            ]
        )
    return buffer.getvalue()


def to_json(papers: Sequence[Paper]) -> str:
    return (
        json.dumps([p.to_json() for p in newest_first(papers)], ensure_ascii=False, indent=2) + "\n"
    )


# --- writing -----------------------------------------------------------------------------------
