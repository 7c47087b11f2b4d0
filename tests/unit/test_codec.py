"""paperdesk's posting format reads back exactly what Whoosh 3's format does.

The same documents are written twice, once with each codec, and every term's
postings (document numbers, weights, positions, block statistics) are
compared: long lists of many blocks, lists inlined in their term, weights of
every kind, deletions, merged segments and the parallel writer.
"""

from __future__ import annotations

import random

import pytest
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.matching import FilterMatcher, ListMatcher

from paperdesk.search import schema as pi
from paperdesk.search.codec import (
    BLOCK_LIMIT,
    BlockMatcher,
    PaperdeskCodec,
    positions_of,
    postings_arrays,
)

WORDS = "model models grokking lottery ticket sparse network agent reward".split()


def _documents(rng: random.Random, n: int) -> list[dict]:
    docs = []
    for number in range(n):
        # Some words repeated (weights > 1), some documents far apart (large gaps).
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        abstract = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 300)))
        docs.append(
            {
                "id": f"p{number}",
                "title": title,
                "abstract": abstract,
                "state": "read unread"[: rng.choice((4, 11))],
                "authors": rng.randint(1, 40),
            }
        )
    return docs


def _build(path, codec, docs, *, procs: int = 1, delete_every: int = 0):
    path.mkdir()
    ix = whoosh_index.create_in(str(path), pi.make_schema())
    options = {"procs": procs, "multisegment": True} if procs > 1 else {}
    writer = ix.writer(codec=codec, **options)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    writer = ix.writer(codec=codec)  # a second segment, merged or not
    for doc in docs[:40]:
        writer.add_document(**{**doc, "id": doc["id"] + "b"})
    if delete_every:
        for number in range(0, len(docs), delete_every):
            writer.delete_by_term("id", f"p{number}")
    writer.commit()
    return ix


def _postings(ix) -> dict:
    """Every term's postings and block statistics, per segment."""
    out = {}
    with ix.searcher() as searcher:
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            for field_name, text in reader.all_terms():
                if field_name in ("published", "published_sort"):
                    continue
                matcher = reader.postings(field_name, text)
                while isinstance(matcher, FilterMatcher):
                    matcher = matcher.child
                postings, blocks = [], []
                while matcher.is_active():
                    if hasattr(matcher, "block_max_id") and matcher._i == 0:
                        blocks.append(
                            (
                                matcher.block_max_id(),
                                matcher.block_max_weight(),
                                matcher.block_min_length(),
                                matcher.block_max_length(),
                            )
                        )
                    doc = matcher.id()
                    paper = None if reader.is_deleted(doc) else reader.stored_fields(doc)["id"]
                    postings.append((paper, doc, matcher.weight(), matcher.value()))
                    matcher.next()
                out[(offset, field_name, text)] = (postings, blocks)
    return out


def _by_paper(postings: dict) -> dict:
    out: dict = {}
    for (_offset, field_name, text), (found, _blocks) in postings.items():
        out.setdefault((field_name, text), set()).update(
            (paper, weight, value) for paper, _doc, weight, value in found if paper
        )
    return out


@pytest.mark.parametrize(
    "procs, delete_every, blocklimit",
    [(1, 0, 128), (1, 7, 128), (2, 5, 128), (1, 7, BLOCK_LIMIT)],
)
def test_every_posting_reads_back_as_whoosh_writes_it(tmp_path, procs, delete_every, blocklimit):
    # Blocks of 128 make 700 documents several blocks a list; the default too.
    docs = _documents(random.Random(3), 700 if blocklimit == 128 else 4 * BLOCK_LIMIT)
    theirs = _build(
        tmp_path / "w3", W3Codec(blocklimit), docs, procs=procs, delete_every=delete_every
    )
    ours = _build(
        tmp_path / "pd", PaperdeskCodec(blocklimit), docs, procs=procs, delete_every=delete_every
    )
    expected, got = _postings(theirs), _postings(ours)
    if procs == 1:
        assert got.keys() == expected.keys()
        assert got == expected
    else:  # which writer takes which document (and what merges) varies: by paper
        assert _by_paper(got) == _by_paper(expected)
    # The long lists really are several of our blocks (not inlined, not Whoosh's).
    with ours.searcher() as searcher:
        for leaf, _offset in searcher.leaf_searchers():
            matcher = leaf.reader().postings("abstract", "model")
            while isinstance(matcher, FilterMatcher):
                matcher = matcher.child
            assert isinstance(matcher, BlockMatcher)
    assert max(len(b) for _p, b in got.values()) >= 3
    assert sum(len(p) for p, _b in got.values()) > 10_000


def test_small_lists_are_inlined_in_their_term(tmp_path):
    docs = _documents(random.Random(4), 30)
    ix = _build(tmp_path / "pd", PaperdeskCodec(inlinelimit=16), docs)
    theirs = _build(tmp_path / "w3", W3Codec(inlinelimit=16), docs)
    assert _postings(ix) == _postings(theirs)


