"""Reading the library: papers, their IDs in an order, counts, changes.

Every read is one query on the library's connection; a damaged file is
reported as such (``LibraryFile._query``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from paperdesk.errors import UnknownPaper
from paperdesk.library.files import LibraryFile, chunks
from paperdesk.model import (
    ID_LENGTH,
    MIN_ID_PREFIX,
    Paper,
    Source,
    arxiv_id_of,
    normalise_tag,
)
from paperdesk.sorts import LIST_SORTS, checked

# The SQL order of each of paperdesk.sorts.LIST_SORTS.
ORDER_BY = {
    "published": "p.published IS NULL, p.published DESC, p.norm_title",
    "upvotes": "p.upvotes IS NULL, p.upvotes DESC, p.published DESC, p.norm_title",
    "title": "p.norm_title",
    "added": "p.first_seen DESC, p.rowid DESC",
    # Unscored papers (before a model, or imported since) after the scored, newest first.
    "interest": "p.interest IS NULL, p.interest DESC, p.published IS NULL, p.published DESC, "
    "p.norm_title",
}

_SELECT = """
SELECT p.id, p.title, p.abstract, p.authors, p.organization, p.published,
       p.published_raw, p.upvotes, p.links, p.read, p.starred, p.first_seen,
       p.arxiv_id, p.arxiv_version, p.doi, p.author_names, p.categories, p.comments,
       p.keywords, p.github_stars, p.pdf, p.origins, p.dismissed,
       p.interest, p.published_precision,
       (SELECT text FROM notes WHERE paper_id = p.id AND text != '') AS note,
       (SELECT group_concat(tag, char(31)) FROM
            (SELECT tag FROM tags WHERE paper_id = p.id ORDER BY tag)) AS tags,
       (SELECT json_group_array(json_array(file, page_date)) FROM
            (SELECT file, page_date FROM sources WHERE paper_id = p.id
             ORDER BY page_date, file)) AS sources
