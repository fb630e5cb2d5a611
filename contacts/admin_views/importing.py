"""The admin's contact import: upload a CSV, check the preview (who would be added,
updated or rejected, what each column goes into, what happens to organisation types
the office has not set up), download the rejected rows, then apply it in one
transaction. Editors and admins only; an upload is its uploader's alone.

The routes sit on the contacts blueprint (``contacts.import_*``).
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contacts import pending_imports
from contacts.admin_views.contacts import contacts_bp
from contacts.importing import ImportReport, UnusableFile, import_contacts, preview
from contacts.importing.choices import (
    ChoiceError,
    columns_from_form,
    columns_problem,
    fingerprint,
    types_from_form,
)
from contacts.importing.reading import (
    FIELD_LABELS,
    guess_column,
    guess_columns,
    read_header,
    recognised,
)
from contacts.importing.types import BLANK, GUESS, GUESSED_AT_MOST
from contacts.models import LAWFUL_BASES, ContactList, OrganisationType
from mailer.admin.guards import acting_user, requires
from mailer.database import get_db
from mailer.web import paging
from mailer.web.errors import MEGABYTE, on_too_large

log = logging.getLogger(__name__)

APPLY = "apply"


def _instance_path() -> Path:
    return Path(current_app.instance_path)


def _form_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    """The upload form; after a refused upload, with the lists and basis chosen kept."""
    lists = get_db().session.scalars(select(ContactList).order_by(ContactList.name)).all()
    return render_template(
        "admin/contacts/import.html",
        lists=lists,
        lawful_bases=LAWFUL_BASES,
        error=error,
        chosen_lists=request.form.getlist("lists") if request.method == "POST" else [],
        new_list=request.form.get("new_list", "") if request.method == "POST" else "",
        lawful_basis=request.form.get("lawful_basis", "") if request.method == "POST" else "",
    ), status


def _too_large_answer(size: int) -> ResponseReturnValue | None:
    """An upload over the request limit (mailer/web/errors.py): the form again, with
    every choice kept and advice for a CSV (not the PDFs and pictures of attachments).
    The import has no limit of its own; the request limit is the one that applies."""
    if not getattr(current_user, "can_edit", False):
        return None
    limit = int(request.max_content_length or 0)
    return _form_page(
        f"The file is {_megabytes(size)}; the limit is {_megabytes(limit)}. "
        "Split the file, or save it as CSV without unused columns.",
        413,
    )


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".removesuffix(".0") + " MB"


@contacts_bp.route("/import", methods=["GET", "POST"])
@requires("can_edit")
def import_preview() -> ResponseReturnValue:
    """The upload form; a file sent is kept for its uploader and its preview shown."""
    if request.method == "GET":
        return _form_page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form_page("Choose a CSV file to import.", 400)
    lawful_basis = request.form.get("lawful_basis", LAWFUL_BASES[0])
    if lawful_basis not in LAWFUL_BASES:
        return _form_page("Choose one of the lawful bases offered.", 400)
    filename = upload.filename[:200]
    upload_id = secrets.token_hex(16)
    pending = pending_imports.Pending(
        owner_id=current_user.id,
        filename=filename,
        lists=_chosen_lists(),
        lawful_basis=lawful_basis,
    )
    path = pending_imports.save(_instance_path(), upload_id, upload.stream, pending)
    try:
        with path.open("rb") as stream:
            pending.columns = guess_columns(read_header(stream))
    except UnusableFile as exc:
        pending_imports.discard(path)
        return _form_page(f"{filename}: {exc}", 400)
    pending_imports.save_choices(_instance_path(), upload_id, pending)
    return redirect(url_for("contacts.import_check", upload_id=upload_id))


on_too_large(f"{contacts_bp.name}.import_preview", _too_large_answer)


def _load(upload_id: str, *, applied: bool = False) -> tuple[Path, pending_imports.Pending] | None:
    """The signed-in user's upload; 404 for anyone else's."""
    try:
        return pending_imports.load(
            _instance_path(), upload_id, owner_id=current_user.id, applied=applied
        )
    except pending_imports.NotYours:
        abort(404)


def _gone(upload_id: str) -> ResponseReturnValue:
    if pending_imports.UPLOAD_ID.match(upload_id):
        flash(pending_imports.why_missing(_instance_path(), upload_id), "error")
    else:
        flash(pending_imports.EXPIRED, "error")
    return redirect(url_for("contacts.import_preview"))


def _dry_run(path: Path, pending: pending_imports.Pending, *, keep: bool = False) -> ImportReport:
    # A dry run writes nothing: read-only, so a large file holds no write lock.
    with path.open("rb") as stream, get_db().reading() as reader:
        return import_contacts(
            reader,
            stream,
            lists=pending.lists,
            dry_run=True,
            lawful_basis=pending.lawful_basis,
            filename=pending.filename,
            columns=pending.columns,
            types=pending.types,
            unknown_types=GUESS,
            keep_rejected=keep,
        )


@contacts_bp.get("/import/<upload_id>")
@requires("can_edit")
def import_check(upload_id: str) -> ResponseReturnValue:
    """The preview: nothing is written; every row judged as applying would judge it."""
    found = _load(upload_id)
    if found is None:
        return _gone(upload_id)
    path, pending = found
    try:
        with path.open("rb") as stream:
            header = read_header(stream)
        # One field per column, whatever the note says (it may have been written by hand).
        columns = [*(pending.columns or guess_columns(header)), *[""] * len(header)]
        pending.columns = columns = columns[: len(header)]
        problem = columns_problem(columns, header)
        report = None if problem else _dry_run(path, pending)
        if report and len(report.unknown_types) > GUESSED_AT_MOST and not pending.types:
            # Not types but a column of something else: guess blank, never create.
            pending.types = {u.key: BLANK for u in report.unknown_types[:GUESSED_AT_MOST]}
            pending_imports.save_choices(_instance_path(), upload_id, pending)
            report = _dry_run(path, pending)
    except UnusableFile as exc:
        pending_imports.discard(path)
        return _form_page(f"{pending.filename}: {exc}", 400)
    page = None
    if report is not None:
        page = preview.rows_page(
            report, show=request.args.get("show", ""), page=paging.page_number()
        )
    unknown_types = report.unknown_types[:GUESSED_AT_MOST] if report else []
    types = {u.key: u.choice for u in unknown_types}
    existing = (
        get_db()
        .session.scalars(
            select(OrganisationType).order_by(OrganisationType.position, OrganisationType.name)
        )
        .all()
    )
    return render_template(
        "admin/contacts/import_preview.html",
        upload_id=upload_id,
        pending=pending,
        header=header,
        columns=columns,
        column_notes=[_column_note(n, c) for n, c in zip(header, columns, strict=True)],
        fields=FIELD_LABELS,
        problem=problem,
        report=report,
        page=page,
        counts=preview.counts(report) if report else {},
        shows=preview.SHOWS,
        existing_types=existing,
        unknown_types=unknown_types,
        unlisted_types=len(report.unknown_types) - len(unknown_types) if report else 0,
        shown=fingerprint(columns, types),
    )


@contacts_bp.post("/import/<upload_id>")
@requires("can_edit")
def import_choose(upload_id: str) -> ResponseReturnValue:
    """Save the preview's choices and show it again, or apply the import with them."""
    found = _load(upload_id)
    if found is None:
        return _gone(upload_id)
    path, pending = found
    back = redirect(url_for("contacts.import_check", upload_id=upload_id))
    try:
        with path.open("rb") as stream:
            header = read_header(stream)
        columns = columns_from_form(request.form, header)
        types = types_from_form(request.form, len(request.form))
    except ChoiceError as exc:
        flash(str(exc), "error")
        return back
    except UnusableFile as exc:
        flash(str(exc), "error")
        return redirect(url_for("contacts.import_preview"))
    changed = fingerprint(columns, types) != request.form.get("shown", "")
    pending.columns, pending.types = columns, types
    pending_imports.save_choices(_instance_path(), upload_id, pending)
    if request.form.get("action") != APPLY:
        return back
    if changed:
        flash(
            "Your choices changed what the import would do. Check the preview again, then import.",
            "warning",
        )
        return back
    return _apply(path, pending, upload_id)


