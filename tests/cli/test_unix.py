"""The command line behaves like a Unix tool: literal text, pipes, exit codes,
no surprises from repeated flags, completion, standard input."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperdesk.cli import app
from tests.dumps import LOREM, E, page

runner = CliRunner()
PAPERDESK = [sys.executable, "-m", "paperdesk"]


def run(*args: str, code: int = 0, input: str | None = None):
    result = runner.invoke(app, list(args), catch_exceptions=False, input=input)
    assert result.exit_code == code, result.output + result.stderr
    return result


def as_json(*args: str):
    return json.loads(run(*args, "--json").stdout)


HOSTILE = [
    E(
        "Masked [mask] tokens and [cls] in [/] markup",
        f"Uses [mask] and [red]x[/red] :fire:. {LOREM}",
    ),
    E("An escape \x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07 in a title \x1b[2J", LOREM, date="Nov 3, 2025"),
    E("Grokking lottery tickets", LOREM, date="Nov 2, 2025", upvotes=9),
    E("Agents that plan", "Planning agents " + LOREM, date="Nov 1, 2025", upvotes=3),
]


@pytest.fixture
def library(tmp_path) -> dict[str, str]:
    dump = tmp_path / "daily.txt"
    dump.write_text(page(HOSTILE), encoding="utf-8")
    run("import", str(dump))
    return {p["title"].split()[0].lower(): p["id"] for p in as_json("list")}


# --- literal text -----------------------------------------------------------------------------


def test_markup_in_paper_text_prints_literally(library):
    shown = run("show", library["masked"]).stdout
    assert "Masked [mask] tokens and [cls] in [/] markup" in shown
    assert "Uses [mask] and [red]x[/red] :fire:." in shown
    assert "🔥" not in shown
    result = run("tag", library["masked"], ":rocket:")
    assert "🚀" not in result.stdout and ":rocket:" in result.stdout


def test_control_characters_never_reach_the_terminal(library):
    for args in (["show", library["an"]], ["list"], ["search", "escape"]):
        output = run(*args).stdout
        assert "\x1b" not in output and "\x07" not in output, args
        assert "␛" in output  # made visible


def _pty_output(args: list[str], env: dict[str, str]) -> bytes:
    """Everything a program writes to a pseudo-terminal, as bytes."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        args, stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 20)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=20)
    os.close(leader)
    return b"".join(chunks)


def test_a_terminal_gets_no_escape_sequence_from_a_title(library, data_dir):
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    for command in (["show", library["an"]], ["list"]):
        raw = _pty_output([*PAPERDESK, *command], env)
        assert b"escape" in raw
        assert b"\x1b]52" not in raw and b"\x1b]0;" not in raw and b"\x1b[2J" not in raw
        assert b"\x07" not in raw


def test_no_color_is_honoured(library, data_dir):
    run("tag", library["grokking"], "coloured")  # tags are cyan
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    coloured = _pty_output([*PAPERDESK, "show", library["grokking"]], env)
    assert b"\x1b[3" in coloured  # a colour at a terminal...
    plain = _pty_output([*PAPERDESK, "show", library["grokking"]], {**env, "NO_COLOR": "1"})
    assert b"\x1b[3" not in plain and b"\x1b[9" not in plain  # ...and none with NO_COLOR


# --- pipes ------------------------------------------------------------------------------------


def test_not_a_terminal_one_tab_separated_line_per_paper(library):
    lines = run("list").stdout.splitlines()
    assert len(lines) == 4
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 6 for f in fields)
    grokking = next(f for f in fields if f[0] == library["grokking"])
    assert grokking == [
        library["grokking"], "2025-11-02", "9", "-N", "", "Grokking lottery tickets"
    ]  # fmt: skip
    run("star", library["grokking"])
    run("tag", library["grokking"], "b", "a")
    line = next(x for x in run("list").stdout.splitlines() if x.startswith(library["grokking"]))
    assert line.split("\t")[3:5] == ["*N", "a,b"]
    hits = run("search", "grokking").stdout.splitlines()
    assert [h.split("\t")[0] for h in hits] == [library["grokking"]]
    assert run("list", "--plain").stdout == run("list").stdout


