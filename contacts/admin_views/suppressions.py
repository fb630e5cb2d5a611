"""The admin's suppression list: every address that is never mailed, and lifting one
(admins only, audited)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from contacts import directory
from contacts.models import Suppression
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, requires
from mailer.database import get_db
from mailer.web import paging

suppressions_bp = Blueprint("suppressions", __name__, url_prefix="/admin/suppressions")


@suppressions_bp.get("/")
def suppressions_index() -> ResponseReturnValue:
    rows, total = directory.suppressions(get_db().session, page=paging.page_number())
    page = paging.within(paging.page_number(), total, directory.PER_PAGE)
    return render_template(
        "admin/suppressions.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // directory.PER_PAGE)),
    )


@suppressions_bp.post("/<int:entry_id>/remove")
@requires(Action.REMOVE_SUPPRESSION)
def suppressions_remove(entry_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            entry = s.get(Suppression, entry_id) or abort(404)
            directory.remove_suppression(s, entry, by=acting_user())
    except directory.NotLiftable as exc:
        flash(str(exc), "error")
        return redirect(url_for("suppressions.suppressions_index"))
    flash("Suppression removed: this address can be mailed again.", "success")
    return redirect(url_for("suppressions.suppressions_index"))
