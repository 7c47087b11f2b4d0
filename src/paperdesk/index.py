"""The Whoosh search index: schema, sync from the library, search, highlights.

The index is derived data. It lives beside the library, remembers (in
``paperdesk-index.json``) the schema version, the library it was built from
and the last change sequence it applied, and is rebuilt from the library
whenever any of those disagree or its files are damaged.

Every ``whoosh`` import in paperdesk is in this module, or in
``paperdesk.whoosh_fixes``: the fixes to whoosh-reloaded applied on import.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paperdesk.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, FieldType, Schema
from whoosh.formats import Existence
from whoosh.index import LockError
from whoosh.scoring import BM25F
from whoosh.support.charset import accent_map

from paperdesk import query as q
from paperdesk import whoosh_fixes
from paperdesk.codec import PaperdeskCodec, PositionArray
from paperdesk.model import Paper, fold_accents, normalise_tag
from paperdesk.postings import (
    CANDIDATE_SCORING_LIMIT,
    Postings,
    near_words,
    ranked_part,
    sort_scores,
    split_filters,
    text_of,
)
from paperdesk.store import Library, LibraryError

try:  # POSIX: one process writes the index at a time
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

INDEX_SCHEMA_VERSION = 10
META_FILE = "paperdesk-index.json"
LOCK_FILE = "paperdesk-index.lock"
LOCK_TIMEOUT_S = 30.0
SEARCH_LOCK_WAIT_S = 2.0
# Past this many changed papers a full rebuild is faster than updating in place.
REBUILD_THRESHOLD = 20_000
# From this many papers a rebuild uses two writer processes (measured: below it
# the start-up of the second process costs more than it saves).
PARALLEL_INDEX_THRESHOLD = 2_000
# A small update (a daily import) writes a segment where most of its ~16,000 terms
# have a posting or two; below this many postings a term's list is kept inside
# its term entry instead of as a compressed block of its own.
INLINE_LIMIT = 16
# Prefix and fuzzy words expand to at most this many index terms (most frequent
# first), which bounds their cost on a large vocabulary.
MAX_EXPANSIONS = 64
DEFAULT_FIELDS = ("title", "abstract", "org", "tag")
HIGHLIGHT_FIELDS = ("title", "abstract", "org", "tag")
SNIPPET_CHARS = 220

Notice = Callable[[str], None]
Terms = frozenset[tuple[str, str]]  # (field, analysed term) pairs a query matched
Progress = Callable[[int, int], None]

# Word characters, accents folded, lower-cased, then stemmed. No stop list:
# phrases keep every word, and "the" is cheap enough to index.
WORD_PATTERN = r"\w+(?:[.'’]\w+)*"


class PossessiveFilter(Filter):
    """Drops a trailing 's (or ’s): "agent's" is the word "agent", so a search
    for agent finds it. In the index and in queries alike."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if len(text) > 2 and text[-2] in "'’" and text[-1] == "s":
                token.text = text[:-2]
            yield token


TEXT_ANALYZER = (
    RegexTokenizer(WORD_PATTERN)
    | LowercaseFilter()
    | PossessiveFilter()
    | CharsetFilter(accent_map)
    | StemFilter()
)
# The same words unstemmed: the vocabulary that fuzzy words and "did you mean"
# measure edit distances against.
SPELL_ANALYZER = (
    RegexTokenizer(WORD_PATTERN)
    | LowercaseFilter()
    | PossessiveFilter()
    | CharsetFilter(accent_map)
)
_WORD = re.compile(WORD_PATTERN, re.UNICODE)
PLAIN_ANALYZER = RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)
STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it of on or that the their this to with".split()
)

whoosh_fixes.apply()