def _shell(command: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, env=env
    )


def test_a_pipe_counts_papers_and_a_closed_pipe_is_no_failure(library, data_dir, tmp_path):
    exe = " ".join(PAPERDESK)
    many = tmp_path / "many.txt"
    many.write_text(page([E(f"Paper number {n} about things", LOREM) for n in range(3000)]))
    assert _shell(f"{exe} import {many} >/dev/null", data_dir).returncode == 0
    counted = _shell(f"{exe} list | wc -l", data_dir)
    assert counted.returncode == 0 and counted.stdout.strip() == "3004"
    closed = _shell(f"{exe} list | head -1", data_dir)
    assert closed.returncode == 0, closed.stderr
    assert closed.stderr == "" and len(closed.stdout.splitlines()) == 1
    closed = _shell(f"{exe} list --json | head -c 10", data_dir)
    assert closed.returncode == 0 and "Traceback" not in closed.stderr


# --- queries that mean nothing -------------------------------------------------------------------


@pytest.mark.parametrize("query", ["((", "AND", "~", '"', "", "   ", "title:("])
def test_a_query_with_nothing_to_search_for_is_refused(library, query):
    result = run("search", query, code=2)
    assert "cannot read the query" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_lower_case_not_gets_a_hint(library):
    result = run("search", "grokking not lottery")
    assert "did you mean NOT?" in result.stderr
    data = as_json("search", "grokking not lottery")
    assert data["hints"] and "NOT" in data["hints"][0]
    assert as_json("search", "grokking NOT lottery")["total"] == 0


def test_a_sorted_search_keeps_the_relevance_score(library):
    relevance = {r["id"]: r["score"] for r in as_json("search", "agents OR grokking")["results"]}
    data = as_json("search", "agents OR grokking", "--sort", "upvotes")
    assert data["sort"] == "upvotes"
    assert [r["upvotes"] for r in data["results"]] == [9, 3]
    assert {r["id"]: r["score"] for r in data["results"]} == relevance


def test_deep_nesting_is_a_message_not_a_crash(library):
    for query in ("(" * 300 + "a", "tag:(" * 200, "NOT " * 400 + "a"):
        result = run("search", query, code=2)
        assert "nested too deeply" in result.stderr or "too long" in result.stderr


# --- no terminal, flags, exit codes -------------------------------------------------------------


def test_the_app_without_a_terminal_says_so(data_dir):
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data_dir)}
    for args in ([], ["demo"]):
        result = subprocess.run(
            [*PAPERDESK, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=env, timeout=30,
        )  # fmt: skip
        assert result.returncode == 2
        assert "needs a terminal" in result.stderr


def test_a_single_value_flag_given_twice_is_refused(library):
    result = run("list", "--sort", "title", "--sort", "upvotes", code=2)
    assert "--sort was given more than once" in result.stderr
    run("search", "x", "--limit=3", "--limit", "4", code=2)
    run("export", "-f", "csv", "--format", "md", code=2)


def test_tags_given_twice_mean_both(library):
    run("tag", library["grokking"], "a", "b")
    run("tag", library["agents"], "a")
    assert [p["id"] for p in as_json("list", "--tag", "b", "--tag", "a")] == [library["grokking"]]


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--sort", "bogus"],
        ["list", "--read", "--unread"],
        ["list", "--limit", "0"],
        ["list", "--limit", "-1"],
        ["search", "x", "--sort", "bogus"],
        ["export", "--format", "docx"],
        ["export", "--group-by", "year"],
        ["search", "foo:bar"],
        ["list", "--no-such-option"],
    ],
)
def test_usage_errors_exit_2(library, args):
    run(*args, code=2)


def test_choices_take_any_case(library):
    ups = [p["upvotes"] for p in as_json("list", "--sort", "UPVOTES")]
    assert ups == [9, 3, None, None]
    assert run("export", "--format", "CSV").stdout.startswith("id,title")


