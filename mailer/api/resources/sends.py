"""``/api/v1/sends``: every send (a bulletin's, a consultation's launch, reminders and
close notice), its state and counts as the admin's send page knows them, and the
deliveries that failed or bounced with the server's reply."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import api_scopes
from mailer.api import auth, paging
from mailer.api.problems import ApiProblem
from mailer.api.times import TimeOut
from mailer.bounces import rates, reasons
from mailer.database import get_db
from mailer.delivery import sends
from mailer.delivery.models import BOUNCED, FAILED, SEND_STATES, Delivery, Send
from scheduler.bulletin_sends.read_models import iso

blp = Blueprint(
    "api_sends",
    __name__,
    url_prefix="/api/v1/sends",
    description="Sends: their state, counts and failures",
)

NOT_DELIVERED = (FAILED, BOUNCED)


class SendCounts(ma.Schema):
    queued = ma.fields.Integer(required=True, metadata={"description": "Waiting or in hand"})
    sent = ma.fields.Integer(required=True, metadata={"description": "Handed over"})
    failed = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(
        required=True, metadata={"description": "Suppressed, unsubscribed, bounced before"}
    )
    bounced = ma.fields.Integer(required=True, metadata={"description": "Handed over, came back"})
    complaints = ma.fields.Integer(required=True, metadata={"description": "Marked as spam"})


class SendOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(
        required=True, metadata={"description": "bulletin, launch, reminder or close_notice"}
    )
    title = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={"description": ", ".join(SEND_STATES)})
    bulletin_id = ma.fields.Integer(allow_none=True)
    consultation_id = ma.fields.Integer(allow_none=True)
    due_at = TimeOut(allow_none=True)
    fired_at = TimeOut(allow_none=True)
    finished_at = TimeOut(allow_none=True)
    reasons = ma.fields.List(ma.fields.String(), metadata={"description": "Why it was moved"})
    counts = ma.fields.Nested(SendCounts, required=True)


class SendPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SendOut), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class SendListArgs(paging.PageArgs):
    state = ma.fields.String(load_default=None, validate=ma.validate.OneOf(SEND_STATES))
    bulletin_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))
    consultation_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))


class FailureOut(ma.Schema):
    contact_id = ma.fields.Integer(allow_none=True, metadata={"description": "None once erased"})
    address = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={"description": "failed or bounced"})
    reason = ma.fields.String(required=True, metadata={"description": "Why, in words"})
    reply = ma.fields.String(required=True, metadata={"description": "The server's reply"})
    attempts = ma.fields.Integer(required=True)
    hard_bounce = ma.fields.Boolean(required=True)


class FailurePage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FailureOut), required=True)
    next_cursor = ma.fields.String(allow_none=True)


def represent(session: Session, send: Send) -> dict[str, Any]:
    progress = sends.progress(session, send.id)
    return {
        "id": send.id,
        "kind": send.kind,
        "title": send.title,
        "state": send.state,
        "bulletin_id": send.bulletin_id,
        "consultation_id": send.consultation_id,
        "due_at": iso(send.due_at),
        "fired_at": iso(send.fired_at),
        "finished_at": iso(send.finished_at),
        "reasons": list(send.reasons or []),
        "counts": {
            **progress.counts(),
            "complaints": rates.complaints_by_send(session, [send.id]).get(send.id, 0),
        },
    }


def find(session: Session, send_id: int) -> Send:
    found = session.get(Send, send_id)
    if found is None:
        raise ApiProblem(404, f"No send has the id {send_id}.")
    return found


@blp.route("")
@auth.requires(api_scopes.SENDS_READ)
@blp.arguments(SendListArgs, location="query")
@blp.response(200, SendPage)
def list_sends(args: dict[str, Any]) -> ResponseReturnValue:
    """Sends, oldest first, filtered by state, bulletin or consultation."""
    session = get_db().session
    query = select(Send).where(Send.id > paging.after_id(args["cursor"], kind="sends"))
    if args["state"]:
        query = query.where(Send.state == args["state"])
    if args["bulletin_id"]:
        query = query.where(Send.bulletin_id == args["bulletin_id"])
    if args["consultation_id"]:
        query = query.where(Send.consultation_id == args["consultation_id"])
    rows = session.scalars(query.order_by(Send.id).limit(args["limit"] + 1)).all()
    page = rows[: args["limit"]]
    next_cursor = paging.encode(page[-1].id, kind="sends") if len(rows) > len(page) else None
    items = [represent(session, s) for s in page]
    return {"items": items, "next_cursor": next_cursor}, 200, paging.next_link(next_cursor)


@blp.route("/<int:send_id>")
@auth.requires(api_scopes.SENDS_READ)
@blp.response(200, SendOut)
def get_send(send_id: int) -> dict[str, Any]:
    """One send: its kind, state, times and counts."""
    session = get_db().session
    return represent(session, find(session, send_id))


@blp.route("/<int:send_id>/failures")
@auth.requires(api_scopes.SENDS_READ)
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, FailurePage)
def list_failures(args: dict[str, Any], send_id: int) -> ResponseReturnValue:
    """The send's deliveries that failed or bounced: who, why in words, and the
    server's reply."""
    session = get_db().session
    send = find(session, send_id)
    rows = session.scalars(
        select(Delivery)
        .where(
            Delivery.send_id == send.id,
            Delivery.state.in_(NOT_DELIVERED),
            Delivery.id > paging.after_id(args["cursor"], kind="failures"),
        )
        .order_by(Delivery.id)
        .limit(args["limit"] + 1)
    ).all()
    page = rows[: args["limit"]]
    next_cursor = paging.encode(page[-1].id, kind="failures") if len(rows) > len(page) else None
    items = [
        {
            "contact_id": row.contact_id,
            "address": row.address,
            "state": row.state,
            "reason": reasons.explain(kind="hard", status="", diagnostic=row.last_reply),
            "reply": reasons.detail("", row.last_reply),
            "attempts": row.attempts,
            "hard_bounce": row.hard_bounce,
        }
        for row in page
    ]
    return {"items": items, "next_cursor": next_cursor}, 200, paging.next_link(next_cursor)
