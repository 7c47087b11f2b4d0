"""The app never makes a decision the user did not make, and its keys do what
they say: reading needs a dwell, unread marks hold, dialogs ask, undo names
what it undoes and redo exists, typed text keeps its order."""

from __future__ import annotations

import json
from pathlib import Path

from textual import events
from textual.widgets import Input

from paperdesk.desk import Desk
from paperdesk.model import Entry
from paperdesk.tui.pilot import settle
from paperdesk.tui.screens.confirm import ConfirmScreen
from paperdesk.tui.screens.export_dialog import ExportDialog
from paperdesk.tui.screens.tag_editor import TagEditor
from tests.tui.test_app import FakeClock, app_for, fresh, status


def burst(app, keys: list[str]) -> None:
    """Keys as a terminal sends them in one burst: no pause between them."""
    names = {"/": "slash", " ": "space", ".": "full_stop", ":": "colon", "-": "minus"}
    for key in keys:
        if len(key) == 1:
            app._driver.send_message(events.Key(names.get(key, key), key))
        else:
            app._driver.send_message(events.Key(key, None))


def unread(desk: Desk) -> int:
    return Desk(desk.data_dir).library.counts().unread


# --- 1. read only after a dwell ---------------------------------------------------------------


async def test_a_burst_of_moves_reads_nothing(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        before = unread(desk)
        burst(app, ["j"] * 200)
        await pilot.pause(0.5)
        await pilot.press("G", "g")
        await settle(pilot)
        assert unread(desk) == before
        await pilot.press("q")


async def test_resting_on_a_paper_then_moving_reads_it_and_z_takes_it_back(desk: Desk):
    app = app_for(desk)
    clock = FakeClock(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.paper_list.current_id
        clock.rest(1.0)
        await pilot.press("j", "k")  # one second is not reading it
        assert not fresh(desk, first).read
        clock.rest(2.5)
        await pilot.press("j")
        assert fresh(desk, first).read
        await pilot.press("z")
        assert not fresh(desk, first).read
        assert app.paper_list.current_id == first  # undo shows the paper it changed


async def test_the_dwell_is_a_setting_and_zero_turns_reading_off(desk: Desk):
    app = app_for(desk, read_after_seconds=0.0)
    clock = FakeClock(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.paper_list.current_id
        clock.rest(60)
        await pilot.press("j")
        assert not fresh(desk, first).read


async def test_typing_a_search_reads_nothing_and_matches_from_the_first_letters(desk: Desk):
    app = app_for(desk)
    clock = FakeClock(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        before = unread(desk)
        await pilot.press("slash")
        for letter in "grokking":
            clock.rest(5)  # even slowly: the search bar has the focus
            await pilot.press(letter)
            await pilot.pause(0.2)
            await settle(pilot)
            if letter == "k":  # "grok" so far
                titles = [app.paper_list.paper(i).title for i in range(len(app.paper_list.ids))]
                assert titles and all("rok" in t.lower() for t in titles), titles
        assert unread(desk) == before
        assert len(app.paper_list.ids) == 4


async def test_quitting_reads_nothing(desk: Desk):
    app = app_for(desk)
    clock = FakeClock(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.paper_list.current_id
        clock.rest(30)
        await pilot.press("q")
    assert not fresh(desk, first).read


# --- 2. an unread mark holds ------------------------------------------------------------------


async def test_marked_unread_stays_unread_after_a_sort_and_an_outside_change(desk: Desk):
    app = app_for(desk)
    clock = FakeClock(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        paper = app.paper_list.current_id
        await pilot.press("r", "r")  # read, then unread on purpose
        assert not fresh(desk, paper).read
        await pilot.press("S", "S", "S", "S", "S")  # round the sorts, back to published
        await settle(pilot)
        other = next(pid for pid in app.paper_list.ids if pid != paper)
        Desk(desk.data_dir).set_starred([other])  # another terminal
        app.poll_external()
        await settle(pilot)
        app.paper_list.cursor = app.paper_list.ids.index(paper)
        await pilot.pause(0.05)
        clock.rest(1.0)
        await pilot.press("j")
        assert not fresh(desk, paper).read


# --- 3. dialogs ask, and No is the default ----------------------------------------------------


async def test_mark_all_read_has_no_focused_so_enter_changes_nothing(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        before = unread(desk)
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert unread(desk) == before and not isinstance(app.screen, ConfirmScreen)


async def test_export_asks_before_replacing_and_keeps_its_choices_on_failure(
    desk: Desk, tmp_path: Path
):
    app = app_for(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s", "e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert not dialog.query("#sel-query")  # no search: no "Current search" choice
        target = tmp_path / "out.md"
        target.write_text("my notes", encoding="utf-8")
        dialog.query_one("#fmt-csv").value = True
        await pilot.pause()
        field = dialog.query_one("#export-path", Input)
        field.value = str(target)
        await pilot.press("enter") if app.focused is field else None
        dialog._submit()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "exists" in str(app.screen.question) and ".csv" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert target.read_text(encoding="utf-8") == "my notes"
        assert app.screen is dialog
        field.value = str(tmp_path / "missing-dir" / "x.csv")
        dialog._submit()
        await settle(pilot)
        assert app.screen is dialog  # still open, with the error
        assert "Not exported" in str(dialog.query_one("#export-error").content)
        assert dialog.fmt == "csv"
        field.value = str(target)
        dialog._submit()
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is not dialog
        assert target.read_text(encoding="utf-8").startswith("id,title")


async def test_export_offers_grouping_and_abstracts(desk: Desk, tmp_path: Path):
    app = app_for(desk)
    async with app.run_test(size=(120, 44)) as pilot:
        await settle(pilot)
        await pilot.press("s", "slash", *"agents", "enter")
        await settle(pilot)
        await pilot.press("e")
        dialog = app.screen
        assert dialog.query("#sel-query")
        dialog.query_one("#group-none").value = True
        dialog.query_one("#export-abstracts").value = True
        await pilot.pause()
        target = tmp_path / "new.md"
        dialog.query_one("#export-path", Input).value = str(target)
        dialog._submit()
        await settle(pilot)
        text = target.read_text(encoding="utf-8")
        assert "\n> " in text and "\n## " not in text  # abstracts, no sections


# --- 4. undo names what it undoes; Z redoes ---------------------------------------------------


async def test_undo_names_the_paper_and_redo_does_it_again(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        paper = app.paper_list.current
        await pilot.press("s", "G")
        assert fresh(desk, paper.id).starred
        await pilot.press("z")
        assert not fresh(desk, paper.id).starred
        assert app.paper_list.current_id == paper.id
        messages = [n.message for n in app._notifications]
        assert any("Undid star" in m and paper.title in m for m in messages), messages
        await pilot.press("Z")
        assert fresh(desk, paper.id).starred
        await pilot.press("z", "r")  # a new action: nothing left to redo
        await pilot.press("Z")
        assert not fresh(desk, paper.id).starred
        assert any("Nothing to redo" in n.message for n in app._notifications)


# --- 5. Tab completes a tag -------------------------------------------------------------------


async def test_tab_completes_and_cycles_through_tags(desk: Desk):
    ids = desk.library.ids()
    desk.add_tags(ids[1], ["long-horizon"])
    desk.add_tags(ids[2], ["low-rank"])
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("t", "l", "o", "tab")
        field = app.screen.query_one("#tag-input", Input)
        assert field.value == "long-horizon"
        await pilot.press("tab")
        assert field.value == "low-rank"
        await pilot.press("tab")
        assert field.value == "long-horizon"
        await pilot.press("enter")
        await settle(pilot)
        assert fresh(desk, ids[0]).tags == ("long-horizon",)


# --- 6. text typed in a burst keeps its order -------------------------------------------------


async def test_a_burst_keeps_its_order_in_every_input(desk: Desk, tmp_path: Path):
    app = app_for(desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        burst(app, list("ab/cd ef/gh"))
        await pilot.pause(0.3)
        assert app.screen.query_one("#tag-input", Input).value == "ab/cd ef/gh"
        await pilot.press("escape")
        await pilot.press("slash")
        burst(app, list("host:github.com/gouki"))
        await pilot.pause(0.3)
        assert app.query_one("#search", Input).value == "host:github.com/gouki"
        await pilot.press("escape")
        await pilot.press("e")
        dialog = app.screen
        field = dialog.query_one("#export-path", Input)
        dialog.set_focus(field)
        await pilot.pause()
        burst(app, list("/tmp/x.md"))
        await pilot.pause(0.3)
        assert field.value == "/tmp/x.md"  # typing replaced the preselected path


async def test_enter_twice_in_the_tag_editor_saves_once_and_does_not_crash(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        await pilot.press("t")
        burst(app, [*"robots", "enter", "enter"])
        await pilot.pause(0.3)
        await settle(pilot)
        assert fresh(desk, pid).tags == ("robots",)
        assert not isinstance(app.screen, TagEditor)


# --- 7. the preview reads from the keyboard ---------------------------------------------------


async def test_the_preview_scrolls_from_the_list_and_says_when_it_is_cut(data_dir: Path):
    desk = Desk(data_dir)
    long = " ".join(f"Sentence number {n} of a very long abstract." for n in range(200))
    desk.library.import_entries([Entry("A paper with a long abstract", long)], "long.txt")
    app = app_for(desk)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        preview = app.preview
        assert preview.more_below > 0
        bottom = preview.render_line(preview.scrollable_content_region.height - 1).text
        assert "more line" in bottom
        await pilot.press("J")
        assert preview.scroll_y > 0 and app.focused is app.paper_list
        await pilot.press("K")
        assert preview.scroll_y == 0
        app.set_focus(preview)
        await pilot.press("j", "space")
        assert preview.scroll_y > 1
        await pilot.press("G")
        assert preview.more_below == 0
        await pilot.press("g")
        assert preview.scroll_y == 0
    desk.close()


# --- 8. search as you type --------------------------------------------------------------------


async def test_a_did_you_mean_is_one_key_away(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"grokkng", "enter")
        await settle(pilot)
        assert "did you mean [b]grokking[/b]? (ctrl+y)" in status(app)
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.query_one("#search", Input).value == "grokking"
        assert len(app.paper_list.ids) == 4


async def test_the_app_says_what_the_command_line_hints_about_a_query(desk: Desk):
    """The hints `paperdesk search` prints (a one-letter prefix is slow; a
    lower-case "or" is a word) are in the status line; a word still being
    typed gets none ("and" on the way to "android")."""
    app = app_for(desk)
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"a*", "enter")
        await settle(pilot)
        assert "[b]hint:[/b] a* is slow: add a letter  ·  " in status(app)  # whole: 104 chars
        await pilot.press("slash", "ctrl+u", *"grokking or")
        await settle(pilot)
        assert "hint:" not in status(app)  # "or" may be the start of a word
        await pilot.press("space")
        await settle(pilot)
        assert '[b]hint:[/b] "or" is searched as a word; write OR' in status(app)
        await pilot.press("ctrl+u", *"grokking OR memorization", "enter")
        await settle(pilot)
        assert "hint:" not in status(app)


async def test_a_narrow_status_line_shows_a_hint_short_and_whole(desk: Desk):
    """At 100 columns the whole hint was cut after a few words ("not" is
    searched as a w…); its short form fits."""
    app = app_for(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"grokking not vision", "enter")
        await settle(pilot)
        assert "[b]hint:[/b] write NOT to exclude  ·  " in status(app)
        await pilot.press("slash", "ctrl+u", *"g*", "enter")
        await settle(pilot)
        assert "[b]hint:[/b] g* is slow: add a letter  ·  " in status(app)


async def test_an_empty_group_is_a_message_and_filters_keep_the_sort(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"title:(", "enter")
        await settle(pilot)
        assert '"title:" needs a value' in status(app)
        await pilot.press("escape", "S")  # sort by upvotes
        await settle(pilot)
        await pilot.press("slash", *"upvotes:>=1", "enter")
        await settle(pilot)
        assert "sort: upvotes" in status(app)
        ups = [app.paper_list.paper(i).upvotes for i in range(len(app.paper_list.ids))]
        assert ups == sorted(ups, reverse=True)


# --- 9. the views are what their keys say; n wraps; Escape keeps the paper --------------------


async def test_u_f_and_a_switch_between_three_views(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s", "r")
        await pilot.press("u")
        await settle(pilot)
        assert app.view == "unread" and len(app.paper_list.ids) == 28
        await pilot.press("f")  # the starred view, not "unread and starred"
        await settle(pilot)
        assert app.view == "starred" and len(app.paper_list.ids) == 1
        assert "view: starred only" in status(app)
        await pilot.press("a")
        await settle(pilot)
        assert app.view == "all" and len(app.paper_list.ids) == 29


async def test_n_wraps_to_the_first_unread_above(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        ids = app.paper_list.ids
        desk.set_read(ids[3:])
        app.paper_list.invalidate()
        app.paper_list.cursor = 10
        await pilot.press("n")
        assert app.paper_list.cursor == 0


async def test_escape_that_clears_a_search_keeps_the_paper(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"agents", "enter")
        await settle(pilot)
        await pilot.press("j")
        chosen = app.paper_list.current_id
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.paper_list.ids) == 29
        assert app.paper_list.current_id == chosen


# --- 11. where you were -----------------------------------------------------------------------


async def test_view_sort_and_paper_come_back_after_a_restart(desk: Desk):
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("u", "S")
        await settle(pilot)
        await pilot.press("j", "j", "j")
        chosen = app.paper_list.current_id
        await pilot.press("q")
    again = app_for(Desk(desk.data_dir), mark_read_on_move=False)
    async with again.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert again.view == "unread" and again.list_sort == "upvotes"
        assert again.paper_list.current_id == chosen
    state = json.loads((desk.data_dir / "ui-state.json").read_text(encoding="utf-8"))
    assert state["paper"] == chosen


# --- 12. o always goes somewhere, or says why not ---------------------------------------------


async def test_o_without_a_browser_copies_the_link_and_says_so(desk: Desk, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("BROWSER", raising=False)
    app = app_for(desk)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert copied == [app.paper_list.current.links[0]]
        assert any("No browser" in n.message for n in app._notifications)


# --- 13. arrivals are announced ---------------------------------------------------------------


async def test_papers_from_another_terminal_are_announced(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        entries = [Entry(f"Arrived paper {n}", "An abstract. " * 20) for n in range(4)]
        Desk(desk.data_dir).library.import_entries(entries, "other.txt")
        app.poll_external()
        await settle(pilot)
        assert any(n.message == "4 new papers" for n in app._notifications)
        assert len(app.paper_list.ids) == 33


# --- 14. nothing cut at the default size ------------------------------------------------------


async def test_the_footer_and_status_fit_at_120_columns(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        from textual.widgets._footer import FooterKey

        keys = list(app.screen.query(FooterKey))
        quit_key = next(key for key in keys if key.description == "Quit")
        palette = next(key for key in keys if key.description == "palette")
        assert quit_key.region.right <= palette.region.x  # not drawn under "^p palette"
        long_error = "upvotes:>=" + "x" * 150
        await pilot.press("slash", *long_error, "enter")
        await settle(pilot)
        assert "29 unread" in status(app)
        line = app.query_one("#status").render_line(0).text
        assert "29 unread" in line, line


async def test_the_tag_editor_shows_its_help_and_title_whole(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        title = app.paper_list.current.title
        await pilot.press("t")
        await pilot.pause()
        dialog = app.screen
        for widget, text in (
            (dialog.query_one("#tag-help"), str(dialog.query_one("#tag-help").content)),
            (dialog.query_one("#tag-paper"), title),
        ):
            shown = " ".join(widget.render_line(y).text for y in range(widget.size.height))
            assert " ".join(text.split()) in " ".join(shown.split()), shown


# --- paper text reaches the screen as text ---------------------------------------------------


async def test_markup_and_escape_sequences_in_paper_text_are_shown_literally(data_dir: Path):
    desk = Desk(data_dir)
    title = "Masked [mask] and [/] with \x1b]52;c;eA==\x07 and [b]bold[/b]"
    desk.library.import_entries([Entry(title, "Abstract [cls] \x1b[2J " * 10)], "x.txt")
    desk.add_tags(desk.library.ids()[0], ["[red]x"])
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "[mask] and [/]" in app.preview.text
        assert "\x1b" not in app.preview.text and "␛" in app.preview.text
        row = app.paper_list.render_line(0).text
        assert "[mask]" in row and "\x1b" not in row
        await pilot.press("s", "z")  # the undo notification quotes the title
        await settle(pilot)
        assert any("[/]" in n.message for n in app._notifications)
        screen = app.export_screenshot()
        assert "\x1b" not in screen
    desk.close()


async def test_a_change_from_another_terminal_just_before_a_key_is_not_missed(desk: Desk):
    """Another process stars paper B; a moment later the user stars paper A. The
    app's own refresh must not take B's change for its own (5 of 8 trials left
    B shown unstarred, one still after 45 s)."""
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        other_id = app.paper_list.ids[5]
        Desk(desk.data_dir).set_starred([other_id])  # the other terminal
        await pilot.press("s")  # within the poll's 2 s, before it looked
        app.flush_pending()
        await settle(pilot)
        index = app.paper_list.ids.index(other_id)
        assert app.paper_list.paper(index).starred


async def test_keys_right_after_t_go_to_the_tag_editor(desk: Desk):
    """t x y Enter in one burst (the app busy a moment): the editor opens before
    the later keys are handled, and they are typed into it, in order."""
    app = app_for(desk, mark_read_on_move=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        burst(app, ["t", "x", "4", "w", "enter", "j", "s"])
        await pilot.pause(0.5)
        await settle(pilot)
        assert fresh(desk, pid).tags == ("x4w",)
        assert app.paper_list.cursor == 1  # j moved in the list after the editor closed
        assert fresh(desk, app.paper_list.ids[1]).starred  # and s starred, not typed


async def test_t_over_the_help_screen_opens_no_tag_editor(desk: Desk):
    from paperdesk.tui.screens.help import HelpScreen

    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark", "t")
        assert isinstance(app.screen, HelpScreen)
