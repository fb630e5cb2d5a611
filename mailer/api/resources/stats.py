"""Statistics, the same numbers as the admin's reports: a consultation's cascade
(``mailer/tracking/reports.py``) and a send's clicks per link
(``mailer/tracking/send_reports.py``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from mailer.accounts import api_scopes
from mailer.api import auth
from mailer.api.problems import ApiProblem
from mailer.api.resources import sends as sends_resource
from mailer.database import get_db
from mailer.tracking import reports, send_reports
from scheduler.models import Consultation

blp = Blueprint(
    "api_stats",
    __name__,
    url_prefix="/api/v1",
    description="Statistics: cascades and clicks, as the admin's reports count them",
)


class Figures(ma.Schema):
    share_link_visits = ma.fields.Integer(required=True)
    survey_clicks = ma.fields.Integer(required=True, metadata={"description": "Through shares"})
    survey_responses = ma.fields.Integer(
        required=True, metadata={"description": "Reported complete by the survey tool"}
    )
    sign_ups = ma.fields.Integer(required=True)
    cascades_confirmed = ma.fields.Integer(required=True, metadata={"description": "I shared this"})
    reach = ma.fields.Integer(required=True, metadata={"description": "People reached, reported"})


class SharerFigures(Figures):
    contact_id = ma.fields.Integer(allow_none=True, metadata={"description": "None once erased"})
    name = ma.fields.String(required=True)
    organisation = ma.fields.String(required=True)
    organisation_type = ma.fields.String(required=True)
    area = ma.fields.String(required=True)


class GroupFigures(Figures):
    group = ma.fields.String(required=True)


class CascadeTotals(ma.Schema):
    recipients = ma.fields.Integer(required=True)
    delivered = ma.fields.Integer(required=True)
    survey_clicks_direct = ma.fields.Integer(required=True)
    survey_clicks_cascade = ma.fields.Integer(required=True)
    survey_responses = ma.fields.Integer(
        required=True, metadata={"description": "All, with or without a share"}
    )
    survey_responses_cascade = ma.fields.Integer(required=True)
    share_link_visits = ma.fields.Integer(required=True)
    sign_ups = ma.fields.Integer(required=True)
    sign_ups_cascade = ma.fields.Integer(required=True)
    cascades_confirmed = ma.fields.Integer(required=True)
    reported_reach = ma.fields.Integer(required=True)
    anonymous_claims = ma.fields.Integer(required=True)
    anonymous_reach = ma.fields.Integer(required=True)
    depth = ma.fields.Integer(required=True)


class CascadeOut(ma.Schema):
    consultation_id = ma.fields.Integer(required=True)
    totals = ma.fields.Nested(CascadeTotals, required=True)
    sharers = ma.fields.List(ma.fields.Nested(SharerFigures), required=True)
    by_organisation = ma.fields.List(ma.fields.Nested(GroupFigures), required=True)
    by_organisation_type = ma.fields.List(ma.fields.Nested(GroupFigures), required=True)
    by_area = ma.fields.List(ma.fields.Nested(GroupFigures), required=True)


class LinkClicksOut(ma.Schema):
    label = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    clicks = ma.fields.Integer(required=True)


class ClicksOut(ma.Schema):
    send_id = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    links = ma.fields.List(ma.fields.Nested(LinkClicksOut), required=True)


def _figures(s: reports.Sharer) -> dict[str, int]:
    return {
        "share_link_visits": s.visits,
        "survey_clicks": s.survey_clicks,
        "survey_responses": s.survey_responses,
        "sign_ups": s.sign_ups,
        "cascades_confirmed": s.confirmations,
        "reach": s.reach,
    }


def _groups(rows: list[tuple[str, reports.Sharer]]) -> list[dict[str, Any]]:
    return [{"group": label, **_figures(s)} for label, s in rows]


@blp.route("/consultations/<int:consultation_id>/cascade")
@auth.requires(api_scopes.STATS_READ)
@blp.response(200, CascadeOut)
def cascade(consultation_id: int) -> dict[str, Any]:
    """How the consultation travelled: per sharer, organisation, type and area, and
    the totals, as the admin's cascade report shows them."""
    session = get_db().session
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise ApiProblem(404, f"No consultation has the id {consultation_id}.")
    report = reports.build(session, consultation)
    return {
        "consultation_id": consultation.id,
        "totals": {
            "recipients": report.recipients,
            "delivered": report.delivered,
            "survey_clicks_direct": report.survey_clicks_direct,
            "survey_clicks_cascade": report.survey_clicks_cascade,
            "survey_responses": report.survey_responses,
            "survey_responses_cascade": report.survey_responses_cascade,
            "share_link_visits": report.share_visits,
            "sign_ups": report.sign_ups,
            "sign_ups_cascade": report.sign_ups_cascade,
            "cascades_confirmed": report.confirmations,
            "reported_reach": report.reported_reach,
            "anonymous_claims": report.anonymous_claims,
            "anonymous_reach": report.anonymous_reach,
            "depth": report.depth,
        },
        "sharers": [
            {
                "contact_id": s.contact_id,
                "name": s.name,
                "organisation": s.organisation,
                "organisation_type": s.organisation_type,
                "area": s.area,
                **_figures(s),
            }
            for s in report.sharers
        ],
        "by_organisation": _groups(report.by_organisation),
        "by_organisation_type": _groups(report.by_type),
        "by_area": _groups(report.by_area),
    }


@blp.route("/sends/<int:send_id>/clicks")
@auth.requires(api_scopes.STATS_READ)
@blp.response(200, ClicksOut)
def clicks(send_id: int) -> dict[str, Any]:
    """Clicks per link of one send, as the admin's send report counts them."""
    session = get_db().session
    send = sends_resource.find(session, send_id)
    report = send_reports.send_report(session, send)
    return {
        "send_id": send.id,
        "total": report.counts.clicks,
        "links": [
            {"label": link.label, "address": link.target, "kind": link.kind, "clicks": link.clicks}
            for link in report.links
        ],
    }
