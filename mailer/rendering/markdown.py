"""The bulletin's Markdown to HTML that is safe to send.

Raw HTML in the Markdown is allowed through a sanitiser (nh3) that keeps only what an
email body needs; scripts, styles, event handlers and ``javascript:`` links are dropped.
Headings start at level 2, because the template's headline is the message's one ``h1``.
A bare ``http(s)`` address pasted into the text becomes a link, as it would in any mail
program, so it is clickable, tracked and checked like a written ``[words](address)``;
never inside code, and without the full stop or bracket that ends its sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

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

_H1 = re.compile(r"<(/?)h1>")
_BARE = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# What ends a sentence rather than an address: "see https://x.org/plan." links the plan.
_TRAILING = ".,;:!?*_~'\""
_HTML_A_OPEN = re.compile(r"<a[\s>]", re.IGNORECASE)
_HTML_A_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)


def _trimmed(address: str) -> str:
    while address and (
        address[-1] in _TRAILING or (address[-1] == ")" and address.count(")") > address.count("("))
    ):
        address = address[:-1]
    return address


def _linked(state: StateCore, token: Token) -> list[Token]:
    """A text token with bare addresses split into text and links."""
    found: list[Token] = []
    start = 0
    for match in _BARE.finditer(token.content):
        address = _trimmed(match.group(0))
        href = state.md.normalizeLink(address)
        if "://" not in address or address.endswith("://") or not state.md.validateLink(href):
            continue
        if match.start() > start:
            found.append(_text(token, token.content[start : match.start()]))
        # info "auto": the typographer leaves the address's quotes and dashes alone.
        opening = Token("link_open", "a", 1, attrs={"href": href}, markup="linkify", info="auto")
        closing = Token("link_close", "a", -1, markup="linkify", info="auto")
        opening.level, closing.level = token.level, token.level
        words = _text(token, state.md.normalizeLinkText(address))
        words.level = token.level + 1
        found += [opening, words, closing]
        start = match.start() + len(address)
    if not found:
        return [token]
    if start < len(token.content):
        found.append(_text(token, token.content[start:]))
    return found


def _text(like: Token, content: str) -> Token:
    text = Token("text", "", 0, content=content)
    text.level = like.level
    return text


def _bare_links(state: StateCore) -> None:
    """Link bare addresses in text outside links (Markdown or raw ``<a>``); code spans
    and blocks are never text tokens, so they stay as written."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        inside = 0
        children: list[Token] = []
        for token in block.children:
            if token.type == "link_open":
                inside += 1
            elif token.type == "link_close":
                inside -= 1
            elif token.type == "html_inline" and _HTML_A_OPEN.match(token.content):
                inside += 1
            elif token.type == "html_inline" and _HTML_A_CLOSE.match(token.content):
                inside = max(0, inside - 1)
            if token.type == "text" and inside == 0 and "://" in token.content:
                children += _linked(state, token)
            else:
                children.append(token)
        block.children = children


_markdown = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
    ["table", "replacements", "smartquotes"]
)
_markdown.core.ruler.after("inline", "bare_links", _bare_links)


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
