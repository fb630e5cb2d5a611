"""Every request's input, checked and cleaned before any view sees it.

- NUL, or bytes that are not UTF-8, in the path, the query string or a form: 400 with
  the normal error page. PostgreSQL refuses NUL in text (a 500 deep in a query), and no
  person types either.
- Control characters are stripped from every query and form value
  (mailer.cleaning); admin pages keep the bidirectional controls, which right-to-left
  text written by staff may need.
- Integer URL parts are bounded to what an id column holds, so a huge number is a 404,
  not an overflow in the database driver.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, Map

from mailer.cleaning import strip_controls

MAX_ID = 2**31 - 1  # the largest value of an INTEGER column on PostgreSQL

_FORM_URLENCODED = "application/x-www-form-urlencoded"


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only what fits an id column."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(_check_and_clean)


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data


def _malformed() -> bool:
    environ = request.environ
    # WSGI carries the path as latin-1 text standing for the raw bytes.
    path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    if not _utf8(path):  # the server has already turned %XX into bytes
        return True
    # The request line as sent (waitress and werkzeug keep it): a server may have
    # decoded the path with replacement characters, hiding bytes that were not UTF-8.
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or ""
    raw_path = raw.split("?", 1)[0].encode("latin-1", "replace")
    if not _utf8(unquote_to_bytes(raw_path)):
        return True
    query = environ.get("QUERY_STRING", "").encode("latin-1", "replace")
    if not _utf8(unquote_to_bytes(query.replace(b"+", b" "))):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if request.mimetype == _FORM_URLENCODED:
        body = request.get_data(cache=True)
        if not _utf8(unquote_to_bytes(body.replace(b"+", b" "))):
            return True
    if request.mimetype in (_FORM_URLENCODED, "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if "\x00" in key or "\x00" in value:
                return True
    return False


def _cleaned(values: MultiDict[str, str], *, bidi: bool) -> ImmutableMultiDict[str, str]:
    return ImmutableMultiDict(
        [
            (strip_controls(key, bidi=bidi), strip_controls(value, bidi=bidi))
            for key, value in values.items(multi=True)
        ]
    )


def _check_and_clean() -> None:
    if _malformed():
        abort(400)
    public = not request.path.startswith("/admin")
    request.args = _cleaned(request.args, bidi=public)
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
        _FORM_URLENCODED,
        "multipart/form-data",
    ):
        request.form = _cleaned(request.form, bidi=public)


def id_arg(name: str, values: MultiDict[str, str] | None = None) -> int | None:
    """An id from the query string (``?contact=12``) or the given form values: None
    unless it is a whole number an id column can hold."""
    value = (request.args if values is None else values).get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None
