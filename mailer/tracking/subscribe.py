"""The standing sign-up page (``/subscribe``): the lists stakeholders may choose.

The same double opt-in, limits and privacy as "register for updates" on a
consultation's page, through the same steps (mailer.tracking.signups: ``screen``,
``confirmation_email``, ``enrol``). What differs is where the request waits for its
confirmation: a consultation's sign-up is a row of ``sign_ups``, which belongs to a
consultation; a standing sign-up has none, so the request travels sealed in the
confirmation link itself (encrypted and authenticated with a key derived from the
secret key, and dated: it expires after ``signups.CONFIRM_WITHIN``). Nothing about an
unconfirmed address is kept in the database, and the address, name and organisation in
the link cannot be read or changed by anyone who sees it.

Confirming (the button, never the visit: mail scanners open links) makes or finds the
contact and puts them on the lists they chose that are still choosable. An address
suppressed before the request, or by the time of the button, gets nothing, and neither
answer says so. Confirming twice adds nothing the second time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.orm import Session

from contacts import subscriptions, suppression
from contacts.models import SOURCE_SIGN_UP, Contact, ContactList
from mailer import audit
from mailer.audit import actions
from mailer.config import Config
from mailer.events import catalogue, emit
from mailer.tracking import signups
from mailer.tracking.signups import Refused

log = logging.getLogger(__name__)

MAX_ORGANISATION = 200
# A sealed request of the longest address, name, organisation and every list is well
# under this; anything longer was not made here.
TOKEN_MAX = 4000
_PURPOSE = b"stakeholder-mailer.subscribe"


class ListRefused(Refused):
    """A list that cannot be chosen here (not choosable, or not a list): a form we did
    not make, so the answer is 400 with this sentence."""


@dataclass(frozen=True)
class Pending:
    """A sign-up waiting for its confirmation: what the person asked for."""

    email: str
    name: str
    organisation: str
    list_ids: tuple[int, ...]


@dataclass(frozen=True)
class Requested:
    token: str | None  # None: nothing is sent (a suppressed address, quietly)
    pending: Pending


def chosen_lists(session: Session, raw_ids: Iterable[str]) -> list[ContactList]:
    """The choosable lists the form's ``list`` values name. Raises ListRefused for a
    value that is not a choosable list, Refused when none is chosen."""
    choosable = {lst.id: lst for lst in subscriptions.choosable_lists(session)}
    chosen: list[ContactList] = []
    for raw in raw_ids:
        text = raw.strip()
        if not (text.isdecimal() and text.isascii() and len(text) <= 12):
            raise ListRefused("That is not one of the lists you can choose here.")
        found = choosable.get(int(text))
        if found is None:
            raise ListRefused("That is not one of the lists you can choose here.")
        if found not in chosen:
            chosen.append(found)
    if not chosen:
        raise Refused("Choose at least one list.")
    return chosen


def request(
    session: Session,
    *,
    email: str,
    name: str,
    organisation: str,
    lists: Sequence[ContactList],
    keys: Sequence[str],
    now: datetime,
    network: str = "unknown",
) -> Requested:
    """A sealed sign-up for ``lists``, or Refused. The caller queues the confirmation
    (``confirmation``) when there is a token, and answers every outcome alike."""
    address = signups.screen(session, email=email, network=network, now=now)
    pending = Pending(
        email=address,
        name=signups.clean_name(name),
        organisation=signups.clean_name(organisation)[:MAX_ORGANISATION],
        list_ids=tuple(lst.id for lst in lists),
    )
    if suppression.is_suppressed(session, address.casefold()):
        log.info("sign-up on the sign-up page: address suppressed; nothing sent")
        return Requested(None, pending)
    return Requested(seal(pending, keys=keys, now=now), pending)


def confirmation(
    config: Config,
    pending: Pending,
    *,
    lists: Sequence[ContactList],
    confirm_url: str,
    org: Mapping[str, Any],
    now: datetime,
) -> bytes:
    """The confirmation email; ``org`` is the organisation's settings (snapshot)."""
    names = ", ".join(lst.name for lst in lists)
    office = str(org.get("name") or "")
    return signups.confirmation_email(
        config,
        recipient=pending.email,
        subject=f"Confirm: updates from {office}" if office else "Confirm your updates",
        about=names,
        confirm_url=confirm_url,
        org=org,
        at=now,
    )