# --- tags -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "x" * 5000, "-", "&", "…"])
def test_empty_and_over_long_tags_are_refused(library, bad):
    """And a tag of punctuation alone: a search's bare word of punctuation adds
    nothing, so such a tag could only be found as tag:-."""
    result = run("tag", library["grokking"], "--", bad, code=2)
    assert len(result.stderr.strip().splitlines()) == 1
    assert any(
        words in result.stderr for words in ("empty", "at most 64 characters", "a letter")
    ), result.stderr
    assert as_json("show", library["grokking"])["tags"] == []


def test_a_tag_of_punctuation_from_before_stays_searchable_and_removable(library, data_dir):
    """Tags of punctuation alone are refused now; one a library already has
    (from an older release, or synced) is still found by tag: and taken off."""
    from paperdesk.desk import Desk
    from paperdesk.library.decisions import _add_tag

    pid = library["grokking"]
    with Desk(data_dir) as desk:
        with desk.library._write() as conn:
            _add_tag(conn, pid, "-", "2026-01-01T00:00:00Z")
    run("index", "rebuild")  # written behind the library's back: no change number
    assert as_json("show", pid)["tags"] == ["-"]
    assert [p["id"] for p in as_json("search", "tag:-")["results"]] == [pid]
    run("untag", pid, "--", "-")
    assert as_json("show", pid)["tags"] == []


def test_untag_says_when_a_tag_was_not_there(library):
    run("tag", library["grokking"], "kept")
    result = run("untag", library["grokking"], "missing")
    assert "had no tag 'missing'" in result.stderr
    assert as_json("show", library["grokking"])["tags"] == ["kept"]


def test_tag_search_folds_accents(library):
    run("tag", library["grokking"], "ünïcode-tag")
    assert [r["id"] for r in as_json("search", "tag:unicode-tag")["results"]] == [
        library["grokking"]
    ]
    assert as_json("search", "tag:ünïcode-tag")["total"] == 1


# --- input --------------------------------------------------------------------------------------


def test_import_from_standard_input(tmp_path):
    result = run("import", "-", input=page([E("From a pipe", LOREM)]))
    assert "(standard input): 1 paper: 1 new" in result.stdout
    assert as_json("list")[0]["sources"][0]["file"] == "(standard input)"


def test_import_a_directory_imports_the_dumps_inside(tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "a.txt").write_text(page([E("First paper here", LOREM)]), encoding="utf-8")
    (folder / "b.txt").write_text(page([E("Second paper here", LOREM)]), encoding="utf-8")
    (folder / "notes.pdf").write_bytes(b"%PDF")
    lines = run("import", str(folder)).stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [str(folder / "a.txt"), str(folder / "b.txt")]


def test_sources_keep_the_path_the_user_gave(tmp_path):
    for name in ("monday", "tuesday"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "daily.txt").write_text(page([E("Same paper", LOREM)]))
        run("import", str(tmp_path / name / "daily.txt"))
    files = [s["file"] for s in as_json("list")[0]["sources"]]
    assert files == [str(tmp_path / day / "daily.txt") for day in ("monday", "tuesday")]


