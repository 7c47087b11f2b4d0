from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperdesk.cli import app
from tests.dumps import LOREM, E, page

runner = CliRunner()


def run(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


def as_json(*args: str):
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def imported(samples):
    run("import", *map(str, samples))
    return samples


def test_import_samples_reports_each_file(samples):
    result = run("import", *map(str, samples))
    lines = result.stdout.strip().splitlines()
    assert lines[0].endswith(
        "000_d9c49da1ae1e2208.txt: 69 papers: 69 new, 0 updated, 0 unchanged, 0 warnings"
    )
    assert lines[1].endswith(
        "001_2c987576fe42236f.txt: 80 papers: 71 new, 9 updated, 0 unchanged, 0 warnings"
    )
    assert len(as_json("list")) == 140


def test_star_survives_reimport(imported):
    papers = as_json("list", "--sort", "title")
    pid = papers[0]["id"]
    run("star", pid[:5])
    run("tag", pid, "must-read")
    again = run("import", *map(str, imported))
    assert "0 new, 0 updated, 69 unchanged" in again.stdout
    starred = as_json("list", "--starred")
    assert [p["id"] for p in starred] == [pid]
    assert starred[0]["tags"] == ["must-read"]


def test_list_json_paper_object(imported):
    papers = as_json("list", "--sort", "title")
    keys = [
        "id",
        "title",
        "abstract",
        "authors",
        "organization",
        "published",
        "published_raw",
        "upvotes",
        "links",
        "read",
        "starred",
        "tags",
        "first_seen",
        "sources",
        "author_names",
        "arxiv_id",
        "arxiv_version",
        "doi",
        "categories",
        "comments",
        "keywords",
        "github_stars",
        "pdf",
        "field_sources",
        "dismissed",
        "interest",
        "note",
        "published_precision",
    ]
    assert list(papers[0]) == keys
    tencent = [p for p in papers if p["organization"] == "Tencent"]
    ropes = next(p for p in tencent if p["title"].startswith("Learn the Ropes"))
    assert ropes["published"] == "2025-09-26" and ropes["published_raw"] == "Sep 26"
    assert ropes["upvotes"] == 4 and ropes["authors"] is None
    first = str(imported[0].resolve())  # the path the user gave, resolved
    assert ropes["sources"] == [{"file": first, "page_date": "2025-11-11"}]
    both = [p for p in papers if len(p["sources"]) == 2]
    assert len(both) == 9


def test_list_filters_sorts_and_limit(imported):
    papers = as_json("list", "--sort", "upvotes", "--limit", "3")
    assert len(papers) == 3
    assert papers[0]["upvotes"] >= papers[1]["upvotes"] >= papers[2]["upvotes"]
    pid = papers[0]["id"]
    run("read", pid)
    assert [p["id"] for p in as_json("list", "--read")] == [pid]
    assert len(as_json("list", "--unread")) == 139
    run("unread", pid)
    assert as_json("list", "--read") == []
    run("tag", pid, "x")
    assert [p["id"] for p in as_json("list", "--tag", "X")] == [pid]
    run("untag", pid, "x")
    assert as_json("list", "--tag", "x") == []
    assert run("list", "--sort", "bogus", ok=False).exit_code == 2


def test_table_output(imported, monkeypatch):
    import paperdesk.commands

    monkeypatch.setattr(paperdesk.commands, "plain_wanted", lambda plain: plain)  # as at a terminal
    result = run("list", "--limit", "2")
    assert "2 of 140 papers" in result.stdout


def test_show(imported):
    pid = as_json("list", "--sort", "title")[0]["id"]
    shown = as_json("show", pid[:4])
    assert shown["id"] == pid
    text = run("show", pid).stdout
    assert shown["title"][:30] in text


def test_unknown_and_ambiguous_ids_fail_clearly(imported):
    for command in (["star"], ["unstar"], ["read"], ["unread"], ["show"], ["tag"], ["untag"]):
        args = [*command, "ffffffff"] + (["x"] if command[0] in ("tag", "untag") else [])
        result = run(*args, ok=False)
        assert result.exit_code == 1
        assert "no paper with ID 'ffffffff'" in result.stderr
    result = run("star", "abc", ok=False)
    assert result.exit_code == 1 and "too short" in result.stderr


def test_star_several_and_unstar(imported):
    ids = [p["id"] for p in as_json("list", "--limit", "3")]
    assert "starred 3 papers" in run("star", *ids).stdout
    assert "starred 0 papers (3 already were)" in run("star", *ids).stdout
    run("unstar", ids[0])
    assert {p["id"] for p in as_json("list", "--starred")} == set(ids[1:])


def test_locate(data_dir):
    places = as_json("locate")
    assert places["library"] == str(data_dir / "library.sqlite3")
    assert places["index"] == str(data_dir / "index")
    assert not data_dir.exists()  # locating creates nothing


def test_empty_library_list_says_how_to_import():
    assert "paperdesk import" in run("list").stderr


# --- bad input: one clear line, exit 1, library unchanged -------------------------------------


def library_snapshot(data_dir: Path):
    path = data_dir / "library.sqlite3"
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, read, starred, seq FROM papers ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b"\n \n\t\n", "is empty"),
        ("binary.bin", bytes(range(256)) * 40, "binary"),
        ("prose.txt", b"Dear diary.\n\nToday was long.\n\nThe end.", "not"),
        ("chrome.txt", b"new\n\nSubscribe\n\nDaily Papers\n\nNov 11", "no paper entries"),
    ],
)
def test_bad_files_are_rejected_and_good_ones_still_import(
    tmp_path, data_dir, samples, name, content, reason
):
    run("import", str(samples[0]))
    run("star", as_json("list")[0]["id"])
    before = library_snapshot(data_dir)
    bad = tmp_path / name
    bad.write_bytes(content)
    result = run("import", str(bad), ok=False)
    assert result.exit_code == 1
    err_lines = result.stderr.strip().splitlines()
    assert len(err_lines) == 1 and name in err_lines[0] and reason in err_lines[0]
    assert library_snapshot(data_dir) == before
    # A bad file beside a good one: the good one is imported, the status is still 1.
    result = run("import", str(bad), str(samples[1]), ok=False)
    assert result.exit_code == 1 and "80 papers" in result.stdout
    assert len(as_json("list")) == 140


