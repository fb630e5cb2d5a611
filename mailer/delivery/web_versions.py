"""The web version of a send ("view in your browser") and the public archive.

A send's web version is its frozen message rendered for nobody: no name, no address,
no unsubscribe or preferences token, no personal share code. The personal values a
template prints are filled with neutral words ("colleague", "you"), the share link is
the consultation's public page (or the site), and the unsubscribe and preferences
links lead to a note on the page itself saying that those links work in the email its
reader received. Attachments are not offered; documents the message links to are their
public addresses.

A web version exists once the send has fired: before that it is an approval in
waiting (or a draft, or a send cancelled before it went), and its address answers 404.
The office may publish a fired send to the archive (``/bulletins``), and take it off.

The page embeds the message's HTML, not a frame: its body is cut out of the email
document and cleaned again (nh3) down to what an email's layout is made of, so a
template edited to carry a script or a form carries neither onto the public site.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import nh3
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.accounts.roles import Action
from mailer.audit import actions
from mailer.bulletins import messages
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.delivery.models import Send
from mailer.paging import within
from mailer.public_urls import PublicUrls
from mailer.rendering.prepare import Recipient

PER_PAGE = 20
TOKEN_MAX = 24  # Send.web_token's column
KEEP = 16  # web versions kept rendered in each web process
# Where the page explains the personal links (unsubscribe, preferences) of the email.
ABOUT_LINKS = "about-these-links"

# What an email's layout is made of; everything else (scripts, forms, frames, embeds,
# styles blocks, event handlers) is dropped with the rest of the document around it.
TAGS = {
    "a", "abbr", "b", "blockquote", "br", "center", "code", "div", "em", "font", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul",
}  # fmt: skip
GENERIC_ATTRIBUTES = {
    "align", "aria-hidden", "aria-label", "bgcolor", "border", "class", "dir", "height",
    "lang", "role", "style", "title", "valign", "width",
}  # fmt: skip
ATTRIBUTES = {
    "*": GENERIC_ATTRIBUTES,
    "a": {"href"},
    "img": {"src", "alt"},
    "table": {"cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "scope"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_BODY = re.compile(r"<body[^>]*>(?P<inner>.*)</body\s*>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[\s>]", re.IGNORECASE)


class NotFound(Exception):
    """No web version at that address (unknown, not sent yet, or cancelled unsent)."""


class PublishRefused(Exception):
    """Why a send cannot be published or taken off, worded for the person who asked."""


@dataclass(frozen=True)
class WebVersion:
    send_id: int
    subject: str
    sent_at: datetime
    published: bool
    html: str  # the message's body, cleaned: safe to place inside a page
    has_heading: bool  # whether the message has its own <h1> (else the page adds one)


@dataclass(frozen=True)
class ArchiveEntry:
    subject: str
    sent_at: datetime
    token: str


@dataclass(frozen=True)
class Archive:
    entries: list[ArchiveEntry]
    page: int
    pages: int
    total: int


def visible(send: Send) -> bool:
    """Whether ``send`` has a public web version: it went (or was published)."""
    return (
        send.web_token is not None
        and send.frozen is not None
        and (send.fired_at is not None or send.published_at is not None)
    )


def find(session: Session, token: str) -> Send:
    """The send whose web version ``token`` names. Raises NotFound."""
    if not token or len(token) > TOKEN_MAX:
        raise NotFound(token)
    send = session.scalar(select(Send).where(Send.web_token == token))
    if send is None or not visible(send):
        raise NotFound(token)
    return send


def nobody(*, page_url: str, survey_url: str, web_version: str) -> Recipient:
    """The recipient of a web version: nobody. Every personal value is a neutral word
    or a public address (the survey itself, untracked), never anything that belongs to
    a stakeholder."""
    about = f"{web_version}#{ABOUT_LINKS}"
    return Recipient(
        email="you",
        name="",
        organisation="",
        role="",
        links={
            "share": page_url,
            "survey": survey_url,
            "confirm_cascade": f"{page_url}#shared",
            "unsubscribe": about,
            "preferences": about,
        },
    )


def render(send: Send, *, settings: messages.Settings) -> WebVersion:
    """The web version of a visible send (see ``visible``), for nobody. Raises what
    ``messages.prepare_frozen`` raises (a template problem)."""
    assert send.frozen is not None and send.web_token is not None
    key = (send.id, send.web_token, send.approved_at, settings.base_url)
    cached = _cache.get(key)
    if cached is None:
        cached = _cache.put(key, _render(send, settings=settings))
    return dataclasses.replace(cached, published=send.published_at is not None)


def _render(send: Send, *, settings: messages.Settings) -> WebVersion:
    assert send.frozen is not None and send.web_token is not None
    frozen = messages.Frozen.from_json(send.frozen)
    if not frozen.link_documents:
        # Attached files are not offered on a public page (nor read from disk for it).
        frozen = dataclasses.replace(frozen, documents=())
    known = FrozenConsultation.in_extra(frozen.extra)
    consultation = known.view() if known else None
    urls = PublicUrls(settings.base_url)
    sent_at = send.fired_at or send.published_at or send.approved_at
    assert sent_at is not None
    # The message as it went, dated the day it went; no "view in your browser" link
    # in the web version itself.
    prepared = messages.prepare_frozen(
        frozen, settings=settings, consultation=consultation, now=sent_at, web_version=""
    )
    reader = nobody(
        page_url=consultation.page_url if consultation else urls.base,
        survey_url=consultation.survey_url if consultation else urls.base,
        web_version=urls.web_version(send.web_token),
    )
    body = clean(prepared.html(reader))
    return WebVersion(
        send_id=send.id,
        subject=prepared.subject(reader) or send.title,
        sent_at=sent_at,
        published=send.published_at is not None,
        html=body,
        has_heading=bool(_H1.search(body)),
    )


def clean(document: str) -> str:
    """The body of an email document, cleaned down to the elements of its layout."""
    found = _BODY.search(document)
    inner = found.group("inner") if found else document
    return nh3.clean(
        inner,
        tags=TAGS,
        clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
    )


class _Rendered:
    """The last few web versions rendered (premailer takes a tenth of a second; a
    popular bulletin's page is asked for again and again). Keyed by the send, its
    token and its approval, so a send approved again is rendered again."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[object, ...], WebVersion] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> WebVersion | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], value: WebVersion) -> WebVersion:
        with self._lock:
            self._items[key] = value
            while len(self._items) > KEEP:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _Rendered()


# --- the archive and publishing ---------------------------------------------------------


def archive(session: Session, *, page: int) -> Archive:
    """The published sends, newest first, a page at a time."""
    published = Send.published_at.is_not(None) & Send.web_token.is_not(None)
    total = session.scalar(select(func.count()).select_from(Send).where(published)) or 0
    page = within(page, total, PER_PAGE)
    # The subject the message went with (a consultation's send is titled by its slot).
    subject = Send.frozen[("content", "subject")].as_string()
    rows = session.execute(
        select(
            subject.label("subject"), Send.title, Send.fired_at, Send.published_at, Send.web_token
        )
        .where(published)
        .order_by(func.coalesce(Send.fired_at, Send.published_at).desc(), Send.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return Archive(
        entries=[
            ArchiveEntry(
                subject=r.subject or r.title,
                sent_at=r.fired_at or r.published_at,
                token=r.web_token,
            )
            for r in rows
        ],
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
    )


def publish_refusal(send: Send) -> str | None:
    """Why ``send`` cannot be published, or None."""
    if send.fired_at is None or send.frozen is None:
        return "Only a message that has gone out can be published: this one has not been sent yet."
    return None


def publish(session: Session, send: Send, *, by: User, now: datetime, ip: str | None = None) -> str:
    """List ``send`` in the public archive. Raises roles.NotAllowed or PublishRefused;
    returns what to tell the person."""
    roles.require(by, Action.PUBLISH_SEND)
    refusal = publish_refusal(send)
    if refusal is not None:
        raise PublishRefused(refusal)
    if send.published_at is not None:
        return "It is already in the public archive."
    # A send that went before web versions existed is given its address now.
    send.web_token = send.web_token or secrets.token_urlsafe(12)
    send.published_at = now
    audit.record(
        session,
        actions.SEND_PUBLISHED,
        actor=by,
        target_type="send",
        target_id=send.id,
        summary=f"Published in the public archive ({send.title})",
        ip=ip,
    )
    return "Published: it is listed in the public archive."


def unpublish(session: Session, send: Send, *, by: User, ip: str | None = None) -> str:
    """Take ``send`` off the public archive (its web version stays for its readers)."""
    roles.require(by, Action.PUBLISH_SEND)
    if send.published_at is None:
        return "It is not in the public archive."
    send.published_at = None
    audit.record(
        session,
        actions.SEND_UNPUBLISHED,
        actor=by,
        target_type="send",
        target_id=send.id,
        summary=f"Taken off the public archive ({send.title})",
        ip=ip,
    )
    return "Taken off the public archive. Its web version still answers its readers' links."
