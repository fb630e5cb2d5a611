"""Making share codes and tracked links, and counting what people do with them.

Codes and links are made when a send falls due (share codes a chunk of rows at a time,
as delivery rows are), so the workers only read them. Every send's body links are
tracked; a consultation's send also gets share codes and its survey, page and
document links. A ``/r/`` token names a
stored row whose target the product wrote: a forged or altered token finds nothing
(404), and no token can point anywhere else.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contacts.audience import audience_contacts
from contacts.models import Contact
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.bulletins.messages import Document, Frozen, document_url
from mailer.database import rows_changed, table_of, utcnow
from mailer.delivery.models import (
    LINK_BODY,
    LINK_DOCUMENT,
    LINK_PAGE,
    LINK_SURVEY,
    QUEUED,
    SKIPPED,
    Delivery,
    Send,
    ShareCode,
    TrackedLink,
)
from mailer.delivery.sends import id_windows
from mailer.rendering.links import body_links, personal_prefixes
from mailer.rendering.markdown import to_html
from mailer.tracking.models import ClickCount, PersonClick, ShareVisit

log = logging.getLogger(__name__)

CHUNK = 2000
CODE_BYTES = 8  # 64 random bits: 11 characters in a link, never guessed
# The longest address a tracked link keeps (its column); a longer one stays as written.
TARGET_MAX = 1000


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def ensure_share_codes(session: Session, consultation_id: int, audience: dict[str, Any]) -> int:
    """A share code for every audience contact of the consultation that lacks one."""
    # None yet (the launch): no need to ask of every contact whether it has one (as
    # sends.make_due, the rows this transaction adds would make that ever slower).
    existing = session.scalar(
        select(ShareCode.id).where(ShareCode.consultation_id == consultation_id).limit(1)
    )
    made = 0
    for low, high in id_windows(session):
        window = audience_contacts(session, audience, ids=(low, high))
        if existing is not None:
            window = window.where(
                ~exists().where(
                    ShareCode.consultation_id == consultation_id,
                    ShareCode.contact_id == Contact.id,
                )
            )
        last_id = low
        while True:
            chunk = session.execute(window.where(Contact.id > last_id).limit(CHUNK)).all()
            if not chunk:
                break
            last_id = chunk[-1].id
            session.execute(
                table_of(ShareCode).insert(),
                [
                    {
                        "code": new_code(),
                        "consultation_id": consultation_id,
                        "contact_id": row.id,
                        "created_at": utcnow(),
                    }
                    for row in chunk
                ],
            )
            made += len(chunk)
    return made


def share_code_for(session: Session, consultation_id: int, contact_id: int) -> ShareCode:
    """The contact's code, made now if missing (a sign-up who shares in turn)."""
    found = session.scalar(
        select(ShareCode).where(
            ShareCode.consultation_id == consultation_id, ShareCode.contact_id == contact_id
        )
    )
    if found is None:
        found = ShareCode(code=new_code(), consultation_id=consultation_id, contact_id=contact_id)
        session.add(found)
        session.flush()
    return found


def ensure_links(
    session: Session,
    *,
    consultation_id: int | None,
    send_id: int | None,
    targets: Iterable[tuple[str, str, str]],
) -> dict[tuple[str, str], TrackedLink]:
    """The tracked links of a send (or, with ``send_id`` None, of a consultation's
    public page) for ``(kind, target, label)``, made once: (kind, target) -> link. Made
    again (late joiners, a retry) they are the same rows, so every copy of the message
    carries the same tokens."""
    if send_id is not None:
        mine = TrackedLink.send_id == send_id
    else:
        mine = TrackedLink.send_id.is_(None) & (TrackedLink.consultation_id == consultation_id)
    existing = {
        (link.kind, link.target): link for link in session.scalars(select(TrackedLink).where(mine))
    }
    for kind, target, label in targets:
        if (kind, target) not in existing:
            link = TrackedLink(
                token=new_code(),
                consultation_id=consultation_id,
                send_id=send_id,
                kind=kind,
                target=target,
                label=label[:255],
            )
            session.add(link)
            existing[(kind, target)] = link
    session.flush()
    return existing


