"""Markdown to HTML that is safe to put in the page.

markdown-it renders with raw HTML disabled (typed tags come out escaped) and nh3 then keeps only an
allow-list of tags and attributes, so no script, event handler or javascript: URL survives even if a
rendering rule ever lets one through.
"""

from __future__ import annotations

from functools import lru_cache
from html import unescape

import nh3
from markdown_it import MarkdownIt

_ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "del",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"},
                       "td": {"align"}, "code": {"class"}}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable(
        "strikethrough"
    )


def render_markdown(text: str) -> str:
    html = _parser().render(text or "")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def has_link(text: str) -> bool:
    """Whether the text renders to a link a reader could follow: an anchor that kept its address
    through the sanitiser. Read off the very HTML the page shows, so a URL typed as plain text or
    in a code block, or a link with a refused scheme, is none. Every `<` the writer typed comes out
    escaped, so the only `<a href=` in the HTML is one the renderer made."""
    return "<a href=" in render_markdown(text)


def plain_text(text: str) -> str:
    """What a Markdown text says without its markup, on one line: for labels and table cells,
    where a rendered block does not fit. Typed HTML stays the literal text it was typed as, and
    is shown as text (React escapes it), never as markup."""
    return " ".join(unescape(nh3.clean(_parser().render(text or ""), tags=set())).split())
