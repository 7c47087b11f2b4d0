"""Hostile input: odd directories, a full disk, huge files, odd terminal sizes.

Each gets a clear message (one line, no traceback) and leaves the user's data as
it was. The importer and the query language have their own hypothesis tests
(tests/unit/test_parser.py and test_query.py): arbitrary text never raises.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperdesk.cli import app
from paperdesk.library import Library
from tests.conftest import missing

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def clean_failure(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("paperdesk: ")
    return result.stderr


@pytest.fixture
def imported(samples) -> list[Path]:
    assert cli("import", *map(str, samples)).exit_code == 0
    return samples


def state(data_dir: Path) -> list[tuple]:
    with Library(data_dir / "library.sqlite3") as lib:
        return [(p.id, p.read, p.starred, p.tags) for p in lib.papers(sort="title")]


# --- where the data lives ---------------------------------------------------------------


def test_a_data_directory_that_cannot_be_created(tmp_path: Path, monkeypatch, samples):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PAPERDESK_DATA_DIR", str(blocker / "paperdesk"))
    for args in (["list"], ["import", str(samples[0])], ["star", "abcd"], ["state", "export"]):
        message = clean_failure(cli(*args))
        assert "cannot create the data directory" in message or "cannot" in message, args
    assert blocker.read_text() == "not a directory"


def test_a_data_directory_on_a_read_only_file_system(monkeypatch, samples):
    # /proc is read-only even for root, so this holds wherever the tests run.
    monkeypatch.setenv("PAPERDESK_DATA_DIR", "/proc/paperdesk-test")
    message = clean_failure(cli("import", str(samples[0])))
    assert "/proc/paperdesk-test" in message


@contextlib.contextmanager
def _read_only(data_dir: Path):
    """The data directory made read-only: by its permission bits for a user, by
    a read-only bind mount for root (whom permission bits do not stop)."""
    if os.geteuid() != 0:
        (data_dir / "library.sqlite3").chmod(0o444)
        data_dir.chmod(0o555)
        try:
            yield
        finally:
            data_dir.chmod(0o755)
            (data_dir / "library.sqlite3").chmod(0o644)
        return
    bound = subprocess.run(["mount", "--bind", str(data_dir), str(data_dir)], capture_output=True)
    if bound.returncode != 0:
        missing(f"root needs to bind-mount a directory read-only: {bound.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(data_dir)], check=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(data_dir)], capture_output=True)


def test_a_read_only_library(imported, data_dir: Path):
    before = state(data_dir)
    pid = before[0][0]
    with _read_only(data_dir):
        message = clean_failure(cli("star", pid))
        assert "read-only" in message or "cannot" in message or "nothing can be written" in message
        assert state(data_dir) == before  # and it is read as it is
    assert state(data_dir) == before


# --- a full disk --------------------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch):
    """The library file may grow by a few pages only: SQLite then reports a full disk."""
    original = Library._open

    def limited(self):
        conn = original(self)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    monkeypatch.setattr(Library, "_open", limited)


def test_an_import_onto_a_full_disk_changes_nothing(imported, data_dir, tmp_path, full_disk):
    from tests.reliability.test_crash import big_dump

    pid = state(data_dir)[0][0]
    assert cli("star", pid).exit_code == 0
    before = state(data_dir)
    message = clean_failure(cli("import", str(big_dump(tmp_path / "big.txt", 400))))
    assert "the disk is full. Nothing was changed" in message
    assert state(data_dir) == before
    conn = sqlite3.connect(data_dir / "library.sqlite3")
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    conn.close()


def test_a_journal_that_cannot_be_written_is_reported_but_the_star_is_kept(imported, data_dir):
    journal = data_dir / "decisions.jsonl"
    journal.unlink(missing_ok=True)
    journal.mkdir()  # any write to it fails, as on a full disk
    pid = state(data_dir)[0][0]
    result = cli("star", pid)
    assert result.exit_code == 0
    assert "decision journal not written" in result.stderr
    assert state(data_dir)[0][2] is True


# --- huge and strange files ------------------------------------------------------------------


def test_a_huge_binary_file_is_refused_quickly(data_dir, tmp_path):
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # 200 MB of zeros, sparse on disk
    message = clean_failure(cli("import", str(huge)))
    assert "is a binary file, not a text dump" in message


def test_a_huge_text_file_that_is_not_a_dump_is_refused(imported, data_dir, tmp_path):
    before = state(data_dir)
    prose = "We study a problem and propose a method that works well. " * 3 + "\n\n"
    huge = tmp_path / "huge.txt"
    with open(huge, "w", encoding="utf-8") as handle:
        for _ in range(200):  # 200 MB
            handle.write(prose * (1024 * 1024 // len(prose)))
    assert huge.stat().st_size > 190 * 1024 * 1024
    message = clean_failure(cli("import", str(huge)))
    assert "does not look like a Daily Papers dump" in message
    assert state(data_dir) == before


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00\x00garbage", "Ünïcödé only\n".encode("utf-16"), b"\n" * 10_000, b"x" * 100_000],
)
def test_strange_small_files_are_refused_or_read(data_dir, tmp_path, content: bytes):
    odd = tmp_path / "odd.txt"
    odd.write_bytes(content)
    result = cli("import", str(odd))
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        assert "odd.txt" in result.stderr


def test_a_state_file_that_is_huge_or_odd_is_refused(data_dir, tmp_path):
    odd = tmp_path / "state.json"
    odd.write_text(json.dumps({"format": "paperdesk-state", "version": 1, "papers": {"x": 1}}))
    assert "is not a paper ID" in clean_failure(cli("state", "import", str(odd)))
    odd.write_bytes(b"\x00\x01\x02")
    assert "is not a JSON state file" in clean_failure(cli("state", "import", str(odd)))


def test_a_huge_abstract_is_cut_at_import_and_nothing_hangs(tmp_path, data_dir):
    """A 20 MB abstract hung `show` for minutes: it is cut at import, with a warning
    (5 MB here, to keep the test quick)."""
    import subprocess
    import sys
    import time

    from tests.dumps import E, page

    dump = tmp_path / "huge.txt"
    dump.write_text(page([E("A paper with a huge abstract", "word " * 1_000_000)]))
    started = time.monotonic()
    result = cli("import", str(dump))
    assert result.exit_code == 0
    assert "abstract cut to 50,000 characters (it had 4,999,999)" in result.stderr
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data_dir)}
    pid = json.loads(cli("list", "--json").stdout)[0]["id"]
    shown = subprocess.run(
        [sys.executable, "-m", "paperdesk", "show", pid], capture_output=True, env=env,
        timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0
    found = subprocess.run(
        [sys.executable, "-m", "paperdesk", "search", "word"], capture_output=True, env=env,
        timeout=60,
    )  # fmt: skip
    assert found.returncode == 0
    assert time.monotonic() - started < 60


@pytest.fixture
def read_only_mount(tmp_path):
    """A directory on its own file system, made read-only by the test (needs root)."""
    import subprocess

    where = tmp_path / "mount"
    where.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(where)], capture_output=True
        ).returncode
    ):
        missing("needs root to mount a read-only file system (mount -t tmpfs)")

    def make_read_only():
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)

    yield where, make_read_only
    # Lazily: a file this process still holds open must not keep the mount alive.
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_library_on_a_read_only_file_system_reads_and_says_why_it_cannot_write(
    read_only_mount, monkeypatch
):
    from tests.dumps import LOREM, E, page

    where, make_read_only = read_only_mount
    monkeypatch.setenv("PAPERDESK_DATA_DIR", str(where / "data"))
    dump = where / "d.txt"
    dump.write_text(page([E("A paper on a read-only disk", LOREM)]))
    assert cli("import", str(dump)).exit_code == 0
    pid = json.loads(cli("list", "--json").stdout)[0]["id"]
    assert cli("star", pid).exit_code == 0
    make_read_only()
    listed = cli("list", "--starred", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout)[0]["id"] == pid
    assert cli("show", pid).exit_code == 0
    message = clean_failure(cli("unstar", pid))
    assert "nothing can be written" in message and "can read it" in message
