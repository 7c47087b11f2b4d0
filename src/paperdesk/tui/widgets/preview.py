"""The preview pane: the selected paper in full, search terms highlighted."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from paperdesk.index import Terms, match_spans
from paperdesk.model import Paper


class Preview(VerticalScroll, can_focus=True):
    """Title, a metadata line, links, tags and the abstract of one paper."""

    COMPONENT_CLASSES = {
        "preview--title",
        "preview--meta",
        "preview--match",
        "preview--tag",
        "preview--link",
        "preview--label",
    }

    text: str = ""
    """The plain text on show: for tests and for copying."""

    def compose(self):
        yield Static(id="preview-body")

    def show(self, paper: Paper | None, terms: Terms = frozenset()) -> None:
        body = self.query_one("#preview-body", Static)
        if paper is None:
            self.text = "No paper selected."
            body.update(Text(self.text, style=self.get_component_rich_style("preview--meta")))
            return
        rendered = self.render_paper(paper, terms)
        self.text = "\n".join(part.plain for part in rendered.renderables)
        body.update(rendered)
        self.scroll_home(animate=False)

    def _marked(self, text: str, field: str, terms: Terms, base: str) -> Text:
        rich_text = Text(text, style=self.get_component_rich_style(base) if base else "")
        match = self.get_component_rich_style("preview--match")
        for start, end in match_spans(text, field, terms):
            rich_text.stylize(match, start, end)
        return rich_text

    def render_paper(self, paper: Paper, terms: Terms) -> Group:
        meta_style = self.get_component_rich_style("preview--meta")
        label = self.get_component_rich_style("preview--label")
        parts: list[Text] = [self._marked(paper.title, "title", terms, "preview--title")]
        facts = [
            paper.published.isoformat() if paper.published else "no date",
            f"{paper.authors} author{'s' if paper.authors != 1 else ''}"
            if paper.authors is not None
            else None,
            paper.organization,
            f"↑ {paper.upvotes}" if paper.upvotes is not None else None,
            "★ starred" if paper.starred else None,
            "read" if paper.read else "unread",
            paper.id,
        ]
        parts.append(Text(" · ".join(f for f in facts if f), style=meta_style))
        if paper.tags:
            line = Text("tags  ", style=label)
            tag_style = self.get_component_rich_style("preview--tag")
            for tag in paper.tags:
                line.append(f" {tag} ", style=tag_style)
                line.append(" ")
            parts.append(line)
        link_style = self.get_component_rich_style("preview--link")
        for link in paper.links:
            line = Text("link  ", style=label)
            line.append(link, style=link_style + Style(link=link))
            parts.append(line)
        parts.append(Text(""))
        if paper.abstract:
            parts.append(self._marked(paper.abstract, "abstract", terms, ""))
        else:
            parts.append(Text("(no abstract)", style=meta_style))
        return Group(*parts)
