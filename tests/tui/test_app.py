"""Pilot tests: the app driven by its keys, checked against the library."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from paperdesk.desk import Desk
from paperdesk.library import Filter
from paperdesk.settings import Settings
from paperdesk.tui.app import PaperdeskApp, make_app
from paperdesk.tui.pilot import settle, workers_done
from paperdesk.tui.screens.confirm import ConfirmScreen
from paperdesk.tui.screens.export_dialog import ExportDialog
from paperdesk.tui.screens.help import HelpScreen
from paperdesk.tui.screens.tag_editor import TagEditor, TagSuggester, parse_tags


def app_for(desk: Desk, **settings) -> PaperdeskApp:
    return make_app(
        desk,
        Settings(**settings),
        poll_interval=None,
        backup_on_start=False,
        index_in_subprocess=False,
    )


def status(app: PaperdeskApp) -> str:
    return str(app.query_one("#status").content)


def preview_text(app: PaperdeskApp) -> str:
    return app.preview.text


def fresh(desk: Desk, paper_id: str):
    return Desk(desk.data_dir).library.get(paper_id)


class FakeClock:
    """The app's clock for dwell times: moves only when a test says so."""

    def __init__(self, app: PaperdeskApp) -> None:
        self.now = 1000.0
        app._clock = self

    def __call__(self) -> float:
        return self.now

    def rest(self, seconds: float = 3.0) -> None:
        self.now += seconds


