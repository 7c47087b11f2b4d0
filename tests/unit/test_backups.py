"""Backups, restore and the decision journal: a damaged library never costs a decision."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.library import Library, LibraryDamaged, LibraryError, backups
from paperdesk.library.state import replay
from paperdesk.model import Entry, id_of_normalised, normalise_title

TITLES = [f"Paper number {n} about topic {n % 7}" for n in range(300)]


def pid(title: str) -> str:
    return id_of_normalised(normalise_title(title))


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = Desk(tmp_path / "data")
    desk.library.import_entries(
        [Entry(title=t, abstract="words " * 80) for t in TITLES], "dump.txt"
    )
    yield desk
    desk.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def starred(library_path: Path) -> set[str]:
    with Library(library_path) as lib:
        return {p.id for p in lib.papers() if p.starred}


def damage_pages(path: Path) -> None:
    """Scribble over the middle of the file, leaving the header readable."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(os.urandom(8192))


def test_a_backup_is_taken_only_when_the_library_changed(desk: Desk):
    first = desk.backup("start")
    assert first is not None and first.path.exists()
    assert backups.check(first.path) is None
    assert desk.backup("start") is None  # nothing changed
    desk.set_starred([pid(TITLES[0])])
    second = desk.backup("import")
    assert second is not None
    assert [b.reason for b in backups.list_backups(desk.backups_path)] == ["import", "start"]
    assert starred(second.path) == {pid(TITLES[0])}
    assert backups.summarise(second.path).starred == 1


def test_rotation_keeps_the_newest(desk: Desk):
    for n in range(5):
        desk.set_starred([pid(TITLES[n])])
        backups.take(desk.library.path, "start", desk.backups_path, keep=3)
    kept = backups.list_backups(desk.backups_path)
    assert len(kept) == 3
    assert backups.summarise(kept[0].path).starred == 5  # the newest is kept
    assert not list(desk.backups_path.glob(".*"))  # no partial copy left behind


def test_a_damaged_library_is_never_backed_up_over_good_backups(desk: Desk):
    good = desk.backup("start")
    desk.set_starred([pid(TITLES[1])])
    desk.library.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    desk.close()
    damage_pages(desk.library.path)
    before = digest(desk.library.path)
    with pytest.raises(LibraryError, match="damaged"):
        backups.take(desk.library.path, "import", desk.backups_path, keep=1)
    assert [b.path for b in backups.list_backups(desk.backups_path)] == [good.path]
    assert digest(desk.library.path) == before  # the damaged file is left as it was


def test_restore_moves_the_library_aside_and_keeps_newer_decisions(desk: Desk):
    a, b, c = (pid(t) for t in TITLES[:3])
    desk.set_starred([a])
    backup = desk.backup("start")
    desk.set_starred([b])  # after the backup: in the library and in the journal
    desk.add_tags(c, ["later"])
    library_path = desk.library.path
    desk.close()
    result = backups.restore(library_path, backup, desk.backups_path)
    assert result.replaced is not None and result.replaced.exists()
    assert starred(result.replaced) == {a, b}  # the replaced library is kept, whole
    assert starred(library_path) == {a, b}
    with Library(library_path) as lib:
        assert lib.get(c).tags == ("later",)


def test_restore_exact_gives_back_the_backup_as_it_was(desk: Desk):
    a, b = pid(TITLES[0]), pid(TITLES[1])
    desk.set_starred([a])
    backup = desk.backup("start")
    desk.set_starred([b])
    desk.close()
    backups.restore(desk.library.path, backup, desk.backups_path, merge_newer=False)
    assert starred(desk.library.path) == {a}


def test_a_destroyed_library_gets_every_decision_back_from_backup_and_journal(desk: Desk):
    a, b = pid(TITLES[0]), pid(TITLES[1])
    desk.set_starred([a])
    backup = desk.backup("start")
    desk.set_starred([b])
    desk.set_read([a])
    desk.remove_tags(a, ["none"])  # no change: nothing journaled
    path = desk.library.path
    desk.close()
    path.write_bytes(b"\0" * 4096)  # overwritten by hand
    with pytest.raises(LibraryError, match=r"library\.sqlite3 is damaged"):
        Library(path).counts()
    result = backups.restore(path, backup, desk.backups_path)
    assert result.merge_problem  # the replaced file could not be read...
    assert result.replayed == 2  # ...but the journal had both newer decisions
    with Library(path) as lib:
        assert {p.id for p in lib.papers() if p.starred} == {a, b}
        assert lib.get(a).read


def test_the_journal_survives_a_torn_last_line():
    lines = [
        '{"at":"2026-01-01T00:00:01Z","set":"starred","value":true,"ids":["0123456789"]}\n',
        '{"at":"2026-01-01T00:00:02Z","id":"0123456789","add":["a"],"remove":[]}\n',
        '{"at":"2026-01-01T00:00:03Z","set":"starred","value":false,"ids":["0123456789"]}\n',
        '{"at":"2026-01-01T00:00:04Z","set":"read","val',
    ]
    states, skipped = replay(lines)
    assert skipped == 1
    got = states["0123456789"]
    assert (got.starred.value, list(got.tags), got.read.decided) == (False, ["a"], False)


def test_a_damaged_library_is_reported_and_left_untouched(desk: Desk):
    desk.set_starred([pid(TITLES[0])])
    desk.backup("start")
    desk.library.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = desk.library.path
    desk.close()
    damage_pages(path)
    before = digest(path)
    # What the CLI's import and the app's start do: check (and back up) first.
    with Desk(desk.data_dir) as again:
        with pytest.raises(LibraryDamaged, match=f"{path} is damaged"):
            again.backup("import")
        with pytest.raises(LibraryDamaged, match="paperdesk restore"):
            again.set_starred([pid(TITLES[2])])  # refused, not written
    assert digest(path) == before
    assert len(backups.list_backups(desk.backups_path)) == 1  # the good backup is kept


def test_a_truncated_library_is_reported(desk: Desk):
    desk.library.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = desk.library.path
    desk.close()
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 3)
    assert backups.check(path) is not None
    with Library(path) as lib, pytest.raises(LibraryError, match=str(path)):
        lib.papers()


def test_an_empty_library_is_not_backed_up_over_one_with_papers(tmp_path):
    from paperdesk.library import Library, backups
    from paperdesk.model import Entry

    path = tmp_path / "library.sqlite3"
    directory = tmp_path / "backups"
    with Library(path) as library:
        library.import_entries([Entry("A paper", "An abstract. " * 20)], "a.txt")
    assert backups.take(path, "start", directory) is not None
    emptied = tmp_path / "other" / "library.sqlite3"
    with Library(emptied) as library:
        library.counts()
    assert backups.take(emptied, "start", directory) is None
    assert len(backups.list_backups(directory)) == 1
