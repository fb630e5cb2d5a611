"""The links a writer put in a bulletin's body, listed and rewritten.

Both work on the body HTML after Markdown and sanitising (``markdown.to_html``), so
what is listed is exactly what a reader would follow. Only ``http`` and ``https``
links count: ``mailto:``, ``tel:``, anchors within the message and relative addresses
are a reader's own business, and the product's personal links (unsubscribe,
preferences) must keep working as themselves, so callers name their prefixes in
``leave_alone``. Rewriting replaces whole ``href`` values in the tags the parser
found, escaping them again, so a quote or an ampersand in an address can never break
out of its attribute. The plain-text part is made from the rewritten HTML, so it
follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from mailer.public_urls import TEST_TOKEN, PublicUrls

_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class BodyLink:
    """One address in the body, and the words a reader sees on its first link."""

    href: str
    text: str


def is_web_link(href: str) -> bool:
    return href.strip().lower().startswith(_SCHEMES)


def personal_prefixes(base_url: str) -> tuple[str, ...]:
    """The beginnings of the product's own links that act on one person (unsubscribe,
    preferences), and of its tracked links: never tracked a second time."""
    urls = PublicUrls(base_url)
    return (
        urls.unsubscribe_test().removesuffix(TEST_TOKEN),
        urls.preferences_test().removesuffix(TEST_TOKEN),
        urls.follow(TEST_TOKEN).removesuffix(TEST_TOKEN),
    )


def _kept(href: str, leave_alone: Sequence[str]) -> bool:
    return is_web_link(href) and not any(href.startswith(prefix) for prefix in leave_alone)


def body_links(html: str, *, leave_alone: Sequence[str] = ()) -> list[BodyLink]:
    """Each distinct http(s) address the body links to, in the order a reader meets
    them, with the text of its first link (an image's alt text when that is all)."""
    scan = _Anchors()
    scan.feed(html)
    scan.close()
    seen: dict[str, BodyLink] = {}
    for anchor in scan.anchors:
        if anchor.href not in seen and _kept(anchor.href, leave_alone):
            seen[anchor.href] = BodyLink(anchor.href, " ".join("".join(anchor.words).split()))
    return list(seen.values())


def rewrite_links(html: str, mapping: Mapping[str, str]) -> str:
    """``html`` with each link whose address is a key of ``mapping`` pointing at its
    value instead; everything else byte for byte as it was."""
    if not mapping:
        return html
    scan = _Anchors()
    scan.feed(html)
    scan.close()
    out: list[str] = []
    position = 0
    for anchor in scan.anchors:
        replacement = mapping.get(anchor.href)
        if replacement is None or not is_web_link(anchor.href):
            continue
        out.append(html[position : anchor.start])
        out.append(_tag(anchor.attrs, replacement))
        position = anchor.end
    out.append(html[position:])
    return "".join(out)


def _tag(attrs: list[tuple[str, str | None]], href: str) -> str:
    parts = ["<a"]
    for name, value in attrs:
        if name == "href":
            value = href
        parts.append(f" {name}" if value is None else f' {name}="{escape(value, quote=True)}"')
    parts.append(">")
    return "".join(parts)


@dataclass
class _Anchor:
    href: str
    attrs: list[tuple[str, str | None]]
    start: int  # where its start tag begins and ends in the source
    end: int
    words: list[str]


class _Anchors(HTMLParser):
    """Every ``<a href>`` start tag: its place in the source, its attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[_Anchor] = []
        self._open: _Anchor | None = None
        self._line_starts = [0]
        self._source = ""

    def feed(self, data: str) -> None:
        # Offsets from (line, column): the lines of everything fed so far.
        base = len(self._source)
        self._source += data
        self._line_starts.extend(
            base + index + 1 for index, char in enumerate(data) if char == "\n"
        )
        super().feed(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            line, column = self.getpos()
            start = self._line_starts[line - 1] + column
            text = self.get_starttag_text() or ""
            self._open = _Anchor(values["href"] or "", attrs, start, start + len(text), [])
            self.anchors.append(self._open)
        elif tag == "img" and self._open is not None:
            self._open.words.append(values.get("alt") or "")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.words.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None
