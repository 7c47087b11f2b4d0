from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from paperdesk.importers.dailypapers import (
    check_is_dump,
    decode,
    extract_links,
    parse,
    read_dump,
)
from paperdesk.model import normalise_title, paper_id
from tests.dumps import CHROME, LOREM, E, lorem, page


def by_title(result, start: str):
    matches = [e for e in result.entries if e.title.startswith(start)]
    assert len(matches) == 1, f"{start!r}: {len(matches)} matches"
    return matches[0]


# --- the real samples -----------------------------------------------------------------


def test_samples_counts(samples):
    expected = {
        "000_d9c49da1ae1e2208.txt": (date(2025, 11, 11), 69, 66, 2, 13),
        "001_2c987576fe42236f.txt": (date(2025, 11, 10), 80, 79, 1, 13),
    }
    ids = set()
    for path in samples:
        text, note = read_dump(path)
        assert note is None
        result = parse(text)
        page_date, entries, with_meta, with_org, with_upvotes = expected[path.name]
        assert result.page_dates == [page_date]
        assert len(result.entries) == entries
        assert sum(1 for e in result.entries if e.published_raw) == with_meta
        assert sum(1 for e in result.entries if e.organization) == with_org
        assert sum(1 for e in result.entries if e.upvotes is not None) == with_upvotes
        assert result.warnings == []
        ids |= {e.id for e in result.entries}
    assert len(ids) == 140


def test_sample_entries_exact_fields(samples):
    result = parse(read_dump(samples[0])[0])
    first = result.entries[0]
    assert first.title == (
        "DYMO-Hair: Generalizable Volumetric Dynamics Modeling for Robot Hair Manipulation"
    )
    assert first.abstract.startswith("Hair care is an essential daily activity")
    assert first.authors is None and first.published is None and first.upvotes is None
    assert first.links == ("https://chengyzhao.github.io/DYMOHair-web/",)
    assert first.line == 13

    sim = by_title(result, "When to Trust Your Simulator")
    assert (sim.authors, sim.published, sim.published_raw, sim.upvotes) == (
        7,
        date(2022, 6, 27),
        "Jun 27, 2022",
        None,
    )

    ropes = by_title(result, "Learn the Ropes, Then Trust the Wins")
    assert ropes.organization == "Tencent"
    assert ropes.authors is None
    # No year on the page: one more than the latest explicit year (2024).
    assert (ropes.published, ropes.published_raw, ropes.upvotes) == (date(2025, 9, 26), "Sep 26", 4)

    ophtha = by_title(result, "Bridging the Gap in Ophthalmic AI")
    assert ophtha.links == ("https://github.com/lxirich/OphthaReason",)  # "{link}." removed

    second = parse(read_dump(samples[1])[0])
    video = by_title(second, "Video Reasoning without Training")
    assert (video.organization, video.published, video.upvotes) == (
        "Qualcomm",
        date(2025, 10, 19),
        2,
    )
    grok = by_title(second, "Grokking Tickets")
    assert grok.links == ("https://github.com/gouki510/Grokking-Tickets",)


# --- variants ----------------------------------------------------------------------------


def test_crlf_bom_and_trailing_spaces_parse_like_the_plain_text():
    text = page(
        [E("Alpha", authors=3, date="Jun 27, 2022"), E("Beta", org="x X Lab", date="Sep 2")]
    )
    messy = "\ufeff" + "\r\n".join(line + "   " for line in text.split("\n"))
    assert parse(messy).entries == parse(text).entries
    assert [e.title for e in parse(messy).entries] == ["Alpha", "Beta"]


def test_runs_of_blank_lines_and_whitespace_only_lines_separate_blocks():
    text = (
        "Alpha\n\n\n \t \n\n"
        + LOREM
        + "\n   \n  • 2 authors\n·\nJan 3, 2020\n\n\n\nBeta\n\n"
        + LOREM
    )
    result = parse(text)
    assert [(e.title, e.authors) for e in result.entries] == [("Alpha", 2), ("Beta", None)]


def test_wrapped_title_is_joined_with_single_spaces():
    text = "A Very Long Title That\n   Wraps Over\nThree Lines\n\n" + LOREM
    assert parse(text).entries[0].title == "A Very Long Title That Wraps Over Three Lines"


