"""Sign-ups and cascade confirmations from the public consultation page.

"Register for updates" is double opt-in: the form makes a pending sign-up and sends a
confirmation email; only the confirmed address becomes a contact (source "cascade",
referred by the stakeholder whose share link brought them), on the consultation's list
of sign-ups. "I shared this" records how a stakeholder passed it on and roughly to how
many people. Both are rate limited (mailer.tracking.limits): per address, per client
network and overall, and sign-ups also per sharer.

The steps every sign-up form shares live here too, so the standing sign-up page
(mailer.tracking.subscribe) takes the same path: ``screen`` (the address checked and
the use counted against the same limits), ``confirmation_email`` (the double opt-in
message) and ``enrol`` (the confirmed person made a contact, with their consent, on
the lists they asked for).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts import suppression
from contacts.models import ACTIVE, SOURCE_CASCADE, Contact, ListMembership
from mailer import audit
from mailer.audit import actions
from mailer.cleaning import strip_controls
from mailer.config import Config
from mailer.delivery import queue
from mailer.delivery.models import MAIL_SIGNUP, ShareCode
from mailer.email_templates import office_mail
from mailer.events import catalogue, emit
from mailer.rendering.mime import one_line
from mailer.tracking import limits
from mailer.tracking.models import CHANNELS, CascadeConfirmation, SignUp

if TYPE_CHECKING:  # tracking sits below consultations; it only names their type
    from scheduler.models import Consultation

log = logging.getLogger(__name__)

SIGNUPS_PER_SHARER_PER_HOUR = 30
CONFIRMATIONS_PER_SHARER_PER_DAY = 10
CONFIRM_WITHIN = timedelta(days=7)
# More than a regional newsletter's readership is a claim the report cannot weigh.
MAX_REACH = 100_000
MAX_NOTE = 1000
MAX_NAME = 200


class Refused(Exception):
    """Why the form cannot be taken, worded for the person who filled it in."""


@dataclass(frozen=True)
class Requested:
    sign_up: SignUp | None  # None: nothing was sent (a suppressed address, quietly)


def normalise(address: str) -> str:
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Refused(f"That email address does not look right: {exc}") from None


def request_sign_up(
    session: Session,
    consultation: Consultation,
    *,
    email: str,
    name: str,
    via: ShareCode | None,
    now: datetime,
    network: str = "unknown",
) -> Requested:
    """A pending sign-up, or Refused. The caller queues the confirmation and commits.

    ``network`` is the client's (limits.network_of). Known, new and suppressed
    addresses go through the same checks and writes up to the very last step, and
    the caller answers them alike."""
    address = screen(session, email=email, network=network, now=now)
    hour_ago = now - timedelta(hours=1)
    if via is not None:
        through = session.execute(
            select(func.count())
            .select_from(SignUp)
            .where(SignUp.share_code_id == via.id, SignUp.created_at > hour_ago)
        ).scalar_one()
        if through >= SIGNUPS_PER_SHARER_PER_HOUR:
            raise Refused("Too many sign-ups have come through this link just now; try later.")
    if suppression.is_suppressed(session, address.casefold()):
        # Unsubscribed, bounced or erased: we do not write to it, and the page does not
        # say so (the form must not tell anyone whether an address is known).
        log.info("sign-up for consultation %s: address suppressed; nothing sent", consultation.id)
        return Requested(None)
    sign_up = SignUp(
        consultation_id=consultation.id,
        email=address,
        email_key=address.casefold(),
        name=clean_name(name),
        share_code_id=via.id if via else None,
        token=secrets.token_urlsafe(24),
        created_at=now,
    )
    session.add(sign_up)
    session.flush()
    return Requested(sign_up)


def screen(session: Session, *, email: str, network: str, now: datetime) -> str:
    """The first steps of every sign-up form: the address normalised, and this use of
    the form counted against the sign-up limits (mailer.tracking.limits), whether the
    address turns out to be new, known or suppressed. Raises Refused."""
    address = normalise(email)
    _admit(session, form=limits.SIGN_UP, network=network, address=address, now=now)
    return address


def _admit(
    session: Session, *, form: str, network: str, address: str | None = None, now: datetime
) -> None:
    refusal = limits.admit(session, form=form, network=network, address=address, now=now)
    if refusal is not None:
        raise Refused(refusal)


def clean_name(name: str) -> str:
    """A person's name as it may go into a To header and a message body: one line, no
    control or direction-changing characters, at most MAX_NAME characters."""
    return one_line(strip_controls(name))[:MAX_NAME]


def confirmation_message(
    config: Config,
    consultation: Consultation,
    sign_up: SignUp,
    *,
    confirm_url: str,
    org: Mapping[str, Any],
) -> bytes:
    return confirmation_email(
        config,
        recipient=sign_up.email,
        subject=f"Confirm: updates on {consultation.title}",
        about=consultation.title,
        confirm_url=confirm_url,
        org=org,
        at=sign_up.created_at,
    )


def confirmation_email(
    config: Config,
    *,
    recipient: str,
    subject: str,
    about: str,
    confirm_url: str,
    org: Mapping[str, Any],
    at: datetime,
) -> bytes:
    """The double opt-in email of every sign-up form: "someone asked for updates on
    ``about``; confirm with the button behind this link, or ignore it". It comes from
    the office and wears its design (office_mail); ``org`` is the organisation's
    settings (``OrganisationSettings.snapshot()``)."""
    name = str(org.get("name") or "")
    mail = office_mail.OfficeMail(
        recipient=recipient,
        subject=subject,
        paragraphs=(
            f"Someone (we hope you) asked for updates on {about}.",
            "To confirm, open the link and press the button on the page.",
        ),
        action_label="Confirm that you want these updates",
        action_url=confirm_url,
        footer=(
            "If it was not you, ignore this email: nothing more will be sent.",
            f"Sent by {name} because this address was given on our sign-up form."
            if name
            else "Sent because this address was given on our sign-up form.",
        ),
    )
    return office_mail.render(mail, org=org, sender=office_mail.sender(config, org), at=at)


def envelope_sender(config: Config) -> str:
    return parseaddr(config.mail.from_address)[1]


def queue_confirmation(
    session: Session, *, sender: str, recipient: str, data: bytes, now: datetime
) -> None:
    """Queue the confirmation for the delivery workers (mailer.delivery.queue): the
    request commits and answers at once, never waiting on the relay while it holds
    the database's write lock. A relay that is down delays it; workers retry."""
    queue.enqueue(session, kind=MAIL_SIGNUP, sender=sender, recipient=recipient, data=data, now=now)


