"""The values a template sees (the template context), built in one place.

Stored template versions depend on these names, so they only ever grow. Times are
converted to the configured timezone here, so templates format them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from mailer.bulletins import blocks
from mailer.email_templates.models import KIND_BULLETIN
from mailer.public_urls import PublicUrls
from mailer.rendering.links import rewrite_links
from mailer.rendering.markdown import to_html
from mailer.rendering.sandbox import long_date
from mailer.rendering.text import html_to_text


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


def time_left(now: datetime, closes_at: datetime) -> str:
    """'14 days', '2 days', 'one day', 'today' (in the consultation's local calendar)."""
    days = (closes_at.date() - now.astimezone(closes_at.tzinfo).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "one day"
    return f"{days} days"


def build(
    *,
    kind: str,
    content: Content,
    org: dict[str, Any],
    consultation: ConsultationView | PendingConsultation | None,
    documents: list[dict[str, str]],
    timezone: str,
    now: datetime,
    body_links: Mapping[str, str] | None = None,
    web_version: str = "",
) -> dict[str, Any]:
    """Everything but the personal values (``contact`` and the personal ``links``).
    ``body_links`` (address -> tracked link) replace the addresses in the body's links,
    in its HTML and so in its text.

    ``web_version``: the address of the message's web version, the same for every
    recipient ("" in the web version itself, so a template tests it)."""
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    body = to_html(content.body_markdown)
    body.html = rewrite_links(body.html, body_links or {})
    context: dict[str, Any] = {
        "kind": kind,
        "org": dict(org),
        "bulletin": {
            "subject": content.subject,
            "preheader": content.preheader,
            "body_html": Markup(body.html),  # noqa: S704 - sanitised by nh3 in to_html
            "body_text": html_to_text(body.html),
        },
        "blocks": blocks.for_template(
            content.blocks,
            about_consultation=isinstance(consultation, ConsultationView) and kind != KIND_BULLETIN,
        ),
        "links": {"documents": list(documents), "web_version": web_version},
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
