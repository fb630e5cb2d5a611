"""axe-core on every page this product has, signed out and signed in, desktop and phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask

from mailer.accounts.models import User
from mailer.database import Database
from tests.browser.site import populate, sign_in
from tests.contacts.test_importing import HEADER

# What axe-core finds is the templates' and the browser's, not the database's.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
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
    site = populate(app, db, admin_user, live_server)
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        # Public pages, as a stakeholder sees them.
        for path in site.public:
            page.goto(live_server + path)
            problems[path] = serious(page)
        page.goto(live_server + site.unsubscribe)
        page.get_by_role("button", name="Unsubscribe").click()
        problems["/u/ (unsubscribed)"] = serious(page)

        page.goto(f"{live_server}/login")
        problems["/login"] = serious(page)
        page.get_by_label("Email address").fill(admin_user.email)
        page.get_by_label("Password").fill("wrong password, to show the error state")
        page.get_by_role("button", name="Sign in").click()
        problems["/login (error)"] = serious(page)
        sign_in(page, live_server, admin_user.email)
        for path in site.admin:
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
