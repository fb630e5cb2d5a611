"""Proof sends (the admin calls them test sends): the real message, marked [TEST], to
at most ten addresses, so an editor sees what stakeholders will get.

A proof goes through the same rendering and the same transport a real send uses (queued
for the delivery workers, like every message a request asks for), so
what arrives is what stakeholders will get, except that the subject says [TEST] and
every personal link is a harmless stand-in (see ``messages.preview_recipient``). Where
an address belongs to a contact, the message is personalised with that contact's name
and organisation, so "preview as" and "send a test as" agree.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.models import Contact
from mailer import audit
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.bulletins import messages
from mailer.bulletins.context import ConsultationView
from mailer.bulletins.models import Bulletin
from mailer.delivery import queue
from mailer.delivery.models import MAIL_TEST
from mailer.rendering.prepare import message_id

MAX_ADDRESSES = 10
_SEPARATORS = re.compile(r"[\s,;]+")


class ProofSendRefused(Exception):
    """Nothing was sent; the message says why and what to change."""


@dataclass(frozen=True)
class ProofMessage:
    address: str
    data: bytes


def parse_addresses(text: str) -> list[str]:
    """Normalised, de-duplicated addresses; ProofSendRefused names every bad one."""
    raw = [a for a in _SEPARATORS.split(text.strip()) if a]
    if not raw:
        raise ProofSendRefused("Give at least one address to send the test to.")
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
        raise ProofSendRefused("Nothing was sent. Check these addresses: " + "; ".join(problems))
    if len(addresses) > MAX_ADDRESSES:
        raise ProofSendRefused(
            f"A test goes to at most {MAX_ADDRESSES} addresses; you gave {len(addresses)}."
        )
    return addresses


def render_proofs(
    session: Session,
    bulletin: Bulletin,
    addresses: list[str],
    *,
    settings: messages.Settings,
    now: datetime,
    documents: Sequence[Any] | None = None,
    about: ConsultationView | None = None,
) -> list[ProofMessage]:
    """Each address's finished message. The slow part (the template, CSS inlining):
    the caller runs it in a read-only session (Database.reading), outside the write lock.

    ``about`` and ``documents``: the consultation the bulletin is about (or whose
    message it is) and the documents it carries, so a test shows the real one."""
    try:
        frozen = messages.freeze(session, bulletin, documents=documents)
    except messages.TemplateUnusable as exc:
        raise ProofSendRefused(str(exc)) from None
    consultation = messages.consultation_or_example(frozen.kind, about, settings=settings, now=now)
    try:
        prepared = messages.prepare_frozen(
            frozen,
            settings=settings,
            consultation=consultation,
            now=now,
            subject_prefix=messages.TEST_SUBJECT_PREFIX,
        )
    except Exception as exc:  # a template problem or a missing document: say which
        raise ProofSendRefused(f"Nothing was sent: {exc}") from None
    contacts = {
        c.email_key: c
        for c in session.scalars(
            select(Contact).where(Contact.email_key.in_([a.casefold() for a in addresses]))
        )
    }
    rendered: list[ProofMessage] = []
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
        rendered.append(ProofMessage(address, data))
    return rendered


def queue_proofs(
    session: Session,
    bulletin: Bulletin,
    proofs: list[ProofMessage],
    *,
    by: User,
    sender: str,
    now: datetime,
) -> None:
    """Queue the proofs for the delivery workers (mailer.delivery.queue), each on its
    own (one refusal stops no other), and audit who sent what to whom. The bulletin's
    page shows how each went (:func:`mailer.delivery.queue.recent_tests`)."""
    for proof in proofs:
        queue.enqueue(
            session,
            kind=MAIL_TEST,
            sender=sender,
            recipient=proof.address,
            data=proof.data,
            now=now,
            bulletin_id=bulletin.id,
        )
    summary = f'Sent a test of "{bulletin.subject}" to ' + ", ".join(p.address for p in proofs)
    audit.record(
        session,
        actions.BULLETIN_TEST_SENT,
        actor=by,
        target_type="bulletin",
        target_id=bulletin.id,
        summary=summary[:500],
    )
