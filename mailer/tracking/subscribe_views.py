"""The standing sign-up page (no sign-in): ``/subscribe`` and its confirmation link.

The form answers alike for a new, a known and a suppressed address, and after the same
time (mailer.web.timing); a honeypot field catches software that fills in everything.
The confirmation link shows a button: opening it (as a mail scanner does) changes
nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from contacts import subscriptions, tokens
from mailer import public_urls
from mailer.database import get_db, utcnow
from mailer.organisation import service as organisation
from mailer.public_urls import PublicUrls
from mailer.tracking import limits, signups, subscribe
from mailer.web import timing

subscribe_bp = Blueprint("subscribe", __name__)


def _config() -> Any:
    return current_app.config["MAILER"]


def _keys() -> list[str]:
    return tokens.secret_keys(current_app.config)


def _private(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _form(*, status: int = 200, **extra: Any) -> BaseResponse:
    session = get_db().session
    response = Response(
        render_template(
            "public/subscribe.html",
            lists=subscriptions.choosable_lists(session),
            sender_name=organisation.get(session).name,
            **extra,
        ),
        status=status,
    )
    return _private(response)


@subscribe_bp.get(public_urls.SUBSCRIBE)
def subscribe_page() -> ResponseReturnValue:
    return _form()


@subscribe_bp.post(public_urls.SUBSCRIBE)
@timing.steady(timing.SIGN_UP_ANSWER_S)
def subscribe_form() -> ResponseReturnValue:
    if request.form.get("website", "").strip():
        # Software filling in every field: it looks accepted; nothing is kept or sent.
        return _form(done=True)
    db = get_db()
    session = db.session
    config = _config()
    now = utcnow()
    try:
        with db.transaction(session):
            lists = subscribe.chosen_lists(session, request.form.getlist("list"))
            org = organisation.get(session).snapshot()
            requested = subscribe.request(
                session,
                email=request.form.get("email", ""),
                name=request.form.get("name", ""),
                organisation=request.form.get("organisation", ""),
                lists=lists,
                keys=_keys(),
                now=now,
                network=limits.network_of(request.remote_addr),
            )
            if requested.token is not None:
                data = subscribe.confirmation(
                    config,
                    requested.pending,
                    lists=lists,
                    confirm_url=PublicUrls(config.app.base_url).subscribe_confirm(requested.token),
                    org=org,
                    now=now,
                )
                signups.queue_confirmation(
                    session,
                    sender=signups.envelope_sender(config),
                    recipient=requested.pending.email,
                    data=data,
                    now=now,
                )
    except signups.Refused as exc:
        return _form(
            status=400,
            error=str(exc),
            values=request.form,
            chosen=set(request.form.getlist("list")),
        )
    return _form(done=True)


def _pending(token: str) -> subscribe.Pending | None:
    try:
        return subscribe.open_sealed(token, keys=_keys(), now=utcnow())
    except LookupError:
        return None


def _confirm_page(token: str, *, done: bool, status: int = 200, **extra: Any) -> BaseResponse:
    session = get_db().session
    return _private(
        Response(
            render_template(
                "public/subscribe_confirm.html",
                token=token,
                done=done,
                sender_name=organisation.get(session).name,
                **extra,
            ),
            status=status,
        )
    )


@subscribe_bp.get(public_urls.SUBSCRIBE_CONFIRM)
def confirm_page(token: str) -> ResponseReturnValue:
    pending = _pending(token)
    if pending is None:
        return _confirm_page(token, done=False, gone=True, status=404)
    lists = subscribe.still_choosable(get_db().session, pending)
    return _confirm_page(token, done=False, pending=pending, lists=lists)


@subscribe_bp.post(public_urls.SUBSCRIBE_CONFIRM)
def confirm(token: str) -> ResponseReturnValue:
    pending = _pending(token)
    if pending is None:
        return _confirm_page(token, done=False, gone=True, status=404)
    db = get_db()
    with db.transaction(db.session) as session:
        lists = subscribe.still_choosable(session, pending)
        subscribe.confirm(session, pending, now=utcnow())
    # The same answer whether or not the address was suppressed meanwhile.
    return _confirm_page(token, done=True, pending=pending, lists=lists)
