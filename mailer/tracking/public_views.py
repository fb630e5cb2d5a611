"""Public pages and links (no sign-in): ``/r/<token>``, ``/s/<code>``, the public
consultation page with its two forms, and the sign-up confirmation.

Every redirect goes to an address the product wrote (a stored link's target, or the
consultation page); an unknown or altered token or code is a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from mailer import public_urls
from mailer.database import get_db, utcnow
from mailer.delivery.models import LINK_SURVEY, ShareCode, TrackedLink
from mailer.organisation import service as organisation
from mailer.public_urls import PublicUrls
from mailer.tracking import bots, completions, limits, links, signups
from mailer.tracking.models import CHANNELS
from mailer.web import timing
from scheduler.consultations import read_models
from scheduler.models import CANCELLED, CLOSED, SCHEDULED, Consultation

log = logging.getLogger(__name__)
public_bp = Blueprint("public", __name__)

CODE_MAX = 24


def _config() -> Any:
    return current_app.config["MAILER"]


def _no_store(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _code(session: Any, code: str | None, consultation_id: int | None = None) -> ShareCode | None:
    if not code or len(code) > CODE_MAX:
        return None
    query = select(ShareCode).where(ShareCode.code == code)
    if consultation_id is not None:
        query = query.where(ShareCode.consultation_id == consultation_id)
    return session.scalar(query)


def counting() -> bool:
    """Whether this hit is a person's (not a scanner's), when tracking is on."""
    return _config().tracking.links and bots.is_person(
        method=request.method,
        user_agent=request.headers.get("User-Agent", ""),
        # Address, browser and language together: people behind one office's NAT
        # still count as themselves.
        visitor=" ".join(
            (
                request.remote_addr or "",
                request.headers.get("User-Agent", ""),
                request.headers.get("Accept-Language", ""),
            )
        ),
        target=request.path,
    )


@public_bp.route(public_urls.FOLLOW, methods=["GET", "HEAD"])
@public_bp.route(public_urls.FOLLOW_VIA, methods=["GET", "HEAD"])
def follow(token: str, code: str | None = None) -> ResponseReturnValue:
    db = get_db()
    if len(token) > CODE_MAX:
        abort(404)
    # A click writes a count: on SQLite, an immediate transaction (Database.writing), so
    # it waits for the workers' writes instead of failing beside them.
    with db.writing() as session:
        link = session.scalar(select(TrackedLink).where(TrackedLink.token == token))
        if link is None:
            abort(404)
        person = None
        via = None
        if link.consultation_id is None:
            # A link in a bulletin sent on its own: no share codes, so none is credited,
            # and a personal form of it was never written.
            if code is not None:
                abort(404)
        else:
            if code is not None:
                personal = _code(session, code, link.consultation_id)
                if personal is None:
                    abort(404)
                person = personal.contact_id if _config().tracking.per_person else None
            # The page's own links say which share link brought the visitor.
            via = _code(session, request.args.get("via"), link.consultation_id)
        if counting():
            links.count_click(session, link, day=utcnow().date(), via=via, person=person)
        target = link.target
        if via is not None and link.kind == LINK_SURVEY:
            # The survey tool may hand it back when the response is finished (/c/).
            target = completions.survey_target(target, via.code)
    return _no_store(redirect(target, 302))


@public_bp.route(public_urls.SHARE, methods=["GET", "HEAD"])
def share(code: str) -> ResponseReturnValue:
    db = get_db()
    with db.writing() as session:
        found = _code(session, code)
        if found is None:
            abort(404)
        consultation = session.get(Consultation, found.consultation_id)
        if consultation is None:
            abort(404)
        if counting():
            links.count_visit(session, found, day=utcnow().date())
        slug = consultation.slug
    return _no_store(redirect(url_for("public.consultation_page", slug=slug, via=code), 302))


@public_bp.get(public_urls.SHARED)
def shared_form(code: str) -> ResponseReturnValue:
    """The "tell us you shared this" link in a stakeholder's message."""
    session = get_db().session
    found = _code(session, code)
    if found is None:
        abort(404)
    consultation = session.get(Consultation, found.consultation_id)
    if consultation is None:
        abort(404)
    target = url_for("public.consultation_page", slug=consultation.slug, sharer=code)
    return _no_store(redirect(target + "#shared", 302))


def _published(session: Any, slug: str) -> Consultation:
    # Drafts are not public: only what an approver let out is.
    consultation = session.scalar(
        select(Consultation).where(Consultation.slug == slug, read_models.public_condition())
    )
    if consultation is None:
        abort(404)
    return consultation


