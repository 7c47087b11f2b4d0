"""Decisions as data: export, merge (the later decision wins), pending state, migration."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperdesk.library import Library
from paperdesk.library import decisions as store
from paperdesk.library import state as st_
from paperdesk.library.state import Flag, PaperState, StateFileError, document, from_document, merge
from paperdesk.model import Entry, id_of_normalised, normalise_title


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Decision times the test controls: each call is one second later."""
    ticks = itertools.count(1)

    def now() -> str:
        return f"2026-01-01T00:00:{next(ticks):02d}.000Z"

    monkeypatch.setattr(store, "now_stamp", now)
    return ticks


def entries(*titles: str) -> list[Entry]:
    return [Entry(title=t, abstract=f"About {t}.") for t in titles]


def pid(title: str) -> str:
    return id_of_normalised(normalise_title(title))


def make(tmp_path: Path, name: str, *titles: str) -> Library:
    lib = Library(tmp_path / name / "library.sqlite3")
    if titles:
        lib.import_entries(entries(*titles), "dump.txt")
    return lib


def visible(lib: Library) -> dict[str, tuple[bool, bool, tuple[str, ...]]]:
    return {p.title: (p.read, p.starred, p.tags) for p in lib.papers(sort="title")}


def roundtrip(source: Library, target: Library):
    # Through real JSON text, as a file would carry it.
    text = json.dumps(document(source.states()))
    return target.import_state(from_document(json.loads(text)))


def test_export_lists_every_decision_with_its_time(tmp_path, clock):
    lib = make(tmp_path, "a", "Alpha", "Beta", "Gamma")
    lib.set_starred([pid("Alpha")])  # t1
    lib.set_read([pid("Beta")])  # t2
    lib.add_tags(pid("Beta"), ["RL Theory", "x"])  # t3
    lib.remove_tags(pid("Beta"), ["x"])  # t4
    doc = document(lib.states(), exported_at="now")
    assert doc["format"] == "paperdesk-state" and doc["version"] == 1
    assert doc["papers"] == {
        pid("Alpha"): {
            "title": "Alpha",
            "read": False,
            "read_at": None,
            "starred": True,
            "starred_at": "2026-01-01T00:00:01.000Z",
            "tags": {},
        },
        pid("Beta"): {
            "title": "Beta",
            "read": True,
            "read_at": "2026-01-01T00:00:02.000Z",
            "starred": False,
            "starred_at": None,
            "tags": {"rl-theory": "2026-01-01T00:00:03.000Z"},
            "removed_tags": {"x": "2026-01-01T00:00:04.000Z"},
        },
    }  # Gamma has no decision and is not listed


def test_moving_to_a_new_machine_keeps_everything(tmp_path, clock):
    old = make(tmp_path, "old", "Alpha", "Beta", "Gamma")
    old.set_starred([pid("Alpha"), pid("Gamma")])
    old.add_tags(pid("Beta"), ["later"])
    old.set_read([pid("Beta")])
    new = make(tmp_path, "new", "Alpha")  # only one of the papers so far
    result = roundtrip(old, new)
    assert (result.papers, result.updated, result.unchanged, result.pending) == (3, 1, 0, 2)
    assert visible(new) == {"Alpha": (False, True, ())}
    # The rest arrive with a later import, and their decisions with them.
    stats = new.import_entries(entries("Beta", "Gamma", "Delta"), "more.txt")
    assert stats.state_applied == 2
    assert visible(new) == {k: v for k, v in visible(old).items()} | {"Delta": (False, False, ())}
    assert document(new.states(), "t")["papers"] == document(old.states(), "t")["papers"]
    # Nothing is left waiting once applied.
    assert new.conn.execute("SELECT count(*) FROM pending_state").fetchone()[0] == 0


def test_importing_a_file_twice_or_its_own_export_changes_nothing(tmp_path, clock):
    lib = make(tmp_path, "a", "Alpha", "Beta")
    lib.set_starred([pid("Alpha")])
    lib.add_tags(pid("Beta"), ["t"])
    seq = lib.max_seq()
    result = roundtrip(lib, lib)
    assert (result.updated, result.unchanged) == (0, 2)
    assert lib.max_seq() == seq


