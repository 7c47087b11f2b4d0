"""The everyday commands' bodies and the command line's output, without typer.

``cli`` (typer) and ``quick`` (the console script's front door, which runs the
everyday commands without loading typer) both call these, so a command does
the same whichever parsed it. Nothing here imports typer, rich or the search
engine when a module is loaded: rich is loaded for a terminal (tables, colour)
and the engine for a search, each when first used.

Output rules (the command line's, see ``cli``): papers print as a table at a
terminal, as one tab-separated line each otherwise (or with ``--plain``), as
JSON with ``--json``. Messages for the person go to stderr as one line.
Nothing from a paper is read as markup, and control characters are made
visible.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys

from paperdesk import paths
from paperdesk.errors import BadInput, LibraryError
from paperdesk.model import Paper, details, facts, published_text, visible

# typing costs 3-5 ms to import; only the type checker needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rich.table import Table
    from rich.text import Text

    from paperdesk.desk import Desk

USAGE = 2  # the exit status of a usage error, as click gives for its own


class CommandError(Exception):
    """A command stops: one line for stderr, and the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def usage(message: str) -> CommandError:
    """A usage error: one line, exit status 2."""
    return CommandError(message, USAGE)


def failure(message: str) -> CommandError:
    return CommandError(message, 1)


def error_of(error: BaseException) -> CommandError | None:
    """The one line and exit status a library problem becomes (None: not one)."""
    if isinstance(error, CommandError):
        return error
    if isinstance(error, BadInput):
        return usage(str(error))
    if isinstance(error, LibraryError):
        return failure(str(error))
    if isinstance(error, sqlite3.DatabaseError):
        return failure(
            f"the library cannot be read ({error}); `paperdesk restore` brings back a backup"
        )
    if isinstance(error, OSError):
        # A read-only or full disk, an index that is a file: one line, not a traceback.
        where = f"{error.filename}: " if error.filename else ""
        return failure(f"{where}{error.strerror or error}")
    return None


# --- output ------------------------------------------------------------------------------


class _LazyConsole:
    """A rich Console made when first used: commands that print plain lines to
    a pipe never load rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def made(self) -> Any:
        """The Console itself (made now if it was not)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made(), name)


# No markup and no emoji codes: a title with "[/]" or ":fire:" prints as it is.
out = _LazyConsole(highlight=False, soft_wrap=False, markup=False, emoji=False)
err = _LazyConsole(stderr=True, highlight=False, markup=False, emoji=False)

# What makes rich treat a stream as a terminal besides isatty.
_FORCING = ("FORCE_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE")


def is_plain(stream: Any) -> bool:
    """Whether ``stream`` is no terminal, as rich decides it (no colour, no width)."""
    if any(os.environ.get(name) for name in _FORCING):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return not (isatty and isatty())
    except ValueError:  # a closed stream
        return True


def say(message: str, style: str | None = None) -> None:
    """A line for the person on stderr (notices, what was written where)."""
    if is_plain(sys.stderr):
        sys.stderr.write(visible(message) + "\n")
        sys.stderr.flush()
    else:
        err.print(visible(message), style=style, soft_wrap=True)


def complain(message: str) -> None:
    """An error line: ``paperdesk: message`` in red."""
    say(f"paperdesk: {message}", style="red")


def echo(line: str) -> None:
    """One line of a command's result on stdout (already made visible)."""
    if is_plain(sys.stdout):
        write_stdout(line + "\n")
    else:
        out.print(line, soft_wrap=True)


def write_stdout(text: str) -> None:
    """Text to stdout as UTF-8, whatever the locale's encoding (a LANG=C
    terminal, PYTHONIOENCODING=ascii): JSON and exports are UTF-8 documents."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # pragma: no cover - a text-only stream
        sys.stdout.write(text)
        return
    try:
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    except BrokenPipeError:
        pipe_closed()


def pipe_closed() -> None:
    """stdout's reader went away (``paperdesk list | head``): it asked for no
    more, so the program ends quietly with status 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if sys.__stdout__ is not None:
            os.dup2(devnull, sys.__stdout__.fileno())  # nothing more reaches the pipe
    except (OSError, ValueError, AttributeError):
        pass
    raise SystemExit(0)