def test_skip_to_lands_where_whoosh_3_does(tmp_path):
    docs = _documents(random.Random(6), 3000)
    ours = _build(tmp_path / "pd", PaperdeskCodec(blocklimit=256), docs)
    theirs = _build(tmp_path / "w3", W3Codec(blocklimit=256), docs)
    rng = random.Random(7)
    with ours.searcher() as a, theirs.searcher() as b:
        for word in ("model", "agent", "reward"):
            mine = a.reader().postings("abstract", word)
            whoosh = b.reader().postings("abstract", word)
            target = 0
            while whoosh.is_active():
                assert mine.is_active()
                mine.skip_to(target)
                whoosh.skip_to(target)
                if not whoosh.is_active():
                    break
                assert (mine.id(), mine.weight(), mine.value()) == (
                    whoosh.id(),
                    whoosh.weight(),
                    whoosh.value(),
                )
                # Steps within a block, across one and across several.
                target = mine.id() + rng.choice((1, 2, 30, 300, 900))
            assert not mine.is_active()


def test_searches_agree_with_whoosh_3(tmp_path):
    docs = _documents(random.Random(5), 400)
    ours = _build(tmp_path / "pd", PaperdeskCodec(blocklimit=64), docs, delete_every=9)
    theirs = _build(tmp_path / "w3", W3Codec(blocklimit=64), docs, delete_every=9)
    from whoosh.qparser import QueryParser

    for text in ("model", '"lottery ticket"', "grokking AND NOT sparse", "agent OR reward"):
        query = QueryParser("abstract", pi.make_schema()).parse(text)
        with ours.searcher() as a, theirs.searcher() as b:
            hits_a = [(h["id"], round(h.score, 5)) for h in a.search(query, limit=None)]
            hits_b = [(h["id"], round(h.score, 5)) for h in b.search(query, limit=None)]
        assert hits_a == hits_b and hits_a, text


def test_whole_lists_decode_as_the_matcher_steps_through_them(tmp_path):
    """postings_arrays (numpy, a block at a time) gives every posting the matcher
    gives, with every weight kind (ones, constant, small whole numbers, floats)."""
    docs = _documents(random.Random(8), 1500)
    ix = _build(tmp_path / "pd", PaperdeskCodec(blocklimit=128), docs, delete_every=11)
    checked = 0
    with ix.searcher() as searcher:
        for leaf, _offset in searcher.leaf_searchers():
            reader = leaf.reader()
            for field_name, text in reader.all_terms():
                stepped = reader.postings(field_name, text)
                while isinstance(stepped, FilterMatcher):
                    stepped = stepped.child
                whole = reader.postings(field_name, text)
                while isinstance(whole, FilterMatcher):
                    whole = whole.child
                found = postings_arrays(whole)
                if found is None:
                    assert not isinstance(whole, BlockMatcher)
                    continue
                expected = []
                while stepped.is_active():
                    expected.append((stepped.id(), stepped.weight()))
                    stepped.next()
                # (The filter may have moved both past deleted documents.)
                got = [
                    (doc, weight)
                    for doc, weight in zip(found[0].tolist(), found[1].tolist(), strict=True)
                    if not reader.is_deleted(doc)
                ]
                assert got == [(doc, w) for doc, w in expected if not reader.is_deleted(doc)]
                checked += len(expected) > 128
    assert checked >= 3  # lists of several blocks were among them


def test_positions_of_a_whole_list_are_each_postings_positions(tmp_path):
    """positions_of (a block's positions as one array) gives, for each posting,
    the positions Whoosh's matcher decodes for it, across many blocks."""
    docs = _documents(random.Random(9), 1200)
    # Lists of many blocks, and short ones inlined in their terms.
    codec = PaperdeskCodec(blocklimit=128, inlinelimit=16)
    ix = _build(tmp_path / "pd", codec, docs, delete_every=13)
    long_lists = inlined = 0
    with ix.searcher() as searcher:
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            for field_name in ("title", "abstract"):
                for text in reader.lexicon(field_name):
                    stepped = reader._terms.matcher(
                        field_name, text, reader.schema[field_name].format
                    )
                    found = positions_of(
                        reader._terms.matcher(field_name, text, reader.schema[field_name].format),
                        offset,
                    )
                    assert found is not None
                    expected = []
                    while stepped.is_active():
                        doc = stepped.id() + offset
                        expected += [(doc, p) for p in stepped.value_as("positions")]
                        stepped.next()
                    assert list(zip(found[0].tolist(), found[1].tolist(), strict=True)) == expected
                    long_lists += len(expected) > 1000
                    inlined += isinstance(stepped, ListMatcher)
    assert long_lists >= 3 and inlined >= 3
