"""Admin pages for bulletins: compose with a live preview, attachments, preview as a
contact (desktop, phone, plain text, raw message) and test sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.models import Contact
from mailer.accounts.models import User
from mailer.admin.guards import acting_user, requires
from mailer.bulletins import (
    attachment_views,
    blocks,
    compose,
    composer_views,
    files,
    messages,
    previews,
    reuse_views,
    test_send_views,
    typed_views,
    warnings,
)
from mailer.bulletins.context import ConsultationView, PendingConsultation
from mailer.bulletins.models import Bulletin
from mailer.database import get_db, utcnow
from mailer.delivery import proof_sends, queue
from mailer.email_templates import family
from mailer.email_templates.models import KIND_BULLETIN, KIND_LABELS, KINDS
from mailer.rendering.markdown import to_html
from mailer.rendering.prepare import PreparedMessage, Recipient, message_id
from mailer.web import filters, inputs
from mailer.web.frames import email_frame
from scheduler import edits
from scheduler.consultations import about, read_models

bulletins_bp = Blueprint("bulletins", __name__, url_prefix="/admin/bulletins")

RAW_SHOWN_BYTES = 512 * 1024  # the raw view shows this much; the download has it all


def _bulletin(bulletin_id: int) -> Bulletin:
    bulletin = get_db().session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def _settings() -> messages.Settings:
    return messages.settings_from(current_app.config["MAILER"])


def _limit_bytes() -> int:
    return attachment_views.limit_bytes()


def _draft(kind: str, stored_blocks: dict[str, Any] | None = None) -> compose.Draft:
    form = request.form
    return compose.Draft(
        # As typed: a rewording over the limit is refused (compose), never cut.
        blocks=composer_views.blocks_from_form(stored_blocks, limit=None),
        kind=kind,
        template_id=inputs.id_arg("template_id", form),
        subject=form.get("subject", ""),
        preheader=form.get("preheader", ""),
        body_markdown=form.get("body_markdown", ""),
        link_documents=form.get("link_documents") == "on",
    )


@bulletins_bp.route("/new", methods=["GET", "POST"])
@requires("can_edit")
def new() -> ResponseReturnValue:
    kind = request.values.get("kind", KIND_BULLETIN)
    if kind not in KINDS:
        abort(404)
    default = family.MEMBER_BY_KIND[kind].default_subject
    session = get_db().session
    errors: dict[str, str] = {}
    draft = compose.Draft(
        kind=kind,
        template_id=None,
        # A consultation's title fills the default subject of its own messages; a
        # bulletin written here has none, so only a default that needs no title is offered.
        subject="" if "{title}" in default else default,
        preheader="",
        body_markdown="",
        blocks={},
    )
    if request.method == "POST":
        draft = _draft(kind)
        db = get_db()
        try:
            with db.transaction(db.session) as s:
                bulletin = compose.create(s, draft, by=acting_user(s))
                _set_about(s, bulletin, acting_user(s))
        except compose.BulletinInvalid as exc:
            errors = exc.errors
        else:
            flash("Bulletin created. Preview it and send yourself a test.", "success")
            return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))
    return render_template(
        "admin/bulletins/edit.html",
        bulletin=None,
        draft=draft,
        errors=errors,
        templates=compose.templates_for(session, kind),
        kind_labels=KIND_LABELS,
        body_warnings=[],
        consultations=about.choices(session),
        about_id=inputs.id_arg("consultation_id", request.form),
        composer=composer_views.form_context(draft),
    ), (400 if errors else 200)


@bulletins_bp.route("/<int:bulletin_id>", methods=["GET", "POST"])
def edit(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    errors: dict[str, str] = {}
    draft = stored_draft(bulletin)
    if request.method == "POST":
        if not current_user.can_edit:
            abort(403)
        try:
            changed, returned = save_typed(bulletin)
        except edits.MessageLocked as exc:
            typed = typed_draft(bulletin)
            if "subject" not in request.form or not typed_views.words_differ(bulletin, typed):
                flash(str(exc), "error")
                return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))
            # Locked since the page was opened (approved, say): the typed words come
            # back with the reason, never thrown away.
            return edit_page(
                bulletin,
                draft=typed,
                errors={"compose-form": f"{exc} Your changes are not saved: copy them first."},
                about_id=inputs.id_arg("consultation_id", request.form),
                status=409,
                unsaved=True,
            )
        except compose.BulletinInvalid as exc:
            errors = exc.errors
            draft = typed_draft(bulletin)
        except compose.BulletinChanged as exc:
            return typed_views.changed_page(bulletin, exc)
        else:
            flash("Saved." if changed else "Nothing had changed.", "success")
            if returned:
                flash(returned, "warning")
            return redirect(url_for("bulletins.edit", bulletin_id=bulletin.id))
    return edit_page(
        bulletin,
        draft=draft,
        errors=errors,
        about_id=(
            inputs.id_arg("consultation_id", request.form)
            if request.method == "POST"
            else bulletin.consultation_id
        ),
    )


def save_typed(bulletin: Bulletin) -> tuple[list[str], str | None]:
    """Save the compose form's fields as the Save button does: an edit (noted for the
    two-person rule), which withdraws a send awaiting approval. Returns what changed
    and what to tell the writer about a withdrawn send. Attach and Send a test call it
    too, so words typed before them are never lost. Raises edits.MessageLocked when
    the words are locked, compose.BulletinInvalid when they cannot be saved,
    compose.BulletinChanged when someone saved it since the form was opened."""
    session = get_db().session
    if locked := read_models.locked_reason(session, bulletin.id):
        raise edits.MessageLocked(locked)
    draft = _draft(bulletin.kind, bulletin.blocks)
    db = get_db()
    with db.transaction(db.session) as s:
        # Inside the transaction: nothing is written when the form is out of date.
        compose.check_unchanged(
            s, bulletin, loaded=request.form.get("loaded_at"), say_when=filters.when_text
        )
        user = acting_user(s)
        edits.before_message_edit(s, bulletin)
        changed = compose.update(s, bulletin, draft, by=user)
        changed += _set_about(s, bulletin, user)
        # A consultation's message: noted as an edit of it, and one awaiting
        # approval goes back to draft (the approver must read what goes out).
        returned = edits.message_changed(s, bulletin, changed=changed, by=user, now=utcnow())
    return changed, returned


def stored_draft(bulletin: Bulletin) -> compose.Draft:
    """The compose form's fields as saved."""
    return compose.Draft(
        kind=bulletin.kind,
        template_id=bulletin.template_id,
        subject=bulletin.subject,
        preheader=bulletin.preheader,
        body_markdown=bulletin.body_markdown,
        link_documents=bulletin.link_documents,
        blocks=blocks.clean(bulletin.blocks),
    )


