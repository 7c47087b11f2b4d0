from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from paperdesk.library import ORDER_BY, Filter, Library, LibraryError, UnknownPaper
from paperdesk.model import Entry, Source


@pytest.fixture
def library(tmp_path: Path) -> Library:
    with Library(tmp_path / "lib" / "library.sqlite3") as lib:
        yield lib


def entry(title: str, **fields) -> Entry:
    fields.setdefault("abstract", f"Abstract of {title}.")
    return Entry(title=title, **fields)


def test_import_then_reimport_changes_nothing(library: Library):
    entries = [entry("Alpha", authors=3), entry("Beta", upvotes=2)]
    first = library.import_entries(entries, "a.txt")
    assert (first.papers, first.new, first.updated, first.unchanged) == (2, 2, 0, 0)
    before = library.papers(sort="title")
    seq = library.max_seq()
    again = library.import_entries(entries, "a.txt")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert library.papers(sort="title") == before
    assert library.max_seq() == seq  # nothing for the index to catch up on


def test_merge_fills_missing_fields_and_keeps_existing_ones(library: Library):
    library.import_entries([entry("Alpha", abstract="", authors=None, upvotes=3)], "a.txt")
    stats = library.import_entries(
        [
            entry(
                "ALPHA!",
                abstract="Now with text.",
                authors=5,
                organization="Lab",
                published=date(2024, 1, 2),
                published_raw="Jan 2, 2024",
                upvotes=1,
                links=("https://a.io",),
                page_date=date(2025, 1, 1),
            )
        ],
        "b.txt",
    )
    assert (stats.new, stats.updated) == (0, 1)
    [paper] = library.papers()
    assert paper.title == "Alpha"  # the first spelling stays
    assert (paper.abstract, paper.authors, paper.organization) == ("Now with text.", 5, "Lab")
    assert (paper.published, paper.published_raw) == (date(2024, 1, 2), "Jan 2, 2024")
    assert paper.upvotes == 3  # upvotes only grow
    assert paper.links == ("https://a.io",)
    assert paper.sources == (Source("a.txt", None), Source("b.txt", "2025-01-01"))
    library.import_entries([entry("alpha", authors=9, abstract="Other.")], "c.txt")
    [paper] = library.papers()
    assert (paper.authors, paper.abstract) == (5, "Now with text.")


def test_import_never_touches_the_users_state(library: Library):
    library.import_entries([entry("Alpha")], "a.txt")
    pid = library.papers()[0].id
    library.set_starred([pid])
    library.set_read([pid])
    library.add_tags(pid, ["rl", "To Read"])
    library.import_entries([entry("Alpha", authors=4, upvotes=10)], "b.txt")
    paper = library.get(pid)
    assert (paper.starred, paper.read, paper.tags) == (True, True, ("rl", "to-read"))
    assert paper.authors == 4


def test_same_paper_twice_in_one_file_is_one_record(library: Library):
    stats = library.import_entries(
        [
            entry("Alpha", page_date=date(2025, 1, 1)),
            entry("alpha", authors=2, page_date=date(2025, 1, 2)),
        ],
        "a.txt",
    )
    assert (stats.papers, stats.new) == (1, 1)
    [paper] = library.papers()
    assert paper.authors == 2 and len(paper.sources) == 2


def test_state_changes_report_only_real_changes(library: Library):
    library.import_entries([entry("A"), entry("B")], "a.txt")
    ids = [p.id for p in library.papers(sort="title")]
    assert sorted(library.set_starred(ids)) == sorted(ids)
    assert library.set_starred(ids) == []
    assert sorted(library.set_starred(ids, False)) == sorted(ids)
    assert library.counts().starred == 0


