"""The selection: v picks the paper under the cursor, V a range, * every shown
paper; then s, r, x and t act on all of them as one undo step, the status line
counts them, Esc lets them go, and a list change keeps only what is listed."""

from __future__ import annotations

from textual.widgets import Static

from paperdesk.desk import Desk
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle
from paperdesk.tui.screens.tag_editor import TagEditor


def app_for(desk: Desk):
    return make_app(desk, Settings(mark_read_on_move=False), poll_interval=None,
                    backup_on_start=False, index_in_subprocess=False)  # fmt: skip


def status(app) -> str:
    return str(app.query_one("#status", Static).render())


async def test_three_selected_and_s_stars_three_and_z_takes_all_back(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.paper_list.ids[:3]
        await pilot.press("v", "v", "v")  # each picks and moves down
        await settle(pilot)
        assert app.paper_list.selected == set(first)
        assert app.paper_list.current_id == app.paper_list.ids[3]
        assert "3 selected" in status(app)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert {p.id for p in desk.get_many(desk.ids()) if p.starred} == set(first)
        # The cursor's own paper was not picked, and is not starred.
        assert not desk.get(app.paper_list.ids[3]).starred
        await pilot.press("z")
        await settle(pilot)
        assert not any(p.starred for p in desk.get_many(desk.ids()))
        await pilot.press("Z")
        await settle(pilot)
        assert {p.id for p in desk.get_many(desk.ids()) if p.starred} == set(first)
        # s again on a selection all starred takes the stars off.
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert not any(p.starred for p in desk.get_many(desk.ids()))
        await pilot.press("escape")
        await settle(pilot)
        assert not app.paper_list.selected and "selected" not in status(app)
        await pilot.press("s")  # no selection: the paper under the cursor alone
        await settle(pilot)
        assert [p.id for p in desk.get_many(desk.ids()) if p.starred] == [app.paper_list.ids[3]]


async def test_range_all_read_and_tags_on_the_selection(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        ids = app.paper_list.ids
        await pilot.press("j", "v", "j", "j", "V")  # v picks row 1 and moves on: rows 1 to 4
        await settle(pilot)
        assert app.paper_list.selected_ids == ids[1:5]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagEditor)
        await pilot.press(*"triage", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert {p.id for p in desk.get_many(ids) if "triage" in p.tags} == set(ids[1:5])
        await pilot.press("asterisk")
        await settle(pilot)
        assert len(app.paper_list.selected) == len(ids)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert all(p.read for p in desk.get_many(ids))
        await pilot.press("z")  # the whole set unread again, in one step
        await settle(pilot)
        assert not any(p.read for p in desk.get_many(ids))
        await pilot.press("z")  # then the tags
        await settle(pilot)
        assert not any("triage" in p.tags for p in desk.get_many(ids))


async def test_a_search_keeps_only_the_selected_papers_it_lists(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        await pilot.press("slash", *"agent", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        shown = set(app.paper_list.ids)
        assert shown and len(shown) < len(desk.ids())
        assert app.paper_list.selected == shown
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert {p.id for p in desk.get_many(desk.ids()) if p.dismissed} == shown


def test_no_selection_costs_no_walk_of_the_list():
    """Every triage key asks for the selection first: with none, the answer
    must not walk the list (60 ms per key on a million papers)."""
    from paperdesk.tui.widgets.paper_list import PaperList

    class Unwalkable(list):
        def __iter__(self):
            raise AssertionError("the whole list was walked")

    papers = PaperList(fetch=lambda ids: [])
    papers.ids = Unwalkable(f"id{n}" for n in range(10))
    assert papers.selected_ids == []
