"""The ``paperdesk`` command line: a thin typer layer over ``Desk``.

Without a command it opens the triage app. Every command that prints papers
takes ``--json`` for scripts; errors go to stderr as one line, exit status 1.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from paperdesk import __version__, backups, paths
from paperdesk.atomic import write_atomic
from paperdesk.desk import Desk
from paperdesk.model import Paper
from paperdesk.store import SORTS, Filter, LibraryError

app = typer.Typer(
    name="paperdesk",
    help="A keyboard-driven terminal reader for research papers.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
index_app = typer.Typer(help="Maintain the search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")
state_app = typer.Typer(
    help="Your read, starred and tag decisions as a portable JSON file.", no_args_is_help=True
)
app.add_typer(state_app, name="state")

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    err.print(f"paperdesk: {escape(message)}", style="red", soft_wrap=True)
    return typer.Exit(1)


def handles_errors(func: F) -> F:
    """Library problems become one clear line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LibraryError as error:
            raise fail(str(error)) from None

    return wrapper  # type: ignore[return-value]


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
        console=err,
        transient=True,
        disable=not err.is_terminal,
        # Summaries go to stdout between updates; the bar must not capture them.
        redirect_stdout=False,
        redirect_stderr=False,
    )


def _emit(text: str, output: Path | None) -> bool:
    """Print to stdout, or replace ``output`` atomically; True if a file was written."""
    if output is None:
        sys.stdout.write(text)
        return False
    try:
        write_atomic(output, text)
    except OSError as error:
        raise fail(f"cannot write {output}: {error.strerror or error}") from None
    return True


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _notices(desk: Desk) -> None:
    for notice in desk.notices:
        err.print(f"paperdesk: {escape(notice)}", style="yellow", soft_wrap=True)


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


def _run_app(desk: Desk | None = None, banner: str | None = None, backup: bool = True) -> None:
    # Textual is imported only here: scripted commands start without it.
    from paperdesk.tui.app import make_app

    kwargs: dict[str, Any] = {"banner": banner} if banner else {}
    desk = desk or open_desk()
    try:
        desk.library.counts()  # a library that cannot be opened is reported before the app starts
        make_app(desk, backup_on_start=backup, freeze_gc=True, **kwargs).run()
    except LibraryError as error:
        raise fail(str(error)) from None


@app.command()
def demo() -> None:
    """Open the app on a sample library in a temporary directory (yours is not touched)."""
    import tempfile

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