def test_tags_normalise_add_remove_and_count(library: Library):
    library.import_entries([entry("A"), entry("B")], "a.txt")
    a, b = (p.id for p in library.papers(sort="title"))
    assert library.add_tags(a, ["RL Theory", "rl-theory", "  grokking "]) == (
        "grokking",
        "rl-theory",
    )
    library.add_tags(b, ["grokking"])
    assert library.tag_counts() == [("grokking", 2), ("rl-theory", 1)]
    assert library.remove_tags(a, ["GROKKING", "absent"]) == ("rl-theory",)
    assert library.set_tags(b, ["x", "y"]) == ("x", "y")
    assert [p.id for p in library.papers(Filter(tag="x"))] == [b]
    with pytest.raises(UnknownPaper):
        library.add_tags("ffffffffff", ["x"])


def test_filters_and_sorts(library: Library):
    library.import_entries(
        [
            entry("Old", published=date(2020, 1, 1), upvotes=1),
            entry("New", published=date(2024, 1, 1), upvotes=None),
            entry("Mid", published=None, upvotes=7),
        ],
        "a.txt",
    )
    titles = lambda **kw: [p.title for p in library.papers(**kw)]  # noqa: E731
    assert titles(sort="published") == ["New", "Old", "Mid"]
    assert titles(sort="upvotes") == ["Mid", "Old", "New"]
    assert titles(sort="title") == ["Mid", "New", "Old"]
    assert titles(sort="title", limit=1, offset=1) == ["New"]
    mid = library.papers(sort="title")[0].id
    library.set_read([mid])
    assert titles(filter=Filter(read=False), sort="title") == ["New", "Old"]
    assert titles(filter=Filter(read=True)) == ["Mid"]
    assert library.counts().unread == 2
    assert library.ids(Filter(read=True)) == [mid]
    with pytest.raises(ValueError):
        library.papers(sort="sideways")


def test_resolve_id_prefixes(library: Library):
    library.import_entries([entry(f"Paper {n}") for n in range(40)], "a.txt")
    full = library.papers()[0].id
    assert library.resolve_id(full) == full
    assert library.resolve_id(full[:6].upper()) == full
    with pytest.raises(UnknownPaper, match="too short"):
        library.resolve_id(full[:3])
    with pytest.raises(UnknownPaper, match="no paper"):
        library.resolve_id("zzzzzz")
    with pytest.raises(UnknownPaper, match="no paper"):
        library.resolve_id(full + "0")  # longer than any ID


def test_ambiguous_prefix(library: Library):
    library.import_entries([entry(f"Paper {n}") for n in range(3000)], "a.txt")
    ids = sorted(p.id for p in library.papers())
    shared = next(a[:4] for a, b in zip(ids, ids[1:], strict=False) if a[:4] == b[:4])
    with pytest.raises(UnknownPaper, match="ambiguous"):
        library.resolve_id(shared)


def test_damaged_library_file_is_reported_and_left_untouched(tmp_path: Path):
    path = tmp_path / "library.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(LibraryError, match="damaged"):
        Library(path).papers()
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(LibraryError, match="newer paperdesk"):
        Library(path).papers()


def test_library_is_created_lazily(tmp_path: Path):
    path = tmp_path / "deep" / "dir" / "library.sqlite3"
    library = Library(path)
    assert not path.parent.exists()
    assert library.count() == 0
    assert path.exists()


def test_two_connections_see_each_others_writes(tmp_path: Path):
    path = tmp_path / "library.sqlite3"
    one, two = Library(path), Library(path)
    one.import_entries([entry("A")], "a.txt")
    pid = two.papers()[0].id
    two.set_starred([pid])
    assert one.get(pid).starred
    one.add_tags(pid, ["x"])
    assert two.get(pid).tags == ("x",)


def test_iter_all_and_changed_since(library: Library):
    library.import_entries([entry(f"P{n}") for n in range(25)], "a.txt")
    assert len(list(library.iter_all(batch=7))) == 25
    seq = library.max_seq()
    pid = library.papers()[3].id
    library.set_read([pid])
    assert [p.id for p in library.changed_since(seq, library.max_seq())] == [pid]


