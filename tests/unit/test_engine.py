"""The search engine (paperdesk.search) answers exactly what Whoosh's own search
answers: the same matches, the same scores, the same order. Whoosh's
``searcher.search`` is the oracle here and nowhere else.

The library is built in several imports with state changes in between, so the
index has several segments and deleted documents: the cases where offsets,
deletions and statistics can go wrong.
"""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh.support.levenshtein import damerau_levenshtein

import paperdesk.search.postings as pp
from paperdesk import query as q
from paperdesk.desk import Desk
from paperdesk.model import Entry
from paperdesk.search import matching, whoosh_fixes
from paperdesk.search.collect import by_column, collect, top
from paperdesk.search.compiler import compile_query
from paperdesk.search.postings import Postings
from paperdesk.search.schema import FILTER_FIELDS, make_schema
from paperdesk.search.scoring import term_scores
from paperdesk.search.vocabulary import near_words, within_one

WORDS = (
    "grokking lottery ticket sparse model models network neural gradient descent agent "
    "reward policy vision protein graph kernel memory planning"
).split()
ORGS = ("Tencent", "DeepMind", None, None)


def _entries(rng: random.Random, n: int, start: int) -> list[Entry]:
    out = []
    for number in range(start, start + n):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
        abstract = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        year = rng.choice((2023, 2024, 2025))
        out.append(
            Entry(
                f"{title.capitalize()} {number}",
                abstract.capitalize() + ".",
                authors=rng.randint(1, 9),
                organization=rng.choice(ORGS),
                published=date(year, rng.randint(1, 12), rng.randint(1, 28)),
                published_raw=f"{year}",
                upvotes=rng.choice((None, 1, 5, 12, 40)),
            )
        )
    return out


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    rng = random.Random(11)
    with Desk(tmp_path_factory.mktemp("postings") / "data") as desk:
        for batch in range(3):
            desk.library.import_entries(_entries(rng, 60, batch * 60), f"batch{batch}.txt")
            desk.search("model")  # sync: one segment per batch
            ids = [p.id for p in desk.library.iter_all()]
            desk.set_starred(rng.sample(ids, 15))
            desk.set_read(rng.sample(ids, 30))
            desk.add_tags(rng.choice(ids), ["rl-theory"])
        yield desk


@pytest.fixture(scope="module")
def searcher(desk):
    searcher = desk.index.searcher()
    assert len(searcher.leaf_searchers()) > 1, "the test wants several segments"
    assert searcher.reader().has_deletions(), "the test wants deleted documents"
    return searcher


QUERIES = [
    "model",
    "models",
    "grokking lottery",
    "sparse OR kernel",
    "model -neural",
    "NOT gradient",
    "NOT upvotes:>=5 is:unread",
    "-is:unread",
    "(NOT model) OR grokking",
    "network (NOT model OR ticket)",
    "mo* n*",
    "a*",
    '"gradient descent"',
    '"model network" OR grokking',
    "title:agent",
    "abstract:protein memory",
    "org:tencent",
    "mod*",
    "grokkin~",
    "neural is:starred",
    "is:unread",
    "is:read -model",
    "tag:rl-theory",
    "policy published:2024",
    "published:2025-03",
    "upvotes:>=12 network",
    "authors:<=3",
    "published:[2023-01-01 TO 2024-06-30] vision",
    "(grokking OR ticket) (model OR network) -sparse",
    "(model network) OR grokking",  # an AND's words count only where it matches
    "(model -network) OR (ticket OR kernel*)",
    "upvotes:>=5 OR grokking -ticket",  # Whoosh's AND NOT skip_to ran past its end
    "model is:unread",
    "the",
    "nothingmatchesthis",
    "id:a",  # an ID prefix: a constant score, as Whoosh's Prefix
    "id:3 OR grokking",
    "model -id:b",
]


