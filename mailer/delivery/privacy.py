"""Erasure reaches the delivery records and the outbox (see contacts.data_rights and
mailer.personal_data.erasure_scrubbers).

A delivery row stays (the send's counts must stay true) but loses the address; the
server replies it kept have the address replaced. Outbox files addressed to the person
are deleted: they are copies of messages, not records anyone needs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.delivery.models import Delivery

log = logging.getLogger(__name__)

ERASED = "[erased]"


def scrub_deliveries(session: Session, contact_id: int, email: str) -> None:
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    for delivery in session.scalars(select(Delivery).where(Delivery.contact_id == contact_id)):
        delivery.address = ""
        delivery.last_reply = pattern.sub(ERASED, delivery.last_reply)


@dataclass(frozen=True)
class OutboxScrubber:
    """Deletes the outbox files addressed to the person from ``folder``."""

    folder: Path

    def __call__(self, session: Session, contact_id: int, email: str) -> None:
        scrub_outbox(self.folder, contact_id, email)


def scrub_outbox(folder: Path, contact_id: int, email: str) -> None:
    if not folder.is_dir():
        return
    needle = email.casefold().encode("utf-8")
    removed = 0
    for path in folder.glob("*.eml"):
        try:
            if needle in path.read_bytes().lower():
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    if removed:
        log.info("erasure of contact %s removed %d outbox files", contact_id, removed)