def typed_draft(bulletin: Bulletin) -> compose.Draft:
    """The compose form's fields as posted (shown again when they could not be saved)."""
    return _draft(bulletin.kind, bulletin.blocks)


def edit_page(
    bulletin: Bulletin,
    *,
    draft: compose.Draft,
    errors: dict[str, str],
    about_id: int | None,
    status: int | None = None,
    unsaved: bool | None = None,
) -> ResponseReturnValue:
    """The edit page, showing ``draft``; ``status`` is the answer's code (by default
    400 with errors). ``unsaved`` (by default: when there are errors) says the page
    shows words that are not saved, so leaving it asks first (mailer/static/unsaved.js).
    The Documents and Send-a-test sections read their notes and what was typed there
    from mailer/web/section_notes.py."""
    session = get_db().session
    body = to_html(draft.body_markdown)
    used = files.total_size(session, bulletin)
    review = _review(bulletin) if not errors else None
    return render_template(
        "admin/bulletins/edit.html",
        bulletin=bulletin,
        draft=draft,
        errors=errors,
        templates=compose.templates_for(session, bulletin.kind),
        kind_labels=KIND_LABELS,
        # The composer's "Look at" list, shown once: "Before you send" points to it and
        # lists only what concerns the whole message (subject, size).
        body_warnings=review.look_at if review else warnings.for_body(body),
        review=review,
        owner=read_models.owner_of(session, bulletin.id),
        locked=read_models.locked_reason(session, bulletin.id),
        attachments_total=files.human_size(used),
        attachments_limit=files.human_size(_limit_bytes()),
        # For the browser's check of a file's size before it is sent (unsaved.js).
        attachments_room=max(0, _limit_bytes() - used),
        attachments_limit_bytes=_limit_bytes(),
        accept=files.ACCEPT,
        max_test=proof_sends.MAX_ADDRESSES,
        recent_tests=queue.recent_tests(session, bulletin.id),
        consultations=about.choices(session),
        about_id=about_id,
        carried=about.about(session, bulletin, _settings().base_url),
        reuse=reuse_views.context(session, bulletin),
        composer=composer_views.form_context(draft),
        unsaved=bool(errors) if unsaved is None else unsaved,
        # The version the form was first loaded from, kept through refused saves.
        loaded_at=request.form.get("loaded_at") or compose.version_of(bulletin),
    ), status or (400 if errors else 200)


