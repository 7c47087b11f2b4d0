"""The bulk index build (``paperdesk.search.bulk``) against Whoosh's own writer.

A rebuild writes its segments itself; these tests build the same library both
ways and compare every field's terms, each term's statistics and postings
(documents by paper ID, weights, values with the positions, lengths), the
field lengths per paper, the stored IDs and the sort columns. The library
has what an index meets: terms in more than one block (over 1,024 papers),
accents, possessives, apostrophes, dotted words, a stop word, notes, tags,
author names, categories, links, papers without dates or upvotes, and one
split between two writer processes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from datetime import date
from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.model import Entry

whoosh_index = pytest.importorskip("whoosh.index")

from paperdesk.search import bulk  # noqa: E402
from paperdesk.search.codec import PaperdeskCodec  # noqa: E402
from paperdesk.search.index import META_FILE  # noqa: E402
from paperdesk.search.schema import make_schema, paper_document  # noqa: E402

WORDS = (
    "learning model agent's agents’ naïve café Über résumé v1.2 e.g the of and grokking "
    "diffusion transformers transformer policy policies reward rewards ÅNGSTRÖM x86_64 "
    "don't it's l'apprentissage 3d 2024 α-decay"
).split()


def _library(where: Path, n: int) -> Desk:
    rng = random.Random(7)
    entries = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 40))]
        entries.append(
            Entry(
                f"Paper {i} on {' '.join(words[:5])}",
                " ".join(words) + f" rare{i}",
                authors=rng.choice([None, 1, 3, 12]),
                organization=rng.choice([None, "Fictional Lab", "Ünï Labs"]),
                published=rng.choice([None, date(2024, 1 + i % 12, 1 + i % 28)]),
                upvotes=rng.choice([None, 0, 5, 300]),
                links=(f"https://arxiv.org/abs/2401.{i:05d}",) if i % 3 else (),
                arxiv_id=f"2401.{i:05d}" if i % 3 else None,
                doi=f"10.1234/x{i}" if i % 5 == 0 else None,
                author_names=("Ada Lovelace", f"Grace Hopper{i % 7}") if i % 2 else (),
                categories=("cs.LG", "stat.ML") if i % 4 else (),
                page_date=date(2025, 11, 1 + i % 20),
            )
        )
    desk = Desk(where)
    desk.library.import_entries(entries, "many.txt")
    ids = desk.library.ids(sort="title")
    desk.set_read(ids[: n // 3])
    desk.set_starred(ids[: n // 7], True)
    for pid in ids[:40]:
        desk.add_tags(pid, ["later", "Ünïcode-tag"])
    desk.set_note(ids[1], "a note about grokking and the agent's reward")
    return desk


def _postings(reader, fieldname, text, ids, blocks: bool):
    """A term's postings by paper ID; with ``blocks``, each with its block's
    length bounds too (when both indexes keep the papers in the same order)."""
    matcher = reader.postings(fieldname, text)
    found = []
    while matcher.is_active():
        block = (matcher.block_min_length(), matcher.block_max_length()) if blocks else ()
        found.append((ids[matcher.id()], matcher.weight(), matcher.value(), *block))
        matcher.next()
    return sorted(found)


def _compare(left_dir: Path, right_dir: Path, blocks: bool) -> list[str]:
    """Every difference between two indexes of the same papers, as lines."""
    left = whoosh_index.open_dir(str(left_dir)).reader()
    right = whoosh_index.open_dir(str(right_dir)).reader()
    ids_l = {doc: fields["id"] for doc, fields in left.iter_docs()}
    ids_r = {doc: fields["id"] for doc, fields in right.iter_docs()}
    problems = []
    if sorted(ids_l.values()) != sorted(ids_r.values()):
        problems.append("different papers")
    terms_l, terms_r = set(left.all_terms()), set(right.all_terms())
    if terms_l != terms_r:
        problems.append(f"terms differ: {sorted(terms_l ^ terms_r)[:5]}")
    for fieldname, text in sorted(terms_l & terms_r):
        a, b = left.term_info(fieldname, text), right.term_info(fieldname, text)
        stats_a = (a.doc_frequency(), a.min_length(), a.max_length(), a.max_weight())
        stats_b = (b.doc_frequency(), b.min_length(), b.max_length(), b.max_weight())
        if fieldname == "spell":
            continue  # vocabulary only; two writer processes each keep their first papers
        if stats_a != stats_b or abs(a.weight() - b.weight()) > 1e-3:
            problems.append(f"term info {fieldname}:{text!r}: {stats_a} {stats_b}")
        postings_l = _postings(left, fieldname, text, ids_l, blocks)
        if postings_l != _postings(right, fieldname, text, ids_r, blocks):
            problems.append(f"postings {fieldname}:{text!r}")
    docs_r = {pid: doc for doc, pid in ids_r.items()}
    for name in left.schema.scorable_names():
        if left.field_length(name) != right.field_length(name):
            problems.append(f"field length {name}")
        for doc, pid in ids_l.items():
            # (Whoosh answers None for a zero length in a segment that has the
            # field's length column, 0 in one without it: the same length.)
            length_l = left.doc_field_length(doc, name) or 0
            if length_l != (right.doc_field_length(docs_r[pid], name) or 0):
                problems.append(f"length {name} {pid}")
    for column in ("id", "published_sort", "upvotes_sort"):
        col_l, col_r = left.column_reader(column), right.column_reader(column)
        for doc, pid in ids_l.items():
            if col_l[doc] != col_r[docs_r[pid]]:
                problems.append(f"column {column} {pid}")
    return problems


def _whoosh_build(desk: Desk, where: Path) -> None:
    where.mkdir()
    ix = whoosh_index.create_in(str(where), make_schema())
    writer = ix.writer(codec=PaperdeskCodec())
    seen: set[str] = set()
    for paper in desk.library.iter_all():
        writer.add_document(**paper_document(paper, seen))
    writer.commit()


@pytest.mark.parametrize(("processes", "segments"), [(1, 1), (2, 4)])
def test_bulk_build_is_the_index_whoosh_writes(
    tmp_path: Path, monkeypatch, processes: int, segments: int
):
    """One process and one segment: the same blocks too. Two processes with
    segments of 400 papers: the same postings in other segments."""
    desk = _library(tmp_path / "data", 1_300)
    _whoosh_build(desk, tmp_path / "whoosh")
    monkeypatch.setattr(bulk, "PARALLEL_PAPERS", 500 if processes == 2 else 10**9)
    monkeypatch.setattr(bulk, "SEGMENT_PAPERS", 400 if segments > 1 else 10**9)
    ours = tmp_path / "ours"
    ours.mkdir()
    ix = whoosh_index.create_in(str(ours), make_schema())
    assert bulk.BulkBuilder(ix).build_library(desk.library, desk.count()) == 1_300
    assert len(whoosh_index.open_dir(str(ours)).reader().leaf_readers()) == segments
    assert _compare(tmp_path / "whoosh", ours, blocks=processes == 1) == []
    # the spelling vocabulary is the same set of words
    spell = {t for f, t in whoosh_index.open_dir(str(ours)).reader().all_terms() if f == "spell"}
    plain = whoosh_index.open_dir(str(tmp_path / "whoosh")).reader()
    assert spell == {t for f, t in plain.all_terms() if f == "spell"}
    desk.close()


def test_searches_answer_the_same_from_either_build(tmp_path: Path, monkeypatch):
    """The desk's own rebuild goes through the bulk builder; searches of every
    kind give what they give on Whoosh's build (the same index, searched)."""
    desk = _library(tmp_path / "data", 1_300)
    queries = [
        "grokking",
        '"agent reward"',
        "title:transformer",
        "cafe",
        "naive",
        "author:hopper3",
        "tag:later",
        "is:starred grokking",
        "published:2024-03",
        "upvotes:>=5",
        "gro*",
        "note:grokking",
        "rare17",
        "arxiv:2401.00017",
        "x86_64",
    ]
    desk.rebuild_index()
    ours = {q: desk.search_ids(q).ids for q in queries}
    scored = {q: [round(h.score, 4) for h in desk.search(q, limit=10).hits] for q in queries}
    index_dir = desk.index_path
    desk.close()
    # Whoosh's own build in its place, with the bookkeeping the desk keeps beside it.
    meta = json.loads((index_dir / META_FILE).read_text())
    shutil.rmtree(index_dir)
    desk = Desk(tmp_path / "data")
    _whoosh_build(desk, index_dir)
    (index_dir / META_FILE).write_text(json.dumps(meta))
    assert {q: desk.search_ids(q).ids for q in queries} == ours
    assert {q: [round(h.score, 4) for h in desk.search(q, limit=10).hits] for q in queries} == (
        scored
    )
    assert all(ours[q] for q in queries), [q for q in queries if not ours[q]]
    desk.close()


def test_a_failed_second_writer_is_one_line_and_leaves_the_old_index(tmp_path: Path, monkeypatch):
    from paperdesk.errors import LibraryError

    desk = _library(tmp_path / "data", 600)
    assert desk.search_ids("grokking").ids  # an index to keep
    before = sorted(p.name for p in desk.index_path.iterdir())

    def failing(builder, path, send, counted, parent):
        send.send(("error", "OSError: no space left on device"))
        send.close()
        os._exit(0)

    monkeypatch.setattr(bulk, "PARALLEL_PAPERS", 100)
    monkeypatch.setattr(bulk, "_build_half", failing)
    with pytest.raises(LibraryError, match="second writer process failed .*no space left"):
        desk.rebuild_index()
    assert sorted(p.name for p in desk.index_path.iterdir()) == before
    assert not desk.index_path.with_name("index.new").exists()
    desk.close()
