"""The ``paperdesk`` command line: a thin typer layer over ``Desk``.

Without a command it opens the triage app. Every command that prints papers
takes ``--json`` for scripts, and prints one tab-separated line per paper when
its output is not a terminal (or with ``--plain``). Errors go to stderr as one
line. Exit status: 0 done, 1 a problem with a file or the library, 2 a usage
error (an unknown option or value, a bad query), 130 interrupted.

Nothing from a paper or a state file is read as markup: titles, abstracts,
tags and queries print literally, control characters made visible.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand

from paperdesk import __version__, commands
from paperdesk.atomic import write_atomic
from paperdesk.commands import (
    USAGE,
    CommandError,
    err,
    error_of,
    out,
    paper_table,
    plural,
    print_json,
    print_plain,
    say,
    write_stdout,
)
from paperdesk.commands import (
    at_terminal as _at_terminal,
)
from paperdesk.commands import (
    checked_tags as _checked_tags,
)
from paperdesk.commands import (
    notices as _notices,
)
from paperdesk.commands import (
    one_line as _one_line,
)
from paperdesk.commands import (
    plain_wanted as _plain,
)
from paperdesk.desk import MAX_STDIN_BYTES, Desk
from paperdesk.errors import BadInput, LibraryError
from paperdesk.export import FORMATS as EXPORT_FORMATS
from paperdesk.export import GROUPS as EXPORT_GROUPS
from paperdesk.importers.formats import FORMATS as IMPORT_FORMATS
from paperdesk.importers.formats import SUFFIXES as IMPORT_SUFFIXES
from paperdesk.model import visible
from paperdesk.sorts import LIST_SORTS, SEARCH_SORTS

app = typer.Typer(
    name="paperdesk",
    help="A keyboard-driven terminal reader for research papers.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
index_app = typer.Typer(help="Maintain the search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")
state_app = typer.Typer(
    help="Your decisions (reads, stars, tags, notes, saved searches) as a portable JSON file.",
    no_args_is_help=True,
)
app.add_typer(state_app, name="state")
fetch_app = typer.Typer(
    help="Fetch new papers: Hugging Face Daily Papers and arXiv listings. "
    "Alone, fetches what config.toml's [fetch] names (by default Hugging Face).",
    invoke_without_command=True,
)
app.add_typer(fetch_app, name="fetch")
interest_app = typer.Typer(
    help="Your interest, learned from your stars and 'not for me' decisions. Alone: "
    "learn it, score every paper (list --sort interest) and show what it learned.",
    invoke_without_command=True,
)
app.add_typer(interest_app, name="interest")
saved_app = typer.Typer(
    help="Searches saved by name, with their unread counts (the app's left pane, "
    "keys 1-9; list --saved NAME).",
    no_args_is_help=True,
)
app.add_typer(saved_app, name="saved")

F = TypeVar("F", bound=Callable[..., Any])


def _choices(name: str, values: Any) -> Any:
    """A fixed set of values as an Enum: typer then takes them in any case
    (``--sort Upvotes``) and refuses others with exit status 2."""
    return Enum(name, {value: value for value in values}, type=str)


if TYPE_CHECKING:  # to the type checker, each is an Enum of str values
    ImportFormat = Enum
    ListSort = Enum
    SearchSort = Enum
    ExportFormat = Enum
    ExportGroup = Enum
else:
    ImportFormat = _choices("ImportFormat", IMPORT_FORMATS)
    ListSort = _choices("ListSort", LIST_SORTS)
    SearchSort = _choices("SearchSort", SEARCH_SORTS)
    ExportFormat = _choices("ExportFormat", EXPORT_FORMATS)
    ExportGroup = _choices("ExportGroup", EXPORT_GROUPS)
# The defaults of the options above.
BY_PUBLISHED = ListSort("published")
BY_RELEVANCE = SearchSort("relevance")
AS_MARKDOWN = ExportFormat("md")
GROUPED_BY_TAG = ExportGroup("tag")


def fail(message: str, code: int = 1) -> typer.Exit:
    commands.complain(message)
    return typer.Exit(code)


def usage(message: str) -> typer.Exit:
    """A usage error: one line, exit status 2."""
    return fail(message, USAGE)


def handles_errors(func: F) -> F:
    """Library problems become one clear line on stderr and exit status 1
    (``commands.error_of``); a usage error, status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (CommandError, BadInput, LibraryError, sqlite3.DatabaseError, OSError) as error:
            found = error_of(error)
            assert found is not None
            raise fail(found.message, found.code) from None

    return wrapper  # type: ignore[return-value]


class OnceCommand(TyperCommand):
    """A command that refuses an option given twice when it takes one value.

    Click keeps the last of ``--sort a --sort b`` without a word; a script that
    builds its command line by appending would then do what it did not say.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        single: dict[str, Any] = {}
        for param in self.params:
            if getattr(param, "param_type_name", "") == "option" and not (
                param.multiple or getattr(param, "is_flag", False) or getattr(param, "count", 0)
            ):
                for name in (*param.opts, *param.secondary_opts):
                    single[name] = param
        seen: dict[str, str] = {}
        skip_next = False
        for arg in args:
            if skip_next:
                skip_next = False
                continue
            if arg == "--":
                break
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg[:2]
            option = single.get(name)
            if option is None or not arg.startswith("-"):
                continue
            if option.name in seen:
                raise typer.BadParameter(
                    f"{seen[option.name]} was given more than once; give it once", ctx=ctx
                )
            seen[option.name or name] = name
            skip_next = arg == name  # the value is the next argument
        return super().parse_args(ctx, args)


def command(typer_app: typer.Typer = app, *args: Any, **kwargs: Any):
    """``typer_app.command`` with the checks every paperdesk command makes."""
    return typer_app.command(*args, cls=OnceCommand, **kwargs)


def open_desk() -> Desk:
    return Desk()


def _progress():
    """A progress bar on stderr, shown only to a person at a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.made(),
        transient=True,
        disable=not err.is_terminal,
        # Summaries go to stdout between updates; the bar must not capture them.
        redirect_stdout=False,
        redirect_stderr=False,
    )