def still_choosable(session: Session, pending: Pending) -> list[ContactList]:
    """The lists of ``pending`` that may still be chosen (the office may have changed
    one since), in the order of the page."""
    wanted = set(pending.list_ids)
    return [lst for lst in subscriptions.choosable_lists(session) if lst.id in wanted]


def confirm(session: Session, pending: Pending, *, now: datetime) -> Contact | None:
    """Put the person on the lists they chose. None (and nothing done) for an address
    suppressed meanwhile: an unsubscribe or an erasure outranks an older request."""
    if suppression.is_suppressed(session, pending.email.casefold()):
        log.info("sign-up page confirmation: address suppressed meanwhile; nothing done")
        return None
    lists = still_choosable(session, pending)
    enrolled = signups.enrol(
        session,
        email=pending.email,
        name=pending.name,
        organisation=pending.organisation,
        list_ids=[lst.id for lst in lists],
        source=SOURCE_SIGN_UP,
    )
    if enrolled.created or enrolled.joined:
        joined = [lst.name for lst in lists if lst.id in enrolled.joined]
        audit.record(
            session,
            actions.CONTACT_SAVED,
            actor_label="stakeholder (sign-up confirmed)",
            target_type="contact",
            target_id=enrolled.contact.id,
            summary="Signed up on the sign-up page"
            + (f" for {', '.join(joined)}" if joined else ""),
            detail={"joined": list(enrolled.joined), "at": now.isoformat()},
        )
        data = catalogue.signed_up(
            enrolled.contact.id, enrolled.contact.email, list_ids=list(enrolled.joined)
        )
        emit.emit(session, catalogue.SIGNUP_CONFIRMED, data, now=now)
    return enrolled.contact


# --- the sealed request -------------------------------------------------------------------


def _sealer(keys: Sequence[str]) -> MultiFernet:
    if not keys:
        raise ValueError("a secret key is needed to seal sign-ups")
    # A key of its own per secret key, for this purpose alone; the newest seals, every
    # one opens (the secret key can be rotated with sign-ups on their way).
    derived = [hmac.new(k.encode(), _PURPOSE, hashlib.sha256).digest() for k in keys]
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in derived])


def seal(pending: Pending, *, keys: Sequence[str], now: datetime) -> str:
    data = json.dumps(
        [pending.email, pending.name, pending.organisation, list(pending.list_ids)],
        separators=(",", ":"),
    ).encode("utf-8")
    token = _sealer(keys).encrypt_at_time(data, int(now.timestamp()))
    return token.decode("ascii").rstrip("=")


def open_sealed(token: str, *, keys: Sequence[str], now: datetime) -> Pending:
    """What a confirmation link asks for. Raises LookupError for a link that is not
    ours, was changed, or is older than ``signups.CONFIRM_WITHIN``."""
    if not token or len(token) > TOKEN_MAX or not token.isascii():
        raise LookupError("not a sign-up link")
    padded = token + "=" * (-len(token) % 4)
    try:
        data = _sealer(keys).decrypt_at_time(
            padded.encode("ascii"),
            int(signups.CONFIRM_WITHIN.total_seconds()),
            int(now.timestamp()),
        )
        email, name, organisation, list_ids = json.loads(data)
    except (InvalidToken, ValueError, TypeError) as exc:
        raise LookupError("unknown or expired sign-up link") from exc
    return Pending(
        email=str(email),
        name=str(name),
        organisation=str(organisation),
        list_ids=tuple(int(i) for i in list_ids),
    )
