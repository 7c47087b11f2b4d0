"""The user's settings, from ``config.toml`` in the config directory.

# ~/.config/paperdesk/config.toml
mark_read_on_move = true   # a paper you rested on is read once you move on
read_after_seconds = 2     # how long "rested on" is; 0 turns automatic reading off
theme = "textual-dark"

[keys]                     # your own keys (`paperdesk keys` lists every action)
preset = "default"         # or "newsboat"
star = "s"
next_unread = ["n", "tab"] # several keys for one action

[sync]                     # one library on several machines (`paperdesk sync`)
dir = "~/Sync/paperdesk"   # a folder Syncthing, Dropbox or a share keeps the same
every_minutes = 5          # the app syncs on start, this often, and on quit

[fetch]                    # what `paperdesk fetch` (and the app's F key) reads
hf = true                  # Hugging Face Daily Papers, each day since the last fetch
arxiv = ["cs.LG", "cs.CL"] # arXiv listing feeds of these categories
# arxiv_rss = "https://rss.arxiv.org/rss"   # another base (a mirror)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from paperdesk import paths
from paperdesk.keys import DEFAULT, Keymap, resolve


@dataclass(frozen=True)
class FetchSettings:
    hf: bool = True
    arxiv: tuple[str, ...] = ()
    arxiv_rss: str = ""
    hf_endpoint: str = ""


@dataclass(frozen=True)
class SyncSettings:
    dir: str = ""  # "": no sync
    every_minutes: float = 5.0

    @property
    def folder(self) -> Path | None:
        return Path(self.dir).expanduser() if self.dir else None


@dataclass(frozen=True)
class Settings:
    mark_read_on_move: bool = True
    # A paper counts as read once it was the previewed paper this long and the
    # user moved on: passing over papers in a burst of j presses reads none.
    read_after_seconds: float = 2.0
    theme: str = "textual-dark"
    fetch: FetchSettings = FetchSettings()
    sync: SyncSettings = SyncSettings()
    keymap: Keymap = DEFAULT

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
    problems: list[str] = []
    values: dict[str, object] = {}
    known = {f.name: f for f in fields(Settings) if f.name != "keymap"}
    keys_table: dict[str, object] = {}
    preset: object = None
    for key, value in data.items():
        if key == "fetch":
            values["fetch"] = _fetch_settings(path, value, problems)
            continue
        if key == "sync":
            values["sync"] = _sync_settings(path, value, problems)
            continue
        if key == "keys":
            if isinstance(value, dict):
                keys_table = value
                preset = value.get("preset")
            else:
                preset = value  # keys = "newsboat"
            continue
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
    if keys_table or preset is not None:
        keymap, key_problems = resolve(preset, keys_table, str(path))
        values["keymap"] = keymap
        problems += key_problems
    return Settings(**values), problems  # type: ignore[arg-type] # each value checked above


def _sync_settings(path: Path, data: object, problems: list[str]) -> SyncSettings:
    if not isinstance(data, dict):
        problems.append(f"{path}: [sync] should be a table; ignored")
        return SyncSettings()
    values: dict[str, object] = {}
    for key, value in data.items():
        if key == "dir" and isinstance(value, str):
            values["dir"] = value
        elif (
            key == "every_minutes"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            if value <= 0:
                problems.append(f"{path}: sync.every_minutes must be more than 0; ignored")
            else:
                values["every_minutes"] = float(value)
        elif key in ("dir", "every_minutes"):
            problems.append(f"{path}: sync.{key} has the wrong type; ignored")
        else:
            problems.append(f"{path}: unknown setting sync.{key} ignored")
    return SyncSettings(**values)  # type: ignore[arg-type] # each value checked above


def _fetch_settings(path: Path, data: object, problems: list[str]) -> FetchSettings:
    if not isinstance(data, dict):
        problems.append(f"{path}: [fetch] should be a table; ignored")
        return FetchSettings()
    values: dict[str, object] = {}
    for key, value in data.items():
        if key == "hf" and isinstance(value, bool):
            values["hf"] = value
        elif key == "arxiv" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            values["arxiv"] = tuple(value)
        elif key == "arxiv" and isinstance(value, str):
            values["arxiv"] = tuple(value.replace("+", " ").split())
        elif key in ("arxiv_rss", "hf_endpoint") and isinstance(value, str):
            values[key] = value
        elif key in ("hf", "arxiv", "arxiv_rss", "hf_endpoint"):
            problems.append(f"{path}: fetch.{key} has the wrong type; ignored")
        else:
            problems.append(f"{path}: unknown setting fetch.{key} ignored")
    return FetchSettings(**values)  # type: ignore[arg-type] # each value checked above
