"""Editing a text in the user's own editor ($VISUAL, else $EDITOR, else vi):
the note editor's way out of the app, and ``paperdesk note --edit``.

The text goes to a temporary Markdown file, the editor runs on it in the
foreground, and what it saved comes back. A missing editor or one that fails
is an ``EditorError`` with one line to show; the temporary file is removed
whatever happens.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


class EditorError(RuntimeError):
    """The editor could not be run, or it failed: the text is unchanged."""


def editor_command() -> list[str]:
    """The user's editor as a command (it may carry options: "code --wait")."""
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        parts = shlex.split(command)
    except ValueError:
        parts = [command]
    return parts or ["vi"]


def edit(text: str, name: str = "note") -> str:
    """``text`` after the user edited it in their editor."""
    command = editor_command()
    handle = tempfile.NamedTemporaryFile(
        "w", prefix=f"paperdesk-{name}-", suffix=".md", delete=False, encoding="utf-8"
    )
    path = Path(handle.name)
    try:
        with handle:
            handle.write(text)
        try:
            done = subprocess.run([*command, str(path)], check=False)  # noqa: S603
        except OSError as error:
            raise EditorError(
                f"cannot run the editor {command[0]!r} ({error.strerror or error}); "
                "set $EDITOR to one you have"
            ) from None
        if done.returncode != 0:
            raise EditorError(
                f"the editor {command[0]!r} exited with status {done.returncode}; "
                "the note is unchanged"
            )
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
