"""The left pane's days and saved searches: choosing a day lists exactly that
page in its page order, ] and [ go to the days with unread papers, a finished
day says so and offers the next; saved searches show unread/total counts that
follow changes made elsewhere, 1-9 open them, + saves the current search;
sections fold and D, V, # jump to them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.importers import dailypapers
from paperdesk.model import Entry, paper_id
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle, workers_done
from paperdesk.tui.screens.name_prompt import NamePrompt
from paperdesk.tui.widgets.tag_panel import TagPanel


def app_for(desk: Desk, **options):
    return make_app(desk, Settings(mark_read_on_move=False), poll_interval=options.get("poll"),
                    backup_on_start=False, index_in_subprocess=False)  # fmt: skip


def pane(app) -> list[str]:
    panel = app.query_one("#tags", TagPanel)
    return [str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)]


async def ready(pilot, app) -> None:
    await settle(pilot)
    await workers_done(app)
    await settle(pilot)


@pytest.fixture
def two_days(samples, data_dir: Path):
    desk = Desk(data_dir)
    for path in samples:
        desk.import_file(path)
    yield desk
    desk.close()


def page_order(path: Path) -> list[str]:
    """The page's papers in the order the dump lists them."""
    entries = dailypapers.parse(path.read_text(encoding="utf-8")).entries
    return list(dict.fromkeys(paper_id(e.title) for e in entries))


async def test_choosing_a_day_lists_that_page_in_page_order(two_days: Desk, samples):
    app = app_for(two_days)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        lines = pane(app)
        assert "▾ Days" in lines
        days = {line.split()[0] + " " + line.split()[1]: line for line in lines if "/" in line}
        assert days["Nov 11"].endswith("69/69") and days["Nov 10"].endswith("80/80")
        await pilot.press("]")  # the newest day with unread papers
        await ready(pilot, app)
        assert app.day is not None and app.day.day == "2025-11-11"
        assert "day: Nov 11 2025 (page order)" in str(app.query_one("#status").render())
        await pilot.press("]")
        await ready(pilot, app)
        assert app.day.day == "2025-11-10" and len(app.paper_list.ids) == 80
        nov10 = next(p for p in samples if "Nov 10" in p.read_text(encoding="utf-8")[:4000]
                     or "November 10" in p.read_text(encoding="utf-8")[:4000])  # fmt: skip
        expected = [two_days.library.resolve_id(pid) for pid in page_order(nov10)]
        assert app.paper_list.ids == [pid for pid in expected if pid in app.paper_list.ids]
        assert set(app.paper_list.ids) == set(two_days.day_ids("2025-11-10"))
        await pilot.press("left_square_bracket")  # back to the newer day
        await ready(pilot, app)
        assert app.day.day == "2025-11-11"
        await pilot.press("escape")  # backs out of the day
        await ready(pilot, app)
        assert app.day is None and len(app.paper_list.ids) == two_days.count()
        await pilot.press("left_square_bracket")  # from no day, [ starts at the oldest
        await ready(pilot, app)
        assert app.day.day == "2025-11-10"
        await pilot.press("left_square_bracket")
        await ready(pilot, app)
        assert app.day.day == "2025-11-11"
        await pilot.press("left_square_bracket")  # nothing newer
        await settle(pilot)
        assert app.day.day == "2025-11-11"
        assert any("No newer day" in str(n.message) for n in app._notifications)


async def test_a_finished_day_says_so_and_offers_the_next(two_days: Desk):
    nov11 = two_days.day_ids("2025-11-11")
    two_days.set_read(nov11[1:], True)
    app = app_for(two_days)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("]")
        await ready(pilot, app)
        assert app.day.day == "2025-11-11" and app.day.unread == 1
        app.paper_list.cursor = app.paper_list.ids.index(nov11[0])
        await pilot.press("r")  # the last unread paper of the day
        await pilot.pause(0.5)
        await ready(pilot, app)
        notes = [str(n.message) for n in app._notifications]
        # Papers on both pages were read with Nov 11's: Nov 10 has the rest unread.
        left = sum(1 for p in two_days.get_many(two_days.day_ids("2025-11-10")) if not p.read)
        assert 0 < left < 80
        done = f"Nov 11 2025 is done: ] for Nov 10 2025 ({left} unread)"
        assert any(done in n for n in notes), notes


