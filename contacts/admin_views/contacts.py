"""The admin's contacts pages: the directory and its search, one contact (edit, lists,
suppress, export their data, erase) and the CSV export. The import with its preview is
in ``importing.py``, on the same blueprint.

Everyone signed in may look; editors and admins change; only admins export or erase.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import data_rights, directory, exporting
from contacts.data_rights import ERASURE_SCRUBBERS
from contacts.exporting import export_rows
from contacts.models import LAWFUL_BASES, STATUSES, Contact, ContactList
from mailer import audit
from mailer.accounts.roles import Action
from mailer.admin.guards import acting_user, client_ip, requires
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.bounces.models import KIND_LABELS, Bounce
from mailer.database import get_db, utcnow
from mailer.delivery.models import Delivery, Send
from mailer.web import inputs, paging
from scheduler import late_joiners
from scheduler.consultations import planning

contacts_bp = Blueprint("contacts", __name__, url_prefix="/admin/contacts")


def _int_arg(name: str) -> int | None:
    return inputs.id_arg(name)


@contacts_bp.get("/")
def index() -> ResponseReturnValue:
    session = get_db().session
    filters = directory.ContactFilter(
        q=request.args.get("q", "")[:200],
        list_id=_int_arg("list"),
        organisation_type_id=_int_arg("type"),
        status=request.args.get("status") or None,
        tag=request.args.get("tag", "")[:100],
    )
    page = directory.search(session, filters, page=paging.page_number())
    return render_template(
        "admin/contacts/index.html",
        page=page,
        filters=filters,
        lists=session.scalars(select(ContactList).order_by(ContactList.name)).all(),
        types=directory.organisation_types(session),
        statuses=STATUSES,
        args={k: v for k, v in request.args.items() if k != "page"},
    )


@contacts_bp.get("/<int:contact_id>")
def show(contact_id: int) -> ResponseReturnValue:
    return _show_page(contact_id)


def _show_page(contact_id: int, *, edit_error: str | None = None) -> ResponseReturnValue:
    """The contact's page; with ``edit_error``, its Edit form shows what was typed
    (request.form) and why it was not saved."""
    session = get_db().session
    contact = session.get(Contact, contact_id) or abort(404)
    history = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "contact", AuditEntry.target_id == str(contact.id))
        .order_by(AuditEntry.id.desc())
        .limit(50)
    ).all()
    # What was sent to them: the newest sends first (their delivery records).
    messages = session.execute(
        select(Delivery, Send.title)
        .join(Send, Send.id == Delivery.send_id)
        .where(Delivery.contact_id == contact.id)
        .order_by(Delivery.id.desc())
        .limit(50)
    ).all()
    # What came back about them (bounces, complaints), by the message it was about.
    came_back = session.scalars(
        select(Bounce)
        .where(Bounce.contact_id == contact.id)
        .order_by(Bounce.received_at.desc(), Bounce.id.desc())
        .limit(50)
    ).all()
    listed = {d.id for d, _title in messages}
    by_delivery: dict[int, list[Bounce]] = {}
    for bounce in came_back:
        if bounce.delivery_id is not None and bounce.delivery_id in listed:
            by_delivery.setdefault(bounce.delivery_id, []).append(bounce)
    # Launches they joined too late for, held until sending is allowed (quiet hours).
    waiting = late_joiners.waiting_for(
        session,
        contact.id,
        rules=planning.rules_for(session, current_app.config["MAILER"]),
        now=utcnow(),
    )
    member_ids = {m.list_id for m in contact.memberships}
    other_lists = [
        lst
        for lst in session.scalars(select(ContactList).order_by(ContactList.name))
        if lst.id not in member_ids
    ]
    return render_template(
        "admin/contacts/show.html",
        contact=contact,
        history=history,
        messages=messages,
        came_back=by_delivery,
        unlisted=[b for b in came_back if b.delivery_id not in listed],
        kind_labels=KIND_LABELS,
        waiting=waiting,
        other_lists=other_lists,
        types=directory.organisation_types(session),
        lawful_bases=LAWFUL_BASES,
        edit_error=edit_error,
        edit_form=request.form if edit_error else None,
    ), (400 if edit_error else 200)


@contacts_bp.route("/new", methods=["GET", "POST"])
@requires("can_edit")
def new() -> ResponseReturnValue:
    session = get_db().session
    error = None
    if request.method == "POST":
        try:
            with get_db().transaction(session) as s:
                contact = _save(s, None)
            flash(f"Added {contact.email}.", "success")
            return redirect(url_for("contacts.show", contact_id=contact.id))
        except directory.DirectoryError as exc:
            error = str(exc)
    return render_template(
        "admin/contacts/form.html",
        contact=None,
        error=error,
        types=directory.organisation_types(session),
        lawful_bases=LAWFUL_BASES,
        form=request.form,
    ), 400 if error else 200


@contacts_bp.post("/<int:contact_id>")
@requires("can_edit")
def update(contact_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        with db.transaction(db.session) as s:
            contact = s.get(Contact, contact_id) or abort(404)
            _save(s, contact)
        flash("Saved.", "success")
    except directory.DirectoryError as exc:
        # The page again with the Edit form as typed: nothing typed is lost.
        return _show_page(contact_id, edit_error=str(exc))
    return redirect(url_for("contacts.show", contact_id=contact_id))


def _save(session: Session, contact: Contact | None) -> Contact:
    form = request.form
    type_id = inputs.id_arg("organisation_type_id", form) or None
    return directory.save_contact(
        session,
        contact,
        email=form.get("email", ""),
        name=form.get("name", ""),
        organisation=form.get("organisation", ""),
        organisation_type_id=type_id,
        role=form.get("role", ""),
        area=form.get("area", ""),
        tags=form.get("tags", ""),
        lawful_basis=form.get("lawful_basis", ""),
        by=acting_user(),
    )


@contacts_bp.post("/<int:contact_id>/lists")
@requires("can_edit")
def change_lists(contact_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as s:
        contact = s.get(Contact, contact_id) or abort(404)
        add = inputs.id_arg("add", request.form)
        remove = inputs.id_arg("remove", request.form)
        for list_id, adding in ((add, True), (remove, False)):
            lst = s.get(ContactList, list_id) if list_id else None
            if lst is None:
                continue
            if adding:
                directory.add_members(s, lst, contact_ids=[contact.id], by=acting_user())
            else:
                directory.bulk_remove(s, lst, contact_ids=[contact.id], by=acting_user())
    return redirect(url_for("contacts.show", contact_id=contact_id))


@contacts_bp.post("/<int:contact_id>/suppress")
@requires("can_edit")
def suppress(contact_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as s:
        contact = s.get(Contact, contact_id) or abort(404)
        directory.suppress_contact(
            s, contact, by=acting_user(), reason=request.form.get("reason", "")
        )
    flash("No more email will go to this contact.", "success")
    return redirect(url_for("contacts.show", contact_id=contact_id))


@contacts_bp.get("/<int:contact_id>/data.json")
@requires(Action.EXPORT_CONTACT_DATA)
def data(contact_id: int) -> ResponseReturnValue:
    db = get_db()
    with db.transaction(db.session) as s:
        contact = s.get(Contact, contact_id) or abort(404)
        payload = data_rights.contact_data(s, contact)
        audit.record(
            s,
            actions.CONTACT_DATA_EXPORTED,
            actor=acting_user(),
            target_type="contact",
            target_id=contact.id,
            summary=f"Exported the data of contact #{contact.id}",
            ip=client_ip(),
        )
    response = jsonify(payload)
    response.headers["Content-Disposition"] = f"attachment; filename=contact-{contact_id}.json"
    return response


@contacts_bp.post("/<int:contact_id>/erase")
@requires(Action.ERASE_CONTACT)
def erase(contact_id: int) -> ResponseReturnValue:
    db = get_db()
    contact = db.session.get(Contact, contact_id) or abort(404)
    if request.form.get("confirm", "").strip().casefold() != contact.email_key:
        flash("Type the contact's email address to confirm the erasure.", "error")
        return redirect(url_for("contacts.show", contact_id=contact_id))
    with db.transaction(db.session) as s:
        scrubbers = current_app.extensions[ERASURE_SCRUBBERS]
        data_rights.erase(s, contact, by=acting_user(), scrubbers=scrubbers, ip=client_ip())
    flash(
        f"Contact #{contact_id} was erased. Only a keyed hash of the address remains, "
        "so it cannot be imported again.",
        "success",
    )
    return redirect(url_for("contacts.index"))


@contacts_bp.get("/export.csv")
@requires(Action.EXPORT_ALL_CONTACTS)
def export() -> ResponseReturnValue:
    list_id = _int_arg("list")
    db = get_db()
    name = None
    if list_id:
        lst = db.session.get(ContactList, list_id)
        if lst is None:
            abort(404)
        name = lst.name
    # Every copy of the whole address book that leaves the building is on the record.
    with db.transaction(db.session) as s:
        exporting.record_export(s, by=acting_user(s), list_name=name, ip=client_ip())
    session = db.new_session()

    def generate() -> Iterator[str]:
        try:
            yield from export_rows(session, list_name=name)
        finally:
            session.close()

    filename = (
        "contacts.csv"
        if not name
        else "contacts-" + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() + ".csv"
    )
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