def _positional_text(field_boost: float = 1.0) -> TEXT:
    """A text field whose positions are kept as arrays (``codec.PositionArray``),
    so phrases are checked a block of postings at a time."""
    field = TEXT(analyzer=TEXT_ANALYZER, field_boost=field_boost, phrase=True)
    field.format = PositionArray(field_boost=field_boost)
    return field


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        title=_positional_text(field_boost=2.5),
        abstract=_positional_text(),
        # Only the *vocabulary* of this field is ever read (terms_within), never
        # its postings. Whoosh's own spelling=True field posts every word of
        # every paper, which was 40% of a rebuild; see paper_document.
        spell=FieldType(Existence(), SPELL_ANALYZER, scorable=False),
        org=TEXT(analyzer=PLAIN_ANALYZER, phrase=False),
        tag=KEYWORD(commas=True, lowercase=True, scorable=True),
        host=KEYWORD(commas=True, lowercase=True),
        state=KEYWORD(),
        # Whole numbers; a date is YYYYMMDD. signed=False looks tempting but Whoosh
        # 2.7.5 then answers ranges wrongly (authors:[1 TO 2] matched 3, 4, 16...).
        authors=NUMERIC(int, bits=32, shift_step=8),
        upvotes=NUMERIC(int, bits=32, shift_step=8),
        published=NUMERIC(int, bits=32, shift_step=8),
        # Coarse date terms: published:2024 and published:2024-06 are one term
        # lookup each instead of a numeric range over day values.
        year=ID(),
        month=ID(),
        # Sort keys live in columns of their own, present on every paper, so a
        # paper without a date or upvotes sorts last (the range fields above
        # leave it out, so ranges never match it).
        published_sort=COLUMN(NumericColumn("i", default=0)),
        upvotes_sort=COLUMN(NumericColumn("i", default=0)),
    )


def paper_document(paper: Paper, seen_words: set[str] | None = None) -> dict[str, object]:
    """The fields of one paper as the index holds them.

    ``seen_words`` is for a rebuild: the unstemmed words already given to the
    ``spell`` field by earlier papers. This paper then adds only the new ones,
    so the field holds the vocabulary with one posting per word instead of one
    per word and paper. An update (``seen_words`` None) carries all its words:
    the paper that first brought a word may be replaced later.
    """
    hosts = []
    for link in paper.links:
        host = link.split("://", 1)[-1].split("/", 1)[0].lower()
        if host.startswith("www."):
            host = host[4:]
        if host and host not in hosts:
            hosts.append(host)
    state = [
        "read" if paper.read else "unread",
        "starred" if paper.starred else "unstarred",
        "tagged" if paper.tags else "untagged",
    ]
    doc: dict[str, object] = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "spell": _new_words(paper, seen_words),
        "org": paper.organization or "",
        # Accents folded, as in text: tag:unicode-tag finds "ünïcode-tag".
        "tag": ",".join(fold_accents(tag) for tag in paper.tags),
        "host": ",".join(hosts),
        "state": " ".join(state),
    }
    if paper.authors is not None:
        doc["authors"] = paper.authors
    if paper.upvotes is not None:
        doc["upvotes"] = paper.upvotes
    if paper.published is not None:
        doc["published"] = q.date_number(paper.published)
        doc["year"] = f"{paper.published.year:04d}"
        doc["month"] = f"{paper.published.year:04d}-{paper.published.month:02d}"
    doc["published_sort"] = doc.get("published", 0)
    doc["upvotes_sort"] = paper.upvotes + 1 if paper.upvotes is not None else 0
    return doc


def _new_words(paper: Paper, seen_words: set[str] | None) -> str:
    text = f"{paper.title}\n{paper.abstract}"
    if seen_words is None:
        return text
    # SPELL_ANALYZER's steps, done once per distinct word (three times faster).
    words = {
        _unpossessive(word.lower() if word.isascii() else word.lower().translate(accent_map))
        for word in set(_WORD.findall(text))
    }
    words.difference_update(seen_words)
    seen_words.update(words)
    return " ".join(words)


def _unpossessive(word: str) -> str:
    return word[:-2] if len(word) > 2 and word[-2] in "'’" and word[-1] == "s" else word


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