def _page(
    consultation: Consultation,
    *,
    via: ShareCode | None,
    sharer: ShareCode | None,
    status: int = 200,
    **extra: Any,
) -> ResponseReturnValue:
    session = get_db().session
    now = utcnow()
    config = _config()
    survey = consultation.survey_url
    tracked = session.scalar(
        select(TrackedLink).where(
            TrackedLink.consultation_id == consultation.id,
            TrackedLink.send_id.is_(None),
            TrackedLink.kind == LINK_SURVEY,
            TrackedLink.target == consultation.survey_url,
        )
    )
    if tracked is not None and config.tracking.links:
        survey = url_for("public.follow", token=tracked.token, via=via.code if via else None)
    phase = consultation.phase(now)
    org = organisation.get(session)
    response = render_template(
        "public/consultation.html",
        consultation=consultation,
        phase=phase,
        survey=survey,
        via=via,
        sharer=sharer,
        channels=CHANNELS,
        max_reach=signups.MAX_REACH,
        now=now,
        org=org,
        sender_name=org.name,
        states={"scheduled": SCHEDULED, "closed": CLOSED, "cancelled": CANCELLED},
        **extra,
    )
    return _no_store(Response(response, status=status))


@public_bp.get(public_urls.CONSULTATION)
def consultation_page(slug: str) -> ResponseReturnValue:
    session = get_db().session
    consultation = _published(session, slug)
    via = _code(session, request.args.get("via"), consultation.id)
    sharer = _code(session, request.args.get("sharer"), consultation.id)
    return _page(consultation, via=via, sharer=sharer)


def _honeypot() -> bool:
    # A field people cannot see; software that fills in every field fills it in.
    return bool(request.form.get("website", "").strip())


@public_bp.post(public_urls.CONSULTATION_REGISTER)
@timing.steady(timing.SIGN_UP_ANSWER_S)
def register(slug: str) -> ResponseReturnValue:
    db = get_db()
    session = db.session
    consultation = _published(session, slug)
    via = _code(session, request.form.get("via"), consultation.id)
    if _honeypot():
        return _page(consultation, via=via, sharer=None, registered=True)
    config = _config()
    if consultation.phase(utcnow()) == CANCELLED:
        abort(404)
    try:
        with db.transaction(session):
            requested = signups.request_sign_up(
                session,
                consultation,
                email=request.form.get("email", ""),
                name=request.form.get("name", ""),
                via=via,
                now=utcnow(),
                network=limits.network_of(request.remote_addr),
            )
            if requested.sign_up is not None:
                confirm_url = PublicUrls(config.app.base_url).consultation_confirm(
                    slug, requested.sign_up.token
                )
                data = signups.confirmation_message(
                    config,
                    consultation,
                    requested.sign_up,
                    confirm_url=confirm_url,
                    org=organisation.get(session).snapshot(),
                )
                signups.queue_confirmation(
                    session,
                    sender=signups.envelope_sender(config),
                    recipient=requested.sign_up.email,
                    data=data,
                    now=utcnow(),
                )
    except signups.Refused as exc:
        return _page(
            consultation,
            via=via,
            sharer=None,
            status=400,
            register_error=str(exc),
            register_values=request.form,
        )
    return _page(consultation, via=via, sharer=None, registered=True)


@public_bp.get(public_urls.CONSULTATION_CONFIRM)
def confirm_page(slug: str, token: str) -> ResponseReturnValue:
    session = get_db().session
    consultation = _published(session, slug)
    try:
        sign_up = signups.pending(session, consultation, token, utcnow())
    except LookupError:
        abort(404)
    # Mail scanners open links: confirming needs the button, not the visit.
    return _no_store(
        Response(
            render_template(
                "public/confirm.html",
                consultation=consultation,
                sign_up=sign_up,
                token=token,
                done=sign_up.confirmed_at is not None,
                sender_name=organisation.get(session).name,
            )
        )
    )


@public_bp.post(public_urls.CONSULTATION_CONFIRM)
def confirm(slug: str, token: str) -> ResponseReturnValue:
    db = get_db()
    session = db.session
    consultation = _published(session, slug)
    with db.transaction(session):
        try:
            sign_up = signups.pending(session, consultation, token, utcnow())
        except LookupError:
            abort(404)
        signups.confirm(session, consultation, sign_up, now=utcnow())
    return _no_store(
        Response(
            render_template(
                "public/confirm.html",
                consultation=consultation,
                sign_up=sign_up,
                token=token,
                done=True,
                sender_name=organisation.get(session).name,
            )
        )
    )


@public_bp.post(public_urls.CONSULTATION_SHARED)
def shared(slug: str) -> ResponseReturnValue:
    db = get_db()
    session = db.session
    consultation = _published(session, slug)
    sharer = _code(session, request.form.get("sharer"), consultation.id)
    via = _code(session, request.form.get("via"), consultation.id)
    if _honeypot():
        return _page(consultation, via=via, sharer=sharer, thanked=True)
    try:
        with db.transaction(session):
            signups.record_shared(
                session,
                consultation,
                sharer=sharer,
                channel=request.form.get("channel", ""),
                reach=request.form.get("reach", ""),
                note=request.form.get("note", ""),
                now=utcnow(),
                network=limits.network_of(request.remote_addr),
            )
    except signups.Refused as exc:
        return _page(
            consultation,
            via=via,
            sharer=sharer,
            status=400,
            shared_error=str(exc),
            shared_values=request.form,
        )
    return _page(consultation, via=via, sharer=sharer, thanked=True)
