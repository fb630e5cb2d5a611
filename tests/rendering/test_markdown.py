"""Bulletin Markdown: sanitised HTML, and plain text that reads well."""

from __future__ import annotations

from mailer.rendering.markdown import to_html
from mailer.rendering.text import html_to_text


def test_raw_html_is_sanitised() -> None:
    body = to_html(
        "Hello <script>alert(1)</script><style>p{}</style>\n\n"
        '<a href="javascript:alert(1)" onclick="steal()">click</a> '
        '<img src="https://example.org/x.png" onerror="x()" alt="A chart">\n\n'
        "<iframe src='https://example.org'></iframe><form><input></form>"
    )
    html = body.html
    for bad in ("<script", "<style", "javascript:", "onclick", "onerror", "<iframe", "<form"):
        assert bad not in html
    assert '<img src="https://example.org/x.png" alt="A chart">' in html


def test_images_without_alt_text_are_found() -> None:
    body = to_html("![](https://example.org/a.png) ![Map of the area](https://example.org/b.png)")
    assert body.images_without_alt == ["https://example.org/a.png"]


def test_headings_start_below_the_headline() -> None:
    assert to_html("# Title\n\n## Part").html.startswith("<h2>Title</h2>\n<h2>Part</h2>")


def test_plain_text_writes_out_headings_lists_and_link_targets() -> None:
    text = html_to_text(
        to_html(
            "# What happens next\n\nRead [the plan](https://example.org/plan) or "
            "email [us](mailto:pcc@example.org).\n\n- one\n- two\n\n1. first\n2. second\n\n"
            "> quoted words\n\nLink text same as target: <https://example.org/x>\n"
        ).html
    )
    assert "What happens next\n=================" in text
    assert "the plan (https://example.org/plan)" in text
    assert "us (pcc@example.org)" in text
    assert "- one\n- two" in text and "1. first\n2. second" in text
    assert "> quoted words" in text
    assert "https://example.org/x (https://example.org/x)" not in text
    assert all(len(line) <= 72 or "://" in line for line in text.splitlines())
