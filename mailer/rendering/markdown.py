"""The bulletin's Markdown to HTML that is safe to send.

Raw HTML in the Markdown is allowed through a sanitiser (nh3) that keeps only what an
email body needs; scripts, styles, event handlers and ``javascript:`` links are dropped.
Headings start at level 2, because the template's headline is the message's one ``h1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "strong", "em", "b", "i", "a", "ul", "ol", "li",
    "blockquote", "hr", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "th": {"scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

_markdown = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
    ["table", "replacements", "smartquotes"]
)
_H1 = re.compile(r"<(/?)h1>")


@dataclass
class BodyHtml:
    html: str
    images_without_alt: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    # (target, the words a reader sees) for every link, for the link-text warning
    link_texts: list[tuple[str, str]] = field(default_factory=list)


def to_html(markdown: str) -> BodyHtml:
    rendered = _markdown.render(markdown)
    rendered = _H1.sub(r"<\1h2>", rendered)
    clean = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )
    scan = _Scan()
    scan.feed(clean)
    return BodyHtml(clean, scan.images_without_alt, scan.links, scan.link_texts)


class _Scan(HTMLParser):
    """Images that have no alt text, and every link target, for the warnings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images_without_alt: list[str] = []
        self.links: list[str] = []
        self.link_texts: list[tuple[str, str]] = []
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and not (values.get("alt") or "").strip():
            self.images_without_alt.append(values.get("src") or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
            self._open = (values["href"] or "", [])
        elif tag == "img" and self._open is not None:
            self._open[1].append(values.get("alt") or "")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            href, words = self._open
            self.link_texts.append((href, " ".join("".join(words).split())))
            self._open = None
