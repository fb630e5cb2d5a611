"""Public pages of sends (no sign-in): a send's web version ("view in your browser")
and the archive of the messages the office published."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from mailer import public_urls
from mailer.bulletins import messages
from mailer.database import get_db
from mailer.delivery import web_versions
from mailer.organisation import service as organisation
from mailer.web import paging

log = logging.getLogger(__name__)
web_versions_bp = Blueprint("web_versions", __name__)

# The message's own styles are inline (email HTML is made of them) and its images may
# be anywhere (a logo on the office's website); scripts stay the site's own only.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' https: http: data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def _config() -> Any:
    return current_app.config["MAILER"]


@web_versions_bp.get(public_urls.WEB_VERSION)
def web_version(token: str) -> ResponseReturnValue:
    session = get_db().session
    try:
        send = web_versions.find(session, token)
    except web_versions.NotFound:
        abort(404)
    org = organisation.get(session)
    settings = messages.settings_from(_config())
    try:
        page = web_versions.render(send, settings=settings)
    except Exception:  # a stored document or template gone bad: no page, not a 500
        log.exception("send %s: its web version cannot be made", send.id)
        abort(404)
    response = Response(
        render_template(
            "public/web_version.html",
            page=page,
            about=web_versions.ABOUT_LINKS,
            sender_name=org.name,
        )
    )
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    # Nobody's data is on it, so it may be cached; only what the office published is
    # for search engines.
    response.headers["Cache-Control"] = "public, max-age=300"
    if not page.published:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@web_versions_bp.get(public_urls.ARCHIVE)
def archive() -> ResponseReturnValue:
    session = get_db().session
    listing = web_versions.archive(session, page=paging.page_number())
    return render_template(
        "public/archive.html",
        archive=listing,
        sender_name=organisation.get(session).name,
    )