def _emit(text: str, output: Path | None) -> bool:
    """Print to stdout (``None`` or ``-``), or replace ``output`` atomically (a
    symlink's target); True if a file was written. A document is UTF-8 whatever
    the terminal's encoding."""
    if output is None or str(output) == "-":
        write_stdout(text)
        return False
    try:
        write_atomic(output, text)
    except OSError as error:
        raise fail(f"cannot write {output}: {error.strerror or error}") from None
    return True


# --- completion: read the library directly, quickly, and never fail ---------------------


def _completion_desk() -> Desk:
    """The library as it is, read-only, never created: a completion changes nothing."""
    return Desk(create=False, read_only=True)


def complete_ids(incomplete: str) -> list[str]:
    """Paper IDs starting with what was typed (with their titles, for zsh and fish)."""
    wanted = incomplete.strip().lower()
    try:
        with _completion_desk() as desk:
            rows = desk.ids_with_titles(wanted, limit=50)
    except Exception:  # noqa: BLE001 - a completion must never print a traceback
        return []
    return [(pid, _one_line(title)[:60]) for pid, title in rows]  # type: ignore[misc]


def complete_tags(incomplete: str) -> list[str]:
    try:
        with _completion_desk() as desk:
            tags = [tag for tag, _ in desk.tag_counts()]
    except Exception:  # noqa: BLE001
        return []
    wanted = incomplete.casefold()
    return [tag for tag in tags if tag.startswith(wanted)]


# --- the app -------------------------------------------------------------------------


def _version(value: bool) -> None:
    if value:
        out.print(f"paperdesk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Without a command, open the triage app on your library."""
    if ctx.invoked_subcommand is None:
        _run_app()


def _needs_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise usage(
            "the app needs a terminal (stdin and stdout are not one); "
            "for scripts use the commands: paperdesk --help"
        )


def _run_app(desk: Desk | None = None, banner: str | None = None, backup: bool = True) -> None:
    _needs_terminal()
    # Textual is imported only here: scripted commands start without it.
    from paperdesk.tui.app import make_app

    kwargs: dict[str, Any] = {"banner": banner} if banner else {}
    desk = desk or open_desk()
    try:
        desk.counts()  # a library that cannot be opened is reported before the app starts
        make_app(desk, backup_on_start=backup, freeze_gc=True, **kwargs).run()
    except LibraryError as error:
        raise fail(str(error)) from None


@command()
def demo() -> None:
    """Open the app on a sample library in a temporary directory (yours is not touched)."""
    import tempfile

    _needs_terminal()
    with tempfile.TemporaryDirectory(prefix="paperdesk-demo-") as tmp:
        desk = Desk(Path(tmp))
        report = desk.import_sample()
        if report.rejected:  # pragma: no cover - the sample ships with the package
            raise fail(f"the sample library could not be built: {report.rejected}")
        _run_app(
            desk,
            banner="Demo library: a temporary copy of 29 sample papers. "
            "Your own library is not touched.",
            backup=False,
        )


# --- import ----------------------------------------------------------------------------


def _import_targets(files: list[Path]) -> list[Path]:
    """The files to import: a directory stands for the dumps (``*.txt``) inside it."""
    targets: list[Path] = []
    for path in files:
        if str(path) != "-" and path.is_dir():
            inside = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMPORT_SUFFIXES
            )
            targets.extend(inside or [path])  # an empty one is reported as rejected
        else:
            targets.append(path)
    return targets


@command(app, "import")
@handles_errors
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files to import (Daily Papers text, Hugging Face JSON or HTML, arXiv Atom "
            "or RSS, BibTeX, RIS, CSL-JSON: told by their content); a directory for the "
            "files in it; - for stdin.",
            show_default=False,
        ),
    ],
    year: Annotated[
        int | None,
        typer.Option("--year", min=1900, max=2999, help="The capture year for dates without one."),
    ] = None,
    format: Annotated[
        ImportFormat | None,
        typer.Option(
            "--format", help="Read every file as this format instead of telling by content."
        ),
    ] = None,
    star: Annotated[
        bool, typer.Option("--star", help="Star every paper of these files (your own library).")
    ] = False,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag", help="Tag every paper of these files (repeatable).", show_default=False
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list warnings.")] = False,
) -> None:
    """Import papers from files: saved Daily Papers pages, Hugging Face and arXiv
    listings, and your own bibliography (BibTeX, RIS, CSL-JSON)."""
    from rich.markup import escape

    forced = format.value if format is not None else None
    tags = _checked_tags(tag or [])

    rejected = False
    targets = _import_targets(files)
    if [str(p) for p in targets].count("-") > 1:
        raise usage("standard input (-) can be imported once per command")
    with open_desk() as desk, _progress() as progress:
        task = progress.add_task("checking and backing up the library", total=None)
        try:
            desk.backup("import")
            for path in targets:

                def show(stage: str, done: int, total: int, name: str = path.name) -> None:
                    progress.update(
                        task, description=f"{stage} {escape(name)}", completed=done, total=total
                    )

                if str(path) == "-":
                    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
                    report = desk.import_text(data, year=year, progress=show, format=forced)
                elif path.is_dir():
                    rejected = True
                    kinds = ", ".join(f"*{suffix}" for suffix in IMPORT_SUFFIXES)
                    say(f"paperdesk: {path}: no files to import ({kinds}) in this directory", "red")
                    continue
                else:
                    report = desk.import_file(path, year=year, progress=show, format=forced)
                if report.rejected:
                    rejected = True
                    say(f"paperdesk: {path}: {report.rejected}", "red")
                    continue
                progress.stop()  # the bar steps aside while the summary is printed
                out.print(visible(report.summary), soft_wrap=True)
                progress.start()
                _report_marks(desk, report, star, tags, str(path))
                for note in report.notes:
                    say(f"{path}: {note}")
                if report.stats and report.stats.state_applied:
                    n = report.stats.state_applied
                    say(f"{path}: applied saved decisions to {n} new paper(s)")
                if not quiet:
                    for warning in report.warnings:
                        say(f"{path}: warning: {warning}", "yellow")
        except KeyboardInterrupt:
            raise fail("interrupted: the files reported above are in the library", 130) from None
        progress.remove_task(task)
        task = progress.add_task("updating the search index", total=None)
        try:
            desk.sync_index(progress=lambda n, t: progress.update(task, completed=n, total=t))
        except KeyboardInterrupt:
            say(
                "paperdesk: search index update interrupted; the library is complete and "
                "the index catches up on the next search",
                "yellow",
            )
        except Exception as error:  # noqa: BLE001 - the library is safe; the index catches up
            say(f"paperdesk: search index not updated ({error})")
        _notices(desk)
    if rejected:
        raise typer.Exit(1)