def sort_scores(values) -> list[float]:
    """A sorted search's 'scores' as Whoosh's sorting collector gives them: the
    column's values, 0.0 for a paper without one."""
    return [value or 0.0 for value in values.tolist()]


def _compiled(searcher, text):
    return compile_query(q.parse(text), searcher.reader())


def split_filters(searcher, wquery):
    """Whoosh's way to the same ranking: the top-level filter terms given as its
    ``filter`` (a set of documents, from Whoosh's own matching), the rest scored."""
    if not isinstance(wquery, wq.And):
        return wquery, None
    ranked, allowed = [], None
    for sub in wquery.subqueries:
        if isinstance(sub, wq.Term) and sub.fieldname in FILTER_FIELDS:
            docs = set(searcher.docs_for_query(sub))
            allowed = docs if allowed is None else allowed & docs
        else:
            ranked.append(sub)
    if allowed is None:
        return wquery, None
    if not ranked:
        return wq.Every(), allowed
    return (ranked[0] if len(ranked) == 1 else wq.And(ranked)), allowed


def _as_shipped(wquery):
    """Whoosh as it ships, for the reference answer: paperdesk's patches are
    undone, all but the AND NOT fix when the query has an AND NOT, because
    that patch corrects the very answer compared ("is:read -model" listed a
    paper with "model"). The others change speed or writing, not answers."""
    has_not = any(isinstance(node, wq.AndNot | wq.Not) for node in _walk(wquery))
    return whoosh_fixes.unpatched(*(["and_not_checks_its_first_match"] if has_not else []))


def _walk(wquery):
    yield wquery
    for child in wquery.children():
        yield from _walk(child)


def _whoosh_docs(searcher, wquery) -> set[int]:
    with _as_shipped(wquery):
        return set(searcher.docs_for_query(wquery))


def _whoosh_ranking(searcher, wquery, limit):
    """Whoosh's ranking of every match, cut to ``limit``.

    Not ``search(limit=N)``: Whoosh's top-N collector loses matches of a phrase
    OR-ed with a word ('"model network" OR grokking' misses phrase matches that
    rank 7th of all), even with ``optimize=False``.
    """
    scored, allowed = split_filters(searcher, wquery)
    with _as_shipped(wquery):
        results = searcher.search(scored, limit=None, filter=allowed)
    return [(score, docnum) for score, docnum in results.top_n][:limit]


def _same_ranking(ours, theirs, everything=None):
    """Same scores in the same order; documents may swap only within a tie (sums
    of the same floats in another order can differ in the last bit).

    ``everything`` is Whoosh's whole ranking when ``theirs`` is cut: a tie at
    the cut may keep either paper (Whoosh's own order of ties changes with
    how its matchers walk the postings)."""
    assert len(ours) == len(theirs)
    pool = theirs if everything is None else everything
    for (a, doc_a), (b, doc_b) in zip(ours, theirs, strict=True):
        assert a == pytest.approx(b, rel=1e-12)
        if doc_a != doc_b:
            tied = [d for s, d in pool if s == pytest.approx(a, rel=1e-12)]
            assert doc_a in tied or len(tied) >= 2, (doc_a, doc_b)


def _ours(postings: Postings, wquery, limit: int | None):
    """(total, [(score, document)] best first): the engine's one ranking path."""
    found = collect(postings, wquery, limit, None)
    return found.total, list(zip(found.values.tolist(), found.docs.tolist(), strict=True))


def _matches(postings: Postings, wquery) -> set[int]:
    return set(np.flatnonzero(matching.mask(postings, wquery)).tolist())


@pytest.mark.parametrize("text", QUERIES)
def test_matches_and_ranking_are_whooshs_own(searcher, text):
    postings = Postings(searcher)
    wquery = _compiled(searcher, text)
    expected = _whoosh_docs(searcher, wquery)
    assert _matches(postings, wquery) == expected
    total, ours = _ours(postings, wquery, 20)
    assert total == len(expected)
    if not expected:
        return
    everything = _whoosh_ranking(searcher, wquery, None)
    _same_ranking(ours, everything[:20], everything)
    total, everything = _ours(Postings(searcher), wquery, None)  # (a fresh cache)
    assert len(everything) == total == len(expected)
    assert everything[:20] == ours


