"""``/admin/api-keys/``: the keys other systems call the API with (admins only).

Made here with a name, scopes and an optional expiry, the key is shown once on the
page that answers the form, never again; revoking takes a confirmed POST. Both are
audited (mailer/accounts/api_keys.py records them)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from mailer.accounts import api_keys, api_scopes
from mailer.accounts.models import ApiKey
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, client_ip, requires
from mailer.database import get_db
from mailer.web.security import clock

api_keys_bp = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys")

NAME_MAX = 100


class RevokeForm(FlaskForm):
    """Only the CSRF token: the key is in the address."""


@api_keys_bp.get("/")
@requires(Action.MANAGE_API_KEYS)
def index() -> ResponseReturnValue:
    return _page()


def _page(
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, object] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = get_db().session
    keys = api_keys.listing(session)
    return render_template(
        "admin/api_keys/index.html",
        keys=keys,
        creators=api_keys.creators(session, keys),
        now=clock(),
        scopes=api_scopes.SCOPES,
        errors=errors or {},
        typed=typed or {"name": "", "scopes": [], "expires": ""},
        revoke_form=RevokeForm(),
        reference_url=url_for("api_reference.page"),
    ), status


@api_keys_bp.post("/")
@requires(Action.MANAGE_API_KEYS)
def create() -> ResponseReturnValue:
    form = RevokeForm()  # checks the CSRF token
    if not form.validate_on_submit():
        abort(400)
    name = request.form.get("name", "").strip()
    scopes = [s for s in request.form.getlist("scopes") if s]
    expires = request.form.get("expires", "").strip()
    typed: dict[str, object] = {"name": name, "scopes": scopes, "expires": expires}
    errors = _check(name, scopes)
    zone = current_app.config["MAILER"].app.tz
    now = clock()
    expires_at = None
    try:
        expires_at = api_keys.parse_expiry(expires, now=now, zone=zone)
    except api_keys.ApiKeyRefused as exc:
        errors["expires"] = str(exc)
    if errors:
        return _page(errors=errors, typed=typed, status=400)
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            made = api_keys.create(
                s,
                name=name,
                scopes=scopes,
                expires_at=expires_at,
                created_by=acting_user(s),
                now=now,
                ip=client_ip(),
            )
            shown = {"name": made.key.name, "scopes": made.key.scopes.split()}
    except api_keys.ApiKeyRefused as exc:
        field = "expires" if "expiry" in str(exc) else "name"
        if "scope" in str(exc):
            field = "scopes"
        return _page(errors={field: str(exc)}, typed=typed, status=400)
    # Shown once, in this response only (never in a cookie, a flash or a log).
    response = current_app.make_response(
        render_template(
            "admin/api_keys/created.html",
            key=shown,
            secret=made.secret,
            expires_at=expires_at,
            reference_url=url_for("api_reference.page"),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@api_keys_bp.post("/<int:key_id>/revoke")
@requires(Action.MANAGE_API_KEYS)
def revoke(key_id: int) -> ResponseReturnValue:
    form = RevokeForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_db()
    with db.transaction(db.session) as s:
        key = _key_or_404(s, key_id)
        name = key.name
        done = api_keys.revoke(s, key, by=acting_user(s), now=clock(), ip=client_ip())
    if done:
        flash(f"The key “{name}” is revoked: it no longer works.", "success")
    else:
        flash(f"The key “{name}” was already revoked.", "info")
    return redirect(url_for("api_keys.index"))


def _check(name: str, scopes: list[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the key a name: the system that will use it."
    elif len(name) > NAME_MAX:
        errors["name"] = f"A key's name can be at most {NAME_MAX} characters."
    if not scopes:
        errors["scopes"] = "Choose at least one thing the key may do."
    elif api_scopes.unknown(scopes):
        errors["scopes"] = "Choose from the list."
    return errors


def _key_or_404(s: Session, key_id: int) -> ApiKey:
    key = s.get(ApiKey, key_id)
    if key is None:
        abort(404)
    return key
