"""config.toml's [keys] in the app: the new key acts and the old one no longer
does, ? and the footer and the palette show the keys in force, a bad entry
is one line at start; `paperdesk keys` prints the same table."""

from __future__ import annotations

import json

from rich.console import Console
from typer.testing import CliRunner

from paperdesk.cli import app as cli
from paperdesk.desk import Desk
from paperdesk.settings import load
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle
from paperdesk.tui.screens.help import HelpScreen


def settings_from(path, text: str):
    path.write_text(text, encoding="utf-8")
    settings, problems = load(path)
    return settings, problems


async def test_a_keys_table_changes_the_star_key_and_help_shows_it(desk: Desk, tmp_path):
    settings, problems = settings_from(
        tmp_path / "config.toml",
        'mark_read_on_move = false\n[keys]\nstar = "b"\nnext_unread = ["s", "ctrl+n"]\n'
        'read = "j"\n',
    )
    assert len(problems) == 1 and "read = 'j' is already the key of down" in problems[0]
    app = make_app(desk, settings, poll_interval=None, backup_on_start=False,
                   index_in_subprocess=False, banner="; ".join(problems))  # fmt: skip
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.paper_list.current_id
        await pilot.press("b")
        await settle(pilot)
        assert desk.get(first).starred
        await pilot.press("s")  # now next unread: moves, stars nothing
        await settle(pilot)
        assert app.paper_list.current_id != first
        assert [p.id for p in desk.get_many(desk.ids()) if p.starred] == [first]
        await pilot.press("r")  # read kept its default
        await settle(pilot)
        assert desk.get(app.paper_list.current_id).read
        # The footer shows the key in force.
        footer_keys = {b.binding.id: key for key, b in app.active_bindings.items() if b.binding.id}
        assert footer_keys.get("star") == "b"
        titles = {c.help for c in app.get_system_commands(app.screen)}
        assert any("Star / unstar" in t and "(key: b)" in t for t in titles)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, record=True)
        console.print(app.screen.query_one("#help-table").content)
        rows = console.export_text().splitlines()
        star_row = next(line for line in rows if "Star / unstar" in line)
        assert star_row.split()[0] == "b"
        unread_row = next(line for line in rows if "Next unread paper" in line)
        assert unread_row.split()[:2] == ["s,", "Ctrl+N"]


def test_paperdesk_keys_prints_the_keys_in_force(tmp_path, data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.toml").write_text('[keys]\nstar = "b"\nbogus = "q"\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["keys", "--json"])
    assert result.exit_code == 0
    actions = {a["name"]: a for a in json.loads(result.stdout)["actions"]}
    assert actions["star"]["keys"] == ["b"] and actions["help"]["shown"] == "?"
    assert "bogus: no such action" in result.stderr
    table = runner.invoke(cli, ["keys"]).stdout
    assert "Star / unstar" in table and "star" in table
    markdown = runner.invoke(cli, ["keys", "--markdown", "--preset", "newsboat"]).stdout
    assert "| `N` | Read / unread (the selection, if any) | `read` |" in markdown
    assert runner.invoke(cli, ["keys", "--preset", "emacs"]).exit_code == 2
