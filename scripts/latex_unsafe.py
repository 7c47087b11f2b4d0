"""Find the characters whose LaTeX form (pylatexenc's) a plain pdflatex article
cannot print, and write them to src/paperdesk/data/latex_unsafe.txt.

The BibTeX export writes those characters as <U+XXXX> instead, so an export
always compiles. Run it after upgrading pylatexenc (it needs pdflatex):

    python scripts/latex_unsafe.py

tests/unit/test_export_tools.py compiles every other character again.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from pylatexenc.latexencode import UnicodeToLatexEncoder, get_builtin_conversion_rules

OUT = Path(__file__).resolve().parents[1] / "src" / "paperdesk" / "data" / "latex_unsafe.txt"


def known_characters() -> list[str]:
    rules = get_builtin_conversion_rules("defaults")
    return sorted({chr(code) for rule in rules for code in rule.rule if code > 127})


def failing(chars: list[str], latex: dict[str, str], work: Path) -> set[str]:
    """The characters on whose lines pdflatex reports an error (one per line)."""
    body = "\n".join(f"{latex[c]}\\par" for c in chars)
    tex = work / "chars.tex"
    tex.write_text(f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", tex.name], cwd=work, capture_output=True,
        timeout=600,
    )  # fmt: skip
    log = (work / "chars.log").read_text(errors="replace")
    lines = {int(n) - 2 for n in re.findall(r"^l\.(\d+)", log, re.MULTILINE)}
    bad = {chars[n - 1] for n in lines if 1 <= n <= len(chars)}
    if not bad and re.search(r"^!", log, re.MULTILINE):
        sys.exit("pdflatex reported an error on no character's line; see chars.log")
    return bad


def main() -> None:
    encoder = UnicodeToLatexEncoder(
        non_ascii_only=True,
        replacement_latex_protection="braces-all",
        unknown_char_policy="unihex",
        unknown_char_warning=False,
    )
    chars = known_characters()
    latex = {c: encoder.unicode_to_latex(c) for c in chars}
    unsafe: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        while bad := failing([c for c in chars if c not in unsafe], latex, Path(tmp)):
            unsafe |= bad
    OUT.write_text("".join(sorted(unsafe)) + "\n", encoding="utf-8")
    print(f"{len(unsafe)} of {len(chars)} characters cannot be printed; wrote {OUT}")


if __name__ == "__main__":
    main()
