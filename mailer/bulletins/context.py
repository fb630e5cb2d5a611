"""The values a template sees (the template context), built in one place.

Stored template versions depend on these names, so they only ever grow. Times are
converted to the configured timezone here, so templates format them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from mailer.bulletins import blocks
from mailer.bulletins.files import human_size
from mailer.email_templates.models import (
    KIND_BULLETIN,
    KIND_CLOSE_NOTICE,
    KIND_LAUNCH,
    KIND_REMINDER,
)
from mailer.public_urls import PublicUrls
from mailer.rendering.links import rewrite_links
from mailer.rendering.markdown import to_html
from mailer.rendering.sandbox import long_date
from mailer.rendering.text import html_to_text

# How much of a bulletin's words stand in for an empty preheader (inboxes show ~90-140).
PREHEADER_WORDS = 140


@dataclass(frozen=True)
class ConsultationView:
    title: str
    summary: str
    opens_at: datetime
    closes_at: datetime
    page_url: str
    survey_url: str


@dataclass(frozen=True)
class PendingConsultation:
    """A consultation message's consultation before one is chosen (previews and test
    messages only): words that say so, and no dates, so nothing is invented. A template
    that prints a date outside its survey and key date blocks cannot be previewed so."""

    title: str = "the consultation"
    summary: str = (
        "The consultation's summary, survey and closing date will show here once you "
        "choose the consultation this message is about."
    )
    page_url: str = ""
    survey_url: str = ""


@dataclass(frozen=True)
class Content:
    """A bulletin's words as an editor wrote them."""

    subject: str
    preheader: str
    body_markdown: str
    # The template's blocks switched off or reworded (mailer/bulletins/blocks.py).
    blocks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentView:
    """A document a message carries: attached to it (``url`` "") or linked."""

    title: str
    filename: str
    size: int
    url: str = ""
    # An accessible web version (an HTML page) of the document, where one is published.
    accessible_url: str = ""


def describe_document(document: DocumentView) -> dict[str, Any]:
    """What a template shows of a document: "Draft plan (PDF, 1.2 MB)"."""
    extension = document.filename.rpartition(".")[2] if "." in document.filename else ""
    file_format = extension.upper()
    size = human_size(document.size)
    return {
        "title": document.title or document.filename,
        "filename": document.filename,
        "url": document.url,
        "attached": not document.url,
        "accessible_url": document.accessible_url,
        "format": file_format,
        "size": size,
        "label": f"{file_format}, {size}" if file_format else size,
    }


