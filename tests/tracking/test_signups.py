"""Register for updates, through a real SMTP server: only a confirmed address becomes a
contact, with its referrer; bad input, abuse and a relay that says no are handled. The
confirmation is queued by the request and sent by a delivery worker."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts.models import SOURCE_CASCADE, Contact
from mailer.database import Database
from mailer.delivery import pool
from mailer.delivery.models import QueuedMessage
from mailer.tracking.models import CascadeConfirmation, SignUp
from tests.conftest import csrf_from
from tests.smtp_server import FaultySmtp
from tests.tracking.helpers import consultation, launched

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"


def page_through(client: FlaskClient, share: str) -> str:
    return client.get(client.get(share).headers["Location"]).get_data(as_text=True)


def register(client: FlaskClient, page: str, **fields: str):  # type: ignore[no-untyped-def]
    slug = re.search(r'action="/consultations/([^/]+)/register', page).group(1)
    via = re.search(r'name="via" value="([^"]+)"', page)
    data = {"csrf_token": csrf_from(page), "name": "Sam Colleague", **fields}
    if via:
        data["via"] = via.group(1)
    return client.post(f"/consultations/{slug}/register", data=data)


def deliver(app: Flask) -> int:
    """A delivery worker's pass: the queued confirmations go."""
    return pool.run_once(app.extensions["mailer.db"], app.config["MAILER"])


def count(db: Database, model: object) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))  # type: ignore[arg-type]


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_only_a_confirmed_address_becomes_a_contact_with_its_referrer(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    cid, messages = launched(smtp_app, db, server)
    sharer = messages["partner0@example.org"]
    client = smtp_app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    page = page_through(client, sharer.share)
    assert "Register for updates" in page and "We keep your name and email address" in page
    done = register(client, page, email="Sam.Colleague@Example.org")
    assert done.status_code == 200 and "an email is on its way" in done.get_data(as_text=True)
    deliver(smtp_app)

    (arrived,) = [m for m in server.received if m.recipients == ["Sam.Colleague@example.org"]]
    assert b"\n" not in arrived.data.replace(b"\r\n", b"")
    message = BytesParser(policy=policy.default).parsebytes(arrived.data)
    assert message["Subject"] == "Confirm: updates on Draft Police and Crime Plan"
    text = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"(/consultations/[^\s]+/confirm/[A-Za-z0-9_-]+)", text).group(1)
    with db.transaction() as session:
        assert session.scalar(select(Contact).where(Contact.email_key.like("sam%"))) is None

    # Opening the link (as a mail scanner would) changes nothing; the button does.
    shown = client.get(path).get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalar(select(Contact).where(Contact.email_key.like("sam%"))) is None
    client.post(path, data={"csrf_token": csrf_from(shown)})
    client.post(path, data={"csrf_token": csrf_from(shown)})  # twice: still one contact
    signup_list = consultation(db, cid).signup_list_id
    with db.transaction() as session:
        contact = session.scalar(
            select(Contact).where(Contact.email_key == "sam.colleague@example.org")
        )
        referrer = session.get(Contact, contact.referred_by_id)
        member_of = [m.list_id for m in contact.memberships]
    assert contact.source == SOURCE_CASCADE and contact.lawful_basis == "consent"
    assert referrer.email == "partner0@example.org"
    assert member_of == [signup_list]
    assert client.get(path.replace("/confirm/", "/confirm/x")).status_code == 404


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_bad_input_abuse_and_a_refusing_relay_keep_nothing(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    _cid, messages = launched(smtp_app, db, server)
    client = smtp_app.test_client()
    page = page_through(client, messages["partner1@example.org"].share)
    bad = register(client, page, email="not an address")
    assert bad.status_code == 400
    assert "That email address does not look right" in bad.get_data(as_text=True)
    # A form filled in by software: looks accepted, keeps nothing, sends nothing.
    before = len(server.received)
    assert register(client, page, email="bot@example.org", website="http://spam").status_code == 200
    assert len(server.received) == before and count(db, SignUp) == 0
    # No CSRF token: refused.
    slug = re.search(r'action="/consultations/([^/]+)/register', page).group(1)
    assert (
        client.post(f"/consultations/{slug}/register", data={"email": "x@example.org"}).status_code
        == 400
    )
    # The relay says 451: the request answered at once (the confirmation was queued);
    # the worker keeps it for a later try, with the relay's reply.
    server.fail("rcpt", "451 4.3.0 try later")
    assert register(client, page, email="later@example.org").status_code == 200
    assert deliver(smtp_app) == 0
    with db.transaction() as session:
        queued = session.scalars(select(QueuedMessage)).one()
    assert (queued.state, queued.recipient) == ("queued", "later@example.org")
    assert "451 4.3.0 try later" in queued.last_reply and queued.next_attempt_at is not None
    assert count(db, SignUp) == 1
    # Three requests an hour for one address, then a clear no.
    for _ in range(3):
        assert register(client, page, email="keen@example.org").status_code == 200
    limited = register(client, page, email="keen@example.org")
    assert limited.status_code == 400
    assert "already sent confirmation emails" in limited.get_data(as_text=True)
    assert count(db, SignUp) == 4


def test_i_shared_this_checks_what_it_is_given(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    _cid, messages = launched(smtp_app, db, server)
    client = smtp_app.test_client()
    confirm = messages["partner2@example.org"].link(r"/s/[A-Za-z0-9_-]+/shared")
    page = client.get(client.get(confirm).headers["Location"]).get_data(as_text=True)
    slug = re.search(r'action="/consultations/([^/]+)/shared', page).group(1)
    sharer = re.search(r'name="sharer" value="([^"]+)"', page).group(1)

    def tell(**fields: str):  # type: ignore[no-untyped-def]
        data = {"csrf_token": csrf_from(page), "sharer": sharer, **fields}
        return client.post(f"/consultations/{slug}/shared", data=data)

    assert "Choose how you shared it" in tell(reach="5").get_data(as_text=True)
    assert "as a number" in tell(channel="email", reach="lots").get_data(as_text=True)
    assert "from 0 to" in tell(channel="email", reach="-3").get_data(as_text=True)
    assert count(db, CascadeConfirmation) == 0
    for _ in range(10):
        assert tell(channel="newsletter", reach="200").status_code == 200
    assert "already have several" in tell(channel="email", reach="1").get_data(as_text=True)
    assert count(db, CascadeConfirmation) == 10
