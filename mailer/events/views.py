"""The admin's webhook pages: endpoints, their secret, a test event, the delivery log.

Admins only (``Action.MANAGE_WEBHOOKS``): an endpoint receives stakeholders' addresses,
and its secret lets whoever holds it speak as this product. Every change is audited by
the services in ``mailer/events/endpoints.py``; these views read the form and render.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from mailer.accounts.roles import Action
from mailer.accounts.second_factors.sealing import KeyRing, SealBroken
from mailer.admin.guards import acting_user, requires
from mailer.audit import actions, record
from mailer.config import Config
from mailer.database import get_db
from mailer.events import catalogue, delivery_log, endpoints
from mailer.events.models import WebhookEndpoint, WebhookMessage
from mailer.instance import secret_key
from mailer.web.security import clock

webhook_admin_bp = Blueprint("outgoing_webhooks", __name__, url_prefix="/admin/webhooks")


def _config() -> Config:
    config: Config = current_app.config["MAILER"]
    return config


def _ring() -> KeyRing:
    config = _config()
    return KeyRing.of(secret_key(config), config.app.old_secret_keys)


def _endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _form() -> endpoints.EndpointForm:
    return endpoints.EndpointForm(
        name=request.form.get("name", ""),
        url=request.form.get("url", ""),
        events=tuple(request.form.getlist("events")),
    )


def _form_page(
    form: endpoints.EndpointForm,
    *,
    endpoint: WebhookEndpoint | None = None,
    errors: dict[str, str] | None = None,
) -> tuple[str, int]:
    return render_template(
        "admin/webhooks/form.html",
        form=form,
        endpoint=endpoint,
        errors=errors or {},
        events=catalogue.EVENTS,
    ), 400 if errors else 200


@webhook_admin_bp.get("/")
@requires(Action.MANAGE_WEBHOOKS)
def index() -> ResponseReturnValue:
    return render_template(
        "admin/webhooks/index.html", overviews=delivery_log.overviews(get_db().session)
    )


@webhook_admin_bp.route("/new", methods=["GET", "POST"])
@requires(Action.MANAGE_WEBHOOKS)
def new() -> ResponseReturnValue:
    if request.method == "GET":
        return _form_page(endpoints.EndpointForm(name="", url="", events=()))
    db = get_db()
    form = _form()
    try:
        with db.transaction(db.session) as session:
            endpoint = endpoints.create(
                session, form, settings=_config().webhooks, ring=_ring(),
                by=acting_user(session), now=clock(),
            )  # fmt: skip
    except endpoints.EndpointRefused as refused:
        return _form_page(form, errors=refused.errors)
    flash(
        f"Added the endpoint \u201c{endpoint.name}\u201d. Its signing secret is below.", "success"
    )
    return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint.id, _anchor="secret"))


@webhook_admin_bp.get("/<int:endpoint_id>")
@requires(Action.MANAGE_WEBHOOKS)
def show(endpoint_id: int) -> ResponseReturnValue:
    return _show_page(endpoint_id)


def _show_page(endpoint_id: int, *, secret: str | None = None) -> str:
    session = get_db().session
    endpoint = _endpoint(session, endpoint_id)
    return render_template(
        "admin/webhooks/show.html",
        overview=delivery_log.overview(session, endpoint),
        endpoint=endpoint,
        entries=delivery_log.entries(session, endpoint.id),
        events=catalogue.EVENTS,
        secret=secret,
    )


@webhook_admin_bp.route("/<int:endpoint_id>/edit", methods=["GET", "POST"])
@requires(Action.MANAGE_WEBHOOKS)
def edit(endpoint_id: int) -> ResponseReturnValue:
    db = get_db()
    endpoint = _endpoint(db.session, endpoint_id)
    if request.method == "GET":
        current = endpoints.EndpointForm(
            name=endpoint.name, url=endpoint.url, events=tuple(endpoint.events.split())
        )
        return _form_page(current, endpoint=endpoint)
    form = _form()
    try:
        with db.transaction(db.session) as session:
            endpoints.change(
                session, endpoint, form, settings=_config().webhooks, by=acting_user(session)
            )
    except endpoints.EndpointRefused as refused:
        return _form_page(form, endpoint=endpoint, errors=refused.errors)
    flash("Saved.", "success")
    return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id))


@webhook_admin_bp.post("/<int:endpoint_id>/secret")
@requires(Action.MANAGE_WEBHOOKS)
def reveal_secret(endpoint_id: int) -> ResponseReturnValue:
    """Shown in this response only, on purpose (a POST, audited): never in a link."""
    db = get_db()
    with db.transaction(db.session) as session:
        endpoint = _endpoint(session, endpoint_id)
        try:
            secret = endpoints.secret_of(endpoint, _ring())
        except SealBroken:
            secret = ""
        record(
            session,
            actions.WEBHOOK_SECRET_SHOWN,
            actor=acting_user(session),
            target_type="webhook_endpoint",
            target_id=endpoint.id,
            summary=f"Signing secret of webhook endpoint \u201c{endpoint.name}\u201d shown",
        )
    if not secret:
        flash("The secret cannot be opened (the app's secret key changed): rotate it.", "error")
    return _show_page(endpoint_id, secret=secret or None), 200, {"Cache-Control": "no-store"}


@webhook_admin_bp.post("/<int:endpoint_id>/secret/rotate")
@requires(Action.MANAGE_WEBHOOKS)
def rotate_secret(endpoint_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as session:
        endpoints.rotate_secret(
            session, _endpoint(session, endpoint_id), ring=_ring(), by=acting_user(session)
        )
    flash(
        "A new signing secret was made; messages from now on are signed with it. "
        "Show it and give it to the receiving system.",
        "success",
    )
    return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id, _anchor="secret"))


@webhook_admin_bp.post("/<int:endpoint_id>/enable")
@requires(Action.MANAGE_WEBHOOKS)
def enable(endpoint_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as session:
        endpoints.enable(session, _endpoint(session, endpoint_id), by=acting_user(session))
    flash("Switched on. Events from now on are sent to it.", "success")
    return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id))


@webhook_admin_bp.post("/<int:endpoint_id>/disable")
@requires(Action.MANAGE_WEBHOOKS)
def disable(endpoint_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as session:
        endpoint = _endpoint(session, endpoint_id)
        if endpoint.enabled:
            user = acting_user(session)
            endpoints.disable(
                session, endpoint, reason=f"switched off by {user.email}", now=clock(), by=user
            )
    flash("Switched off. Waiting events were given up; new ones are not sent.", "success")
    return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id))


@webhook_admin_bp.route("/<int:endpoint_id>/delete", methods=["GET", "POST"])
@requires(Action.MANAGE_WEBHOOKS)
def delete(endpoint_id: int) -> ResponseReturnValue:
    db = get_db()
    endpoint = _endpoint(db.session, endpoint_id)
    if request.method == "GET":
        return render_template("admin/webhooks/delete.html", endpoint=endpoint)
    name = endpoint.name
    with db.transaction(db.session) as session:
        endpoints.delete(session, endpoint, by=acting_user(session))
    flash(f"Deleted the endpoint \u201c{name}\u201d and its delivery log.", "success")
    return redirect(url_for("outgoing_webhooks.index"))


@webhook_admin_bp.post("/<int:endpoint_id>/test")
@requires(Action.MANAGE_WEBHOOKS)
def send_test(endpoint_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            endpoints.send_test(
                session, _endpoint(session, endpoint_id), by=acting_user(session), now=clock()
            )
    except endpoints.SwitchedOff as exc:
        flash(str(exc), "error")
        return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id))
    flash("A test event is queued; the log below shows its answer within a few seconds.", "success")
    return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id, _anchor="log"))


@webhook_admin_bp.post("/<int:endpoint_id>/messages/<int:message_id>/retry")
@requires(Action.MANAGE_WEBHOOKS)
def retry(endpoint_id: int, message_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            message = session.get(WebhookMessage, message_id)
            if message is None or message.endpoint_id != endpoint_id:
                abort(404)
            endpoints.retry_now(session, message, by=acting_user(session), now=clock())
    except endpoints.SwitchedOff as exc:
        flash(str(exc), "error")  # at the top of the page: not scrolled past to the log
        return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id))
    flash("The message will be tried again within a few seconds.", "success")
    return redirect(url_for("outgoing_webhooks.show", endpoint_id=endpoint_id, _anchor="log"))
