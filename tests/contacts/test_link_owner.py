"""Links act on their own person only: an erased contact's links are dead, and never
reach whoever comes after them (the next contact, or one given the same id)."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from contacts import data_rights, link_owner, tokens
from contacts.data_rights import ERASURE_SCRUBBERS
from contacts.models import ACTIVE, UNSUBSCRIBED, Contact
from mailer.accounts.models import User
from mailer.database import Database, utcnow
from mailer.delivery import pool
from mailer.delivery.models import Delivery
from tests.contacts.test_importing import HEADER, run_import
from tests.delivery.helpers import make_send

GONE = "This link no longer works"


def _contact_id(db: Database, email: str) -> int:
    with db.transaction() as session:
        return session.scalar(select(Contact.id).where(Contact.email_key == email))


def _links_sent_to(app: Flask, db: Database, email: str, admin: User) -> tuple[str, str, int]:
    """The unsubscribe and preferences tokens of a real message to ``email`` (written to
    the outbox by a worker), and its send."""
    send_id = make_send(db, addresses=[email], author=admin, now=utcnow())
    pool.run_once(db, app.config["MAILER"])
    outbox = app.config["MAILER"].instance_path / "outbox"
    for path in outbox.glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["To"].addresses[0].addr_spec != email:
            continue
        unsubscribe = message["List-Unsubscribe"].strip("<>").rsplit("/u/", 1)[1]
        text = message.get_body(("plain",)).get_content()
        preferences = re.search(r"/p/([A-Za-z0-9_.\-]+)", text).group(1)
        return unsubscribe, preferences, send_id
    raise AssertionError(f"no message to {email} in the outbox")


def _erase(app: Flask, db: Database, contact_id: int, admin: User) -> None:
    with app.app_context(), db.transaction() as session:
        data_rights.erase(
            session,
            session.get(Contact, contact_id),
            by=session.get(User, admin.id),
            scrubbers=app.extensions[ERASURE_SCRUBBERS],
        )


def _status(db: Database, contact_id: int) -> str:
    with db.transaction() as session:
        return session.get(Contact, contact_id).status


def _assert_dead(client: FlaskClient, unsubscribe: str, preferences: str) -> None:
    for response in (
        client.get(f"/u/{unsubscribe}"),
        client.post(f"/u/{unsubscribe}", data={"List-Unsubscribe": "One-Click"}),
        client.get(f"/p/{preferences}"),
    ):
        assert response.status_code == 404
        assert GONE in response.get_data(as_text=True)


def test_an_erased_person_s_links_never_reach_the_next_contact(
    app: Flask, db: Database, admin_user: User
) -> None:
    # SQLite gave the erased newest contact's id to the next one: its old links then
    # opened the new person's pages and unsubscribed them in one click.
    unsubscribe, preferences, _send = _links_sent_to(app, db, "gone@example.org", admin_user)
    gone_id = _contact_id(db, "gone@example.org")
    _erase(app, db, gone_id, admin_user)
    # The next new contact, with a message of their own.
    own_unsubscribe, own_preferences, _ = _links_sent_to(
        app, db, "newcomer@example.org", admin_user
    )
    newcomer_id = _contact_id(db, "newcomer@example.org")

    bare = app.test_client(use_cookies=False)
    _assert_dead(bare, unsubscribe, preferences)
    assert _status(db, newcomer_id) == ACTIVE
    assert newcomer_id != gone_id  # ids are never reused
    # The newcomer's own links work.
    assert bare.get(f"/p/{own_preferences}").status_code == 200
    response = bare.post(f"/u/{own_unsubscribe}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _status(db, newcomer_id) == UNSUBSCRIBED


def test_a_reused_id_is_not_enough_the_link_key_must_match(
    app: Flask, db: Database, admin_user: User
) -> None:
    # However an id came to be held again (a database restored, an id reused before the
    # keys came in), neither the erased person's keyed links nor keyless ones reach the
    # new holder.
    unsubscribe, preferences, send_id = _links_sent_to(app, db, "gone@example.org", admin_user)
    gone_id = _contact_id(db, "gone@example.org")
    _erase(app, db, gone_id, admin_user)
    with db.transaction() as session:
        session.add(Contact(id=gone_id, email="next@example.org", email_key="next@example.org"))
    keys = tokens.secret_keys(app.config)
    keyless_unsubscribe = tokens.make(
        tokens.UNSUBSCRIBE, contact_id=gone_id, key=None, send_id=send_id, keys=keys
    )
    keyless_preferences = tokens.make(tokens.PREFERENCES, contact_id=gone_id, key=None, keys=keys)
    bare = app.test_client(use_cookies=False)
    _assert_dead(bare, unsubscribe, preferences)
    _assert_dead(bare, keyless_unsubscribe, keyless_preferences)
    assert _status(db, gone_id) == ACTIVE


def test_links_made_before_keys_still_work_where_they_are_provably_theirs(
    app: Flask, db: Database, admin_user: User
) -> None:
    _links_sent_to(app, db, "old@example.org", admin_user)
    contact_id = _contact_id(db, "old@example.org")
    with db.transaction() as session:
        send_id = session.scalar(select(Delivery.send_id).where(Delivery.contact_id == contact_id))
    keys = tokens.secret_keys(app.config)
    unsubscribe = tokens.make(
        tokens.UNSUBSCRIBE, contact_id=contact_id, key=None, send_id=send_id, keys=keys
    )
    other_send = tokens.make(
        tokens.UNSUBSCRIBE, contact_id=contact_id, key=None, send_id=send_id + 1000, keys=keys
    )
    preferences = tokens.make(tokens.PREFERENCES, contact_id=contact_id, key=None, keys=keys)
    forged = tokens.make(tokens.PREFERENCES, contact_id=contact_id, key="A" * 12, keys=keys)
    bare = app.test_client(use_cookies=False)

    # An id no erased contact ever held (set when the keys came in): every old link.
    with db.transaction() as session:
        session.execute(update(Contact).values(legacy_links=True))
    assert bare.get(f"/p/{preferences}").status_code == 200
    assert bare.get(f"/u/{other_send}").status_code == 200

    # Otherwise only an unsubscribe link whose send was delivered to this contact.
    with db.transaction() as session:
        session.execute(update(Contact).values(legacy_links=False))
    assert GONE in bare.get(f"/p/{preferences}").get_data(as_text=True)
    assert GONE in bare.get(f"/u/{other_send}").get_data(as_text=True)
    assert bare.get(f"/p/{forged}").status_code == 404
    assert _status(db, contact_id) == ACTIVE
    response = bare.post(f"/u/{unsubscribe}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _status(db, contact_id) == UNSUBSCRIBED


def test_every_contact_gets_its_own_key_however_it_is_made(db: Database) -> None:
    rows = "".join(f"person{n}@example.org,Person {n},,,,,\n" for n in range(50))
    run_import(db, f"{HEADER}\n{rows}", lists=["Partners"])
    with db.transaction() as session:
        session.add(Contact(email="one@example.org", email_key="one@example.org"))
    with db.transaction() as session:
        keys = session.scalars(select(Contact.link_key)).all()
        legacy = session.scalars(select(Contact.legacy_links)).all()
    assert len(keys) == 51 and len(set(keys)) == 51
    assert all(len(key) == 12 for key in keys)
    assert not any(legacy)  # made after the keys came in: no keyless link is theirs


def test_the_pages_own_links_carry_the_key(app: Flask, db: Database) -> None:
    run_import(db, f"{HEADER}\nalice@example.org,Alice,,,,,\n", lists=["Partners"])
    with db.transaction() as session:
        contact = session.scalar(select(Contact))
        preferences = link_owner.preferences_token(contact, keys=tokens.secret_keys(app.config))
        key = contact.link_key
    page = app.test_client().get(f"/p/{preferences}").get_data(as_text=True)
    found = re.findall(r'href="/u/([^"]+)"', page)
    assert found
    keys = tokens.secret_keys(app.config)
    assert all(tokens.read(tokens.UNSUBSCRIBE, t, keys=keys).key == key for t in found)
