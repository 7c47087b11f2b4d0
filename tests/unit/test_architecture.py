"""The domain never imports the UI, and importing it creates no files."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN = [
    "paperdesk.model",
    "paperdesk.paths",
    "paperdesk.importers.dailypapers",
    "paperdesk.store",
    "paperdesk.query",
    "paperdesk.index",
    "paperdesk.postings",
    "paperdesk.whoosh_fixes",
    "paperdesk.codec",
    "paperdesk.desk",
    "paperdesk.export",
    "paperdesk.state",
    "paperdesk.backups",
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


# The search engine: the index, its posting-list reader and format, the fixes to whoosh.
WHOOSH_MODULES = {"index.py", "postings.py", "codec.py", "whoosh_fixes.py"}


def test_only_the_search_modules_import_whoosh():
    from pathlib import Path

    import paperdesk

    root = Path(paperdesk.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name not in WHOOSH_MODULES
        and (
            "import whoosh" in path.read_text(encoding="utf-8")
            or "from whoosh" in path.read_text(encoding="utf-8")
        )
    ]
    assert offenders == []
