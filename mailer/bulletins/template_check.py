"""Does a template version work? Checked by pouring a sample bulletin through it.

The check renders the version the way a real send would (sandbox, CSS inlining, MIME)
with example content for its kind and one example recipient, and requires the
unsubscribe link. It lives with bulletins because a bulletin is what it renders; the
template's versions (mailer.email_templates.versions) store its verdict.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mailer.bulletins import context
from mailer.bulletins.messages import (
    Document,
    Frozen,
    Settings,
    consultation_or_example,
    prepare_frozen,
    preview_recipient,
)
from mailer.email_templates import family
from mailer.email_templates.versions import Checked, clean
from mailer.organisation import service as organisation
from mailer.rendering.placeholders import Slot
from mailer.rendering.prepare import TemplateParts, message_id
from mailer.rendering.sandbox import PART_LABELS, TemplateProblem

SAMPLE_DOCUMENT = Document(
    filename="draft-plan.pdf",
    title="The draft plan (PDF)",
    sha256="0" * 64,
    content_type="application/pdf",
    size=1024,
)


def sample_content(kind: str) -> context.Content:
    member = family.MEMBER_BY_KIND.get(kind, family.MEMBER_BY_KIND["bulletin"])
    return context.Content(
        subject=member.default_subject.format(title="the draft Police and Crime Plan"),
        preheader="An example preheader: the line inboxes show beside the subject",
        body_markdown=context.SAMPLE_BODY,
    )


def check(
    kind: str, parts: TemplateParts, *, org: dict, settings: Settings, now: datetime
) -> str | None:
    """Why ``parts`` cannot be used for a message of ``kind``, or None."""
    frozen = Frozen(
        template_version_id=0,
        kind=kind,
        parts=parts,
        content=sample_content(kind),
        org=org,
        documents=(SAMPLE_DOCUMENT,),
        link_documents=True,  # nothing to read from disk
    )
    consultation = consultation_or_example(kind, None, settings=settings, now=now, example=True)
    try:
        prepared = prepare_frozen(frozen, settings=settings, consultation=consultation, now=now)
        recipient = preview_recipient(
            settings, email="someone@example.org", consultation=consultation
        )
        prepared.personalise(recipient, message_id=message_id(settings.message_id_domain), now=now)
    except TemplateProblem as exc:
        return str(exc)
    for part, rendered in (("html", prepared.html_parts), ("text", prepared.text_parts)):
        if not any(isinstance(p, Slot) and p.field == "links.unsubscribe" for p in rendered):
            return (
                f"{PART_LABELS[part]}: the unsubscribe link is missing. Every message must "
                "offer it (the law and the big mail providers require it): print "
                "{{ links.unsubscribe }}."
            )
    return None


def check_parts(
    session: Session, kind: str, parts: TemplateParts, *, settings: Settings, now: datetime
) -> Checked:
    """The check of a save, which renders the template (the slow part): done first, in a
    read-only session (Database.reading), so no write lock is held while it runs."""
    parts = clean(parts)
    org = organisation.get(session).snapshot()
    return Checked(kind, parts, check(kind, parts, org=org, settings=settings, now=now))
