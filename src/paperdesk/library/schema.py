"""The library's SQLite schema and its migrations.

``SCHEMA_VERSION`` is the file's ``user_version``; a file of an older version
is migrated in one transaction when it is first opened for writing, and one
of a newer version is refused (another paperdesk wrote it).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable

SCHEMA_VERSION = 10
# Versions whose files a read-only handle can read (an older one needs its
# migration, which writes).
READABLE_VERSIONS = (10,)

# Version 5: what the other sources tell (arXiv ID and version, DOI, author
# names, categories, comments, keywords, code stars, PDF, each field's origin).
_V5_COLUMNS = (
    ("arxiv_id", "TEXT"),
    ("arxiv_version", "INTEGER"),
    ("doi", "TEXT"),
    ("author_names", "TEXT NOT NULL DEFAULT '[]'"),
    ("categories", "TEXT NOT NULL DEFAULT '[]'"),
    ("comments", "INTEGER"),
    ("keywords", "TEXT NOT NULL DEFAULT '[]'"),
    ("github_stars", "INTEGER"),
    ("pdf", "TEXT"),
    ("origins", "TEXT NOT NULL DEFAULT '{}'"),
)
# Version 6: "not for me", a decision like a star (and the interest model's
# strongest negative).
_V6_COLUMNS = (("dismissed", "INTEGER NOT NULL DEFAULT 0"), ("dismissed_at", "TEXT"))
# Version 8: each paper's interest in [0, 1] beside it (version 7 kept it in a
# table of its own, which no index could sort by: 1M papers took seconds).
_V8_COLUMNS = (("interest", "REAL"),)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS papers (
    id TEXT PRIMARY KEY,
    norm_title TEXT NOT NULL,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL DEFAULT '',
    authors INTEGER,
    organization TEXT,
    published TEXT,
    published_raw TEXT,
    upvotes INTEGER,
    links TEXT NOT NULL DEFAULT '[]',
    read INTEGER NOT NULL DEFAULT 0,
    starred INTEGER NOT NULL DEFAULT 0,
    read_at TEXT,
    starred_at TEXT,
    first_seen TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    arxiv_id TEXT,
    arxiv_version INTEGER,
    doi TEXT,
    author_names TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '[]',
    comments INTEGER,
    keywords TEXT NOT NULL DEFAULT '[]',
    github_stars INTEGER,
    pdf TEXT,
    origins TEXT NOT NULL DEFAULT '{}',
    dismissed INTEGER NOT NULL DEFAULT 0,
    dismissed_at TEXT,
    -- The interest model's score (derived data: a retrain replaces it, NULL
    -- before a model or for a paper imported without one).
    interest REAL,
    -- (Version 10.) year or month when the source gave no more of the date:
    -- published is then the first day of that year or month. NULL for a day.
    -- (No comma in this comment: SQLite's DROP COLUMN looks back for one.)
    published_precision TEXT
);
-- A paper's identity across sources: its arXiv ID, else its DOI, else its title.
CREATE INDEX IF NOT EXISTS papers_arxiv ON papers(arxiv_id) WHERE arxiv_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS papers_doi ON papers(doi) WHERE doi IS NOT NULL;
CREATE INDEX IF NOT EXISTS papers_seq ON papers(seq);
CREATE INDEX IF NOT EXISTS papers_published ON papers(published);
CREATE INDEX IF NOT EXISTS papers_upvotes ON papers(upvotes);
CREATE INDEX IF NOT EXISTS papers_unread ON papers(read) WHERE read = 0;
CREATE INDEX IF NOT EXISTS papers_starred ON papers(starred) WHERE starred = 1;
-- Covering indexes in the list's sort orders: the app's list of a million IDs
-- (and the unread/starred filters and counts) reads one of these, not the
-- table with its abstracts (1M papers: 4.6 s -> about 1 s).
CREATE INDEX IF NOT EXISTS papers_by_published
    ON papers(published IS NULL, published DESC, norm_title, id, read, starred);
CREATE INDEX IF NOT EXISTS papers_by_upvotes
    ON papers(upvotes IS NULL, upvotes DESC, published DESC, norm_title, id, read, starred);
-- (Version 4: the title and added orders too. 1M papers by title took 3.6 s warm
-- and 44 s from a cold disk, reading the table for each ID.)
CREATE INDEX IF NOT EXISTS papers_by_title ON papers(norm_title, id, read, starred);
CREATE INDEX IF NOT EXISTS papers_by_added ON papers(first_seen, id, read, starred);
-- (Version 8: by interest, the unscored last and newest first.)
CREATE INDEX IF NOT EXISTS papers_by_interest ON papers(
    interest IS NULL, interest DESC, published IS NULL, published DESC,
    norm_title, id, read, starred
);
CREATE TABLE IF NOT EXISTS tags (
    paper_id TEXT NOT NULL REFERENCES papers(id),
    tag TEXT NOT NULL,
    added_at TEXT,
    PRIMARY KEY (paper_id, tag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE TABLE IF NOT EXISTS tag_removals (
    paper_id TEXT NOT NULL REFERENCES papers(id),
    tag TEXT NOT NULL,
    removed_at TEXT,
    PRIMARY KEY (paper_id, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_state (
    paper_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- IDs of papers merged into another (two records that proved to be one paper):
-- the ID a user had keeps leading to the paper.
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT PRIMARY KEY,
    paper_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_paper ON aliases(paper_id);
-- Papers merged away, at the change counter of the merge: the index drops them.
CREATE TABLE IF NOT EXISTS removed (
    paper_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS removed_seq ON removed(seq);
-- (Version 9.) The user's note on a paper, a decision like a star: its text, when
-- it was written, and the fingerprint of the text it replaced (state merges tell
-- an edit of the other machine's text from one made apart). An empty text is a
-- cleared note, kept so an older copy does not bring it back.
CREATE TABLE IF NOT EXISTS notes (
    paper_id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    at TEXT,
    base TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sources (
    paper_id TEXT NOT NULL REFERENCES papers(id),
    file TEXT NOT NULL,
    page_date TEXT NOT NULL DEFAULT '',
    -- (Version 9.) The paper's place in its file: a day's page order (NULL
    -- for papers imported before).
    position INTEGER,
    PRIMARY KEY (paper_id, file, page_date)
) WITHOUT ROWID;
-- The per-day inbox: a day's papers, and every day's counts.
CREATE INDEX IF NOT EXISTS sources_day ON sources(page_date, file, position);
-- (Version 9.) Searches the user saved by name, with their unread counts in the
-- app. A removed one is kept (removed = 1) so an older state file cannot bring
-- it back.
CREATE TABLE IF NOT EXISTS saved_searches (
    name TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    at TEXT,
    removed INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""


# The indexes a first import of a large file builds once, at its end, instead of
# growing them row by row in random key order (100k papers: the store step 30 s
# to 19 s). None of them is read while importing: identity needs arxiv, doi and
# by_title, each commit's change counter needs seq.
DEFERRABLE_INDEXES = (
    "papers_published",
    "papers_upvotes",
    "papers_unread",
    "papers_starred",
    "papers_by_published",
    "papers_by_upvotes",
    "papers_by_added",
    "papers_by_interest",
)


def _index_statement(name: str) -> str:
    for statement in _SCHEMA.split(";"):
        if re.search(rf"CREATE INDEX IF NOT EXISTS {name}\s", statement):
            return statement.strip()
    raise KeyError(name)


def missing_indexes(conn: sqlite3.Connection) -> list[str]:
    """The deferrable indexes the library lacks (an import that deferred them was
    killed before it built them)."""
    marks = ",".join("?" * len(DEFERRABLE_INDEXES))
    present = {
        row[0]
        for row in conn.execute(
            f"SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",
            DEFERRABLE_INDEXES,
        )
    }
    return [name for name in DEFERRABLE_INDEXES if name not in present]


def drop_deferrable_indexes(conn: sqlite3.Connection) -> None:
    for name in DEFERRABLE_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")


def build_indexes(conn: sqlite3.Connection, names: Iterable[str]) -> None:
    for name in names:
        conn.execute(_index_statement(name))


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a library of an older schema (or a new, empty file) to SCHEMA_VERSION,
    in one transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("BEGIN IMMEDIATE")
    try:
        if version == 1:
            # Version 2 keeps the time of every decision (read, star, each tag),
            # which merging state files needs. The old single stamp seeds them.
            for statement in (
                "ALTER TABLE papers ADD COLUMN read_at TEXT",
                "ALTER TABLE papers ADD COLUMN starred_at TEXT",
                "ALTER TABLE tags ADD COLUMN added_at TEXT",
                "UPDATE papers SET read_at = state_changed WHERE read = 1",
                "UPDATE papers SET starred_at = state_changed WHERE starred = 1",
                "UPDATE tags SET added_at = (SELECT state_changed FROM papers "
                "WHERE papers.id = tags.paper_id)",
            ):
                conn.execute(statement)
        if version < 4:  # replaced by covering indexes (papers_by_title, _added)
            conn.execute("DROP INDEX IF EXISTS papers_title")
            conn.execute("DROP INDEX IF EXISTS papers_first_seen")
        if 0 < version < 8:
            # New columns only: every paper and every decision stays as it was.
            present = {row[1] for row in conn.execute("PRAGMA table_info(papers)")}
            for name, kind in (*_V5_COLUMNS, *_V6_COLUMNS, *_V8_COLUMNS):
                if name not in present:
                    conn.execute(f"ALTER TABLE papers ADD COLUMN {name} {kind}")
        if 0 < version < 9:  # version 9: a paper's place in its file
            present = {row[1] for row in conn.execute("PRAGMA table_info(sources)")}
            if "position" not in present:
                conn.execute("ALTER TABLE sources ADD COLUMN position INTEGER")
        if 0 < version < 10:  # version 10: how much of a date the source gave
            present = {row[1] for row in conn.execute("PRAGMA table_info(papers)")}
            if "published_precision" not in present:
                conn.execute("ALTER TABLE papers ADD COLUMN published_precision TEXT")
            _known_precisions(conn)
        if version == 7:  # the scores move beside their papers
            conn.execute(
                "UPDATE papers SET interest = "
                "(SELECT score FROM interest WHERE interest.paper_id = papers.id)"
            )
            conn.execute("DROP TABLE interest")
        # executescript() would commit on its own; run the statements one by one.
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        # A library's identity lets derived data (the index) notice when the
        # file it was built from was replaced, by a restore for example.
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('library_id', ?)",
            (_new_id(),),
        )
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# The raw dates the bibliography importers kept before version 10, when they
# gave no day: BibTeX's "2024", "2024 5" or "2024-05"; RIS's "2022///" or
# "2022/05//"; CSL-JSON's date-parts "2023-5".
_YEAR_ONLY = re.compile(r"\s*\d{4}[/-]*\s*")
_MONTH_ONLY = re.compile(r"\s*\d{4}[-/ ](0?[1-9]|1[0-2])[/-]*\s*")
_BIBLIOGRAPHIES = ("bibtex", "ris", "csl-json")


def _known_precisions(conn: sqlite3.Connection) -> None:
    """Mark the dates a bibliography gave to the year or the month only, which
    libraries before version 10 kept as a first of January or of a month."""
    rows = conn.execute(
        "SELECT id, published, published_raw, origins FROM papers "
        "WHERE published LIKE '%-01' AND origins LIKE '%\"published\"%'"
    ).fetchall()
    found = []
    for pid, published, raw, origins in rows:
        origin = json.loads(origins).get("published")
        if origin not in _BIBLIOGRAPHIES:
            continue
        raw = raw or ""
        if published.endswith("-01-01") and (
            _YEAR_ONLY.fullmatch(raw)
            # CSL-JSON's free text and BibTeX's month names gave the year alone.
            or (origin == "csl-json" and not re.search(r"\d-", raw))
            or (origin == "bibtex" and re.fullmatch(r"\s*\d{4} [A-Za-z.]+\s*", raw))
        ):
            found.append(("year", pid))
        elif _MONTH_ONLY.fullmatch(raw):
            found.append(("month", pid))
    conn.executemany("UPDATE papers SET published_precision = ? WHERE id = ?", found)


def _new_id() -> str:
    """A new library's random ID (uuid is loaded only here: it brings the platform
    module, a few milliseconds of every command's start)."""
    import uuid

    return uuid.uuid4().hex