def test_special_files_are_refused(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = subprocess.run(
        [*PAPERDESK, "import", str(fifo)], capture_output=True, text=True, timeout=30,
        env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 1 and "not a regular file" in result.stderr


# --- completion ----------------------------------------------------------------------------


def test_completion_of_ids_and_tags(library, data_dir):
    run("tag", library["grokking"], "long-horizon")
    env = {
        **os.environ, "PAPERDESK_DATA_DIR": str(data_dir), "_PAPERDESK_COMPLETE": "complete_bash"
    }  # fmt: skip
    script = Path(sys.executable).with_name("paperdesk")

    def complete(words: str) -> list[str]:
        parts = words.split(" ")
        result = subprocess.run(
            [str(script)], capture_output=True, text=True, timeout=30,
            env={**env, "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete(f"paperdesk show {library['grokking'][:3]}") == [library["grokking"]]
    assert complete(f"paperdesk tag {library['grokking']} lo") == ["long-horizon"]
    assert "search" in complete("paperdesk sea")
    assert "--install-completion" in run("--help").stdout


# --- restore and the clock ------------------------------------------------------------------------


def test_restore_asks_and_says_what_the_backup_lacks(library, tmp_path, monkeypatch):
    later = tmp_path / "later.txt"
    later.write_text(page([E("Imported after the backup", LOREM)]), encoding="utf-8")
    run("import", str(later))  # backs up the 4-paper library first
    refused = run("restore", code=2)
    assert "--yes" in refused.stderr
    assert "lacks 1 paper" in refused.stderr and str(later) in refused.stderr
    assert len(as_json("list")) == 5  # nothing was replaced
    import paperdesk.cli

    monkeypatch.setattr(paperdesk.cli, "_at_terminal", lambda: True)
    no = run("restore", code=1, input="n\n")
    assert len(as_json("list")) == 5 and "not restored" in no.stderr


def test_future_stamps_count_as_made_now(library, tmp_path):
    pid = library["grokking"]
    state = {
        "format": "paperdesk-state",
        "version": 1,
        "papers": {
            pid: {"read": True, "read_at": "2099-01-01T00:00:00.000Z", "starred": False,
                  "starred_at": None, "tags": {}},
        },
    }  # fmt: skip
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    result = run("state", "import", str(path))
    assert "1 decision stamped more than a day in the future" in result.stderr
    stamp = as_json("show", pid)
    assert stamp["read"] is True
    exported = json.loads(run("state", "export").stdout)
    assert not exported["papers"][pid]["read_at"].startswith("2099")
    run("unread", pid)  # a real decision made later wins
    assert as_json("show", pid)["read"] is False


def test_a_decision_leaves_another_process_s_index_work_to_the_next_search(library, data_dir):
    """`star` returns when its decision is saved: 900 papers another process
    imported without indexing them wait for the next search (2 of 900 stars
    ran past 120 s doing such work)."""
    from paperdesk.desk import Desk
    from paperdesk.model import Entry

    run("search", "grokking")  # the index exists and is up to date
    meta = data_dir / "index" / "paperdesk-index.json"
    before = json.loads(meta.read_text())["seq"]
    with Desk(data_dir) as other:  # as an import in another terminal, not yet indexed
        other.library.import_entries(
            [Entry(f"Pending paper {n}", LOREM) for n in range(900)], "other.txt"
        )
    run("star", library["grokking"])
    assert json.loads(meta.read_text())["seq"] == before  # no catch-up done by the star
    assert as_json("search", "pending paper", "--limit", "1")["total"] == 900
    assert as_json("search", "is:starred")["total"] == 1


def test_show_and_the_markdown_export_give_one_facts_line(tmp_path, data_dir):
    """A paper's facts (date, authors, upvotes, organisation) read the same, in
    the same order, in ``show`` and in the Markdown export (model.facts)."""
    dump = tmp_path / "one.txt"
    entry = E("Facts of a paper", LOREM, date="Nov 2, 2025", upvotes=9, org="acme Acme Labs")
    dump.write_text(page([entry]), encoding="utf-8")
    run("import", str(dump))
    [paper] = as_json("list")
    line = f"2025-11-02 · 9 upvotes · {paper['organization']}"
    assert paper["organization"]
    assert line in run("show", paper["id"]).stdout
    assert line in run("export", "--format", "md", "--query", f"id:{paper['id']}").stdout


def test_a_bibliography_date_of_a_year_is_listed_shown_and_exported_as_a_year(tmp_path):
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@article{a, title = {Only A Year}, year = {2019}}\n"
        "@article{b, title = {A Year And Month}, year = {2019}, month = jun}\n",
        encoding="utf-8",
    )
    run("import", "--star", str(bib))
    lines = {line.split("\t")[-1]: line.split("\t") for line in run("list").stdout.splitlines()}
    assert lines["Only A Year"][1] == "2019" and lines["A Year And Month"][1] == "2019-06"
    pid = lines["Only A Year"][0]
    assert "2019 · " in run("show", pid).stdout and "2019-01-01" not in run("show", pid).stdout
    exported = run("export", "--format", "bibtex").stdout
    assert "month = jan" not in exported and "month = jun" in exported
