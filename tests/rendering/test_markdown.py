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


def test_a_bare_address_becomes_a_link_without_its_full_stop() -> None:
    body = to_html("Have your say at https://survey.example.org/plan.")
    assert body.links == ["https://survey.example.org/plan"]
    assert (
        '<a href="https://survey.example.org/plan">https://survey.example.org/plan</a>.'
        in body.html
    )
    # Tracked as any other body link: the link list sees it.
    from mailer.rendering.links import body_links

    assert [link.href for link in body_links(body.html)] == ["https://survey.example.org/plan"]


def test_bare_addresses_keep_their_brackets_and_leave_the_sentence_s() -> None:
    body = to_html("See (https://x.org/a_(b)), then https://y.org/?a=1&b=2!")
    assert body.links == ["https://x.org/a_(b)", "https://y.org/?a=1&b=2"]
    assert "</a>)," in body.html and "</a>!" in body.html


def test_no_bare_link_in_code_or_inside_a_link() -> None:
    body = to_html(
        "`https://code.example.org`\n\n    https://block.example.org\n\n"
        "[words](https://z.example.org) <https://c.example.org> "
        '<a href="https://h.example.org">https://h.example.org</a>'
    )
    assert body.links == ["https://z.example.org", "https://c.example.org", "https://h.example.org"]
    assert "<a><a" not in body.html.replace(" ", "")


def test_a_bare_address_cannot_break_out_of_its_attribute() -> None:
    body = to_html('Go to https://e.example.org/"onmouseover="alert(1) or javascript:alert(1)')
    assert body.links == ["https://e.example.org/"]
    assert "onmouseover=" not in body.html.split("</a>")[0]
    assert "javascript" not in "".join(body.links)