class PipeGuard:
    """stdout that calls pipe_closed when its reader goes away."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            pipe_closed()
            return 0

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            pipe_closed()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def prepare_streams() -> None:
    """What the console script does first, whichever parser runs: a terminal that
    cannot show a character gets "?" rather than a traceback, and a closed pipe
    ends the program quietly."""
    for stream in (sys.stdout, sys.stderr):
        if (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8":
            try:
                stream.reconfigure(errors="replace")  # type: ignore[union-attr]
            except (AttributeError, ValueError):
                pass
    if not isinstance(sys.stdout, PipeGuard):
        sys.stdout = PipeGuard(sys.stdout)


def print_json(data: Any) -> None:
    write_stdout(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def one_line(text: str) -> str:
    return visible(" ".join(text.split()))


def notices(desk: Desk) -> None:
    for notice in desk.notices:
        say(f"paperdesk: {notice}", style="yellow")


def plain_wanted(plain: bool) -> bool:
    """One line per paper: asked for, or stdout is not a terminal (a pipe, a file)."""
    return plain or is_plain(sys.stdout) or not out.is_terminal


def at_terminal() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def print_plain(papers: list[Paper]) -> None:
    """Tab-separated, one paper a line: id, published, upvotes, marks, tags, title.

    Marks are two characters: ``*`` starred, ``N`` unread, ``-`` neither.
    """
    lines = []
    for paper in papers:
        marks_ = ("*" if paper.starred else "-") + ("-" if paper.read else "N")
        lines.append(
            "\t".join(
                (
                    paper.id,
                    published_text(paper.published, paper.published_precision),
                    "" if paper.upvotes is None else str(paper.upvotes),
                    marks_,
                    one_line(",".join(paper.tags)),
                    one_line(paper.title),
                )
            )
        )
    if lines:
        write_stdout("\n".join(lines) + "\n")


def marks(paper: Paper) -> str:
    first = "★" if paper.starred else "✗" if paper.dismissed else " "
    return first + ("•" if not paper.read else " ")


def paper_table(papers: list[Paper], title_cells: list[Text] | None = None) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, pad_edge=False, expand=False, header_style="bold")
    table.add_column("ID", style="dim", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Published", no_wrap=True)
    table.add_column("↑", justify="right", no_wrap=True)
    scored = any(paper.interest is not None for paper in papers)
    if scored:  # once a model has scored them: your interest, 0 to 1
        table.add_column("Int.", justify="right", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    table.add_column("Tags", style="cyan")
    for number, paper in enumerate(papers):
        title = title_cells[number] if title_cells else Text(one_line(paper.title))
        if not paper.read:
            title.stylize("bold")
        if paper.author_names:  # who, where a source said: "· Dong et al."
            first = paper.author_names[0].split()[-1] if paper.author_names[0].split() else ""
            more = " et al." if len(paper.author_names) > 2 else ""
            if len(paper.author_names) == 2:
                more = " and " + (paper.author_names[1].split() or [""])[-1]
            title.append(visible(f" · {first}{more}"), style="dim")
        interest = [] if not scored else ["" if paper.interest is None else f"{paper.interest:.2f}"]
        table.add_row(
            paper.id,
            marks(paper),
            published_text(paper.published, paper.published_precision),
            "" if paper.upvotes is None else str(paper.upvotes),
            *interest,
            title,
            Text(visible(" ".join(paper.tags))),
        )
    return table


def show_paper(paper: Paper, reasons: list[tuple[str, float]] | None = None) -> None:
    """One paper in full: styled at a terminal; to a pipe, plain lines (the
    abstract one line, as ``grep`` wants it) without loading rich."""
    lines: list[tuple[str, str]] = [(one_line(paper.title), "bold")]
    line = [f"ID {paper.id}", *facts(paper), *(["starred"] if paper.starred else [])]
    if paper.dismissed:
        line.append("not for me")
    line.append("read" if paper.read else "unread")
    lines.append((visible(" · ".join(line)), "dim"))
    if paper.tags:
        lines.append((visible("tags: " + ", ".join(paper.tags)), "cyan"))
    lines.extend((visible(f"{label}: {value}"), "dim") for label, value in details(paper))
    if paper.interest is not None:
        from paperdesk.interest import why_line

        why = f" ({why_line(reasons)})" if reasons else ""
        lines.append((visible(f"interest: {paper.interest:.2f}{why}"), "dim"))
    for link in paper.links:
        shown = visible(link)
        lines.append((shown, f"link {shown}" if shown == link else ""))
    sources = ", ".join(f"{s.file} ({s.page_date or 'no date'})" for s in paper.sources)
    lines.append((visible(f"seen in: {sources}"), "dim"))
    lines.append(("", ""))
    if paper.abstract:
        lines.append((visible(paper.abstract), ""))
    else:
        lines.append(("(no abstract)", "dim"))
    if is_plain(sys.stdout):
        write_stdout("".join(text + "\n" for text, _ in lines))
        return
    from rich.text import Text

    for text, style in lines[:-1]:
        out.print(Text(text, style=style))
    out.print(Text(*lines[-1]), soft_wrap=False)


def rich_highlight(marked: str) -> Text:
    """A ``**marked**`` highlight string as rich text with the matches styled."""
    from rich.text import Text

    text = Text()
    for number, piece in enumerate(visible(" ".join(marked.split())).split("**")):
        text.append(piece, style="bold reverse" if number % 2 else "")
    return text


def summary_line(text: str) -> None:
    """The dim "N of M" line under a table."""
    from rich.text import Text

    out.print(Text(text, style="dim"))


# --- the desk -----------------------------------------------------------------------------


def open_desk(index_later: bool = False) -> Desk:
    """The desk; ``index_later``: a decision leaves the search index to the next
    search (which catches up first), so ``paperdesk star ID`` never loads the
    search engine: 150 ms of a 250 ms command."""
    from paperdesk.desk import Desk

    desk = Desk()
    if index_later:
        desk.auto_sync_index = False
    return desk


def checked_tags(tags: list[str]) -> list[str]:
    from paperdesk.model import check_tag

    try:
        return [check_tag(t) for t in tags]
    except ValueError as error:
        raise usage(str(error)) from None


# --- list, show, locate -------------------------------------------------------------------


def list_papers(
    *,
    starred: bool = False,
    unread: bool = False,
    read: bool = False,
    tags: list[str] | None = None,
    sort: str = "published",
    limit: int | None = None,
    saved: str | None = None,
    as_json: bool = False,
    plain: bool = False,
) -> None:
    """List the papers in the library."""
    from paperdesk.library import Filter

    if read and unread:
        raise usage("--read and --unread exclude each other")
    flt = Filter(
        starred=True if starred else None,
        read=True if read else (False if unread else None),
        tags=tuple(tags or ()),
    )
    with open_desk() as desk:
        if saved is not None:
            papers = saved_papers(desk, saved, flt, sort, limit)
        else:
            papers = desk.papers(flt, sort=sort, limit=limit)
        if as_json:
            print_json([p.to_json() for p in papers])
            return
        total = desk.count()
    if not total:
        say("The library is empty. Import a dump: paperdesk import FILE...")
        return
    if not papers:
        say("No papers match.")
        return
    if plain_wanted(plain):
        print_plain(papers)
        return
    out.print(paper_table(papers))
    summary_line(f"{len(papers)} of {total} papers")


def saved_papers(desk: Desk, name: str, flt: Any, sort: str, limit: int | None) -> list[Paper]:
    """The papers a saved search finds, narrowed by the list's filters, in its order."""
    from paperdesk.sorts import SEARCH_SORTS

    parts = [f"({desk.saved_query(name)})"]
    if flt.starred:
        parts.append("is:starred")
    if flt.read is not None:
        parts.append("is:read" if flt.read else "is:unread")
    parts.extend(f'tag:"{t}"' for t in flt.tags)
    query = " ".join(parts)
    if sort in SEARCH_SORTS:
        return [hit.paper for hit in desk.search(query, limit=limit, sort=sort).hits]
    wanted = set(desk.search_ids(query).ids)  # by title or date added: the list's order
    ids = [pid for pid in desk.ids(sort=sort) if pid in wanted][:limit]
    return desk.get_many(ids)