def _report_marks(desk: Desk, report: Any, star: bool, tags: list[str], name: str) -> None:
    if not (star or tags):
        return
    starred, tagged = desk.mark_imported(report, star=star, tags=tags)
    if starred:
        desk.learn_in_background()
    done = []
    if star:
        done.append(f"starred {starred} paper{'s' if starred != 1 else ''}")
    if tags:
        done.append(f"tagged {tagged} with {', '.join(tags)}")
    say(f"{name}: {' and '.join(done)}")


def _fetched(desk: Desk, reports: list[Any], quiet: bool = False) -> None:
    """Print what a fetch brought, as import does, and bring the index up to date."""
    for report in reports:
        out.print(visible(report.summary), soft_wrap=True)
        for note in report.notes:
            say(f"{report.path}: {note}")
        if not quiet:
            for warning in report.warnings:
                say(f"{report.path}: warning: {warning}", "yellow")
    try:
        desk.sync_index()
    except Exception as error:  # noqa: BLE001 - the library is safe; the index catches up
        say(f"paperdesk: search index not updated ({error})")
    _notices(desk)


def _run_fetch(call: Callable[[], Any]) -> Any:
    from paperdesk.fetch import FetchError

    try:
        return call()
    except FetchError as error:
        raise fail(f"fetch failed: {error}; nothing was imported") from None
    except ValueError as error:
        raise usage(str(error)) from None


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@fetch_app.callback()
@handles_errors
def fetch_(ctx: typer.Context) -> None:
    """Fetch what config.toml's [fetch] names: Hugging Face (unless hf = false)
    and the arXiv categories of its arxiv list."""
    if ctx.invoked_subcommand is not None:
        return
    from paperdesk.settings import load

    settings, problems = load()
    for problem in problems:
        say(f"paperdesk: {problem}", "yellow")
    wanted = settings.fetch
    if not wanted.hf and not wanted.arxiv:
        raise usage("config.toml's [fetch] names nothing to fetch (hf = false, no arxiv list)")
    with open_desk() as desk:
        desk.backup("fetch")
        reports = []
        if wanted.hf:
            reports += _run_fetch(lambda: desk.fetch_hf(endpoint=wanted.hf_endpoint or None))
        if wanted.arxiv:
            categories = _run_fetch(lambda: _categories(list(wanted.arxiv)))
            reports.append(
                _run_fetch(lambda: desk.fetch_arxiv(categories, base=wanted.arxiv_rss or None))
            )
        _fetched(desk, reports)


def _categories(values: list[str]) -> list[str]:
    from paperdesk.fetch import check_categories

    return check_categories([c for v in values for c in v.replace("+", " ").split()])


@command(fetch_app, "hf")
@handles_errors
def fetch_hf(
    day: Annotated[
        str | None, typer.Option("--date", help="One day, YYYY-MM-DD.", show_default=False)
    ] = None,
    week: Annotated[
        str | None, typer.Option("--week", help="One week, YYYY-Www.", show_default=False)
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="One month, YYYY-MM.", show_default=False)
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list warnings.")] = False,
) -> None:
    """Fetch Hugging Face Daily Papers (honours HF_ENDPOINT). Without a date: today
    and each day since the last fetch, at most 14."""
    from datetime import date

    if sum(v is not None for v in (day, week, month)) > 1:
        raise usage("give one of --date, --week and --month")
    when = None
    if day is not None:
        try:
            when = date.fromisoformat(day) if _DAY.match(day) else None
        except ValueError:
            when = None
        if when is None:
            raise usage(f"--date {day!r} is not a day (YYYY-MM-DD)")
    if week is not None and not _WEEK.match(week):
        raise usage(f"--week {week!r} is not a week (YYYY-Www, as 2025-W42)")
    if month is not None and not _MONTH.match(month):
        raise usage(f"--month {month!r} is not a month (YYYY-MM)")
    from paperdesk.settings import load

    settings, _ = load()
    with open_desk() as desk:
        desk.backup("fetch")
        reports = _run_fetch(
            lambda: desk.fetch_hf(
                day=when, week=week, month=month, endpoint=settings.fetch.hf_endpoint or None
            )
        )
        _fetched(desk, reports, quiet)


@command(fetch_app, "arxiv")
@handles_errors
def fetch_arxiv(
    categories: Annotated[
        list[str] | None,
        typer.Argument(
            help="arXiv categories (cs.LG cs.CL); default: config.toml's [fetch] arxiv.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list warnings.")] = False,
) -> None:
    """Fetch today's arXiv announcements (rss.arxiv.org, or PAPERDESK_ARXIV_RSS):
    new and cross-listed papers are added, replacements update known papers."""
    from paperdesk.settings import load

    settings, _ = load()
    wanted = _run_fetch(lambda: _categories(list(categories or settings.fetch.arxiv)))
    if not wanted:
        raise usage(
            "name the categories (paperdesk fetch arxiv cs.LG) or list them in "
            'config.toml: [fetch] arxiv = ["cs.LG"]'
        )
    with open_desk() as desk:
        desk.backup("fetch")
        report = _run_fetch(lambda: desk.fetch_arxiv(wanted, base=settings.fetch.arxiv_rss or None))
        _fetched(desk, [report], quiet)


