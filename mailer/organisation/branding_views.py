"""The office's look on every public page: ``office()`` for the templates, and the page's
Content-Security-Policy widened just enough for it.

Public pages (templates/public/base.html) call ``office()`` for the office's name, logo
and colour. The site's policy allows no inline style and no image from elsewhere, so a
page that called it is answered with the same policy plus the hash of its one style
block and the logo's origin (nothing else). Registered on the organisation blueprint,
for the whole application.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from mailer.database import get_db
from mailer.organisation import branding
from mailer.organisation import service as organisation
from mailer.web.security import content_policy

log = logging.getLogger(__name__)

_SHOWN = "office_branding"


def office() -> branding.Branding:
    """The office's look, read once per request."""
    shown: branding.Branding | None = g.get(_SHOWN)
    if shown is None:
        try:
            org = organisation.get(get_db().session).snapshot()
        except (LookupError, SQLAlchemyError):
            # Before `mailer init`, or an error page while the database is down: a page
            # must still answer.
            log.warning("public page without organisation settings: default look")
            org = {}
        shown = branding.branding(org)
        setattr(g, _SHOWN, shown)
    return shown


def _style(look: branding.Branding) -> Markup:
    # Only validated #rrggbb colours go into it, and its exact text is hashed below.
    return Markup(look.css)  # noqa: S704


def _policy(response: Response) -> Response:
    look: branding.Branding | None = g.get(_SHOWN)
    # A page with its own policy (a web version) keeps it.
    if look is not None and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = content_policy(
            images=look.logo_origin, styles=look.css_hash
        )
    return response


def register(bp: Blueprint) -> None:
    bp.app_context_processor(lambda: {"office": office, "office_style": _style})
    bp.after_app_request(_policy)