def _apply(path: Path, pending: pending_imports.Pending, upload_id: str) -> ResponseReturnValue:
    taken = pending_imports.claim(path)
    if taken is None:  # another tab applied it a moment ago
        flash(pending_imports.IMPORTED, "error")
        return redirect(url_for("contacts.import_preview"))
    db = get_db()
    try:
        with taken.open("rb") as stream, db.transaction(db.session) as s:
            report = import_contacts(
                s,
                stream,
                lists=pending.lists,
                lawful_basis=pending.lawful_basis,
                filename=pending.filename,
                by=acting_user(s),
                columns=pending.columns,
                types=pending.types,
                unknown_types=GUESS,
            )
    except IntegrityError:
        # Someone else added the same people or types at the same moment: the whole
        # import was rolled back, and the preview shows what is left to do.
        pending_imports.release(taken)
        log.warning("import %s met a concurrent change; rolled back", upload_id)
        flash(
            "Someone else changed some of these contacts at the same moment, so nothing "
            "was imported. Check the preview again, then import.",
            "error",
        )
        return redirect(url_for("contacts.import_check", upload_id=upload_id))
    except UnusableFile as exc:
        pending_imports.release(taken)
        flash(str(exc), "error")
        return redirect(url_for("contacts.import_check", upload_id=upload_id))
    except BaseException:
        pending_imports.release(taken)
        raise
    pending_imports.finish(taken)
    flash(f"Imported {pending.filename}: {report.summary_sentence()}.", "success")
    return render_template(
        "admin/contacts/import_done.html",
        report=report,
        filename=pending.filename,
        upload_id=upload_id,
    )


@contacts_bp.get("/import/<upload_id>/rejected.csv")
@requires("can_edit")
def import_rejected(upload_id: str) -> ResponseReturnValue:
    """The rejected rows as the file had them, with what is wrong, to fix and import."""
    found = _load(upload_id, applied=True)
    if found is None:
        return _gone(upload_id)
    path, pending = found
    try:
        report = _dry_run(path, pending, keep=True)
    except UnusableFile as exc:
        flash(str(exc), "error")
        return redirect(url_for("contacts.import_preview"))
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(pending.filename).stem).strip("-").lower()
    return Response(
        "".join(preview.rejected_rows_csv(report)),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={stem or 'import'}-rejected.csv"},
    )


def _column_note(name: str, column: str) -> str:
    """What the preview says of how a column's field was found."""
    if recognised(name) and column == guess_column(name):
        return "Recognised"
    if column and column == guess_column(name):
        return "Guessed from its name"
    if column:
        return "Your choice"
    return "Not recognised: left out" if not guess_column(name) else "Left out"


def _chosen_lists() -> list[str]:
    names = [n for n in request.form.getlist("lists") if n.strip()]
    new_list = request.form.get("new_list", "").strip()
    if new_list:
        names.append(new_list)
    return names