def test_missing_file_and_directory(tmp_path):
    result = run("import", str(tmp_path / "nope.txt"), ok=False)
    assert result.exit_code == 1 and "nope.txt: no such file" in result.stderr
    result = run("import", str(tmp_path), ok=False)
    assert result.exit_code == 1 and "no files to import (*.txt, *.json" in result.stderr


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text(page([E("A")]), encoding="utf-8")
    if os.geteuid() == 0:  # root reads anything: make the read itself fail

        def deny(self):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(Path, "read_bytes", deny)
    else:
        path.chmod(0)
    result = run("import", str(path), ok=False)
    assert result.exit_code == 1 and "permission denied" in result.stderr


def test_windows_1252_file_imports_with_a_warning(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes(
        page([E("Café “Quoted” Paper", authors=2, date="Jan 1, 2020")]).encode("cp1252")
    )
    result = run("import", str(path))
    assert "1 paper: 1 new" in result.stdout and "1 warning" in result.stdout
    assert "Windows-1252" in result.stderr
    assert as_json("list")[0]["title"] == "Café “Quoted” Paper"


def test_truncated_download_imports_complete_entries(tmp_path):
    text = page([E(f"Paper {n}", authors=2, date="Jan 1, 2020") for n in range(3)])
    path = tmp_path / "cut.txt"
    path.write_text(text + "\n\nPaper Three\n\n" + LOREM[:70], encoding="utf-8")
    result = run("import", str(path))
    assert "3 papers: 3 new" in result.stdout and "1 warning\n" in result.stdout
    assert "truncated" in result.stderr and "line" in result.stderr


def test_year_option(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text(page([E("A", authors=1, date="Mar 3")]), encoding="utf-8")
    run("import", "--year", "2023", str(path))
    assert as_json("list")[0]["published"] == "2023-03-03"


def test_damaged_library_gives_one_line(data_dir, samples):
    data_dir.mkdir(parents=True)
    (data_dir / "library.sqlite3").write_bytes(b"garbage" * 1000)
    result = run("list", ok=False)
    assert result.exit_code == 1
    assert "damaged" in result.stderr and "library.sqlite3" in result.stderr
    result = run("import", str(samples[0]), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr


def test_version():
    from paperdesk import __version__

    assert __version__ in run("--version").stdout


# --- export ------------------------------------------------------------------------------------


def test_export_three_starred_papers_in_every_format(imported, tmp_path):
    import csv as csv_module

    import bibtexparser

    papers = as_json("list", "--sort", "title")
    chosen = [p for p in papers if p["links"]][:3]
    ids = [p["id"] for p in chosen]
    run("star", *ids)
    run("tag", ids[0], "reading-group")
    target = tmp_path / "starred.md"
    result = run("export", "-o", str(target))
    assert "exported 3 papers" in result.stderr
    markdown = target.read_text(encoding="utf-8")
    for paper in chosen:
        assert paper["title"] in markdown
        for link in paper["links"]:
            assert link in markdown
    assert "## reading-group" in markdown and "`reading-group`" in markdown
    assert markdown.count("\n### ") == 3

    bib = bibtexparser.parse_string(run("export", "--format", "bibtex").stdout)
    assert len(bib.entries) == 3 and not bib.failed_blocks
    rows = list(csv_module.DictReader(io_lines(run("export", "--format", "csv").stdout)))
    assert sorted(row["id"] for row in rows) == sorted(ids)
    exported = json.loads(run("export", "--format", "json").stdout)
    assert sorted(p["id"] for p in exported) == sorted(ids)
    assert all(p["starred"] for p in exported)


def io_lines(text: str):
    import io

    return io.StringIO(text, newline="")


def test_export_query_and_empty_selection(imported, tmp_path):
    result = run("export", "--query", "grokking", "--format", "json")
    assert {p["title"] for p in json.loads(result.stdout)} == {
        p["title"]
        for p in json.loads(run("search", "grokking", "--json", "--limit", "100").stdout)["results"]
    }
    empty = run("export")
    assert empty.stdout.startswith("# Starred papers") and "no starred papers" in empty.stderr
    assert json.loads(run("export", "--format", "json").stdout) == []


def test_export_errors(imported, tmp_path):
    result = run("export", "--format", "docx", ok=False)
    assert result.exit_code == 2 and "'docx' is not one of 'md', 'bibtex'" in result.stderr
    assert "cannot read the query" in run("export", "--query", "foo:bar", ok=False).stderr
    result = run("export", "-o", str(tmp_path / "missing-dir" / "x.md"), ok=False)
    assert result.exit_code == 1 and "cannot write" in result.stderr


# --- search -------------------------------------------------------------------------------------


def test_search_json_is_exact(imported):
    data = as_json("search", "title:grokking tickets")
    assert data["query"] == "title:grokking tickets"
    assert data["total"] == 1 and data["suggestion"] is None
    [hit] = data["results"]
    assert hit["title"] == "Grokking Tickets: Lottery Tickets Accelerate Grokking"
    assert hit["links"] == ["https://github.com/gouki510/Grokking-Tickets"]
    assert hit["published"] == "2023-10-30" and hit["authors"] == 3
    assert hit["highlights"]["title"] == (
        "**Grokking** **Tickets**: Lottery **Tickets** Accelerate **Grokking**"
    )
    assert "**" in hit["highlights"]["abstract"] and hit["score"] > 0


def test_search_forms_on_the_samples(imported):
    def total(query):
        return as_json("search", query, "--limit", "200")["total"]

    assert total("grokking") == 3
    assert total("org:tencent") == 2
    assert total("published:2024-06") == 3
    assert total("upvotes:>=4") == len([p for p in as_json("list") if (p["upvotes"] or 0) >= 4])
    assert total("is:unread") == 140
    assert total("-grokking") == 137
    assert as_json("search", "grokkng")["suggestion"] == "grokking"
    result = run("search", "title:(", ok=False)
    assert result.exit_code == 2 and '"title:" needs a value' in result.stderr


def test_search_errors_and_sort(imported):
    result = run("search", "foo:bar", ok=False)
    assert result.exit_code == 2 and "unknown field 'foo'" in result.stderr
    assert run("search", "x", "--sort", "bogus", ok=False).exit_code == 2
    papers = as_json("search", "learning", "--sort", "published", "--limit", "5")["results"]
    dates = [p["published"] for p in papers if p["published"]]
    assert dates == sorted(dates, reverse=True)


def test_state_changes_reach_the_index(imported):
    pid = as_json("list", "--sort", "title")[0]["id"]
    run("star", pid)
    run("tag", pid, "rl-theory")
    assert [r["id"] for r in as_json("search", "is:starred tag:rl-theory")["results"]] == [pid]
    run("read", pid)
    assert pid not in [r["id"] for r in as_json("search", "is:unread", "--limit", "500")["results"]]


def test_similar_and_index_rebuild(imported, data_dir):
    pid = as_json("search", "title:grokking tickets")["results"][0]["id"]
    similar = as_json("similar", pid, "--limit", "3")
    assert len(similar) == 3 and pid not in [p["id"] for p in similar]
    assert "indexed 140 papers" in run("index", "rebuild").stdout


def test_damaged_index_heals_on_the_next_search(imported, data_dir):
    for seg in (data_dir / "index").glob("*.seg"):
        seg.write_bytes(b"\x00" * 10)
    result = run("search", "grokking", "--json")
    assert json.loads(result.stdout)["total"] == 3
    assert "rebuilt" in result.stderr


# --- state export and import ---------------------------------------------------------------


def test_state_export_and_import_move_decisions_between_libraries(imported, tmp_path, monkeypatch):
    first, second = (p["id"] for p in as_json("list", "--limit", "2"))
    run("star", first)
    run("tag", second, "To Read")
    document = json.loads(run("state", "export").stdout)
    assert set(document["papers"]) == {first, second}
    target = tmp_path / "state.json"
    result = run("state", "export", "-o", str(target))
    assert "decisions about 2 papers" in result.stderr
    assert json.loads(target.read_text())["papers"] == document["papers"]

    monkeypatch.setenv("PAPERDESK_DATA_DIR", str(tmp_path / "elsewhere"))
    result = run("state", "import", str(target))
    assert result.stdout.strip().endswith(
        "2 papers: 0 updated, 0 unchanged, 2 kept until they are imported"
    )
    result = run("import", *map(str, imported))
    assert "applied saved decisions" in result.stderr
    assert [p["id"] for p in as_json("list", "--starred")] == [first]
    assert as_json("show", second)["tags"] == ["to-read"]


def test_state_import_refuses_a_bad_file_and_changes_nothing(imported, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    result = run("state", "import", str(bad), ok=False)
    assert result.exit_code == 1
    assert "bad.json is not a JSON state file" in result.stderr
    assert as_json("list", "--starred") == []
    result = run("state", "import", str(tmp_path / "missing.json"), ok=False)
    assert result.exit_code == 1 and "cannot read" in result.stderr


# --- backups and restore -------------------------------------------------------------------


def test_restore_brings_everything_back_with_one_command(imported, data_dir):
    first, second = (p["id"] for p in as_json("list", "--limit", "2"))
    run("star", first)
    run("import", *map(str, imported))  # takes a backup first: it holds the first star
    run("star", second)  # only in the library and the decision journal
    run("tag", second, "keep")
    library = data_dir / "library.sqlite3"
    library.write_bytes(b"this is not a database" * 100)

    result = run("list", ok=False)
    assert result.exit_code == 1
    assert f"{library} is damaged" in result.stderr and "paperdesk restore" in result.stderr
    damaged = library.read_bytes()
    result = run("import", *map(str, imported), ok=False)
    assert result.exit_code == 1
    assert library.read_bytes() == damaged  # never written to

    result = run("restore", "--yes")
    assert "restored library-" in result.stdout
    assert "newer decisions about 1 paper from the decision journal" in result.stdout
    assert {p["id"] for p in as_json("list", "--starred")} == {first, second}
    assert as_json("show", second)["tags"] == ["keep"]
    assert len(as_json("list")) == 140
    # The damaged file was kept, and is listed with the backups.
    listing = run("restore", "--list").stdout
    assert "replaced" in listing and "damaged" in listing
    assert any(p.name.startswith("replaced-") for p in (data_dir / "backups").iterdir())
    result = run("search", "grokking", "--json")  # the index follows the restored library
    assert json.loads(result.stdout)["total"] >= 1


def test_restore_explains_what_it_cannot_do(data_dir):
    result = run("restore", ok=False)
    assert result.exit_code == 1 and "there are no backups" in result.stderr
    assert "No backups yet" in run("restore", "--list").stdout


def test_restore_by_number(imported, data_dir):
    first = as_json("list", "--limit", "1")[0]["id"]
    run("star", first)
    run("import", *map(str, imported))  # backup 2: the star
    run("unstar", first)
    run("import", *map(str, imported))  # backup 1: no star
    result = run("restore", "7", ok=False)
    assert "there is no backup 7" in result.stderr
    run("restore", "2", "--exact", "--yes")
    assert [p["id"] for p in as_json("list", "--starred")] == [first]
