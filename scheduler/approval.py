"""What an approval binds: the people who made the version approved, and its content.

Two things make the two-person rule hold under editing:

- Contributions. Whoever creates, edits or submits any part of a consultation (its
  details, audience, timeline, documents, the words of its messages) is noted in
  ``consultation_contributions``. The author of a template version counts too, when one
  of its messages would be frozen with it and nobody else has yet approved a message
  made with that version: the template is part of what the approver approves. Nobody
  noted since the last approval may approve while ``[approval] two_person`` is on; an
  approval stamps the rows it covered, so the next round starts empty and the history
  stays.
- The content hash. Everything an approval freezes (each message's template version,
  words and documents by hash, the organisation settings, the audience, times, the
  consultation's title, summary and survey address) hashed in a canonical form. The
  approval page shows it and posts it back; an approval naming another version is
  refused, so what goes out is what the approver read.

Every function takes a session and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mailer.accounts import key_authors
from mailer.accounts.key_authors import Writer
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.bulletins import messages
from mailer.bulletins.models import Bulletin, BulletinContribution
from mailer.delivery.models import SEND_DRAFT, SEND_MISSED, Send
from mailer.email_templates.models import TemplateVersion
from scheduler.models import Consultation, Contribution

CREATED = "created"
EDITED = "edited"
SUBMITTED = "submitted"

# Where an approval came from, as its audit entry says.
VIA_ADMIN = "the admin"
VIA_COMMAND_LINE = "the command line"
VIA_API = "the API"

# The sends an approval freezes (scheduler/consultations/lifecycle.py approve).
FROZEN_AT_APPROVAL = (SEND_DRAFT, SEND_MISSED)

SHORT = 12
# The latest organisation settings changes whose authors may still count (each needs
# another person's approval since to stop counting).
SETTINGS_CHANGES_READ = 20  # characters of the hash a person compares

# The consultation's fields as a person names them (an edit's contribution).
FIELD_LABELS = {
    "title": "title",
    "summary": "summary",
    "type": "type",
    "opens_at": "opening time",
    "closes_at": "closing time",
    "survey_url": "survey address",
    "audience": "audience",
    "reminders": "reminders",
    "close_notice_after": "close notice time",
    "late_joiners": "late joiners",
    "skip_responders": "reminders to those who responded",
}


@dataclass
class Author:
    """One person (or one API key) who made part of the version waiting for approval.
    A key's work is its own entry, ``email`` its label and ``user_id`` its maker's
    account (who may not approve it under the two-person rule)."""

    email: str
    user_id: int | None
    actions: list[str] = field(default_factory=list)  # created / edited / submitted
    parts: list[str] = field(default_factory=list)  # what they touched
    made_by: str | None = None  # a key's maker's address

    @property
    def is_key(self) -> bool:
        return key_authors.is_label(self.email)

    @property
    def name(self) -> str:
        """As a page names it: the address, or the key and who made it."""
        return key_authors.shown(self.email, self.made_by) if self.is_key else self.email

    def describe(self) -> str:
        return f"{self.name} ({', '.join(self.actions)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "user_id": self.user_id,
            "actions": list(self.actions),
            "parts": list(self.parts),
            **({"api_key": True, "made_by": self.made_by} if self.is_key else {}),
        }


def note(
    session: Session,
    consultation: Consultation,
    *,
    by: User,
    action: str,
    part: str,
    now: datetime | None = None,
) -> None:
    """Record that ``by`` created, edited or submitted ``part`` of the consultation
    (at ``now``, or the database's clock for steps that are not given one)."""
    session.add(
        Contribution(
            consultation_id=consultation.id,
            user_id=by.id,
            user_email=by.email,
            action=action,
            part=part[:300],
            **({} if now is None else {"at": now}),
        )
    )
    session.flush()


def fields_part(names: Iterable[str]) -> str:
    return "details: " + ", ".join(FIELD_LABELS.get(n, n) for n in names)


def last_approved_at(session: Session, consultation: Consultation) -> datetime | None:
    return session.scalar(
        select(func.max(Contribution.approval_at)).where(
            Contribution.consultation_id == consultation.id
        )
    )


def _pending_sends(session: Session, consultation: Consultation) -> list[Send]:
    return list(
        session.scalars(
            select(Send)
            .where(
                Send.consultation_id == consultation.id,
                Send.state.in_(FROZEN_AT_APPROVAL),
            )
            .order_by(Send.due_at, Send.id)
        )
    )


class Authors:
    """Authors found so far, each once (by account, else by address), in the order
    they first contributed. Consultations and bulletins sent on their own both collect
    theirs this way (scheduler/bulletin_sends/approval.py)."""

    def __init__(self) -> None:
        self._found: dict[str, Author] = {}

    def add(
        self, email: str, user_id: int | None, action: str, part: str, *, made_by: str | None = None
    ) -> None:
        """``email`` a person's address, or a key's label (its maker ``user_id``, whose
        address is ``made_by``): a key's work is listed apart from its maker's own."""
        if key_authors.is_label(email):
            key = f"key:{email}:{user_id}"
        else:
            key = f"id:{user_id}" if user_id is not None else f"email:{email.casefold()}"
        author = self._found.setdefault(key, Author(email=email, user_id=user_id, made_by=made_by))
        if action not in author.actions:
            author.actions.append(action)
        if part and part not in author.parts:
            author.parts.append(part)

    def add_row(self, session: Session, row: Contribution | BulletinContribution) -> None:
        """A noted contribution (a consultation's or a bulletin's)."""
        made_by = None
        if key_authors.is_label(row.user_email) and row.user_id is not None:
            maker = session.get(User, row.user_id)
            made_by = maker.email if maker is not None else None
        self.add(row.user_email, row.user_id, row.action, row.part, made_by=made_by)

    def add_template_author(
        self, session: Session, version: TemplateVersion | None, *, what: str
    ) -> None:
        """The author of the template version a message would be frozen with, until
        someone else has approved a message made with it (``reviewed``)."""
        if version is None or version.created_by_id is None or reviewed(session, version):
            return
        user = session.get(User, version.created_by_id)
        if user is None:
            return
        part = f'template "{version.template.name}" version {version.number} ({what})'
        self.add(user.email, user.id, EDITED, part)

    def add_settings_authors(self, session: Session) -> None:
        """Whoever changed the organisation settings (every message shows them), until
        someone else has approved a message since: a draft written after the change
        carries it as much as one written before."""
        for entry in session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == actions.ORGANISATION_SETTINGS_CHANGED,
                AuditEntry.actor_id.is_not(None),
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(SETTINGS_CHANGES_READ)
        ):
            if entry.actor is None or _approved_by_another_since(session, entry.at, entry.actor.id):
                continue
            part = f"organisation settings (changed {entry.at:%Y-%m-%d %H:%M} UTC)"
            self.add(entry.actor.email, entry.actor.id, EDITED, part)

    def found(self) -> list[Author]:
        return list(self._found.values())


