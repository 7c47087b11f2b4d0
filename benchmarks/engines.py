"""The ceiling: the same dump in tantivy and in SQLite FTS5, asked the same kinds.

Reference rows for ``run.py``: how far paperdesk is from the fastest engine a
user could have picked, not only from plain Whoosh. Each engine is built from
the same synthetic dump, parsed by the same parser in one process (as plain
Whoosh's row is), with the fields a search needs (title, abstract, organisation,
a state word, published as YYYYMMDD, upvotes); each query kind of
``index_bench.query_sets`` is asked as that engine writes it, for the first 20
with their stored titles and the exact number of matches (what paperdesk's
search returns).

tantivy is the optional ``bench`` dependency group (``pip install -e
".[bench]"``); without it its rows say so. FTS5 comes with Python's sqlite3.
FTS5 has no fuzzy search: that row says n/a.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path


def available() -> dict[str, str | None]:
    """Each engine, and why it is missing (None: there)."""
    found: dict[str, str | None] = {}
    try:
        import tantivy  # noqa: F401

        found["tantivy"] = None
    except ImportError:
        found["tantivy"] = 'not installed (pip install -e ".[bench]")'
    try:
        connection = sqlite3.connect(":memory:")
        connection.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
        connection.close()
        found["fts5"] = None
    except sqlite3.Error as error:  # pragma: no cover - a sqlite3 without FTS5
        found["fts5"] = f"this sqlite3 has no FTS5 ({error})"
    return found


def _entries(dump: Path) -> Iterator[dict]:
    """The dump's entries as the engines take them (the parser plain Whoosh uses)."""
    from paperdesk.importers import dailypapers

    text, _note = dailypapers.read_dump(dump)
    pieces = dailypapers.split_pages(text)
    del text
    count = 0
    for number, piece in enumerate(pieces):
        pieces[number] = (0, "")
        result = dailypapers.parse_piece(piece, 2025, None, number == len(pieces) - 1)
        for entry in result.entries:
            published = entry.published
            yield {
                "id": count,
                "title": entry.title,
                "abstract": entry.abstract,
                "org": entry.organization or "",
                "state": "unread",
                "published": published.year * 10000 + published.month * 100 + published.day
                if published
                else None,
                "upvotes": entry.upvotes,
            }
            count += 1


# --- tantivy ------------------------------------------------------------------------------


def _tantivy_schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("abstract", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("org", stored=False)
    builder.add_text_field("state", stored=False, tokenizer_name="raw")
    builder.add_integer_field("published", indexed=True, fast=True)
    builder.add_integer_field("upvotes", indexed=True, fast=True)
    builder.add_integer_field("id", stored=True)
    return builder.build()


def build_tantivy(dump: Path, where: Path) -> dict:
    import tantivy

    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    start = time.perf_counter()
    index = tantivy.Index(_tantivy_schema(), path=str(where))
    writer = index.writer(heap_size=256 * 2**20)
    count = 0
    for entry in _entries(dump):
        fields = {k: v for k, v in entry.items() if v is not None and k != "published"}
        if entry["published"] is not None:
            fields["published"] = entry["published"]
        writer.add_document(tantivy.Document(**fields))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    return {"papers": count, "import_s": time.perf_counter() - start}


_RANGE = re.compile(r"^(\S+) (\w+):\[(\S+) to ?(\S*)\]$")


def _tantivy_text(kind: str, plain: str) -> str:
    """A plain Whoosh query of ``query_sets`` as tantivy's parser writes it (its
    words are OR-ed unless marked +)."""
    if kind == "range":
        word, field, low, high = _RANGE.match(plain).groups()  # type: ignore[union-attr]
        return f"+{word} +{field}:[{low.replace('-', '')} TO {high.replace('-', '') or '*'}]"
    if kind in ("term", "state"):
        return " ".join(f"+{word}" for word in plain.split())
    return plain  # a phrase, a field: the same syntax


def time_tantivy(where: Path, sets: dict[str, list[tuple[str, str]]]) -> dict:
    import tantivy

    index = tantivy.Index.open(str(where))
    index.reload()
    searcher = index.searcher()
    schema = index.schema
    figures: dict[str, dict] = {}
    for kind, pairs in sets.items():
        times: list[float] = []
        for _ours, plain in pairs:
            start = time.perf_counter()
            if kind == "prefix":
                stem = plain.rstrip("*")
                query = tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Should, tantivy.Query.regex_query(schema, f, f"{stem}.*"))
                        for f in ("title", "abstract")
                    ]
                )
            elif kind == "fuzzy":
                word = plain.rstrip("~")
                query = tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Should, tantivy.Query.fuzzy_term_query(schema, f, word))
                        for f in ("title", "abstract")
                    ]
                )
            else:
                query = index.parse_query(_tantivy_text(kind, plain), ["title", "abstract"])
            result = searcher.search(query, limit=20, count=True)
            _total = result.count
            for _score, address in result.hits:
                searcher.doc(address)["title"]
            times.append(time.perf_counter() - start)
        figures[kind] = _p50_p95(times)
    return figures


