"""The operations the CLI and the app share: one object over the library and its index.

A ``Desk`` owns a ``Library`` (the source of truth) and opens the search index
only when something needs it. After every write it brings the index up to
date, so search never lags behind what the user did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from paperdesk import paths
from paperdesk.errors import BadInput
from paperdesk.importers import MAX_STDIN_BYTES, STDIN_NAME
from paperdesk.library import (
    Counts,
    Filter,
    ImportStats,
    Library,
    LibraryDamaged,
    LibraryError,
    StateImport,
    state,
)
from paperdesk.model import Entry, Paper

# typing costs 3-5 ms to import; only the type checker needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from paperdesk.fetch import Fetched, Http
    from paperdesk.importers.pipeline import FileReport, StageProgress
    from paperdesk.interest import InterestModel, Report
    from paperdesk.library.backups import Backup, Lacking, Rebuilt, Restored, Summary
    from paperdesk.search import Hit, SearchIndex, SearchResults

Progress = Callable[[int, int], None]
# A decision command indexes its own papers and up to this many others' changes.
DECISION_INDEX_SLACK = 200
# A decision about more papers than this (a --query, a sync) leaves the index to
# the next search, which catches up and says so when it takes long.
DECISION_INDEX_AT_ONCE = 1000
SAMPLE_NAME = "sample_dailypapers.txt"
SAMPLE_YEAR = 2025
# The change counter the interest model last learned at (library meta).
TRAINED_SEQ = "interest_trained_seq"


def _looks_like_journal(text: str) -> bool:
    """JSON lines, each an object with "at": a decision journal, not a state file."""
    first = text.lstrip()[:200]
    return first.startswith('{"at"') or first.startswith('{"state"')


class Desk:
    """The user's library and search index, opened lazily."""

    def __init__(
        self, data_dir: Path | None = None, *, create: bool = True, read_only: bool = False
    ) -> None:
        self.data_dir = data_dir or paths.data_dir()
        self.library = Library(
            self.data_dir / paths.library_path().name, create=create, read_only=read_only
        )
        self._index: SearchIndex | None = None
        self.notices: list[str] = []
        # The CLI keeps the index in step after every write. The app turns this
        # off and syncs in a worker, so a key press never waits for Whoosh.
        self.auto_sync_index = True

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index"

    @property
    def backups_path(self) -> Path:
        return self.data_dir / paths.backups_dir().name

    def backup(self, reason: str) -> Backup | None:
        """Back the library up if it changed since the newest backup."""
        from paperdesk.library import backups

        try:
            return backups.take(self.library.path, reason, self.backups_path)
        except LibraryDamaged as error:
            # A damaged library is left exactly as it is, for the restore to use.
            self.library.refuse_writes(str(error))
            raise

    # --- backups and restore ---------------------------------------------------------

    def backups(self) -> list[Backup]:
        """The library's backups, newest first."""
        from paperdesk.library import backups

        return backups.list_backups(self.backups_path)

    def compare_with_backup(self, backup: Backup) -> Lacking | None:
        """What the library has that ``backup`` lacks (None if it cannot be read)."""
        from paperdesk.library import backups

        return backups.compare(self.library.path, backup.path)

    def summary(self) -> Summary:
        """How many papers the library holds, and how many are starred, tagged, read."""
        from paperdesk.library import backups

        return backups.summarise(self.library.path)

    def restore(self, backup: Backup, merge_newer: bool = True) -> Restored:
        """Put ``backup`` in the library's place (see ``backups.restore``)."""
        from paperdesk.library import backups

        self.close()
        return backups.restore(
            self.library.path, backup, self.backups_path, merge_newer=merge_newer
        )

    def restore_from_journal(self) -> Rebuilt:
        """A new library holding only the decision journal's decisions."""
        from paperdesk.library import backups

        self.close()
        return backups.restore_from_journal(self.library.path, self.backups_path)

    # --- the search index ----------------------------------------------------------

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            # Whoosh is imported only when the index is first needed: commands
            # that never search (list, star, locate) start faster without it.
            from paperdesk.search import SearchIndex

            self._index = SearchIndex(self.index_path, self.library, notice=self.notices.append)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        self.library.close()

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync_index(self, progress: Progress | None = None, wait: float | None = None) -> int:
        """Bring the index up to date with the library (cheap when it already is);
        how many papers it indexed."""
        return self.index.sync(progress=progress, wait=wait)

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Build the index afresh from the library; how many papers it holds."""
        return self.index.rebuild(progress=progress)

    def import_file(
        self,
        path: Path,
        *,
        year: int | None = None,
        progress: StageProgress | None = None,
        format: str | None = None,
    ) -> FileReport:
        """Parse one file of any format (``importers.formats``; ``format`` forces
        one) and merge it into the library (``importers.pipeline``).

        ``progress`` is called with a stage ("parsing", "storing"), done and total.
        """
        from paperdesk.importers import pipeline

        report = pipeline.import_file(
            self.library, path, year=year, progress=progress, format=format
        )
        self._score_arrivals(report.stats.changed_ids if report.stats else [])
        return report

    def import_text(
        self,
        data: bytes,
        *,
        year: int | None = None,
        progress: StageProgress | None = None,
        name: str = STDIN_NAME,
        format: str | None = None,
    ) -> FileReport:
        """Import a dump given as bytes (standard input): the same checks as a file."""
        from paperdesk.importers import pipeline

        report = pipeline.import_bytes(
            self.library, data, year=year, progress=progress, name=name, format=format
        )
        self._score_arrivals(report.stats.changed_ids if report.stats else [])
        return report

    def import_entries(self, entries: Sequence[Entry], source: str) -> ImportStats:
        """Merge entries made elsewhere (``paperdesk add``, a fetch) into the library."""
        return self.library.import_entries(entries, source)

    # --- interest ----------------------------------------------------------------

    def muted(self) -> frozenset[str]:
        """The features the user muted: they can no longer raise a score."""
        text = self.library.meta_value("interest_muted")
        return frozenset(json.loads(text)) if text else frozenset()

    def set_muted(self, muted: frozenset[str]) -> None:
        self.library.set_meta("interest_muted", json.dumps(sorted(muted)))

    def interest_stale(self) -> bool:
        """Whether the library changed since the model last learned (and there is
        a model to keep fresh: the user asked for one once)."""
        if not self.model_path.exists():
            return False
        trained = self.library.meta_value(TRAINED_SEQ)
        return trained is None or int(trained) != self.library.max_seq()

    def learn_in_background(self) -> bool:
        """After a decision: let a child process learn the interest again (the
        command returns at once; see ``paperdesk.retrain``). True if one started."""
        if not self.interest_stale():
            return False
        from paperdesk import retrain

        return retrain.start(self.data_dir)

    def train_interest(self, progress: Progress | None = None) -> tuple[str, InterestModel | None]:
        """Learn the user's interest from their decisions and score every paper.
        A line saying what was done (or how many more decisions it needs), and
        the model (None when there were too few)."""
        from paperdesk import interest

        seq = self.library.max_seq()  # the decisions this training sees
        total = self.library.count()
        states = self.library.states()
        # A library up to FIT_PAPERS is read whole: the words' rarity comes from
        # all of it and its scores from the same pass. A larger one learns from
        # the decided papers and a spread of the rest, then is scored a batch at
        # a time (memory stays bounded; 1M papers is a background job).
        whole = total <= interest.FIT_PAPERS
        if whole:
            corpus = list(self.library.iter_all())
            found = interest.examples(corpus, states)
        else:
            decided = self.library.decided()
            found = interest.examples(decided, states)
            known = {p.id for p in decided}
            spread = self.library.spread(interest.FIT_PAPERS)
            corpus = [*decided, *(p for p in spread if p.id not in known)][: interest.FIT_PAPERS]
        why_not = interest.missing(found)
        if why_not:
            self.library.set_meta(TRAINED_SEQ, str(seq))
            return f"{why_not}; papers stay in date order", None
        counts = None
        if whole:  # the words of papers that did not change are counted once
            counts, keep = interest.counts_for(corpus, self._kept_counts())
            self._keep_counts(keep)
        model = interest.InterestModel(muted=self.muted()).fit(found, corpus, counts)
        if whole:
            scored = {p.id: float(v) for p, v in zip(corpus, model.corpus_scores, strict=True)}
            self.library.set_interest(scored, progress)
            count = len(scored)
        else:
            count = self._score_all(model, total, progress)
        self._save_model(model)
        self.library.set_meta(TRAINED_SEQ, str(seq))
        liked = sum(1 for e in found if e.label == 1)
        return (
            f"learned from {len(found):,} decisions ({liked:,} liked); scored {count:,} papers",
            model,
        )

    @property
    def counts_path(self) -> Path:
        return self.data_dir / "interest-counts.npz"

    def _kept_counts(self):
        """The word counts the last training kept (IDs, fingerprints, counts), or
        None (none yet, or a damaged file: counted again)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        from paperdesk.interest import TEXT_COLUMNS

        try:
            with np.load(self.counts_path, allow_pickle=False) as kept:
                counts = csr_matrix(
                    (kept["data"], kept["indices"], kept["indptr"]),
                    shape=(len(kept["ids"]), TEXT_COLUMNS),
                )
                return kept["ids"], kept["prints"], counts
        except (OSError, ValueError, KeyError):
            return None

    def _keep_counts(self, keep) -> None:
        import os
        import tempfile

        import numpy as np

        ids, prints, counts = keep
        handle = tempfile.NamedTemporaryFile(
            "wb", dir=self.data_dir, prefix=".interest-counts.", suffix=".tmp", delete=False
        )
        try:
            with handle:
                np.savez(
                    handle,
                    ids=ids,
                    prints=prints,
                    data=counts.data.astype(np.uint16),  # counts of words: small
                    indices=counts.indices,
                    indptr=counts.indptr,
                )
            os.replace(handle.name, self.counts_path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise

    def _score_all(self, model: InterestModel, total: int, progress: Progress | None) -> int:
        """Score every paper a batch at a time; the number scored."""
        from paperdesk import interest

        count = 0
        batch: list[Paper] = []

        def flush() -> None:
            nonlocal count
            scores = model.score(batch)
            self.library.set_interest({p.id: float(v) for p, v in zip(batch, scores, strict=True)})
            count += len(batch)
            batch.clear()
            if progress is not None:
                progress(count, total)

        for paper in self.library.iter_all(batch=interest.SCORE_BATCH):
            batch.append(paper)
            if len(batch) >= interest.SCORE_BATCH:
                flush()
        if batch:
            flush()
        return count

    @property
    def model_path(self) -> Path:
        return self.data_dir / "interest-model.pickle"

    def _save_model(self, model: InterestModel) -> None:
        import os
        import pickle
        import tempfile

        import sklearn

        from paperdesk import interest

        data = pickle.dumps((interest.MODEL_FORMAT, sklearn.__version__, model))
        handle = tempfile.NamedTemporaryFile(
            "wb", dir=self.data_dir, prefix=".interest-model.", suffix=".tmp", delete=False
        )
        try:
            with handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, self.model_path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        self._model = model

    def interest_model(self) -> InterestModel | None:
        """The model the last ``train_interest`` learned, or None (none yet, or
        one written by another version: the next training replaces it)."""
        cached = getattr(self, "_model", None)
        if cached is not None or not self.model_path.exists():
            return cached
        import pickle

        import sklearn

        from paperdesk import interest

        try:
            form, version, model = pickle.loads(self.model_path.read_bytes())
        except Exception:  # noqa: BLE001 - a damaged or foreign file: learn again
            return None
        if form != interest.MODEL_FORMAT or version != sklearn.__version__:
            return None
        self._model = model
        return model

    def why(self, paper: Paper) -> list[tuple[str, float]]:
        """What raised and lowered this paper's interest score (empty without a model)."""
        model = self.interest_model()
        return model.why(paper) if model is not None else []

    def _score_arrivals(self, ids: Sequence[str]) -> None:
        """Score the papers an import brought or changed, with the current model
        (a new day's import sorts by interest at once)."""
        if not ids or not self.model_path.exists():
            return
        model = self.interest_model()
        if model is None:
            return
        papers = self.library.get_many(list(ids))
        scores = model.score(papers)
        self.library.set_interest({p.id: float(v) for p, v in zip(papers, scores, strict=True)})

    def interest_report(self) -> Report | str:
        """The model measured on the user's own decisions (a time split), or why not yet."""
        from paperdesk import interest

        papers = list(self.library.iter_all())
        found = interest.examples(papers, self.library.states())
        return interest.time_split_report(found, papers, self.muted())

    # --- fetching ----------------------------------------------------------------

    def fetch_hf(
        self,
        *,
        day: date | None = None,
        week: str | None = None,
        month: str | None = None,
        endpoint: str | None = None,
        http: Http | None = None,
        today: date | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> list[FileReport]:
        """Hugging Face Daily Papers of one day, week or month; by default today
        and each day since the last fetch (at most 14). Every listing is read
        before any is imported: a failure (FetchError) imports nothing."""
        from paperdesk import fetch

        http = http or fetch.Http()
        base = fetch.hf_endpoint(endpoint)
        if week:
            queries = [({"week": week}, f"week {week}")]
        elif month:
            queries = [({"month": month}, f"month {month}")]
        else:
            today = today or datetime.now(UTC).date()
            last = self.library.meta_value("hf_fetched")
            since = date.fromisoformat(last) if last else None
            days = [day] if day else fetch.hf_days(since, today)
            queries = [({"date": d.isoformat()}, d.isoformat()) for d in days]
        listings = []
        for query, label in queries:
            if progress:
                progress(f"Hugging Face {label}")
            listings.append(fetch.fetch_hf(http, base, query, label))
        reports = [self._store(listing, "hf-api", f"hf {listing.label}") for listing in listings]
        if not (day or week or month):
            self.library.set_meta("hf_fetched", queries[-1][1])
        return reports

    def fetch_arxiv(
        self,
        categories: Sequence[str],
        *,
        base: str | None = None,
        http: Http | None = None,
    ) -> FileReport:
        """Today's arXiv announcements in these categories: ``new`` and ``cross``
        ones are papers, ``replace`` ones update papers the library has."""
        from paperdesk import fetch

        listing = fetch.fetch_arxiv_feed(
            http or fetch.Http(), fetch.arxiv_rss(base), list(categories)
        )
        return self._store(listing, "arxiv-feed", f"arxiv {listing.label}")

    def add_by_id(
        self,
        values: Sequence[str],
        *,
        star: bool = False,
        tags: Sequence[str] = (),
        base: str | None = None,
        http: Http | None = None,
    ) -> tuple[FileReport, list[str]]:
        """Papers by arXiv ID (or arXiv / Hugging Face URL), their metadata from
        the arXiv API; and the IDs arXiv did not know."""
        from paperdesk import fetch

        ids = fetch.arxiv_ids(list(values))
        listing, missing = fetch.fetch_arxiv_ids(http or fetch.Http(), fetch.arxiv_api(base), ids)
        report = self._store(listing, "arxiv-api", "arxiv " + ", ".join(ids))
        self.mark_imported(report, star=star, tags=tags)
        return report, missing

    def _store(self, listing: Fetched, format: str, label: str) -> FileReport:
        from paperdesk.importers.pipeline import FileReport

        report = FileReport(Path(label), format=format)
        report.warnings.extend(str(w) for w in listing.result.warnings)
        report.stats = self.library.import_entries(listing.result.entries, listing.source)
        self._score_arrivals(report.stats.changed_ids)
        return report

    def mark_imported(
        self, report: FileReport, *, star: bool = False, tags: Sequence[str] = ()
    ) -> tuple[int, int]:
        """Star and tag every paper of an import (``import --star --tag``): one's
        own bibliography as the papers one likes. How many were starred, tagged."""
        ids = report.stats.ids if report.stats else []
        starred = len(self.set_starred(ids, True)) if star and ids else 0
        tagged = len(self.tag_many(ids, tags)) if tags and ids else 0
        return starred, tagged

    # --- reading -----------------------------------------------------------------

    @property
    def library_path(self) -> Path:
        return self.library.path

    def paper(self, id_or_prefix: str) -> Paper:
        """The paper with this ID, or the one paper whose ID starts so (UnknownPaper)."""
        return self.library.get(self.library.resolve_id(id_or_prefix))

    def get(self, paper_id: str) -> Paper:
        return self.library.get(paper_id)

    def get_many(self, ids: Sequence[str]) -> list[Paper]:
        return self.library.get_many(ids)

    def papers(
        self, filter: Filter | None = None, sort: str = "published", limit: int | None = None
    ) -> list[Paper]:
        """The papers a filter selects, in one of ``sorts.LIST_SORTS``."""
        return self.library.papers(filter, sort=sort, limit=limit)

    def ids(
        self, filter: Filter | None = None, sort: str = "published", limit: int | None = None
    ) -> list[str]:
        return self.library.ids(filter, sort, limit=limit)

    def count(self, filter: Filter | None = None) -> int:
        return self.library.count(filter)

    def counts(self) -> Counts:
        return self.library.counts()

    def tag_counts(self) -> list[tuple[str, int]]:
        return self.library.tag_counts()

    def max_seq(self) -> int:
        """The library's change sequence: it moves on with every write."""
        return self.library.max_seq()

    @property
    def last_write_seq(self) -> int | None:
        """The sequence of this process's own last write (the app's own changes)."""
        return self.library.last_write_seq

    def check_files(self) -> None:
        """LibraryError when the library's files were replaced or removed under us."""
        self.library.check_files()

    # --- searching ---------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int | None = 20,
        sort: str = "relevance",
        with_highlights: bool = True,
        suggest: bool = True,
    ) -> SearchResults:
        """Papers matching a query in the query language, ranked (``paperdesk.search``)."""
        return self.index.search(
            query, limit=limit, sort=sort, with_highlights=with_highlights, suggest=suggest
        )

    def search_ids(
        self, query: str, *, sort: str = "relevance", cancelled: Callable[[], bool] | None = None
    ) -> SearchResults:
        """Every match's ID in order, without loading the papers; ``cancelled``
        stops it early (``SearchCancelled``) when it says yes."""
        return self.index.search_ids(query, sort=sort, cancelled=cancelled)

    def similar(self, paper: Paper, limit: int = 10) -> list[Hit]:
        return self.index.similar(paper, limit=limit)

    # --- selections ------------------------------------------------------------

    def select(self, query: str | None = None) -> tuple[list[Paper], str]:
        """The starred papers, or every paper matching a query, with a title for them."""
        if query is None:
            return self.library.papers(Filter(starred=True)), "Starred papers"
        results = self.index.search(query, limit=None, with_highlights=False, suggest=False)
        return [hit.paper for hit in results.hits], f"Papers matching: {query}"

    # --- the user's state -------------------------------------------------------

    def import_sample(self) -> FileReport:
        """Import the small sample dump that ships with paperdesk."""
        from importlib.resources import as_file, files

        with as_file(files("paperdesk.data") / SAMPLE_NAME) as path:
            return self.import_file(Path(path), year=SAMPLE_YEAR)

    def resolve(self, ids: Sequence[str]) -> list[str]:
        return [self.library.resolve_id(pid) for pid in ids]

    def resolve_id(self, id_or_prefix: str) -> str:
        """The full ID of the one paper whose ID is or starts with this (UnknownPaper)."""
        return self.library.resolve_id(id_or_prefix)

    def ids_with_titles(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(ID, title) of the first papers whose ID starts with ``prefix`` (completion)."""
        return self.library.ids_with_titles(prefix, limit)

    def set_starred(self, ids: Sequence[str], starred: bool = True) -> list[str]:
        changed = self.library.set_starred(ids, starred)
        self._after_state_change(changed)
        return changed

    def set_read(self, ids: Sequence[str], read: bool = True) -> list[str]:
        changed = self.library.set_read(ids, read)
        self._after_state_change(changed)
        return changed

    def set_dismissed(
        self, ids: Sequence[str], dismissed: bool = True
    ) -> tuple[list[str], list[str]]:
        """ "Not for me" (which also marks read), or taken back: the IDs whose
        dismissal changed and those it marked read."""
        changed, read = self.library.set_dismissed(ids, dismissed)
        self._after_state_change([*changed, *read])
        return changed, read

    def note(self, paper_id: str) -> str:
        """A paper's note ("" when none)."""
        return self.library.note_of(paper_id)

    def set_note(self, paper_id: str, text: str) -> bool:
        """Write a paper's note ("" clears it); True if it changed."""
        changed = self.library.set_note(paper_id, text)
        if changed:
            self._after_state_change([paper_id])
        return changed

    def add_tags(self, paper_id: str, tags: Sequence[str]) -> tuple[str, ...]:
        result = self.library.add_tags(paper_id, tags)
        self._after_state_change([paper_id])
        return result

    def tag_many(self, ids: Sequence[str], tags: Sequence[str]) -> list[str]:
        """The same tags on many papers, in one transaction (``import --tag``)."""
        changed = self.library.tag_many(ids, tags)
        self._after_state_change(changed)
        return changed

    def change_tags_many(
        self, ids: Sequence[str], tags: Sequence[str], *, add: bool
    ) -> dict[str, list[str]]:
        """Tags added to (or taken off) many papers in one transaction: for each
        tag, the papers it changed."""
        per_tag = self.library.change_tags_many(ids, tags, add=add)
        self._after_state_change(list({pid for pids in per_tag.values() for pid in pids}))
        return per_tag

    def untag_many(self, ids: Sequence[str], tags: Sequence[str]) -> list[str]:
        """Take tags off many papers, in one transaction; the IDs that lost one."""
        changed = self.library.untag_many(ids, tags)
        self._after_state_change(changed)
        return changed

    def remove_tags(self, paper_id: str, tags: Sequence[str]) -> tuple[str, ...]:
        result = self.library.remove_tags(paper_id, tags)
        self._after_state_change([paper_id])
        return result

    # --- decisions as data ---------------------------------------------------------

    def export_state(self) -> dict:
        """Every decision (reads, stars, tags, notes, saved searches) as a state file's JSON."""
        return state.document(
            self.library.states(), saved=self.library.saved_searches(removed=True)
        )

    def import_state(self, path: Path) -> StateImport:
        """Merge a state file into the library: the later decision wins, nothing is dropped."""
        try:
            text = path.read_bytes().decode("utf-8-sig")
            if path.name.endswith(".jsonl") or _looks_like_journal(text):
                # A decision journal (decisions.jsonl, from this machine or another).
                incoming, _skipped = state.replay(text.splitlines())
                saved = state.replay_saved(text.splitlines())
            else:
                data = json.loads(text)
                incoming = state.from_document(data)
                saved = state.saved_from_document(data)
        except OSError as error:
            raise LibraryError(f"cannot read {path}: {error.strerror or error}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LibraryError(f"{path} is not a JSON state file: {error}") from None
        except state.StateFileError as error:
            raise LibraryError(f"{path}: {error}") from None
        result = self.library.import_state(incoming)
        result.saved = self.library.import_saved(saved)
        self._after_state_change(result.changed_ids)
        return result

    def import_states(self, incoming: dict[str, state.PaperState]) -> StateImport:
        """Merge decisions given as data (another machine's, through ``sync``)."""
        result = self.library.import_state(incoming)
        self._after_state_change(result.changed_ids)
        return result

    def sync(self, folder: Path):
        """Send this machine's decisions to a shared folder and merge the other
        machines' (``paperdesk.sync``); a ``SyncReport``."""
        from paperdesk import sync as syncing

        report = syncing.sync(self, folder)
        return report

    # --- saved searches and listing days ------------------------------------------

    def saved_searches(self) -> dict[str, str]:
        """The saved searches, name to query, in name order."""
        return {name: s.query for name, s in self.library.saved_searches().items()}

    def save_search(self, name: str, query: str) -> bool:
        """Save a search by name (a query that cannot be read is refused); True if
        it changed."""
        from paperdesk.query import QueryError, parse

        try:
            parse(query)
        except QueryError as error:
            raise BadInput(f"cannot read the query {query!r}: {error}") from None
        return self.library.save_search(name, query)

    def remove_search(self, name: str) -> bool:
        return self.library.remove_search(name)

    def saved_query(self, name: str) -> str:
        """A saved search's query; UnknownPaper-like BadInput naming the saved ones."""
        found = self.saved_searches()
        cleaned = " ".join(name.split())
        if cleaned not in found:
            known = ", ".join(found) or "none yet; `paperdesk saved add NAME QUERY`"
            raise BadInput(f"no saved search {name!r} (saved: {known})")
        return found[cleaned]

    def search_counts(self, query: str) -> tuple[int, int]:
        """(matches, unread matches) of a query: a saved search's counts."""
        total = self.index.search(query, limit=0, with_highlights=False, suggest=False).total
        unread = self.index.search(
            f"({query}) is:unread", limit=0, with_highlights=False, suggest=False
        ).total
        return total, unread

    def days(self) -> list[tuple[str, str, int, int]]:
        """The listing days, newest first, then undated files: (day, file, papers, unread)."""
        return self.library.days()

    def day_ids(self, day: str, file: str = "") -> list[str]:
        """One listing day's papers (or an undated file's) in their page order."""
        return self.library.day_ids(day, file)

    def _after_state_change(self, changed: Sequence[str]) -> None:
        # The library is already safe; the index only follows it. Keep it in step
        # when it exists, and never let an index problem undo the user's action.
        if self.library.journal_problem:
            self.notices.append(f"decision journal not written ({self.library.journal_problem})")
        if not self.auto_sync_index:
            return
        if len(changed) > DECISION_INDEX_AT_ONCE:
            return
        if changed and (self._index is not None or self.index_path.exists()):
            from paperdesk.search.index import SEARCH_LOCK_WAIT_S, IndexBusy, IndexDeferred

            try:
                # A decision returns once it is saved: it may index itself and a
                # few others, never wait for another process's work or a rebuild.
                self.index.sync(
                    wait=SEARCH_LOCK_WAIT_S,
                    at_most=len(changed) + DECISION_INDEX_SLACK,
                )
            except IndexDeferred:
                pass  # the next search catches up (it says so if it takes long)
            except IndexBusy:
                self.notices.append(
                    "search index not updated yet: another paperdesk is busy with it "
                    "(it catches up on the next search)"
                )
            except Exception as error:  # noqa: BLE001 - the index is derived data
                self.notices.append(f"search index not updated ({error}); it will catch up")


__all__ = ["MAX_STDIN_BYTES", "Desk", "LibraryError"]
