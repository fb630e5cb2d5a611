"""Error pages that say what happened and what to do next.

An upload over the request limit (HTTP 413) is not an error page: the person goes back
to the form they came from, told the file's size and the limit, with what else they
typed kept where it can be read. A form with an upload names the answer to give
(``on_too_large``); any other goes back to the page it was sent from."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from typing import IO, cast
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.wsgi import LimitedStream

from mailer.web.redirects import safe_admin_path

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024
# What is read of a too-large request's typed fields (its files are skipped unread).
MAX_KEPT_FIELDS_BYTES = 512 * 1024

# Endpoint -> the answer to a too-large request to it, given the request's size.
# None: not this person's form (a role without it, a record gone); the plain answer.
TooLargeAnswer = Callable[[int], ResponseReturnValue | None]
_too_large_answers: dict[str, TooLargeAnswer] = {}

MESSAGES = {
    400: (
        "Something in that request was not right",
        "Go back, check what you entered and try again.",
    ),
    403: (
        "You do not have permission to do that",
        "Ask an admin if you need this part of the product.",
    ),
    404: ("Page not found", "The address may be mistyped, or the page may have moved."),
    405: ("That action is not available here", "Go back and use the buttons on the page."),
    413: ("That upload is too large", "Make the file smaller and try again."),
    429: ("Too many requests", "Wait a few minutes, then try again."),
    500: (
        "Something went wrong on our side",
        "Nothing you did caused this. Try again in a minute; if it keeps happening, "
        "tell the person who runs this system.",
    ),
}


def too_large(size: int, limit: int) -> str:
    """The sentence a person reads about a file over the limit."""
    return (
        f"The file is {_megabytes(size)}; the limit is {_megabytes(limit)}. Make it smaller "
        "(a PDF saved for the web, pictures compressed), or split it into parts."
    )


def upload_size(upload: FileStorage) -> int:
    """The uploaded file's size, without reading it into memory."""
    stream = upload.stream
    try:
        here = stream.tell()
        size = stream.seek(0, os.SEEK_END)
        stream.seek(here)
    except (AttributeError, OSError, ValueError):  # a stream that cannot seek
        return len(upload.read())
    return int(size)


def _megabytes(size: int) -> str:
    shown = f"{size / MEGABYTE:.1f}".removesuffix(".0")
    return f"{shown} MB"


def on_too_large(endpoint: str, answer: TooLargeAnswer) -> None:
    """Answer a request to ``endpoint`` over the request limit with ``answer`` (its form
    again, the limit stated), not an error page. ``request.form`` holds the typed
    fields that could be read; ``request.files`` is empty. The view's own checks have
    not run: the answer checks the role, saves nothing, and returns None to leave the
    plain answer."""
    _too_large_answers[endpoint] = answer


# Path prefix -> how an error under it is answered instead of a page (the API's
# problem details), given the error (an HTTPException, or the unexpected exception).
ErrorAnswer = Callable[[Exception], ResponseReturnValue]
_answers_under: dict[str, ErrorAnswer] = {}


def answer_errors_under(prefix: str, answer: ErrorAnswer) -> None:
    """Answer every error for ``prefix`` and the paths under it (``prefix/...``, not
    ``prefix-else``) with ``answer``, not a page."""
    _answers_under[prefix.rstrip("/")] = answer


def _answer_for_path() -> ErrorAnswer | None:
    for prefix, answer in _answers_under.items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return answer
    return None


def init_app(app: Flask) -> None:
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


# The admin's own paths: an error there wears the product's look; anywhere else it is a
# stakeholder's page (a consultation, an unsubscribe link), which wears the office's.
ADMIN_PATHS = ("/admin", "/login", "/logout")


def _render(status: int, title: str, advice: str) -> tuple[str, int]:
    page = render_template(
        "errors/error.html",
        status=status,
        title=title,
        advice=advice,
        for_stakeholders=not request.path.startswith(ADMIN_PATHS),
    )
    return page, status


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    log.info("CSRF check failed on %s %s: %s", request.method, request.path, error.description)
    return _render(
        400,
        "This form has expired or did not come from this site",
        "Go back, reload the page and send the form again.",
    )


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.code is None or error.code < 400:
        return error
    answer = _answer_for_path()
    if answer is not None:
        return answer(error)
    title, advice = MESSAGES.get(error.code, (error.name, error.description or ""))
    return _render(error.code, title, advice)


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    answer_elsewhere = _answer_for_path()
    if answer_elsewhere is not None:
        return answer_elsewhere(error)
    size = request.content_length or 0
    log.info("upload of %s bytes over the limit on %s %s", size, request.method, request.path)
    answer = _too_large_answers.get(request.endpoint or "")
    if answer is not None and request.method == "POST":
        _read_typed_fields()
        answered = answer(size)
        if answered is not None:
            return answered
    back = _back()
    limit = int(request.max_content_length or 0)
    if back and request.method == "POST":
        flash(too_large(size, limit), "error")
        return redirect(back, 303)
    return _render(413, MESSAGES[413][0], too_large(size, limit))


def _back() -> str | None:
    """The admin page the request was sent from, when it was this site's."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return safe_admin_path(urlunsplit(("", "", parts.path, parts.query, "")))


def _read_typed_fields() -> None:
    """Read the form's typed fields from a too-large request, skipping its files
    (nothing of them is kept), so the form can show them again. Unreadable: none."""
    fields: ImmutableMultiDict[str, str] = ImmutableMultiDict()
    try:
        parser = FormDataParser(
            stream_factory=_discard,
            max_form_memory_size=MAX_KEPT_FIELDS_BYTES,
            max_content_length=None,
        )
        stream = cast(
            IO[bytes], LimitedStream(request.environ["wsgi.input"], request.content_length or 0)
        )
        _stream, parsed, _files = parser.parse(
            stream, request.mimetype, request.content_length, request.mimetype_params
        )
        fields = ImmutableMultiDict(parsed)
    except Exception:  # a broken or cut-off body: the form shows what was saved
        log.info("could not read the fields of a too-large request", exc_info=True)
    # werkzeug caches these on the request; the too-large answer reads them there.
    request.form = fields
    request.files = ImmutableMultiDict()


def _discard(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> IO[bytes]:
    """Where a skipped file's bytes go: nowhere."""
    return _Sink()


class _Sink(io.BytesIO):
    """A file that keeps nothing written to it."""

    def write(self, data: object) -> int:
        return len(memoryview(data))  # type: ignore[arg-type]


def _unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("unhandled error on %s %s", request.method, request.path)
    answer = _answer_for_path()
    if answer is not None:
        return answer(error)
    return _render(500, *MESSAGES[500])
