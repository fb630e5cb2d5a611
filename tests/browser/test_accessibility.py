"""axe-core on every page this product has, signed out and signed in, desktop and phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from mailer.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PAGES = ["/admin/", "/admin/users/", "/admin/account/", "/admin/audit/", "/admin/no-such-page"]


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
    live_server: str,  # type: ignore[no-untyped-def]
    admin_user: User,
    width: int,
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        page.goto(f"{live_server}/login")
        problems["/login"] = serious(page)
        page.get_by_label("Email address").fill(admin_user.email)
        page.get_by_label("Password").fill("wrong password, to show the error state")
        page.get_by_role("button", name="Sign in").click()
        problems["/login (error)"] = serious(page)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/admin/")
        for path in PAGES:
            page.goto(live_server + path)
            problems[path] = serious(page)
    finally:
        context.close()
    assert {path: found for path, found in problems.items() if found} == {}
