"""A sent message's web version holds nobody's data, exists only once the message went,
and the public archive lists only what the office published."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from contacts.models import Contact
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.bulletins import compose
from mailer.database import Database, utcnow
from mailer.delivery import send_states, sends, web_versions
from mailer.delivery.models import Send
from tests.conftest import add_user, csrf_from, login
from tests.tracking.helpers import launched


def _path(url: str) -> str:
    return urlsplit(url).path


def _bulletin_send(db: Database, author: User, *, subject: str, fired: bool) -> int:
    """A general bulletin approved for a list of one (its web address given at approval,
    as send_states.schedule does); fired (its rows made) when ``fired``."""
    from tests.scheduler.audience import make_list

    partners = make_list(db, [(f"{secrets.token_hex(4)}@example.org", None)])
    now = utcnow()
    with db.transaction() as session:
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="bulletin",
                template_id=None,
                subject=subject,
                preheader="",
                body_markdown="News for **partners**.",
            ),
            by=session.get(User, author.id),
        )
        send = sends.create(session, bulletin, audience={"lists": [partners]}, due_at=now)
        send.web_token = secrets.token_urlsafe(12)
        if fired:
            sends.make_due(session, send, now=now, domain="example.org")
        return send.id


def test_the_web_version_of_a_sent_message_holds_nobodys_data(app: Flask, db: Database) -> None:
    _cid, messages = launched(app, db)
    message = messages["partner0@example.org"]
    # The message itself leads to its web version, at the top.
    assert "View in your browser: " in message.text
    address = message.link(r"https?://[^\s]+/bulletins/[A-Za-z0-9_-]+")
    personal = [
        message.link(r"/u/[A-Za-z0-9._-]+").removeprefix("/u/"),
        message.link(r"/p/[A-Za-z0-9._-]+").removeprefix("/p/"),
        message.share.removeprefix("/s/"),
    ]
    with db.transaction() as session:
        contact = session.scalar(select(Contact).where(Contact.email == "partner0@example.org"))
        personal += [contact.name, contact.email, contact.link_key, contact.organisation]
    assert all(personal)
    # Every recipient's message carries the same address.
    assert all(address in m.text for m in messages.values())

    page = app.test_client().get(_path(address))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Draft Police and Crime Plan" in html and "Dear colleague" in html
    for value in personal:
        assert value not in html, value
    assert "partner" not in html.casefold().replace("northshire partner", "")
    # The links that are personal in the email explain themselves on the page instead.
    assert f'href="{address}#{web_versions.ABOUT_LINKS}"' in html
    assert f'id="{web_versions.ABOUT_LINKS}"' in html
    # A page: one heading, its language, landmarks; no script or form from the email;
    # the share link is the consultation's public page.
    assert '<html lang="en-GB">' in html and "<main" in html and "<footer" in html
    assert html.count("<h1") == 1
    assert "<script" not in html and "<form" not in html
    assert "/consultations/" in html
    # The survey itself, not a tracked link that would count the page's readers as clicks.
    assert 'href="https://survey.example.org/plan"' in html and "/r/" not in html
    assert "View in your browser" not in html  # not a link to itself
    assert "noindex" in page.headers.get("X-Robots-Tag", "")

    # Published, the archive lists it by the subject it went with (not the slot's title).
    with db.transaction() as session:
        launch = session.scalar(select(Send).where(Send.web_token == _path(address).split("/")[-1]))
        launch.published_at = utcnow()
        subject, title = launch.frozen["content"]["subject"], launch.title
    listing = app.test_client().get("/bulletins").get_data(as_text=True)
    assert subject != title
    assert str(escape(subject)) in listing and str(escape(title)) not in listing


def test_no_web_version_before_the_message_goes(
    client: FlaskClient, db: Database, admin_user: User
) -> None:
    draft = _bulletin_send(db, admin_user, subject="Not yet", fired=False)
    sent = _bulletin_send(db, admin_user, subject="Gone out", fired=True)
    with db.transaction() as session:
        tokens = {s.id: s.web_token for s in session.scalars(select(Send))}
        cancelled = session.get(Send, draft)
        assert cancelled.fired_at is None
    assert client.get(f"/bulletins/{tokens[sent]}").status_code == 200
    assert client.get(f"/bulletins/{tokens[draft]}").status_code == 404  # approved, waiting
    with db.transaction() as session:
        send_states.cancel(session.get(Send, draft), now=utcnow())
    assert client.get(f"/bulletins/{tokens[draft]}").status_code == 404  # cancelled unsent
    assert client.get("/bulletins/unknown-token").status_code == 404
    assert client.get("/bulletins/" + "x" * 200).status_code == 404
    with db.transaction() as session:
        session.get(Send, sent).web_token = None  # a send from before web versions
    assert client.get(f"/bulletins/{tokens[sent]}").status_code == 404


def _publish(client: FlaskClient, send_id: int, action: str = "publish") -> str:
    page = client.get(f"/admin/sends/{send_id}").get_data(as_text=True)
    answer = client.post(
        f"/admin/sends/{send_id}/{action}",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_archive_lists_only_what_was_published(
    client: FlaskClient, db: Database, admin_user: User
) -> None:
    assert "Nothing has been published here yet" in client.get("/bulletins").get_data(as_text=True)
    first = _bulletin_send(db, admin_user, subject="Spring news", fired=True)
    second = _bulletin_send(db, admin_user, subject="Summer news", fired=True)
    unsent = _bulletin_send(db, admin_user, subject="Autumn news", fired=False)
    hidden = _bulletin_send(db, admin_user, subject="Partners only", fired=True)
    with db.transaction() as session:
        # The second went later: newest first.
        session.get(Send, second).fired_at = utcnow() + timedelta(hours=1)

    approver = add_user(db, email="approver@example.org", role=roles.APPROVER)
    login(client, approver.email)
    assert "Published" in _publish(client, first)
    _publish(client, second)
    refused = _publish(client, unsent)
    assert "Only a message that has gone out can be published" in refused
    listing = client.get("/bulletins").get_data(as_text=True)
    assert listing.index("Summer news") < listing.index("Spring news")
    assert "Autumn news" not in listing and "Partners only" not in listing
    with db.transaction() as session:
        token = session.get(Send, first).web_token
        assert session.get(Send, unsent).published_at is None
        assert session.get(Send, hidden).published_at is None
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == str(first))
        ).all()
    assert "send.published" in audited
    assert f'href="/bulletins/{token}"' in listing
    published = client.get(f"/bulletins/{token}")
    assert "X-Robots-Tag" not in published.headers
    assert "More in the archive" in published.get_data(as_text=True)

    assert "Taken off the public archive" in _publish(client, first, "unpublish")
    listing = client.get("/bulletins").get_data(as_text=True)
    assert "Spring news" not in listing and "Summer news" in listing
    # Its readers' links still work.
    assert client.get(f"/bulletins/{token}").status_code == 200


def test_only_approvers_and_admins_publish(
    client: FlaskClient, db: Database, admin_user: User
) -> None:
    sent = _bulletin_send(db, admin_user, subject="Spring news", fired=True)
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    login(client, editor.email)
    page = client.get(f"/admin/sends/{sent}").get_data(as_text=True)
    assert "Publish in the public archive" not in page
    refused = client.post(f"/admin/sends/{sent}/publish", data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 403
    assert client.post(f"/admin/sends/{sent}/publish").status_code == 400  # no CSRF token
    with db.transaction() as session:
        assert session.get(Send, sent).published_at is None


def test_the_archive_is_paged(client: FlaskClient, db: Database, admin_user: User) -> None:
    now = utcnow()
    ids = [
        _bulletin_send(db, admin_user, subject=f"Issue {n:02d}", fired=True)
        for n in range(web_versions.PER_PAGE + 2)
    ]
    with db.transaction() as session:
        for n, send_id in enumerate(ids):
            send = session.get(Send, send_id)
            send.fired_at = now + timedelta(minutes=n)
            send.published_at = now
    first = client.get("/bulletins").get_data(as_text=True)
    assert "Issue 21" in first and "Issue 00" not in first and 'rel="next"' in first
    second = client.get("/bulletins?page=2").get_data(as_text=True)
    assert "Issue 00" in second and "Issue 21" not in second
    assert re.search(r"Page 2 of 2", second)
    assert client.get("/bulletins?page=0").status_code == 400