@command(app, "add")
@handles_errors
def add(
    papers: Annotated[
        list[str],
        typer.Argument(
            metavar="ID...",
            help="arXiv IDs (2510.14545) or arXiv / Hugging Face paper URLs.",
            show_default=False,
        ),
    ],
    star: Annotated[bool, typer.Option("--star", help="Star them too.")] = False,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Tag them too (repeatable).", show_default=False),
    ] = None,
) -> None:
    """Add papers by arXiv ID: their metadata comes from the arXiv API
    (export.arxiv.org, or PAPERDESK_ARXIV_API)."""
    tags = _checked_tags(tag or [])
    from paperdesk.fetch import arxiv_ids

    try:
        arxiv_ids(papers)
    except ValueError as error:
        raise usage(str(error)) from None
    with open_desk() as desk:
        desk.backup("add")
        report, missing = _run_fetch(lambda: desk.add_by_id(papers, star=star, tags=tags))
        _fetched(desk, [report])
        if star or tags:
            say(
                f"{'starred and tagged' if star and tags else 'starred' if star else 'tagged'} "
                f"{len(report.stats.ids) if report.stats else 0} paper(s)"
            )
        for ident in missing:
            say(f"paperdesk: arXiv has no paper {ident}", "red")
    if missing:
        raise typer.Exit(1)


def _feature(name: str) -> str:
    """A model feature as a person reads it: "cat:cs.lg" stays, a word pair too."""
    return visible(name)


@interest_app.callback()
@handles_errors
def interest_(ctx: typer.Context) -> None:
    """Learn your interest from your decisions and score every paper; show the
    strongest features and the muted ones."""
    if ctx.invoked_subcommand is not None:
        return
    with open_desk() as desk, _progress() as progress:
        task = progress.add_task("scoring papers", total=None)
        line, model = desk.train_interest(
            lambda done, total: progress.update(task, completed=done, total=total)
        )
        muted = desk.muted()
    out.print(visible(line), soft_wrap=True)
    if model is not None:
        up, down = model.strongest(10)
        out.print("raises: " + ", ".join(_feature(n) for n, _ in up), soft_wrap=True)
        out.print("lowers: " + ", ".join(_feature(n) for n, _ in down), soft_wrap=True)
    if muted:
        out.print("muted: " + ", ".join(_feature(n) for n in sorted(muted)), soft_wrap=True)


@command(interest_app, "report")
@handles_errors
def interest_report() -> None:
    """How well the model ranks your newest decisions when trained on the older
    ones (each liked paper against 4 others: NDCG, MRR), beside random."""
    with open_desk() as desk:
        report = desk.interest_report()
    if isinstance(report, str):
        say(report)
        return
    r = report
    out.print(
        f"trained on your {r.trained_on:,} older decisions, tested on the {r.tested_on:,} newest"
    )
    out.print(f"{'':14}{'NDCG':>8}{'MRR':>8}")
    out.print(f"{'your model':14}{r.model.ndcg:>8.3f}{r.model.mrr:>8.3f}")
    out.print(f"{'random':14}{r.random.ndcg:>8.3f}{r.random.mrr:>8.3f}")


@command(interest_app, "mute")
@handles_errors
def interest_mute(
    features: Annotated[
        list[str],
        typer.Argument(
            metavar="FEATURE...",
            help="Words, word pairs or tokens (au:NAME, org:NAME, cat:CATEGORY, "
            "kw:KEYWORD), as `paperdesk interest` lists them.",
        ),
    ],
) -> None:
    """Mute features: they no longer raise any paper's score (then re-learn)."""
    with open_desk() as desk:
        desk.set_muted(desk.muted() | {f.strip().lower() for f in features if f.strip()})
        line, _model = desk.train_interest()
    out.print(visible(line), soft_wrap=True)


@command(interest_app, "unmute")
@handles_errors
def interest_unmute(
    features: Annotated[list[str], typer.Argument(metavar="FEATURE...", help="Muted features.")],
) -> None:
    """Take muted features back (then re-learn)."""
    with open_desk() as desk:
        muted = desk.muted()
        unknown = [f for f in features if f.strip().lower() not in muted]
        if unknown:
            raise usage(
                f"{unknown[0]!r} is not muted (muted: {', '.join(sorted(muted)) or 'none'})"
            )
        desk.set_muted(muted - {f.strip().lower() for f in features})
        line, _model = desk.train_interest()
    out.print(visible(line), soft_wrap=True)


# --- list and show -----------------------------------------------------------------------


SortOption = Annotated[
    ListSort,
    typer.Option(
        "--sort", case_sensitive=False, help=f"Order: {', '.join(LIST_SORTS)}.", show_default=True
    ),
]
PlainOption = Annotated[
    bool,
    typer.Option(
        "--plain", help="One tab-separated line per paper (the default when not a terminal)."
    ),
]


@command(app, "list")
@handles_errors
def list_(
    starred: Annotated[bool, typer.Option("--starred", help="Only starred papers.")] = False,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread papers.")] = False,
    read: Annotated[bool, typer.Option("--read", help="Only read papers.")] = False,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="Only papers with this tag (repeat: with every one).",
            autocompletion=complete_tags,
        ),
    ] = None,
    sort: SortOption = BY_PUBLISHED,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N papers.")] = None,
    saved: Annotated[
        str | None,
        typer.Option("--saved", metavar="NAME", help="Only the papers a saved search finds."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    plain: PlainOption = False,
) -> None:
    """List the papers in the library."""
    commands.list_papers(
        starred=starred, unread=unread, read=read, tags=tag, sort=sort.value,
        limit=limit, saved=saved, as_json=as_json, plain=plain,
    )  # fmt: skip


IdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID", help="A paper ID or a unique prefix.", autocompletion=complete_ids
    ),
]