def test_missing_metadata_and_dumps_without_any_metadata():
    text = page([E("One"), E("Two"), E("Three")], chrome=False, page_date=None)
    result = parse(text)
    assert [e.title for e in result.entries] == ["One", "Two", "Three"]
    assert all(e.authors is None and e.published is None for e in result.entries)


def test_several_pages_in_one_file_with_their_own_dates_and_years():
    first = page(
        [E("Old", authors=1, date="Jan 5, 2023"), E("New", authors=2, date="Mar 1")],
        page_date="Mar 11",
    )
    second = page(
        [E("Later", authors=4, date="Feb 2, 2021"), E("Recent", authors=5, date="Apr 4")],
        page_date="Apr 10",
    )
    result = parse(first + "\n\n" + second)
    assert [e.title for e in result.entries] == ["Old", "New", "Later", "Recent"]
    assert result.page_dates == [date(2024, 3, 11), date(2022, 4, 10)]
    assert by_title(result, "New").published == date(2024, 3, 1)
    assert by_title(result, "Recent").published == date(2022, 4, 4)
    assert by_title(result, "Recent").page_date == date(2022, 4, 10)
    assert not any(e.title in CHROME for e in result.entries)


def test_year_rule_user_year_wins_then_latest_explicit_then_file_year():
    text = page([E("A", authors=1, date="Jan 5, 2019"), E("B", authors=1, date="Mar 1")])
    assert by_title(parse(text), "B").published == date(2020, 3, 1)
    assert by_title(parse(text, year=2031), "B").published == date(2031, 3, 1)
    only_short = page([E("C", authors=1, date="Mar 1")])
    assert by_title(parse(only_short, fallback_year=2017), "C").published == date(2017, 3, 1)


def test_upvotes_with_and_without_year_and_one_author():
    text = page(
        [
            E("A", authors=1, date="May 24, 2024", upvotes=2),
            E("B", authors=12, date="Oct 19", upvotes=137),
        ]
    )
    result = parse(text)
    assert (by_title(result, "A").upvotes, by_title(result, "A").authors) == (2, 1)
    assert by_title(result, "B").upvotes == 137
    assert "1 authors" in text  # the page writes "1 authors" too


def test_organisation_line_takes_the_display_name():
    text = page([E("A", org="deepseek-ai DeepSeek AI Lab", date="Oct 1", upvotes=9)])
    entry = parse(text).entries[0]
    assert (entry.organization, entry.authors, entry.upvotes) == ("DeepSeek AI Lab", None, 9)


def test_unicode_titles_and_identity_across_forms():
    title = "Löwenheim–Skolem for Transformers: ﬁne-grained Über-Analysis 🚀"
    entry = parse(page([E(title, authors=2, date="Jan 1, 2020")])).entries[0]
    assert entry.title == title
    assert normalise_title("LÖWENHEIM–SKOLEM for transformers  ﬁne grained über analysis 🚀") == (
        normalise_title(title)
    )
    assert (
        paper_id("  löwenheim skolem FOR transformers: fine-grained über-analysis 🚀") == entry.id
    )


def test_inline_metadata_on_one_line():
    text = "Alpha\n\n" + LOREM + "\n\n• 7 authors · Jun 27, 2022 12\n\nBeta\n\n" + LOREM
    alpha = parse(text).entries[0]
    assert (alpha.authors, alpha.published, alpha.upvotes) == (7, date(2022, 6, 27), 12)


def test_truncated_download_keeps_complete_entries_and_warns_about_the_last():
    text = page([E(f"Paper {n}", authors=2, date="Jan 1, 2020") for n in range(5)])
    cut = text + "\n\nPaper Five\n\n" + LOREM[:90]  # cut mid-sentence, no metadata
    result = parse(cut)
    assert [e.title for e in result.entries] == [f"Paper {n}" for n in range(5)]
    assert len(result.warnings) == 1 and "truncated" in result.warnings[0].message
    assert result.warnings[0].line == cut.split("\n").index("Paper Five") + 1

    title_only = text + "\n\nPaper Six"
    result = parse(title_only)
    assert len(result.entries) == 5
    assert "no abstract" in result.warnings[0].message

    partial_meta = text + "\n\nPaper Seven\n\n" + LOREM + "\n\n  • 3 authors\n·"
    result = parse(partial_meta)
    assert result.entries[-1].title == "Paper Seven" and result.entries[-1].authors == 3
    assert "truncated" in result.warnings[0].message


