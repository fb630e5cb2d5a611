"""The composer's preview: the whole message as it will arrive, made from the words on
the form before they are saved.

It takes the same road as a send (``messages.freeze`` and ``prepare_frozen``, the
recipient from ``messages.preview_recipient``) with a bulletin that exists only for the
preview: nothing is added to the session, so previewing never writes. A message about a
consultation not chosen yet shows no invented facts (``messages.consultation_or_example``
gives a pending one, with no dates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from contacts.models import Contact
from mailer.bulletins import blocks, messages, warnings
from mailer.bulletins.context import ConsultationView, PendingConsultation
from mailer.bulletins.models import Bulletin
from mailer.email_templates.models import KIND_BULLETIN, EmailTemplate
from mailer.organisation import service as organisation
from mailer.rendering.markdown import to_html

PENDING_NOTE = (
    "This message is about a consultation, but none is chosen yet: its survey and "
    "closing date are left out here. They will show the consultation's own facts once "
    'you choose it under "About a consultation".'
)
PENDING_PROBLEM = (
    "This template shows the consultation's facts (such as its closing date), so the "
    'whole message can be shown once you choose the consultation under "About a '
    'consultation".'
)
SAMPLE_EMAIL = "stakeholder@example.org"


@dataclass(frozen=True)
class Words:
    """What the compose form holds, saved or not."""

    kind: str
    template: EmailTemplate | None
    subject: str
    preheader: str
    body_markdown: str
    link_documents: bool
    blocks: dict[str, Any]


@dataclass(frozen=True)
class Facts:
    """The consultation the message shows (a timeline's, or the one chosen on the form)
    and the documents it carries."""

    consultation: ConsultationView | None = None
    documents: Sequence[Any] = ()


@dataclass
class Preview:
    html: str = ""
    subject: str = ""
    # Why the message cannot be made, in words the writer can act on.
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[warnings.Warning] = field(default_factory=list)


def words_of(bulletin: Bulletin) -> Words:
    """A saved bulletin's words, for the review of what is saved (edit, approval)."""
    return Words(
        kind=bulletin.kind,
        template=bulletin.template,
        subject=bulletin.subject,
        preheader=bulletin.preheader,
        body_markdown=bulletin.body_markdown,
        link_documents=bulletin.link_documents,
        blocks=blocks.clean(bulletin.blocks),
    )


def _shown_blocks(words: Words, shown: object) -> dict[str, dict[str, Any]]:
    about = isinstance(shown, ConsultationView) and words.kind != KIND_BULLETIN
    return blocks.for_template(words.blocks, about_consultation=about)


def check(
    session: Session, words: Words, facts: Facts, *, settings: messages.Settings, now: datetime
) -> Preview:
    """The warnings and notes for the words (no rendering: cheap, on every keystroke)."""
    shown = messages.consultation_or_example(
        words.kind, facts.consultation, settings=settings, now=now
    )
    org = organisation.get(session).snapshot()
    body = to_html(words.body_markdown)
    found = warnings.for_body(body) + warnings.for_duplicates(
        words.body_markdown,
        shown=_shown_blocks(words, shown),
        survey_url=shown.survey_url if isinstance(shown, ConsultationView) else "",
        signatory=str(org.get("signatory") or ""),
    )
    notes = [PENDING_NOTE] if isinstance(shown, PendingConsultation) else []
    return Preview(notes=notes, warnings=found)


def render(
    session: Session,
    words: Words,
    facts: Facts,
    *,
    contact: Contact | None,
    settings: messages.Settings,
    now: datetime,
) -> Preview:
    """The whole message as ``contact`` (or a sample recipient with no name) gets it."""
    preview = check(session, words, facts, settings=settings, now=now)
    if words.template is None:
        preview.problem = "Choose a template to see the whole message."
        return preview
    # Never added to the session: it exists only to be frozen as a send would be.
    draft = Bulletin(
        kind=words.kind,
        template=words.template,
        subject=words.subject,
        preheader=words.preheader,
        body_markdown=words.body_markdown,
        link_documents=words.link_documents,
        blocks=blocks.clean(words.blocks),
    )
    shown = messages.consultation_or_example(
        words.kind, facts.consultation, settings=settings, now=now
    )
    try:
        frozen = messages.freeze(session, draft, documents=list(facts.documents))
        prepared = messages.prepare_frozen(frozen, settings=settings, consultation=shown, now=now)
    except Exception as exc:  # template problem, unusable template, missing document
        preview.problem = str(exc)
        if isinstance(shown, PendingConsultation):
            preview.problem = f"{PENDING_PROBLEM} The template says: {exc}"
        return preview
    recipient = messages.preview_recipient(
        settings,
        email=contact.email if contact else SAMPLE_EMAIL,
        contact=contact,
        consultation=shown,
    )
    preview.html = prepared.html(recipient)
    preview.subject = prepared.subject(recipient)
    return preview