@command()
@handles_errors
def show(
    paper_id: IdArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Show one paper in full."""
    commands.show(paper_id, as_json=as_json)


# --- the user's state --------------------------------------------------------------------

QueryOption = Annotated[
    str | None,
    typer.Option(
        "--query",
        "-q",
        metavar="QUERY",
        help="Every paper matching this search (the query language), instead of IDs.",
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", "-n", help="List the papers it would change; change nothing.")
]


OptionalIds = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="ID", help="Paper IDs or prefixes (or --query).", autocompletion=complete_ids
    ),
]


@command()
@handles_errors
def star(ids: OptionalIds = None, query: QueryOption = None, yes: YesOption = False,
         dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Star papers (by ID, or every match of --query)."""
    commands.set_flag(ids, "star", query, yes, dry_run)


@command()
@handles_errors
def unstar(ids: OptionalIds = None, query: QueryOption = None, yes: YesOption = False,
           dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Remove the star from papers (by ID, or every match of --query)."""
    commands.set_flag(ids, "unstar", query, yes, dry_run)


@command(app, "read")
@handles_errors
def read_(ids: OptionalIds = None, query: QueryOption = None, yes: YesOption = False,
          dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Mark papers read (by ID, or every match of --query)."""
    commands.set_flag(ids, "read", query, yes, dry_run)


@command()
@handles_errors
def unread(ids: OptionalIds = None, query: QueryOption = None, yes: YesOption = False,
           dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Mark papers unread (by ID, or every match of --query)."""
    commands.set_flag(ids, "unread", query, yes, dry_run)


@command()
@handles_errors
def dismiss(ids: OptionalIds = None, query: QueryOption = None, yes: YesOption = False,
            dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Mark papers "not for me" (and read): what your interest ranking learns from."""
    commands.set_flag(ids, "dismiss", query, yes, dry_run)


@command()
@handles_errors
def undismiss(ids: OptionalIds = None, query: QueryOption = None, yes: YesOption = False,
              dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Take back "not for me" (the papers stay read)."""
    commands.set_flag(ids, "undismiss", query, yes, dry_run)


TagsArgument = Annotated[
    list[str], typer.Argument(metavar="TAG...", help="Tags.", autocompletion=complete_tags)
]
IdAndTags = Annotated[
    list[str],
    typer.Argument(
        metavar="[ID] TAG...",
        help="A paper ID (or prefix) and tags; with --query, only tags.",
        autocompletion=complete_tags,
    ),
]


@command()
@handles_errors
def tag(args: IdAndTags, query: QueryOption = None, yes: YesOption = False,
        dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Add tags to a paper (or to every match of --query)."""
    commands.change_tags(args, True, query, yes, dry_run)


@command()
@handles_errors
def untag(args: IdAndTags, query: QueryOption = None, yes: YesOption = False,
          dry_run: DryRunOption = False) -> None:  # fmt: skip
    """Remove tags from a paper (or from every match of --query)."""
    commands.change_tags(args, False, query, yes, dry_run)


def _history_step(undo: bool) -> None:
    from paperdesk.steps import CliHistory

    with open_desk() as desk:
        taken = CliHistory(desk).step(undo)
        _notices(desk)
        if taken is not None and taken[1]:
            desk.learn_in_background()
    if taken is None:
        raise fail("nothing to undo" if undo else "nothing to redo")
    step, changed = taken
    verb = "undid" if undo else "redid"
    gone = len(step.ids) - len(changed)
    note = f" ({gone} had changed since)" if gone > 0 else ""
    out.print(f"{verb}: {step.label}{note}")


@command()
@handles_errors
def undo() -> None:
    """Take back the last star, read, tag or "not for me" made on the command line
    (a --query one whole). Each undo goes one step further back."""
    _history_step(True)


@command()
@handles_errors
def redo() -> None:
    """Do again what `paperdesk undo` took back."""
    _history_step(False)


@command()
@handles_errors
def note(
    paper_id: IdArgument,
    set_: Annotated[
        str | None, typer.Option("--set", metavar="TEXT", help="Replace the note with TEXT.")
    ] = None,
    append: Annotated[
        str | None,
        typer.Option("--append", metavar="TEXT", help="Add TEXT as a new line at the end."),
    ] = None,
    edit: Annotated[
        bool, typer.Option("--edit", help="Edit the note in $VISUAL or $EDITOR.")
    ] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Delete the note.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Print a paper's Markdown note, or write it (--set, --append, --edit, --clear).

    A note is a decision like a star: saved at once, in the journal and the
    state file, searchable (note:WORD, and plain words), and exported.
    """
    chosen = [name for name, on in (("--set", set_ is not None), ("--append", append is not None),
                                    ("--edit", edit), ("--clear", clear)) if on]  # fmt: skip
    if len(chosen) > 1:
        raise usage(f"{' and '.join(chosen)} exclude each other: give one")
    with open_desk() as desk:
        full = desk.resolve_id(paper_id)
        current = desk.note(full)
        if not chosen:
            _notices(desk)
            if as_json:
                print_json({"id": full, "note": current or None})
            elif current:
                out.print(Text(visible(current.rstrip("\n"))), soft_wrap=True)
            else:
                say(f"{full} has no note; write one with --set, --append or --edit")
            return
        if set_ is not None:
            text = set_
        elif append is not None:
            text = f"{current.rstrip()}\n{append}" if current.strip() else append
        elif clear:
            text = ""
        else:
            from paperdesk.editor import EditorError
            from paperdesk.editor import edit as run_editor

            try:
                text = run_editor(current)
            except EditorError as error:
                raise fail(str(error)) from None
        changed = desk.set_note(full, desk_note(text))
        _notices(desk)
    if as_json:
        print_json({"id": full, "note": desk_note(text) or None, "changed": changed})
    elif not changed:
        say(f"the note on {full} is unchanged")
    elif clear or not text.strip():
        say(f"deleted the note on {full}")
    else:
        say(f"saved the note on {full} ({len(text.strip()):,} characters)")


def desk_note(text: str) -> str:
    """A note as it is saved: without trailing blank lines."""
    return text.rstrip("\n") + ("\n" if "\n" in text.strip() else "")


# --- saved searches ------------------------------------------------------------------------


@command(saved_app, "add")
@handles_errors
def saved_add(
    name: Annotated[str, typer.Argument(help="Its name (the app lists them by name).")],
    query: Annotated[str, typer.Argument(help="A query, as `paperdesk search` takes it.")],
) -> None:
    """Save a search by name (a saved one of that name is replaced)."""
    with open_desk() as desk:
        existed = " ".join(name.split()) in desk.saved_searches()
        changed = desk.save_search(name, query)
        total, unread = desk.search_counts(query)
        _notices(desk)
    verb = "unchanged" if not changed else "replaced" if existed else "saved"
    say(f"{verb}: {' '.join(name.split())} = {query}  ({unread:,} unread of {total:,})")


@command(saved_app, "list")
@handles_errors
def saved_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """The saved searches with their matches and unread counts."""
    with open_desk() as desk:
        found = desk.saved_searches()
        counts = {name: desk.search_counts(query) for name, query in found.items()}
        _notices(desk)
    if as_json:
        print_json([
            {"name": name, "query": query, "total": counts[name][0], "unread": counts[name][1]}
            for name, query in found.items()
        ])  # fmt: skip
        return
    if not found:
        say("No saved searches. Save one: paperdesk saved add NAME QUERY")
        return
    if _plain(False):  # a pipe or a file: tab-separated lines, as `list` writes
        write_stdout(
            "".join(
                "\t".join((str(n) if n <= 9 else "", _one_line(name), str(counts[name][1]),
                           str(counts[name][0]), _one_line(query))) + "\n"
                for n, (name, query) in enumerate(found.items(), start=1)
            )
        )  # fmt: skip
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("Key", justify="right", style="dim")
    table.add_column("Name")
    table.add_column("Unread", justify="right")
    table.add_column("Total", justify="right")
    table.add_column("Query", style="dim", overflow="fold")
    for number, (name, query) in enumerate(found.items(), start=1):
        total, unread = counts[name]
        key = str(number) if number <= 9 else ""
        table.add_row(key, Text(visible(name)), f"{unread:,}", f"{total:,}", Text(visible(query)))
    out.print(table)


@command(saved_app, "remove")
@handles_errors
def saved_remove(name: Annotated[str, typer.Argument(help="A saved search's name.")]) -> None:
    """Remove a saved search."""
    with open_desk() as desk:
        desk.saved_query(name)  # one line naming the saved ones when there is none
        desk.remove_search(name)
    say(f"removed the saved search {' '.join(name.split())}")


# --- search -------------------------------------------------------------------------------


@command(app, context_settings={"ignore_unknown_options": True})
@handles_errors
def search(
    query: Annotated[str, typer.Argument(help="A query; see the README for the syntax.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N results.")] = 20,
    sort: Annotated[
        SearchSort,
        typer.Option("--sort", case_sensitive=False, help="Order: relevance, published, upvotes."),
    ] = BY_RELEVANCE,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
    plain: PlainOption = False,
) -> None:
    """Search the library: ranked results with the matches highlighted.

    With --sort published or upvotes the results come in that order; each
    result's score (in --json) is still its relevance.
    """
    commands.search(query, limit=limit, sort=sort.value, as_json=as_json, plain=plain)


@command()
@handles_errors
def similar(
    paper_id: IdArgument,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N papers.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    plain: PlainOption = False,
) -> None:
    """Papers most like one paper."""
    with open_desk() as desk:
        paper = desk.paper(paper_id)
        hits = desk.similar(paper, limit=limit)
        _notices(desk)
    if as_json:
        print_json([{**hit.paper.to_json(), "score": round(hit.score, 4)} for hit in hits])
        return
    if not hits:
        say("No similar papers.")
        return
    if _plain(plain):
        print_plain([hit.paper for hit in hits])
        return
    out.print(Text(f"Papers like: {_one_line(paper.title)}", style="bold"))
    out.print(paper_table([hit.paper for hit in hits]))


@command(index_app, "update")
@handles_errors
def index_update() -> None:
    """Bring the search index up to date with the library (the app runs this)."""
    with open_desk() as desk, _progress() as progress:
        task = progress.add_task("updating the search index", total=None)
        done = desk.sync_index(progress=lambda n, t: progress.update(task, completed=n, total=t))
        _notices(desk)
    out.print(f"search index up to date ({plural(done, 'paper')} updated)")


@command(index_app, "rebuild")
@handles_errors
def index_rebuild() -> None:
    """Rebuild the search index from the library."""
    with open_desk() as desk, _progress() as progress:
        task = progress.add_task("indexing", total=desk.count())
        done = desk.rebuild_index(progress=lambda n, t: progress.update(task, completed=n, total=t))
    out.print(f"indexed {done} papers")


# --- state ---------------------------------------------------------------------------------


@command(state_app, "export")
@handles_errors
def state_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (replaced atomically).")
    ] = None,
) -> None:
    """Write every read, star and tag decision as JSON keyed by paper ID."""
    with open_desk() as desk:
        document = desk.export_state()
    if _emit(json.dumps(document, ensure_ascii=False, indent=2) + "\n", output):
        n = len(document["papers"])
        say(f"wrote decisions about {plural(n, 'paper')} to {output}")


@command(state_app, "import")
@handles_errors
def state_import(
    file: Annotated[Path, typer.Argument(help="A file written by `paperdesk state export`.")],
) -> None:
    """Merge a state file into the library: the later decision wins, nothing is dropped.

    A backup of the library is taken first. Decisions stamped more than a day
    in the future (a wrong clock) count as made now.
    """
    with open_desk() as desk:
        taken = desk.backup("state-import")
        result = desk.import_state(file)
        _notices(desk)
        if result.updated:
            desk.learn_in_background()
    if taken is not None:
        say(f"backed the library up first: {taken.name}")
    if result.clamped:
        say(
            f"paperdesk: {file}: {plural(result.clamped, 'decision')} stamped more than a day "
            "in the future (a wrong clock?) counted as made now",
            "yellow",
        )
    out.print(
        visible(
            f"{file}: {plural(result.papers, 'paper')}: {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.pending} kept until they are imported"
            + (
                f"; {result.saved} saved search{'es' if result.saved != 1 else ''} changed"
                if result.saved
                else ""
            )
        ),
        soft_wrap=True,
    )


# --- backups ---------------------------------------------------------------------------------


@command()
@handles_errors
def restore(
    backup: Annotated[
        str | None,
        typer.Argument(help="Which backup: its number in --list (1 is the newest) or its file."),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", "-l", help="List the backups.")] = False,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="Do not merge newer decisions from the library being replaced."
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
    ] = False,
    journal: Annotated[
        bool,
        typer.Option(
            "--journal",
            help="No backup can be used: a new library holding every decision of the "
            "journal; the papers come back when you import them again.",
        ),
    ] = False,
) -> None:
    """Bring back the newest backup of your library (or the one you name).

    The library it replaces is moved into the backups directory, never deleted,
    and every read, star and tag decision that can still be read from it is
    merged into the restored copy (the later decision wins). Quit the app first.
    At a terminal it asks first; a script passes --yes.
    """
    desk = open_desk()
    directory = desk.backups_path
    found = desk.backups()
    if list_:
        _list_backups(found, directory)
        return
    if journal:
        _restore_from_journal(desk, yes)
        return
    if not found:
        raise fail(
            f"there are no backups in {directory}; `paperdesk restore --journal` rebuilds "
            "your decisions from the decision journal"
        )
    chosen = _choose_backup(found, backup)
    lacking = desk.compare_with_backup(chosen)
    if lacking is not None and lacking.papers:
        say(
            f"{chosen.name} lacks {plural(lacking.papers, 'paper')} that the library has "
            f"now (imported since it was taken) and {plural(lacking.decisions, 'decision')} "
            "about them."
            + (
                " Those decisions are kept and come back when the papers do: "
                if not exact
                else " With --exact those decisions are not kept. "
            )
            + "import again "
            + (", ".join(lacking.sources[:5]) + (" and more" if len(lacking.sources) > 5 else "")
               if lacking.sources else "the files they came from")
            + "; the replaced library is kept in the backups directory.",
            "yellow",
        )  # fmt: skip
    if not yes:
        if not _at_terminal():
            raise usage("restore replaces your library: confirm at a terminal, or pass --yes")
        if not typer.confirm(f"Replace the library with {chosen.name}?", default=False, err=True):
            raise fail("not restored; the library is as it was")
    result = desk.restore(chosen, merge_newer=not exact)
    summary = desk.summary()
    out.print(
        f"restored {chosen.name}: {summary.papers} papers, {summary.starred} starred, "
        f"{summary.tagged} tagged, {summary.read} read",
        soft_wrap=True,
    )
    if result.replaced:
        out.print(f"the library it replaced was kept as {result.replaced}", soft_wrap=True)
    if result.merged:
        out.print(f"merged newer decisions about {plural(result.merged, 'paper')} from it")
    elif result.merge_problem:
        say(
            f"paperdesk: no decisions could be read from the replaced library "
            f"({result.merge_problem}); the decision journal is used instead",
            "yellow",
        )
    if result.replayed:
        out.print(
            f"brought back newer decisions about {plural(result.replayed, 'paper')} "
            "from the decision journal"
        )
    if result.journal_skipped:
        say(f"paperdesk: skipped {plural(result.journal_skipped, 'damaged journal line')}",
            "yellow")  # fmt: skip


def _restore_from_journal(desk: Desk, yes: bool) -> None:
    if not yes:
        if not _at_terminal():
            raise usage("restore replaces your library: confirm at a terminal, or pass --yes")
        if not typer.confirm(
            "Replace the library with a new one holding only the journal's decisions?",
            default=False,
            err=True,
        ):
            raise fail("not restored; the library is as it was")
    result = desk.restore_from_journal()
    out.print(
        f"a new library holds the decision journal's decisions about "
        f"{plural(result.decisions, 'paper')}; import your dumps again (paperdesk import "
        "FILE...) and each paper gets its decisions back as it arrives",
        soft_wrap=True,
    )
    if result.replaced:
        out.print(f"the library it replaced was kept as {result.replaced}", soft_wrap=True)
    if result.journal_skipped:
        say(f"paperdesk: skipped {plural(result.journal_skipped, 'damaged journal line')}",
            "yellow")  # fmt: skip


def _choose_backup(found, wanted: str | None):
    if wanted is None:
        good = [b for b in found if b.reason != "replaced" and b.problem() is None]
        if not good:
            raise fail(
                "every backup is damaged (`paperdesk restore --list` shows them); "
                "`paperdesk restore --journal` rebuilds your decisions from the decision journal"
            )
        # An empty library's backup never wins over one that holds papers.
        chosen = next((b for b in good if b.summary().papers), good[0])
        if chosen is not good[0]:
            skipped = good.index(chosen)
            say(
                f"chose {chosen.name}: the {plural(skipped, 'newer backup')} before it "
                "hold no papers (a library emptied or replaced by mistake?)",
                "yellow",
            )
        return chosen
    if wanted.isdigit():
        number = int(wanted)
        if not 1 <= number <= len(found):
            raise usage(
                f"there is no backup {number}; `paperdesk restore --list` shows 1 to {len(found)}"
            )
        return found[number - 1]
    for candidate in found:
        if wanted in (candidate.name, str(candidate.path)) or Path(wanted).name == candidate.name:
            return candidate
    raise usage(f"no backup named {wanted!r}; `paperdesk restore --list` shows them")


def _list_backups(found, directory: Path) -> None:
    if not found:
        out.print(f"No backups yet in {directory}.")
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in ("#", "Taken", "Why", "Papers", "Starred", "Tagged", "Read", "File"):
        table.add_column(
            column,
            justify="right" if column in ("#", "Papers", "Starred", "Tagged", "Read") else "left",
        )
    for number, backup in enumerate(found, 1):
        taken = backup.taken.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        problem = backup.problem()
        if problem:
            table.add_row(str(number), taken, backup.reason, "damaged", "", "", "", backup.name)
            continue
        s = backup.summary()
        table.add_row(
            str(number), taken, backup.reason, str(s.papers), str(s.starred), str(s.tagged),
            str(s.read), backup.name,
        )  # fmt: skip
    out.print(table)
    out.print(f"in {directory}")


# --- export ------------------------------------------------------------------------------


@command()
@handles_errors
def export(
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Export the papers matching a query.")
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="md, bibtex, biblatex, csv or json."
        ),
    ] = AS_MARKDOWN,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to FILE (replaced atomically; - for stdout)."),
    ] = None,
    group_by: Annotated[
        ExportGroup,
        typer.Option(
            "--group-by", case_sensitive=False, help="Markdown sections: tag, date or none."
        ),
    ] = GROUPED_BY_TAG,
    with_abstracts: Annotated[
        bool, typer.Option("--with-abstracts", help="Include abstracts (Markdown).")
    ] = False,
    excel: Annotated[
        bool, typer.Option("--excel", help="CSV: start with a byte-order mark for spreadsheets.")
    ] = False,
) -> None:
    """Export the starred papers (or a query's matches) to Markdown, BibTeX, CSV or JSON.

    bibtex is ASCII (pdflatex with bibtex or biber); biblatex keeps Unicode
    (biber with xelatex or lualatex). Keys depend on the paper alone.
    """
    from paperdesk import export as exporting
    from paperdesk.query import QueryError

    with open_desk() as desk:
        try:
            papers, title = desk.select(query)
        except QueryError as error:
            raise usage(f"cannot read the query {query!r}: {error}") from None
        _notices(desk)
    if query is not None:
        commands.query_hints(query)
    document = exporting.render(
        papers,
        fmt.value,
        title=title,
        group_by=group_by.value,
        with_abstracts=with_abstracts,
        excel=excel,
    )
    if not papers:
        what = "no starred papers" if query is None else f"no papers match {query!r}"
        say(f"paperdesk: {what}; the export is empty", "yellow")
    if _emit(document, output):
        say(f"exported {plural(len(papers), 'paper')} to {output}")


@command(app, "sync")
@handles_errors
def sync_(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="[DIR]",
            help="A folder your sync tool keeps the same on every machine "
            "(default: config.toml's [sync] dir).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Say only what went wrong.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what it did as JSON.")] = False,
) -> None:
    """Share your decisions with your other machines through a folder.

    Appends this machine's stars, reads, tags, notes and saved searches since
    the last sync to its own file in DIR, and merges every other machine's by
    the usual rule (the later decision wins). Run it on each machine, or set
    [sync] dir in config.toml and the app does it on start, every few minutes
    and on quit.
    """
    from paperdesk import settings as config
    from paperdesk.sync import SyncError

    if folder is None:
        wanted = config.load()[0].sync.folder
        if wanted is None:
            raise usage("which folder? `paperdesk sync DIR`, or set [sync] dir in config.toml")
        folder = wanted
    with open_desk() as desk:
        try:
            report = desk.sync(folder)
        except SyncError as error:
            raise fail(str(error)) from None
        _notices(desk)
        if report.updated:
            desk.learn_in_background()
    for problem in report.damaged:
        say(f"paperdesk: {problem}", "yellow")
    if as_json:
        print_json(
            {
                "folder": str(report.folder), "machine": report.machine, "sent": report.sent,
                "files": report.files, "records": report.records, "updated": report.updated,
                "pending": report.pending, "saved": report.saved, "damaged": report.damaged,
            }
        )  # fmt: skip
        return
    if quiet:
        return
    sent = "nothing new to send"
    if report.sent:
        sent = f"sent decisions about {plural(report.sent, 'paper')}"
    got = (
        f"merged {plural(report.records, 'new record')} from "
        f"{plural(report.files, 'other machine file')}: {plural(report.updated, 'paper')} changed"
        if report.records
        else f"nothing new from {plural(report.files, 'other machine file')}"
    )
    waiting = f", {report.pending} kept for papers not here yet" if report.pending else ""
    saved = f", {plural(report.saved, 'saved search')} changed" if report.saved else ""
    out.print(f"{sent}; {got}{waiting}{saved}", soft_wrap=True)


@command()
@handles_errors
def keys(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown tables (for docs).")
    ] = False,
    preset: Annotated[
        str | None,
        typer.Option("--preset", help="Show a preset's keys (default, newsboat), not yours."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every key of the app: yours (config.toml's [keys]) or a preset's."""
    from paperdesk import keys as keying
    from paperdesk import settings as config

    if preset is not None:
        if preset not in keying.PRESETS:
            raise usage(f"unknown preset {preset!r} (known: {', '.join(keying.PRESETS)})")
        keymap, problems = keying.resolve(preset, {})
    else:
        loaded, problems = config.load()
        keymap = loaded.keymap
        problems = [p for p in problems if "[keys]" in p or "key preset" in p]
    for problem in problems:
        say(f"paperdesk: {problem}", "yellow")
    if as_json:
        print_json(
            {
                "preset": keymap.preset,
                "actions": [
                    {"name": a.name, "where": a.scope, "keys": list(keymap.of(a.name)),
                     "shown": keying.shown(keymap.of(a.name)), "does": a.description}
                    for a in keying.ACTIONS
                ],
            }
        )  # fmt: skip
        return
    if markdown:
        write_stdout(keying.markdown(keymap))
        return
    for title, rows in keying.table_rows(keymap):
        table = Table(title=title, title_justify="left", box=None, padding=(0, 2, 0, 0))
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action")
        table.add_column("name in [keys]", style="dim", no_wrap=True)
        for name, keys_shown, description in rows:
            table.add_row(keys_shown or "(none)", description, name)
        out.print(table)
        out.print()


@command()
def locate(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Where the library, the index and the config live."""
    commands.locate(as_json=as_json)


def main() -> None:
    """The whole command line (``quick.main`` sends here what it does not run itself)."""
    commands.prepare_streams()
    app()
