"""`paperdesk export` as a user runs it: files, links, stdout, and keys that stay."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from typer.testing import CliRunner

from paperdesk.cli import app
from tests.dumps import LOREM, E, page
from tests.unit.test_export_tools import assert_bibtex_clean, classic_bibtex, need

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


def _keys(bib: str) -> dict[str, str]:
    """Each entry's key by its title."""
    return {
        title: key for key, title in re.findall(r"@misc\{([^,]+),\n  title = \{\{(.*)\}\},", bib)
    }


def test_keys_stay_when_more_papers_are_starred(samples, tmp_path):
    run("import", *map(str, samples))
    ids = [p["id"] for p in json.loads(run("list", "--json").stdout)]
    run("star", *ids[:-1])
    before = run("export", "--format", "bibtex").stdout
    run("star", ids[-1])
    after = run("export", "--format", "bibtex").stdout
    old, new = _keys(before), _keys(after)
    assert len(old) == len(ids) - 1 and len(new) == len(ids)
    assert all(new[title] == key for title, key in old.items())
    # The same papers through a query get the same keys.
    through_query = _keys(run("export", "--format", "bibtex", "--query", "grokking").stdout)
    assert through_query and all(new[t] == k for t, k in through_query.items())
    need("bibtex")
    blg, bbl = classic_bibtex(after, tmp_path)
    assert_bibtex_clean(blg, bbl, len(ids))


def _one_starred(tmp_path):
    dump = tmp_path / "d.txt"
    dump.write_text(page([E("Caf\u00e9 \u03bb papers", LOREM)]), encoding="utf-8")
    run("import", str(dump))
    run("star", json.loads(run("list", "--json").stdout)[0]["id"])


def test_dash_means_stdout(tmp_path, monkeypatch):
    _one_starred(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("export", "-o", "-", "--format", "json")
    assert json.loads(result.stdout)[0]["title"] == "Caf\u00e9 \u03bb papers"
    assert not (tmp_path / "-").exists()


def test_a_symlink_keeps_pointing_at_its_updated_target(tmp_path):
    _one_starred(tmp_path)
    vault = tmp_path / "vault"
    vault.mkdir()
    target = vault / "reading.md"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "reading.md"
    link.symlink_to(target)
    run("export", "-o", str(link))
    assert link.is_symlink() and link.resolve() == target
    assert "Caf\u00e9" in target.read_text(encoding="utf-8")


def test_a_stdout_that_is_not_utf8_gets_utf8_and_no_traceback(tmp_path, data_dir):
    _one_starred(tmp_path)
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data_dir), "PYTHONIOENCODING": "ascii"}
    for args in (["export"], ["export", "--format", "json"], ["list"], ["show", "caf"]):
        if args[0] == "show":
            pid = json.loads(run("list", "--json").stdout)[0]["id"]
            args = ["show", pid]
        result = subprocess.run(
            [sys.executable, "-m", "paperdesk", *args], capture_output=True, env=env, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert b"Traceback" not in result.stderr
    exported = subprocess.run(
        [sys.executable, "-m", "paperdesk", "export"], capture_output=True, env=env, timeout=60
    )
    assert "Caf\u00e9 \u03bb papers".encode() in exported.stdout


def test_excel_csv_starts_with_a_byte_order_mark(tmp_path):
    _one_starred(tmp_path)
    out = tmp_path / "x.csv"
    run("export", "--format", "csv", "--excel", "-o", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid,title")
