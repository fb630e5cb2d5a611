"""How often the public forms may be used: per address, per client network, overall.

Every use of "register for updates" and "I shared this" leaves a row in
``public_requests`` (keyed hashes only, kept a day), so the limits hold across every
web process and machine. A request over a limit is refused with a sentence saying what
to do; it is not recorded, so a refused flood does not also lock out the next day.

The address is normalised before it is counted: case folded and the ``+tag`` taken off
the local part, because ``victim+1@`` and ``Victim+2@`` reach the same mailbox; at
Gmail dots are ignored too and googlemail.com is gmail.com, so ``v.ictim@googlemail.com``
is ``victim@gmail.com``. Only the count uses this form; mail goes to the address given. The
network is the /24 (IPv4) or /64 (IPv6) the request came from: one machine has many
addresses in it, an office shares one.

The same rows are written and the same counts made whether the address is new, known
or suppressed, so neither the answer nor its timing tells anyone which it is.

Counting and recording are one step (``locks.hold``): requests arriving together take
turns, so a burst gets no more than the same requests sent one by one. Every form has
an overall limit, so all uses of one form take turns; each turn is a few queries (the
form's whole transaction, on PostgreSQL), far below what the overall limit lets in.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contacts import suppression
from mailer import locks
from mailer.tracking.models import PublicRequest

SIGN_UP = "sign_up"
SHARED = "shared"  # "I shared this" through a sharer's own link
SHARED_ANONYMOUS = "shared_anonymous"  # "I shared this" with no sharer's link
COMPLETED = "completed"  # a survey tool's completion redirect (/c/<code>)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
KEPT_FOR = DAY  # the longest window below

ADDRESS, NETWORK, ALL = "address", "network", "all"

_TOO_MANY_FOR_ADDRESS = (
    "We have already sent confirmation emails to this address recently. "
    "Check your inbox (and spam folder), or try again later."
)
_TOO_MANY_FROM_NETWORK = (
    "We have had many requests from your network in the last hour. Please try again later."
)
_TOO_MANY_OVERALL = "We are receiving a great many requests just now. Please try again in an hour."
_SHARED_TOO_OFTEN = (
    "Thank you. We have already had several of these from your internet connection "
    "today, so this one was not added. If this consultation reached you by email, the "
    '"tell us you shared this" link in that email counts it.'
)


@dataclass(frozen=True)
class Limit:
    scope: str  # ADDRESS, NETWORK or ALL
    count: int  # at most this many requests ...
    window: timedelta  # ... in this long
    refusal: str


LIMITS: dict[str, tuple[Limit, ...]] = {
    SIGN_UP: (
        Limit(ADDRESS, 3, HOUR, _TOO_MANY_FOR_ADDRESS),
        Limit(ADDRESS, 5, DAY, _TOO_MANY_FOR_ADDRESS),
        Limit(NETWORK, 20, HOUR, _TOO_MANY_FROM_NETWORK),
        Limit(ALL, 300, HOUR, _TOO_MANY_OVERALL),
    ),
    SHARED: (
        Limit(NETWORK, 20, HOUR, _TOO_MANY_FROM_NETWORK),
        Limit(ALL, 300, HOUR, _TOO_MANY_OVERALL),
    ),
    # A survey response is one person's, but anyone holding the address can load it:
    # about an office's worth per network, and no flood overall.
    COMPLETED: (
        Limit(NETWORK, 30, HOUR, _TOO_MANY_FROM_NETWORK),
        Limit(ALL, 1000, HOUR, _TOO_MANY_OVERALL),
    ),
    # Nobody vouches for these: a few per network, and few overall.
    SHARED_ANONYMOUS: (
        Limit(NETWORK, 3, HOUR, _SHARED_TOO_OFTEN),
        Limit(NETWORK, 5, DAY, _SHARED_TOO_OFTEN),
        Limit(ALL, 30, HOUR, _TOO_MANY_OVERALL),
    ),
}


# Gmail delivers ``v.i.c.tim@`` to ``victim@``, and googlemail.com is the same service.
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalised_address(address: str) -> str:
    """The mailbox an address reaches: case folded, without a ``+tag``, and at Gmail
    without dots. For counting only: mail still goes to the address as given."""
    local, at, domain = address.strip().casefold().rpartition("@")
    if not at:
        return address.strip().casefold()
    base = local.split("+", 1)[0] or local
    if domain in _GMAIL_DOMAINS:
        base = base.replace(".", "") or base
        domain = "gmail.com"
    return f"{base}@{domain}"


def network_of(remote_addr: str | None) -> str:
    """The /24 or /64 a client address belongs to ("unknown" when there is none)."""
    try:
        ip = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def admit(
    session: Session, *, form: str, network: str, address: str | None = None, now: datetime
) -> str | None:
    """Record this use of ``form``, or the sentence saying why not (nothing recorded)."""
    address_key = (
        suppression.address_hash(session, "address:" + normalised_address(address))
        if address is not None
        else None
    )
    network_key = suppression.address_hash(session, "network:" + network)
    scope_keys = {ADDRESS: address_key, NETWORK: network_key, ALL: ""}
    # Whoever counts the same things waits here until this transaction ends, so the
    # count below and the row added after it are one step (see the module docstring).
    locks.hold(
        session,
        *(f"public:{form}:{limit.scope}:{scope_keys[limit.scope]}" for limit in LIMITS[form]),
    )
    session.execute(delete(PublicRequest).where(PublicRequest.at < now - KEPT_FOR))
    for limit in LIMITS[form]:
        query = (
            select(func.count())
            .select_from(PublicRequest)
            .where(PublicRequest.form == form, PublicRequest.at > now - limit.window)
        )
        if limit.scope == ADDRESS:
            query = query.where(PublicRequest.address_key == address_key)
        elif limit.scope == NETWORK:
            query = query.where(PublicRequest.network_key == network_key)
        if (session.scalar(query) or 0) >= limit.count:
            return limit.refusal
    session.add(PublicRequest(form=form, address_key=address_key, network_key=network_key, at=now))
    session.flush()
    return None
