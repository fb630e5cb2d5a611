"""Telling a user by email that their own sign-in changed, from the views that change
it (the authenticator app, recovery codes, passkeys): the browser and network are this
request's, the email is queued in the view's transaction."""

from __future__ import annotations

from flask import current_app, request, url_for
from sqlalchemy.orm import Session

from mailer.accounts.models import User
from mailer.admin.guards import client_ip
from mailer.delivery import factor_change_notice
from mailer.web.security import clock


def tell(s: Session, user: User, what: str, *, name: str = "") -> None:
    config = current_app.config["MAILER"]
    factor_change_notice.tell(
        s,
        config,
        user,
        factor_change_notice.Change(
            what=what, user_agent=request.user_agent.string, ip=client_ip(), name=name
        ),
        security_url=config.app.base_url.rstrip("/") + url_for("security.index"),
        now=clock(),
    )
