"""``/api/v1/bulletins``: write a draft bulletin, read it, edit it, submit it for an
audience and a time, and (only where the two-person rule is off) approve it.

A key is not a person: what it writes is noted under its name and its maker's account
(``mailer/accounts/key_authors.py``), so under ``[approval] two_person`` a person
other than the key's maker approves it in the admin."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, url_for
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import audience as audiences
from mailer.accounts import api_scopes
from mailer.accounts.key_authors import KeyAuthor
from mailer.accounts.models import ApiKey, User
from mailer.api import auth, etags, paging
from mailer.api.problems import VALIDATION, ApiProblem
from mailer.api.resources import bulletin_schemas as schemas
from mailer.bulletins import compose
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import get_db
from mailer.delivery.models import Send
from mailer.email_templates.models import KIND_BULLETIN
from mailer.web.security import clock
from scheduler import approval as shared
from scheduler import edits
from scheduler.bulletin_sends import approval, read_models, requests
from scheduler.consultations import planning
from scheduler.consultations import read_models as consultation_models
from scheduler.reviews import send_reviews
from scheduler.reviews import views as review_views

log = logging.getLogger(__name__)

blp = Blueprint(
    "api_bulletins",
    __name__,
    url_prefix="/api/v1/bulletins",
    description="Bulletins: write a draft, submit it for an audience, read how it went",
)

TWO_PERSON = (
    "Approval is a person's act in the admin while [approval] two_person is on: an "
    "approver other than its authors approves it there."
)


def _config() -> Config:
    return current_app.config["MAILER"]


def _writer(session: Session) -> KeyAuthor:
    caller = auth.current()
    key = session.get(ApiKey, caller.key_id)
    made_by_id = key.created_by_id if key is not None else None
    maker = session.get(User, made_by_id) if made_by_id is not None else None
    return KeyAuthor(
        name=caller.name,
        made_by_id=made_by_id,
        may_approve=api_scopes.BULLETINS_APPROVE in caller.scopes,
        made_by_email=maker.email if maker is not None else None,
    )


def _find(session: Session, bulletin_id: int) -> Bulletin:
    found = session.get(Bulletin, bulletin_id)
    if found is None:
        raise ApiProblem(404, f"No bulletin has the id {bulletin_id}.")
    return found


def represent(session: Session, bulletin: Bulletin) -> dict[str, Any]:
    """``mailer bulletin show --json``, with the words."""
    data = read_models.to_json(session, bulletin)
    data.update(
        preheader=bulletin.preheader,
        body_markdown=bulletin.body_markdown,
        template_id=bulletin.template_id,
    )
    return data


def _invalid(exc: compose.BulletinInvalid) -> ApiProblem:
    errors = [{"field": field, "message": message} for field, message in exc.errors.items()]
    first = errors[0] if errors else {"field": "body", "message": "Not valid."}
    return ApiProblem(
        422,
        f"{first['field']}: {first['message']}",
        title="The request is not valid",
        type_=VALIDATION,
        errors=errors,
    )


def _refused(exc: Exception) -> ApiProblem:
    return ApiProblem(409, str(exc))


@blp.route("")
@auth.requires(api_scopes.BULLETINS_READ)
@blp.arguments(schemas.BulletinListArgs, location="query")
@blp.response(200, schemas.BulletinPage)
def list_bulletins(args: dict[str, Any]) -> ResponseReturnValue:
    """Bulletins, oldest first, optionally only those in one state."""
    session = get_db().session
    after = paging.after_id(args["cursor"], kind="bulletins")
    limit, wanted = args["limit"], args["state"]
    items: list[dict[str, Any]] = []
    last = after
    more = False
    # The state is worked out per bulletin (its latest send), so a filtered page reads
    # on until it is full.
    while len(items) < limit:
        rows = session.scalars(
            select(Bulletin).where(Bulletin.id > last).order_by(Bulletin.id).limit(limit)
        ).all()
        if not rows:
            break
        for row in rows:
            if len(items) == limit:
                more = True
                break
            last = row.id
            data = represent(session, row)
            if wanted is None or data["state"] == wanted:
                items.append(data)
        else:
            more = len(rows) == limit
            continue
        break
    next_cursor = paging.encode(last, kind="bulletins") if more and items else None
    return {"items": items, "next_cursor": next_cursor}, 200, paging.next_link(next_cursor)


@blp.route("", methods=["POST"])
@auth.requires(api_scopes.BULLETINS_WRITE)
@blp.arguments(schemas.BulletinIn)
@blp.response(201, schemas.BulletinOut)
def create_bulletin(body: dict[str, Any]) -> ResponseReturnValue:
    """Write a draft bulletin (201, with its address in Location)."""
    db = get_db()
    draft = compose.Draft(
        kind=KIND_BULLETIN,
        template_id=body["template_id"],
        subject=body["subject"],
        preheader=body["preheader"],
        body_markdown=body["body_markdown"],
    )
    try:
        with db.transaction(db.session) as session:
            made = compose.create(session, draft, by=_writer(session))
            data = represent(session, made)
    except compose.BulletinInvalid as exc:
        raise _invalid(exc) from None
    location = url_for("api_bulletins.get_bulletin", bulletin_id=data["id"])
    return data, 201, {"Location": location, "ETag": _etag(data)}


@blp.route("/<int:bulletin_id>")
@auth.requires(api_scopes.BULLETINS_READ)
@blp.response(200, schemas.BulletinOut)
def get_bulletin(bulletin_id: int) -> ResponseReturnValue:
    """One bulletin and its sends (as ``mailer bulletin show --json``)."""
    session = get_db().session
    return represent(session, _find(session, bulletin_id))


def _etag(data: dict[str, Any]) -> str:
    """The tag a GET of the bulletin carries (etags.add_to), for If-Match."""
    return etags.tag(etags.served(schemas.BulletinOut(), data))


@blp.route("/<int:bulletin_id>", methods=["PATCH"])
@auth.requires(api_scopes.BULLETINS_WRITE)
@blp.arguments(schemas.BulletinPatch)
@blp.response(200, schemas.BulletinOut)
def patch_bulletin(body: dict[str, Any], bulletin_id: int) -> ResponseReturnValue:
    """Change a bulletin's words. Send ``If-Match`` with the ETag read, so someone
    else's change is not overwritten (412). An edit of a bulletin awaiting approval
    takes its send back to draft, as in the admin; once a send of it is approved its
    words are locked (409: copy it in the admin to change them)."""
    db = get_db()
    session = db.session
    bulletin = _find(session, bulletin_id)
    etags.check_if_match(etags.served(schemas.BulletinOut(), represent(session, bulletin)))
    if consultation_models.owner_of(session, bulletin.id) is not None:
        raise ApiProblem(409, "This is a consultation's message; edit it in the admin.")
    if locked := consultation_models.locked_reason(session, bulletin.id):
        raise ApiProblem(409, locked)
    draft = compose.Draft(
        kind=bulletin.kind,
        template_id=body.get("template_id", bulletin.template_id),
        subject=body.get("subject", bulletin.subject),
        preheader=body.get("preheader", bulletin.preheader),
        body_markdown=body.get("body_markdown", bulletin.body_markdown),
        link_documents=bulletin.link_documents,
        blocks=None,
    )
    try:
        with db.transaction(session) as s:
            by = _writer(s)
            edits.before_message_edit(s, bulletin)
            changed = compose.update(s, bulletin, draft, by=by)
            edits.message_changed(s, bulletin, changed=changed, by=by, now=clock())
    except compose.BulletinInvalid as exc:
        raise _invalid(exc) from None
    except edits.MessageLocked as exc:
        raise _refused(exc) from None
    data = represent(session, _find(session, bulletin_id))
    return data, 200, {"ETag": _etag(data)}


def _send_data(session: Session, send: Send, *, reachable: int | None = None) -> dict[str, Any]:
    data = read_models.send_json(session, send)
    data["bulletin_id"] = send.bulletin_id
    if reachable is None:
        reachable = audiences.summarise(
            session, audiences.Audience.from_json(send.audience), sample=0
        ).reachable
    data["reachable"] = reachable
    return data


@blp.route("/<int:bulletin_id>/schedule", methods=["POST"])
@auth.requires(api_scopes.BULLETINS_WRITE)
@blp.arguments(schemas.ScheduleIn)
@blp.response(201, schemas.ScheduledOut)
def schedule_bulletin(body: dict[str, Any], bulletin_id: int) -> ResponseReturnValue:
    """Submit the bulletin for approval to an audience at a time, as ``mailer bulletin
    schedule`` does: the answer is the send awaiting approval, with the time as the
    sending rules moved it (and why) and how many the audience reaches now."""
    db = get_db()
    session = db.session
    bulletin = _find(session, bulletin_id)
    try:
        with db.transaction(session) as s:
            by = _writer(s)
            audience = audiences.resolve(
                s,
                lists=body["lists"],
                organisation_types=body["organisation_types"],
                tags=body["tags"],
                areas=body["areas"],
                exclude_lists=body["exclude_lists"],
            )
            send = requests.request(
                s,
                bulletin,
                audience=audience,
                at=body["at"],  # without an offset: the office's (TimeIn)
                by=by,
                now=clock(),
                rules=planning.rules_for(s, _config()),
            )
            # As the admin's button: the step is kept and the approvers are told.
            send_reviews.submitted(
                s,
                send,
                bulletin,
                by=by,
                now=send.submitted_at or clock(),
                mailing=review_views.mailing(
                    "bulletin_sends.show", bulletin_id=bulletin.id, send_id=send.id
                ),
            )
            data = _send_data(s, send)
    except audiences.AudienceRefused as exc:
        raise ApiProblem(
            422,
            str(exc),
            title="The request is not valid",
            type_=VALIDATION,
            errors=[{"field": "audience", "message": str(exc)}],
        ) from None
    except requests.SendRefused as exc:
        raise _refused(exc) from None
    location = url_for("api_sends.get_send", send_id=data["id"])
    return data, 201, {"Location": location}


@blp.route("/<int:bulletin_id>/approve", methods=["POST"])
@auth.requires(api_scopes.BULLETINS_APPROVE)
@blp.arguments(schemas.ApproveIn)
@blp.response(200, schemas.ScheduledOut)
def approve_bulletin(body: dict[str, Any], bulletin_id: int) -> ResponseReturnValue:
    """Approve the bulletin's send awaiting approval. Only while ``[approval]
    two_person`` is off (403 otherwise: a person approves it in the admin); every other
    check of the admin's approval applies (``version``, if given, must be the content
    hash of what is approved)."""
    config = _config()
    if config.approval.two_person:
        raise ApiProblem(403, TWO_PERSON)
    db = get_db()
    session = db.session
    bulletin = _find(session, bulletin_id)
    try:
        with db.transaction(session) as s:
            by = _writer(s)
            send = requests.awaiting(s, bulletin)
            if send is None:
                raise requests.SendRefused(
                    "This bulletin has no send awaiting approval; schedule it first."
                )
            told = send_reviews.writers(s, send, bulletin)
            now = clock()
            approval.approve(
                s,
                send,
                by=by,
                now=now,
                rules=planning.rules_for(s, config),
                version=body["version"],
                two_person=config.approval.two_person,
                base_url=config.app.base_url,
                via=shared.VIA_API,
            )
            send_reviews.approved(
                s,
                send,
                by=by,
                now=now,
                told=told,
                mailing=review_views.mailing(
                    "bulletin_sends.show", bulletin_id=bulletin.id, send_id=send.id
                ),
            )
            data = _send_data(s, send)
    except requests.SendRefused as exc:
        raise _refused(exc) from None
    log.info("bulletin %s send %s approved by %s", bulletin_id, data["id"], auth.current().name)
    return data
