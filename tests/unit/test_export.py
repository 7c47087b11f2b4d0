from __future__ import annotations

import csv
import io
import json
import os
from datetime import date
from pathlib import Path

import bibtexparser
import pytest
from markdown_it import MarkdownIt

from paperdesk import export
from paperdesk.atomic import write_atomic
from paperdesk.model import Paper, Source

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 11, 22)

PAPERS = [
    Paper(
        id="aaaa000001",
        title="Grokking Tickets: Lottery Tickets Accelerate Grokking",
        abstract="Lottery tickets make grokking happen sooner. Code: https://github.com/g/t.",
        authors=3,
        organization=None,
        published=date(2023, 10, 30),
        published_raw="Oct 30, 2023",
        upvotes=12,
        links=("https://github.com/g/t",),
        read=True,
        starred=True,
        tags=("grokking", "reading-group"),
        first_seen="2025-11-11T08:00:00Z",
        sources=(Source("a.txt", "2025-11-11"),),
    ),
    Paper(
        id="bbbb000002",
        title="50% Faster & Cheaper: $O(n)$ Attention_with {Braces} #1 ~ ^ \\ [x]*",
        abstract="We cut costs by 50% (from $10 to $5) with a_b {c} and 3.5\\% savings.",
        authors=1,
        organization="Tencent",
        published=date(2025, 9, 26),
        published_raw="Sep 26",
        upvotes=4,
        links=("https://x.example.org/a_(b)",),
        starred=True,
        tags=("grokking",),
        first_seen="2025-11-11T08:00:00Z",
        sources=(Source("a.txt", "2025-11-11"),),
    ),
    Paper(
        id="cccc000003",
        title="Löwenheim–Skolem für Transformer: 深度 Über-Analyse",
        abstract="",
        starred=True,
        first_seen="2025-11-11T08:00:00Z",
    ),
    Paper(
        id="dddd000004",
        title="Grokking Again",
        abstract="A second paper with the same key base.",
        published=date(2023, 1, 2),
        starred=True,
        first_seen="2025-11-11T08:00:00Z",
    ),
    Paper(
        id="eeee000005",
        title="Defining and Detecting Quantum Speedup",
        abstract="Here we show how to define and measure quantum speedup.",
        authors=3,
        published=date(2014, 7, 1),
        published_raw="2014 7",
        links=("https://arxiv.org/abs/1401.2910",),
        starred=True,
        tags=("quantum",),
        first_seen="2025-11-12T08:00:00Z",
        sources=(Source("mine.bib", None),),
        arxiv_id="1401.2910",
        arxiv_version=2,
        doi="10.1007/jhep02(2016)087_x%y",
        author_names=("Troels F. Rønnow", "Zhihui Wang", "Smith, Jr. and Sons"),
        categories=("quant-ph", "cs.ET"),
        comments=4,
        keywords=("Quantum Physics", "annealing"),
        github_stars=120,
        pdf="https://arxiv.org/pdf/1401.2910",
        origins=(("title", "bibtex"), ("doi", "bibtex"), ("arxiv_id", "bibtex")),
    ),
]