async def test_opens_on_the_library(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        papers = app.paper_list
        assert len(papers.ids) == 29
        assert papers.ids == desk.library.ids(sort="published")
        assert papers.current.title in preview_text(app)
        assert "29 / 29 papers" in status(app) and "29 unread" in status(app)
        assert app.focused is papers


async def test_movement_keys(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        papers = app.paper_list
        await pilot.press("j", "j", "down")
        assert papers.cursor == 3
        await pilot.press("k", "up")
        assert papers.cursor == 1
        await pilot.press("G")
        assert papers.cursor == 28
        await pilot.press("j")
        assert papers.cursor == 28  # stays at the bottom
        await pilot.press("g")
        assert papers.cursor == 0
        await pilot.press("end", "home", "pagedown")
        assert papers.cursor > 0
        await pilot.press("pageup")
        assert papers.cursor == 0
        await pilot.press("k")
        assert papers.cursor == 0
        assert papers.current.title in preview_text(app)


async def test_s_j_s_stars_two_papers(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first, second = app.paper_list.ids[:2]
        await pilot.press("s", "j", "s")
        await settle(pilot)
        starred = {p.id for p in Desk(desk.data_dir).library.papers(Filter(starred=True))}
        assert starred == {first, second}
        assert "2 starred" in status(app)
        await pilot.press("s")  # toggles back
        assert not fresh(desk, second).starred


async def test_r_toggles_read_and_moving_on_marks_read(desk: Desk):
    app = app_for(desk)
    clock = FakeClock(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first, second = app.paper_list.ids[:2]
        await pilot.press("r")
        assert fresh(desk, first).read
        await pilot.press("r")
        assert not fresh(desk, first).read
        clock.rest()
        await pilot.press("j")  # marked unread on purpose: moving on respects that
        assert not fresh(desk, first).read
        clock.rest()
        await pilot.press("j")  # the second paper was read (rested on), the user moved on
        assert fresh(desk, second).read


async def test_reading_on_move_can_be_turned_off(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.paper_list.ids[0]
        await pilot.press("j", "j")
        assert not fresh(desk, first).read


async def test_t_tags_the_selected_paper_and_can_remove(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        await pilot.press("t")
        assert isinstance(app.screen, TagEditor)
        await pilot.press(*"rl-theory grokking")
        await pilot.press("enter")
        await settle(pilot)
        assert fresh(desk, pid).tags == ("grokking", "rl-theory")
        assert "grokking" in preview_text(app)
        await pilot.press("t")
        editor_input = app.screen.query_one("#tag-input")
        assert editor_input.value == "grokking rl-theory "
        editor_input.value = "grokking"
        await pilot.press("enter")
        assert fresh(desk, pid).tags == ("grokking",)
        await pilot.press("t", "x", "escape")  # cancel changes nothing
        assert fresh(desk, pid).tags == ("grokking",)


async def test_a_tag_the_library_refuses_is_a_message_not_a_crash(desk: Desk):
    """A tag over 64 characters: the editor's other tags are saved, the refused
    one is named; a word of punctuation (a spaced dash, "rl - theory") separates."""
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        await pilot.press("t")
        app.screen.query_one("#tag-input").value = "rl - theory " + "x" * 70
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        assert fresh(desk, pid).tags == ("rl", "theory")
        messages = " ".join(str(n.message) for n in app._notifications)
        assert "Tag not added" in messages and "at most 64 characters" in messages


async def test_tag_completion_from_existing_tags():
    suggester = TagSuggester(["agents", "rl-theory", "robotics"])
    assert await suggester.get_suggestion("ag") == "agents"
    assert await suggester.get_suggestion("agents r") == "agents rl-theory"
    assert await suggester.get_suggestion("agents ") is None
    assert parse_tags("RL Theory, rl  theory") == ["rl", "theory"]
    assert parse_tags("rl - theory – x") == ["rl", "theory", "x"]
    assert parse_tags("rl - theory", kept=("-",)) == ["rl", "-", "theory"]


async def test_search_narrows_as_you_type_enter_keeps_escape_clears(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.focused.id == "search"
        await pilot.press(*"grokking")
        await pilot.pause(0.3)
        await settle(pilot)
        titles = [app.paper_list.paper(i).title for i in range(len(app.paper_list.ids))]
        assert len(titles) == 4 and all("rok" in t for t in titles)
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is app.paper_list and len(app.paper_list.ids) == 4
        assert ("title", "grokk") in app.terms
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert len(app.paper_list.ids) == 29 and app.query_one("#search").value == ""


async def test_escape_in_the_list_clears_the_kept_search_then_the_tag(desk: Desk):
    desk.add_tags(desk.library.ids(sort="published")[0], ["agents"])
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.tag = "agents"
        app.reload()
        await settle(pilot)
        assert len(app.paper_list.ids) == 1
        await pilot.press("escape")  # no search kept: the tag filter goes
        await settle(pilot)
        assert app.tag is None and len(app.paper_list.ids) == 29
        await pilot.press("slash", *"grokking", "enter")
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.focused is app.paper_list and len(app.paper_list.ids) == 4
        await pilot.press("escape")
        await settle(pilot)
        assert app.query_one("#search").value == "" and app.query_text == ""
        assert len(app.paper_list.ids) == 29 and app.focused is app.paper_list
        await pilot.press("t", "escape")  # Escape in the tag editor only closes it
        await settle(pilot)
        assert app.screen is app.screen_stack[0] and len(app.paper_list.ids) == 29


async def test_keys_typed_in_one_burst_after_slash_go_to_the_search(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        # Sent the way the terminal driver sends them, with no pause between
        # the keys (Pilot.press waits after each one): a fast typist or a script.
        for key in ["slash", *"grokking", "enter"]:
            char = "/" if key == "slash" else (None if key == "enter" else key)
            app._driver.send_message(events.Key(key, char))
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.query_one("#search").value == "grokking"
        assert len(app.paper_list.ids) == 4
        await pilot.press("slash", "slash")  # focus the bar, then type a "/" in it
        assert app.query_one("#search").value == "grokking/"
        await pilot.press("escape", "t", "slash")  # a "/" in the tag editor is text too
        assert app.screen.query_one("#tag-input").value.endswith("/")


async def test_bad_query_is_shown_not_raised(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"foo:bar", "enter")
        await settle(pilot)
        assert "unknown field 'foo'" in status(app)
        assert len(app.paper_list.ids) == 29  # the list stays as it was


async def test_next_unread(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        ids = app.paper_list.ids
        desk.set_read(ids[1:3])
        app.paper_list.invalidate()
        await pilot.press("n")
        assert app.paper_list.cursor == 3


async def test_filters_unread_starred_and_all(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s", "r")
        await pilot.press("u")
        await settle(pilot)
        assert len(app.paper_list.ids) == 28 and "view: unread only" in status(app)
        await pilot.press("u", "f")
        await settle(pilot)
        assert len(app.paper_list.ids) == 1
        await pilot.press("a")
        await settle(pilot)
        assert len(app.paper_list.ids) == 29


async def test_mark_all_shown_read_asks_first_and_undo_takes_it_back(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert desk.library.counts().unread == 29
        await pilot.press("A", "y")
        await settle(pilot)
        assert Desk(desk.data_dir).library.counts().unread == 0
        assert "0 unread" in status(app)
        await pilot.press("z")
        await settle(pilot)
        assert Desk(desk.data_dir).library.counts().unread == 29


async def test_undo_star_and_tags(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        await pilot.press("s")
        await pilot.press("t", *"x", "enter")
        assert fresh(desk, pid).tags == ("x",) and fresh(desk, pid).starred
        await pilot.press("z")
        assert fresh(desk, pid).tags == ()
        await pilot.press("ctrl+z")
        assert not fresh(desk, pid).starred
        await pilot.press("z")  # nothing left: a message, no change
        assert not fresh(desk, pid).starred


async def test_open_and_copy_link_and_title(desk: Desk, monkeypatch):
    app = app_for(desk, mark_read_on_move=False)
    opened: list[str] = []
    copied: list[str] = []
    from paperdesk.tui import commands as app_module

    monkeypatch.setattr(app_module, "open_in_browser", lambda url: opened.append(url) or True)
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        paper = app.paper_list.current
        assert paper.links
        await pilot.press("o", "y", "Y")
        await settle(pilot)
        assert opened == [paper.links[0]]
        assert copied == [paper.title, paper.links[0]]
        linkless = next(
            i for i, pid in enumerate(app.paper_list.ids) if not app.paper_list.paper(i).links
        )
        app.paper_list.cursor = linkless
        await pilot.press("o")
        await settle(pilot)
        title = app.paper_list.current.title.split()[0]
        # A paper without a link opens a search for its title.
        assert opened[1].startswith("https://arxiv.org/search/?searchtype=title&query=")
        assert title in opened[1]


async def test_sort_cycles(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert app.list_sort == "upvotes"
        assert app.paper_list.ids == desk.library.ids(sort="upvotes")
        assert "sort: upvotes" in status(app)
        await pilot.press("S", "S", "S")
        await settle(pilot)
        assert app.list_sort == "interest" and "sort: interest" in status(app)
        assert app.paper_list.ids == desk.library.ids(sort="interest")  # no model yet: by date


async def test_export_dialog_writes_the_starred_papers(desk: Desk, tmp_path: Path):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s", "j", "s")
        await pilot.press("e")
        assert isinstance(app.screen, ExportDialog)
        target = tmp_path / "out.md"
        app.screen.query_one("#export-path").value = str(target)
        app.screen.query_one("#export-path").focus()
        await pilot.press("enter")
        await settle(pilot)
        text = target.read_text(encoding="utf-8")
        assert text.startswith("# Starred papers") and "2 papers" in text
        await pilot.press("e", "escape")
        assert not isinstance(app.screen, ExportDialog)


async def test_help_lists_every_binding(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-table").content
        from rich.console import Console

        console = Console(width=100, record=True)
        console.print(table)
        text = console.export_text()
        from paperdesk.keys import ACTIONS

        for action in ACTIONS:
            if action.name.startswith("saved_"):
                continue  # one row for 1-9
            assert action.description in text, action
        assert "Open saved search 1 to 9" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_every_action_is_in_the_command_palette(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        desk.save_search("grok", "grokking")
        app.saved = desk.saved_searches()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        from paperdesk.keys import ACTIONS

        for action in ACTIONS:
            if action.scope != "app" or action.name.startswith("saved_"):
                continue  # the saved searches come by name
            if action.name != "quit":
                assert action.description in titles
        assert "Saved search: grok" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_tags_pane_filters_and_toggles(desk: Desk):
    pid = desk.library.ids()[5]
    desk.add_tags(pid, ["robots"])
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        tags = app.query_one("#tags")
        assert [str(tags.get_option_at_index(i).prompt) for i in range(tags.option_count)] == [
            "All papers            29",
            "▾ Days",
            "Nov 12 2025        29/29",
            "▾ Tags",
            "robots                 1",
        ]
        tags.focus()
        await pilot.press("number_sign", "j", "enter")
        await settle(pilot)
        assert app.paper_list.ids == [pid] and "tag: robots" in status(app)
        await pilot.press("T")
        assert not tags.display or not tags.region.width


async def test_the_poll_does_not_take_our_own_write_for_another_process(desk: Desk, monkeypatch):
    # One key in thirteen took 115-140 ms in a terminal: a poll landing between a
    # star and its count refresh saw the change counter move and reloaded every
    # visible row in the middle of the repaint.
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        external: list[int] = []
        monkeypatch.setattr(app, "_external_change", lambda seq, total: external.append(seq))
        await pilot.press("s")
        app._poll_tick()  # within SIDE_DELAY_S of the write
        await pilot.pause()
        await workers_done(app)  # (not settle: it would run the count refresh now)
        assert external == []
        app.flush_pending()  # the count refresh takes the counter
        await settle(pilot)
        app._poll_tick()
        await settle(pilot)
        assert external == []
        Desk(desk.data_dir).set_starred([desk.library.ids()[3]])  # another process
        app._counted = False  # as when opening, before the first counts
        app._poll_tick()
        await workers_done(app)
        assert external == []
        app._counted = True
        app._poll_tick()
        await settle(pilot)
        assert len(external) == 1


async def test_external_changes_show_up_and_are_not_overwritten(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        with Desk(desk.data_dir) as other:  # another terminal
            other.set_starred([pid])
            other.add_tags(pid, ["from-cli"])
        app.poll_external()
        await settle(pilot)
        assert app.paper_list.current.starred
        assert "from-cli" in preview_text(app)
        await pilot.press("t", *"mine", "enter")
        assert fresh(desk, pid).tags == ("from-cli", "mine")
        await pilot.press("r")
        assert fresh(desk, pid).starred  # the app's write did not touch the star


async def test_external_import_adds_rows(desk: Desk, samples):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        with Desk(desk.data_dir) as other:
            other.import_file(samples[0])
        app.poll_external()
        await settle(pilot)
        assert len(app.paper_list.ids) == 29 + 69


async def test_empty_library_says_how_to_import(data_dir: Path):
    app = app_for(Desk(data_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        empty = app.query_one("#empty")
        assert empty.display and "paperdesk import" in str(empty.content)
        await pilot.press("s", "r", "t", "o", "y", "A", "n", "z", "S")  # nothing to act on
        await settle(pilot)
        assert app.is_running


async def test_the_counts_wait_for_the_first_rows(desk: Desk, monkeypatch):
    # On a cold disk, counting a million papers took the library for 2 s while
    # the first screenful waited: the side work now starts after the first rows.
    app = app_for(desk)
    listed_when_counted: list[int] = []
    counts = desk.library.counts

    def counting():
        listed_when_counted.append(len(app.paper_list.ids))
        return counts()

    monkeypatch.setattr(desk.library, "counts", counting)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert listed_when_counted and listed_when_counted[0] > 0
        assert "29 / 29 papers" in status(app)


async def test_the_cursor_stays_in_view_when_the_terminal_shrinks(desk: Desk):
    # Found in tmux: at the end of a long list, shrinking to 40x12 kept the old
    # scroll offset and the selected paper was out of sight.
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("G", "k")
        await settle(pilot)
        for size in ((40, 12), (60, 20), (120, 36), (40, 12)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            top = int(app.paper_list.scroll_offset.y)
            assert top <= app.paper_list.cursor < top + app.paper_list.size.height, size


@pytest.mark.parametrize(
    "size", [(60, 20), (40, 12), (20, 5), (200, 60), (1, 1), (2, 40), (300, 3), (500, 150)]
)
async def test_any_terminal_size(desk: Desk, size):
    app = app_for(desk)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("j", "s", "slash", "g", "escape")
        await pilot.resize_terminal(120, 36)
        await pilot.resize_terminal(*size)
        await pilot.resize_terminal(1, 1)
        await pilot.resize_terminal(*size)
        await settle(pilot)
        assert app.is_running
        await pilot.press("question_mark")  # dialogs too
        await settle(pilot)
        await pilot.press("escape", "t")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running
    # The keys did their work at any size: one paper starred.
    assert Desk(desk.data_dir).library.counts().starred == 1
    if size == (60, 20):
        assert app.has_class("-narrow")


async def test_q_quits(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_restore_refuses_while_the_app_is_open(desk: Desk):
    from paperdesk.library import LibraryError, backups

    desk.set_starred([desk.library.ids()[0]])
    backup = desk.backup("start")
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        with pytest.raises(LibraryError, match="paperdesk is open on this library"):
            backups.restore(desk.library.path, backup, desk.backups_path)
        assert not any(p.name.startswith("replaced-") for p in desk.backups_path.iterdir())
    # Once the app has quit, the same restore goes ahead.
    result = backups.restore(desk.library.path, backup, desk.backups_path)
    assert result.replaced is not None


async def test_the_index_is_updated_in_a_separate_process(desk: Desk):
    """The real app updates the index in a child process, so keys never wait for it."""
    app = make_app(desk, Settings(), poll_interval=None, backup_on_start=False)
    assert app.index_in_subprocess
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s")  # star the first paper
        await settle(pilot)  # runs the debounced index update, in the child
        starred = app.paper_list.current.id
        # The child wrote the index; a fresh searcher in another process-like
        # handle sees the star without syncing itself.
        other = Desk(desk.data_dir)
        other.auto_sync_index = False
        meta = other.index._read_meta(other.index_path)
        assert meta["seq"] == other.library.max_seq()
        hits = other.search("is:starred", limit=5).hits
        assert [hit.paper.id for hit in hits] == [starred]
        other.close()


async def test_preview_scrolls_a_long_abstract_and_starts_at_the_top(desk: Desk):
    """The preview paints its own lines: at 60x20 an abstract is taller than the
    pane, so it scrolls; the next paper starts at its top; resizing rewraps."""
    app = app_for(desk)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        preview = app.preview
        assert preview.virtual_size.height > preview.scrollable_content_region.height
        lines = [preview.render_line(y).text for y in range(preview.size.height)]
        assert any(app.paper_list.current.title[:20] in line for line in lines)
        preview.focus()
        await pilot.press("pagedown")
        await pilot.pause()
        assert preview.scroll_y > 0
        app.paper_list.focus()
        await pilot.press("j")
        await pilot.pause()
        assert preview.scroll_y == 0
        before = preview.virtual_size
        await pilot.resize_terminal(120, 36)  # side by side: a narrower preview
        await pilot.pause()
        after = preview.virtual_size
        assert after.width == preview.scrollable_content_region.width != before.width
        assert after.height > before.height  # rewrapped: narrower lines, more of them


async def test_opening_shows_the_first_rows_then_keeps_the_cursor(desk: Desk, monkeypatch):
    """A big library paints its first screenful before the whole list is read; a
    move made meanwhile survives the full list's arrival, and nothing is marked
    read by the swap."""
    import threading

    from paperdesk.tui import view as app_module

    monkeypatch.setattr(app_module, "FIRST_ROWS", 5)
    release = threading.Event()
    original = desk.library.ids

    def slow_ids(flt=None, sort="published", limit=None):
        if limit is None:
            release.wait(5)  # the whole list "takes a while"
        return original(flt, sort, limit=limit)

    monkeypatch.setattr(desk.library, "ids", slow_ids)
    app = app_for(desk)
    clock = FakeClock(app)
    async with app.run_test(size=(120, 36)) as pilot:
        while len(app.paper_list.ids) != 5:
            await pilot.pause(0.01)
        assert not app.loaded
        assert status(app).startswith("… / ")  # the whole list is still being read
        clock.rest()
        await pilot.press("j")
        clock.rest()
        await pilot.press("j")
        current = app.paper_list.current_id
        release.set()
        while not app.loaded:
            await pilot.pause(0.01)
        await settle(pilot)
        assert len(app.paper_list.ids) == 29
        assert app.paper_list.current_id == current
        read = {p.id for p in desk.library.papers() if p.read}
        assert read == set(app.paper_list.ids[:2])  # the two papers moved past


async def test_the_console_app_freezes_what_it_opened_with_once(desk: Desk, monkeypatch):
    """Python's full collections scanned everything the app had opened with and
    paused a key for 50-100 ms; the console script's app freezes it once opened
    (list and counts loaded), and only that app: tests share their process."""
    import gc

    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.loaded and not frozen
    app = make_app(
        desk,
        Settings(),
        poll_interval=None,
        backup_on_start=False,
        index_in_subprocess=False,
        freeze_gc=True,
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert frozen == [True]
        await pilot.press("slash", *"grokking", "enter")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert frozen == [True]


async def test_settle_waits_past_a_cancelled_exclusive_worker():
    # The CI flake of session 6: a second refresh cancels the first, and waiting
    # with WorkerManager.wait_for_complete raised WorkerCancelled.
    import asyncio
    from functools import partial

    from textual.app import App

    done: list[int] = []

    class Two(App):
        async def work(self, n: int) -> None:
            await asyncio.sleep(0.05)
            done.append(n)

    app = Two()
    async with app.run_test():
        app.run_worker(partial(app.work, 1), group="side", exclusive=True)
        app.run_worker(partial(app.work, 2), group="side", exclusive=True)
        await workers_done(app)
        assert done == [2]
