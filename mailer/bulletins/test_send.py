"""Test sends: the real message, marked [TEST], to at most ten addresses.

A test goes through the same rendering and the same transport a real send uses, so
what arrives is what stakeholders will get, except that the subject says [TEST] and
every personal link is a harmless stand-in (see ``messages.preview_recipient``). Where
an address belongs to a contact, the message is personalised with that contact's name
and organisation, so "preview as" and "send a test as" agree.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.models import Contact
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import messages
from mailer.bulletins.models import Bulletin
from mailer.delivery.transport import STAGE_AUTH, STAGE_CONNECT, Transport, TransportError
from mailer.rendering.prepare import message_id

log = logging.getLogger(__name__)

MAX_ADDRESSES = 10
_SEPARATORS = re.compile(r"[\s,;]+")


class TestSendRefused(Exception):
    """Nothing was sent; the message says why and what to change."""


@dataclass(frozen=True)
class Outcome:
    address: str
    sent: bool
    reply: str


def parse_addresses(text: str) -> list[str]:
    """Normalised, de-duplicated addresses; TestSendRefused names every bad one."""
    raw = [a for a in _SEPARATORS.split(text.strip()) if a]
    if not raw:
        raise TestSendRefused("Give at least one address to send the test to.")
    addresses: list[str] = []
    problems: list[str] = []
    for candidate in raw:
        try:
            normalised = validate_email(candidate, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            problems.append(f"{candidate}: {exc}")
            continue
        if normalised.casefold() not in (a.casefold() for a in addresses):
            addresses.append(normalised)
    if problems:
        raise TestSendRefused("Nothing was sent. Check these addresses: " + "; ".join(problems))
    if len(addresses) > MAX_ADDRESSES:
        raise TestSendRefused(
            f"A test goes to at most {MAX_ADDRESSES} addresses; you gave {len(addresses)}."
        )
    return addresses


def send_test(
    session: Session,
    bulletin: Bulletin,
    addresses: list[str],
    *,
    by: User,
    transport: Transport,
    settings: messages.Settings,
    now: datetime,
) -> list[Outcome]:
    """Send the test to each address (each on its own: one refusal stops no other),
    and audit who sent what to whom."""
    try:
        frozen = messages.freeze(session, bulletin)
    except messages.TemplateUnusable as exc:
        raise TestSendRefused(str(exc)) from None
    consultation = messages.consultation_or_example(frozen.kind, None, settings=settings, now=now)
    try:
        prepared = messages.prepare_frozen(
            frozen,
            settings=settings,
            consultation=consultation,
            now=now,
            subject_prefix=messages.TEST_SUBJECT_PREFIX,
        )
    except Exception as exc:  # a template problem or a missing document: say which
        raise TestSendRefused(f"Nothing was sent: {exc}") from None
    contacts = {
        c.email_key: c
        for c in session.scalars(
            select(Contact).where(Contact.email_key.in_([a.casefold() for a in addresses]))
        )
    }
    outcomes: list[Outcome] = []
    try:
        for address in addresses:
            recipient = messages.preview_recipient(
                settings,
                email=address,
                contact=contacts.get(address.casefold()),
                consultation=consultation,
            )
            # The contact's stored address may differ in case; the test goes where asked.
            recipient = dataclasses.replace(recipient, email=address)
            data = prepared.personalise(
                recipient, message_id=message_id(settings.message_id_domain), now=now
            )
            try:
                reply = transport.send(
                    sender=settings.sender.from_address, recipient=address, data=data
                )
                outcomes.append(Outcome(address, True, reply))
            except TransportError as exc:
                log.warning("test send of bulletin %s to %s failed: %s", bulletin.id, address, exc)
                outcomes.append(Outcome(address, False, str(exc)))
                if exc.stage in (STAGE_CONNECT, STAGE_AUTH):
                    # The relay cannot be used at all: say so for everyone left rather
                    # than wait for the same timeout once per address.
                    outcomes += [Outcome(a, False, str(exc)) for a in addresses[len(outcomes) :]]
                    break
    finally:
        transport.close()
    sent = [o.address for o in outcomes if o.sent]
    failed = [o for o in outcomes if not o.sent]
    summary = f'Sent a test of "{bulletin.subject}" to ' + (", ".join(sent) or "nobody")
    if failed:
        summary += "; not sent to " + ", ".join(f"{o.address} ({o.reply})" for o in failed)
    audit.record(
        session,
        actions.BULLETIN_TEST_SENT,
        actor=by,
        target_type="bulletin",
        target_id=bulletin.id,
        summary=summary[:500],
    )
    return outcomes