@app.command("import")
@handles_errors
def import_(
    files: Annotated[
        list[Path], typer.Argument(help="Daily Papers text dumps.", show_default=False)
    ],
    year: Annotated[
        int | None,
        typer.Option("--year", min=1900, max=2999, help="The capture year for dates without one."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list warnings.")] = False,
) -> None:
    """Import saved Daily Papers pages into the library."""
    rejected = False
    with open_desk() as desk, _progress() as progress:
        task = progress.add_task("checking and backing up the library", total=None)
        try:
            desk.backup("import")
            for path in files:

                def show(stage: str, done: int, total: int, name: str = path.name) -> None:
                    progress.update(
                        task, description=f"{stage} {name}", completed=done, total=total
                    )

                report = desk.import_file(path, year=year, progress=show)
                if report.rejected:
                    rejected = True
                    err.print(
                        f"paperdesk: {escape(str(path))}: {escape(report.rejected)}",
                        style="red",
                        soft_wrap=True,
                    )
                    continue
                progress.stop()  # the bar steps aside while the summary is printed
                out.print(escape(report.summary), soft_wrap=True)
                progress.start()
                if report.stats and report.stats.state_applied:
                    n = report.stats.state_applied
                    err.print(
                        f"{escape(str(path))}: applied saved decisions to {n} new paper(s)",
                        soft_wrap=True,
                    )
                if not quiet:
                    for warning in report.warnings:
                        err.print(
                            f"{escape(str(path))}: warning: {escape(warning)}",
                            style="yellow",
                            soft_wrap=True,
                        )
        except KeyboardInterrupt:
            raise fail("interrupted: the files reported above are in the library") from None
        progress.remove_task(task)
        task = progress.add_task("updating the search index", total=None)
        try:
            desk.sync_index(progress=lambda n, t: progress.update(task, completed=n, total=t))
        except KeyboardInterrupt:
            err.print(
                "paperdesk: search index update interrupted; the library is complete and "
                "the index catches up on the next search",
                style="yellow",
            )
        except Exception as error:  # noqa: BLE001 - the library is safe; the index catches up
            err.print(f"paperdesk: search index not updated ({escape(str(error))})")
        _notices(desk)
    if rejected:
        raise typer.Exit(1)


# --- list and show -----------------------------------------------------------------------

SortOption = Annotated[
    str, typer.Option("--sort", help=f"Order: {', '.join(SORTS)}.", show_default=True)
]


def _check_sort(sort: str, allowed: Any = SORTS) -> str:
    if sort not in allowed:
        raise fail(f"unknown sort {sort!r}; choose one of: {', '.join(allowed)}")
    return sort


def marks(paper: Paper) -> str:
    return ("★" if paper.starred else " ") + ("•" if not paper.read else " ")


def paper_table(papers: list[Paper], title_cells: list[Text] | None = None) -> Table:
    table = Table(show_edge=False, pad_edge=False, expand=False, header_style="bold")
    table.add_column("ID", style="dim", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Published", no_wrap=True)
    table.add_column("↑", justify="right", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    table.add_column("Tags", style="cyan")
    for number, paper in enumerate(papers):
        title = title_cells[number] if title_cells else Text(paper.title)
        if not paper.read:
            title.stylize("bold")
        table.add_row(
            paper.id,
            marks(paper),
            paper.published.isoformat() if paper.published else "",
            "" if paper.upvotes is None else str(paper.upvotes),
            title,
            " ".join(paper.tags),
        )
    return table


@app.command("list")
@handles_errors
def list_(
    starred: Annotated[bool, typer.Option("--starred", help="Only starred papers.")] = False,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread papers.")] = False,
    read: Annotated[bool, typer.Option("--read", help="Only read papers.")] = False,
    tag: Annotated[str | None, typer.Option("--tag", help="Only papers with this tag.")] = None,
    sort: SortOption = "published",
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="At most N papers.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the papers in the library."""
    _check_sort(sort)
    if read and unread:
        raise fail("--read and --unread exclude each other")
    flt = Filter(
        starred=True if starred else None,
        read=True if read else (False if unread else None),
        tag=tag,
    )
    with open_desk() as desk:
        papers = desk.library.list(flt, sort=sort, limit=limit)
        if as_json:
            print_json([p.to_json() for p in papers])
            return
        total = desk.library.count()
        if not total:
            out.print("The library is empty. Import a dump: paperdesk import FILE...")
            return
        if not papers:
            out.print("No papers match.")
            return
        out.print(paper_table(papers))
        out.print(f"[dim]{len(papers)} of {total} papers[/dim]")


def show_paper(paper: Paper) -> None:
    out.print(Text(paper.title, style="bold"))
    facts = [
        f"ID {paper.id}",
        f"published {paper.published.isoformat()}" if paper.published else "no date",
        f"{paper.authors} authors" if paper.authors is not None else None,
        paper.organization,
        f"{paper.upvotes} upvotes" if paper.upvotes is not None else None,
        "starred" if paper.starred else None,
        "read" if paper.read else "unread",
    ]
    out.print(Text(" · ".join(f for f in facts if f), style="dim"))
    if paper.tags:
        out.print(Text("tags: " + ", ".join(paper.tags), style="cyan"))
    for link in paper.links:
        out.print(Text(link, style=f"link {link}"))
    sources = ", ".join(f"{s.file} ({s.page_date or 'no date'})" for s in paper.sources)
    out.print(Text(f"seen in: {sources}", style="dim"))
    out.print()
    out.print(paper.abstract or Text("(no abstract)", style="dim"), soft_wrap=False)


@app.command()
@handles_errors
def show(
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="A paper ID or a unique prefix.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Show one paper in full."""
    with open_desk() as desk:
        paper = desk.library.get(desk.library.resolve_id(paper_id))
    if as_json:
        print_json(paper.to_json())
    else:
        show_paper(paper)


# --- the user's state --------------------------------------------------------------------

IdsArgument = Annotated[list[str], typer.Argument(metavar="ID...", help="Paper IDs or prefixes.")]


def _set_flag(ids: list[str], action: str) -> None:
    with open_desk() as desk:
        full = desk.resolve(ids)
        method = {
            "star": lambda: desk.set_starred(full, True),
            "unstar": lambda: desk.set_starred(full, False),
            "read": lambda: desk.set_read(full, True),
            "unread": lambda: desk.set_read(full, False),
        }[action]
        changed = method()
        _notices(desk)
    past = {
        "star": "starred",
        "unstar": "unstarred",
        "read": "marked read",
        "unread": "marked unread",
    }[action]
    unchanged = len(set(full)) - len(changed)
    note = f" ({unchanged} already were)" if unchanged else ""
    out.print(f"{past} {len(changed)} paper{'s' if len(changed) != 1 else ''}{note}")


@app.command()
@handles_errors
def star(ids: IdsArgument) -> None:
    """Star papers."""
    _set_flag(ids, "star")


@app.command()
@handles_errors
def unstar(ids: IdsArgument) -> None:
    """Remove the star from papers."""
    _set_flag(ids, "unstar")


@app.command("read")
@handles_errors
def read_(ids: IdsArgument) -> None:
    """Mark papers read."""
    _set_flag(ids, "read")


@app.command()
@handles_errors
def unread(ids: IdsArgument) -> None:
    """Mark papers unread."""
    _set_flag(ids, "unread")


TagsArgument = Annotated[list[str], typer.Argument(metavar="TAG...", help="Tags.")]


@app.command()
@handles_errors
def tag(
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="A paper ID or prefix.")],
    tags: TagsArgument,
) -> None:
    """Add tags to a paper."""
    with open_desk() as desk:
        result = desk.add_tags(desk.library.resolve_id(paper_id), tags)
        _notices(desk)
    out.print(f"tags: {', '.join(result) or '(none)'}")


@app.command()
@handles_errors
def untag(
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="A paper ID or prefix.")],
    tags: TagsArgument,
) -> None:
    """Remove tags from a paper."""
    with open_desk() as desk:
        result = desk.remove_tags(desk.library.resolve_id(paper_id), tags)
        _notices(desk)
    out.print(f"tags: {', '.join(result) or '(none)'}")


# --- search -------------------------------------------------------------------------------

SEARCH_SORTS = ("relevance", "published", "upvotes")


def _rich_highlight(marked: str) -> Text:
    """A ``**marked**`` highlight string as rich text with the matches styled."""
    text = Text()
    for number, piece in enumerate(marked.split("**")):
        text.append(piece, style="bold reverse" if number % 2 else "")
    return text


@app.command(context_settings={"ignore_unknown_options": True})
@handles_errors
def search(
    query: Annotated[str, typer.Argument(help="A query; see the README for the syntax.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N results.")] = 20,
    sort: Annotated[
        str, typer.Option("--sort", help=f"Order: {', '.join(SEARCH_SORTS)}.")
    ] = "relevance",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Search the library: ranked results with the matches highlighted."""
    from paperdesk.query import QueryError

    _check_sort(sort, SEARCH_SORTS)
    with open_desk() as desk:
        try:
            results = desk.index.search(desk.library, query, limit=limit, sort=sort)
        except QueryError as error:
            raise fail(f"cannot read the query {query!r}: {error}") from None
        _notices(desk)
    if as_json:
        print_json(
            {
                "query": results.query,
                "total": results.total,
                "suggestion": results.suggestion,
                "results": [
                    {
                        **hit.paper.to_json(),
                        "score": round(hit.score, 4),
                        "highlights": hit.highlights,
                    }
                    for hit in results.hits
                ],
            }
        )
        return
    if results.suggestion:
        out.print(f"Did you mean: [bold]{escape(results.suggestion)}[/bold]")
    if not results.hits:
        out.print("No papers match.")
        return
    titles = [_rich_highlight(hit.highlights["title"]) for hit in results.hits]
    out.print(paper_table([hit.paper for hit in results.hits], titles))
    shown = len(results.hits)
    out.print(f"[dim]{shown} of {results.total} matches[/dim]")


@app.command()
@handles_errors
def similar(
    paper_id: Annotated[str, typer.Argument(metavar="ID", help="A paper ID or prefix.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N papers.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Papers most like one paper."""
    with open_desk() as desk:
        paper = desk.library.get(desk.library.resolve_id(paper_id))
        hits = desk.index.similar(desk.library, paper, limit=limit)
        _notices(desk)
    if as_json:
        print_json([{**hit.paper.to_json(), "score": round(hit.score, 4)} for hit in hits])
        return
    out.print(Text(f"Papers like: {paper.title}", style="bold"))
    if not hits:
        out.print("No similar papers.")
        return
    out.print(paper_table([hit.paper for hit in hits]))


@index_app.command("update")
@handles_errors
def index_update() -> None:
    """Bring the search index up to date with the library (the app runs this)."""
    with open_desk() as desk, _progress() as progress:
        task = progress.add_task("updating the search index", total=None)
        done = desk.index.sync(
            desk.library, progress=lambda n, t: progress.update(task, completed=n, total=t)
        )
        _notices(desk)
    out.print(f"search index up to date ({plural(done, 'paper')} updated)")


@index_app.command("rebuild")
@handles_errors
def index_rebuild() -> None:
    """Rebuild the search index from the library."""
    with open_desk() as desk, _progress() as progress:
        task = progress.add_task("indexing", total=desk.library.count())
        done = desk.index.rebuild(
            desk.library, progress=lambda n, t: progress.update(task, completed=n, total=t)
        )
    out.print(f"indexed {done} papers")


# --- state ---------------------------------------------------------------------------------


@state_app.command("export")
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
        err.print(f"wrote decisions about {plural(n, 'paper')} to {escape(str(output))}")


@state_app.command("import")
@handles_errors
def state_import(
    file: Annotated[Path, typer.Argument(help="A file written by `paperdesk state export`.")],
) -> None:
    """Merge a state file into the library: the later decision wins, nothing is dropped."""
    with open_desk() as desk:
        desk.backup("state-import")
        result = desk.import_state(file)
        _notices(desk)
    out.print(
        f"{escape(str(file))}: {result.papers} papers: {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.pending} kept until they are imported",
        soft_wrap=True,
    )


# --- backups ---------------------------------------------------------------------------------


@app.command()
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
) -> None:
    """Bring back the newest backup of your library (or the one you name).

    The library it replaces is moved into the backups directory, never deleted,
    and every read, star and tag decision that can still be read from it is
    merged into the restored copy (the later decision wins). Quit the app first.
    """
    directory = paths.backups_dir()
    found = backups.list_backups(directory)
    if list_:
        _list_backups(found, directory)
        return
    if not found:
        raise fail(f"there are no backups in {directory}")
    chosen = _choose_backup(found, backup)
    library_path = paths.library_path()
    result = backups.restore(library_path, chosen, directory, merge_newer=not exact)
    summary = backups.summarise(library_path)
    out.print(
        f"restored {escape(chosen.name)}: {summary.papers} papers, {summary.starred} starred, "
        f"{summary.tagged} tagged, {summary.read} read",
        soft_wrap=True,
    )
    if result.replaced:
        out.print(
            f"the library it replaced was kept as {escape(str(result.replaced))}", soft_wrap=True
        )
    if result.merged:
        out.print(f"merged newer decisions about {plural(result.merged, 'paper')} from it")
    elif result.merge_problem:
        err.print(
            f"paperdesk: no decisions could be read from the replaced library "
            f"({escape(result.merge_problem)}); the decision journal is used instead",
            style="yellow",
            soft_wrap=True,
        )
    if result.replayed:
        out.print(
            f"brought back newer decisions about {plural(result.replayed, 'paper')} "
            "from the decision journal"
        )
    if result.journal_skipped:
        err.print(
            f"paperdesk: skipped {plural(result.journal_skipped, 'damaged journal line')}",
            style="yellow",
        )


def _choose_backup(found, wanted: str | None):
    if wanted is None:
        for candidate in found:
            if candidate.reason != "replaced" and backups.check(candidate.path) is None:
                return candidate
        raise fail("every backup is damaged; `paperdesk restore --list` shows them")
    if wanted.isdigit():
        number = int(wanted)
        if not 1 <= number <= len(found):
            raise fail(
                f"there is no backup {number}; `paperdesk restore --list` shows 1 to {len(found)}"
            )
        return found[number - 1]
    for candidate in found:
        if wanted in (candidate.name, str(candidate.path)) or Path(wanted).name == candidate.name:
            return candidate
    raise fail(f"no backup named {wanted!r}; `paperdesk restore --list` shows them")


def _list_backups(found, directory: Path) -> None:
    if not found:
        out.print(f"No backups yet in {escape(str(directory))}.")
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in ("#", "Taken", "Why", "Papers", "Starred", "Tagged", "Read", "File"):
        table.add_column(
            column,
            justify="right" if column in ("#", "Papers", "Starred", "Tagged", "Read") else "left",
        )
    for number, backup in enumerate(found, 1):
        taken = backup.taken.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        problem = backups.check(backup.path)
        if problem:
            table.add_row(str(number), taken, backup.reason, "damaged", "", "", "", backup.name)
            continue
        s = backups.summarise(backup.path)
        table.add_row(
            str(number), taken, backup.reason, str(s.papers), str(s.starred), str(s.tagged),
            str(s.read), backup.name,
        )  # fmt: skip
    out.print(table)
    out.print(f"in {escape(str(directory))}")


# --- export ------------------------------------------------------------------------------


@app.command()
@handles_errors
def export(
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Export the papers matching a query.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, bibtex, csv or json.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (replaced atomically).")
    ] = None,
    group_by: Annotated[
        str, typer.Option("--group-by", help="Markdown sections: tag, date or none.")
    ] = "tag",
    with_abstracts: Annotated[
        bool, typer.Option("--with-abstracts", help="Include abstracts (Markdown).")
    ] = False,
) -> None:
    """Export the starred papers (or a query's matches) to Markdown, BibTeX, CSV or JSON."""
    from paperdesk import export as exporting
    from paperdesk.query import QueryError

    if fmt not in exporting.FORMATS:
        raise fail(f"unknown format {fmt!r}; choose one of: {', '.join(exporting.FORMATS)}")
    if group_by not in exporting.GROUPS:
        raise fail(f"unknown grouping {group_by!r}; choose one of: {', '.join(exporting.GROUPS)}")
    with open_desk() as desk:
        try:
            papers, title = desk.select(query)
        except QueryError as error:
            raise fail(f"cannot read the query {query!r}: {error}") from None
        _notices(desk)
    document = exporting.render(
        papers, fmt, title=title, group_by=group_by, with_abstracts=with_abstracts
    )
    if not papers:
        what = "no starred papers" if query is None else f"no papers match {query!r}"
        err.print(f"paperdesk: {escape(what)}; the export is empty", style="yellow")
    if _emit(document, output):
        err.print(f"exported {plural(len(papers), 'paper')} to {escape(str(output))}")


@app.command()
def locate(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Where the library, the index and the config live."""
    places = {
        "data": str(paths.data_dir()),
        "library": str(paths.library_path()),
        "index": str(paths.index_dir()),
        "backups": str(paths.backups_dir()),
        "config": str(paths.config_path()),
    }
    if as_json:
        print_json(places)
        return
    for name, place in places.items():
        out.print(f"{name:8} {escape(place)}", soft_wrap=True)


def main() -> None:
    """The console script."""
    app()