def targets_for(frozen: dict[str, Any], base_url: str) -> list[tuple[str, str, str]]:
    """What a send's message links to that is worth counting: the survey, the public
    page and each document."""
    about = FrozenConsultation.in_extra(frozen.get("extra", {}))
    found: list[tuple[str, str, str]] = []
    if about is not None and about.survey_url:
        found.append((LINK_SURVEY, about.survey_url, "Survey"))
    if about is not None and about.page_url:
        found.append((LINK_PAGE, about.page_url, "Consultation page"))
    for raw in frozen.get("documents", ()):
        document = Document(**raw)
        found.append((LINK_DOCUMENT, document_url(base_url, document), document.title))
    return found


def body_targets(frozen: dict[str, Any], base_url: str) -> list[tuple[str, str, str]]:
    """The http(s) links the writer put in the body (labelled with their words), as the
    message shows them: after Markdown and sanitising, the product's own personal
    links left alone, and an address too long to keep left as written."""
    html = to_html(Frozen.from_json(frozen).content.body_markdown).html
    return [
        (LINK_BODY, link.href, link.text or link.href)
        for link in body_links(html, leave_alone=personal_prefixes(base_url))
        if len(link.href) <= TARGET_MAX
    ]


def prepare_send(session: Session, send: Send, *, base_url: str, links: bool) -> None:
    """With ``[tracking] links`` on: the tracked links of the send's body, and for a
    consultation's send its share codes and its survey, page and document links.
    Called whenever a send falls due (and again for late joiners); idempotent."""
    if not links:
        return
    if send.consultation_id is None:
        if send.frozen:
            ensure_links(
                session,
                consultation_id=None,
                send_id=send.id,
                targets=body_targets(send.frozen, base_url),
            )
        return
    made = ensure_share_codes(session, send.consultation_id, send.audience)
    if send.frozen:
        about = FrozenConsultation.in_extra(send.frozen.get("extra", {}))
        if about is not None and about.survey_url:
            # The public page's survey button: clicks there are credited to the share
            # link the visitor came through.
            ensure_links(
                session,
                consultation_id=send.consultation_id,
                send_id=None,
                targets=[(LINK_SURVEY, about.survey_url, "Survey (public page)")],
            )
        ensure_links(
            session,
            consultation_id=send.consultation_id,
            send_id=send.id,
            targets=[*targets_for(send.frozen, base_url), *body_targets(send.frozen, base_url)],
        )
    if made:
        log.info("send %s: %d share codes made", send.id, made)


# --- counting ---------------------------------------------------------------------------


def _bump(session: Session, model: Any, key: dict[str, Any]) -> None:
    """Add one to a day's counter, making the row on the first hit. Two first hits at
    once: the loser of the insert race adds to the winner's row."""
    condition = [getattr(model, name) == value for name, value in key.items()]
    if rows_changed(session, update(model).where(*condition).values(count=model.count + 1)):
        return
    try:
        with session.begin_nested():
            session.add(model(**key, count=1))
    except IntegrityError:
        session.execute(update(model).where(*condition).values(count=model.count + 1))


def count_click(
    session: Session,
    link: TrackedLink,
    *,
    day: Any,
    via: ShareCode | None,
    person: int | None,
) -> None:
    _bump(session, ClickCount, {"link_id": link.id, "via": via.id if via else 0, "day": day})
    if person is not None:
        seen = session.scalar(
            select(PersonClick.id).where(
                PersonClick.link_id == link.id, PersonClick.contact_id == person
            )
        )
        if seen is None:
            try:
                with session.begin_nested():
                    session.add(PersonClick(link_id=link.id, contact_id=person))
            except IntegrityError:
                pass  # the same person twice at once: once is what is kept


def count_visit(session: Session, code: ShareCode, *, day: Any) -> None:
    _bump(session, ShareVisit, {"share_code_id": code.id, "day": day})


SKIP_RESPONDED = "followed the survey link"


def skip_responders(session: Session, send: Send) -> int:
    """Leave out of a reminder the contacts known (per-person tracking) to have followed
    this consultation's survey link."""
    responded = (
        select(PersonClick.contact_id)
        .join(TrackedLink, TrackedLink.id == PersonClick.link_id)
        .where(
            TrackedLink.consultation_id == send.consultation_id,
            TrackedLink.kind == LINK_SURVEY,
        )
    )
    return rows_changed(
        session,
        update(Delivery)
        .where(
            Delivery.send_id == send.id,
            Delivery.state == QUEUED,
            Delivery.contact_id.in_(responded),
        )
        .values(state=SKIPPED, skip_reason=SKIP_RESPONDED, next_attempt_at=None),
    )
