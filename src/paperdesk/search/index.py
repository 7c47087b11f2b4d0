"""The search index: kept in step with one library, and searched.

The index is derived data. It lives beside the library, remembers (in
``paperdesk-index.json``) the schema version, the library it was built from
and the last change sequence it applied, and is rebuilt from the library
whenever any of those disagree or its files are damaged.

``SearchIndex`` is the engine's one door (see ``paperdesk.search``): a search
is parsed (``paperdesk.query``), compiled (``compiler``), matched
(``matching``), scored (``scoring``) and collected (``collect``) on the
posting lists (``postings``); highlights and "did you mean" come last.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version
import paperdesk.search.whoosh_reading  # noqa: F401 - then whoosh.reading, without asyncio

# isort: split

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.index import LockError
from whoosh.scoring import BM25F

from paperdesk import query as q
from paperdesk.errors import LibraryError, SearchCancelled
from paperdesk.model import Paper
from paperdesk.search import whoosh_fixes
from paperdesk.search.bulk import BulkBuilder
from paperdesk.search.codec import PaperdeskCodec
from paperdesk.search.collect import Collected, collect
from paperdesk.search.compiler import compile_query, query_terms, reads_interest
from paperdesk.search.highlights import Terms, highlight
from paperdesk.search.postings import Postings
from paperdesk.search.schema import (
    INDEX_SCHEMA_VERSION,
    SORT_COLUMNS,
    make_schema,
    paper_document,
)
from paperdesk.search.scoring import relevance
from paperdesk.search.vocabulary import did_you_mean
from paperdesk.sorts import SEARCH_SORTS, checked

if TYPE_CHECKING:
    from paperdesk.library import Library

try:  # POSIX: one process writes the index at a time
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

META_FILE = "paperdesk-index.json"
LOCK_FILE = "paperdesk-index.lock"
LOCK_TIMEOUT_S = 30.0
SEARCH_LOCK_WAIT_S = 2.0
# Past this many changed papers a full rebuild is faster than updating in place.
REBUILD_THRESHOLD = 20_000
# A small update (a daily import) writes a segment where most of its ~16,000 terms
# have a posting or two; below this many postings a term's list is kept inside
# its term entry instead of as a compressed block of its own.
INLINE_LIMIT = 16

Notice = Callable[[str], None]
Progress = Callable[[int, int], None]

whoosh_fixes.apply()


class IndexBusy(LibraryError):
    """Another process held the index for too long."""


class IndexDeferred(LibraryError):
    """The index needs more work than the caller can wait for (a decision
    command); the next search does it."""


@dataclass
class Hit:
    paper: Paper
    score: float
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResults:
    query: str
    total: int
    hits: list[Hit]
    suggestion: str | None = None
    terms: frozenset[tuple[str, str]] = frozenset()
    ids: list[str] = field(default_factory=list)


# --- the index -------------------------------------------------------------------------


class SearchIndex:
    """The search index of one library (see the module)."""

    def __init__(self, path: Path, library: Library, notice: Notice | None = None) -> None:
        self.path = path
        self.library = library
        self._notice = notice or (lambda message: None)
        self._ix: whoosh_index.Index | None = None
        self._searcher = None
        self._postings_cache: Postings | None = None
        self._meta: dict[str, object] = {}
        self._lock = threading.RLock()

    # --- files --------------------------------------------------------------

    def _read_meta(self, path: Path) -> dict[str, object]:
        try:
            return json.loads((path / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write_meta(self, path: Path, meta: dict[str, object]) -> None:
        tmp = path / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, path / META_FILE)

    @contextlib.contextmanager
    def _process_lock(self, wait: float | None = None) -> Iterator[None]:
        """Only one process writes the index at a time; others wait, with a bound."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            yield
            return
        with open(self.path.parent / LOCK_FILE, "a+b") as handle:
            deadline = time.monotonic() + (LOCK_TIMEOUT_S if wait is None else wait)
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexBusy(
                            "the search index is busy (another paperdesk is updating it)"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._ix = None

    def _problem(self) -> str | None:
        """Why the index on disk cannot serve this library, or None when it can."""
        if not self.path.exists():
            return "missing"
        meta = self._read_meta(self.path)
        if not meta:
            return "its bookkeeping file is missing"
        if meta.get("schema") != INDEX_SCHEMA_VERSION:
            return f"its schema version changed ({meta.get('schema')} -> {INDEX_SCHEMA_VERSION})"
        if meta.get("library") != self.library.library_id():
            return "it was built from another library file"
        seq = meta.get("seq")
        if not isinstance(seq, int) or seq > self.library.max_seq():
            return "it is ahead of the library (was the library restored?)"
        try:
            ix = whoosh_index.open_dir(str(self.path))
            with ix.searcher() as searcher:
                searcher.doc_count()
        except Exception as error:  # noqa: BLE001 - any failure to open means damage
            return f"it is damaged ({type(error).__name__}: {error})"
        return None

    def _open(self, progress: Progress | None = None, rebuild: bool = True) -> whoosh_index.Index:
        if self._ix is None:
            problem = self._problem()
            if problem is not None and not rebuild:
                raise IndexDeferred(f"the search index needs a rebuild ({problem})")
            if problem is not None:
                if problem != "missing":
                    self._notice(f"search index rebuilt from the library: {problem}")
                self.rebuild(progress)
            self._ix = whoosh_index.open_dir(str(self.path))
            self._meta = self._read_meta(self.path)
        return self._ix

    # --- writing --------------------------------------------------------------

    def rebuild(self, progress: Progress | None = None) -> int:
        """Build a fresh index beside the old one, then swap it in."""
        with self._lock, self._process_lock():
            self.close()
            total = self.library.count()
            seq = self.library.max_seq()
            fresh = self.path.with_name(self.path.name + ".new")
            shutil.rmtree(fresh, ignore_errors=True)
            try:
                return self._build(fresh, total, seq, progress)
            except BaseException:
                # A full disk, a kill: the half-built copy must not fill the disk.
                shutil.rmtree(fresh, ignore_errors=True)
                raise

    def _build(self, fresh: Path, total: int, seq: int, progress: Progress | None) -> int:
        """The body of rebuild, under its locks: build in ``fresh``, swap it in."""
        fresh.mkdir(parents=True)
        ix = whoosh_index.create_in(str(fresh), make_schema())
        # Whole segments from arrays (``bulk``): the index Whoosh's writer would
        # build from the same papers, 8x sooner at 100k (docs/PERFORMANCE.md).
        done = BulkBuilder(ix).build_library(self.library, total, progress)
        self._write_meta(
            fresh,
            {"schema": INDEX_SCHEMA_VERSION, "seq": seq, "library": self.library.library_id()},
        )
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(fresh, self.path)
        shutil.rmtree(old, ignore_errors=True)
        if progress:
            progress(done, total)
        return done

    def sync(
        self,
        progress: Progress | None = None,
        wait: float | None = None,
        at_most: int | None = None,
    ) -> int:
        """Apply the library's changes since the last sync; return how many papers.

        ``wait`` bounds the wait for another process that is writing the index;
        ``at_most`` the papers this call may index: more (another process's
        import, an index to rebuild) raises IndexDeferred, for the next search.
        """
        with self._lock:
            try:
                ix = self._open(progress, rebuild=at_most is None)
            except (IndexBusy, IndexDeferred):
                raise
            except Exception as error:  # noqa: BLE001
                self._notice(
                    f"search index rebuilt from the library: it could not be opened ({error})"
                )
                self.close()
                self.rebuild(progress)
                ix = self._open()
            done_seq = int(self._meta.get("seq", 0))  # type: ignore[call-overload]
            upto = self.library.max_seq()
            if upto <= done_seq:
                return 0
            with self._process_lock(wait):
                # Another process may have synced while we waited for the lock.
                done_seq = int(self._read_meta(self.path).get("seq", 0))  # type: ignore[call-overload]
                upto = self.library.max_seq()
                if upto <= done_seq:
                    self._meta = self._read_meta(self.path)
                    return 0
                count = self.library.count_changed(done_seq, upto)
                if at_most is not None and count > at_most:
                    raise IndexDeferred(f"{count:,} papers wait for the search index")
                if count >= REBUILD_THRESHOLD:
                    pass
                else:
                    changed = self.library.changed_since(done_seq, upto)
                    # Papers merged into others since: their documents go.
                    removed = self.library.removed_since(done_seq, upto)
                    try:
                        codec = PaperdeskCodec(inlinelimit=INLINE_LIMIT)
                        writer = ix.writer(timeout=LOCK_TIMEOUT_S, delay=0.05, codec=codec)
                    except LockError:
                        raise IndexBusy("the search index is locked by another process") from None
                    try:
                        for pid in removed:
                            writer.delete_by_term("id", pid)
                        for number, paper in enumerate(changed, start=1):
                            writer.update_document(**paper_document(paper))
                            if progress and number % 500 == 0:
                                progress(number, len(changed))
                        writer.commit()
                    except BaseException:
                        writer.cancel()
                        raise
                    self._meta = {**self._read_meta(self.path), "seq": upto}
                    self._write_meta(self.path, self._meta)
                    return len(changed)
            # Too many changes to apply one by one: rebuild (outside the lock it takes itself).
            self.close()
            return self.rebuild(progress)

    # --- reading ---------------------------------------------------------------

    def searcher(self):
        """An up-to-date searcher; syncs first, and heals a damaged index once."""
        with self._lock:
            try:
                self.sync(wait=SEARCH_LOCK_WAIT_S)
            except IndexBusy:
                if self._ix is None:
                    raise
                # Another process is writing the index (a long import, say): answer
                # from the index as it is rather than keep the user waiting.
                self._notice(
                    "another paperdesk is updating the search index: results may miss "
                    "the newest changes"
                )
            assert self._ix is not None
            if self._searcher is not None and not self._searcher.up_to_date():
                # Not Searcher.refresh(): it reuses segment readers and keeps their
                # old deletions, so updated papers would show twice (whoosh 2.7.5).
                self._searcher.close()
                self._searcher = None
            if self._searcher is None:
                self._searcher = self._ix.searcher(weighting=BM25F())
            return self._searcher

    def _heal(self, error: Exception) -> None:
        self._notice(
            f"search index rebuilt from the library: it was damaged ({type(error).__name__})"
        )
        self.close()
        self.rebuild()

    def search(
        self,
        text: str,
        *,
        limit: int | None = 20,
        sort: str = "relevance",
        with_highlights: bool = True,
        suggest: bool = True,
    ) -> SearchResults:
        """Papers matching a query in the query language (see ``paperdesk.query``),
        the first ``limit`` of them, with their relevance as the score whatever
        the order."""

        def papers(p: Postings, wquery: wq.Query, found: Collected, terms: Terms) -> list[Hit]:
            if column is None:
                scores = found.values.tolist()
            else:  # sorted by a column, a hit's score is still its relevance
                scores = relevance(p, wquery)[found.docs].tolist()
            ids = p.keys_of(found.docs)
            known = {paper.id: paper for paper in self.library.get_many(ids)}
            return [
                Hit(known[pid], score, highlight(known[pid], terms) if with_highlights else {})
                for pid, score in zip(ids, scores, strict=True)
                if pid in known
            ]

        column = SORT_COLUMNS[checked(sort, SEARCH_SORTS)]
        return self._run(text, limit, column, suggest, papers)

    def search_ids(
        self, text: str, *, sort: str = "relevance", cancelled: Callable[[], bool] | None = None
    ) -> SearchResults:
        """Every match's ID in order, without loading papers: the app's list.

        IDs come from a column, not the stored fields, so 100k matches stay cheap.
        ``cancelled`` is asked before each term's postings are read; when it says
        yes the search stops with ``SearchCancelled`` (a one-letter prefix reads
        hundreds of lists: the next letter typed must not wait for them).
        """
        column = SORT_COLUMNS[checked(sort, SEARCH_SORTS)]
        return self._run(text, None, column, True, None, cancelled)

    def _run(
        self,
        text: str,
        limit: int | None,
        column: str | None,
        suggest: bool,
        papers: Callable[[Postings, wq.Query, Collected, Terms], list[Hit]] | None,
        cancelled: Callable[[], bool] | None = None,
    ) -> SearchResults:
        """One search: parse, compile, collect; then the hits (``papers``) or
        every match's ID, the terms to highlight and the did-you-mean."""
        tree = q.parse(text)  # QueryError reaches the caller: it is the user's to fix

        def run() -> SearchResults:
            with self._lock:
                p = self._postings(self.searcher())
                p.cancelled = cancelled
                try:
                    return found_results(p)
                finally:
                    p.cancelled = None

        def found_results(p: Postings) -> SearchResults:
            if column == "interest" or reads_interest(tree):
                p.interest(self.library.interest_generation(), self.library.interest_scores)
            wquery = compile_query(tree, p.reader)
            found = collect(p, wquery, limit, column)
            terms = query_terms(wquery, p.reader)
            suggestion = did_you_mean(p.reader, text, tree, found.total) if suggest else None
            if papers is None:
                ids = p.keys_of(found.docs)
                return SearchResults(text, found.total, [], suggestion, terms, ids)
            hits = papers(p, wquery, found, terms)
            return SearchResults(text, found.total, hits, suggestion, terms)

        return self._healing(run)

    def similar(self, paper: Paper, limit: int = 10) -> list[Hit]:
        """Papers most like this one, by the key terms of its title and abstract."""
        with self._lock:
            searcher = self.searcher()
            docnum = searcher.document_number(id=paper.id)
            if docnum is None:
                return []
            # Whoosh's more_like (its key terms, OR-ed with their weights as boosts),
            # ranked like any search: Whoosh walked the posting lists.
            key_terms = searcher.key_terms_from_text(
                "abstract", f"{paper.title} {paper.abstract}", numterms=12, normalize=False
            )
            like = wq.Or([wq.Term("abstract", word, boost=weight) for word, weight in key_terms])
            p = self._postings(searcher)
            found = collect(p, like, limit + 1, None)
            ranked = [
                (score, doc)
                for score, doc in zip(found.values.tolist(), found.docs.tolist(), strict=True)
                if doc != docnum
            ][:limit]
            ids = p.keys_of([doc for _score, doc in ranked])
        papers = {p.id: p for p in self.library.get_many(ids)}
        return [
            Hit(papers[pid], score)
            for pid, (score, _doc) in zip(ids, ranked, strict=True)
            if pid in papers
        ]

    def _postings(self, searcher) -> Postings:
        if self._postings_cache is None or self._postings_cache.searcher is not searcher:
            self._postings_cache = Postings(searcher)
        return self._postings_cache

    def _healing(self, call: Callable[[], SearchResults]) -> SearchResults:
        """Run a search; if the index files turn out damaged, rebuild once and retry."""
        for attempt in (1, 2):
            try:
                return call()
            except (IndexBusy, LibraryError, SearchCancelled, RecursionError, MemoryError):
                raise  # not the index's files: rebuilding would not help (122 s at 50k)
            except Exception as error:  # noqa: BLE001 - damaged files surface here
                if attempt == 2:
                    raise
                self._heal(error)
        raise AssertionError("unreachable")
