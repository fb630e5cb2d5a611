"""Each event is emitted by the service where its change happens, in the same
transaction, with the documented payload and nothing more."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from contacts import data_rights, subscriptions
from contacts.models import Contact, ContactList
from mailer.accounts.models import User
from mailer.bounces.models import COMPLAINT, SOFT
from mailer.bounces.reports import REPORT_COMPLAINT
from mailer.config import Config
from mailer.database import Database
from mailer.delivery import bounces as delivery_bounces
from mailer.delivery import sends
from mailer.delivery.models import SEND_SENDING, SENT, Delivery, Send
from mailer.events import catalogue
from mailer.events.models import WebhookAttempt, WebhookMessage
from mailer.personal_data import erasure_scrubbers
from mailer.tracking import signups, subscribe
from mailer.tracking.models import SignUp
from scheduler.consultations import phase_events
from scheduler.models import SCHEDULED, Consultation
from tests.bounces.helpers import delivery, dsn, record, sent_send
from tests.events.helpers import START, add_endpoint, webhook_config
from tests.scheduler import plans


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    return webhook_config(tmp_path, db)


@pytest.fixture
def listening(db: Database, config: Config, admin_user: User) -> int:
    """An endpoint wanting every event (nothing is delivered in these tests)."""
    return add_endpoint(db, config, admin_user, "http://127.0.0.1:9/hook")[0]


def _told(db: Database, event: str) -> list[dict[str, Any]]:
    with db.transaction() as session:
        bodies = session.scalars(
            select(WebhookMessage.payload)
            .where(WebhookMessage.event_type == event)
            .order_by(WebhookMessage.id)
        )
        return [json.loads(body)["data"] for body in bodies]


def _contact(db: Database, address: str) -> Contact:
    with db.transaction() as session:
        found = session.scalar(select(Contact).where(Contact.email_key == address.casefold()))
        assert found is not None
        session.expunge(found)
        return found


def test_nothing_is_queued_without_an_endpoint(db: Database, admin_user: User):
    send_id = sent_send(db, admin_user, ["ann@example.org"])
    with db.transaction() as session:
        contact = session.scalar(select(Contact))
        subscriptions.unsubscribe(session, contact, send_id=send_id, one_click=True)
    with db.transaction() as session:
        assert session.scalar(select(WebhookMessage.id)) is None


def test_unsubscribed(db: Database, admin_user: User, listening: int):
    send_id = sent_send(db, admin_user, ["ann@example.org"])
    contact = _contact(db, "ann@example.org")
    with db.transaction() as session:
        subscriptions.unsubscribe(
            session, session.get(Contact, contact.id), send_id=send_id, one_click=True
        )
        # Idempotent: a second click tells nobody again.
        subscriptions.unsubscribe(
            session, session.get(Contact, contact.id), send_id=send_id, one_click=True
        )
    assert _told(db, catalogue.CONTACT_UNSUBSCRIBED) == [
        {"contact_id": contact.id, "email": "ann@example.org", "how": "one-click (mail client)"}
    ]


def test_erased_carries_the_id_alone_and_scrubs_earlier_payloads(
    db: Database, config: Config, admin_user: User, listening: int
):
    send_id = sent_send(db, admin_user, ["Bob.Smith@example.org"])
    contact = _contact(db, "bob.smith@example.org")
    with db.transaction() as session:
        subscriptions.unsubscribe(session, session.get(Contact, contact.id), send_id=send_id)
        message = session.scalar(select(WebhookMessage))
        # The endpoint's answer quoted the address back.
        session.add(
            WebhookAttempt(
                message_id=message.id,
                endpoint_id=listening,
                status_code=400,
                response='{"error": "bob.smith@EXAMPLE.org is unknown here"}',
            )
        )
    with db.transaction() as session:
        data_rights.erase(
            session,
            session.get(Contact, contact.id),
            by=session.get(User, admin_user.id),
            scrubbers=erasure_scrubbers(config),
        )
    assert _told(db, catalogue.CONTACT_ERASED) == [{"contact_id": contact.id}]
    assert _told(db, catalogue.CONTACT_UNSUBSCRIBED) == [
        {"contact_id": contact.id, "email": "[erased]", "how": "unsubscribe page"}
    ]
    with db.transaction() as session:
        everything = " ".join(session.scalars(select(WebhookMessage.payload)))
        everything += " ".join(session.scalars(select(WebhookAttempt.response)))
    assert "bob.smith" not in everything.lower()


def test_bounced_hard_and_soft(db: Database, admin_user: User, listening: int):
    send_id = sent_send(db, admin_user, ["gone@example.org", "full@example.org"])
    record(db, dsn(delivery(db, send_id, "gone@example.org")))
    record(db, dsn(delivery(db, send_id, "full@example.org"), kind=SOFT, status="4.2.2",
                   fingerprint="<dsn-2@mx.example.net>"))  # fmt: skip
    gone, full = _contact(db, "gone@example.org"), _contact(db, "full@example.org")
    told = _told(db, catalogue.DELIVERY_BOUNCED)
    assert [set(t) for t in told] == [{"contact_id", "email", "send_id", "kind", "reason"}] * 2
    assert told[0] | {"reason": ""} == {
        "contact_id": gone.id, "email": "gone@example.org", "send_id": send_id,
        "kind": "hard", "reason": "",
    }  # fmt: skip
    assert told[1]["contact_id"] == full.id and told[1]["kind"] == "soft"
    assert told[0]["reason"] and told[1]["reason"]


def test_complained(db: Database, admin_user: User, listening: int):
    send_id = sent_send(db, admin_user, ["cross@example.org"])
    row = delivery(db, send_id, "cross@example.org")
    record(db, dsn(row, kind=COMPLAINT, status="", report_kind=REPORT_COMPLAINT))
    contact = _contact(db, "cross@example.org")
    assert _told(db, catalogue.DELIVERY_COMPLAINED) == [
        {"contact_id": contact.id, "email": "cross@example.org", "send_id": send_id}
    ]


def test_send_finished(db: Database, admin_user: User, listening: int):
    send_id = sent_send(db, admin_user, ["a@example.org", "b@example.org"])
    with db.transaction() as session:
        send = session.get(Send, send_id)
        send.state = SEND_SENDING
        session.execute(update(Delivery).where(Delivery.send_id == send_id).values(state=SENT))
        assert sends.finish_if_done(session, send, now=START)
        assert not sends.finish_if_done(session, send, now=START)
    assert _told(db, catalogue.SEND_FINISHED) == [
        {
            "send_id": send_id, "kind": "bulletin", "bulletin_id": send.bulletin_id,
            "consultation_id": None,
            "counts": {"sent": 2, "failed": 0, "skipped": 0, "bounced": 0},
        }
    ]  # fmt: skip


def test_cascade_confirmed_names_no_person(db: Database, config: Config, admin_user: User,
                                           listening: int):  # fmt: skip
    cid = _consultation(db, config, admin_user)
    with db.transaction() as session:
        signups.record_shared(
            session, session.get(Consultation, cid), sharer=None, channel="email",
            reach="about 40", note="Sent to our parish councils", now=plans.NOW,
        )  # fmt: skip
    assert _told(db, catalogue.CASCADE_CONFIRMED) == [
        {"consultation_id": cid, "channel": "email", "reach": 40}
    ]


def _consultation(db: Database, config: Config, author: User) -> int:
    with db.transaction() as session:
        partners = ContactList(name="Partners")
        session.add(partners)
        session.flush()
        list_id = partners.id
    cid, _ = plans.create(db, config, author, plans.details(list_id))
    with db.transaction() as session:
        session.get(Consultation, cid).state = SCHEDULED
    return cid


def test_consultation_opened_and_closed_once_each(
    db: Database, config: Config, admin_user: User, listening: int
):
    cid = _consultation(db, config, admin_user)
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        opens, closes = consultation.opens_at, consultation.closes_at
    for moment in (opens - timedelta(minutes=1), opens, opens + timedelta(minutes=1), closes,
                   closes + timedelta(hours=1)):  # fmt: skip
        with db.transaction() as session:
            phase_events.tell(session, now=moment)
    expected = {
        "consultation_id": cid,
        "title": "Draft Police and Crime Plan 2027-2031",
        "slug": consultation.slug,
        "opens_at": opens.isoformat().replace("+00:00", "Z"),
        "closes_at": closes.isoformat().replace("+00:00", "Z"),
    }
    assert _told(db, catalogue.CONSULTATION_OPENED) == [expected]
    assert _told(db, catalogue.CONSULTATION_CLOSED) == [expected]


def test_an_old_opening_is_marked_told_without_an_event(
    db: Database, config: Config, admin_user: User, listening: int
):
    """After an upgrade, consultations that opened long ago do not flood endpoints."""
    cid = _consultation(db, config, admin_user)
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        later = consultation.opens_at + timedelta(days=3)
        phase_events.tell(session, now=later)
        assert consultation.opened_told_at == later
    assert _told(db, catalogue.CONSULTATION_OPENED) == []


def test_signup_confirmed_on_a_consultation_once(
    db: Database, config: Config, admin_user: User, listening: int
):
    cid = _consultation(db, config, admin_user)
    with db.transaction() as session:
        sign_up = SignUp(
            consultation_id=cid, email="Reader@example.org", email_key="reader@example.org",
            name="A Reader", token="t" * 40, created_at=plans.NOW,
        )  # fmt: skip
        session.add(sign_up)
        session.flush()
        consultation = session.get(Consultation, cid)
        contact = signups.confirm(session, consultation, sign_up, now=plans.NOW)
        signups.confirm(session, consultation, sign_up, now=plans.NOW)  # a second click
    assert _told(db, catalogue.SIGNUP_CONFIRMED) == [
        {"contact_id": contact.id, "email": "Reader@example.org", "consultation_id": cid}
    ]


def test_signup_confirmed_on_the_sign_up_page_names_the_lists(db: Database, listening: int):
    with db.transaction() as session:
        news = ContactList(name="News", choosable=True)
        session.add(news)
        session.flush()
        pending = subscribe.Pending(
            email="new@example.org", name="", organisation="", list_ids=(news.id,)
        )
        contact = subscribe.confirm(session, pending, now=START)
        assert contact is not None
        subscribe.confirm(session, pending, now=START)  # joined already: nothing new
    assert _told(db, catalogue.SIGNUP_CONFIRMED) == [
        {"contact_id": contact.id, "email": "new@example.org", "list_ids": [news.id]}
    ]


def test_a_hard_refusal_at_rcpt_that_suppresses_is_told(
    db: Database, admin_user: User, listening: int
):
    send_id = sent_send(db, admin_user, ["nobody@example.org"])
    with db.transaction() as session:
        session.execute(update(Delivery).values(hard_bounce=True))
        contact = session.scalar(select(Contact))
        assert delivery_bounces.record_hard_bounce(
            session, contact_id=contact.id, send_id=send_id,
            reply="550 5.1.1 <nobody@example.org>: user unknown", limit=1, now=START,
        )  # fmt: skip
    assert _told(db, catalogue.DELIVERY_BOUNCED) == [
        {
            "contact_id": contact.id, "email": "nobody@example.org", "send_id": send_id,
            "kind": "hard", "reason": "550 5.1.1 <nobody@example.org>: user unknown",
        }
    ]  # fmt: skip
