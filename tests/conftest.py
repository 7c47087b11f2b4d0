"""Shared fixtures: every test gets its own data directory, never the real one.

Some tests need things a clone alone does not have: the real Daily Papers
dumps in ``../shared/data/dailypapers`` (beside the repository) or programs
such as ``bibtex``. Without them those tests skip, saying what is missing.
``PAPERDESK_REQUIRE_ALL=1`` (set by ``.ci/run``) turns every such skip into a
failure, so CI, which has them all, never passes by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "data" / "dailypapers"
SAMPLE_FILES = sorted(SAMPLES.glob("*.txt"))
REQUIRE_ALL = os.environ.get("PAPERDESK_REQUIRE_ALL") == "1"


def missing(reason: str) -> None:
    """Skip a test that needs something absent here, or fail where all is required."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (PAPERDESK_REQUIRE_ALL=1: nothing may be skipped)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point PAPERDESK_DATA_DIR at a fresh temporary directory."""
    path = tmp_path / "paperdesk-data"
    monkeypatch.setenv("PAPERDESK_DATA_DIR", str(path))
    # Keep a developer's own settings and terminal out of the tests.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    # No retrain left running after a test's decisions (tests/unit/test_retrain.py
    # turns it back on).
    monkeypatch.setenv("PAPERDESK_NO_BACKGROUND", "1")
    return path


@pytest.fixture
def samples() -> list[Path]:
    """The two real Daily Papers dumps in ../shared/data/dailypapers."""
    if len(SAMPLE_FILES) != 2:
        missing(
            f"needs the two sample dumps in {SAMPLES} (the shared/ folder beside the "
            "repository; see the README's Development section)"
        )
    return SAMPLE_FILES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The reliability tests (kills, races, hostile files in subprocesses) are
    ``slow``: ``pytest -m "not slow"`` is the quick loop, ``make test`` runs all."""
    for item in items:
        if "reliability" in item.path.parts:
            item.add_marker(pytest.mark.slow)


def shared_sample(relative: str) -> Path:
    """One file of ../shared/data (the other formats' samples); skips without it."""
    path = SHARED / "data" / relative
    if not path.is_file():
        missing(f"needs {path} (the shared/ folder beside the repository)")
    return path