def test_the_list_reads_a_covering_index_not_the_table(tmp_path: Path):
    """A million IDs in sort order must not read every abstract: the list, its
    filters and the counts come from an index (a version 2 library gets it)."""
    path = tmp_path / "library.sqlite3"
    library = Library(path)
    library.import_entries([entry(f"Paper {n}", upvotes=n) for n in range(30)], "a.txt")
    library.close()
    by_title = library.ids(sort="title")
    by_added = library.ids(sort="added")
    library.close()
    conn = sqlite3.connect(path)  # as version 2 left it: without the new indexes
    for name in ("published", "upvotes", "title", "added"):
        conn.execute(f"DROP INDEX papers_by_{name}")
    conn.execute("CREATE INDEX papers_first_seen ON papers(first_seen)")
    conn.execute("CREATE INDEX papers_title ON papers(norm_title)")
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    library = Library(path)
    assert len(library.ids()) == 30  # migrates
    conn = library.conn
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert not {"papers_first_seen", "papers_title"} & indexes  # replaced

    def plan(sql: str) -> str:
        return " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))

    for sort in ("published", "upvotes", "title", "added"):
        for filter in (Filter(), Filter(read=False), Filter(read=True)):
            where, _params = filter.where()
            sql = f"SELECT p.id FROM papers AS p{where.replace('?', '0')} ORDER BY {ORDER_BY[sort]}"
            assert f"COVERING INDEX papers_by_{sort}" in plan(sql), (sort, filter)
            # (the added order's last part, newest row first, is sorted apart)
            assert "TEMP B-TREE FOR ORDER BY" not in plan(sql), (sort, filter)
    assert library.ids(sort="title") == by_title
    assert library.ids(sort="added") == by_added
    assert "COVERING INDEX" in plan(
        "SELECT count(*), coalesce(sum(read = 0), 0), coalesce(sum(starred), 0) FROM papers"
    )
    assert library.ids(Filter(read=False), sort="upvotes")[0] == library.ids(sort="upvotes")[0]


# The per-day inbox's counts as one SQL statement gave them (joining every
# source with its paper: 9.5 s at 1M papers); days() must give the same.
_DAYS_ORACLE = (
    "SELECT s.page_date, CASE WHEN s.page_date = '' THEN s.file ELSE '' END AS f, "
    "count(DISTINCT s.paper_id), "
    "count(DISTINCT CASE WHEN p.read = 0 THEN s.paper_id END) "
    "FROM sources AS s JOIN papers AS p ON p.id = s.paper_id "
    "GROUP BY 1, 2 ORDER BY s.page_date = '', s.page_date DESC, f"
)


def test_days_count_each_paper_once_a_day_whatever_is_read(library: Library):
    """A day seen in two files, a paper on two days, undated files, and read
    papers from none to all: the counts equal the join's."""
    day1, day2 = date(2025, 11, 10), date(2025, 11, 11)
    titles = [f"Paper {n}" for n in range(12)]
    library.import_entries([entry(t, page_date=day1) for t in titles[:6]], "/a/day1.txt")
    library.import_entries([entry(t, page_date=day1) for t in titles[3:8]], "/b/day1-again.txt")
    library.import_entries([entry(t, page_date=day2) for t in titles[5:10]], "/a/day2.txt")
    library.import_entries([entry(t) for t in titles[8:]], "/a/undated.bib")
    library.import_entries([entry(t) for t in titles[:2]], "/a/other.bib")
    ids = library.ids(sort="title")
    for read in (0, 1, 5, 9, len(ids)):
        library.set_read(ids, False)
        library.set_read(ids[:read], True)
        expected = [tuple(row) for row in library.conn.execute(_DAYS_ORACLE)]
        assert library.days() == expected, read
    assert [d[:3] for d in library.days()][:2] == [("2025-11-11", "", 5), ("2025-11-10", "", 8)]


def test_days_of_an_empty_library(library: Library):
    assert library.days() == []
