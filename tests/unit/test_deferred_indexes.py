"""A first import of a large collection builds the sort indexes once, at its end
(they grew by a random insert per paper: the store step at 100k papers took
30 s instead of 19 s), and a library never stays without them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.importers import pipeline
from paperdesk.importers.dailypapers import parse
from paperdesk.library import Library
from paperdesk.library.schema import DEFERRABLE_INDEXES
from tests.dumps import E, page


def dump(path: Path, n: int, start: int = 0) -> Path:
    entries = [
        E(title=f"Paper {k} on topic {k % 7}", date=f"Jun {k % 27 + 1}, 2024", upvotes=k)
        for k in range(start, start + n)
    ]
    path.write_text("\n\n".join(page(entries[i : i + 10]) for i in range(0, n, 10)))
    return path


def indexes(library_file: Path) -> dict[str, str]:
    """The library's indexes and their SQL, read by a connection of its own (as
    another process would see them)."""
    with sqlite3.connect(library_file) as conn:
        return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))


def content(desk: Desk) -> list[tuple]:
    return [
        (p.id, p.title, p.published, p.upvotes, p.sources)
        for p in desk.library.papers(sort="title")
    ]


@pytest.fixture
def small_collections(monkeypatch: pytest.MonkeyPatch):
    """A file of 20 papers counts as a large collection, and a library commits
    every 10 papers (so an import is seen between its commits)."""
    monkeypatch.setattr(pipeline, "DEFER_INDEXES_FROM", 20)
    monkeypatch.setattr("paperdesk.library.merge.IMPORT_COMMIT_ENTRIES", 10)


def test_a_first_large_import_builds_the_sort_indexes_at_its_end(
    tmp_path: Path, small_collections, monkeypatch: pytest.MonkeyPatch
):
    file = dump(tmp_path / "big.txt", 60)
    fresh = Desk(tmp_path / "fresh")
    fresh.count()
    expected = indexes(fresh.library.path)
    assert set(DEFERRABLE_INDEXES) <= set(expected)
    desk = Desk(tmp_path / "data")
    desk.count()
    seen: list[set[str]] = []
    report = desk.import_file(
        file, progress=lambda *_: seen.append(set(indexes(desk.library.path)))
    )
    assert report.stats is not None and report.stats.new == 60
    assert seen and all(not names & set(DEFERRABLE_INDEXES) for names in seen[:-1]), seen
    assert indexes(desk.library.path) == expected
    # The same papers as an import that grew them row by row.
    grown = Desk(tmp_path / "grown")
    monkeypatch.setattr(pipeline, "DEFER_INDEXES_FROM", 10**9)
    grown.import_file(file)
    assert content(desk) == content(grown)
    # The list orders read them (not a scan of the table and a sort).
    plan = desk.library._query(
        "EXPLAIN QUERY PLAN SELECT id FROM papers "
        "ORDER BY published IS NULL, published DESC, norm_title, id"
    )
    assert "papers_by_published" in str(plan)
    for each in (fresh, desk, grown):
        each.close()


def test_a_day_added_to_a_bigger_library_keeps_its_indexes(tmp_path: Path, small_collections):
    desk = Desk(tmp_path / "data")
    desk.import_file(dump(tmp_path / "first.txt", 60))
    seen: list[set[str]] = []
    desk.import_file(
        dump(tmp_path / "day.txt", 30, start=100),
        progress=lambda *_: seen.append(set(indexes(desk.library.path))),
    )
    assert seen and all(set(DEFERRABLE_INDEXES) <= names for names in seen), seen
    desk.close()


def test_an_import_that_fails_midway_still_builds_them(tmp_path: Path):
    desk = Desk(tmp_path / "data")
    desk.import_file(dump(tmp_path / "first.txt", 10))
    parsed = parse(dump(tmp_path / "more.txt", 20, start=50).read_text(), fallback_year=2025)

    def batches():
        yield parsed.entries[:10]
        raise RuntimeError("the parser stopped")

    with pytest.raises(RuntimeError):
        desk.library.import_stream(batches(), "more.txt", defer_indexes=True)
    assert set(DEFERRABLE_INDEXES) <= set(indexes(desk.library.path))
    assert desk.count() == 20  # the committed batch is kept, as before
    desk.close()


def test_a_library_a_killed_import_left_without_them_builds_them_when_opened(tmp_path: Path):
    desk = Desk(tmp_path / "data")
    desk.import_file(dump(tmp_path / "first.txt", 10))
    path = desk.library.path
    desk.close()
    with sqlite3.connect(path) as conn:
        for name in DEFERRABLE_INDEXES[:3]:
            conn.execute(f"DROP INDEX {name}")
    with Library(path) as library:
        assert library.count() == 10
    assert set(DEFERRABLE_INDEXES) <= set(indexes(path))