def pending(session: Session, consultation: Consultation, token: str, now: datetime) -> SignUp:
    sign_up = session.scalar(
        select(SignUp).where(SignUp.token == token, SignUp.consultation_id == consultation.id)
    )
    if sign_up is None or (
        sign_up.confirmed_at is None and now - sign_up.created_at > CONFIRM_WITHIN
    ):
        raise LookupError("unknown or expired confirmation")
    return sign_up


def confirm(
    session: Session, consultation: Consultation, sign_up: SignUp, *, now: datetime
) -> Contact:
    """Make (or find) the contact and put them on the consultation's sign-up list.
    Idempotent: a second confirmation changes nothing."""
    referrer = None
    if sign_up.share_code_id is not None:
        code = session.get(ShareCode, sign_up.share_code_id)
        referrer = code.contact_id if code else None
    list_id = consultation.signup_list_id
    enrolled = enrol(
        session,
        email=sign_up.email,
        name=sign_up.name,
        list_ids=[list_id] if list_id is not None else [],
        source=SOURCE_CASCADE,
        referrer_id=referrer,
    )
    contact = enrolled.contact
    if sign_up.confirmed_at is None:
        sign_up.confirmed_at = now
        sign_up.contact_id = contact.id
        audit.record(
            session,
            actions.CONTACT_SAVED,
            actor_label="stakeholder (sign-up confirmed)",
            target_type="contact",
            target_id=contact.id,
            summary=f'Registered for updates on "{consultation.title}"'
            + (" through a share link" if sign_up.share_code_id else ""),
        )
        data = catalogue.signed_up(contact.id, contact.email, consultation_id=consultation.id)
        emit.emit(session, catalogue.SIGNUP_CONFIRMED, data, now=now)
    session.flush()
    return contact


@dataclass(frozen=True)
class Enrolled:
    contact: Contact
    created: bool
    joined: tuple[int, ...]  # the lists it was not on before


