"""The admin's organisation types: the kinds of organisation a contact can belong to,
added, renamed, put in order and removed (their contacts moved to another type)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from contacts import organisation_types
from contacts.models import OrganisationType
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, requires
from mailer.database import get_db
from mailer.web import inputs

types_bp = Blueprint("organisation_types", __name__, url_prefix="/admin/organisation-types")


def _types_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "admin/organisation_types.html",
        rows=organisation_types.with_counts(get_db().session),
        error=error,
    ), status


@types_bp.get("/")
def types_index() -> ResponseReturnValue:
    return _types_page()


@types_bp.post("/")
@requires("can_edit")
def types_add() -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            kind = organisation_types.add(s, name=request.form.get("name", ""), by=acting_user())
    except organisation_types.OrganisationTypeError as exc:
        return _types_page(str(exc), 400)
    flash(f"Organisation type {kind.name!r} added.", "success")
    return redirect(url_for("organisation_types.types_index"))


@types_bp.post("/<int:type_id>/rename")
@requires("can_edit")
def types_rename(type_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            kind = s.get(OrganisationType, type_id) or abort(404)
            organisation_types.rename(s, kind, name=request.form.get("name", ""), by=acting_user())
    except organisation_types.OrganisationTypeError as exc:
        return _types_page(str(exc), 400)
    flash(f"Renamed to {kind.name!r}.", "success")
    return redirect(url_for("organisation_types.types_index"))


@types_bp.post("/<int:type_id>/move")
@requires("can_edit")
def types_move(type_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as s:
        kind = s.get(OrganisationType, type_id) or abort(404)
        organisation_types.move(
            s, kind, direction=request.form.get("direction", ""), by=acting_user()
        )
    return redirect(url_for("organisation_types.types_index"))


@types_bp.post("/<int:type_id>/remove")
@requires(Action.REMOVE_ORGANISATION_TYPE)
def types_remove(type_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            kind = s.get(OrganisationType, type_id) or abort(404)
            name = kind.name
            moved, move_to = organisation_types.remove(
                s, kind, move_to_id=inputs.id_arg("move_to", request.form), by=acting_user()
            )
    except organisation_types.OrganisationTypeError as exc:
        return _types_page(str(exc), 400)
    flash(
        f"Organisation type {name!r} removed; {moved} contact(s) now "
        + (f"have {move_to.name!r}." if move_to else "have no type."),
        "success",
    )
    return redirect(url_for("organisation_types.types_index"))
