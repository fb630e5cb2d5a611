"""axe-core on every page this product has, signed out and signed in, desktop and phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from sqlalchemy import select

from contacts import tokens
from contacts.models import Contact, ContactList
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.database import Database, utcnow
from mailer.delivery import pool
from scheduler import consultations
from tests.conftest import PASSWORD
from tests.contacts.test_importing import HEADER, run_import
from tests.delivery.helpers import make_send

pytestmark = pytest.mark.browser

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


def serious(page) -> list[str]:  # type: ignore[no-untyped-def]
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", [1280, 375])
def test_no_serious_accessibility_violations(
    browser,
    app: Flask,
    live_server: str,  # type: ignore[no-untyped-def]
    admin_user: User,
    db: Database,
    width: int,
) -> None:
    run_import(db, f"{HEADER}\nalice@example.org,Alice,Council,Health,,,a\n", lists=["Partners"])
    with db.transaction() as session:
        contact_id = session.scalar(select(Contact.id))
        list_id = session.scalar(select(ContactList.id))
        session.add(ContactList(name="Plan updates", choosable=True, description="News"))
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="launch",
                template_id=None,
                subject="Have your say",
                preheader="Closes soon",
                body_markdown="Hello **all**",
            ),
            by=session.get(User, admin_user.id),
        )
        bulletin_id, template_id = bulletin.id, bulletin.template_id
        consultation, _ = consultations.create(
            session,
            consultations.Details(
                title="Draft Police and Crime Plan",
                opens_at=utcnow() + timedelta(days=10),
                closes_at=utcnow() + timedelta(days=50),
                survey_url="https://survey.example.org/plan",
                type="plan_draft",
                lists=(list_id,),
            ),
            by=session.get(User, admin_user.id),
            rules=consultations.rules_for(session, app.config["MAILER"]),
            now=utcnow(),
        )
        consultation_id = consultation.id
        consultations.submit(
            session, consultation, by=session.get(User, admin_user.id), now=utcnow()
        )
        consultations.approve(
            session,
            consultation,
            by=session.get(User, admin_user.id),
            two_person=False,
            base_url=live_server,
            now=utcnow(),
        )
        slug = consultation.slug
    send_id = make_send(db, addresses=["outbox@example.org"], author=admin_user, now=utcnow())
    pool.run_once(app.extensions["mailer.db"], app.config["MAILER"])
    (message,) = (app.config["MAILER"].instance_path / "outbox").glob("*.eml")
    with app.app_context():
        unsubscribe = tokens.make(tokens.UNSUBSCRIBE, contact_id=contact_id)
        preferences = tokens.make(tokens.PREFERENCES, contact_id=contact_id)

    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        # Public pages, as a stakeholder sees them.
        for path in (
            f"/u/{unsubscribe}",
            f"/p/{preferences}",
            "/u/test",
            f"/consultations/{slug}",
        ):
            page.goto(live_server + path)
            problems[path] = serious(page)
        page.goto(f"{live_server}/u/{unsubscribe}")
        page.get_by_role("button", name="Unsubscribe").click()
        problems["/u/ (unsubscribed)"] = serious(page)

        page.goto(f"{live_server}/login")
        problems["/login"] = serious(page)
        page.get_by_label("Email address").fill(admin_user.email)
        page.get_by_label("Password").fill("wrong password, to show the error state")
        page.get_by_role("button", name="Sign in").click()
        problems["/login (error)"] = serious(page)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/admin/")
        bulletin_pages = [
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
        ]
        for path in [
            *ADMIN_PAGES,
            f"/admin/contacts/{contact_id}",
            f"/admin/lists/{list_id}",
            *bulletin_pages,
        ]:
            page.goto(live_server + path)
            problems[path] = serious(page)
        page.goto(f"{live_server}/admin/contacts/import")
        page.get_by_label("CSV file").set_input_files(
            files=[
                {
                    "name": "x.csv",
                    "mimeType": "text/csv",
                    "buffer": f"{HEADER}\nnew@example.org,New,,,,,\nbad,,,,,,\n".encode(),
                }
            ]
        )
        page.get_by_role("button", name="Check the file").click()
        problems["import preview"] = serious(page)
    finally:
        context.close()
    assert {path: found for path, found in problems.items() if found} == {}