# --- SQLite FTS5 --------------------------------------------------------------------------


_INSERT = (
    "INSERT INTO papers(rowid, title, abstract, org, state, published, upvotes) "
    "VALUES (?,?,?,?,?,?,?)"
)


def build_fts5(dump: Path, where: Path) -> dict:
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    start = time.perf_counter()
    connection = sqlite3.connect(where / "fts.sqlite3")
    connection.execute(
        "CREATE VIRTUAL TABLE papers USING fts5(title, abstract, org, state, "
        "published UNINDEXED, upvotes UNINDEXED, tokenize = 'porter unicode61')"
    )
    count = 0
    batch: list[tuple] = []
    for entry in _entries(dump):
        batch.append(
            (
                entry["id"],
                entry["title"],
                entry["abstract"],
                entry["org"],
                entry["state"],
                entry["published"],
                entry["upvotes"],
            )
        )
        count += 1
        if len(batch) == 5_000:
            connection.executemany(_INSERT, batch)
            batch.clear()
    if batch:
        connection.executemany(_INSERT, batch)
    connection.commit()
    connection.execute("INSERT INTO papers(papers) VALUES ('optimize')")
    connection.commit()
    connection.close()
    return {"papers": count, "import_s": time.perf_counter() - start}


def _fts5_query(kind: str, plain: str) -> tuple[str, str, tuple] | None:
    """(MATCH expression, extra SQL condition, its arguments) for one plain query;
    None for a kind FTS5 cannot ask (fuzzy)."""
    if kind == "fuzzy":
        return None
    if kind == "field":
        field, word = plain.split(":", 1)
        return f"{field} : {word}", "", ()
    if kind == "state":
        word = plain.split()[0]
        return f"{word} AND state : unread", "", ()
    if kind == "range":
        word, rest = plain.split(" ", 1)
        field, bounds = rest.split(":", 1)
        low, _to, high = bounds.strip("[]").partition(" to")
        low = low.strip().replace("-", "")
        high = high.strip().replace("-", "")
        condition = f" AND {field} >= ?" + (f" AND {field} <= ?" if high else "")
        return word, condition, (int(low), *((int(high),) if high else ()))
    if kind == "term":
        return " AND ".join(plain.split()), "", ()
    return plain, "", ()  # a phrase, a prefix: FTS5's own syntax


def time_fts5(where: Path, sets: dict[str, list[tuple[str, str]]]) -> dict:
    connection = sqlite3.connect(where / "fts.sqlite3")
    figures: dict[str, dict | None] = {}
    for kind, pairs in sets.items():
        times: list[float] = []
        for _ours, plain in pairs:
            asked = _fts5_query(kind, plain)
            if asked is None:
                break
            match, condition, args = asked
            start = time.perf_counter()
            connection.execute(
                f"SELECT count(*) FROM papers WHERE papers MATCH ?{condition}", (match, *args)
            ).fetchone()
            connection.execute(
                f"SELECT rowid, title FROM papers WHERE papers MATCH ?{condition} "
                "ORDER BY rank LIMIT 20",
                (match, *args),
            ).fetchall()
            times.append(time.perf_counter() - start)
        figures[kind] = _p50_p95(times) if times else None
    connection.close()
    return figures


def _p50_p95(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
    }