def _set_about(session: Session, bulletin: Bulletin, by: User) -> list[str]:
    """The form's "About a consultation" choice (not on a timeline's own message, which
    is about its consultation already). Returns ["consultation"] when it changed."""
    if read_models.owner_of(session, bulletin.id) is not None:
        return []
    raw = request.form.get("consultation_id", "")
    chosen = inputs.id_arg("consultation_id", request.form)
    if raw and chosen is None:
        raise compose.BulletinInvalid({"consultation_id": "Choose a consultation from the list."})
    try:
        return about.set_about(session, bulletin, chosen, by=by, now=utcnow())
    except about.AboutRefused as exc:
        raise compose.BulletinInvalid({"consultation_id": str(exc)}) from None


@bulletins_bp.post("/markdown")
@requires("can_edit")
def markdown_preview() -> ResponseReturnValue:
    """The live preview: the body as it will appear, and what to look at."""
    body = to_html(request.form.get("body_markdown", "")[: compose.MAX_BODY])
    return jsonify(html=body.html, warnings=[w.message for w in warnings.for_body(body)])


class _Review:
    """What the edit page shows under "Before you send": the warnings for the whole
    message, or the problem that stops it from being made."""

    def __init__(
        self,
        problem: str | None,
        look_at: list[warnings.Warning],
        size: int,
        notes: Sequence[str] = (),
        whole: Sequence[warnings.Warning] = (),
    ) -> None:
        self.problem = problem
        # What the composer's live "Look at" list shows (the words and blocks) ...
        self.look_at = look_at
        # ... and what only the whole message shows (subject, preheader, size).
        self.warnings = list(whole)
        self.size = files.human_size(size)
        self.notes = list(notes)


def _review(bulletin: Bulletin) -> _Review:
    session = get_db().session
    _documents, shown = _consultation_of(session, bulletin, _settings().base_url)
    checked = previews.check(
        session,
        previews.words_of(bulletin),
        previews.Facts(shown),
        settings=_settings(),
        now=utcnow(),
    )
    try:
        prepared, recipient, _consultation = _render(bulletin, contact=None)
    except _RenderProblem as exc:
        return _Review(str(exc), checked.warnings, 0, checked.notes)
    data = prepared.personalise(recipient, message_id="<review@example.org>", now=utcnow())
    html = prepared.html(recipient)
    whole = warnings.for_message(
        subject=bulletin.subject,
        preheader=bulletin.preheader,
        html_bytes=len(html.encode("utf-8")),
        message_bytes=len(data),
    )
    return _Review(None, checked.warnings, len(data), checked.notes, whole)


class _RenderProblem(Exception):
    pass


def _render(
    bulletin: Bulletin, *, contact: Contact | None, subject_prefix: str = ""
) -> tuple[PreparedMessage, Recipient, object]:
    settings = _settings()
    now = utcnow()
    session = get_db().session
    consultation: ConsultationView | PendingConsultation | None = None
    try:
        documents, shown = _consultation_of(session, bulletin, settings.base_url)
        frozen = messages.freeze(session, bulletin, documents=documents)
        consultation = messages.consultation_or_example(
            frozen.kind, shown, settings=settings, now=now
        )
        prepared = messages.prepare_frozen(
            frozen,
            settings=settings,
            consultation=consultation,
            now=now,
            subject_prefix=subject_prefix,
        )
    except Exception as exc:  # template problem, unusable template, missing document
        if isinstance(consultation, PendingConsultation):
            raise _RenderProblem(f"{previews.PENDING_PROBLEM} The template says: {exc}") from exc
        raise _RenderProblem(str(exc)) from exc
    recipient = messages.preview_recipient(
        settings,
        email=contact.email if contact else "stakeholder@example.org",
        contact=contact,
        consultation=consultation,
    )
    return prepared, recipient, consultation