def test_damaged_entry_is_skipped_with_its_line_and_the_rest_imports():
    good = [
        E(f"Good {n}", abstract=lorem(2, str(n)), authors=2, date="Jan 1, 2020") for n in range(4)
    ]
    text = page(good[:2])
    text += "\n\nA Title Whose Abstract Went Missing\n\n  • 3 authors\n·\nFeb 2, 2021\n\n"
    text += "\n".join(good[2].lines() + good[3].lines())
    result = parse(text)
    assert [e.title for e in result.entries] == ["Good 0", "Good 1", "Good 2", "Good 3"]
    line = text.split("\n").index("A Title Whose Abstract Went Missing") + 1
    assert [w.line for w in result.warnings] == [line]


def test_title_followed_by_another_title_resynchronises():
    text = page([E("Lost Title"), E("Found", abstract=lorem(2))], chrome=False, page_date=None)
    text = text.replace(LOREM + "\n\nFound", "Found", 1)  # "Lost Title" loses its abstract
    result = parse(text)
    assert [e.title for e in result.entries] == ["Found"]
    assert "no abstract" in result.warnings[0].message


def test_invalid_calendar_date_is_left_empty_with_a_warning():
    entry_text = page([E("A", authors=1, date="Feb 30, 2021")])
    result = parse(entry_text)
    assert result.entries[0].published is None
    assert "impossible date" in result.warnings[0].message


def test_chrome_alone_is_never_a_paper():
    result = parse("\n\n".join(CHROME + ["Nov 11"]))
    assert result.entries == [] and result.has_structure


# --- links -------------------------------------------------------------------------------


def test_link_cleanup():
    abstract = (
        "Code at https://github.com/a/b. Project (https://x.github.io/site/), data at "
        "https://huggingface.co/datasets/c/d, and https://github.com/e/f{link}. Also "
        "github.com/g/h and see https://en.wikipedia.org/wiki/Foo_(bar)."
    )
    assert extract_links(abstract) == (
        "https://github.com/a/b",
        "https://x.github.io/site/",
        "https://huggingface.co/datasets/c/d",
        "https://github.com/e/f",
        "https://github.com/g/h",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
    )


def test_links_are_deduplicated_in_order():
    assert extract_links("https://a.io/x and again https://a.io/x.") == ("https://a.io/x",)


# --- encodings and plausibility ------------------------------------------------------------


def test_decode_falls_back_to_windows_1252_and_says_so():
    text, note = decode("Café “quotes”".encode("cp1252"))
    assert text == "Café “quotes”"
    assert note and "Windows-1252" in note
    assert decode("Café".encode())[1] is None
    assert decode(b"\xef\xbb\xbfhello") == ("hello", None)


def test_prose_without_dump_structure_is_rejected():
    import pytest

    from paperdesk.importers.dailypapers import DumpRejected

    prose = "This is a letter.\n\nDear friend, I hope you are well.\n\nIt was raining."
    with pytest.raises(DumpRejected):
        check_is_dump(parse(prose))


# --- hostile input ---------------------------------------------------------------------------

dumpish = st.lists(
    st.one_of(
        st.sampled_from(
            CHROME
            + [
                "·",
                "  • 3 authors",
                "Jun 27, 2022",
                "Sep 26 4",
                "Nov 11",
                "",
                "   ",
                "tencent Tencent",
                "https://github.com/a/b.",
                LOREM,
            ]
        ),
        st.text(max_size=80),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(dumpish, st.sampled_from(["\n", "\r\n", "\r"]))
def test_parser_never_raises_on_dump_like_text(lines, newline):
    result = parse(newline.join(lines))
    for entry in result.entries:
        assert entry.title and entry.id


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_parser_never_raises_on_arbitrary_text(text):
    parse(text)
