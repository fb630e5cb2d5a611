"""The admin on a phone and at a desk: no page scrolls sideways at any width from 320
px, the navigation folds into a menu on a phone, and the consultation's timeline
picture keeps its labels apart (and is a plain list on a phone)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from contacts import segments
from contacts.audience import Audience
from contacts.models import Contact, ContactList
from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.bulletins import compose
from mailer.database import Database, utcnow
from scheduler.bulletin_sends import requests
from scheduler.consultations import editing, planning
from scheduler.consultations.details import Details
from tests.browser.site import Site, populate, sign_in
from tests.conftest import add_user
from tests.contacts.test_importing import HEADER, run_import

# Layout is the templates' and the stylesheet's, not the database's.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

WIDTHS = (320, 375, 1280)
PHONE = {"width": 375, "height": 800}
DESK = {"width": 1280, "height": 800}

# Long words with no place to break: an address, an organisation, a list name.
LONG_ADDRESS = "partnerships.and.community.engagement.team@northshire-police-and-crime.example.org"
LONG_ORGANISATION = "NorthshireCommunitySafetyPartnershipAndYouthOffendingServiceBoard"
LONG_LIST = "Neighbourhood-policing-partnership-newsletter-subscribers-(north-and-west)"

IMPORTED = f"{HEADER}\nnew.{LONG_ADDRESS},New,{LONG_ORGANISATION},,,,\nbad,,,,,,\n".encode()

_SIDEWAYS = """() => {
  const root = document.documentElement;
  const over = root.scrollWidth - root.clientWidth;
  if (over <= 0) return null;
  // The outermost elements past the right edge, to say what pushes the page out. Inside
  // a box that scrolls or clips, an element widens only that box (unless it is
  // absolutely placed, when it may escape a box that is not positioned).
  const clipped = e => {
    if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible'
          && a.getBoundingClientRect().right <= root.clientWidth + 1) return true;
    }
    return false;
  };
  const past = new Set([...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1 && !clipped(e)));
  const wide = [...past].filter(e => !past.has(e.parentElement))
    .slice(0, 4)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).trim()
      .replace(/\\s+/g, '.') : '') + ' ' + Math.round(e.getBoundingClientRect().width) + 'px');
  return over + 'px wider (' + wide.join(', ') + ')';
}"""


# What touches what: the page's first heading and the navigation above it, the last of
# the content and the footer's rule below it (at least 1rem between each).
_CRAMPED = """() => {
  const problems = [];
  const nav = document.querySelector('.admin-nav').getBoundingClientRect();
  const heading = document.querySelector('main h1');
  if (heading && heading.getBoundingClientRect().top - nav.bottom < 16) {
    problems.push('the heading touches the navigation');
  }
  const bottoms = [...document.querySelectorAll('main > *')]
    .filter(e => e.getClientRects().length)
    .map(e => e.getBoundingClientRect().bottom);
  const rule = document.querySelector('.site-footer').getBoundingClientRect().top;
  if (bottoms.length && rule - Math.max(...bottoms) < 16) {
    problems.push('the content touches the footer');
  }
  return problems.join('; ');
}"""


def every_admin_page(app: Flask, db: Database, admin: User, site: Site) -> list[str]:
    """``populate``'s pages and those it leaves out: a saved audience, a bulletin's send
    page and its send awaiting approval, the send reports. Plus a contact whose address
    and organisation are single long words, and a list named so."""
    run_import(
        db, f"{HEADER}\n{LONG_ADDRESS},Long,{LONG_ORGANISATION},Health,,,\n", lists=["Partners"]
    )
    with db.transaction() as session:
        author = session.get(User, admin.id)
        list_id = session.scalar(select(ContactList.id).order_by(ContactList.id))
        audience = Audience.of(lists=[list_id])
        session.add(ContactList(name=LONG_LIST, choosable=True, description=LONG_LIST))
        segment = segments.save(
            session, name="Partners everywhere", audience=audience, by=author, now=utcnow()
        )
        bulletin = compose.create(
            session,
            compose.Draft(
                kind="bulletin",
                template_id=None,
                subject="Stakeholder Special: December",
                preheader="",
                body_markdown="Dear colleague,\n\nNews.",
            ),
            by=author,
        )
        send = requests.request(
            session,
            bulletin,
            audience=audience,
            at=None,
            by=author,
            now=utcnow(),
            rules=planning.rules_for(session, app.config["MAILER"]),
        )
        segment_id, bulletin_id, bulletin_send_id = segment.id, bulletin.id, send.id
        long_contact = session.scalar(select(Contact.id).where(Contact.email == LONG_ADDRESS))
    (sent,) = [p for p in site.admin if re.fullmatch(r"/admin/sends/\d+", p)]
    return [
        *site.admin,
        f"/admin/contacts/{long_contact}",
        "/admin/audience/segments",
        f"/admin/audience/segments/{segment_id}",
        f"/admin/bulletins/{bulletin_id}",
        f"/admin/bulletins/{bulletin_id}/send",
        f"/admin/bulletins/{bulletin_id}/sends/{bulletin_send_id}",
        f"/admin/bulletins/{bulletin_id}/report",
        f"{sent}/report",
    ]


def test_no_admin_page_scrolls_sideways(
    browser,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    admin_user: User,
    db: Database,
    artifacts_dir: Path,
) -> None:
    """Every admin page at 320, 375 and 1280 px: nothing wider than the window, and a
    little space above the heading and below the last of the content."""
    site = populate(app, db, admin_user, live_server)
    pages = every_admin_page(app, db, admin_user, site)
    shots = artifacts_dir / "responsive"
    shots.mkdir(exist_ok=True)
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    offenders: dict[str, str] = {}
    try:
        sign_in(page, live_server, admin_user.email)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            for path in pages:
                page.goto(live_server + path)
                if found := page.evaluate(_SIDEWAYS):
                    offenders[f"{path} at {width}px"] = found
                if cramped := page.evaluate(_CRAMPED):
                    offenders[f"{path} at {width}px (spacing)"] = cramped
            # The import's preview, with a rejected row and a long address.
            page.goto(f"{live_server}/admin/contacts/import")
            page.get_by_label("CSV file").set_input_files(
                files=[{"name": "x.csv", "mimeType": "text/csv", "buffer": IMPORTED}]
            )
            page.get_by_role("button", name="Check the file").click()
            if found := page.evaluate(_SIDEWAYS):
                offenders[f"import preview at {width}px"] = found
        for path, name, viewport in (
            ("/admin/", "dashboard-1280", DESK),
            ("/admin/", "dashboard-375", PHONE),
            (f"/admin/consultations/{site.consultation_id}", "consultation-375", PHONE),
            (f"/admin/consultations/{site.consultation_id}", "consultation-1280", DESK),
        ):
            page.set_viewport_size(viewport)
            page.goto(live_server + path)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert offenders == {}, "pages scrolling sideways or cramped:\n" + "\n".join(
        f"{where}: {what}" for where, what in offenders.items()
    )


def test_the_navigation_is_a_menu_button_on_a_phone(
    page,  # type: ignore[no-untyped-def]
    live_server: str,
    db: Database,
    artifacts_dir: Path,
) -> None:
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "editor@example.org")
    page.goto(f"{live_server}/admin/contacts/")
    nav = page.get_by_role("navigation", name="Admin")
    menu = nav.locator("summary")
    # Folded: one button naming the page, none of the sixteen links showing.
    assert menu.inner_text().replace("\n", "") == "Menu: Contacts"
    assert nav.get_by_role("link").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    menu.focus()
    page.keyboard.press("Enter")
    contacts = nav.get_by_role("link", name="Contacts")
    assert contacts.is_visible()
    assert contacts.get_attribute("aria-current") == "page"
    assert nav.get_by_role("link", name="Users").count() == 0  # an editor's menu
    (artifacts_dir / "responsive").mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts_dir / "responsive" / "menu-open-375.png"))
    page.keyboard.press("Enter")
    assert nav.get_by_role("link").count() == 0

    menu.click()
    nav.get_by_role("link", name="Lists").click()
    page.wait_for_url(f"{live_server}/admin/lists/")
    assert nav.locator("summary").inner_text().replace("\n", "") == "Menu: Lists"
    assert nav.get_by_role("link").count() == 0  # folded again on the new page

    # At a desk: the bar of links, no menu button.
    page.set_viewport_size(DESK)
    assert not nav.locator("summary").is_visible()
    assert nav.get_by_role("link", name="Lists").get_attribute("aria-current") == "page"
    assert nav.get_by_role("link").count() >= 12


_LABEL_BOXES = """() => [...document.querySelectorAll('svg.timeline-picture text')].map(t => {
  const b = t.getBoundingClientRect();
  return {text: t.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom};
})"""


def _overlapping(boxes: list[dict[str, object]]) -> list[tuple[object, object]]:
    found = []
    for n, a in enumerate(boxes):
        for b in boxes[n + 1 :]:
            if (
                a["left"] < b["right"]  # type: ignore[operator]
                and b["left"] < a["right"]  # type: ignore[operator]
                and a["top"] < b["bottom"]  # type: ignore[operator]
                and b["top"] < a["bottom"]  # type: ignore[operator]
            ):
                found.append((a["text"], b["text"]))
    return found


def test_the_timeline_labels_never_overlap_and_are_a_list_on_a_phone(
    page,  # type: ignore[no-untyped-def]
    app: Flask,
    live_server: str,
    admin_user: User,
    db: Database,
    artifacts_dir: Path,
) -> None:
    site = populate(app, db, admin_user, live_server)
    # A week's consultation: its messages crowd into a few days, near the close.
    with db.transaction() as session:
        short, _ = editing.create(
            session,
            Details(
                title="Speed limits on the ring road",
                opens_at=utcnow() + timedelta(days=2),
                closes_at=utcnow() + timedelta(days=9),
                survey_url="https://survey.example.org/speed",
                type="general",
                lists=(session.scalar(select(ContactList.id)),),
            ),
            by=session.get(User, admin_user.id),
            rules=planning.rules_for(session, app.config["MAILER"]),
            now=utcnow(),
        )
        crowded = short.id
    shots = artifacts_dir / "responsive"
    shots.mkdir(exist_ok=True)
    sign_in(page, live_server, admin_user.email)
    picture = page.locator("svg.timeline-picture")
    for consultation, messages in ((site.consultation_id, 5), (crowded, None)):
        page.goto(f"{live_server}/admin/consultations/{consultation}")
        for width in (1280, 900):
            page.set_viewport_size({"width": width, "height": 800})
            boxes = page.evaluate(_LABEL_BOXES)
            # Opens, closes, and two lines for each message.
            if messages is not None:
                assert len(boxes) == 2 + 2 * messages
            assert len(boxes) >= 6
            assert _overlapping(boxes) == [], f"labels overlap at {width}px"
            frame = picture.bounding_box()
            assert frame is not None
            outside = [
                b["text"]
                for b in boxes
                if b["left"] < frame["x"] - 1 or b["right"] > frame["x"] + frame["width"] + 1
            ]
            assert outside == [], f"labels cut off at {width}px"
            assert not page.locator(".timeline-list").is_visible()
            picture.screenshot(path=str(shots / f"timeline-{consultation}-{width}.png"))

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/admin/consultations/{site.consultation_id}")
    assert not picture.is_visible()
    items = page.locator(".timeline-list li")
    # In time order, the opening and the closing among the messages.
    said = [" ".join(items.nth(n).inner_text().split()[4:]) for n in range(items.count())]
    assert said == [
        "Opens",
        "Launch Scheduled",
        "Reminder: 14 days before the close Scheduled",
        "Reminder: 7 days before the close Scheduled",
        "Reminder: the morning of the last day Scheduled",
        "Closes",
        "Close notice: the next working day Scheduled",
    ]
