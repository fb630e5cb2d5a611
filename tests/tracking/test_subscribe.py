"""The standing sign-up page, through a real SMTP server: double opt-in onto exactly the
lists chosen, a harmless replay, and refusals for lists that cannot be chosen."""

from __future__ import annotations

import re
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts import suppression
from contacts.models import (
    SOURCE_SIGN_UP,
    SUPPRESSED_UNSUBSCRIBED,
    Contact,
    ContactList,
    ListMembership,
)
from mailer.audit.models import AuditEntry
from mailer.database import Database, utcnow
from mailer.delivery.models import QueuedMessage
from mailer.tracking import subscribe
from tests.conftest import csrf_from
from tests.smtp_server import FaultySmtp
from tests.tracking.test_signups import deliver


def _lists(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        made = {
            "Community safety news": ContactList(name="Community safety news", choosable=True),
            "Victim services": ContactList(
                name="Victim services", choosable=True, description="Support and funding"
            ),
            "Police and Crime Panel": ContactList(name="Police and Crime Panel"),
        }
        session.add_all(made.values())
        session.flush()
        return {name: lst.id for name, lst in made.items()}


def _sign_up(client: FlaskClient, *lists: int | str, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get("/subscribe").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "name": "Sam Colleague", **fields}
    return client.post("/subscribe", data={**data, "list": [str(i) for i in lists]})


def _members(db: Database, email_key: str) -> set[int]:
    with db.transaction() as session:
        return set(
            session.scalars(
                select(ListMembership.list_id)
                .join(Contact, Contact.id == ListMembership.contact_id)
                .where(Contact.email_key == email_key)
            )
        )


def _confirm_link(server: FaultySmtp, address: str) -> str:
    (arrived,) = [m for m in server.received if m.recipients == [address]]
    message = BytesParser(policy=policy.default).parsebytes(arrived.data)
    assert message["Subject"].startswith("Confirm")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Community safety news" in text
    found = re.search(r"https?://[^/\s]+(/subscribe/confirm/[A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_a_confirmed_sign_up_lands_on_exactly_the_lists_chosen(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    lists = _lists(db)
    client = smtp_app.test_client()
    page = client.get("/subscribe").get_data(as_text=True)
    assert "Community safety news" in page and "Victim services" in page
    assert "Police and Crime Panel" not in page  # not choosable
    assert "We keep your name, organisation and email address" in page

    done = _sign_up(
        client,
        lists["Community safety news"],
        email="Sam.Colleague@Example.org",
        organisation="Northshire Youth Trust",
    )
    assert done.status_code == 200 and "an email is on its way" in done.get_data(as_text=True)
    deliver(smtp_app)
    path = _confirm_link(server, "Sam.Colleague@example.org")
    # Nothing is kept about an address until it is confirmed, and opening the link (as
    # a mail scanner would) confirms nothing.
    shown = client.get(path)
    assert shown.status_code == 200
    assert "Sam.Colleague@example.org" in shown.get_data(as_text=True)
    assert _members(db, "sam.colleague@example.org") == set()

    client.post(path, data={"csrf_token": csrf_from(shown.get_data(as_text=True))})
    with db.transaction() as session:
        contact = session.scalar(
            select(Contact).where(Contact.email_key == "sam.colleague@example.org")
        )
        audited = session.scalar(select(func.count()).select_from(AuditEntry))
    assert (contact.name, contact.organisation) == ("Sam Colleague", "Northshire Youth Trust")
    assert (contact.source, contact.lawful_basis) == (SOURCE_SIGN_UP, "consent")
    assert _members(db, "sam.colleague@example.org") == {lists["Community safety news"]}

    # The link again (a replay, or a second click): nothing more happens.
    again = client.post(path, data={"csrf_token": csrf_from(shown.get_data(as_text=True))})
    assert again.status_code == 200
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited
    assert _members(db, "sam.colleague@example.org") == {lists["Community safety news"]}

    # A link that was changed, or made up, does nothing.
    forged = path[:-6] + ("AAAAAA" if not path.endswith("AAAAAA") else "BBBBBB")
    assert client.get(forged).status_code == 404
    assert client.post(forged, data={"csrf_token": csrf_from(page)}).status_code == 404


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_a_known_contact_is_added_and_a_suppressed_address_gets_nothing(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    lists = _lists(db)
    with db.transaction() as session:
        known = Contact(email="known@example.org", email_key="known@example.org", name="Kim Known")
        session.add(known)
        session.flush()
        session.add(ListMembership(list_id=lists["Police and Crime Panel"], contact_id=known.id))
        suppression.suppress(session, email_key="gone@example.org", reason=SUPPRESSED_UNSUBSCRIBED)
    client = smtp_app.test_client()
    both = (lists["Community safety news"], lists["Victim services"])
    gone = _sign_up(client, *both, email="gone@example.org")
    came = _sign_up(client, *both, email="known@example.org", name="Someone Else")
    # The same answer: the page does not tell anyone which addresses are known.
    assert gone.status_code == came.status_code == 200
    assert _strip_csrf(gone.get_data(as_text=True)) == _strip_csrf(came.get_data(as_text=True))
    deliver(smtp_app)
    assert [m.recipients for m in server.received] == [["known@example.org"]]
    path = _confirm_link(server, "known@example.org")
    shown = client.get(path).get_data(as_text=True)
    client.post(path, data={"csrf_token": csrf_from(shown)})
    assert _members(db, "known@example.org") == {lists["Police and Crime Panel"], *both}
    with db.transaction() as session:
        assert session.scalar(select(Contact.name).where(Contact.id == known.id)) == "Kim Known"
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def _strip_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def test_lists_that_cannot_be_chosen_are_refused(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    lists = _lists(db)
    client = smtp_app.test_client()
    for bad in (lists["Police and Crime Panel"], "999999", "1 OR 1=1", "-1"):
        refused = _sign_up(client, lists["Community safety news"], bad, email="x@example.org")
        assert refused.status_code == 400, bad
        assert "not one of the lists you can choose" in refused.get_data(as_text=True)
    none = _sign_up(client, email="x@example.org")
    assert none.status_code == 400 and "Choose at least one list" in none.get_data(as_text=True)
    typo = _sign_up(client, lists["Community safety news"], email="not an address")
    assert typo.status_code == 400
    assert "That email address does not look right" in typo.get_data(as_text=True)
    # Software that fills in every field: looks accepted, nothing is sent.
    bot = _sign_up(
        client, lists["Community safety news"], email="bot@example.org", website="http://x"
    )
    assert bot.status_code == 200
    no_token = client.post("/subscribe", data={"email": "x@example.org", "list": "1"})
    assert no_token.status_code == 400
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(QueuedMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Contact)) == 0
    deliver(smtp_app)
    assert server.received == []


def test_a_sealed_sign_up_expires_and_cannot_be_read_or_changed() -> None:
    keys = ["k" * 40]
    now = utcnow()
    pending = subscribe.Pending("sam@example.org", "Sam", "Trust", (3, 5))
    token = subscribe.seal(pending, keys=keys, now=now)
    assert "sam" not in token.casefold() and "=" not in token
    assert subscribe.open_sealed(token, keys=keys, now=now + timedelta(days=6)) == pending
    # After a rotation, with the old key still listed.
    assert subscribe.open_sealed(token, keys=["n" * 40, *keys], now=now) == pending
    for wrong in (
        lambda: subscribe.open_sealed(token, keys=keys, now=now + timedelta(days=8)),
        lambda: subscribe.open_sealed(token, keys=["n" * 40], now=now),
        lambda: subscribe.open_sealed(token[:-2] + "xx", keys=keys, now=now),
        lambda: subscribe.open_sealed("é" * 10, keys=keys, now=now),
    ):
        try:
            wrong()
        except LookupError:
            continue
        raise AssertionError("opened a link it should not have")