def test_the_later_decision_wins_in_both_directions(tmp_path, clock):
    a = make(tmp_path, "a", "Alpha", "Beta")
    b = make(tmp_path, "b", "Alpha", "Beta")
    a.set_starred([pid("Alpha")])  # t1: starred on A
    b.set_starred([pid("Alpha")])  # t2
    b.set_starred([pid("Alpha")], False)  # t3: unstarred on B, later
    b.set_read([pid("Beta")])  # t4: read on B
    a.set_read([pid("Beta")])  # t5
    a.set_read([pid("Beta")], False)  # t6: unread on A, later
    roundtrip(a, b)
    roundtrip(b, a)
    for lib in (a, b):
        assert visible(lib) == {"Alpha": (False, False, ()), "Beta": (False, False, ())}


def test_tags_merge_one_by_one(tmp_path, clock):
    a = make(tmp_path, "a", "Alpha")
    b = make(tmp_path, "b", "Alpha")
    p = pid("Alpha")
    a.add_tags(p, ["kept", "gone"])  # t1
    b.add_tags(p, ["other"])  # t2
    b.add_tags(p, ["gone"])  # t3
    b.remove_tags(p, ["gone"])  # t4: removed later on B
    a.add_tags(p, ["back"])  # t5
    b.add_tags(p, ["back"])  # t6
    b.remove_tags(p, ["back"])  # t7
    a.remove_tags(p, ["back"])  # t8
    a.add_tags(p, ["back"])  # t9: added again on A, latest
    roundtrip(a, b)
    roundtrip(b, a)
    assert a.get(p).tags == b.get(p).tags == ("back", "kept", "other")


def test_a_tie_keeps_the_tag():
    at = "2026-01-01T00:00:00Z"
    merged = merge(PaperState(tags={"t": at}), PaperState(removed={"t": at}))
    assert merged.tags == {"t": at} and merged.removed == {}
    merged = merge(PaperState(removed={"t": at}), PaperState(tags={"t": at}))
    assert merged.tags == {"t": at}


def test_decisions_without_times_fill_gaps_but_never_override(tmp_path, clock):
    lib = make(tmp_path, "a", "Alpha", "Beta")
    lib.set_starred([pid("Alpha")], True)
    lib.set_starred([pid("Alpha")], False)  # a timed decision: not starred
    handwritten = {
        "format": "paperdesk-state",
        "version": 1,
        "papers": {
            pid("Alpha"): {"starred": True},
            pid("Beta"): {"starred": True, "read": True, "tags": ["Reading Group"]},
        },
    }
    lib.import_state(from_document(handwritten))
    assert visible(lib) == {"Alpha": (False, False, ()), "Beta": (True, True, ("reading-group",))}


FILE = {"format": "paperdesk-state", "version": 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a paperdesk state file"),
        ({"format": "other"}, "not a paperdesk state file"),
        ({"format": "paperdesk-state", "version": 9, "papers": {}}, "version 9 is not supported"),
        ({"format": "paperdesk-state", "version": 1, "papers": []}, '"papers" must be an object'),
        (FILE | {"papers": {"xyz": {}}}, "'xyz' is not a paper ID"),
        (
            {"format": "paperdesk-state", "version": 1, "papers": {"0123456789": {"read": "yes"}}},
            "paper 0123456789: 'read' must be true or false",
        ),
        (
            {"format": "paperdesk-state", "version": 1,
             "papers": {"0123456789": {"starred": True, "starred_at": "yesterday"}}},
            "'yesterday' is not an ISO 8601 time",
        ),
        (
            FILE | {"papers": {"0123456789": {"tags": {" ": None}}}},
            "is not a tag",
        ),
    ],
)  # fmt: skip
def test_a_bad_state_file_is_refused_with_a_reason(data, message):
    with pytest.raises(StateFileError, match=message):
        from_document(data)


def test_a_refused_file_writes_nothing(tmp_path):
    from paperdesk.desk import Desk
    from paperdesk.library import LibraryError

    desk = Desk(tmp_path / "d")
    desk.library.import_entries(entries("Alpha"), "x.txt")
    good = {"read": True}
    bad = {"read": True, "read_at": "not a time"}
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps(
            {"format": "paperdesk-state", "version": 1,
             "papers": {pid("Alpha"): good, "0123456789": bad}}
        )
    )  # fmt: skip
    with pytest.raises(LibraryError, match="state.json: paper 0123456789"):
        desk.import_state(path)
    assert visible(desk.library) == {"Alpha": (False, False, ())}