def test_a_form_the_compiler_never_makes_is_refused_not_guessed(searcher):
    """The engine handles exactly the compiler's output: a boosted group (which
    Whoosh scores by its own rules) is a TypeError naming the query."""
    postings = Postings(searcher)
    boosted = wq.Or([wq.Term("title", "model"), wq.Term("abstract", "model")], boost=2.0)
    with pytest.raises(TypeError, match="cannot score"):
        collect(postings, boosted, 20, None)
    with pytest.raises(TypeError, match="cannot match"):
        matching.mask(postings, wq.Wildcard("title", "m*l"))


def test_dense_scores_are_whooshs_to_the_last_bit(searcher):
    """Each term's score at each posting is the float Whoosh's scorer gives there."""
    postings = Postings(searcher)
    for field_name, word in (("title", "model"), ("abstract", "grokk"), ("org", "tencent")):
        term = wq.Term(field_name, word, boost=1.5)
        mine = term_scores(postings, term, postings.postings(field_name, word))
        theirs = {}
        for leaf, offset in postings.leaves:
            matcher = term.matcher(leaf, leaf.context(needs_current=True))
            while matcher.is_active():
                theirs[offset + matcher.id()] = matcher.score()
                matcher.next()
        ids = postings.postings(field_name, word).ids
        assert len(ids) == len(theirs) > 0
        assert [theirs[doc] for doc in ids] == mine.tolist()


@given(
    scores=st.dictionaries(st.integers(0, 500), st.sampled_from((0.5, 1.0, 1.25, 2.0, 3.0))),
    limit=st.one_of(st.none(), st.integers(0, 30)),
)
def test_the_top_is_a_full_sort_cut_to_the_limit(scores, limit):
    """Ties (many here) go to the lower document, also across the cut-off score."""
    everything = sorted(((s, d) for d, s in scores.items()), key=lambda p: (-p[0], p[1]))
    dense, matches = np.zeros(501), np.zeros(501, dtype=bool)
    for doc, score in scores.items():
        dense[doc], matches[doc] = score, True
    dense[~matches] = 9.0  # outside the matches: never shown
    values, docs = top(dense, matches, limit)
    found = list(zip(values.tolist(), docs.tolist(), strict=True))
    assert found == (everything if limit is None else everything[:limit])


OPERANDS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(lambda w: f"title:{w}"),
    st.sampled_from(WORDS).map(lambda w: w[:3] + "*"),
    st.sampled_from(("is:starred", "is:unread", "published:2024", "upvotes:>=5")),
    st.sampled_from(("authors:<=3", "upvotes:[2 TO 9]", "published:>=2024-06-01")),
    st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS)).map(lambda p: f'"{p[0]} {p[1]}"'),
)
QUERY_TEXT = st.lists(
    st.tuples(st.sampled_from(("", "", "OR ", "-", "NOT ")), OPERANDS), min_size=1, max_size=4
).map(lambda parts: " ".join(op + word for op, word in parts).removeprefix("OR "))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=QUERY_TEXT)
def test_generated_queries_match_whoosh(searcher, text):
    postings = Postings(searcher)
    try:
        wquery = _compiled(searcher, text)
    except q.QueryError:
        return
    matches = _matches(postings, wquery)
    assert matches == _whoosh_docs(searcher, wquery)
    total, ours = _ours(postings, wquery, 10)
    assert total == len(matches)
    if matches:
        everything = _whoosh_ranking(searcher, wquery, None)
        _same_ranking(ours, everything[:10], everything)


