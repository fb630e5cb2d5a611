"""Error pages that say what happened and what to do next."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

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


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _render(status: int, title: str, advice: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, advice=advice), status


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
    title, advice = MESSAGES.get(error.code, (error.name, error.description or ""))
    return _render(error.code, title, advice)


def _unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _render(500, *MESSAGES[500])
