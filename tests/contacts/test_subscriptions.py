"""Unsubscribe and preferences through real HTTP, exactly as mail clients and people use them."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts import suppression, tokens
from contacts.models import ACTIVE, UNSUBSCRIBED, Contact, ContactList, ListMembership
from mailer.app import create_app
from mailer.database import Database
from tests.conftest import TEST_SECRET, csrf_from, make_config
from tests.contacts.test_importing import HEADER, run_import


def make_contact(db: Database, email: str = "alice@example.org") -> int:
    run_import(db, f"{HEADER}\n{email},Alice,,,,,\n", lists=["Partners"])
    with db.transaction() as session:
        return session.scalar(select(Contact.id).where(Contact.email_key == email.casefold()))


def status(db: Database, contact_id: int) -> str:
    with db.transaction() as session:
        return session.get(Contact, contact_id).status


def link_key(db: Database, contact_id: int) -> str:
    with db.transaction() as session:
        return session.get(Contact, contact_id).link_key


def unsub_token(app: Flask, contact_id: int, send_id: int | None = 7) -> str:
    key = link_key(app.extensions["mailer.db"], contact_id)
    return tokens.make(
        tokens.UNSUBSCRIBE,
        contact_id=contact_id,
        key=key,
        send_id=send_id,
        keys=tokens.secret_keys(app.config),
    )


def prefs_token(app: Flask, contact_id: int) -> str:
    key = link_key(app.extensions["mailer.db"], contact_id)
    return tokens.make(
        tokens.PREFERENCES, contact_id=contact_id, key=key, keys=tokens.secret_keys(app.config)
    )


def test_get_shows_a_page_and_changes_nothing(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    contact_id = make_contact(db)
    token = unsub_token(app, contact_id)
    for _ in range(3):  # a mail scanner may follow the link several times
        response = client.get(f"/u/{token}")
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Unsubscribe?" in page and "a•••@example.org" in page
    assert "alice@example.org" not in page  # a forwardee does not learn the address
    assert "forwarded you this email" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert status(db, contact_id) == ACTIVE


def test_one_click_post_needs_nothing_but_the_url_and_the_body(app: Flask, db: Database) -> None:
    contact_id = make_contact(db)
    token = unsub_token(app, contact_id, send_id=42)
    bare = app.test_client(use_cookies=False)  # a mail provider's server: no cookie, no CSRF
    response = bare.post(
        f"/u/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    with db.transaction() as session:
        contact = session.get(Contact, contact_id)
        assert contact.status == UNSUBSCRIBED
        assert contact.unsubscribed_from_send == 42 and contact.unsubscribed_at is not None
        assert suppression.is_suppressed(session, contact.email_key)
    # Idempotent: again is fine and changes nothing more.
    assert bare.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert status(db, contact_id) == UNSUBSCRIBED


def test_forged_and_altered_tokens_change_nothing(
    app: Flask, client: FlaskClient, db: Database, tmp_path: Path
) -> None:
    contact_id = make_contact(db)
    good = unsub_token(app, contact_id)
    other_app = create_app(
        make_config(tmp_path / "other", db.url, app={"secret_key": "another-secret-" + "y" * 32})
    )
    forged = unsub_token(other_app, contact_id)
    altered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    with app.app_context():
        wrong_purpose = prefs_token(app, contact_id)
    for token in (forged, altered, wrong_purpose, "x", "a" * 500):
        assert client.get(f"/u/{token}").status_code == 404, token
        assert (
            client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
        ), token
    assert status(db, contact_id) == ACTIVE


def test_tokens_survive_a_key_rotation(app: Flask, db: Database, tmp_path: Path) -> None:
    contact_id = make_contact(db)
    old_token = unsub_token(app, contact_id)
    rotated = create_app(
        make_config(
            tmp_path / "rotated",
            db.url,
            app={"secret_key": "the-new-secret-" + "z" * 32, "old_secret_keys": [TEST_SECRET]},
        )
    )
    client = rotated.test_client(use_cookies=False)
    assert client.post(f"/u/{old_token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert status(db, contact_id) == UNSUBSCRIBED
    # New links are signed with the new key, so the old one can be dropped later.
    with rotated.app_context():
        new_token = unsub_token(rotated, contact_id, send_id=None)
    assert tokens.read(tokens.UNSUBSCRIBE, new_token, keys=["the-new-secret-" + "z" * 32])
    assert tokens.read(tokens.UNSUBSCRIBE, new_token, keys=[TEST_SECRET]) is None


def test_coming_back_needs_a_deliberate_confirmation(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    contact_id = make_contact(db)
    token = unsub_token(app, contact_id)
    page = client.post(f"/u/{token}").get_data(as_text=True)
    assert "You have unsubscribed" in page and "Changed your mind?" in page
    unticked = client.post(f"/u/{token}/resubscribe", data={"csrf_token": csrf_from(page)})
    assert unticked.status_code == 400
    assert status(db, contact_id) == UNSUBSCRIBED
    no_csrf = client.post(f"/u/{token}/resubscribe", data={"confirm": "yes"})
    assert no_csrf.status_code == 400
    ticked = client.post(
        f"/u/{token}/resubscribe", data={"csrf_token": csrf_from(page), "confirm": "yes"}
    )
    assert ticked.status_code == 302
    assert status(db, contact_id) == ACTIVE
    with db.transaction() as session:
        assert not suppression.is_suppressed(session, "alice@example.org")


def test_preferences_change_only_choosable_lists(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    contact_id = make_contact(db)  # a member of "Partners", which is not choosable
    with db.transaction() as session:
        session.add_all(
            [
                ContactList(
                    name="Plan updates",
                    choosable=True,
                    description="News about the Police and Crime Plan",
                ),
                ContactList(name="Events", choosable=True),
            ]
        )
    with db.transaction() as session:
        lists = {lst.name: lst.id for lst in session.scalars(select(ContactList))}
    token = prefs_token(app, contact_id)
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "Plan updates" in page and "Events" in page and "Partners" not in page
    response = client.post(
        f"/p/{token}",
        data={
            "csrf_token": csrf_from(page),
            "list": [str(lists["Plan updates"]), str(lists["Partners"])],
        },
    )
    assert response.status_code == 302
    with db.transaction() as session:
        member = set(
            session.scalars(
                select(ListMembership.list_id).where(ListMembership.contact_id == contact_id)
            )
        )
    # Joined the choosable one; "Partners" was neither left nor re-joined by the form.
    assert member == {lists["Partners"], lists["Plan updates"]}
    client.post(f"/p/{token}", data={"csrf_token": csrf_from(page)})
    with db.transaction() as session:
        member = set(
            session.scalars(
                select(ListMembership.list_id).where(ListMembership.contact_id == contact_id)
            )
        )
    assert member == {lists["Partners"]}
    assert client.get("/p/forged-token").status_code == 404
