"""The suppression list: addresses never to mail again, kept only as keyed hashes.

The key is made once per installation by migration 0002 and kept in the database (so
every process shares it) and is separate from the secret key, so rotating the secret key does not
orphan the list. A keyed hash, unlike a plain one, cannot be reversed by hashing a
list of guessable addresses.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.models import Contact, Suppression, SystemKey

KEY_NAME = "suppression"


def _key(session: Session) -> bytes:
    cache = session.info.setdefault("system_keys", {})
    if KEY_NAME not in cache:
        value = session.scalar(select(SystemKey.value).where(SystemKey.name == KEY_NAME))
        if value is None:
            raise RuntimeError(
                "the suppression key is missing from system_keys; "
                "run `mailer init` (migration 0002 makes it)"
            )
        cache[KEY_NAME] = bytes.fromhex(value)
    return cache[KEY_NAME]


def address_hash(session: Session, email_key: str) -> str:
    """The keyed hash of a case-folded address."""
    return hmac.new(_key(session), email_key.encode("utf-8"), hashlib.sha256).hexdigest()


def suppressed_hashes(session: Session, hashes: list[str]) -> set[str]:
    if not hashes:
        return set()
    return set(
        session.scalars(
            select(Suppression.address_hash).where(Suppression.address_hash.in_(hashes))
        )
    )


def is_suppressed(session: Session, email_key: str) -> bool:
    digest = address_hash(session, email_key)
    return (
        session.scalar(select(Suppression.id).where(Suppression.address_hash == digest)) is not None
    )


def suppress(
    session: Session,
    *,
    email_key: str,
    reason: str,
    contact: Contact | None = None,
    send_id: int | None = None,
    detail: str = "",
) -> Suppression:
    """Add (or keep) the address on the list; the first reason recorded stays."""
    digest = address_hash(session, email_key)
    existing = session.scalar(select(Suppression).where(Suppression.address_hash == digest))
    if existing is not None:
        if contact is not None and existing.contact_id is None:
            existing.contact = contact
        return existing
    entry = Suppression(
        address_hash=digest, reason=reason, contact=contact, send_id=send_id, detail=detail[:500]
    )
    session.add(entry)
    return entry