# --- highlights ----------------------------------------------------------------------


def match_spans(
    text: str, field_name: str, terms: frozenset[tuple[str, str]]
) -> list[tuple[int, int]]:
    """Character spans of ``text`` whose analysed form is one of the query's terms."""
    wanted = {term for name, term in terms if name == field_name}
    if not wanted or not text:
        return []
    analyzer = TEXT_ANALYZER if field_name in ("title", "abstract") else PLAIN_ANALYZER
    return [
        (token.startchar, token.endchar)
        for token in analyzer(text, chars=True, mode="query")
        if token.text in wanted
    ]


def mark(text: str, spans: list[tuple[int, int]], before: str = "**", after: str = "**") -> str:
    pieces = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append(f"{before}{text[start:end]}{after}")
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def snippet_window(
    text: str, spans: list[tuple[int, int]], width: int = SNIPPET_CHARS
) -> tuple[int, int]:
    """The window of ``text`` about ``width`` long holding the most matches."""
    if len(text) <= width:
        return 0, len(text)
    best_start, best_count = 0, 0
    for index, (start, _end) in enumerate(spans):
        count = sum(1 for s, e in spans[index:] if e <= start + width)
        if count > best_count:
            best_start, best_count = start, count
    if best_count:
        best_start = max(0, best_start - width // 5)
        # Start on a word boundary.
        space = text.rfind(" ", 0, best_start)
        best_start = 0 if space < 0 or best_start == 0 else space + 1
    end = min(len(text), best_start + width)
    if end < len(text):
        space = text.rfind(" ", best_start, end)
        if space > best_start:
            end = space
    return best_start, end


def highlight(paper: Paper, terms: frozenset[tuple[str, str]]) -> dict[str, str]:
    """The title with matches marked, and an abstract snippet around the best match."""
    title = mark(paper.title, match_spans(paper.title, "title", terms))
    spans = match_spans(paper.abstract, "abstract", terms)
    start, end = snippet_window(paper.abstract, spans)
    inside = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
    snippet = mark(paper.abstract[start:end], inside)
    if start > 0:
        snippet = "…" + snippet
    if end < len(paper.abstract):
        snippet += "…"
    return {"title": title, "abstract": snippet}


# --- the index -------------------------------------------------------------------------


class SearchIndex:
    """A Whoosh index kept in step with one library."""

    def __init__(self, path: Path, notice: Notice | None = None) -> None:
        self.path = path
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

    def _problem(self, library: Library) -> str | None:
        """Why the index on disk cannot serve this library, or None when it can."""
        if not self.path.exists():
            return "missing"
        meta = self._read_meta(self.path)
        if not meta:
            return "its bookkeeping file is missing"
        if meta.get("schema") != INDEX_SCHEMA_VERSION:
            return f"its schema version changed ({meta.get('schema')} -> {INDEX_SCHEMA_VERSION})"
        if meta.get("library") != library.library_id():
            return "it was built from another library file"
        seq = meta.get("seq")
        if not isinstance(seq, int) or seq > library.max_seq():
            return "it is ahead of the library (was the library restored?)"
        try:
            ix = whoosh_index.open_dir(str(self.path))
            with ix.searcher() as searcher:
                searcher.doc_count()
        except Exception as error:  # noqa: BLE001 - any failure to open means damage
            return f"it is damaged ({type(error).__name__}: {error})"
        return None

    def _open(
        self, library: Library, progress: Progress | None = None, rebuild: bool = True
    ) -> whoosh_index.Index:
        if self._ix is None:
            problem = self._problem(library)
            if problem is not None and not rebuild:
                raise IndexDeferred(f"the search index needs a rebuild ({problem})")
            if problem is not None:
                if problem != "missing":
                    self._notice(f"search index rebuilt from the library: {problem}")
                self.rebuild(library, progress)
            self._ix = whoosh_index.open_dir(str(self.path))
            self._meta = self._read_meta(self.path)
        return self._ix

    # --- writing --------------------------------------------------------------

    def rebuild(self, library: Library, progress: Progress | None = None) -> int:
        """Build a fresh index beside the old one, then swap it in."""
        with self._lock, self._process_lock():
            self.close()
            total = library.count()
            seq = library.max_seq()
            fresh = self.path.with_name(self.path.name + ".new")
            shutil.rmtree(fresh, ignore_errors=True)
            try:
                return self._build(library, fresh, total, seq, progress)
            except BaseException:
                # A full disk, a kill: the half-built copy must not fill the disk.
                shutil.rmtree(fresh, ignore_errors=True)
                raise

    def _build(
        self, library: Library, fresh: Path, total: int, seq: int, progress: Progress | None
    ) -> int:
        """The body of rebuild, under its locks: build in ``fresh``, swap it in."""
        fresh.mkdir(parents=True)
        ix = whoosh_index.create_in(str(fresh), make_schema())
        big = total >= PARALLEL_INDEX_THRESHOLD and (os.cpu_count() or 1) > 1
        codec = PaperdeskCodec()
        writer = (
            ix.writer(procs=2, multisegment=True, limitmb=256, codec=codec)
            if big
            else ix.writer(limitmb=256, codec=codec)
        )
        done = 0
        seen_words: set[str] = set()
        try:
            for paper in library.iter_all():
                writer.add_document(**paper_document(paper, seen_words))
                done += 1
                if progress and done % 500 == 0:
                    progress(done, total)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        self._write_meta(
            fresh, {"schema": INDEX_SCHEMA_VERSION, "seq": seq, "library": library.library_id()}
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
        library: Library,
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
                ix = self._open(library, progress, rebuild=at_most is None)
            except (IndexBusy, IndexDeferred):
                raise
            except Exception as error:  # noqa: BLE001
                self._notice(
                    f"search index rebuilt from the library: it could not be opened ({error})"
                )
                self.close()
                self.rebuild(library, progress)
                ix = self._open(library)
            done_seq = int(self._meta.get("seq", 0))  # type: ignore[call-overload]
            upto = library.max_seq()
            if upto <= done_seq:
                return 0
            with self._process_lock(wait):
                # Another process may have synced while we waited for the lock.
                done_seq = int(self._read_meta(self.path).get("seq", 0))  # type: ignore[call-overload]
                upto = library.max_seq()
                if upto <= done_seq:
                    self._meta = self._read_meta(self.path)
                    return 0
                count = library.count_changed(done_seq, upto)
                if at_most is not None and count > at_most:
                    raise IndexDeferred(f"{count:,} papers wait for the search index")
                if count >= REBUILD_THRESHOLD:
                    pass
                else:
                    changed = library.changed_since(done_seq, upto)
                    try:
                        codec = PaperdeskCodec(inlinelimit=INLINE_LIMIT)
                        writer = ix.writer(timeout=LOCK_TIMEOUT_S, delay=0.05, codec=codec)
                    except LockError:
                        raise IndexBusy("the search index is locked by another process") from None
                    try:
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
            return self.rebuild(library, progress)

    # --- reading ---------------------------------------------------------------

    def searcher(self, library: Library):
        """An up-to-date searcher; syncs first, and heals a damaged index once."""
        with self._lock:
            try:
                self.sync(library, wait=SEARCH_LOCK_WAIT_S)
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

    def _heal(self, library: Library, error: Exception) -> None:
        self._notice(
            f"search index rebuilt from the library: it was damaged ({type(error).__name__})"
        )
        self.close()
        self.rebuild(library)

    def search(
        self,
        library: Library,
        text: str,
        *,
        limit: int | None = 20,
        sort: str = "relevance",
        with_highlights: bool = True,
        suggest: bool = True,
    ) -> SearchResults:
        """Papers matching a query in the query language (see ``paperdesk.query``)."""
        tree = q.parse(text)  # QueryError reaches the caller: it is the user's to fix
        sortedby = _sort_column(sort)
        return self._healing(
            library,
            lambda: self._search(library, text, tree, limit, sortedby, with_highlights, suggest),
        )

    def _healing(self, library: Library, call: Callable[[], SearchResults]) -> SearchResults:
        """Run a search; if the index files turn out damaged, rebuild once and retry."""
        for attempt in (1, 2):
            try:
                return call()
            except (IndexBusy, LibraryError, RecursionError, MemoryError):
                raise  # not the index's files: rebuilding would not help (122 s at 50k)
            except Exception as error:  # noqa: BLE001 - damaged files surface here
                if attempt == 2:
                    raise
                self._heal(library, error)
        raise AssertionError("unreachable")

    def _postings(self, searcher) -> Postings:
        if self._postings_cache is None or self._postings_cache.searcher is not searcher:
            self._postings_cache = Postings(searcher)
        return self._postings_cache

    def _ranked(self, searcher, wquery, limit: int | None, sortedby: str | None):
        """(total, [(paper ID, score)] best first) for a query on a searcher."""
        postings = self._postings(searcher)
        total, scores, docs = self._ranked_docs(searcher, postings, wquery, limit, sortedby)
        if sortedby is not None:  # the column's value in place of the score
            scores = sort_scores(scores)
        else:
            scores = scores.tolist()
        return total, list(zip(postings.keys_of(docs), scores, strict=True))

    def _ranked_ids(self, searcher, wquery, sortedby: str | None) -> tuple[int, list[str]]:
        """(total, every match's paper ID best first): the app's list of a search.
        The ranking stays in numpy arrays up to the IDs (a million matches)."""
        postings = self._postings(searcher)
        total, _scores, docs = self._ranked_docs(searcher, postings, wquery, None, sortedby)
        return total, postings.keys_of(docs)

    def _ranked_docs(self, searcher, postings: Postings, wquery, limit, sortedby):
        """(total, scores, document numbers), best first, as arrays."""
        if sortedby is not None:  # by date or upvotes: the exact matches, in that order
            return postings.sorted_arrays(wquery, sortedby, limit)
        found = postings.dense_arrays(wquery, limit)
        if found is not None:  # words, fields, phrases, filters: see paperdesk.postings
            return found
        total, ranked = self._ranked_by_sets(searcher, postings, wquery, limit)
        return (
            total,
            np.array([score for score, _ in ranked]),
            np.array([doc for _, doc in ranked], dtype=np.intp),
        )

    def _ranked_by_sets(self, searcher, postings: Postings, wquery, limit):
        """(total, [(score, document number)] best first) for the queries the
        arrays do not rank (boosted groups, ID prefixes)."""
        # The exact matches first, with set operations on the posting lists (their
        # number is the total), then the ranking of those only.
        matches = postings.of(wquery)
        if not matches:
            return 0, []
        ranked = postings.ranked(wquery, matches, limit)
        if ranked is None:  # many matches of a range: Whoosh's top-N search
            if len(matches) <= CANDIDATE_SCORING_LIMIT:
                scored, allowed = postings.within(ranked_part(wquery), matches), None
            else:
                scored, allowed = split_filters(wquery, postings)
            results = searcher.search(scored, limit=limit, filter=allowed)
            ranked = [(score or 0.0, docnum) for score, docnum in results.top_n]
        return len(matches), ranked

    def _search(self, library, text, tree, limit, sortedby, with_highlights, suggest):
        with self._lock:
            searcher = self.searcher(library)
            wquery = to_whoosh(tree, searcher.reader())
            total, ranked = self._ranked(searcher, wquery, limit, sortedby)
            if sortedby is not None and ranked:
                # Sorted by a column, a hit's score is still its relevance.
                relevance = dict(self._ranked(searcher, wquery, None, None)[1])
                ranked = [(pid, relevance.get(pid, 0.0)) for pid, _value in ranked]
            terms = query_terms(wquery, searcher.reader())
            suggestion = self._suggest(searcher, text, tree, total) if suggest else None
        papers = {paper.id: paper for paper in library.get_many([pid for pid, _ in ranked])}
        hits = []
        for pid, score in ranked:
            paper = papers.get(pid)
            if paper is None:
                continue
            hits.append(Hit(paper, score, highlight(paper, terms) if with_highlights else {}))
        return SearchResults(text, total, hits, suggestion, terms)

    def search_ids(self, library: Library, text: str, *, sort: str = "relevance") -> SearchResults:
        """Every match's ID in ranked order, without loading papers: for long lists.

        IDs come from a column, not the stored fields, so 100k matches stay cheap.
        """
        tree = q.parse(text)
        sortedby = _sort_column(sort)

        def run() -> SearchResults:
            with self._lock:
                searcher = self.searcher(library)
                wquery = to_whoosh(tree, searcher.reader())
                total, ids = self._ranked_ids(searcher, wquery, sortedby)
                terms = query_terms(wquery, searcher.reader())
                suggestion = self._suggest(searcher, text, tree, total)
            return SearchResults(text, total, [], suggestion, terms, ids)

        return self._healing(library, run)

    def _suggest(self, searcher, text: str, tree: q.Node, total: int) -> str | None:
        """ "Did you mean": unknown words replaced by the closest words in the index."""
        if total >= 5:
            return None
        reader = searcher.reader()
        replacements: list[tuple[q.Word, str]] = []
        for word in q.words_of(tree):
            if word.prefix or word.fuzzy or word.field not in (None, "title", "abstract"):
                continue
            tokens = [t.text for t in TEXT_ANALYZER(word.text)]
            if not tokens or any(
                reader.doc_frequency(name, token)
                for token in tokens
                for name in ("title", "abstract")
            ):
                continue
            best = _closest_word(reader, word.text.lower())
            if best and best != word.text.lower():
                replacements.append((word, best))
        if not replacements:
            return None
        corrected = text
        for word, best in sorted(replacements, key=lambda pair: pair[0].start, reverse=True):
            corrected = corrected[: word.start] + best + corrected[word.end :]
        return corrected

    def similar(self, library: Library, paper: Paper, limit: int = 10) -> list[Hit]:
        """Papers most like this one, by the key terms of its title and abstract."""
        with self._lock:
            searcher = self.searcher(library)
            docnum = searcher.document_number(id=paper.id)
            if docnum is None:
                return []
            # Whoosh's more_like (its key terms, OR-ed with their weights as boosts),
            # ranked from the posting lists like any search: Whoosh walked them.
            key_terms = searcher.key_terms_from_text(
                "abstract", f"{paper.title} {paper.abstract}", numterms=12, normalize=False
            )
            like = wq.Or([wq.Term("abstract", word, boost=weight) for word, weight in key_terms])
            postings = self._postings(searcher)
            _total, ranked = postings.dense(like, limit + 1) or (0, [])
            ranked = [(score, doc) for score, doc in ranked if doc != docnum][:limit]
            ids = postings.keys_of([doc for _score, doc in ranked])
            scores = [score for score, _doc in ranked]
        papers = {p.id: p for p in library.get_many(ids)}
        return [
            Hit(papers[pid], score) for pid, score in zip(ids, scores, strict=True) if pid in papers
        ]


_SORT_COLUMNS = {"relevance": None, "published": "published_sort", "upvotes": "upvotes_sort"}


def _sort_column(sort: str) -> str | None:
    """The column a search sorts by (None: by relevance); checked before searching."""
    if sort not in _SORT_COLUMNS:
        raise ValueError(f"unknown sort {sort!r}; choose relevance, published or upvotes")
    return _SORT_COLUMNS[sort]


def query_terms(wquery: wq.Query, reader) -> frozenset[tuple[str, str]]:
    """The index terms a query matches in the highlighted fields, expansions included.

    Whoosh's own ``existing_terms`` drops every field but the first: its loop
    variable shadows its ``fieldname`` parameter (whoosh-reloaded 2.7.5).
    """
    found = set()
    for leaf in wquery.leaves():
        for name, text in leaf.expanded_terms(reader, phrases=True):
            if name not in HIGHLIGHT_FIELDS:
                continue
            value = text_of(text)
            if (name, value) in reader:
                found.add((name, value))
    return frozenset(found)


def _closest_word(reader, word: str) -> str | None:
    """The indexed word nearest to ``word``: fewest edits, then most documents."""
    for distance in (1, 2):
        candidates = set(near_words(reader, "spell", word, distance))
        candidates.discard(word)
        if candidates:

            def documents(candidate: str) -> int:
                stems = [t.text for t in TEXT_ANALYZER(candidate)]
                return sum(reader.doc_frequency(n, s) for s in stems for n in ("title", "abstract"))

            return max(sorted(candidates), key=documents)
    return None


# --- from the query tree to Whoosh ---------------------------------------------------------


def _analyse(field_name: str, text: str) -> list[str]:
    if field_name in ("title", "abstract"):
        return [token.text for token in TEXT_ANALYZER(text)]
    if field_name == "org":
        return [token.text for token in PLAIN_ANALYZER(text)]
    if field_name == "tag":
        tag = fold_accents(normalise_tag(text))
        return [tag] if tag else []
    return [text.lower()] if text else []


def _expand(reader, field_name: str, terms: list[str]) -> wq.Query:
    """Real index terms as an OR, at most MAX_EXPANSIONS (the most frequent)."""
    if len(terms) <= MAX_EXPANSIONS:  # all of them: no frequency to ask
        return _most_frequent(field_name, dict.fromkeys(terms, 0))
    return _most_frequent(field_name, {t: reader.doc_frequency(field_name, t) for t in terms})


def _prefix_frequencies(reader, name: str, prefixes) -> dict[str, int]:
    """Every index term starting with one of the prefixes, with its document
    frequency, read a segment at a time: a sequential walk of each segment's
    vocabulary. (``a*`` at 1M papers, 10k terms: asking each term's frequency
    took 1.5 s, Whoosh's merged walk over the segments 0.5 s, this 0.07 s.)"""
    found: dict[str, int] = {}
    for leaf, _offset in reader.leaf_readers():
        for prefix in prefixes:
            if not prefix:
                continue
            for text, info in leaf.iter_prefix(name, prefix):
                term = text_of(text)
                found[term] = found.get(term, 0) + info.doc_frequency()
    return found


def _most_frequent(field_name: str, frequencies: dict[str, int]) -> wq.Query:
    """The terms as an OR, the most frequent first (ties alphabetical), at most
    MAX_EXPANSIONS."""
    ranked = sorted(frequencies.items(), key=lambda pair: (-pair[1], pair[0]))
    terms = sorted(term for term, _count in ranked[:MAX_EXPANSIONS])
    if not terms:
        return wq.NullQuery
    return wq.Or([wq.Term(field_name, term) for term in terms])


def _word_query(word: q.Word, reader) -> wq.Query:
    fields = (word.field,) if word.field else DEFAULT_FIELDS
    if not word.field and word.text.lower() in STOP_WORDS and not (word.prefix or word.fuzzy):
        return wq.Every()  # a stop word adds nothing to a bag of words
    parts: list[wq.Query] = []
    for name in fields:
        if name == "id":
            parts.append(wq.Prefix("id", word.text.lower()))
            continue
        if word.prefix:
            stems = (
                {word.text.lower(), *(_analyse(name, word.text)[:1])}
                if name != "host"
                else {word.text.lower()}
            )
            parts.append(_most_frequent(name, _prefix_frequencies(reader, name, stems)))
            continue
        tokens = _analyse(name, word.text)
        if not tokens:
            continue
        if word.fuzzy:
            parts.append(_expand(reader, name, _fuzzy_terms(reader, name, word)))
        else:
            parts.append(_tokens_query(name, tokens))
    if not parts:
        return wq.Every() if not word.field else wq.NullQuery
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _fuzzy_terms(reader, name: str, word: q.Word) -> list[str]:
    """Index terms within the word's edit distance.

    The distance is measured on whole words (the spelling field keeps them
    unstemmed), then each near word is stemmed like the field: "grokkng~"
    finds "grokking", whose stem "grokk" is three edits from "grokkng".
    """
    text = word.text.lower()
    if name in ("title", "abstract"):
        near = set(near_words(reader, "spell", text, word.fuzzy))
        near.add(text)
        stems = {stem for w in near for stem in _analyse(name, w)}
    else:
        stems = set(near_words(reader, name, text, word.fuzzy))
    return sorted(stem for stem in stems if (name, stem) in reader)


def _tokens_query(name: str, tokens: list[str]) -> wq.Query:
    """One word's (or one phrase's) analysed tokens in one field."""
    if len(tokens) == 1:
        return wq.Term(name, tokens[0])
    if name in ("title", "abstract"):
        return wq.Phrase(name, tokens)
    return wq.And([wq.Term(name, token) for token in tokens])


def _phrase_query(phrase: q.Phrase) -> wq.Query:
    fields = (phrase.field,) if phrase.field else ("title", "abstract")
    parts: list[wq.Query] = []
    for name in fields:
        tokens = _analyse(name, " ".join(phrase.words))
        if tokens:
            parts.append(_tokens_query(name, tokens))
    if not parts:
        return wq.NullQuery
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _range_query(node: q.Range) -> wq.Query:
    """Whole years and whole months become coarse terms; other ranges stay numeric."""
    low, high = node.low, node.high
    if node.field == "published" and low is not None and high is not None:
        if low % 10000 == 101 and high % 10000 == 1231 and 0 <= high // 10000 - low // 10000 < 50:
            years = range(low // 10000, high // 10000 + 1)
            terms = [wq.Term("year", f"{year:04d}") for year in years]
            return terms[0] if len(terms) == 1 else wq.Or(terms)
        if low // 100 == high // 100 and low % 100 == 1 and high % 100 >= 28:
            year, month = divmod(low // 100, 100)
            last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
            if high % 100 == last:
                return wq.Term("month", f"{year:04d}-{month:02d}")
    return wq.NumericRange(node.field, low, high)


def to_whoosh(node: q.Node, reader) -> wq.Query:
    """The Whoosh query for a parsed query tree."""
    if isinstance(node, q.Everything):
        return wq.Every()
    if isinstance(node, q.Word):
        return _word_query(node, reader)
    if isinstance(node, q.Phrase):
        return _phrase_query(node)
    if isinstance(node, q.Range):
        return _range_query(node)
    if isinstance(node, q.State):
        return wq.Term("state", node.name)
    if isinstance(node, q.Not):
        return wq.And([wq.Every(), wq.Not(to_whoosh(node.item, reader))])
    if isinstance(node, q.Or):
        return wq.Or([to_whoosh(item, reader) for item in node.items])
    if isinstance(node, q.And):
        positives = [to_whoosh(i, reader) for i in node.items if not isinstance(i, q.Not)]
        negatives = [to_whoosh(i.item, reader) for i in node.items if isinstance(i, q.Not)]
        positives = [p for p in positives if not isinstance(p, wq.Every)] or [wq.Every()]
        if negatives:
            return wq.AndNot(
                wq.And(positives) if len(positives) > 1 else positives[0],
                wq.Or(negatives) if len(negatives) > 1 else negatives[0],
            )
        return wq.And(positives) if len(positives) > 1 else positives[0]
    raise TypeError(f"unknown query node {node!r}")