def show(paper_id: str, *, as_json: bool = False) -> None:
    """Show one paper in full."""
    with open_desk() as desk:
        paper = desk.paper(paper_id)
        reasons = desk.why(paper) if paper.interest is not None and not as_json else []
    if as_json:
        print_json(paper.to_json())
    else:
        show_paper(paper, reasons)


def locate(*, as_json: bool = False) -> None:
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
        echo(visible(f"{name:8} {place}"))


# --- decisions ----------------------------------------------------------------------------

# action -> (what it writes, the value); the verbs are steps.VERBS.
FLAG_ACTIONS = {
    "star": ("starred", True),
    "unstar": ("starred", False),
    "read": ("read", True),
    "unread": ("read", False),
    "dismiss": ("dismissed", True),
    "undismiss": ("dismissed", False),
}


def targets(desk: Desk, ids: list[str] | None, query: str | None) -> list[str]:
    """The papers a command acts on: the IDs given, or every match of --query."""
    if ids and query is not None:
        raise usage("give paper IDs or --query, not both")
    if query is None:
        if not ids:
            raise usage("which papers? Give their IDs, or --query QUERY for every match")
        return list(dict.fromkeys(desk.resolve(ids)))
    if not query.strip():
        raise usage("cannot read the query '': nothing to search for")
    from paperdesk.query import QueryError

    try:
        return desk.search_ids(query).ids
    except QueryError as error:
        raise usage(f"cannot read the query {query!r}: {error}") from None


