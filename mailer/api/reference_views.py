"""``/api/v1/`` (and ``/api/v1/reference``): the API's reference, a page rendered on
the server from the OpenAPI document as served. Public: it is documentation and shows
no data. No script, no third-party stylesheet: it must work on a closed network."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from flask.typing import ResponseReturnValue

from mailer.accounts import api_scopes
from mailer.api import reference

bp = Blueprint("api_reference", __name__)


@bp.get("/api/v1/")
@bp.get("/api/v1/reference")
def page() -> ResponseReturnValue:
    from mailer.api import spec

    doc = spec(current_app)
    return render_template(
        "api/reference.html",
        doc=doc,
        sections=reference.sections(doc),
        scopes=api_scopes.SCOPES,
        document_url=url_for("api-docs.openapi_json"),
        rate_limit=current_app.config["MAILER"].api.rate_limit,
        code=reference.inline_code,
    )
