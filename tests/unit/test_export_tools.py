"""Exports checked with the programs they are for, not only with Python parsers.

BibTeX goes through classic ``bibtex`` (plain style), ``biber`` (its data-model
validation) and whole pdflatex compiles with bibtex and with biblatex + biber;
Markdown through GitHub's own renderer (cmark-gfm); CSV through a CSV reader.
The inputs are the real sample dumps and a stress set of every kind of text
that has broken a bibliography or a page. The TeX programs come from Debian's
packages (.ci/run installs them); without them these tests skip, naming the
package, and CI fails if they skipped.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from paperdesk import export
from paperdesk.model import Paper, paper_id
from tests.conftest import missing

TOOLS = {"bibtex": "texlive-binaries", "pdflatex": "texlive-latex-base", "biber": "biber"}


def need(*programs: str) -> None:
    for program in programs:
        if shutil.which(program) is None:
            missing(f"needs {program} (Debian package {TOOLS[program]}; .ci/run installs it)")
    if "pdflatex" in programs and _kpsewhich("biblatex.sty") is None:
        missing("needs biblatex.sty (Debian package texlive-bibtex-extra)")


def _kpsewhich(name: str) -> str | None:
    if shutil.which("kpsewhich") is None:
        return None
    found = subprocess.run(["kpsewhich", name], capture_output=True, text=True).stdout.strip()
    return found or None


def _paper(title: str, abstract: str = "An abstract.", **fields) -> Paper:
    fields.setdefault("published", date(2025, 10, 3))
    return Paper(
        id=paper_id(title), title=title, abstract=abstract, starred=True,
        first_seen="2025-11-11T08:00:00Z", **fields,
    )  # fmt: skip


def stress_papers() -> list[Paper]:
    """Every kind of text that has broken an export."""
    specials = "\\ { } & % $ # _ ~ ^ < > | \" ' ` * [ ] ( ) ! @ = + -"
    papers = [
        _paper("Every special: " + specials, "Abstract with every special: " + specials),
        _paper("Unclosed { brace in a title", "An abstract ending \\footnote{Our code"),
        _paper("A lone } closing brace", "Abstract } with {{ two opening and one }"),
        _paper("Trailing backslash \\", "Ends with a backslash \\"),
        _paper("Maths $O(n^2)$ and $$x$$", "Inline $a_b$ and display $$\\sum_i x_i$$ maths."),
        _paper("<script>alert(1)</script> in a title", "<img src=x onerror=alert(1)> text"),
        _paper("Pipes | in | tables", "a | b | c and `code` and ``double`` ticks"),
        _paper("*Emphasis* _markers_ **bold** __under__", "*a* _b_ ~~c~~ ==d=="),
        _paper("# Leading hash", "# A heading? No.", tags=("#hash", "back`tick", "=1+1")),
        _paper("[Link-like](http://evil.example) text", "[x](javascript:alert(1)) and <u@x.y>"),
        _paper("HTML entities &amp; &lt; &#x41;", "Entities &copy; &nbsp; &#169; stay text."),
        _paper("Emoji 😀🚀 and CJK 深度学习", "日本語のテキスト and 한국어 and 😀."),
        _paper("Right-to-left שלום and مرحبا", "Mixed עברית text ‮ override."),
        _paper("A three-line\ntitle that wraps\nover lines", "Line one\nline two\n\nline four"),
        _paper("1986. A list? and - dash", "1986. The year it began."),
        _paper("Accents: Löwenheim–Skolem, naïve façade, Ærø", "λ-calculus, Δ ≤ ε → ∞, ±5 °C"),
        _paper(
            "Link with underscores",
            "See https://github.com/a/action_flow_matching and "
            "https://x.org/p_(q)_r.html, then stop.",
        ),  # fmt: skip
        _paper('=HYPERLINK("http://evil","click")', "+cmd|' /C calc'!A0", organization="@org"),
        _paper("-2+3 looks like a formula", "\tTab first and \rCR first", links=("=evil",)),
        _paper("Percent %20 in URL", "x", links=("https://x.org/a%20b?c=1&d={e}#f_g",)),
    ]
    papers += [
        _paper("Grokking near-identical title"),
        _paper("Grokking near identical titles."),
        _paper("Grokking: nearly identical title"),
        _paper("GROKKING NEAR-IDENTICAL TITLING"),
    ]
    papers += [_paper(f"Attention variant number {n}", "Same word, same year.") for n in range(30)]
    papers += [_paper("Undated paper", "No date.", published=None, upvotes=1, authors=1)]
    # A bibliography's dates known to the year or the month only.
    papers += [
        _paper("Known to the year", published=date(2019, 1, 1), published_precision="year"),
        _paper("Known to the month", published=date(2019, 5, 1), published_precision="month"),
    ]
    # The user's notes: Markdown of their own, with every special, a heading, a formula.
    papers += [
        _paper("A paper with a note", note="Read *later*: " + specials + "\n\n# not a heading"),
        _paper("A note that looks like a formula", note="=1+1 and } unbalanced { % done"),
    ]
    ids = [p.id for p in papers]
    assert len(ids) == len(set(ids))
    return papers


def sample_papers(samples, data: Path) -> list[Paper]:
    """Every paper of the real sample dumps, starred."""
    from paperdesk.desk import Desk

    with Desk(data) as desk:
        for path in samples:
            desk.import_file(path)
        desk.set_starred(desk.library.ids())
        return desk.library.papers()


def source_papers(data: Path) -> list[Paper]:
    """Every paper of the other formats' samples (Hugging Face, arXiv, BibTeX,
    CSL-JSON), starred: author names with accents and commas, DOIs with
    parentheses, arXiv IDs old and new, categories and keywords."""
    from paperdesk.desk import Desk
    from tests.conftest import shared_sample

    with Desk(data) as desk:
        for relative in (
            "hf_api/hfnl_2025-10-17.json",
            "arxiv_api/rsxiv_query_electron_proton_2025-08-20_classic.xml",
            "arxiv_rss/zad_atom_cs.AI_2025-08-20.xml",
            "bibtex/bbt_fixture_arxiv_identifiers_460.bibtex",
            "csl_json/bbt_fixture_deterministic_ordering_1400.csl.json",
        ):
            desk.import_file(shared_sample(relative))
        desk.set_starred(desk.library.ids())
        return desk.library.papers()


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300,
                          errors="replace")  # fmt: skip


# --- BibTeX with the real programs ------------------------------------------------------------


def classic_bibtex(bib: str, work: Path) -> tuple[str, str]:
    """(the .blg log, the .bbl) of plain-style bibtex over every entry."""
    (work / "refs.bib").write_text(bib, encoding="utf-8")
    (work / "doc.aux").write_text(
        "\\relax\n\\citation{*}\n\\bibstyle{plain}\n\\bibdata{refs}\n", encoding="utf-8"
    )
    _run(["bibtex", "doc"], work)
    return (work / "doc.blg").read_text(errors="replace"), (work / "doc.bbl").read_text(
        errors="replace"
    )


def assert_bibtex_clean(blg: str, bbl: str, count: int) -> None:
    errors = re.search(r"\(There (?:was|were) (\d+) error", blg)
    assert errors is None, blg
    assert "Warning--" not in blg, [line for line in blg.splitlines() if "Warning" in line]
    assert bbl.count("\\bibitem") == count


def biber_validate(bib: str, work: Path) -> str:
    (work / "refs.bib").write_text(bib, encoding="utf-8")
    result = _run(["biber", "--tool", "--validate-datamodel", "refs.bib"], work)
    return result.stdout + result.stderr


def assert_biber_clean(output: str) -> None:
    problems = [line for line in output.splitlines() if re.search(r"\b(ERROR|WARN)\b", line)]
    assert problems == [], problems


def compile_biblatex(bib: str, work: Path) -> tuple[str, str]:
    """(pdflatex's log, the .bbl) of a whole biblatex + biber compile."""
    (work / "refs.bib").write_text(bib, encoding="utf-8")
    (work / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage[backend=biber]{biblatex}\n"
        "\\addbibresource{refs.bib}\n\\begin{document}\n\\nocite{*}\n"
        "\\printbibliography\n\\end{document}\n",
        encoding="utf-8",
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    _run(latex, work)
    biber = _run(["biber", "doc"], work)
    assert "ERROR" not in biber.stdout, biber.stdout
    _run(latex, work)
    return (work / "doc.log").read_text(errors="replace"), (work / "doc.bbl").read_text(
        errors="replace"
    )


def compile_bibtex(bib: str, work: Path) -> str:
    (work / "refs.bib").write_text(bib, encoding="utf-8")
    (work / "doc.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\nocite{*}\n"
        "\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n",
        encoding="utf-8",
    )
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    _run(latex, work)
    _run(["bibtex", "doc"], work)
    _run(latex, work)
    return (work / "doc.log").read_text(errors="replace")


def assert_latex_clean(log: str) -> None:
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert errors == [], errors
    assert "Output written on doc.pdf" in log


@pytest.fixture(params=["stress", "samples", "sources"])
def papers(request, tmp_path) -> list[Paper]:
    if request.param == "stress":
        return stress_papers()
    if request.param == "sources":
        return source_papers(tmp_path / "library")
    return sample_papers(request.getfixturevalue("samples"), tmp_path / "library")


def test_classic_bibtex_reads_every_entry(papers, tmp_path):
    need("bibtex")
    blg, bbl = classic_bibtex(export.to_bibtex(papers), tmp_path)
    assert_bibtex_clean(blg, bbl, len(papers))


def test_biber_validates_every_entry(papers, tmp_path):
    need("biber")
    for fmt in ("bibtex", "biblatex"):
        assert_biber_clean(biber_validate(export.render(papers, fmt), tmp_path))


def test_pdflatex_with_biblatex_and_biber_prints_every_entry(papers, tmp_path):
    need("pdflatex", "biber")
    log, bbl = compile_biblatex(export.to_bibtex(papers), tmp_path)
    assert_latex_clean(log)
    assert bbl.count("\\entry{") == len(papers)


def test_pdflatex_with_classic_bibtex_compiles(papers, tmp_path):
    need("pdflatex", "bibtex")
    assert_latex_clean(compile_bibtex(export.to_bibtex(papers), tmp_path))


def test_every_character_latex_has_compiles(tmp_path):
    """Each character pylatexenc knows, as the export writes it, in one plain
    article: the unsafe list (scripts/latex_unsafe.py) is still right."""
    need("pdflatex")
    from pylatexenc.latexencode import get_builtin_conversion_rules

    chars = sorted(
        {chr(c) for rule in get_builtin_conversion_rules("defaults") for c in rule.rule if c > 127}
    )
    body = "\n".join(export.latex_escape(c) + "\\par" for c in chars)
    (tmp_path / "doc.tex").write_text(
        f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n",
        encoding="utf-8",
    )
    _run(["pdflatex", "-interaction=nonstopmode", "doc.tex"], tmp_path)
    assert_latex_clean((tmp_path / "doc.log").read_text(errors="replace"))


def test_an_unbalanced_brace_does_not_swallow_the_entries_after_it(tmp_path):
    need("bibtex")
    papers = [
        _paper("First { unclosed", published=date(2025, 3, 1)),
        _paper("Second paper", published=date(2025, 2, 1)),
        _paper("Third } lone", published=date(2025, 1, 1)),
        _paper("Fourth paper", published=date(2024, 1, 1)),
    ]
    blg, bbl = classic_bibtex(export.to_bibtex(papers), tmp_path)
    assert_bibtex_clean(blg, bbl, 4)
    for title in ("Second paper", "Fourth paper"):
        assert title in bbl


# --- keys -------------------------------------------------------------------------------------


def test_keys_depend_on_the_paper_alone():
    papers = stress_papers()
    everything = dict(zip([p.id for p in papers], export.bibtex_keys(papers), strict=True))
    for start in range(0, len(papers), 7):
        part = papers[start : start + 5]
        assert export.bibtex_keys(part) == [everything[p.id] for p in part]
    grokking = [key for key in everything.values() if key.startswith("grokking")]
    assert len(grokking) == len(set(grokking)) == 4
    assert len(set(everything.values())) == len(papers)
    assert all(re.fullmatch(r"[a-z0-9]+-[0-9a-f]{4,10}", key) for key in everything.values())


# --- Markdown on GitHub -----------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


def github_html(markdown: str) -> str:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def test_markdown_on_github_links_every_url_and_prints_text_literally():
    papers = stress_papers()
    markdown = export.to_markdown(papers, with_abstracts=True, today=date(2026, 12, 1))
    rendered = github_html(markdown)
    parser = _Links()
    parser.feed(rendered)
    wanted = {link for p in papers for link in p.links}
    wanted |= {"https://github.com/a/action_flow_matching", "https://x.org/p_(q)_r.html"}
    # cmark writes hrefs percent-encoded ({ as %7B): the same address.
    hrefs = {unquote(html.unescape(h)) for h in parser.hrefs}
    wanted = {unquote(link) for link in wanted}
    assert wanted <= hrefs, wanted - hrefs
    # No link made of text that only looks like one; GitHub links any e-mail address.
    assert hrefs - {"mailto:u@x.y"} == wanted, hrefs - wanted
    assert "<script>" not in rendered and "<img" not in rendered
    assert "ol" not in parser.tags  # "1986. " starts no list
    text = re.sub(r"<[^>]+>", "", rendered)
    for paper in papers:
        shown = " ".join(paper.title.split())
        assert shown in html.unescape(text), shown
    assert "<code>back`tick</code>" in rendered
    assert "$O(n^2)$" in html.unescape(text)  # the dollars are text, not maths
    # A note stays inside its paper, in a quote block: a heading in it is no
    # heading of the document.
    outside = re.sub(r"<blockquote>.*?</blockquote>", "", rendered, flags=re.S)
    assert "not a heading" in text and "not a heading" not in outside
    assert outside.count("<h1>") == 1
    assert "<em>later</em>" in rendered  # the user's own Markdown, as written


# --- CSV --------------------------------------------------------------------------------------


def test_csv_has_no_formula_and_reads_back():
    papers = stress_papers()
    text = export.to_csv(papers)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(papers)
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    by_id = {row["id"]: row for row in rows}
    formula = next(p for p in papers if p.title.startswith("=HYPERLINK"))
    assert by_id[formula.id]["title"] == "'" + formula.title
    assert by_id[formula.id]["organization"] == "'@org"
    plain = next(p for p in papers if p.title.startswith("Accents"))
    assert by_id[plain.id]["abstract"] == plain.abstract
    assert export.to_csv(papers, excel=True).startswith("\ufeffid,title")
    noted = next(p for p in papers if p.title == "A paper with a note")
    assert by_id[noted.id]["note"] == noted.note
    formula_note = next(p for p in papers if p.title.startswith("A note that looks"))
    assert by_id[formula_note.id]["note"] == "'" + formula_note.note
