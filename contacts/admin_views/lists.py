"""The admin's lists pages: every list with its count, a new list, and one list's
members (add by address, remove)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from contacts import directory
from contacts.models import ContactList
from mailer.admin.guards import acting_user, requires
from mailer.database import get_db
from mailer.web import paging

lists_bp = Blueprint("lists", __name__, url_prefix="/admin/lists")


@lists_bp.get("/")
def lists_index() -> ResponseReturnValue:
    return render_template(
        "admin/lists/index.html", rows=directory.lists_with_counts(get_db().session), error=None
    )


@lists_bp.post("/")
@requires("can_edit")
def lists_create() -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            lst = directory.create_list(
                s,
                name=request.form.get("name", ""),
                description=request.form.get("description", ""),
                choosable=request.form.get("choosable") == "yes",
                by=acting_user(),
            )
    except directory.DirectoryError as exc:
        return render_template(
            "admin/lists/index.html", rows=directory.lists_with_counts(db.session), error=str(exc)
        ), 400
    flash(f"List {lst.name!r} created.", "success")
    return redirect(url_for("lists.lists_show", list_id=lst.id))


@lists_bp.get("/<int:list_id>")
def lists_show(list_id: int) -> ResponseReturnValue:
    session = get_db().session
    lst = session.get(ContactList, list_id) or abort(404)
    page = directory.search(
        session,
        directory.ContactFilter(list_id=lst.id),
        page=paging.page_number(),
    )
    return render_template("admin/lists/show.html", lst=lst, page=page)


@lists_bp.post("/<int:list_id>/members")
@requires("can_edit")
def lists_members(list_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as s:
        lst = s.get(ContactList, list_id) or abort(404)
        if request.form.get("action") == "remove":
            ids = [int(v) for v in request.form.getlist("contact") if v.isdigit()]
            removed = directory.bulk_remove(s, lst, contact_ids=ids, by=acting_user())
            flash(f"Removed {removed} contact(s) from {lst.name}.", "success")
        else:
            added, missing = directory.bulk_add(
                s, lst, addresses=request.form.get("addresses", ""), by=acting_user()
            )
            flash(f"Added {added} contact(s) to {lst.name}.", "success")
            if missing:
                flash(
                    f"Not contacts yet (import or add them first): {', '.join(missing[:20])}"
                    f"{' …' if len(missing) > 20 else ''}",
                    "error",
                )
    return redirect(url_for("lists.lists_show", list_id=list_id))