def _linked_only(links: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Documents given only as links (title and address), described as far as known."""
    return [
        {
            "title": link.get("title", ""),
            "filename": link.get("filename", ""),
            "url": link.get("url", ""),
            "attached": False,
            "accessible_url": link.get("accessible_url", ""),
            "format": link.get("format", ""),
            "size": link.get("size", ""),
            "label": link.get("label", ""),
        }
        for link in links
    ]


def time_left(now: datetime, closes_at: datetime) -> str:
    """'14 days', '2 days', 'one day', 'today' (in the consultation's local calendar)."""
    days = (closes_at.date() - now.astimezone(closes_at.tzinfo).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "one day"
    return f"{days} days"


def default_preheader(kind: str, consultation: Mapping[str, Any] | None, body_text: str) -> str:
    """The line an inbox shows beside the subject when the writer left the preheader
    empty: for a consultation's messages, what it asks and by when; for a bulletin, the
    start of its words. Without one, inboxes show the first text of the message, which
    is the banner ("Office of ...: Stakeholder Special")."""
    if consultation is not None:
        title = consultation["title"]
        # A consultation not yet chosen for the message (a preview) has no dates.
        if kind == KIND_LAUNCH and "closes_at" in consultation:
            return f"Have your say on {title} by {long_date(consultation['closes_at'])}"
        if kind == KIND_LAUNCH:
            return f"Have your say on {title}"
        if kind == KIND_REMINDER and "time_left" not in consultation:
            return f"Still time to have your say on {title}"
        if kind == KIND_REMINDER:
            left = consultation["time_left"]
            if left == "today":
                return f"Last day to have your say on {title}"
            return f"{left.capitalize()} left to have your say on {title}"
        if kind == KIND_CLOSE_NOTICE:
            return f"Thank you: {title} has closed"
    words = " ".join(body_text.split())
    if len(words) <= PREHEADER_WORDS:
        return words
    return words[:PREHEADER_WORDS].rsplit(" ", 1)[0] + "…"


def build(
    *,
    kind: str,
    content: Content,
    org: dict[str, Any],
    consultation: ConsultationView | PendingConsultation | None,
    documents: Sequence[Mapping[str, Any]],
    timezone: str,
    now: datetime,
    body_links: Mapping[str, str] | None = None,
    web_version: str = "",
    files: Sequence[DocumentView] | None = None,
) -> dict[str, Any]:
    """Everything but the personal values (``contact`` and the personal ``links``).
    ``body_links`` (address -> tracked link) replace the addresses in the body's links,
    in its HTML and so in its text.

    ``web_version``: the address of the message's web version, the same for every
    recipient ("" in the web version itself, so a template tests it).

    ``documents`` are the linked documents (``links.documents``: title and address);
    ``files`` every document the message carries, attached or linked, with its size
    and accessible version (``documents``). Without ``files`` the linked ones stand in.

    ``bulletin.preheader`` is the writer's, or when empty a default
    (:func:`default_preheader`), so every message gives inboxes a line to show."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    body = to_html(content.body_markdown)
    body.html = rewrite_links(body.html, body_links or {})
    body_text = html_to_text(body.html)
    context: dict[str, Any] = {
        "kind": kind,
        "org": dict(org),
        "bulletin": {
            "subject": content.subject,
            "preheader": content.preheader,
            "body_html": Markup(body.html),  # noqa: S704 - sanitised by nh3 in to_html
            "body_text": body_text,
        },
        "blocks": blocks.for_template(
            content.blocks,
            about_consultation=isinstance(consultation, ConsultationView) and kind != KIND_BULLETIN,
        ),
        "links": {"documents": [dict(d) for d in documents], "web_version": web_version},
        "documents": (
            _linked_only(documents) if files is None else [describe_document(f) for f in files]
        ),
        "message": {"date": long_date(local_now)},
        "consultation": None,
    }
    if isinstance(consultation, PendingConsultation) and kind != KIND_BULLETIN:
        context["consultation"] = {
            "title": consultation.title,
            "summary": consultation.summary,
            "page_url": consultation.page_url,
        }
    elif isinstance(consultation, ConsultationView) and kind != KIND_BULLETIN:
        closes = consultation.closes_at.astimezone(zone)
        context["consultation"] = {
            "title": consultation.title,
            "summary": consultation.summary,
            "opens_at": consultation.opens_at.astimezone(zone),
            "closes_at": closes,
            "page_url": consultation.page_url,
            "time_left": time_left(local_now, closes),
        }
    if not content.preheader.strip():
        context["bulletin"]["preheader"] = default_preheader(
            kind, context["consultation"], body_text
        )
    return context


def sample_consultation(*, now: datetime, timezone: str, base_url: str) -> ConsultationView:
    """An example consultation for previews of templates and bulletins without one."""
    zone = ZoneInfo(timezone)
    closes = (now.astimezone(zone) + timedelta(days=28)).replace(
        hour=23, minute=59, second=0, microsecond=0
    )
    return ConsultationView(
        title="Draft Police and Crime Plan (example)",
        summary="An example consultation, shown so you can see the whole message: "
        "the survey button, the closing date and the request to pass it on.",
        opens_at=now,
        closes_at=closes,
        page_url=PublicUrls(base_url).consultation("example"),
        survey_url="https://survey.example.org/plan",
    )


SAMPLE_BODY = """I am pleased to share the draft plan with you.

It sets out the priorities for policing and community safety over the next three years:

- prevent and tackle crime
- make our roads safer
- support victims of crime

Your views will shape the final plan.
"""
