"""The writer's links: listed as a reader would follow them, rewritten without breaking
the HTML around them."""

from __future__ import annotations

from mailer.rendering.links import BodyLink, body_links, personal_prefixes, rewrite_links
from mailer.rendering.markdown import to_html
from mailer.rendering.text import html_to_text

BASE = "https://pcc.example.org"


def test_web_links_are_listed_once_each_with_their_words() -> None:
    html = to_html(
        "Read [the plan](https://example.org/plan) and the [annual report](http://example.org/ar).\n\n"
        "Again: [the plan, once more](https://example.org/plan)."
    ).html
    assert body_links(html) == [
        BodyLink("https://example.org/plan", "the plan"),
        BodyLink("http://example.org/ar", "annual report"),
    ]


def test_mail_phone_anchors_and_relative_links_are_not_listed() -> None:
    html = to_html(
        "[Write to us](mailto:office@pcc.example.org), [ring us](tel:+441234567890), "
        "[jump](#priorities), [here](/local) and <https://example.org/web>."
    ).html
    assert [link.href for link in body_links(html)] == ["https://example.org/web"]


def test_the_products_personal_links_are_left_alone() -> None:
    html = to_html(
        f"[Unsubscribe]({BASE}/u/abc) [Preferences]({BASE}/p/abc) "
        f"[Tracked already]({BASE}/r/tok) [Our page]({BASE}/consultations/plan)"
    ).html
    found = body_links(html, leave_alone=personal_prefixes(BASE))
    assert [link.href for link in found] == [f"{BASE}/consultations/plan"]
    mapping = {f"{BASE}/consultations/plan": f"{BASE}/r/new"}
    rewritten = rewrite_links(html, mapping)
    assert f'href="{BASE}/u/abc"' in rewritten
    assert f'href="{BASE}/p/abc"' in rewritten
    assert f'href="{BASE}/r/new"' in rewritten


def test_ampersands_and_quotes_survive_listing_and_rewriting() -> None:
    target = "https://example.org/search?q=police&area=north&quote=%22x%22"
    html = to_html(
        f'[Search]({target}) and <a href="https://example.org/a?b=&quot;c&quot;&amp;d">odd</a>'
    ).html
    listed = [link.href for link in body_links(html)]
    assert listed == [target, 'https://example.org/a?b="c"&d']
    rewritten = rewrite_links(
        html, {target: "https://pcc.example.org/r/one", listed[1]: 'https://x.example/"><b>'}
    )
    assert 'href="https://pcc.example.org/r/one"' in rewritten
    # A replacement cannot leave its attribute: its quote and brackets are escaped.
    assert 'href="https://x.example/&quot;&gt;&lt;b&gt;"' in rewritten
    assert "<b>" not in rewritten
    assert ">Search</a>" in rewritten and ">odd</a>" in rewritten


def test_rewriting_changes_only_the_mapped_links() -> None:
    html = to_html(
        'Intro.\n\n- [One](https://example.org/1 "The first")\n- [Two](https://example.org/2)\n\n'
        "[Mail](mailto:a@example.org)"
    ).html
    rewritten = rewrite_links(html, {"https://example.org/1": "https://pcc.example.org/r/t1"})
    assert rewritten == html.replace(
        'href="https://example.org/1"', 'href="https://pcc.example.org/r/t1"'
    )
    assert 'title="The first"' in rewritten
    # A mailto is never rewritten, even when asked to.
    assert rewrite_links(html, {"mailto:a@example.org": "https://x.example"}) == html


def test_the_text_part_follows_the_rewritten_html() -> None:
    html = to_html("See [the plan](https://example.org/plan).").html
    text = html_to_text(
        rewrite_links(html, {"https://example.org/plan": "https://pcc.example.org/r/t"})
    )
    assert "https://pcc.example.org/r/t" in text
    assert "example.org/plan" not in text


def test_long_addresses_and_lines_keep_their_place() -> None:
    long = "https://example.org/" + "a" * 1500 + "?x=1&y=2"
    html = to_html(f"First line\nsecond [long]({long}) line\n\nthird [short](https://e.org/s)").html
    found = body_links(html)
    assert [link.href for link in found] == [long, "https://e.org/s"]
    rewritten = rewrite_links(html, {"https://e.org/s": "https://pcc.example.org/r/s"})
    assert long.replace("&", "&amp;") in rewritten
    assert 'href="https://pcc.example.org/r/s">short</a>' in rewritten


def test_an_image_link_is_labelled_by_its_alt_text() -> None:
    html = to_html(
        "[![The plan's cover](https://example.org/cover.png)](https://example.org/plan)"
    ).html
    assert body_links(html) == [BodyLink("https://example.org/plan", "The plan's cover")]