def confirm_bulk(desk: Desk, would: list[str], matched: int, what: str, query: str | None,
                 yes: bool, dry_run: bool) -> bool:  # fmt: skip
    """Say what a command would do; with --dry-run list the papers; on --query,
    ask first (a script passes --yes). Whether to go on."""
    of = ""
    if query is not None and matched != len(would):
        of = f" (of {matched:,} match{'es' if matched != 1 else ''})"
    line = f"would {what} {plural(len(would), 'paper')}{of}"
    if dry_run:
        say(line)
        for paper in desk.get_many(would):
            write_stdout(f"{paper.id}  {one_line(paper.title)}\n")
        return False
    if query is None or yes or not would:
        return True
    if not at_terminal():
        raise usage(f"{line}: confirm at a terminal, or pass --yes (--dry-run lists them)")
    say(line)
    import typer  # only to ask: its prompt, as every other question of the command line

    if not typer.confirm("Go on?", default=False, err=True):
        raise failure("nothing was changed")
    return True


def set_flag(ids: list[str] | None, action: str, query: str | None = None,
             yes: bool = False, dry_run: bool = False) -> None:  # fmt: skip
    """star, unstar, read, unread, dismiss, undismiss: by ID or every match."""
    from paperdesk.steps import VERBS, CliHistory, act

    kind, value = FLAG_ACTIONS[action]
    with open_desk(index_later=True) as desk:
        full = targets(desk, ids, query)
        would = [p.id for p in desk.get_many(full) if getattr(p, kind) != value]
        if not confirm_bulk(desk, would, len(full), VERBS[(kind, value)][0], query, yes, dry_run):
            return
        step = act(desk, kind, full, value)
        CliHistory(desk).remember(step)
        notices(desk)
        changed = step.changes[0].ids
        if changed:
            desk.learn_in_background()
    past = VERBS[(kind, value)][1]
    unchanged = len(full) - len(changed)
    note = f" ({unchanged} already were)" if unchanged else ""
    echo(f"{past} {len(changed)} paper{'s' if len(changed) != 1 else ''}{note}")


