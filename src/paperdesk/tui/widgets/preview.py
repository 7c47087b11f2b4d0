"""The preview pane: the selected paper in full, search terms highlighted."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from paperdesk.model import Paper, details, facts, visible
from paperdesk.search.highlights import Terms, match_spans
from paperdesk.tui.bindings import bindings


class Preview(ScrollView, can_focus=True):
    """Title, a metadata line, links, tags and the abstract of one paper.

    It paints its own lines (Textual's Line API): a new paper changes the lines
    and the scrollable height, never the widget's size, so showing one costs a
    repaint of this pane only. (A Static in a scrolling container changed size
    with every abstract, and each change cost the whole screen a second layout
    pass one frame later: 30-40 ms more per key in a real terminal.)
    """

    BINDINGS = bindings("preview")  # paperdesk.keys: the table of every key

    COMPONENT_CLASSES = {
        "preview--more",
        "preview--title",
        "preview--meta",
        "preview--match",
        "preview--tag",
        "preview--link",
        "preview--label",
    }

    text: str = ""
    """The plain text on show: for tests and for copying."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._content: Group | Text = Text("")
        self._strips: list[Strip] = []
        self._width = -1

    # What moved a paper's interest score ("+ llms, − vision"), once a model is
    # loaded; set by the app (the model loads in a worker, never on a key).
    explain: Callable[[Paper], str] | None = None

    def show(self, paper: Paper | None, terms: Terms = frozenset()) -> None:
        if paper is None:
            self.text = "No paper selected."
            self._content = Text(self.text, style=self.get_component_rich_style("preview--meta"))
        else:
            rendered = self.render_paper(paper, terms)
            self.text = "\n".join(
                part.plain for part in rendered.renderables if isinstance(part, Text)
            )
            self._content = rendered
        self._width = -1  # lay the lines out again, at the next paint's width
        if self.scroll_y:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self._layout_lines()
        self.refresh()

    def _layout_lines(self) -> None:
        """Wrap the content to the pane's width, once per paper and width."""
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._width:
            return
        self._width = width
        console = self.app.console
        options = console.options.update_width(width)
        lines = console.render_lines(self._content, options, style=self.rich_style, pad=True)
        self._strips = [Strip(line, width) for line in lines]
        self._set_virtual_size(Size(width, len(self._strips)))

    def _set_virtual_size(self, size: Size) -> None:
        """The scrollable size, without a layout pass of the whole screen (as Textual
        does itself when only a scrolled size changes), unless the scrollbar comes
        or goes, which changes the width of the text."""
        if size == self.virtual_size:
            return
        showing = self.show_vertical_scrollbar
        self.set_reactive(Preview.virtual_size, size)
        self._scroll_update(size)
        if self.show_vertical_scrollbar != showing:
            self.refresh(layout=True)

    def on_resize(self) -> None:
        self._width = -1
        self._layout_lines()

    @property
    def more_below(self) -> int:
        """How many lines of the paper are below the pane."""
        height = self.scrollable_content_region.height
        return max(0, len(self._strips) - int(self.scroll_offset.y) - height)

    def render_line(self, y: int) -> Strip:
        self._layout_lines()
        index = y + int(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        height = self.scrollable_content_region.height
        if y == height - 1 and (more := self.more_below) and width > 0:
            # A cut abstract says so, and how to read on.
            note = f" ↓ {more} more line{'s' if more != 1 else ''} (J) "
            style = self.get_component_rich_style("preview--more")
            return Strip([Segment(note[:width].rjust(width), style)], width)
        if 0 <= index < len(self._strips):
            return self._strips[index]
        return Strip([Segment(" " * max(0, width), self.rich_style)], max(0, width))

    def _marked(self, text: str, field: str, terms: Terms, base: str) -> Text:
        # visible() keeps every character's place, so the match spans still fit.
        rich_text = Text(visible(text), style=self.get_component_rich_style(base) if base else "")
        match = self.get_component_rich_style("preview--match")
        for start, end in match_spans(text, field, terms):
            rich_text.stylize(match, start, end)
        return rich_text

    def render_paper(self, paper: Paper, terms: Terms) -> Group:
        meta_style = self.get_component_rich_style("preview--meta")
        label = self.get_component_rich_style("preview--label")
        parts: list[Text] = [self._marked(paper.title, "title", terms, "preview--title")]
        fact_line = [*facts(paper), *(["★ starred"] if paper.starred else [])]
        fact_line += ["✗ not for me"] if paper.dismissed else []
        fact_line += ["read" if paper.read else "unread", paper.id]
        parts.append(Text(visible(" · ".join(fact_line)), style=meta_style))
        if paper.tags:
            line = Text("tags  ", style=label)
            tag_style = self.get_component_rich_style("preview--tag")
            for tag in paper.tags:
                line.append(f" {visible(tag)} ", style=tag_style)
                line.append(" ")
            parts.append(line)
        for name, value in details(paper):
            line = Text(f"{name:<6}", style=label)
            line.append(visible(value), style=meta_style)
            parts.append(line)
        if paper.interest is not None:
            line = Text("like  ", style=label)
            why = self.explain(paper) if self.explain else ""
            line.append(f"{paper.interest:.2f}" + (f"  {why}" if why else ""), style=meta_style)
            parts.append(line)
        link_style = self.get_component_rich_style("preview--link")
        for link in paper.links:
            line = Text("link  ", style=label)
            shown = visible(link)
            line.append(shown, style=link_style + Style(link=link) if shown == link else link_style)
            parts.append(line)
        if paper.note and paper.note.strip():  # the user's own words, before the abstract
            parts.append(Text(""))
            line = Text("note  ", style=label)
            line.append_text(self._marked(paper.note.strip(), "note", terms, ""))
            parts.append(line)
        parts.append(Text(""))
        if paper.abstract:
            parts.append(self._marked(paper.abstract, "abstract", terms, ""))
        else:
            parts.append(Text("(no abstract)", style=meta_style))
        return Group(*parts)
