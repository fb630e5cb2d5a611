"""The SQL of a claim, built once for each kind of database.

A claim runs hundreds of times in a large send, so its statements are made once and
take their values as parameters. A batch's ids travel as one parameter: an array on
PostgreSQL (``id = ANY(:ids)``), an expanding list on SQLite. Written as literals,
SQLAlchemy would coerce each id and psycopg re-parse a query of 200 placeholders on
every claim, which cost as much as the claim's own database work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Update,
    and_,
    any_,
    bindparam,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute

from contacts.models import Contact
from mailer.database import UTCDateTime
from mailer.delivery.models import QUEUED, SENDING, Delivery, Send, ShareCode


def _one_of(
    column: InstrumentedAttribute[int], name: str, *, postgresql: bool
) -> ColumnElement[bool]:
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
    return column.in_(bindparam(name, expanding=True))


@dataclass(frozen=True)
class ClaimStatements:
    expired: Select[int]  # rows whose lease ran out (their worker died)
    queued: Select[int]  # queued rows in the order they fell due
    lease: Update  # mark the chosen rows as this worker's
    rows: Select  # what the worker needs of each claimed row

    @classmethod
    def build(cls, *, postgresql: bool) -> ClaimStatements:
        running = _one_of(Delivery.send_id, "sending", postgresql=postgresql)
        now = bindparam("now", type_=UTCDateTime())
        expired = (
            select(Delivery.id)
            .where(Delivery.state == SENDING, Delivery.lease_until < now, running)
            .order_by(Delivery.id)
            .limit(bindparam("limit", type_=Integer))
        )
        queued = (
            select(Delivery.id)
            .where(Delivery.state == QUEUED, Delivery.next_attempt_at <= now, running)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(bindparam("limit", type_=Integer))
        )
        if postgresql:
            # Rows another worker is claiming this instant are passed over, not waited on.
            expired = expired.with_for_update(skip_locked=True, of=Delivery)
            queued = queued.with_for_update(skip_locked=True, of=Delivery)
        chosen = _one_of(Delivery.id, "ids", postgresql=postgresql)
        lease = (
            update(Delivery)
            .where(chosen)
            .values(
                state=SENDING,
                lease_owner=bindparam("owner"),
                lease_until=bindparam("until", type_=UTCDateTime()),
                attempts=Delivery.attempts + 1,
            )
        )
        rows = (
            select(
                # In the order of recipients.Claimed's fields; the contact's status last.
                Delivery.id,
                Delivery.send_id,
                Contact.id.label("contact_id"),
                Contact.email,
                Contact.name,
                Contact.organisation,
                Contact.role,
                Delivery.message_id,
                Delivery.attempts,
                Delivery.created_at,
                ShareCode.code.label("share_code"),
                Contact.link_key,
                Contact.status,
            )
            .outerjoin(Contact, Contact.id == Delivery.contact_id)
            .join(Send, Send.id == Delivery.send_id)
            .outerjoin(
                ShareCode,
                and_(
                    ShareCode.consultation_id == Send.consultation_id,
                    ShareCode.contact_id == Delivery.contact_id,
                ),
            )
            .where(chosen)
            .order_by(Delivery.id)
        )
        return cls(expired=expired, queued=queued, lease=lease, rows=rows)


_SQLITE = ClaimStatements.build(postgresql=False)
_POSTGRESQL = ClaimStatements.build(postgresql=True)


def statements(*, sqlite: bool) -> ClaimStatements:
    return _SQLITE if sqlite else _POSTGRESQL
