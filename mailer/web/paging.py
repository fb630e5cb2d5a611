"""The ``?page=`` of every paged list: a whole number from 1, kept to the last page.

Not a number, zero or negative: 400 (the link was not one of ours). Past the end, even
far past (``?page=99999999999999999999``): the last page, so the offset handed to the
database stays small whatever the address says.
"""

from __future__ import annotations

from flask import abort, request

from mailer.paging import pages, within

__all__ = ["MAX_PAGE", "page_number", "pages", "within"]

# Far beyond any list here; only keeps the arithmetic below away from huge numbers.
MAX_PAGE = 1_000_000


def page_number(name: str = "page") -> int:
    """The requested page, 1 when not given; 400 when it is not a page number."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return 1
    text = raw.strip()
    if not text.isdecimal() or not text.isascii():
        abort(400)
    if len(text) > len(str(MAX_PAGE)):
        return MAX_PAGE
    number = int(text)
    if number < 1:
        abort(400)
    return min(number, MAX_PAGE)
