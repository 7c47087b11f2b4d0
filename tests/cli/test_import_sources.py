"""``paperdesk import`` of every format, through typer's runner: told by
content, --format forcing one, --star and --tag for one's own bibliography,
a directory of mixed files, a malformed file as one line; and --json papers
carrying the new fields."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from paperdesk.cli import app
from tests.conftest import shared_sample

runner = CliRunner()


def run(*args: str, code: int = 0, input: str | None = None):
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def test_a_zotero_export_becomes_the_starting_set_of_liked_papers():
    bib = shared_sample("bibtex/bbt_fixture_arxiv_identifiers_460.bibtex")
    result = run("import", str(bib), "--star", "--tag", "Zotero")
    assert f"{bib}: 3 papers: 3 new, 0 updated, 0 unchanged, 0 warnings" in result.stdout
    assert "starred 3 papers and tagged 3 with zotero" in result.stderr
    papers = json.loads(run("list", "--starred", "--json").stdout)
    assert len(papers) == 3 and all(p["tags"] == ["zotero"] for p in papers)
    quantum = next(p for p in papers if p["arxiv_id"] == "1401.2910")
    assert quantum["doi"] == "10.1126/science.1252319"
    assert quantum["author_names"][0] == "Troels F. Rønnow" and quantum["authors"] == 9
    assert quantum["categories"] == ["quant-ph"] and quantum["keywords"] == ["Quantum Physics"]
    assert quantum["pdf"] == "https://arxiv.org/pdf/1401.2910"
    assert quantum["field_sources"]["doi"] == "bibtex"
    for key in ("comments", "github_stars"):
        assert quantum[key] is None


def test_format_forces_a_parser_and_refuses_the_wrong_one(tmp_path: Path):
    bib = shared_sample("bibtex/bbt_fixture_arxiv_identifiers_460.bibtex")
    result = run("import", "--format", "ris", str(bib), code=1)
    assert "holds no RIS record" in result.stderr
    assert "--format" in run("import", "--format", "word", str(bib), code=2).stderr


def test_a_directory_of_mixed_files_is_told_apart_by_content(tmp_path: Path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    # Names that lie: the content decides.
    (folder / "a.txt").write_bytes(shared_sample("hf_api/hfnl_2024-05-27.json").read_bytes())
    (folder / "b.xml").write_bytes(
        shared_sample("arxiv_rss/zad_atom_cs.AI_2025-08-20.xml").read_bytes()
    )
    (folder / "c.bib").write_bytes(
        shared_sample("csl_json/bbt_fixture_deterministic_ordering_1400.csl.json").read_bytes()
    )
    (folder / "notes.md").write_text("not imported")
    result = run("import", str(folder))
    assert "a.txt: 13 papers: 13 new" in result.stdout
    assert "b.xml: 7 papers: 7 new" in result.stdout
    assert "c.bib: 26 papers: 26 new" in result.stdout
    assert "notes.md" not in result.output


def test_malformed_files_get_one_line_naming_the_file_and_the_reason(tmp_path: Path):
    cases = {
        "repr.json": "[\"{'paper': {'id': '1'}}\", \"{'paper': {'id': '2'}}\"]",
        "page.html": "<!doctype html><html><body>Daily Papers</body></html>",
        "unclosed.bib": "@article{a, title = {Never closed\n",
        "error.xml": '<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        "<id>http://arxiv.org/api/errors#x</id><summary>bad query</summary></entry></feed>",
        "feed.xml": "<rss><channel><title>Feed error for query: x</title>"
        "<description>bad category</description></channel></rss>",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    result = run("import", *(str(tmp_path / n) for n in cases), code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(cases), lines
    for line, name in zip(lines, cases, strict=True):
        assert line.startswith(f"paperdesk: {tmp_path / name}: ")
    assert "Python str(dict) text" in lines[0]
    assert "without the Daily Papers data" in lines[1]
    assert "holds no BibTeX entry" in lines[2]
    assert "arXiv API error: bad query" in lines[3]
    assert "arXiv feed error: bad category" in lines[4]
    assert json.loads(run("list", "--json").stdout) == []


def test_a_file_with_some_bad_records_imports_the_good_ones(tmp_path: Path):
    items = json.loads(shared_sample("hf_api/hfnl_2025-10-17.json").read_text())
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([items[0], "junk", items[1]]))
    result = run("import", str(path))
    assert "2 papers: 2 new, 0 updated, 0 unchanged, 1 warning\n" in result.stdout
    assert "warning: item 2: is str, not an object" in result.stderr


def test_show_and_search_use_the_new_fields():
    run("import", str(shared_sample("hf_api/hfnl_2025-10-17.json")))
    shown = run("show", "2510.14545").stdout
    assert "arXiv:2510.14545" in shown and "2 comments" in shown
    assert "by: Guanting Dong, Licheng Bao" in shown and "code: 663 stars" in shown
    assert "pdf: https://arxiv.org/pdf/2510.14545" in shown
    found = run("search", "author:dong", "--json").stdout
    assert "2510.14545" in found
    assert "Agentic" in run("search", "arxiv:2510.14545v3").stdout  # a version is ignored
    assert "No papers match" in run("search", "doi:10.1234/none").stderr
    assert "Agentic" in run("search", "author:>5 entropy").stdout  # author: before a count
    assert "Agentic" not in run("search", "author:<5 entropy").stdout


def test_stdin_takes_any_format():
    data = shared_sample("arxiv_rss/zad_atom_cs.AI_2025-08-20.xml").read_text()
    result = run("import", "-", input=data)
    assert "(standard input): 7 papers: 7 new" in result.stdout