def _consultation_of(
    session: Session, bulletin: Bulletin, base_url: str
) -> tuple[Sequence[Any] | None, ConsultationView | None]:
    """The documents a bulletin carries and the consultation it shows: a timeline
    message's consultation, or the one a bulletin is about (its real survey, page and
    documents, never the example); (None, None) for a bulletin about none."""
    owner = read_models.owner_of(session, bulletin.id)
    if owner is not None:
        return owner[1].documents, read_models.view_of(owner[1], base_url)
    found = about.about(session, bulletin, base_url)
    if found is not None:
        return found.documents, found.view
    return None, None


def consultation_of(
    session: Session, bulletin: Bulletin, base_url: str
) -> tuple[Sequence[Any] | None, ConsultationView | None]:
    """What a preview of it carries and shows; a test send shows the same."""
    return _consultation_of(session, bulletin, base_url)


def _preview_contact() -> tuple[Contact | None, str, str | None]:
    """The contact chosen by ?as=address (or ?contact=id), the address typed, and why
    it could not be used."""
    session = get_db().session
    typed = request.args.get("as", "").strip()[:320]
    contact = None
    if inputs.id_arg("contact"):
        contact = session.get(Contact, inputs.id_arg("contact"))
    elif typed:
        contact = session.scalar(select(Contact).where(Contact.email_key == typed.casefold()))
        if contact is None:
            return None, typed, f"No contact has the address {typed}; showing an example recipient."
    return contact, (contact.email if contact else typed), None


@bulletins_bp.get("/<int:bulletin_id>/preview")
def preview(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    view = request.args.get("view", "html")
    if view not in ("html", "text", "source"):
        view = "html"
    contact, typed, not_found = _preview_contact()
    problem = None
    text = source = subject = ""
    truncated = False
    pending = None
    try:
        prepared, recipient, consultation = _render(bulletin, contact=contact)
    except _RenderProblem as exc:
        problem = str(exc)
    else:
        if isinstance(consultation, PendingConsultation):
            pending = previews.PENDING_NOTE
        subject = prepared.subject(recipient)
        if view == "text":
            text = prepared.text(recipient)
        elif view == "source":
            data = prepared.personalise(
                recipient, message_id=message_id(_settings().message_id_domain), now=utcnow()
            )
            truncated = len(data) > RAW_SHOWN_BYTES
            source = data[:RAW_SHOWN_BYTES].decode("utf-8", "replace")
    return render_template(
        "admin/bulletins/preview.html",
        bulletin=bulletin,
        view=view,
        contact=contact,
        typed=typed,
        not_found=not_found,
        problem=problem,
        pending=pending,
        subject=subject,
        text=text,
        source=source,
        truncated=truncated,
    )


@bulletins_bp.get("/<int:bulletin_id>/preview/frame.html")
def preview_frame(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    contact, _typed, _nf = _preview_contact()
    try:
        prepared, recipient, _consultation = _render(bulletin, contact=contact)
    except _RenderProblem as exc:
        return email_frame(f"<!doctype html><title>Problem</title><p>{escape(str(exc))}</p>")
    return email_frame(prepared.html(recipient), phone=request.args.get("phone") == "1")


@bulletins_bp.get("/<int:bulletin_id>/preview/message.eml")
def download(bulletin_id: int) -> ResponseReturnValue:
    bulletin = _bulletin(bulletin_id)
    contact, _typed, _nf = _preview_contact()
    try:
        prepared, recipient, _consultation = _render(bulletin, contact=contact)
    except _RenderProblem as exc:
        flash(f"The message cannot be made: {exc}", "error")
        return redirect(url_for("bulletins.preview", bulletin_id=bulletin.id))
    data = prepared.personalise(
        recipient, message_id=message_id(_settings().message_id_domain), now=utcnow()
    )
    return Response(
        data,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="bulletin-{bulletin.id}.eml"'},
    )


attachment_views.register(bulletins_bp)
composer_views.register(bulletins_bp)
test_send_views.register(bulletins_bp)
reuse_views.register(bulletins_bp)
