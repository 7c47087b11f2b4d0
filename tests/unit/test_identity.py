"""One paper however it arrives: arXiv ID first, then DOI, then the normalised
title. A paper first known by title gets the ID when it arrives with one and
keeps its decisions; two records that prove to be one paper merge (decisions
by the state rules), the ID that goes stays an alias. And a version 4 library
migrates keeping every decision."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.importers import formats
from paperdesk.library import Library
from paperdesk.library.schema import SCHEMA_VERSION
from paperdesk.model import Entry, paper_id
from tests.conftest import shared_sample

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def entry(title: str, **fields) -> Entry:
    return Entry(title=title, abstract=fields.pop("abstract", "An abstract."), **fields)


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "library.sqlite3")
    yield lib
    lib.close()


def test_a_title_known_paper_gets_its_arxiv_id_and_keeps_decisions(library: Library):
    library.import_entries([entry("Grokking at the Edge", upvotes=3)], "daily.txt")
    pid = paper_id("Grokking at the Edge")
    library.set_starred([pid], True)
    library.add_tags(pid, ["theory"])
    stats = library.import_entries(
        [entry("Grokking at the edge", arxiv_id="2501.00001", author_names=("Ann Lee",),
               upvotes=9, origin="hf-api")],
        "hf.json",
    )  # fmt: skip
    assert (stats.new, stats.updated) == (0, 1)
    paper = library.get(pid)
    assert paper.arxiv_id == "2501.00001" and paper.starred and paper.tags == ("theory",)
    assert paper.upvotes == 9 and paper.author_names == ("Ann Lee",)
    assert dict(paper.origins)["arxiv_id"] == "hf-api"
    assert dict(paper.origins)["title"] == "dailypapers"
    assert library.count() == 1


def test_the_arxiv_id_wins_over_a_changed_title(library: Library):
    library.import_entries([entry("Old Title", arxiv_id="2501.00002")], "a.json")
    library.import_entries([entry("A Renamed Version", arxiv_id="2501.00002")], "b.json")
    assert library.count() == 1
    assert library.get(paper_id("Old Title")).title == "Old Title"  # the ID never changes


def test_a_doi_joins_records_without_an_arxiv_id(library: Library):
    library.import_entries([entry("Journal Title", doi="10.1/abc")], "a.bib")
    library.import_entries([entry("Another Spelling", doi="10.1/abc", origin="ris")], "b.ris")
    assert library.count() == 1


def test_same_title_different_arxiv_ids_are_two_papers(library: Library):
    library.import_entries([entry("Introduction", arxiv_id="2501.00003")], "a.json")
    stats = library.import_entries([entry("Introduction", arxiv_id="2501.00004")], "b.json")
    assert stats.new == 1 and library.count() == 2
    ids = {p.arxiv_id: p.id for p in library.papers()}
    assert ids["2501.00003"] == paper_id("Introduction")  # the first keeps the title's ID
    assert ids["2501.00004"] != ids["2501.00003"]


def test_two_records_that_prove_to_be_one_paper_merge(tmp_path: Path):
    with Desk(tmp_path / "data") as desk:
        lib = desk.library
        lib.import_entries([entry("From My Bibliography", doi="10.9/xyz")], "mine.bib")
        lib.import_entries([entry("From Daily Papers", arxiv_id="2501.00005")], "hf.json")
        a, b = paper_id("From My Bibliography"), paper_id("From Daily Papers")
        lib.set_starred([a], True)
        lib.add_tags(b, ["later"])
        lib.set_read([b], True)
        assert desk.search("abstract").total == 2
        stats = lib.import_entries(
            [entry("From Daily Papers (v2)", arxiv_id="2501.00005", doi="10.9/xyz")], "api.xml"
        )
        assert stats.merged == 1 and lib.count() == 1
        [paper] = lib.papers()
        assert paper.id == a  # the paper known longest keeps its ID
        assert paper.starred and paper.read and paper.tags == ("later",)
        assert (paper.arxiv_id, paper.doi) == ("2501.00005", "10.9/xyz")
        assert {s.file for s in paper.sources} == {"mine.bib", "hf.json", "api.xml"}
        # The ID that went leads to the paper it became, everywhere.
        assert lib.resolve_id(b) == a and desk.paper(b).id == a
        assert [p.id for p in lib.get_many([b])] == [a]
        # The index drops the merged record.
        assert [h.paper.id for h in desk.search("abstract").hits] == [a]
        assert desk.search("daily").total == 0
        # A later file naming the old title lands on the merged paper too.
        lib.import_entries([entry("From Daily Papers")], "again.txt")
        assert lib.count() == 1


def test_dumps_hf_json_and_bibtex_of_the_same_papers_are_one_record_each(samples, tmp_path):
    with Desk(tmp_path / "data") as desk:
        for path in samples:
            assert not desk.import_file(path).rejected
        dump_papers = desk.papers(sort="title")
        before = desk.count()
        chosen = dump_papers[:5]
        desk.set_starred([chosen[0].id], True)
        desk.add_tags(chosen[1].id, ["mine"])
        # An HF listing holding five of them (by title) and five others.
        items = json.loads(shared_sample("hf_api/hfnl_2025-10-17.json").read_text())
        for number, (item, paper) in enumerate(zip(items[:5], chosen, strict=True)):
            item["title"] = paper.title
            item["paper"]["id"] = f"2599.{number:05d}"
        hf = tmp_path / "listing.json"
        hf.write_text(json.dumps(items[:10]))
        assert not desk.import_file(hf).rejected
        # A bibliography holding three of them by arXiv ID, titled its own way.
        bib = "\n".join(
            f"@article{{k{n}, title = {{{{{chosen[n].title.upper()}}}}}, eprint = {{2599.{n:05d}}},"
            f" archiveprefix = {{arXiv}}, doi = {{10.5555/{n}}}}}"
            for n in range(3)
        )
        (tmp_path / "mine.bib").write_text(bib)
        report = desk.import_file(tmp_path / "mine.bib", format="bibtex")
        assert (report.stats.new, report.stats.updated) == (0, 3)
        assert desk.count() == before + 5
        first = desk.paper(chosen[0].id)
        assert first.starred and first.arxiv_id == "2599.00000" and first.doi == "10.5555/0"
        assert desk.paper(chosen[1].id).tags == ("mine",)
        names = {Path(s.file).name for s in first.sources}
        assert {"listing.json", "mine.bib"} < names and any(n.endswith(".txt") for n in names)


def test_import_star_and_tag_mark_every_paper_of_the_file(tmp_path: Path):
    with Desk(tmp_path / "data") as desk:
        report = desk.import_file(shared_sample("bibtex/bbt_fixture_arxiv_identifiers_460.bibtex"))
        assert desk.mark_imported(report, star=True, tags=["zotero"]) == (3, 3)
        assert all(p.starred and p.tags == ("zotero",) for p in desk.papers())
        journal = (tmp_path / "data" / "decisions.jsonl").read_text().splitlines()
        assert json.loads(journal[-1])["ids"] and json.loads(journal[-1])["add"] == ["zotero"]


def test_a_version_4_library_migrates_keeping_every_decision(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "library-v4", data)
    with Desk(data) as desk:
        assert desk.count() == 3
        agentic = desk.paper(paper_id("Agentic Entropy-Balanced Policy Optimization"))
        assert agentic.starred and agentic.upvotes == 40 and agentic.arxiv_id is None
        assert desk.paper(paper_id("A Paper Only In The Old Library")).read
        assert desk.paper(paper_id("Defining and Detecting Quantum Speedup")).tags == ("quantum",)
        # The new sources find the old papers by title and fill them in.
        desk.import_file(shared_sample("hf_api/hfnl_2025-10-17.json"))
        desk.import_file(shared_sample("bibtex/bbt_fixture_arxiv_identifiers_460.bibtex"))
        agentic = desk.paper("2510.14545")
        assert agentic.id == paper_id("Agentic Entropy-Balanced Policy Optimization")
        assert agentic.starred and agentic.upvotes == 61 and agentic.author_names
        assert agentic.abstract == "Old abstract from a text dump."  # kept: no newer version
        quantum = desk.paper("1401.2910")
        assert quantum.tags == ("quantum",) and quantum.doi == "10.1126/science.1252319"
        assert quantum.abstract.startswith("The development of small-scale")  # was empty
        assert desk.search("author:ronnow").total == 1
    version = sqlite3.connect(data / "library.sqlite3").execute("PRAGMA user_version").fetchone()
    assert version == (SCHEMA_VERSION,)


def test_every_shared_sample_imports_with_its_count(tmp_path: Path):
    expected = {
        "hf_api/hfnl_2024-05-27.json": ("hf-api", 13),
        "hf_api/hfnl_2025-10-17.json": ("hf-api", 35),
        "arxiv_api/rsxiv_query_electron_proton_2025-08-20_classic.xml": ("arxiv-api", 10),
        "arxiv_rss/zad_atom_cs.AI_2025-08-20.xml": ("arxiv-feed", 7),
        "bibtex/bbt_fixture_arxiv_identifiers_460.bibtex": ("bibtex", 3),
        "csl_json/bbt_fixture_deterministic_ordering_1400.csl.json": ("csl-json", 26),
    }
    with Desk(tmp_path / "data") as desk:
        for relative, (kind, count) in expected.items():
            report = desk.import_file(shared_sample(relative))
            assert report.rejected is None, report.rejected
            assert (report.format, report.stats.papers, report.stats.new) == (kind, count, count)
        assert desk.count() == sum(n for _, n in expected.values())


def test_format_names_are_what_import_takes():
    assert formats.FORMATS[0] == "dailypapers" and "csl-json" in formats.FORMATS


def test_a_state_file_naming_a_merged_id_reaches_the_paper_it_became(library: Library):
    from paperdesk.library.state import Flag, PaperState

    library.import_entries([entry("Bibliography Title", doi="10.1234/q")], "a.bib")
    library.import_entries([entry("Listing Title", arxiv_id="2502.00001")], "b.json")
    library.import_entries([entry("Api", arxiv_id="2502.00001", doi="10.1234/q")], "c.xml")
    gone = paper_id("Listing Title")
    kept = paper_id("Bibliography Title")
    result = library.import_state(
        {gone: PaperState(starred=Flag(True, "2026-01-01T00:00:00.000Z"))}
    )
    assert (result.updated, result.pending) == (1, 0)
    assert library.get(kept).starred


# --- dates a bibliography gives to the year or the month ---------------------------------


def test_a_date_known_to_the_year_stays_so_until_a_source_tells_its_day(library: Library):
    from datetime import date

    from paperdesk.model import facts

    def paper():
        [found] = library.papers()
        return found

    library.import_entries(
        [entry("Partial Dates", published=date(2024, 1, 1), published_raw="2024",
               published_precision="year", origin="bibtex")],
        "mine.bib",
    )  # fmt: skip
    assert (paper().published_precision, facts(paper())[0]) == ("year", "2024")
    # A day of another year is another source's mistake or another version: kept.
    library.import_entries([entry("Partial Dates", published=date(2023, 5, 3))], "a.txt")
    assert (paper().published, paper().published_precision) == (date(2024, 1, 1), "year")
    # A day in that year tells more than the year: it fills the date in.
    library.import_entries(
        [entry("Partial Dates", published=date(2024, 5, 3), published_raw="May 3, 2024")], "b.txt"
    )
    assert (paper().published, paper().published_precision) == (date(2024, 5, 3), "day")
    assert paper().published_raw == "May 3, 2024" and facts(paper())[0] == "2024-05-03"
    # ...and a year alone after it says less: the day stays.
    library.import_entries(
        [entry("Partial Dates", published=date(2024, 1, 1), published_precision="year")], "c.bib"
    )
    assert (paper().published, paper().published_precision) == (date(2024, 5, 3), "day")


def test_a_version_9_library_learns_which_dates_were_a_year_or_a_month(tmp_path: Path):
    """Before version 10 a bibliography's `year = {2024}` was kept as 2024-01-01
    with its raw text: the migration reads the raw text of the bibliography
    formats back into a precision, and leaves every other date a day."""
    from datetime import date

    data = tmp_path / "data"
    cases = {
        "Bib Year": ("2024", date(2024, 1, 1), "bibtex", "year"),
        "Bib Month Name": ("2024 May", date(2024, 1, 1), "bibtex", "year"),  # the name was lost
        "Bib Month": ("2024 5", date(2024, 5, 1), "bibtex", "month"),
        "Bib Iso Month": ("2024-05", date(2024, 5, 1), "bibtex", "month"),
        "Bib Day": ("2024 5 1", date(2024, 5, 1), "bibtex", "day"),
        "Ris Year": ("2022///", date(2022, 1, 1), "ris", "year"),
        "Ris Month": ("2022/05//", date(2022, 5, 1), "ris", "month"),
        "Csl Month": ("2023-5", date(2023, 5, 1), "csl-json", "month"),
        "Csl Free Text": ("Spring 2020", date(2020, 1, 1), "csl-json", "year"),
        "Daily First Of January": ("Jan 1, 2024", date(2024, 1, 1), "dailypapers", "day"),
        "Daily Bare Year": ("2024", date(2024, 1, 1), "dailypapers", "day"),
    }
    with Desk(data) as desk:
        desk.library.import_entries(
            [entry(title, published=day, published_raw=raw, origin=origin)
             for title, (raw, day, origin, _) in cases.items()],
            "old.txt",
        )  # fmt: skip
    conn = sqlite3.connect(data / "library.sqlite3")
    conn.execute("ALTER TABLE papers DROP COLUMN published_precision")
    conn.execute("PRAGMA user_version = 9")
    conn.commit()
    conn.close()
    with Desk(data) as desk:
        found = {p.title: p.published_precision for p in desk.library.papers()}
    assert found == {title: case[3] for title, case in cases.items()}
    version = sqlite3.connect(data / "library.sqlite3").execute("PRAGMA user_version").fetchone()
    assert version == (SCHEMA_VERSION,) == (10,)
