"""The importers of the other formats (shared/FORMATS.md): each shared sample,
fields checked against the file; variants the tests build; malformed files
refused with one line naming the reason; arbitrary bytes never raise."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperdesk.importers import arxiv, bibliography, formats, hf
from paperdesk.importers.dailypapers import DumpRejected
from tests.conftest import shared_sample


def sample(relative: str) -> str:
    return shared_sample(relative).read_text(encoding="utf-8")


# --- Hugging Face ---------------------------------------------------------------------------


def test_hf_api_sample_2025():
    result = hf.parse_json(sample("hf_api/hfnl_2025-10-17.json"))
    assert len(result.entries) == 35 and not result.warnings
    first = result.entries[0]
    assert first.title == "Agentic Entropy-Balanced Policy Optimization"
    assert first.arxiv_id == "2510.14545"
    assert first.abstract.startswith("Recently, Agentic Reinforcement Learning (Agentic RL) has")
    assert "\n" not in first.abstract and "  " not in first.abstract
    assert first.author_names[0] == "Guanting Dong" and len(first.author_names) == 14
    assert first.authors == 14
    assert first.published == date(2025, 10, 16)
    assert first.page_date == date(2025, 10, 17)  # the day it was on Daily Papers
    assert (first.upvotes, first.comments, first.github_stars) == (61, 2, 663)
    assert first.organization == "Renmin University of China"
    assert first.links[:3] == (
        "https://huggingface.co/papers/2510.14545",
        "https://arxiv.org/abs/2510.14545",
        "https://github.com/RUC-NLPIR/ARPO/blob/main/",
    )
    assert first.pdf == "https://arxiv.org/pdf/2510.14545"
    assert "AEPO" in first.keywords
    # Hidden authors are left out; absent stars are unknown, not zero.
    raw = json.loads(sample("hf_api/hfnl_2025-10-17.json"))
    for item, entry in zip(raw, result.entries, strict=True):
        shown = [a["name"] for a in item["paper"]["authors"] if not a.get("hidden")]
        assert list(entry.author_names) == shown
        assert entry.upvotes == item["paper"]["upvotes"]
        if "githubStars" not in item["paper"]:
            assert entry.github_stars is None


def test_hf_api_sample_2024_reindented():
    result = hf.parse_json(sample("hf_api/hfnl_2024-05-27.json"))
    assert len(result.entries) == 13
    first = result.entries[0]
    assert first.arxiv_id == "2405.15738"
    assert first.title.startswith("ConvLLaVA: Hierarchical Backbones")
    assert first.page_date == date(2024, 5, 27)
    assert "https://github.com/alibaba/conv-llava" in first.links  # from the abstract


def test_hf_api_several_responses_concatenated_and_bad_items():
    items = json.loads(sample("hf_api/hfnl_2025-10-17.json"))
    text = json.dumps([items[:10], items[10:]])
    assert len(hf.parse_json(text).entries) == 35
    broken = json.dumps([items[0], 42, {"paper": {"id": "x"}}, items[1]])
    result = hf.parse_json(broken)
    assert len(result.entries) == 2
    assert [str(w) for w in result.warnings] == [
        "item 2: is int, not an object",
        "item 3: has no title",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[\"{'paper': {'id': '2405.1'}}\", \"{'paper': {}}\"]", "Python str(dict) text"),
        ('{"data": []}', "the list is under 'data'"),
        ('{"error": "Sorry, we can\'t find the page"}', "error response from Hugging Face"),
        ('[{"paper": {"id": "2405.1"', "is not valid JSON"),
        ("[1, 2, 3]", "holds no readable Daily Papers item (item 1: is int"),
    ],
)
def test_hf_api_malformed_files_are_refused_with_the_reason(text, reason):
    with pytest.raises(DumpRejected, match=None) as caught:
        formats.parse(text, "hf-api")
    assert reason in str(caught.value)


def test_hf_page_html_with_the_list_embedded():
    items = json.loads(sample("hf_api/hfnl_2025-10-17.json"))[:3]
    import html

    props = html.escape(json.dumps({"dailyPapers": items, "date": "2025-10-17"}), quote=True)
    page = (
        "<!doctype html><html><head><title>Daily Papers</title></head><body>"
        f'<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{props}">'
        "</div></body></html>"
    )
    kind, result = formats.parse(page)
    assert kind == "hf-page"
    assert [e.arxiv_id for e in result.entries] == [i["paper"]["id"] for i in items]
    assert result.entries[0].origin == "hf-page"


def test_an_html_page_without_the_data_is_refused():
    with pytest.raises(DumpRejected, match="HTML page without the Daily Papers data"):
        formats.parse("<html><body><h1>Hello</h1></body></html>")


# --- arXiv ----------------------------------------------------------------------------------


def test_arxiv_api_sample():
    kind, result = formats.parse(
        sample("arxiv_api/rsxiv_query_electron_proton_2025-08-20_classic.xml")
    )
    assert kind == "arxiv-api" and len(result.entries) == 10
    first = result.entries[0]
    assert first.arxiv_id == "astro-ph/9904306" and first.arxiv_version == 1
    assert first.title == "Improved scenario of baryogenesis"
    assert first.abstract.startswith("It is assumed that, in the primordial plasma, at the")
    assert first.author_names == ("D. L. Khokhlov",)
    assert first.published == date(1999, 4, 22)
    assert first.categories == ("astro-ph",)
    assert first.links[0] == "https://arxiv.org/abs/astro-ph/9904306"
    assert first.pdf == "https://arxiv.org/pdf/astro-ph/9904306v1"
    second = result.entries[1]
    # A hard-wrapped title is unwrapped; accents arrive as Unicode.
    assert second.title == (
        "Proton-ring and Electron-linac Collider (PRELC) as a (first) "
        "TeV-rangeelectron-proton or photon-proton collider"
    )
    assert second.author_names == ("Raimo Vuopionperä",)
    ids = [e.arxiv_id for e in result.entries]
    assert "2507.06488" in ids and len(set(ids)) == 10


def test_arxiv_api_namespaces_on_each_element_and_errors():
    text = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.01234v2</id>'
        "<title>A Title</title><summary>An   abstract.</summary>"
        '<arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.1000/XYZ</arxiv:doi>'
        '<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG"/>'
        '<category term="cs.LG"/><category term="stat.ML"/></entry>'
        "<entry><id></id><title>Error</title>"
        '<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term=""/>'
        "</entry></feed>"
    )
    result = arxiv.parse(text)
    [entry] = result.entries
    assert (entry.arxiv_id, entry.arxiv_version, entry.doi) == ("2401.01234", 2, "10.1000/xyz")
    assert entry.categories == ("cs.LG", "stat.ML") and entry.abstract == "An abstract."
    assert [str(w) for w in result.warnings] == [
        "entry 2: no arXiv ID or title (an ID that does not exist?)"
    ]
    error = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#bad</id>'
        "<summary>malformed id: 2401</summary></entry></feed>"
    )
    with pytest.raises(DumpRejected, match="arXiv API error: malformed id: 2401"):
        arxiv.parse(error)


def test_arxiv_listing_atom_sample():
    kind, result = formats.parse(sample("arxiv_rss/zad_atom_cs.AI_2025-08-20.xml"))
    assert kind == "arxiv-feed" and len(result.entries) == 7
    first = result.entries[0]
    assert first.arxiv_id == "2508.13426" and first.arxiv_version == 1
    assert first.title.startswith("ALIGN: Word Association Learning")
    assert first.abstract.startswith("As large language models (LLMs) increasingly mediate")
    assert "Announce Type" not in first.abstract
    assert first.categories == ("cs.CL", "cs.AI")
    assert first.author_names == ("Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang")
    assert first.page_date == date(2025, 8, 20) and not first.update_only
    assert "Paulo André Lima de Castro" in {n for e in result.entries for n in e.author_names}


def test_xml_that_is_not_well_formed_or_holds_entities_is_refused():
    with pytest.raises(DumpRejected, match="not well-formed XML"):
        formats.parse("<feed><entry></feed>")
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><feed>&a;</feed>'
    with pytest.raises(DumpRejected, match="declares XML entities"):
        formats.parse(bomb)


# --- BibTeX, RIS, CSL-JSON -------------------------------------------------------------------


def test_bibtex_sample():
    kind, result = formats.parse(sample("bibtex/bbt_fixture_arxiv_identifiers_460.bibtex"))
    assert kind == "bibtex" and len(result.entries) == 3
    first, second, third = result.entries
    assert first.title == "Defining and Detecting Quantum Speedup"
    assert first.author_names[0] == "Troels F. Rønnow"  # R{\o}nnow, Troels F.
    assert len(first.author_names) == 9
    assert first.arxiv_id == "1401.2910" and first.doi == "10.1126/science.1252319"
    assert first.published == date(2014, 7, 1) and first.categories == ("quant-ph",)
    assert second.title == "BV Master Action for Heterotic and Type II String Field Theories"
    assert second.arxiv_id == "1508.05387"
    assert "superstring field theory" in second.keywords
    assert third.arxiv_id == "1305.4904" and third.author_names == (
        "John A. Smolin",
        "Graeme Smith",
    )


def test_bibtex_strings_crossref_months_accents_and_duplicates():
    text = r"""
