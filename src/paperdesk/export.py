"""Papers to Markdown, BibTeX, CSV and JSON: pure functions, plus an atomic write."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from paperdesk.model import Paper

FORMATS = ("md", "bibtex", "csv", "json")
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
) -> str:
    """The whole document for one format."""
    if fmt == "md":
        return to_markdown(
            papers, title=title, group_by=group_by, with_abstracts=with_abstracts, today=today
        )
    if fmt == "bibtex":
        return to_bibtex(papers)
    if fmt == "csv":
        return to_csv(papers)
    if fmt == "json":
        return to_json(papers)
    raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")


# --- Markdown ---------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: str) -> str:
    """Text that Markdown shows literally (GitHub and Obsidian alike)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_url(url: str) -> str:
    """A URL safe inside ``[text](url)``: spaces and parentheses percent-encoded."""
    return (
        url.replace(" ", "%20")
        .replace("(", "%28")
        .replace(")", "%29")
        .replace("<", "%3C")
        .replace(">", "%3E")
    )


def _facts(paper: Paper) -> str:
    facts = [
        paper.published.isoformat() if paper.published else "no date",
        f"{paper.authors} author{'s' if paper.authors != 1 else ''}"
        if paper.authors is not None
        else None,
        f"{paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''}"
        if paper.upvotes is not None
        else None,
        paper.organization,
    ]
    return " · ".join(md_escape(f) for f in facts if f)


def _md_paper(paper: Paper, with_abstracts: bool) -> list[str]:
    title = md_escape(paper.title)
    heading = f"[{title}]({md_url(paper.links[0])})" if paper.links else title
    lines = [f"### {heading}", "", _facts(paper) + "  ", f"ID `{paper.id}`"]
    if paper.tags:
        lines[-1] += "  "
        lines.append("Tags: " + ", ".join(f"`{tag}`" for tag in paper.tags))
    if paper.links:
        lines.append("")
        lines.extend(f"- <{link}>" for link in paper.links)
    if with_abstracts and paper.abstract:
        lines.extend(["", "> " + md_escape(paper.abstract)])
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
                groups.setdefault(paper.published.strftime("%Y-%m"), []).append(paper)
    keys = sorted(groups) if group_by == "tag" else sorted(groups, reverse=True)
    result: list[tuple[str | None, list[Paper]]] = [(key, groups[key]) for key in keys]
    if last:
        result.append(("Untagged" if group_by == "tag" else "No date", last))
    return result


# --- BibTeX ------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX))


_ALREADY_ESCAPED = re.compile(r"\\([%&_$#])")


def latex_escape(text: str) -> str:
    """Text that LaTeX prints literally. Abstracts often carry ``3.5\\%`` already
    escaped by their authors: that is read as the plain character first."""
    text = _ALREADY_ESCAPED.sub(r"\1", text)
    return _LATEX_RE.sub(lambda m: _LATEX[m.group()], text)


def _key_word(title: str) -> str:
    for raw in re.findall(r"\w+", title):
        word = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
        word = re.sub(r"[^A-Za-z0-9]", "", word).lower()
        if word and word not in {"a", "an", "the", "on", "of"} and not word.isdigit():
            return word
    return "paper"


def bibtex_keys(papers: Sequence[Paper]) -> list[str]:
    """Stable, unique keys: first title word plus year, then a, b, c... when they clash."""
    bases = [f"{_key_word(p.title)}{p.published.year if p.published else 'nd'}" for p in papers]
    counts: dict[str, int] = {}
    for base in bases:
        counts[base] = counts.get(base, 0) + 1
    # Clashing papers get suffixes in ID order, so a key never depends on list order.
    order = sorted(range(len(papers)), key=lambda i: papers[i].id)
    seen: dict[str, int] = {}
    keys = [""] * len(papers)
    for index in order:
        base = bases[index]
        if counts[base] == 1:
            keys[index] = base
            continue
        number = seen.get(base, 0)
        seen[base] = number + 1
        keys[index] = base + _suffix(number)
    return keys


def _suffix(number: int) -> str:
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def to_bibtex(papers: Sequence[Paper]) -> str:
    ordered = newest_first(papers)
    entries = []
    for key, paper in zip(bibtex_keys(ordered), ordered, strict=True):
        fields = [("title", "{" + latex_escape(paper.title) + "}")]
        if paper.published:
            fields.append(("year", str(paper.published.year)))
            fields.append(("month", paper.published.strftime("%b").lower()))
            fields.append(("date", paper.published.isoformat()))
        if paper.organization:
            fields.append(("organization", latex_escape(paper.organization)))
        if paper.links:
            fields.append(
                ("url", paper.links[0].replace("%", r"\%").replace("{", "%7B").replace("}", "%7D"))
            )
        if paper.abstract:
            fields.append(("abstract", latex_escape(paper.abstract)))
        note = []
        if paper.upvotes is not None:
            note.append(f"{paper.upvotes} upvotes")
        if paper.authors is not None:
            note.append(f"{paper.authors} author{'s' if paper.authors != 1 else ''}")
        if paper.tags:
            note.append("tags: " + ", ".join(paper.tags))
        if note:
            fields.append(("note", latex_escape("; ".join(note))))
        if paper.tags:
            fields.append(("keywords", latex_escape(", ".join(paper.tags))))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@misc{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


# --- CSV and JSON ---------------------------------------------------------------------------


def to_csv(papers: Sequence[Paper]) -> str:
    """RFC 4180: a header row, CRLF line ends, quotes where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for paper in newest_first(papers):
        writer.writerow(
            [
                paper.id,
                paper.title,
                paper.published.isoformat() if paper.published else "",
                "" if paper.authors is None else paper.authors,
                "" if paper.upvotes is None else paper.upvotes,
                paper.organization or "",
                "; ".join(paper.tags),
                " ".join(paper.links),
                "true" if paper.read else "false",
                "true" if paper.starred else "false",
                paper.abstract,
            ]
        )
    return buffer.getvalue()


def to_json(papers: Sequence[Paper]) -> str:
    return (
        json.dumps([p.to_json() for p in newest_first(papers)], ensure_ascii=False, indent=2) + "\n"
    )


# --- writing -----------------------------------------------------------------------------------
