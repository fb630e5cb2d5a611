"""``/c/<completion code>``: where a consultation's survey tool sends someone who
finished the survey. It counts the response (through the share it came from, when the
tool passed ``?share=`` back) and thanks them, inviting them to pass the consultation
on. Never a redirect: the page is ours, in the office's look.

Counted as ``/r/`` and ``/s/`` count: not a scanner, a HEAD or the same visitor again
within a minute (bots.py), and within the public limits per network and overall
(limits.py). A response over a limit is thanked but not counted.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from mailer import public_urls
from mailer.database import get_db, utcnow
from mailer.organisation import service as organisation
from mailer.tracking import completions, limits
from mailer.tracking.public_views import counting
from scheduler.consultations import read_models
from scheduler.models import Consultation

log = logging.getLogger(__name__)
completion_bp = Blueprint("completion", __name__)


@completion_bp.route(public_urls.COMPLETION, methods=["GET", "HEAD"])
def completed(code: str) -> ResponseReturnValue:
    if len(code) > completions.CODE_MAX:
        abort(404)
    share = request.args.get(completions.SHARE_PARAMETER)
    db = get_db()
    with db.writing() as session:
        consultation = session.scalar(
            select(Consultation).where(Consultation.completion_code == code)
        )
        if consultation is None:
            abort(404)
        # The path alone is the target: the same address with another ?share= is the
        # same person (as for /r/ and /s/).
        if counting():
            refused = limits.admit(
                session,
                form=limits.COMPLETED,
                network=limits.network_of(request.remote_addr),
                now=utcnow(),
            )
            if refused is None:
                completions.record(session, consultation.id, share=share, now=utcnow())
            else:
                log.warning(
                    "survey completion for consultation %s not counted: %s",
                    consultation.id,
                    refused,
                )
        public = session.scalar(
            select(Consultation.id).where(
                Consultation.id == consultation.id, read_models.public_condition()
            )
        )
        base_url = current_app.config["MAILER"].app.base_url
        page = render_template(
            "public/completed.html",
            consultation=consultation,
            page_url=read_models.page_url(consultation, base_url) if public else None,
            org=organisation.get(session),
        )
    response = Response(page)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
