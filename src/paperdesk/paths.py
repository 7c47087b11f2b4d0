"""Where paperdesk keeps its files.

Every location comes from here. Nothing is created at import time: callers ask
for a directory with ``ensure=True`` when they are about to write into it.
``PAPERDESK_DATA_DIR`` moves everything (library, index, backups, config) into
one directory, which is what the tests and the demo do.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "paperdesk"
ENV_DATA_DIR = "PAPERDESK_DATA_DIR"


def _ensure(path: Path, ensure: bool) -> Path:
    if ensure:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir(ensure: bool = False) -> Path:
    """The per-user data directory (or ``$PAPERDESK_DATA_DIR``)."""
    override = os.environ.get(ENV_DATA_DIR)
    path = Path(override).expanduser() if override else platformdirs.user_data_path(APP_NAME)
    return _ensure(path, ensure)


def config_dir(ensure: bool = False) -> Path:
    """The config directory; inside the data directory when it is overridden."""
    override = os.environ.get(ENV_DATA_DIR)
    path = Path(override).expanduser() if override else platformdirs.user_config_path(APP_NAME)
    return _ensure(path, ensure)


def library_path() -> Path:
    """The SQLite library: papers and the user's state, the source of truth."""
    return data_dir() / "library.sqlite3"


def index_dir(ensure: bool = False) -> Path:
    """The Whoosh index: derived data, rebuilt from the library when needed."""
    return _ensure(data_dir() / "index", ensure)


def backups_dir(ensure: bool = False) -> Path:
    """Rotating copies of the library taken before risky work."""
    return _ensure(data_dir() / "backups", ensure)


def config_path() -> Path:
    """The settings file (TOML)."""
    return config_dir() / "config.toml"
