"""Shared fixtures: every test gets its own data directory, never the real one."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "dailypapers"
SAMPLE_FILES = sorted(SAMPLES.glob("*.txt"))


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point PAPERDESK_DATA_DIR at a fresh temporary directory."""
    path = tmp_path / "paperdesk-data"
    monkeypatch.setenv("PAPERDESK_DATA_DIR", str(path))
    # Keep a developer's own settings and terminal out of the tests.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return path


@pytest.fixture
def samples() -> list[Path]:
    if len(SAMPLE_FILES) != 2:
        pytest.fail(f"the sample dumps are missing from {SAMPLES}")
    return SAMPLE_FILES
