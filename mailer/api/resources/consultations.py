"""``/api/v1/consultations``: consultations with their timeline of sends (a key with
``consultations:read``), and the public list of open ones a website shows (no key)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import api_scopes
from mailer.api import auth, etags, paging
from mailer.api.problems import ApiProblem
from mailer.api.times import TimeOut
from mailer.config import Config
from mailer.database import get_db
from mailer.public_urls import PublicUrls
from mailer.web.security import clock
from scheduler.bulletin_sends.read_models import iso
from scheduler.consultations import read_models
from scheduler.models import SCHEDULED, Consultation

blp = Blueprint(
    "api_consultations",
    __name__,
    url_prefix="/api/v1/consultations",
    description="Consultations, and the public list of open ones",
)

# How long a website (or a cache in front of it) may reuse the open list unasked.
OPEN_MAX_AGE = 300


class ConsultationSendCounts(ma.Schema):
    queued = ma.fields.Integer(required=True)
    sent = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(required=True)
    bounced = ma.fields.Integer(required=True)


class ConsultationSendOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "launch, reminder, ..."})
    label = ma.fields.String(required=True)
    planned_at = TimeOut(allow_none=True)
    due_at = TimeOut(allow_none=True)
    fired_at = TimeOut(allow_none=True)
    state = ma.fields.String(required=True)
    reasons = ma.fields.List(ma.fields.String())
    counts = ma.fields.Nested(ConsultationSendCounts, required=True)


class ConsultationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    state = ma.fields.String(
        required=True,
        metadata={"description": "draft, awaiting_approval, scheduled, open, closed, cancelled"},
    )
    opens_at = TimeOut(required=True)
    closes_at = TimeOut(required=True)
    survey_url = ma.fields.String(required=True)
    page_url = ma.fields.String(required=True, metadata={"description": "The public page"})
    recipients = ma.fields.Integer(required=True)
    sends = ma.fields.List(ma.fields.Nested(ConsultationSendOut), required=True)


class ConsultationPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ConsultationOut), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class ConsultationListArgs(paging.PageArgs):
    state = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(
            ("draft", "awaiting_approval", "scheduled", "open", "closed", "cancelled")
        ),
    )


class OpenConsultation(ma.Schema):
    """Only what the public page shows."""

    title = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    opens_at = TimeOut(required=True)
    closes_at = TimeOut(required=True)
    page_url = ma.fields.String(required=True)


class OpenList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OpenConsultation), required=True)


def _config() -> Config:
    return current_app.config["MAILER"]


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def represent(session: Session, consultation: Consultation) -> dict[str, Any]:
    data = read_models.to_json(session, consultation, now=clock())
    data["summary"] = consultation.summary
    data["page_url"] = read_models.page_url(consultation, _config().app.base_url)
    return data


@blp.route("/open")
@auth.public
@blp.response(200, OpenList)
def open_consultations() -> ResponseReturnValue:
    """The consultations open now, as the public pages show them (no key needed; any
    website's script may read it; cache it with the ETag)."""
    session = get_db().session
    now = clock()
    rows = session.scalars(
        select(Consultation)
        .where(
            Consultation.state == SCHEDULED,
            Consultation.opens_at <= now,
            Consultation.closes_at > now,
            read_models.public_condition(),
        )
        .order_by(Consultation.closes_at, Consultation.id)
    ).all()
    urls = PublicUrls(_config().app.base_url)
    items = [
        {
            "title": c.title,
            "summary": c.summary,
            "opens_at": iso(c.opens_at),
            "closes_at": iso(c.closes_at),
            "page_url": urls.consultation(c.slug),
        }
        for c in rows
    ]
    body = {"items": items}
    etag = etags.tag(body)
    headers = {
        "ETag": etag,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag",
        "Cache-Control": f"public, max-age={OPEN_MAX_AGE}",
    }
    if etag in _tags(request.headers.get("If-None-Match", "")):
        return Response(status=304, headers=headers)
    return body, 200, headers


@blp.route("")
@auth.requires(api_scopes.CONSULTATIONS_READ)
@blp.arguments(ConsultationListArgs, location="query")
@blp.response(200, ConsultationPage)
def list_consultations(args: dict[str, Any]) -> ResponseReturnValue:
    """Consultations, oldest first (optionally only those in one state as a person
    sees it: a scheduled one is open or closed by its times)."""
    session = get_db().session
    last = paging.after_id(args["cursor"], kind="consultations")
    limit, wanted, now = args["limit"], args["state"], clock()
    items: list[dict[str, Any]] = []
    more = False
    while not more:
        rows = session.scalars(
            select(Consultation)
            .where(Consultation.id > last)
            .order_by(Consultation.id)
            .limit(limit)
        ).all()
        for row in rows:
            if len(items) == limit:
                more = True
                break
            last = row.id
            if wanted is None or row.phase(now) == wanted:
                items.append(represent(session, row))
        if len(rows) < limit:
            break
    next_cursor = paging.encode(last, kind="consultations") if more else None
    return {"items": items, "next_cursor": next_cursor}, 200, paging.next_link(next_cursor)


@blp.route("/<int:consultation_id>")
@auth.requires(api_scopes.CONSULTATIONS_READ)
@blp.response(200, ConsultationOut)
def get_consultation(consultation_id: int) -> ResponseReturnValue:
    """One consultation: its state, times, survey and page addresses, and its sends."""
    session = get_db().session
    found = session.get(Consultation, consultation_id)
    if found is None:
        raise ApiProblem(404, f"No consultation has the id {consultation_id}.")
    return represent(session, found)
