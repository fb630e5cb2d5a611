"""Sign-in and sign-out, the users page (admins) and each user's own account page."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import methods, passwords, policy, sessions
from mailer.accounts import service as accounts
from mailer.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    LogoutForm,
    NewUserForm,
    UserRoleForm,
    UserStatusForm,
)
from mailer.accounts.models import User
from mailer.accounts.roles import LABELS as ROLE_LABELS
from mailer.accounts.second_factors import factors
from mailer.accounts.sso import oidc
from mailer.admin.guards import acting_user, client_ip, requires
from mailer.audit import actions
from mailer.database import get_db
from mailer.web import sign_in
from mailer.web.redirects import safe_admin_path
from mailer.web.security import SESSION_KEY, clock, why_signed_out

log = logging.getLogger(__name__)

auth_bp = Blueprint("auth", __name__)
users_bp = Blueprint("users", __name__, url_prefix="/admin/users")
account_bp = Blueprint("account", __name__, url_prefix="/admin/account")


# --- sign-in ----------------------------------------------------------------------------


@auth_bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_admin_path(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or url_for("admin.dashboard"))
        signed_out = why_signed_out()
        if signed_out:
            flash(signed_out, "info")
    error = None
    status = 200
    if form.validate_on_submit():
        db = get_db()
        oidc_config = current_app.config["MAILER"].oidc
        typed = accounts.email_key(form.email.data or "")
        passwords_off = oidc_config is not None and oidc_config.only
        if oidc_config is not None and not policy.passwords_allowed(oidc_config, typed):
            # [oidc] only: the password is not checked, for all but break_glass; the
            # answer takes as long and reads the same as break_glass's wrong password,
            # so it does not tell which address that is.
            accounts.spend_a_password_check(form.password.data or "")
            with db.transaction(db.session) as s:
                oidc.record_password_refused(s, email=form.email.data or "", ip=client_ip())
            error = oidc.passwords_off_words(oidc_config)
            return render_template("auth/login.html", form=form, error=error), 403
        with sign_in.brake(db) as admitted:
            if not admitted:
                error = sign_in.BRAKED
                return render_template("auth/login.html", form=form, error=error), 429
            now = clock()
            ip = client_ip()
            key = None
            with db.transaction(db.session) as s:
                result = accounts.authenticate(
                    s,
                    email=form.email.data or "",
                    password=form.password.data or "",
                    ip=ip,
                    now=now,
                )
                user = result.user
                second_factor = user is not None and factors.has_any(s, user.id)
                if user is not None and not second_factor:
                    key = sign_in.record(s, user, method=methods.PASSWORD, ip=ip, now=now)
            if user is not None and second_factor:
                sign_in.hold_for_second_factor(user, now=now, next_path=form.next.data or "")
                return redirect(url_for("second_factor.index"))
            if user is not None and key is not None:
                return sign_in.complete(user, key, next_path=form.next.data or "")
            if result.retry_at is not None:
                minutes = max(1, round((result.retry_at - now).total_seconds() / 60))
                error = (
                    f"Too many failed sign-in attempts from here. Wait {minutes} minute"
                    f"{'s' if minutes != 1 else ''} and try again."
                )
                status = 429
            elif passwords_off and oidc_config is not None:
                error = oidc.passwords_off_words(oidc_config)
                status = 403
            else:
                error = "That email address and password do not match an active account."
                status = 401
    elif request.method == "POST":
        error = "Enter your email address and password."
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


@auth_bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        db = get_db()
        with db.transaction(db.session) as s:
            audit.record(
                s,
                actions.LOGOUT,
                actor=acting_user(s),
                target_type="user",
                target_id=current_user.id,
                summary="Signed out",
                ip=client_ip(),
            )
            # Ended on the server too: a copy of this cookie signs nobody in.
            sessions.end(s, session.get(SESSION_KEY), now=clock())
        logout_user()
        session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


# --- users (admins only) ----------------------------------------------------------------


@users_bp.get("/")
@requires("can_manage_users")
def index() -> ResponseReturnValue:
    return _users_page(NewUserForm())


def _users_page(new_form: NewUserForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/users/index.html",
        users=accounts.list_users(get_db().session),
        new_form=new_form,
        role_labels=ROLE_LABELS,
        status_form=UserStatusForm(),
    ), status


@users_bp.post("/")
@requires("can_manage_users")
def create() -> ResponseReturnValue:
    form = NewUserForm()
    db = get_db()
    if not form.validate_on_submit():
        return _users_page(form, 400)
    generated = not form.password.data
    password = form.password.data or _generate_password()
    try:
        with db.transaction(db.session) as s:
            user = accounts.create_user(
                s,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                password=password,
                by=acting_user(s),
                ip=client_ip(),
            )
    except accounts.AccountError as exc:
        form.form_errors.append(str(exc))
        return _users_page(form, 400)
    if generated:
        # Shown once, in this response only (never in a cookie or a flash message).
        return render_template("admin/users/created.html", user=user, password=password)
    flash(f"Added {user.email} as {user.role}.", "success")
    return redirect(url_for("users.index"))


@users_bp.post("/<int:user_id>/role")
@requires("can_manage_users")
def change_role(user_id: int) -> ResponseReturnValue:
    form = UserRoleForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            user = _user_or_404(s, user_id)
            accounts.change_role(
                s, user, role=form.role.data or "", by=acting_user(s), ip=client_ip()
            )
        flash(f"{user.email} is now {roles_label(user.role)}.", "success")
    except accounts.AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("users.index"))


@users_bp.post("/<int:user_id>/status")
@requires("can_manage_users")
def change_status(user_id: int) -> ResponseReturnValue:
    form = UserStatusForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            user = _user_or_404(s, user_id)
            accounts.set_active(s, user, active=active, by=acting_user(s), ip=client_ip())
        flash(f"{user.email} is now {'enabled' if active else 'disabled'}.", "success")
    except accounts.AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("users.index"))


# --- one's own account ------------------------------------------------------------------


@account_bp.route("/", methods=["GET", "POST"])
def index_own() -> ResponseReturnValue:
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        db = get_db()
        try:
            with db.transaction(db.session) as s:
                me = acting_user(s)
                accounts.change_password(
                    s,
                    me,
                    current=form.current.data or "",
                    new=form.new.data or "",
                    ip=client_ip(),
                    keep_session=session.get(SESSION_KEY),
                    now=clock(),
                )
            # The new session token signed every browser out; keep this one signed in.
            login_user(me)
            flash("Your password has been changed. Other browsers have been signed out.", "success")
            return redirect(url_for("account.index_own"))
        except accounts.AccountError as exc:
            form.form_errors.append(str(exc))
            status = 400
    elif request.method == "POST":
        status = 400
    return render_template("admin/account.html", form=form), status


# --- helpers ----------------------------------------------------------------------------


def _user_or_404(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        abort(404)
    return user


def roles_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def _generate_password() -> str:
    return passwords.generate()


__all__ = ["account_bp", "auth_bp", "users_bp"]
