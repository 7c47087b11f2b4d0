"""Build Daily Papers dumps in tests, feature by feature."""

from __future__ import annotations

from dataclasses import dataclass

CHROME = [
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
]

LOREM = (
    "We study a problem that matters and propose a method that works. Our experiments on "
    "several benchmarks show consistent gains over strong baselines, and an analysis explains "
    "why the method helps. We release code and data to support future research in this area."
)


@dataclass
class E:
    """One entry as a dump would show it."""

    title: str
    abstract: str = LOREM
    authors: int | None = None
    org: str | None = None  # the whole org line, "handle Display Name"
    date: str | None = None  # "Jun 27, 2022" or "Sep 26"
    upvotes: int | None = None

    def lines(self) -> list[str]:
        out = [self.title, "", self.abstract, ""]
        meta = []
        if self.authors is not None:
            meta.append(f"  • {self.authors} authors")
        elif self.org is not None:
            meta.append(self.org)
        if self.date is not None:
            meta.append("·")
            meta.append(self.date + (f" {self.upvotes}" if self.upvotes is not None else ""))
        if meta:
            out.extend(meta)
            out.append("")
        return out


def page(entries: list[E], page_date: str | None = "Nov 11", chrome: bool = True) -> str:
    lines: list[str] = []
    if chrome:
        for line in CHROME:
            lines.extend([line, ""])
    if page_date:
        lines.extend([page_date, ""])
    for entry in entries:
        lines.extend(entry.lines())
    return "\n".join(lines).rstrip("\n")


def lorem(n: int, seed: str = "") -> str:
    return f"{seed} {LOREM}" * n
