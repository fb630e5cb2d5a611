"""One of everything the product shows, for the tests that visit every page
(axe-core in test_accessibility.py, the keyboard in test_keyboard.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from contacts import link_owner, tokens
from contacts.models import Contact, ContactList
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.database import Database, utcnow
from mailer.delivery import pool
from scheduler.consultations import editing, lifecycle, planning
from scheduler.consultations.details import Details
from tests.conftest import PASSWORD
from tests.contacts.test_importing import HEADER, run_import
from tests.delivery.helpers import make_send

ADMIN_PAGES = [
    "/admin/",
    "/admin/users/",
    "/admin/account/",
    "/admin/audit/",
    "/admin/no-such-page",
    "/admin/contacts/",
    "/admin/contacts/new",
    "/admin/contacts/import",
    "/admin/lists/",
    "/admin/suppressions/",
    "/admin/bounces",
    "/admin/organisation-types/",
    "/admin/organisation/",
    "/admin/bulletins/",
    "/admin/bulletins/new",
    "/admin/templates/",
    "/admin/sends/",
    "/admin/outbox/",
    "/admin/consultations/",
    "/admin/consultations/new",
    "/admin/consultations/calendar",
    "/admin/sending/",
]


@dataclass(frozen=True)
class Site:
    public: list[str]  # as a stakeholder reaches them, signed out
    admin: list[str]  # every admin page, one of each kind
    unsubscribe: str
    consultation_id: int
    slug: str


def populate(app: Flask, db: Database, admin: User, base_url: str) -> Site:
    """A contact on a list, a bulletin, an approved consultation and a message sent to
    the outbox: enough for every page to show something."""
    run_import(db, f"{HEADER}\nalice@example.org,Alice,Council,Health,,,a\n", lists=["Partners"])
    with db.transaction() as session:
        contact_id = session.scalar(select(Contact.id))
        list_id = session.scalar(select(ContactList.id))
        session.add(ContactList(name="Plan updates", choosable=True, description="News"))
        author = session.get(User, admin.id)
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="launch",
                template_id=None,
                subject="Have your say",
                preheader="Closes soon",
                body_markdown="Hello **all**",
            ),
            by=author,
        )
        bulletin_id, template_id = bulletin.id, bulletin.template_id
        consultation, _ = editing.create(
            session,
            Details(
                title="Draft Police and Crime Plan",
                opens_at=utcnow() + timedelta(days=10),
                # At 16:00 UTC whatever the hour the test runs: a close before 09:00
                # would drop the reminder on the morning of the last day.
                closes_at=(utcnow() + timedelta(days=50)).replace(
                    hour=16, minute=0, second=0, microsecond=0
                ),
                survey_url="https://survey.example.org/plan",
                type="plan_draft",
                lists=(list_id,),
            ),
            by=author,
            rules=planning.rules_for(session, app.config["MAILER"]),
            now=utcnow(),
        )
        lifecycle.submit(session, consultation, by=author, now=utcnow())
        lifecycle.approve(
            session, consultation, by=author, two_person=False, base_url=base_url, now=utcnow()
        )
        consultation_id, slug = consultation.id, consultation.slug
    send_id = make_send(db, addresses=["outbox@example.org"], author=admin, now=utcnow())
    pool.run_once(app.extensions["mailer.db"], app.config["MAILER"])
    (message,) = (app.config["MAILER"].instance_path / "outbox").glob("*.eml")
    with app.app_context(), db.transaction() as session:
        contact = session.get(Contact, contact_id)
        keys = tokens.secret_keys(app.config)
        unsubscribe = link_owner.unsubscribe_token(contact, keys=keys)
        preferences = link_owner.preferences_token(contact, keys=keys)
    return Site(
        public=[f"/u/{unsubscribe}", f"/p/{preferences}", "/u/test", f"/consultations/{slug}"],
        admin=[
            *ADMIN_PAGES,
            f"/admin/contacts/{contact_id}",
            f"/admin/lists/{list_id}",
            f"/admin/bulletins/{bulletin_id}",
            f"/admin/bulletins/{bulletin_id}/preview",
            f"/admin/bulletins/{bulletin_id}/preview?view=text",
            f"/admin/bulletins/{bulletin_id}/preview?view=source",
            f"/admin/templates/{template_id}",
            f"/admin/templates/{template_id}/versions/1",
            f"/admin/sends/{send_id}",
            f"/admin/outbox/{message.name}",
            f"/admin/outbox/{message.name}?view=text",
            f"/admin/consultations/{consultation_id}",
            f"/admin/consultations/{consultation_id}/edit",
            f"/admin/consultations/{consultation_id}/evidence",
            f"/admin/cascade/{consultation_id}",
        ],
        unsubscribe=f"/u/{unsubscribe}",
        consultation_id=consultation_id,
        slug=slug,
    )


def sign_in(page, base_url: str, email: str, *, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/admin/")