FROM papers AS p
"""


@dataclass(frozen=True)
class Filter:
    """Which papers a listing shows."""

    starred: bool | None = None
    read: bool | None = None
    tag: str | None = None
    tags: tuple[str, ...] = ()  # every one of these too

    def where(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.starred is not None:
            clauses.append("p.starred = ?")
            params.append(int(self.starred))
        if self.read is not None:
            # "+": not through the partial index of unread papers (nearly all of
            # them, unsorted), so the sort order's covering index is scanned instead.
            clauses.append("+p.read = ?")
            params.append(int(self.read))
        for tag in dict.fromkeys(t for t in (self.tag, *self.tags) if t):
            clauses.append("p.id IN (SELECT paper_id FROM tags WHERE tag = ?)")
            params.append(normalise_tag(tag))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclass(frozen=True)
class Counts:
    total: int
    unread: int
    starred: int


def _row_to_paper(row: sqlite3.Row | tuple) -> Paper:
    (pid, title, abstract, authors, org, published, published_raw, upvotes, links, read,
     starred, first_seen, arxiv_id, arxiv_version, doi, author_names, categories, comments,
     keywords, github_stars, pdf, origins, dismissed, interest, precision, note, tags,
     sources) = row  # fmt: skip
    return Paper(
        pid,
        title,
        abstract,
        authors,
        org,
        date.fromisoformat(published) if published else None,
        published_raw,
        upvotes,
        () if links == "[]" else tuple(json.loads(links)),
        bool(read),
        bool(starred),
        tuple(tags.split("\x1f")) if tags else (),
        first_seen,
        _sources_of(sources or "[]"),
        arxiv_id=arxiv_id,
        arxiv_version=arxiv_version,
        doi=doi,
        author_names=_strings(author_names),
        categories=_strings(categories),
        comments=comments,
        keywords=_strings(keywords),
        github_stars=github_stars,
        pdf=pdf,
        origins=() if origins == "{}" else tuple(json.loads(origins).items()),
        dismissed=bool(dismissed),
        interest=interest,
        note=note,
        published_precision=precision or "day",
    )


def _strings(text: str) -> tuple[str, ...]:
    return () if text == "[]" else tuple(json.loads(text))


@lru_cache(maxsize=4096)
def _sources_of(text: str) -> tuple[Source, ...]:
    """A paper's sources from their JSON. Papers of one page share it, so each
    distinct text is parsed once (a search reads 20 papers, a list many more)."""
    return tuple(Source(file, page_date or None) for file, page_date in json.loads(text))


class Reading(LibraryFile):
    """The reading half of a ``Library``."""

    def resolve_id(self, prefix: str) -> str:
        """The full ID for an ID or a unique prefix of at least four characters."""
        wanted = prefix.strip().lower()
        arxiv = arxiv_id_of(prefix)
        if arxiv and not all(c in "0123456789abcdef" for c in wanted):
            found = self.by_arxiv_id(arxiv[0])
            if found is None:
                raise UnknownPaper(f"no paper with arXiv ID {arxiv[0]} in the library")
            return found
        if len(wanted) == ID_LENGTH:
            alias = self.aliases_of([wanted]).get(wanted)
            if alias:
                return alias
        if len(wanted) < MIN_ID_PREFIX:
            raise UnknownPaper(
                f"ID {prefix!r} is too short: give at least {MIN_ID_PREFIX} characters"
            )
        if len(wanted) > ID_LENGTH or not all(c in "0123456789abcdef" for c in wanted):
            raise UnknownPaper(f"no paper with ID {prefix!r}")
        rows = self._query(
            "SELECT id FROM papers WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
            (wanted, wanted + "g"),
        )
        if not rows:
            raise UnknownPaper(f"no paper with ID {prefix!r}")
        if len(rows) > 1:
            raise UnknownPaper(
                f"ID {prefix!r} is ambiguous: it starts "
                + ", ".join(row[0] for row in rows[:2])
                + (" and more" if len(rows) > 2 else "")
            )
        return rows[0][0]

    def get(self, paper_id: str) -> Paper:
        papers = self.get_many([paper_id])
        if not papers:
            raise UnknownPaper(f"no paper with ID {paper_id!r}")
        return papers[0]

    def get_many(self, ids: Sequence[str]) -> list[Paper]:
        """Papers by full ID, in the order given; unknown IDs are left out. The ID
        of a paper merged into another gives the paper it became."""
        found: dict[str, Paper] = {}
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._query(f"{_SELECT} WHERE p.id IN ({marks})", chunk):
                paper = _row_to_paper(row)
                found[paper.id] = paper
        missing = [pid for pid in ids if pid not in found]
        if missing:
            for alias, target in self.aliases_of(missing).items():
                for row in self._query(f"{_SELECT} WHERE p.id = ?", (target,)):
                    found[alias] = _row_to_paper(row)
        return [found[pid] for pid in ids if pid in found]

    def aliases_of(self, ids: Sequence[str]) -> dict[str, str]:
        """For IDs of papers merged into others: the ID each became."""
        targets: dict[str, str] = {}
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            targets.update(
                self._query(f"SELECT alias, paper_id FROM aliases WHERE alias IN ({marks})", chunk)
            )
        return targets

    def by_arxiv_id(self, arxiv_id: str) -> str | None:
        rows = self._query("SELECT id FROM papers WHERE arxiv_id = ? LIMIT 1", (arxiv_id,))
        return rows[0][0] if rows else None

    def papers(
        self,
        filter: Filter | None = None,
        sort: str = "published",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Paper]:
        where, params = (filter or Filter()).where()
        order = ORDER_BY[checked(sort, LIST_SORTS)]
        sql = f"{_SELECT}{where} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self._query(sql, [*params, -1 if limit is None else limit, offset])
        return [_row_to_paper(row) for row in rows]

    def ids(
        self, filter: Filter | None = None, sort: str = "published", limit: int | None = None
    ) -> list[str]:
        """Every matching ID in order (or the first ``limit``): a covering index makes
        this about 1 s for a million papers, the first screenful a millisecond."""
        where, params = (filter or Filter()).where()
        order = ORDER_BY[checked(sort, LIST_SORTS)]
        sql = f"SELECT p.id FROM papers AS p{where} ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params = [*params, limit]
        return [row[0] for row in self._query(sql, params)]

    def ids_with_titles(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(ID, title) of the first papers, by ID, whose ID starts with ``prefix``."""
        rows = self._query(
            "SELECT id, title FROM papers WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )
        return [(pid, title) for pid, title in rows]

    def count(self, filter: Filter | None = None) -> int:
        where, params = (filter or Filter()).where()
        return self._query(f"SELECT count(*) FROM papers AS p{where}", params)[0][0]

    def counts(self) -> Counts:
        total, unread, starred = self._query(
            "SELECT count(*), coalesce(sum(read = 0), 0), coalesce(sum(starred), 0) FROM papers"
        )[0]
        return Counts(total, unread, starred)

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every tag with the number of papers carrying it, most used first."""
        rows = self._query("SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY n DESC, tag")
        return [(tag, n) for tag, n in rows]

    def interest_count(self) -> int:
        return self._query("SELECT count(*) FROM papers WHERE interest IS NOT NULL")[0][0]

    def interest_generation(self) -> int:
        """A counter of interest score changes (0 before any)."""
        value = self.meta_value("interest_generation")
        return int(value) if value else 0

    def interest_scores(self) -> list[tuple[str, float]]:
        """Every scored paper's (ID, interest), from the covering index."""
        return self._query(
            "SELECT id, interest FROM papers INDEXED BY papers_by_interest "
            "WHERE interest IS NOT NULL"
        )

    def meta_value(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def library_id(self) -> str:
        return self._query("SELECT value FROM meta WHERE key = 'library_id'")[0][0]

    def max_seq(self) -> int:
        return self._query("SELECT coalesce(max(seq), 0) FROM papers")[0][0]

    def count_changed(self, after: int, upto: int) -> int:
        return self._query("SELECT count(*) FROM papers WHERE seq > ? AND seq <= ?", (after, upto))[
            0
        ][0]

    def removed_since(self, after: int, upto: int) -> list[str]:
        """IDs of papers merged into others in the seq range (after, upto]."""
        rows = self._query("SELECT paper_id FROM removed WHERE seq > ? AND seq <= ?", (after, upto))
        return [row[0] for row in rows]

    def changed_since(self, after: int, upto: int) -> list[Paper]:
        """Papers whose record or state changed in the seq range (after, upto]."""
        rows = self._query(
            f"{_SELECT} WHERE p.seq > ? AND p.seq <= ? ORDER BY p.seq", (after, upto)
        )
        return [_row_to_paper(row) for row in rows]

    def days(self) -> list[tuple[str, str, int, int]]:
        """Every listing day the papers came from, newest first, then each
        undated file: (day "YYYY-MM-DD" or "", file for an undated one or "",
        papers, unread papers).

        Not one join of every source with its paper (9.5 s at 1M papers, after
        every key that marks a paper read): the papers per day and file come
        from the day index alone (a source is one paper once per day and file),
        and only the smaller side of read and unread papers is joined with its
        sources; the other side is the difference."""
        totals: dict[tuple[str, str], int] = {}
        in_files: dict[str, int] = {}
        for day, file, count in self._query(
            "SELECT page_date, file, count(*) FROM sources GROUP BY page_date, file"
        ):
            key = (day, "" if day else file)
            totals[key] = totals.get(key, 0) + count
            in_files[day] = in_files.get(day, 0) + 1
        if not totals:
            return []
        for day, files in in_files.items():
            if day and files > 1:  # a paper may be on both pages of one day
                totals[(day, "")] = self._query(
                    "SELECT count(DISTINCT paper_id) FROM sources WHERE page_date = ?", (day,)
                )[0][0]
        unread_papers = self._query("SELECT count(*) FROM papers WHERE read = 0")[0][0]
        read_papers = self._query("SELECT count(*) FROM papers")[0][0] - unread_papers
        # The literal read = 0 lets SQLite take the partial index of unread papers.
        side = "read = 0" if unread_papers <= read_papers else "read = 1"
        counted = {
            (day, file): count
            for day, file, count in self._query(
                "SELECT s.page_date, CASE WHEN s.page_date = '' THEN s.file ELSE '' END, "
                "count(DISTINCT s.paper_id) "
                # CROSS JOIN: the few papers first, then their sources by key
                f"FROM papers AS p CROSS JOIN sources AS s ON s.paper_id = p.id WHERE p.{side} "
                "GROUP BY 1, 2"
            )
        }
        dated = sorted((key for key in totals if key[0]), reverse=True)
        undated = sorted(key for key in totals if not key[0])
        return [
            (
                day,
                file,
                totals[(day, file)],
                counted.get((day, file), 0)
                if side == "read = 0"
                else totals[(day, file)] - counted.get((day, file), 0),
            )
            for day, file in dated + undated
        ]

    def day_ids(self, day: str, file: str = "") -> list[str]:
        """A listing day's papers (or an undated file's) in their page order."""
        if day:
            rows = self._query(
                "SELECT paper_id FROM sources WHERE page_date = ? "
                "ORDER BY file, position IS NULL, position, paper_id",
                (day,),
            )
        else:
            rows = self._query(
                "SELECT paper_id FROM sources WHERE page_date = '' AND file = ? "
                "ORDER BY position IS NULL, position, paper_id",
                (file,),
            )
        return list(dict.fromkeys(row[0] for row in rows))

    def decided(self) -> list[Paper]:
        """Every paper read, starred or dismissed (what the interest model learns from)."""
        rows = self._query(f"{_SELECT} WHERE p.read = 1 OR p.starred = 1 OR p.dismissed = 1")
        return [_row_to_paper(row) for row in rows]

    def spread(self, n: int) -> list[Paper]:
        """``n`` papers spread over the whole library: the first by ID, and an ID is
        a hash, so they are a fair sample that stays the same between calls."""
        rows = self._query(f"{_SELECT} ORDER BY p.id LIMIT ?", (n,))
        return [_row_to_paper(row) for row in rows]

    def iter_all(
        self, batch: int = 2000, start: str = "", stop: str | None = None
    ) -> Iterator[Paper]:
        """Every paper, in ID batches, without holding them all in memory; with
        ``start``/``stop``, those whose ID is at least ``start`` and below ``stop``."""
        last, first = start, True
        bound = "" if stop is None else " AND p.id < ?"
        while True:
            where = "p.id >= ?" if first else "p.id > ?"
            args = (last, *(() if stop is None else (stop,)), batch)
            rows = self._query(f"{_SELECT} WHERE {where}{bound} ORDER BY p.id LIMIT ?", args)
            if not rows:
                return
            for row in rows:
                yield _row_to_paper(row)
            last, first = rows[-1][0], False
