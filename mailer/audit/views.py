from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from mailer.accounts import service as accounts
from mailer.admin.guards import requires
from mailer.audit import service
from mailer.audit.actions import LABELS
from mailer.database import get_db
from mailer.web import inputs, paging

audit_bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50


@audit_bp.get("/")
@requires("can_read_audit")
def index() -> ResponseReturnValue:
    db = get_db()
    page = paging.page_number()
    action = request.args.get("action") or None
    if action not in LABELS:
        action = None
    actor_id = inputs.id_arg("actor")
    entries, total = service.page(
        db.session, page=page, per_page=PER_PAGE, action=action, actor_id=actor_id
    )
    pages = paging.pages(total, PER_PAGE)
    page = paging.within(page, total, PER_PAGE)
    return render_template(
        "admin/audit.html",
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        action=action,
        actor_id=actor_id,
        labels=LABELS,
        users=accounts.list_users(db.session),
    )
