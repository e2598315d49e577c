from __future__ import annotations

from html.parser import HTMLParser

import pytest

from academy_app.infra.markdown import plain_text, render_markdown


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        '![x](x" onerror="alert(1))',
    ],
)
def test_no_script_or_event_handler_survives(hostile):
    """Typed HTML may come back as visible, escaped text; never as live tags or attributes."""
    elements = Elements()
    elements.feed(render_markdown(hostile))
    assert not {"script", "iframe"} & {tag for tag, _ in elements.found}
    for _, attrs in elements.found:
        assert not [name for name, _ in attrs if name.startswith("on")]
        assert not [v for name, v in attrs if name in ("href", "src") and "javascript" in (v or "")]


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def test_ordinary_markdown_renders():
    html = render_markdown("## Title\n\n**bold** and `code`\n\n- one\n- two\n\n[site](https://a.example)")
    assert "<h2>Title</h2>" in html
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html
    assert 'href="https://a.example"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_plain_text_drops_the_markup_and_keeps_the_words_on_one_line():
    assert plain_text("Which are **prime**?") == "Which are prime?"
    assert plain_text("## Step\n\nPut `a` *before* b:\n\n- one\n- [two](https://a.example)") \
        == "Step Put a before b: one two"


@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">',
                                     "<b>bold</b> &amp; 1 < 2"])
def test_plain_text_keeps_typed_html_as_the_text_that_was_typed(hostile):
    """The text shows what the author typed (React escapes it); nothing is parsed as markup."""
    assert plain_text(hostile) == hostile.replace("&amp;", "&")