RENDERINGS = {
    "starred.md": lambda: export.to_markdown(PAPERS, today=TODAY),
    "starred-abstracts-by-date.md": lambda: export.to_markdown(
        PAPERS, today=TODAY, group_by="date", with_abstracts=True
    ),
    "starred.bib": lambda: export.to_bibtex(PAPERS),
    "starred.csv": lambda: export.to_csv(PAPERS),
    "starred.json": lambda: export.to_json(PAPERS),
}


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_golden_files(name):
    """Compare with tests/unit/golden/; PAPERDESK_UPDATE_GOLDEN=1 rewrites them."""
    rendered = RENDERINGS[name]()
    path = GOLDEN / name
    if os.environ.get("PAPERDESK_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(rendered.encode("utf-8"))
    assert rendered == path.read_bytes().decode("utf-8")


def test_markdown_structure_in_a_commonmark_parser():
    tokens = MarkdownIt("commonmark").parse(export.to_markdown(PAPERS, today=TODAY))
    headings = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            headings.append(
                (
                    token.tag,
                    "".join(child.content for child in inline.children if child.type == "text"),
                )
            )
    assert headings[0] == ("h1", "Starred papers")
    assert [h for h in headings if h[0] == "h2"] == [
        ("h2", "grokking"),
        ("h2", "quantum"),
        ("h2", "reading-group"),
        ("h2", "Untagged"),
    ]
    h3 = [text for tag, text in headings if tag == "h3"]
    # Grouped by tag, newest first inside a group; a paper with two tags is in both.
    assert h3[:2] == [PAPERS[1].title, PAPERS[0].title]
    assert h3[2] == PAPERS[4].title
    assert h3[3] == PAPERS[0].title
    assert h3[4:] == [PAPERS[3].title, PAPERS[2].title]  # untagged: dated first
    links = [
        child.attrs["href"]
        for token in tokens
        if token.type == "inline"
        for child in token.children
        if child.type == "link_open"
    ]
    assert "https://github.com/g/t" in links
    assert "https://x.example.org/a_(b)" in links
    assert "https://arxiv.org/pdf/1401.2910" in links  # the PDF and the DOI join the links
    assert "https://doi.org/10.1007/jhep02(2016)087_x%25y" in links


def test_markdown_empty_selection_is_still_a_document():
    text = export.to_markdown([], today=TODAY)
    assert text.startswith("# Starred papers") and "0 papers" in text


def test_bibtex_parses_with_a_real_parser_and_keys_are_unique_and_stable():
    text = export.to_bibtex(PAPERS)
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == []
    keys = [entry.key for entry in library.entries]
    assert len(keys) == len(set(keys)) == 5
    assert set(keys) == {
        "grokking2023-aaaa", "grokking2023-dddd", "faster2025-bbbb", "lowenheimnd-cccc",
        "defining2014-eeee",
    }  # fmt: skip
    by_key = {entry.key: entry for entry in library.entries}
    assert (
        by_key["grokking2023-aaaa"]["title"]
        == "{Grokking Tickets: Lottery Tickets Accelerate Grokking}"
    )
    assert by_key["grokking2023-dddd"]["title"] == "{Grokking Again}"
    assert by_key["grokking2023-dddd"]["month"] == "jan"  # the macro, not a string
    special = next(e for e in library.entries if "Faster" in e["title"])
    assert special["title"].startswith("{50\\% Faster \\& Cheaper: \\$O(n)\\$ Attention\\_with")
    assert "\\textbraceleft{}Braces\\textbraceright{}" in special["title"]
    assert special["note"] == "4 upvotes; 1 author; tags: grokking"
    assert special["url"] == "https://x.example.org/a_(b)"
    assert (
        "3.5\\% savings" in special["abstract"] and "\\textbackslash{}%" not in special["abstract"]
    )
    assert text.isascii()
    assert "Löwenheim" in export.render(PAPERS, "biblatex")  # Unicode kept for biber
    # Author names as BibTeX splits them: a name with a comma or "and" stays whole.
    names = bibtexparser.parse_string(
        text,
        append_middleware=[bibtexparser.middlewares.SeparateCoAuthors()],
    )
    quantum = next(e for e in names.entries if e.key == "defining2014-eeee")
    assert quantum["author"] == ["Troels F. R{\\o}nnow", "Zhihui Wang", "{Smith, Jr. and Sons}"]
    assert (quantum["eprint"], quantum["archiveprefix"], quantum["primaryclass"]) == (
        "1401.2910",
        "arXiv",
        "quant-ph",
    )
    # A key depends on the paper alone: another order, or fewer papers, change nothing.
    assert export.bibtex_keys(PAPERS) == list(reversed(export.bibtex_keys(PAPERS[::-1])))
    assert export.bibtex_keys(PAPERS[:1]) == export.bibtex_keys(PAPERS)[:1]


def test_bibtex_key_words_skip_articles_and_fold_accents():
    papers = [Paper(id="1111", title="The Über Paper"), Paper(id="2222", title="¿?")]
    assert export.bibtex_keys(papers) == ["ubernd-1111", "papernd-2222"]


def test_a_key_clash_takes_the_whole_ids():
    papers = [Paper(id="abcd000001", title="Same words"), Paper(id="abcd000002", title="Same")]
    assert export.bibtex_keys(papers) == ["samend-abcd000001", "samend-abcd000002"]


def test_csv_is_rfc4180_and_reads_back():
    text = export.to_csv(PAPERS)
    assert text.endswith("\r\n") and text.count("\r\n") == 6
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(export.CSV_COLUMNS)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["title"] == PAPERS[1].title and first["tags"] == "grokking"
    assert first["starred"] == "true" and first["read"] == "false"
    empty = dict(zip(rows[0], rows[-1], strict=True))
    assert empty["published"] == "" and empty["authors"] == ""
    quantum = next(dict(zip(rows[0], row, strict=True)) for row in rows if "Quantum" in row[1])
    assert quantum["arxiv_id"] == "1401.2910" and quantum["categories"] == "quant-ph cs.ET"
    assert quantum["author_names"] == "Troels F. Rønnow; Zhihui Wang; Smith, Jr. and Sons"
    assert (quantum["comments"], quantum["github_stars"]) == ("4", "120")
    assert list(export.CSV_COLUMNS[:11]) == [
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
    ]  # fmt: skip  (the old columns keep their places)


def test_json_matches_the_paper_objects():
    assert json.loads(export.to_json(PAPERS)) == [p.to_json() for p in export.newest_first(PAPERS)]


def test_unknown_format_and_grouping():
    with pytest.raises(export.ExportError):
        export.render(PAPERS, "docx")
    with pytest.raises(export.ExportError):
        export.to_markdown(PAPERS, group_by="colour")


def test_write_atomic_replaces_and_keeps_mode(tmp_path: Path):
    target = tmp_path / "out.md"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    write_atomic(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]  # no temporary left behind


def test_write_atomic_failure_leaves_the_old_file(tmp_path: Path, monkeypatch):
    target = tmp_path / "out.md"
    target.write_text("old", encoding="utf-8")

    def boom(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


def test_a_date_known_to_the_year_or_month_is_exported_as_known():
    """A bibliography's `year = {2019}` came back as `month = jan` and
    2019-01-01: a month and a day the source never gave."""
    year = Paper(id="yyyy000001", title="Known Year", published=date(2019, 1, 1),
                 published_raw="2019", published_precision="year")  # fmt: skip
    month = Paper(id="mmmm000001", title="Known Month", published=date(2019, 5, 1),
                  published_raw="2019-5", published_precision="month")  # fmt: skip
    entries = {
        e.key: e.fields_dict
        for e in bibtexparser.parse_string(export.to_bibtex([year, month])).entries
    }
    by_title = {f["title"].value.strip("{}"): f for f in entries.values()}
    assert by_title["Known Year"]["year"].value == "2019"
    assert "month" not in by_title["Known Year"] and by_title["Known Year"]["date"].value == "2019"
    assert by_title["Known Month"]["month"].value == "may"
    assert by_title["Known Month"]["date"].value == "2019-05"
    rows = {r["title"]: r for r in csv.DictReader(io.StringIO(export.to_csv([year, month])))}
    assert (rows["Known Year"]["published"], rows["Known Month"]["published"]) == (
        "2019",
        "2019-05",
    )
    markdown = export.to_markdown([year, month], today=TODAY)
    assert "2019 · " in markdown or "\n2019\n" in markdown or "2019  \n" in markdown
    assert "2019-01-01" not in markdown and "2019-05-01" not in markdown
    assert "2019-05" in markdown
    [document] = json.loads(export.to_json([year]))
    assert (document["published"], document["published_precision"]) == ("2019-01-01", "year")