def _approved_by_another_since(session: Session, since: datetime, user_id: int) -> bool:
    return (
        session.scalar(
            select(Send.id)
            .where(
                Send.approved_at >= since,
                Send.approved_by_id.is_not(None),
                Send.approved_by_id != user_id,
            )
            .limit(1)
        )
        is not None
    )


def authors(session: Session, consultation: Consultation) -> list[Author]:
    """Everyone who made part of what an approval would approve now, in the order
    they first did: noted contributions since the last approval, and the authors of
    the template versions its messages would be frozen with, until another person has
    approved a message made with them."""
    found = Authors()
    for row in session.scalars(
        select(Contribution)
        .where(Contribution.consultation_id == consultation.id, Contribution.approval_at.is_(None))
        .order_by(Contribution.at, Contribution.id)
    ):
        found.add_row(session, row)
    for send in _pending_sends(session, consultation):
        found.add_template_author(session, _version_of(session, send), what=send.label)
    found.add_settings_authors(session)
    return found.found()


def reviewed(session: Session, version: TemplateVersion) -> bool:
    """Whether someone other than its author has approved a message frozen with this
    template version. Until then its author counts among the authors of whatever would
    be frozen with it, however long ago it was saved: a template written the day before
    a consultation is as much part of what is approved as its words."""
    return (
        session.scalar(
            select(Send.id)
            .where(
                Send.approved_at.is_not(None),
                Send.approved_by_id.is_not(None),
                Send.approved_by_id != version.created_by_id,
                Send.frozen["template_version_id"].as_integer() == version.id,
            )
            .limit(1)
        )
        is not None
    )


def _version_of(session: Session, send: Send) -> TemplateVersion | None:
    bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
    if bulletin is None:
        return None
    try:
        return messages.current_version(bulletin)
    except messages.TemplateUnusable:
        return None


