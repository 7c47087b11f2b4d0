"""SVG snapshots of what a person sees (pytest-textual-snapshot, Textual pinned).

Update after reviewing the report: pytest tests/snapshots --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle


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
