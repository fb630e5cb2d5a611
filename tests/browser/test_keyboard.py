"""The keyboard alone: on every page, Tab reaches every control in turn and shows where
it is; the skip link leads to the content; and a person who cannot use a mouse can sign
in, add a contact, approve, unsubscribe and register through the public page."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.database import Database, utcnow
from scheduler.consultations import lifecycle
from scheduler.models import Consultation
from tests.browser.site import Site, populate
from tests.conftest import PASSWORD, add_user

# Keyboard behaviour is the browser's and the templates', not the database's.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

# What a keyboard user should be able to reach with Tab.
_MARK = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + 'iframe, [tabindex]';
  const shown = e => {
    if (e.disabled || e.tabIndex < 0 || e.closest('[inert]')) return false;
    const box = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
  };
  const all = [...document.querySelectorAll(selector)].filter(shown);
  all.forEach((e, i) => { e.dataset.kb = String(i); });
  return all.map(e => ({
    kb: e.dataset.kb,
    radio: e.type === 'radio' ? e.name : null,
    what: describe(e),
  }));
  function describe(e) {
    const text = e.getAttribute('aria-label') || e.labels?.[0]?.textContent || e.textContent
      || e.name || e.id || '';
    return e.tagName.toLowerCase() + ' "' + text.trim().replace(/\\s+/g, ' ').slice(0, 50) + '"';
  }
}"""

_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const style = getComputedStyle(e);
  const box = e.getBoundingClientRect();
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return {
    kb: e.dataset.kb ?? null,
    tag: e.tagName.toLowerCase(),
    radio: e.type === 'radio' ? e.name : null,
    text: (e.getAttribute('aria-label') || e.textContent || e.value || e.name || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 60),
    indicator: outline || style.boxShadow !== 'none',
    onscreen: box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.width > 0,
  };
}"""


def walk(page: Any) -> list[str]:  # type: ignore[no-untyped-def]
    """Tab from the top of the page to its end; what is wrong with how it went."""
    reachable = page.evaluate(_MARK)
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    problems: list[str] = []
    reached: set[str] = set()
    radios: set[str] = set()
    previous = None
    for step in range(len(reachable) + 80):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            # Focus moving into or out of a sandboxed frame (another process) reaches
            # this document a moment later.
            page.wait_for_timeout(150)
            focused = page.evaluate(_FOCUSED)
        if focused is None:
            break  # past the last control, back to the browser
        if step == 0 and not focused["text"].startswith("Skip to main content"):
            problems.append(f"the first Tab lands on {focused['text']!r}, not the skip link")
        if focused["kb"] is not None and focused["kb"] in reached and focused["kb"] != previous:
            break  # round again
        if focused["tag"] != "iframe":  # a frame's own links show their own focus
            if not focused["indicator"]:
                problems.append(f"no visible focus on {focused['tag']} {focused['text']!r}")
            if not focused["onscreen"]:
                problems.append(f"focus off screen on {focused['tag']} {focused['text']!r}")
        if focused["kb"] is not None:
            reached.add(focused["kb"])
        if focused["radio"]:
            radios.add(focused["radio"])
        previous = focused["kb"]
    for item in reachable:
        if item["kb"] not in reached and not (item["radio"] and item["radio"] in radios):
            problems.append(f"Tab never reaches {item['what']}")
    return problems


def test_tab_reaches_every_control_with_a_visible_focus(
    browser,
    app: Flask,
    live_server: str,
    admin_user: User,
    db: Database,  # type: ignore[no-untyped-def]
) -> None:
    site = populate(app, db, admin_user, live_server)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    try:
        for path in [*site.public, "/login"]:
            page.goto(live_server + path)
            problems[path] = walk(page)
        # Stakeholders often read on a phone, perhaps with a keyboard attached.
        page.set_viewport_size({"width": 375, "height": 800})
        for path in site.public:
            page.goto(live_server + path)
            problems[f"{path} (phone)"] = walk(page)
        page.set_viewport_size({"width": 1280, "height": 800})
        sign_in_by_keyboard(page, live_server, admin_user.email)
        for path in site.admin:
            page.goto(live_server + path)
            problems[path] = walk(page)
        # The skip link moves focus to the content, past the navigation.
        page.goto(f"{live_server}/admin/consultations/")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        first = page.evaluate("document.activeElement.closest('main') !== null")
        assert first, "Tab after the skip link left the main content"
    finally:
        context.close()
    assert {path: found for path, found in problems.items() if found} == {}


def tab_to(page: Any, name: str, *, limit: int = 120) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the focused control's text or label starts with ``name``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate(
            """() => { const e = document.activeElement; if (!e) return '';
               return (e.labels?.[0]?.textContent || e.getAttribute('aria-label')
                 || e.textContent || e.value || '').trim().replace(/\\s+/g, ' '); }"""
        )
        if text.startswith(name):
            return
    raise AssertionError(f"Tab never reached {name!r} on {page.url}")


def sign_in_by_keyboard(page: Any, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    tab_to(page, "Email address")
    page.keyboard.type(email)
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/")


def test_the_main_tasks_with_the_keyboard_alone(
    browser,
    app: Flask,
    live_server: str,
    admin_user: User,
    db: Database,  # type: ignore[no-untyped-def]
) -> None:
    site: Site = populate(app, db, admin_user, live_server)
    # The consultation back to awaiting approval.
    editor = add_user(db, email="editor@example.org", role=roles.EDITOR)
    add_user(db, email="approver@example.org", role=roles.APPROVER)
    with db.transaction() as session:
        approved = session.get(Consultation, site.consultation_id)
        lifecycle.return_to_draft(session, approved, by=session.get(User, editor.id), now=utcnow())
        lifecycle.submit(session, approved, by=session.get(User, editor.id), now=utcnow())
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        # The admin signs in and adds a contact.
        sign_in_by_keyboard(page, live_server, admin_user.email)
        tab_to(page, "Contacts")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server}/admin/contacts/")
        tab_to(page, "Add a contact")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server}/admin/contacts/new")
        tab_to(page, "Email address")
        page.keyboard.type("keyboard.user@example.org")
        tab_to(page, "Name")
        page.keyboard.type("Kim Keys")
        tab_to(page, "Add contact")
        page.keyboard.press("Enter")
        page.get_by_text("Kim Keys").first.wait_for()

        # An approver (the admin wrote the consultation) approves it.
        page.context.clear_cookies()
        sign_in_by_keyboard(page, live_server, "approver@example.org")
        tab_to(page, "Draft Police and Crime Plan")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/admin/consultations/{site.consultation_id}")
        tab_to(page, "I have read the whole message")
        page.keyboard.press("Space")
        tab_to(page, "Approve and schedule")
        page.keyboard.press("Enter")
        page.get_by_text("Approved.").wait_for()

        # A stakeholder, signed out: the public page's sign-up, then unsubscribing.
        public = browser.new_context(viewport={"width": 375, "height": 800})
        stakeholder = public.new_page()
        stakeholder.goto(f"{live_server}/consultations/{site.slug}")
        tab_to(stakeholder, "Email address")
        stakeholder.keyboard.type("colleague@example.org")
        tab_to(stakeholder, "Register")
        stakeholder.keyboard.press("Enter")
        stakeholder.get_by_text("an email is on its way").wait_for()
        stakeholder.goto(live_server + site.unsubscribe)
        tab_to(stakeholder, "Unsubscribe")
        stakeholder.keyboard.press("Enter")
        stakeholder.get_by_role("heading", name="You have unsubscribed").wait_for()
        public.close()
    finally:
        context.close()
