"""The layers keep to their places: the domain never imports the UI, only the
search engine imports Whoosh, the CLI and the app go through ``Desk``, and
importing a module creates no files. (import-linter checks the same contracts
in CI, see pyproject.toml; these tests keep them in the test command.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN = [
    "paperdesk.model",
    "paperdesk.paths",
    "paperdesk.importers.dailypapers",
    "paperdesk.library",
    "paperdesk.query",
    "paperdesk.search",
    "paperdesk.search.index",
    "paperdesk.search.highlights",
    "paperdesk.desk",
    "paperdesk.export",
    "paperdesk.library.state",
    "paperdesk.library.backups",
    "paperdesk.atomic",
    "paperdesk.cli",
]


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_does_not_import_textual(module, tmp_path):
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    env = {"PAPERDESK_DATA_DIR": str(tmp_path / "data"), "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
    assert not (tmp_path / "data").exists(), f"importing {module} created the data directory"


def _sources():
    from pathlib import Path

    import paperdesk

    root = Path(paperdesk.__file__).parent
    return root, {path: path.read_text(encoding="utf-8") for path in root.rglob("*.py")}


def test_only_the_search_engine_imports_whoosh():
    root, sources = _sources()
    offenders = [
        str(path.relative_to(root))
        for path, text in sources.items()
        if path.parent != root / "search" and ("import whoosh" in text or "from whoosh" in text)
    ]
    assert offenders == []


def test_nothing_outside_the_engine_reaches_into_it():
    """Outside ``paperdesk/search``, only the package itself (SearchIndex and its
    results) and its highlights are named."""
    import re

    root, sources = _sources()
    allowed = {"paperdesk.search", "paperdesk.search.highlights", "paperdesk.search.index"}
    offenders = []
    for path, text in sources.items():
        if path.parent == root / "search":
            continue
        for name in re.findall(r"(?:from|import) (paperdesk\.search[\w.]*)", text):
            if name not in allowed:
                offenders.append(f"{path.relative_to(root)}: {name}")
    assert offenders == []


def test_the_cli_and_the_app_go_through_the_desk():
    """No ``desk.library`` or ``desk.index`` reached through: Desk is the one door."""
    import re

    root, sources = _sources()
    offenders = [
        f"{path.relative_to(root)}: {match}"
        for path, text in sources.items()
        if path.name == "cli.py" or "tui" in path.relative_to(root).parts
        for match in re.findall(r"(?<!paper)desk\.(?:library|index|_index)\b", text)
    ]
    assert offenders == []


def test_highlights_do_not_load_the_engine(tmp_path):
    """The preview pane highlights with the analysis alone."""
    code = (
        "import sys, paperdesk.search.highlights\n"
        "loaded = [m for m in ('paperdesk.search.index', 'paperdesk.search.postings', "
        "'whoosh.searching', 'whoosh.index') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_sort_names_are_defined_once():
    """paperdesk.sorts names the orders; the library's SQL and the engine's
    columns are keyed by exactly those names, and any other is refused alike."""
    from paperdesk.library import ORDER_BY
    from paperdesk.search.schema import SORT_COLUMNS
    from paperdesk.sorts import LIST_SORTS, SEARCH_SORTS, UnknownSort, checked

    assert tuple(ORDER_BY) == LIST_SORTS
    assert tuple(SORT_COLUMNS) == SEARCH_SORTS
    for allowed in (LIST_SORTS, SEARCH_SORTS):
        with pytest.raises(UnknownSort, match="unknown sort 'sideways'; choose one of"):
            checked("sideways", allowed)
