"""SVG snapshots of what a person sees (pytest-textual-snapshot, Textual pinned).

Update after reviewing the report: pytest tests/snapshots --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.model import Entry
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle, workers_done


@pytest.fixture
def sample_app(data_dir: Path):
    desk = Desk(data_dir)
    desk.import_sample()
    desk.add_tags(desk.library.ids()[1], ["agents", "benchmarks"])
    desk.set_starred(desk.library.ids()[1:3])
    return make_app(
        desk,
        Settings(mark_read_on_move=False),
        poll_interval=None,
        backup_on_start=False,
        index_in_subprocess=False,
    )


def test_main_view(snap_compare, sample_app):
    assert snap_compare(sample_app, terminal_size=(120, 36), run_before=settle)


def test_search_with_highlights(snap_compare, sample_app):
    async def search(pilot):
        await settle(pilot)
        await pilot.press("slash", *"grokking", "enter")
        await settle(pilot)

    assert snap_compare(sample_app, terminal_size=(120, 36), run_before=search)


def test_tag_editor(snap_compare, sample_app):
    async def tag(pilot):
        await settle(pilot)
        await pilot.press("j", "t", *"agents rl")
        await settle(pilot)

    assert snap_compare(sample_app, terminal_size=(120, 36), run_before=tag)


def test_left_pane_with_days_and_saved_searches(snap_compare, data_dir: Path):
    desk = Desk(data_dir)
    desk.import_sample()
    desk.import_entries(
        [Entry(f"Undated bibliography paper {n}", "From a .bib file.") for n in range(3)],
        "my-library.bib",
    )
    desk.add_tags(desk.library.ids()[1], ["agents", "benchmarks"])
    desk.save_search("agents", "agent* is:unread")
    desk.save_search("a rather long saved search name", "diffusion")
    desk.set_read(desk.library.ids()[:4])
    app = make_app(desk, Settings(mark_read_on_move=False), poll_interval=None,
                   backup_on_start=False, index_in_subprocess=False)  # fmt: skip

    async def day(pilot):
        await settle(pilot)
        await workers_done(app)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        await workers_done(app)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=day)


def test_note_editor(snap_compare, sample_app):
    async def note(pilot):
        await settle(pilot)
        await pilot.press("j", "w", *"# Later", "enter", "enter", *"- compare with **PPO**")
        await settle(pilot)

    assert snap_compare(sample_app, terminal_size=(120, 36), run_before=note)


def test_help(snap_compare, sample_app):
    async def help_(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(sample_app, terminal_size=(120, 40), run_before=help_)


def test_empty_library(snap_compare, data_dir):
    app = make_app(
        Desk(data_dir),
        Settings(),
        poll_interval=None,
        backup_on_start=False,
        index_in_subprocess=False,
    )
    assert snap_compare(app, terminal_size=(100, 30), run_before=settle)


def test_narrow_terminal(snap_compare, sample_app):
    assert snap_compare(sample_app, terminal_size=(60, 20), run_before=settle)