def change_tags(args: list[str], add: bool, query: str | None = None, yes: bool = False,
                dry_run: bool = False) -> None:  # fmt: skip
    """tag and untag: a paper and tags, or every match of --query and tags."""
    from paperdesk.model import normalise_tag
    from paperdesk.steps import CliHistory, act

    if query is None and len(args) < 2:
        raise usage("give a paper ID and at least one tag (or --query QUERY and tags)")
    ids, names = (None, args) if query is not None else ([args[0]], args[1:])
    if not names:
        raise usage("give at least one tag")
    tags = checked_tags(names) if add else [t for t in map(normalise_tag, names) if t]
    if not tags:
        raise usage("give at least one tag")
    with open_desk(index_later=True) as desk:
        full = targets(desk, ids, query)
        papers = desk.get_many(full)
        if add:
            would = [p.id for p in papers if not set(tags) <= set(p.tags)]
        else:
            would = [p.id for p in papers if set(tags) & set(p.tags)]
        what = f"{'tag' if add else 'untag'} ({', '.join(tags)})"
        if not confirm_bulk(desk, would, len(full), what, query, yes, dry_run):
            return
        step = act(desk, "tag" if add else "untag", full, tags=tags)
        CliHistory(desk).remember(step)
        notices(desk)
        if query is None:
            result = desk.get(full[0]).tags
    if query is not None:
        echo(visible(step.label))
        return
    if not add:
        before = set(papers[0].tags) if papers else set()
        for name in dict.fromkeys(tags):
            if name not in before:
                say(f"paperdesk: {full[0]} had no tag {name!r}", "yellow")
    print_tags(result)


def print_tags(tags: tuple[str, ...]) -> None:
    echo(visible(f"tags: {', '.join(tags) or '(none)'}"))


# --- search -------------------------------------------------------------------------------


def query_hints(query: str) -> list[str]:
    from paperdesk.query import hints

    found = hints(query)
    for hint in found:
        say(f"paperdesk: {hint}", "yellow")
    return found


def search(
    query: str,
    *,
    limit: int = 20,
    sort: str = "relevance",
    as_json: bool = False,
    plain: bool = False,
) -> None:
    """Search the library: ranked results with the matches highlighted."""
    from paperdesk.query import QueryError

    if not query.strip():
        raise usage("cannot read the query '': nothing to search for")
    with open_desk() as desk:
        try:
            # The highlights are made only where they are shown: a table or JSON.
            shown = as_json or not plain_wanted(plain)
            results = desk.search(query, limit=limit, sort=sort, with_highlights=shown)
        except QueryError as error:
            raise usage(f"cannot read the query {query!r}: {error}") from None
        notices(desk)
    found_hints = query_hints(query)
    if as_json:
        print_json(
            {
                "query": results.query,
                "sort": sort,
                "total": results.total,
                "suggestion": results.suggestion,
                "hints": found_hints,
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
        say(f"Did you mean: {results.suggestion}", "bold")
    if not results.hits:
        say("No papers match.")
        return
    if plain_wanted(plain):
        print_plain([hit.paper for hit in results.hits])
        return
    titles = [rich_highlight(hit.highlights["title"]) for hit in results.hits]
    out.print(paper_table([hit.paper for hit in results.hits], titles))
    summary_line(f"{len(results.hits)} of {results.total} matches")