async def test_saved_searches_count_open_with_digits_and_follow_changes(two_days: Desk):
    two_days.save_search("rl", '"reinforcement learning"')
    two_days.save_search("agents", "agent*")
    app = app_for(two_days, poll=0.2)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        lines = pane(app)
        rl_total = two_days.search('"reinforcement learning"').total
        assert any(line.startswith("2 rl") and line.endswith(f"{rl_total}/{rl_total}")
                   for line in lines), lines  # fmt: skip
        assert any(line.startswith("1 agents") for line in lines)
        await pilot.press("2")
        await ready(pilot, app)
        assert app.query_text == '"reinforcement learning"'
        assert len(app.paper_list.ids) == rl_total
        # Another process stars and reads one of its papers: the count follows.
        target = app.paper_list.ids[0]
        with Desk(two_days.data_dir) as other:
            other.set_read([target], True)
        deadline = time.monotonic() + 2.0
        want = f"{rl_total - 1}/{rl_total}"
        while time.monotonic() < deadline and not any(
            line.startswith("2 rl") and line.endswith(want) for line in pane(app)
        ):
            await asyncio.sleep(0.1)
            await settle(pilot)
        assert any(line.startswith("2 rl") and line.endswith(want) for line in pane(app))
        await pilot.press("9")
        await settle(pilot)
        assert any("No saved search 9" in str(n.message) for n in app._notifications)


async def test_plus_saves_the_current_search(two_days: Desk):
    app = app_for(two_days)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await pilot.press("slash", *"grpo", "enter")
        await ready(pilot, app)
        await pilot.press("plus")
        await settle(pilot)
        assert isinstance(app.screen, NamePrompt)
        field = app.screen.query_one("#name-input")
        field.value = ""
        await pilot.press(*"my grpo", "enter")
        await ready(pilot, app)
        assert two_days.saved_searches() == {"my grpo": "grpo"}
        assert any(line.startswith("1 my grpo") for line in pane(app))


async def test_sections_fold_and_keys_jump_to_them(two_days: Desk):
    two_days.save_search("rl", "reinforcement")
    two_days.add_tags(two_days.ids()[0], ["later"])
    app = app_for(two_days)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        panel = app.query_one("#tags", TagPanel)
        panel.focus()
        await pilot.press("D")
        assert panel.highlighted_option.id == "\x00section:days"
        await pilot.press("enter")  # fold the days
        await settle(pilot)
        assert "▸ Days" in pane(app) and not any("Nov 11" in line for line in pane(app))
        await pilot.press("enter")
        assert any("Nov 11" in line for line in pane(app))
        await pilot.press("V")
        assert panel.highlighted_option.id == "\x00section:saved"
        await pilot.press("number_sign")
        assert panel.highlighted_option.id == "\x00section:tags"
        await pilot.press("j", "enter")  # the tag under the heading filters the list
        await ready(pilot, app)
        assert app.tag == "later" and len(app.paper_list.ids) == 1
        # Every count is right-aligned at the pane's edge.
        widths = {len(line) for line in pane(app) if not line.startswith(("▾", "▸"))}
        assert len(widths) == 1


async def test_an_undated_file_is_its_own_inbox_entry(data_dir: Path):
    with Desk(data_dir) as desk:
        desk.import_entries([Entry("A bib paper", "x"), Entry("Another", "y")], "mine.bib")
        app = app_for(desk)
        async with app.run_test(size=(120, 36)) as pilot:
            await ready(pilot, app)
            assert any(line.startswith("mine.bib") and line.endswith("2/2") for line in pane(app))