@string{conf = "Proceedings of Things"}
@comment{ignored}
@preamble{"\newcommand{\x}{x}"}
@proceedings{proc, title = conf # { 2024}, year = 2024, month = mar}
@inproceedings{a, title = {{\"U}ber {Caf\'e} \& Tea}, author = {M{\"u}ller, J{\"o}rg and others},
  crossref = {proc}, url = {https://arxiv.org/abs/2403.00001v2}}
@article{a, title = {Duplicate}}
@misc{b, title = {Broken, author = {X}
@misc{c, title = {After the broken one}, eprint = {2404.00002}, eprinttype = {arxiv}}
"""
    result = bibliography.parse_bibtex(text)
    by_title = {e.title: e for e in result.entries}
    assert "Proceedings of Things 2024" in by_title
    entry = by_title["Über Café & Tea"]
    assert entry.author_names == ("Jörg Müller",)
    assert entry.published == date(2024, 3, 1)  # inherited through crossref
    assert (entry.arxiv_id, entry.arxiv_version) == ("2403.00001", 2)
    warnings = [str(w) for w in result.warnings]
    assert any("duplicate key 'a'" in w for w in warnings)
    assert any("cannot be read" in w for w in warnings)
    assert by_title["After the broken one"].arxiv_id == "2404.00002"


def test_bibtex_with_nothing_readable_is_refused():
    with pytest.raises(DumpRejected, match="holds no BibTeX entry"):
        formats.parse("@article{a, title = {never closed\n", "bibtex")


def test_ris_records():
    text = (
        "TY  - JOUR\nTI  - Attention Is All You Need\nAU  - Vaswani, Ashish\nAU  - Shazeer, Noam\n"
        "PY  - 2017/06/12\nDO  - 10.5555/3295222\nUR  - https://arxiv.org/abs/1706.03762\n"
        "KW  - transformers\nKW  - attention\nAB  - The dominant   sequence models.\nER  - \n\n"
        "TY  - JOUR\nAU  - Nobody\nER  - \n\n"
        "TY  - CONF\nT1  - Unterminated Record\nN2  - An abstract.\n"
    )
    kind, result = formats.parse(text)
    assert kind == "ris"
    first, last = result.entries
    assert first.author_names == ("Ashish Vaswani", "Noam Shazeer")
    assert (first.arxiv_id, first.doi, first.published) == (
        "1706.03762",
        "10.5555/3295222",
        date(2017, 6, 12),
    )
    assert first.keywords == ("transformers", "attention")
    assert first.abstract == "The dominant sequence models."
    assert last.title == "Unterminated Record" and last.abstract == "An abstract."
    assert sorted(str(w) for w in result.warnings) == [
        "record 2: has no title; skipped",
        "record 3: has no end line (ER); read to the end of the file",
    ]


def test_csl_json_sample():
    kind, result = formats.parse(
        sample("csl_json/bbt_fixture_deterministic_ordering_1400.csl.json")
    )
    assert kind == "csl-json" and len(result.entries) == 26
    first = result.entries[0]
    assert first.title.startswith("Perceptions of disability and their impact")
    assert first.author_names == ("Ian Brittain",)
    assert first.published == date(2004, 1, 1) and first.published_raw == "2004"
    assert first.doi == "10.1177/0193723504268729"  # the full DOI, not the short 10/fqd6hj


def test_csl_json_literal_names_and_string_date_parts():
    text = json.dumps(
        [
            {
                "type": "article",
                "title": "A",
                "author": [{"literal": "The Team"}, {"family": "Lee", "given": "Ann"}],
                "issued": {"date-parts": [["2024", "6", "3"]]},
                "URL": "https://arxiv.org/abs/2406.00001",
            },
            {"type": "article"},
        ]
    )
    result = bibliography.parse_csl(text)
    [entry] = result.entries
    assert entry.author_names == ("The Team", "Ann Lee") and entry.published == date(2024, 6, 3)
    assert entry.arxiv_id == "2406.00001"
    assert [str(w) for w in result.warnings] == ["item 2: has no title; skipped"]


# --- by content, never by name ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("\ufeff  [\n {", "json"),
        ("<?xml version='1.0'?><feed>", "xml"),
        ("<!DOCTYPE html><html>", "hf-page"),
        ("% Encoding: UTF-8\n\n@article{x,", "bibtex"),
        ("TY  - JOUR\n", "ris"),
        ("Daily Papers\n\nGet trending papers in your email inbox!\n", "dailypapers"),
    ],
)
def test_detect_by_content(text, kind):
    assert formats.detect(text) == kind


def test_forcing_the_wrong_xml_kind_says_what_it_is():
    with pytest.raises(DumpRejected, match="is not arxiv-api but arxiv-feed"):
        formats.parse(sample("arxiv_rss/zad_atom_cs.AI_2025-08-20.xml"), "arxiv-api")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=600),
    st.sampled_from(
        ["", "[", "{", "<feed>", "<rss><channel>", "@article{", "TY  - JOUR\n", "<html>"]
    ),
    st.sampled_from([None, *formats.FORMATS[1:]]),
)
def test_arbitrary_bytes_never_raise_anything_but_a_refusal(data, start, forced):
    text = start + data.decode("utf-8", "replace")
    try:
        formats.parse(text, forced)
    except DumpRejected as refusal:
        assert "\n" not in str(refusal).strip()


# --- dates known to the year or the month ---------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "published", "precision"),
    [
        ("year = {2024}", date(2024, 1, 1), "year"),
        ("year = {2024}, month = may", date(2024, 5, 1), "month"),
        ("year = {2024}, month = {May}", date(2024, 5, 1), "month"),
        ("year = {2024}, month = {5}, day = {3}", date(2024, 5, 3), "day"),
        ("date = {2023-05}", date(2023, 5, 1), "month"),
        ("date = {2023-05-17}", date(2023, 5, 17), "day"),
        ("date = {2023-13}", date(2023, 1, 1), "year"),  # no such month: the year alone
        ("year = {2024}, month = {13}", date(2024, 1, 1), "year"),
    ],
)
def test_a_bibtex_date_keeps_what_it_knows(fields, published, precision):
    """A year alone is not the first of January: the precision goes with the date."""
    [entry] = bibliography.parse_bibtex(f"@misc{{k, title = {{T}}, {fields}}}").entries
    assert (entry.published, entry.published_precision) == (published, precision)


@pytest.mark.parametrize(
    ("line", "published", "precision"),
    [
        ("PY  - 2022", date(2022, 1, 1), "year"),
        ("PY  - 2022///", date(2022, 1, 1), "year"),
        ("DA  - 2022/05//", date(2022, 5, 1), "month"),
        ("DA  - 2022/05/03/", date(2022, 5, 3), "day"),
    ],
)
def test_a_ris_date_keeps_what_it_knows(line, published, precision):
    [entry] = formats.parse(f"TY  - JOUR\nTI  - T\n{line}\nER  - \n", "ris")[1].entries
    assert (entry.published, entry.published_precision) == (published, precision)


@pytest.mark.parametrize(
    ("issued", "published", "precision"),
    [
        ({"date-parts": [[2023]]}, date(2023, 1, 1), "year"),
        ({"date-parts": [[2023, 5]]}, date(2023, 5, 1), "month"),
        ({"date-parts": [["2023", "5", "9"]]}, date(2023, 5, 9), "day"),
        ({"raw": "Spring 2020"}, date(2020, 1, 1), "year"),
    ],
)
def test_a_csl_date_keeps_what_it_knows(issued, published, precision):
    text = json.dumps([{"type": "article", "title": "T", "issued": issued}])
    [entry] = bibliography.parse_csl(text).entries
    assert (entry.published, entry.published_precision) == (published, precision)
