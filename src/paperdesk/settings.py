"""The user's settings, from ``config.toml`` in the config directory.

# ~/.config/paperdesk/config.toml
mark_read_on_move = true   # a paper you rested on is read once you move on
read_after_seconds = 2     # how long "rested on" is; 0 turns automatic reading off
theme = "textual-dark"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from paperdesk import paths


@dataclass(frozen=True)
class Settings:
    mark_read_on_move: bool = True
    # A paper counts as read once it was the previewed paper this long and the
    # user moved on: passing over papers in a burst of j presses reads none.
    read_after_seconds: float = 2.0
    theme: str = "textual-dark"

    @property
    def reads_on_move(self) -> bool:
        return self.mark_read_on_move and self.read_after_seconds > 0


def load(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings and any problems found reading them (the defaults stand in)."""
    path = path or paths.config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(), []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return Settings(), [f"{path}: {error}; using the default settings"]
    problems = []
    values: dict[str, object] = {}
    known = {f.name: f for f in fields(Settings)}
    for key, value in data.items():
        field = known.get(key)
        default = getattr(Settings, key, None)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # read_after_seconds = 3
        if field is None:
            problems.append(f"{path}: unknown setting {key!r} ignored")
        elif isinstance(default, float) and isinstance(value, float) and value < 0:
            problems.append(f"{path}: {key} cannot be negative; ignored")
        elif not isinstance(value, type(default)):
            problems.append(f"{path}: {key} should be a {type(default).__name__}; ignored")
        else:
            values[key] = value
    return Settings(**values), problems  # type: ignore[arg-type] # each value checked above