def test_a_version_1_library_is_migrated_with_its_decisions(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE papers (id TEXT PRIMARY KEY, norm_title TEXT NOT NULL, title TEXT NOT NULL,
            abstract TEXT NOT NULL DEFAULT '', authors INTEGER, organization TEXT, published TEXT,
            published_raw TEXT, upvotes INTEGER, links TEXT NOT NULL DEFAULT '[]',
            read INTEGER NOT NULL DEFAULT 0, starred INTEGER NOT NULL DEFAULT 0,
            state_changed TEXT, first_seen TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE tags (paper_id TEXT NOT NULL REFERENCES papers(id), tag TEXT NOT NULL,
            PRIMARY KEY (paper_id, tag)) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sources (paper_id TEXT NOT NULL REFERENCES papers(id), file TEXT NOT NULL,
            page_date TEXT NOT NULL DEFAULT '', PRIMARY KEY (paper_id, file, page_date))
            WITHOUT ROWID;
        INSERT INTO meta VALUES ('library_id', 'abc');
        INSERT INTO papers (id, norm_title, title, read, starred, state_changed, first_seen, seq)
            VALUES ('0123456789', 'alpha', 'Alpha', 1, 1, '2025-05-05T00:00:00Z',
                    '2025-01-01T00:00:00Z', 3);
        INSERT INTO tags VALUES ('0123456789', 'rl');
        PRAGMA user_version = 1;
        """
    )
    conn.close()
    with Library(path) as lib:
        [paper] = lib.papers()
        assert (paper.read, paper.starred, paper.tags) == (True, True, ("rl",))
        got = lib.states()["0123456789"]
        assert got.read == Flag(True, "2025-05-05T00:00:00Z")
        assert got.starred == Flag(True, "2025-05-05T00:00:00Z")
        assert got.tags == {"rl": "2025-05-05T00:00:00Z"}
        lib.add_tags("0123456789", ["new"])  # and it works as a version 2 library
        assert lib.library_id() == "abc"


# --- the merge rule as a property --------------------------------------------------------

stamps = st.integers(0, 5).map(lambda s: f"2026-01-01T00:00:0{s}Z")
flags = st.builds(Flag, st.booleans(), st.none() | stamps)
tag_maps = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.none() | stamps, max_size=3)


@st.composite
def paper_states(draw) -> PaperState:
    tags = draw(tag_maps)
    removed = {k: v for k, v in draw(tag_maps).items() if k not in tags}
    return PaperState(draw(flags), draw(flags), tags, removed)


def _latest(states: list[PaperState], tag: str):
    return max(
        (st_.parse_stamp(at), present)
        for s in states
        for present, table in ((True, s.tags), (False, s.removed))
        if tag in table
        for at in [table[tag]]
    )


@given(paper_states(), paper_states())
def test_merge_keeps_the_latest_decision_for_every_tag_and_is_idempotent(a, b):
    merged = merge(a, b)
    assert merge(merged, b) == merged
    assert merge(merged, a) == merged
    for tag in set(a.tags) | set(a.removed) | set(b.tags) | set(b.removed):
        _, present = _latest([a, b], tag)
        assert (tag in merged.tags) == present  # the latest event wins; ties keep the tag
        assert (tag in merged.removed) == (not present)
    for name in ("read", "starred"):
        mine, theirs, got = getattr(a, name), getattr(b, name), getattr(merged, name)
        assert got in (mine, theirs)
        if mine.decided and theirs.decided:
            assert st_.parse_stamp(got.at) == max(
                st_.parse_stamp(mine.at), st_.parse_stamp(theirs.at)
            )


def test_a_stamp_far_in_the_future_never_beats_a_real_decision():
    from paperdesk.library.state import Flag, PaperState, merge, now_stamp

    bogus = PaperState(read=Flag(True, "9999-12-31T00:00:00.000Z"))
    real = PaperState(read=Flag(False, now_stamp()))
    assert merge(bogus, real).read.value is False  # the library held the bogus one
    assert merge(real, bogus).read.value is False
