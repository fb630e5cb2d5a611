"""The composer's live view of the whole message: the words on the form (unsaved) in
the template, as a chosen contact gets them, and what the words repeat of the
template's blocks. Editors and approvers may preview; previewing never writes.

The message is shown in a sandboxed frame from its own address with its own strict
policy (mailer/web/frames.py): the admin's policy forbids the inline styles an email is
made of, so a ``srcdoc`` frame, which inherits it, could not show it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from contacts.models import ERASED, Contact
from mailer.bulletins import blocks, compose, messages, previews
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.bulletins.models import Bulletin
from mailer.database import get_db, utcnow
from mailer.email_templates.models import KIND_BULLETIN, KINDS, EmailTemplate
from mailer.web import inputs
from mailer.web.frames import email_frame
from scheduler.consultations import read_models
from scheduler.models import CANCELLED, Consultation

CONTACTS_SHOWN = 10


def _may_preview() -> None:
    if not (current_user.can_edit or current_user.can_approve):
        abort(403)


def blocks_from_form(
    stored: dict[str, Any] | None, *, limit: int | None = blocks.MAX_TEXT
) -> dict[str, Any] | None:
    """The block choices the compose form posted, merged with the stored ones; None
    when the form showed no blocks (the stored choices then stay as they are).
    ``limit`` None keeps rewordings as typed, for saving to refuse those too long."""
    raw = request.form.get("blocks-shown")
    if raw is None:
        return None
    shown = [name for name in raw.split(",") if name in blocks.NAMES]
    chosen = blocks.from_form(request.form, shown=shown, limit=limit)
    return blocks.merge(stored, chosen, shown=shown, limit=limit)


def form_context(draft: compose.Draft) -> dict[str, Any]:
    """The blocks the composer lists beside the text: those the message can carry
    (survey and key date only in a message about a consultation), as chosen."""
    chosen = blocks.for_template(draft.blocks, limit=None)  # shown as typed
    return {
        "max_text": blocks.MAX_TEXT,
        "blocks": [
            {"kind": kind, "on": chosen[kind.name]["on"], "text": chosen[kind.name]["text"]}
            for kind in blocks.relevant(about_consultation=draft.kind != KIND_BULLETIN)
        ],
    }


def _kind(bulletin: Bulletin | None) -> str:
    if bulletin is not None:
        return bulletin.kind
    kind = request.values.get("kind", KIND_BULLETIN)
    if kind not in KINDS:
        abort(404)
    return kind


def _template(session: Session, kind: str) -> EmailTemplate | None:
    chosen = inputs.id_arg("template_id", request.form)
    template = session.get(EmailTemplate, chosen) if chosen else None
    if template is None or template.kind != kind:
        template = session.scalar(
            select(EmailTemplate).where(EmailTemplate.kind == kind).order_by(EmailTemplate.id)
        )
    return template


def _facts(session: Session, bulletin: Bulletin | None) -> previews.Facts:
    """A timeline message's consultation, or the one chosen on the form (not saved);
    the saved one for someone who may not edit (the form's fields are disabled)."""
    base_url = messages.settings_from(current_app.config["MAILER"]).base_url
    own = list(bulletin.attachments) if bulletin is not None else []
    owner = read_models.owner_of(session, bulletin.id) if bulletin is not None else None
    if owner is not None:
        return previews.Facts(read_models.view_of(owner[1], base_url), owner[1].documents)
    chosen = inputs.id_arg("consultation_id", request.form)
    if bulletin is not None and not current_user.can_edit:
        chosen = bulletin.consultation_id
    consultation = session.get(Consultation, chosen) if chosen else None
    if consultation is None or consultation.state == CANCELLED:
        return previews.Facts(None, own)
    carried = {d.file_id for d in consultation.documents}
    return previews.Facts(
        FrozenConsultation.of(consultation, base_url=base_url).view(),
        [*consultation.documents, *(a for a in own if a.file_id not in carried)],
    )


def _words(session: Session, bulletin: Bulletin | None) -> previews.Words:
    if bulletin is not None and not current_user.can_edit:
        return previews.words_of(bulletin)  # an approver reads what is saved
    form = request.form
    kind = _kind(bulletin)
    stored = bulletin.blocks if bulletin is not None else {}
    chosen = blocks_from_form(stored)
    return previews.Words(
        kind=kind,
        template=_template(session, kind),
        subject=form.get("subject", "")[: compose.MAX_SUBJECT],
        preheader=form.get("preheader", "")[: compose.MAX_PREHEADER],
        body_markdown=form.get("body_markdown", "")[: compose.MAX_BODY],
        link_documents=form.get("link_documents") == "on",
        blocks=blocks.clean(stored if chosen is None else chosen),
    )


def _bulletin(session: Session, bulletin_id: int | None) -> Bulletin | None:
    if bulletin_id is None:
        return None
    bulletin = session.get(Bulletin, bulletin_id)
    if bulletin is None:
        abort(404)
    return bulletin


def check(bulletin_id: int | None = None) -> ResponseReturnValue:
    """What the words repeat of the template's blocks, and what else to look at."""
    _may_preview()
    settings = messages.settings_from(current_app.config["MAILER"])
    with get_db().reading() as reader:
        bulletin = _bulletin(reader, bulletin_id)
        words, facts = _words(reader, bulletin), _facts(reader, bulletin)
        found = previews.check(reader, words, facts, settings=settings, now=utcnow())
    return jsonify(
        notes=found.notes,
        warnings=[
            {
                "message": w.message,
                "block": w.block,
                "label": blocks.KIND_BY_NAME[w.block].label.lower() if w.block else "",
            }
            for w in found.warnings
        ],
    )


def frame(bulletin_id: int | None = None) -> ResponseReturnValue:
    """The whole message as the chosen contact gets it, for the composer's frame."""
    _may_preview()
    settings = messages.settings_from(current_app.config["MAILER"])
    with get_db().reading() as reader:
        bulletin = _bulletin(reader, bulletin_id)
        chosen = inputs.id_arg("contact", request.form)
        contact = reader.get(Contact, chosen) if chosen else None
        words, facts = _words(reader, bulletin), _facts(reader, bulletin)
        shown = previews.render(
            reader, words, facts, contact=contact, settings=settings, now=utcnow()
        )
    if shown.problem:
        # Focusable, so a keyboard user's Tab reaches (and can scroll) the frame.
        return email_frame(
            '<!doctype html><html lang="en-GB"><title>Problem</title>'
            '<body style="font-family:Arial,sans-serif;padding:1rem"><main tabindex="0">'
            "<p><strong>The whole message cannot be shown yet.</strong></p>"
            f"<p>{escape(shown.problem)}</p></main>"
        )
    return email_frame(shown.html)


def contacts() -> ResponseReturnValue:
    """Contacts whose name, email or organisation contain the words typed."""
    _may_preview()
    typed = " ".join(request.args.get("q", "").split())[:100]
    if len(typed) < 2:
        return jsonify(contacts=[])
    like = "%" + typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = get_db().session.scalars(
        select(Contact)
        .where(
            Contact.status != ERASED,
            or_(
                Contact.name.ilike(like, escape="\\"),
                Contact.email.ilike(like, escape="\\"),
                Contact.organisation.ilike(like, escape="\\"),
            ),
        )
        .order_by(Contact.name, Contact.id)
        .limit(CONTACTS_SHOWN)
    )
    return jsonify(
        contacts=[
            {
                "id": c.id,
                "label": (c.name or "(no name)")
                + f" <{c.email}>"
                + (f", {c.organisation}" if c.organisation else ""),
            }
            for c in found
        ]
    )


def register(bp: Blueprint) -> None:
    for rule, endpoint, view in (
        ("/compose/check", "compose_check", check),
        ("/compose/frame.html", "compose_frame", frame),
    ):
        bp.add_url_rule(rule, endpoint, view, methods=["POST"])
        bp.add_url_rule(f"/<int:bulletin_id>{rule}", endpoint, view, methods=["POST"])
    bp.add_url_rule("/compose/contacts", "compose_contacts", contacts, methods=["GET"])