def test_a_small_cache_evicts_and_still_answers(searcher):
    postings = Postings(searcher, cache_postings=50)
    wquery = _compiled(searcher, "model network gradient")
    first = _ours(postings, wquery, 20)
    assert postings._cached <= max(50, max(len(p.ids) for p in postings._cache.values()))
    assert len(postings._cache) < 6  # title and abstract of three words: some went
    again = _ours(postings, wquery, 20)
    assert again == first == _ours(Postings(searcher), wquery, 20)


def test_search_results_use_the_same_ranking(desk, searcher):
    """Through the public API: total, order and scores as Whoosh gives them."""
    results = desk.search("model network", limit=5)
    wquery = _compiled(searcher, "model network")
    theirs = _whoosh_ranking(searcher, wquery, 5)
    column = searcher.reader().column_reader("id")
    assert [hit.paper.id for hit in results.hits] == [column[d] for _, d in theirs]
    assert results.total == len(set(searcher.docs_for_query(wquery)))
    ids = desk.search_ids("model network").ids
    assert ids[:5] == [hit.paper.id for hit in results.hits]


@pytest.mark.parametrize("sort", ["relevance", "published", "upvotes"])
@pytest.mark.parametrize(
    "text",
    [
        "model network",
        "model OR network",
        "model -network",
        '"neural network"',
        "is:unread",
        "NOT model",
        "model upvotes:>=3",
        "upvotes:>=3",
        "zzzz",
    ],
)
def test_every_id_of_a_search_in_the_order_of_its_hits(desk, monkeypatch, text, sort):
    """The app's list of a search (IDs from the ranking arrays, the column read
    whole) is every hit of the same search, in the same order, by relevance
    and by a column."""
    monkeypatch.setattr(pp, "KEYS_AT_ONCE", 1)
    hits = desk.search(text, limit=None, sort=sort).hits
    found = desk.search_ids(text, sort=sort)
    assert found.ids == [hit.paper.id for hit in hits], text
    assert found.total == len(hits)


@pytest.mark.parametrize("word", ["grokkin", "modle", "networks", "sparsr", "x", "protien"])
@pytest.mark.parametrize("distance", [1, 2])
def test_near_words_are_whooshs_terms_within(searcher, word, distance):
    reader = searcher.reader()
    expected = {str(t) for t in reader.terms_within("spell", word, distance, prefix=1)}
    assert set(near_words(reader, "spell", word, distance)) == expected


@given(st.text("abc", max_size=6), st.text("abc", max_size=6))
def test_within_one_edit_is_damerau_levenshtein(a, b):
    assert within_one(a, b) == (damerau_levenshtein(a, b, limit=1) <= 1)


def test_posting_skips_land_where_whoosh_walks(tmp_path):
    """The bisecting skip_to (whoosh_fixes) stops at the same postings as a walk,
    within a block and across blocks (a posting list of several blocks)."""
    from whoosh import index
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.fields import TEXT, Schema

    assert getattr(W3LeafMatcher.skip_to, "_paperdesk", False)  # the fix is applied
    ix = index.create_in(str(tmp_path), Schema(text=TEXT))
    writer = ix.writer()
    for number in range(1200):
        writer.add_document(text="common" if number % 3 else "other")
    writer.commit()
    with ix.reader() as reader:
        everything = list(reader.postings("text", "common").all_ids())
        assert len(everything) > 3 * 128  # several blocks
        for target in [*range(0, 1205, 7), 127, 128, 129, 1199]:
            matcher = reader.postings("text", "common")
            assert isinstance(matcher, W3LeafMatcher)
            matcher.skip_to(target)
            expected = [doc for doc in everything if doc >= target]
            if expected:
                assert matcher.is_active() and matcher.id() == expected[0]
                matcher.next()
                following = expected[1] if len(expected) > 1 else None
                assert (matcher.id() if matcher.is_active() else None) == following
            else:
                assert not matcher.is_active()


