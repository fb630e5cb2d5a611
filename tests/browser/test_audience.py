"""An editor builds an audience and watches the count follow, on a desk and a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from contacts.models import ContactList, Segment
from mailer.accounts import roles
from mailer.database import Database
from tests.browser.test_stakeholders import sign_in
from tests.conftest import add_user
from tests.contacts.test_audience import town

pytestmark = pytest.mark.browser


def _sideways(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_the_count_follows_the_audience_as_it_is_built(
    page,  # type: ignore[no-untyped-def]
    live_server: str,
    db: Database,
    artifacts_dir: Path,
    width: int,
) -> None:
    place = town(db)
    with db.transaction() as session:
        # Thirty lists, some with long names: the builder must stay one screen wide.
        session.add_all(
            ContactList(name=f"Neighbourhood policing partnership, ward number {n}")
            for n in range(1, 28)
        )
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, "editor@example.org")
    nav = page.get_by_role("navigation", name="Admin")
    if width < 900:  # on a phone the sections are behind the menu button
        nav.get_by_text("Menu").click()
    nav.get_by_role("link", name="Saved audiences").click()
    summary = page.locator("#audience-summary")
    assert "Choose at least one list" in summary.inner_text()

    page.get_by_role("checkbox", name="A (", exact=False).first.check()
    page.wait_for_function(
        "() => document.querySelector('#audience-summary').innerText.includes('would receive it')"
    )
    # A: ann, cat, eve, gus; hal (unsubscribed), jon (erased), kim (suppressed) left out.
    assert "4 people would receive it, of 7 in the audience." in summary.inner_text()

    # Tags are shown as first written ("Youth" or "youth").
    page.get_by_role("checkbox", name=re.compile(r"^youth$", re.IGNORECASE)).check()
    page.wait_for_function(
        "() => document.querySelector('#audience-summary').innerText.includes('of 6 in')"
    )
    page.get_by_role("group", name="Only those in one of these areas").get_by_role(
        "checkbox", name="South"
    ).check()
    page.wait_for_function(
        "() => document.querySelector('#audience-summary').innerText.includes('of 1 in')"
    )
    assert "1 person would receive it" in summary.inner_text()
    assert "Eve" in summary.inner_text()
    assert _sideways(page) <= 0
    page.screenshot(
        path=str(artifacts_dir / f"audience-builder-{width}-{db.engine.dialect.name}.png"),
        full_page=True,
    )

    page.get_by_label("Name", exact=True).fill("Young people in the south")
    page.get_by_role("button", name="Save audience").click()
    assert page.get_by_role("row", name="Young people in the south").is_visible()
    with db.reading() as session:
        saved = session.scalars(select(Segment.audience)).one()
    assert saved["lists"] == [place.a]

    # Starting from the saved audience fills the builder, and the count with it.
    page.get_by_role("checkbox", name="A (", exact=False).first.uncheck()
    chooser = page.get_by_label("Start from a saved audience")
    chooser.select_option(label="Young people in the south")
    page.wait_for_function(
        "() => document.querySelector('#audience-summary').innerText.includes('1 person')"
    )
    assert page.get_by_role("checkbox", name="A (", exact=False).first.is_checked()
    assert _sideways(page) <= 0
