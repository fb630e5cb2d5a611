"""A claimed delivery row, and the recipient its message is personalised for.

A claim (mailer/delivery/claims.py) returns :class:`Claimed` rows; for each,
:func:`recipient_for` gives the values spliced into the send's prepared message: the
person's name and organisation, their signed unsubscribe and preferences links, and
their personal share links. It runs for every message a worker sends, so it builds
nothing it could build once (the ``PublicUrls`` and the keys come from the worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, func, select

from contacts import tokens
from contacts.models import ListMembership
from mailer.delivery import verp
from mailer.delivery.prepared import Prepared
from mailer.public_urls import PublicUrls
from mailer.rendering.prepare import Recipient


class Claimed(NamedTuple):
    """One claimed row, with what is needed to send it. A tuple: a claim makes hundreds."""

    id: int
    send_id: int
    contact_id: int
    address: str
    name: str
    organisation: str
    role: str
    message_id: str
    attempts: int
    created_at: datetime
    not_before: datetime | None = None  # its slot under [smtp] rate_per_second
    share_code: str | None = None  # the contact's share code for the consultation
    link_key: str = ""  # the contact's link key, signed into its unsubscribe and preferences links


def first_lists(
    connection: Connection, rows: Sequence[Claimed], lists: Sequence[int]
) -> dict[int, int]:
    """For each contact of ``rows``: the first (lowest id) of ``lists`` they are on, the
    list whose List-Id their message carries. One query for a claimed batch of a send;
    a contact on none of them (there by organisation type) is left out."""
    if not lists or not rows:
        return {}
    query = (
        select(ListMembership.contact_id, func.min(ListMembership.list_id))
        .where(
            ListMembership.contact_id.in_({row.contact_id for row in rows}),
            ListMembership.list_id.in_(lists),
        )
        .group_by(ListMembership.contact_id)
    )
    return {row[0]: row[1] for row in connection.execute(query)}


def recipient_for(
    row: Claimed,
    prepared: Prepared,
    *,
    urls: PublicUrls,
    keys: Sequence[str],
    list_id: int | None = None,
    bounce_address: str = "",
) -> Recipient:
    """The recipient of ``row``'s message: who they are and their personal links.
    ``list_id``: the audience list they are written to as (:func:`first_lists`);
    ``bounce_address``: ``[bounces] address``, for a mailto: List-Unsubscribe."""
    unsubscribe = tokens.make(
        tokens.UNSUBSCRIBE,
        contact_id=row.contact_id,
        key=row.link_key,
        send_id=row.send_id,
        keys=keys,
    )
    preferences = tokens.make(
        tokens.PREFERENCES, contact_id=row.contact_id, key=row.link_key, keys=keys
    )
    links = dict(prepared.links)
    if row.share_code:
        # The personal share link (a forwarded copy shares as its reader's referrer,
        # and can never unsubscribe them) and the "tell us you shared this" form.
        links["share"] = urls.share(row.share_code)
        links["confirm_cascade"] = urls.shared(row.share_code)
        if prepared.personal_survey:
            # Per-person counting (off by default): the survey link names its reader.
            links["survey"] = f"{links['survey']}/{row.share_code}"
    return Recipient(
        email=row.address,
        name=row.name,
        organisation=row.organisation,
        role=row.role,
        links={
            **links,
            "unsubscribe": urls.unsubscribe(unsubscribe),
            "preferences": urls.preferences(preferences),
        },
        list_id=prepared.lists.get(list_id, "") if list_id is not None else "",
        unsubscribe_mailto=(
            verp.unsubscribe_mailto(bounce_address, row.id, keys=keys) if bounce_address else ""
        ),
    )