def test_many_keys_come_from_the_whole_column(searcher, monkeypatch, tmp_path):
    postings = Postings(searcher)
    docs = list(range(postings.doc_count))[::-1]
    one_by_one = [postings.key_of(doc) for doc in docs]
    monkeypatch.setattr(pp, "KEYS_AT_ONCE", 1)
    assert postings.keys_of(docs) == one_by_one
    assert isinstance(postings._keys, np.ndarray)  # the fast path was taken
    # IDs of different lengths (not paperdesk's, but possible in Whoosh): one by one.
    from whoosh import index as whoosh_index

    (tmp_path / "odd").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "odd"), make_schema())
    with ix.writer() as writer:
        for key in ("a", "bbb", "cc"):
            writer.add_document(id=key, title=key)
    with ix.searcher() as odd:
        other = Postings(odd)
        assert other.keys_of([2, 0, 1]) == ["cc", "a", "bbb"]
        assert other._keys is False


@pytest.mark.parametrize(
    "field_name, words",
    [
        ("abstract", ["gradient", "descent"]),
        ("abstract", ["model", "network"]),
        ("abstract", ["model", "model"]),
        ("title", ["neural", "network", "model"]),
        ("abstract", ["grokk", "nothingmatchesthis"]),
    ],
)
def test_phrases_are_where_whooshs_decoded_positions_stand_together(searcher, field_name, words):
    """The check of every candidate's positions at once (arrays straight from
    the blocks) finds the documents where Whoosh's own decoded positions put
    the words next to each other, in order."""
    postings = Postings(searcher)
    found = np.flatnonzero(matching.phrase(postings, wq.Phrase(field_name, words))).tolist()
    expected = set()
    for leaf, offset in postings.leaves:
        reader = leaf.reader()
        at = []
        for word in words:
            if (field_name, word) not in reader:
                break
            matcher = reader.postings(field_name, word)
            spots = {}
            while matcher.is_active():
                spots[matcher.id()] = set(matcher.value_as("positions"))
                matcher.next()
            at.append(spots)
        else:
            for doc in set.intersection(*(set(spots) for spots in at)):
                starts = set.intersection(*({s - i for s in at[i][doc]} for i in range(len(at))))
                if starts:
                    expected.add(offset + doc)
    assert set(found) == expected
    if words == ["gradient", "descent"]:
        assert found  # the test has phrases that match


@pytest.mark.parametrize("column", ["published_sort", "upvotes_sort"])
@pytest.mark.parametrize(
    "text", ["model", "grokking lottery", "is:unread", "model -neural", "upvotes:>=5", "the"]
)
def test_sorted_results_are_whooshs_sorting_collectors(searcher, column, text):
    """By date or upvotes: Whoosh's order (value, then the higher document first)
    and its 'score' (the value), from the column read whole."""
    postings = Postings(searcher)
    wquery = _compiled(searcher, text)
    scored, allowed = split_filters(searcher, wquery)
    theirs = searcher.search(scored, limit=None, sortedby=column, reverse=True, filter=allowed)
    expected = [(key or 0.0, doc) for key, doc in theirs.top_n]
    for limit in (None, 7):
        found = collect(postings, wquery, limit, column)
        assert found.total == len(expected)
        ours = list(zip(sort_scores(found.values), found.docs.tolist(), strict=True))
        assert ours == expected[:limit]
    everything = by_column(postings.column(column), matching.mask(postings, wquery), None)
    assert everything[0] == len(expected)


def test_similar_papers_are_whooshs_more_like(desk, searcher):
    """The same papers and scores as Whoosh's more_like, ranked from the postings."""
    column = searcher.reader().column_reader("id")
    for paper in desk.library.papers(limit=12):
        docnum = searcher.document_number(id=paper.id)
        text = f"{paper.title} {paper.abstract}"
        theirs = searcher.more_like(docnum, "abstract", text=text, top=5, numterms=12)
        ours = desk.similar(paper, limit=5)
        _same_ranking(
            [(hit.score, hit.paper.id) for hit in ours],
            [(hit.score, column[hit.docnum]) for hit in theirs],
        )