def enrol(
    session: Session,
    *,
    email: str,
    name: str,
    list_ids: list[int],
    source: str,
    organisation: str = "",
    referrer_id: int | None = None,
) -> Enrolled:
    """A confirmed sign-up's last step, for every sign-up form: make (or find) the
    contact for ``email``, with their consent, and put them on ``list_ids``. A known
    contact keeps what the office recorded about them (a blank name or organisation is
    filled in). Idempotent: a second confirmation adds nothing."""
    key = email.casefold()
    contact = session.scalar(select(Contact).where(Contact.email_key == key))
    created = contact is None
    if contact is None:
        contact = Contact(
            email=email,
            email_key=key,
            name=name,
            organisation=organisation,
            source=source,
            lawful_basis="consent",
            referred_by_id=referrer_id,
        )
        session.add(contact)
        session.flush()
    else:
        if contact.referred_by_id is None and referrer_id not in (None, contact.id):
            contact.referred_by_id = referrer_id
        contact.name = contact.name or name
        contact.organisation = contact.organisation or organisation
    if contact.status != ACTIVE:
        # They asked again and confirmed: their consent, given twice over.
        contact.status = ACTIVE
        contact.unsubscribed_at = None
    already = set(
        session.scalars(
            select(ListMembership.list_id).where(ListMembership.contact_id == contact.id)
        )
    )
    joined = tuple(sorted(set(list_ids) - already))
    for list_id in joined:
        session.add(ListMembership(list_id=list_id, contact_id=contact.id, source=source))
    session.flush()
    return Enrolled(contact, created, joined)


def record_shared(
    session: Session,
    consultation: Consultation,
    *,
    sharer: ShareCode | None,
    channel: str,
    reach: str,
    note: str,
    now: datetime,
    network: str = "unknown",
) -> CascadeConfirmation:
    """Record an "I shared this". Without a sharer's link nobody vouches for it: such
    claims have tighter limits and the report shows them apart."""
    if channel not in CHANNELS:
        raise Refused("Choose how you shared it.")
    people = parse_reach(reach)
    if people is None:
        raise Refused("Give roughly how many people, as a number (0 if you do not know).")
    if not 0 <= people <= MAX_REACH:
        raise Refused(
            f"Give a number from 0 to {MAX_REACH:,}. If you reached more people than "
            f"that, give {MAX_REACH:,} and tell us about it in the note."
        )
    # First: it makes this count and the row below one step (limits.admit); a
    # refusal after it rolls its row back with the rest.
    _admit(
        session,
        form=limits.SHARED if sharer is not None else limits.SHARED_ANONYMOUS,
        network=network,
        now=now,
    )
    if sharer is not None:
        today = session.execute(
            select(func.count())
            .select_from(CascadeConfirmation)
            .where(
                CascadeConfirmation.share_code_id == sharer.id,
                CascadeConfirmation.created_at > now - timedelta(days=1),
            )
        ).scalar_one()
        if today >= CONFIRMATIONS_PER_SHARER_PER_DAY:
            raise Refused("Thank you: we already have several of these from you today.")
    confirmation = CascadeConfirmation(
        consultation_id=consultation.id,
        share_code_id=sharer.id if sharer else None,
        channel=channel,
        reach=people,
        note=clean_note(note),
        created_at=now,
    )
    session.add(confirmation)
    session.flush()
    emit.emit(
        session,
        catalogue.CASCADE_CONFIRMED,
        {"consultation_id": consultation.id, "channel": channel, "reach": people},
        now=now,
    )
    return confirmation


# People write "1,500", "about 200" or "200+": the first number, with its thousands
# separators, is what they mean.
_NUMBER = re.compile(r"\d{1,3}(?:[,\s]\d{3})+(?!\d)|\d+")


def parse_reach(text: str) -> int | None:
    """The number of people in what someone typed (negative if so written, for the
    caller's range check); 0 for nothing; None if there is no number."""
    text = text.strip()
    if not text:
        return 0
    found = _NUMBER.search(text)
    if found is None:
        return None
    people = int(re.sub(r"[,\s]", "", found.group()))
    return -people if re.search(r"-\s*$", text[: found.start()]) else people


def clean_note(note: str) -> str:
    return strip_controls(note).strip()[:MAX_NOTE]
