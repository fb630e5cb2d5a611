"""Admin pages for the email templates: list, edit (a new version per save), history,
restore, copy and preview. Everyone signed in may look; editors and admins change."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import escape
from sqlalchemy.orm import Session

from mailer.admin.guards import acting_user, requires
from mailer.bulletins import messages, template_check
from mailer.database import get_db, utcnow
from mailer.email_templates import versions
from mailer.email_templates.models import KIND_LABELS, EmailTemplate, TemplateVersion
from mailer.organisation import service as organisation
from mailer.rendering.prepare import TemplateParts
from mailer.rendering.sandbox import TemplateProblem
from mailer.web.frames import email_frame
from scheduler import edits

email_templates_bp = Blueprint("email_templates", __name__, url_prefix="/admin/templates")

# The template context (mailer/bulletins/context.py): what the editor may print, shown
# beside it.
VALUES = [
    ("contact.name, contact.email, contact.organisation, contact.role",
     "The recipient (filled in per person). Give a default with | fallback(\"colleague\")."),
    ("org.name, org.logo_url, org.colour, org.website, org.phone, org.email, "
     "org.non_emergency, org.emergency, org.social, org.postal_address, org.signatory, "
     "org.signatory_title, org.register_url", "Organisation settings."),
    ("consultation.title, consultation.summary, consultation.opens_at, "
     "consultation.closes_at, consultation.page_url, consultation.time_left",
     "The consultation (none for a general bulletin: test with {% if consultation %})."),
    ("bulletin.subject, bulletin.preheader, bulletin.body_html, bulletin.body_text",
     "What the editor wrote for this bulletin."),
    ("links.survey, links.share, links.confirm_cascade, links.unsubscribe, "
     "links.preferences, links.documents", "Personal links (unsubscribe is required)."),
    ("links.web_version",
     "The message's web version (\"View in your browser\"), the same for everyone; empty "
     "in the web version itself: test with {% if links.web_version %}."),
    ("documents: each with title, url, attached, format, size, label, accessible_url",
     "Every document the message carries, attached or linked, as in \"Draft plan (PDF, "
     "1.2 MB)\"; accessible_url is its accessible web version, where there is one."),
    ("blocks.greeting, blocks.survey, blocks.key_date, blocks.cascade, blocks.sign_off, "
     "blocks.stay_in_touch: each with on and text",
     "The parts a bulletin may switch off or reword: test {% if blocks.survey.on %}; text "
     "is the writer's wording, empty for the template's own."),
    ("kind, message.date, message.subject, message.preheader", "About this message."),
    ("| long_date, | clock", "Dates: \"Sunday 15 August 2027\", \"23:59\"."),
]  # fmt: skip


def _settings() -> messages.Settings:
    return messages.settings_from(current_app.config["MAILER"])


def _template(template_id: int) -> EmailTemplate:
    template = get_db().session.get(EmailTemplate, template_id)
    if template is None:
        abort(404)
    return template


def _version(template: EmailTemplate, number: int) -> TemplateVersion:
    version = next((v for v in template.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


def _save(
    template: EmailTemplate, parts: TemplateParts, *, note: str
) -> tuple[TemplateVersion, bool, list[str]]:
    """Check the parts (a render: slow for a heavy template) without the write lock,
    then save the version in a short write. Also what to tell the editor about
    consultations it returned to draft."""
    db = get_db()
    settings, now, kind = _settings(), utcnow(), template.kind
    with db.reading() as reader:
        checked = template_check.check_parts(reader, kind, parts, settings=settings, now=now)
    with db.transaction(db.session) as session:
        version, created = versions.save_version(
            session,
            template,
            parts,
            note=note,
            by=acting_user(session),
            checked=checked,
        )
        return version, created, _returned_to_draft(session, template, version, created)


@email_templates_bp.get("/")
def index() -> ResponseReturnValue:
    session = get_db().session
    templates = session.query(EmailTemplate).order_by(EmailTemplate.kind, EmailTemplate.id).all()
    return render_template(
        "admin/templates/index.html", templates=templates, kind_labels=KIND_LABELS
    )


@email_templates_bp.route("/<int:template_id>", methods=["GET", "POST"])
def edit(template_id: int) -> ResponseReturnValue:
    template = _template(template_id)
    current = versions.latest(template)
    values = {
        "subject": current.subject,
        "preheader": current.preheader,
        "html": current.html,
        "text": current.text,
        "note": "",
    }
    error = None
    if request.method == "POST":
        if not current_user.can_edit:
            abort(403)
        values = {name: request.form.get(name, "") for name in values}
        parts = TemplateParts(
            values["subject"], values["preheader"], values["html"], values["text"]
        )
        try:
            version, created, returned = _save(template, parts, note=values["note"])
        except versions.TemplateInvalid as exc:
            error = str(exc)
        else:
            if not created:
                flash("Nothing changed, so no new version was saved.", "info")
            elif version.problem:
                flash(
                    f"Saved as version {version.number}, but the template cannot be used "
                    f"until this is fixed: {version.problem}",
                    "error",
                )
            else:
                flash(f"Saved as version {version.number}. New bulletins use it.", "success")
            for message in returned:
                flash(message, "warning")
            return redirect(url_for("email_templates.edit", template_id=template.id))
    return render_template(
        "admin/templates/edit.html",
        template=template,
        current=current,
        values=values,
        error=error,
        kind_labels=KIND_LABELS,
        value_names=VALUES,
    ), (400 if error else 200)


def _returned_to_draft(
    session: Session, template: EmailTemplate, version: TemplateVersion, created: bool
) -> list[str]:
    """A new version changes what a consultation awaiting approval would send: those
    return to draft (scheduler/edits.py). What to tell the editor."""
    if not created:
        return []
    returned = edits.template_saved(session, template, version, by=acting_user(session))
    return [
        f'"{c.title}" was awaiting approval and one of its messages uses this template, '
        "so it is back to draft: submit it again when it is ready."
        for c in returned
    ]


@email_templates_bp.get("/<int:template_id>/versions/<int:number>")
def version(template_id: int, number: int) -> ResponseReturnValue:
    template = _template(template_id)
    return render_template(
        "admin/templates/version.html",
        template=template,
        version=_version(template, number),
        latest=versions.latest(template),
        kind_labels=KIND_LABELS,
    )


@email_templates_bp.post("/<int:template_id>/versions/<int:number>/restore")
@requires("can_edit")
def restore(template_id: int, number: int) -> ResponseReturnValue:
    template = _template(template_id)
    old = _version(template, number)
    version, created, returned = _save(
        template,
        TemplateParts(old.subject, old.preheader, old.html, old.text),
        note=f"Restored version {number}",
    )
    if created:
        flash(f"Version {number} restored as version {version.number}.", "success")
    else:
        flash(f"Version {number} is already the current one.", "info")
    for message in returned:
        flash(message, "warning")
    return redirect(url_for("email_templates.edit", template_id=template.id))


@email_templates_bp.post("/<int:template_id>/copy")
@requires("can_edit")
def copy(template_id: int) -> ResponseReturnValue:
    template = _template(template_id)
    db = get_db()
    try:
        with db.transaction(db.session) as session:
            new = versions.copy_template(
                session, template, name=request.form.get("name", ""), by=acting_user(session)
            )
    except versions.TemplateInvalid as exc:
        flash(str(exc), "error")
        return redirect(url_for("email_templates.edit", template_id=template.id))
    flash(f'Copied as "{new.name}". Edit the copy; the original stays as it was.', "success")
    return redirect(url_for("email_templates.edit", template_id=new.id))


@email_templates_bp.get("/<int:template_id>/versions/<int:number>/preview.html")
def preview(template_id: int, number: int) -> ResponseReturnValue:
    """The version rendered with example content, for the editor's iframe."""
    template = _template(template_id)
    version = _version(template, number)
    settings = _settings()
    now = utcnow()
    frozen = messages.Frozen(
        template_version_id=version.id,
        kind=template.kind,
        parts=TemplateParts(version.subject, version.preheader, version.html, version.text),
        content=template_check.sample_content(template.kind),
        org=organisation.get(get_db().session).snapshot(),
        documents=(template_check.SAMPLE_DOCUMENT,),
        link_documents=True,
    )
    consultation = messages.consultation_or_example(
        template.kind, None, settings=settings, now=now, example=True
    )
    try:
        prepared = messages.prepare_frozen(
            frozen, settings=settings, consultation=consultation, now=now
        )
    except TemplateProblem as exc:
        return email_frame(
            '<!doctype html><html lang="en"><head><title>Problem</title></head><body>'
            f"<p>This version cannot be shown: {escape(str(exc))}</p></body></html>"
        )
    recipient = messages.preview_recipient(
        settings, email="someone@example.org", consultation=consultation
    )
    return email_frame(prepared.html(recipient))
