"""Whose link is this? The contact an unsubscribe or preferences token acts on, or none.

A token names a contact by id and by the contact's random link key (contacts.tokens);
both must match, so an erased person's links are dead, and can never reach someone who
came after them. Tokens made before links carried the key (still in mailboxes) name an
id alone; one acts only where it is proven to be this contact's:

- the contact's id was never held by an erased contact before them (``legacy_links``,
  set when the keys came in), or
- for unsubscribe, a delivery of the token's send was made to this contact: erasure
  empties the contact of every delivery row, so an erased person's send is not
  found under whoever holds the id now. Deliveries are delivery's records, so the
  caller passes the question in (``was_delivered``: mailer.delivery.sends.was_delivered).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from contacts import tokens
from contacts.models import Contact


@dataclass(frozen=True)
class Owner:
    contact: Contact
    token: tokens.LinkToken


class Refused(Exception):
    """A token that is signed by us but acts on nobody: ``forged`` False means it was
    real once (its person was erased, or it cannot be proven to be theirs)."""

    def __init__(self, *, forged: bool) -> None:
        super().__init__("forged" if forged else "no longer works")
        self.forged = forged


# was_delivered(session, send_id=..., contact_id=...): was that send delivered to them?
WasDelivered = Callable[..., bool]


def owner(
    session: Session,
    purpose: str,
    token: str,
    *,
    keys: Sequence[str],
    was_delivered: WasDelivered,
) -> Owner:
    """The contact ``token`` acts on; Refused when it acts on nobody. ``keys``: the
    secret keys links are signed with (contacts.tokens.secret_keys)."""
    parsed = tokens.read(purpose, token, keys=keys)
    if parsed is None:
        raise Refused(forged=True)
    contact = session.get(Contact, parsed.contact_id)
    if contact is None or not _belongs(session, purpose, parsed, contact, was_delivered):
        raise Refused(forged=False)
    return Owner(contact, parsed)


def _belongs(
    session: Session,
    purpose: str,
    parsed: tokens.LinkToken,
    contact: Contact,
    was_delivered: WasDelivered,
) -> bool:
    if parsed.key is not None:
        return hmac.compare_digest(parsed.key, contact.link_key)
    if contact.legacy_links:
        return True
    if purpose != tokens.UNSUBSCRIBE or parsed.send_id is None:
        return False
    return bool(was_delivered(session, send_id=parsed.send_id, contact_id=contact.id))


def unsubscribe_token(contact: Contact, *, keys: Sequence[str], send_id: int | None = None) -> str:
    return tokens.make(
        tokens.UNSUBSCRIBE, contact_id=contact.id, key=contact.link_key, send_id=send_id, keys=keys
    )


def preferences_token(contact: Contact, *, keys: Sequence[str]) -> str:
    return tokens.make(tokens.PREFERENCES, contact_id=contact.id, key=contact.link_key, keys=keys)