def refusal(found: list[Author], by: Writer, *, what: str = "consultation") -> str | None:
    """Why ``by`` may not approve a version made by ``found``, or None. ``what`` names
    the thing approved ("consultation", "bulletin"). What a key ``by`` made counts as
    its maker's: the sentence says which of them did it."""
    if by.id is None:
        return None
    # Their own work first, then their keys', each by what weighs most.
    mine = sorted((a for a in found if a.user_id == by.id), key=lambda a: a.is_key)
    rule = "so another approver must approve it (the two-person rule)."
    for action in (CREATED, EDITED, SUBMITTED):
        author = next((a for a in mine if action in a.actions), None)
        if author is None:
            continue
        who = _who(author, by)
        if action == CREATED:
            return f"{who} wrote this {what}, {rule}"
        if action == EDITED:
            parts = "; ".join(author.parts[:3])
            return f"{who} changed this {what} ({parts}), {rule}"
        return f"{who} submitted this {what}, {rule}"
    return None


def _who(author: Author, by: Writer) -> str:
    """How a refusal names the one of ``by``'s side who made it."""
    if isinstance(by, key_authors.KeyAuthor):
        if author.email == by.email:
            return f"This API key ({by.email})"
        if author.is_key:
            return f"Another API key of its maker ({author.email})"
        return f"The person who made this API key ({author.email})"
    if author.is_key:
        return f"An API key you made ({author.email})"
    return f"You ({by.email})"


def approved_authors(session: Session, consultation: Consultation) -> set[int]:
    """The users whose contributions the last approval covered."""
    last = last_approved_at(session, consultation)
    if last is None:
        return set()
    return {
        user_id
        for user_id in session.scalars(
            select(Contribution.user_id).where(
                Contribution.consultation_id == consultation.id,
                Contribution.approval_at == last,
                Contribution.user_id.is_not(None),
            )
        )
        if user_id is not None
    }


def settle(session: Session, consultation: Consultation, *, now: datetime) -> None:
    """The approval given now covers every contribution noted so far."""
    session.execute(
        update(Contribution)
        .where(Contribution.consultation_id == consultation.id, Contribution.approval_at.is_(None))
        .values(approval_at=now)
    )


# --- the content hash -------------------------------------------------------------------


def utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def content(
    session: Session, consultation: Consultation, *, extra: dict[str, Any]
) -> dict[str, Any]:
    """What an approval now would freeze, as plain data. ``extra`` is what each
    frozen message knows of its consultation (FrozenConsultation.extra)."""
    about = dict(extra.get("consultation", {}))
    for key in ("opens_at", "closes_at"):
        # The same moment in another zone is the same version.
        if isinstance(about.get(key), str):
            about[key] = utc(datetime.fromisoformat(about[key]))
    extra = {**extra, "consultation": about}
    items = []
    for send in _pending_sends(session, consultation):
        bulletin = session.get(Bulletin, send.bulletin_id) if send.bulletin_id else None
        frozen: Any
        if bulletin is None:
            frozen = "no message"
        else:
            try:
                frozen = messages.freeze(
                    session, bulletin, documents=consultation.documents, extra=extra
                ).to_json()
            except (messages.TemplateUnusable, LookupError) as exc:
                # Approval will refuse it; the page still shows (and names) the version.
                frozen = f"unusable: {exc}"
        items.append(
            {
                "slot": send.slot,
                "kind": send.kind,
                "label": send.label,
                "due_at": utc(send.due_at),
                "frozen": frozen,
            }
        )
    return {
        "id": consultation.id,
        "title": consultation.title,
        "slug": consultation.slug,
        "summary": consultation.summary,
        "type": consultation.type,
        "survey_url": consultation.survey_url,
        "opens_at": utc(consultation.opens_at),
        "closes_at": utc(consultation.closes_at),
        "audience": consultation.audience,
        "reminders": consultation.reminders,
        "close_notice_after": consultation.close_notice_after,
        "late_joiners": consultation.late_joiners,
        "skip_responders": consultation.skip_responders,
        "documents": [
            {"filename": d.filename, "title": d.title, "sha256": d.file.sha256}
            for d in consultation.documents
        ],
        "sends": items,
    }


def content_hash(session: Session, consultation: Consultation, *, extra: dict[str, Any]) -> str:
    """The SHA-256 of ``content``, canonical JSON: the version's name."""
    return digest(content(session, consultation, extra=extra))


def digest(data: dict[str, Any]) -> str:
    """The SHA-256 of plain data in canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def short(digest: str | None) -> str:
    return (digest or "")[:SHORT]
