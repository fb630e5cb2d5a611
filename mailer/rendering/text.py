"""HTML to plain text that reads well: headings underlined, link targets written out.

Used for the bulletin body (the template's own text part places it) and nowhere near
arbitrary web pages: the input is the sanitised body HTML of ``mailer.rendering.markdown``.
"""

from __future__ import annotations

import re
import textwrap
from html.parser import HTMLParser

WIDTH = 72
_SPACES = re.compile(r"[ \t\r\n]+")


def html_to_text(html: str) -> str:
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.result()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (text, tight): list items and table rows follow each other without a blank line.
        self.blocks: list[tuple[str, bool]] = []
        self.inline: list[str] = []
        self.prefix: list[str] = []  # blockquote markers
        self.lists: list[list[int]] = []  # a counter per open list; [-1] for bullets
        self.href: list[str | None] = []
        self.link_start: list[int] = []
        self.heading: str | None = None
        self.cells: list[str] = []
        self.cell_start: list[int] = []
        self.fresh = False  # the next tight block starts a new list or table

    # --- blocks ---------------------------------------------------------------------

    def _flush(self, *, bullet: str = "", tight: bool = False) -> None:
        text = _SPACES.sub(" ", "".join(self.inline)).strip()
        self.inline = []
        if not text:
            return
        quote = "> " * len(self.prefix)
        if self.heading:
            underline = "=" if self.heading == "h2" else "-"
            self.blocks.append(
                (f"{quote}{text}\n{quote}{underline * min(len(text), WIDTH)}", False)
            )
            return
        if tight and self.fresh:
            tight, self.fresh = False, False
        indent = "  " * max(len(self.lists) - 1, 0)
        first = quote + indent + bullet
        rest = quote + indent + " " * len(bullet)
        wrapped = textwrap.fill(
            text,
            width=WIDTH,
            initial_indent=first,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        )
        self.blocks.append((wrapped, tight))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("p", "h2", "h3", "h4", "table", "tr"):
            self._flush()
            self.fresh = self.fresh or tag == "table"
            if tag.startswith("h"):
                self.heading = tag
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append([0 if tag == "ol" else -1])
            self.fresh = True
        elif tag == "li":
            self._flush()
        elif tag == "blockquote":
            self._flush()
            self.prefix.append(">")
        elif tag == "br":
            self.inline.append("\n")
        elif tag == "hr":
            self._flush()
            self.blocks.append(("-" * 20, False))
        elif tag == "a":
            self.href.append(values.get("href"))
            self.link_start.append(len(self.inline))
        elif tag == "img":
            alt = (values.get("alt") or "").strip()
            if alt:
                self.inline.append(f"[{alt}]")
        elif tag in ("td", "th"):
            self.cells.append("")
            self.cell_start.append(len(self.inline))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "h2", "h3", "h4"):
            self._flush()
            self.heading = None
        elif tag == "li":
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                bullet = f"{counter[0]}. "
            else:
                bullet = "- "
            self._flush(bullet=bullet, tight=True)
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag == "blockquote":
            self._flush()
            if self.prefix:
                self.prefix.pop()
        elif tag == "a" and self.href:
            href = self.href.pop()
            start = self.link_start.pop()
            label = _SPACES.sub(" ", "".join(self.inline[start:])).strip()
            target = (href or "").removeprefix("mailto:")
            if target.startswith("tel:"):
                target = re.sub(r"\D", "", target)
                label = re.sub(r"\D", "", label)
            if href and target != label:
                self.inline.append(f" ({href.removeprefix('mailto:')})" if label else href)
        elif tag in ("td", "th") and self.cell_start:
            start = self.cell_start.pop()
            cell = _SPACES.sub(" ", "".join(self.inline[start:])).strip()
            del self.inline[start:]
            self.cells[-1] = cell
        elif tag == "tr":
            if self.cells:
                self.inline.append(" | ".join(self.cells))
                self.cells = []
            self._flush(tight=True)

    def handle_data(self, data: str) -> None:
        self.inline.append(data)

    def result(self) -> str:
        self._flush()
        out: list[str] = []
        for text, tight in self.blocks:
            if out:
                out.append("\n" if tight else "\n\n")
            out.append(text)
        return "".join(out) + ("\n" if out else "")
