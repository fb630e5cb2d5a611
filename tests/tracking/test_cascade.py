"""A scripted cascade, end to end through the real pages and links: ten stakeholders,
three of them sharing, visits, survey clicks, sign-ups (one a step further down), two
confirmations; the report and its CSV give exactly these numbers."""

from __future__ import annotations

import csv
import io
import re
from email import policy
from email.parser import BytesParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import SOURCE_CASCADE, Contact
from mailer.database import Database
from mailer.delivery import pool
from mailer.tracking import links
from tests.conftest import csrf_from
from tests.tracking.helpers import STAKEHOLDERS, consultation, launched

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126"


def visitor(app: Flask, number: int) -> FlaskClient:
    """A person on their own machine: their own address and a browser's user agent."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": f"198.51.100.{number}", "HTTP_USER_AGENT": BROWSER})
    return client


def arrive(client: FlaskClient, share: str) -> str:
    """Follow a share link to the public page; returns the page."""
    response = client.get(share)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def survey_button(page: str) -> str:
    found = re.search(r'href="(/r/[^"]+)"[^>]*>Take the survey', page)
    assert found, "no survey button"
    return found.group(1).replace("&amp;", "&")


def register(client: FlaskClient, page: str, slug: str, email: str) -> None:
    via = re.search(r'name="via" value="([^"]+)"', page)
    response = client.post(
        f"/consultations/{slug}/register",
        data={
            "csrf_token": csrf_from(page),
            "email": email,
            "name": "A colleague",
            **({"via": via.group(1)} if via else {}),
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "an email is on its way" in response.get_data(as_text=True)


def confirm_latest(app: Flask, client: FlaskClient, email: str) -> None:
    """Let a worker send the queued confirmation; open its link and press the button."""
    pool.run_once(app.extensions["mailer.db"], app.config["MAILER"])
    outbox = app.config["MAILER"].instance_path / "outbox"
    latest = max(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    message = BytesParser(policy=policy.default).parsebytes(latest.read_bytes())
    assert message["To"] == email
    assert b"\n" not in latest.read_bytes().replace(b"\r\n", b"")  # CRLF only
    text = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"http://[^\s]+?(/consultations/[^\s]+/confirm/[A-Za-z0-9_-]+)", text).group(1)
    page = client.get(path)
    assert "Yes, send me updates" in page.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "You are registered" in done.get_data(as_text=True)


def shared(client: FlaskClient, confirm_link: str, channel: str, reach: int) -> None:
    response = client.get(confirm_link)
    assert response.status_code == 302 and response.headers["Location"].endswith("#shared")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    sharer = re.search(r'name="sharer" value="([^"]+)"', page).group(1)
    slug = re.search(r'action="/consultations/([^/]+)/shared', page).group(1)
    done = client.post(
        f"/consultations/{slug}/shared",
        data={
            "csrf_token": csrf_from(page),
            "sharer": sharer,
            "channel": channel,
            "reach": str(reach),
            "note": "At the partnership board",
        },
    )
    assert "Thank you for passing it on" in done.get_data(as_text=True)


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_a_scripted_cascade_comes_out_exactly_in_the_report_and_its_csv(
    app: Flask, db: Database, admin_client: FlaskClient
) -> None:
    cid, messages = launched(app, db)
    slug = consultation(db, cid).slug
    assert len(messages) == len(STAKEHOLDERS)
    clients: dict[int, FlaskClient] = {}

    def person(n: int) -> FlaskClient:  # the same person keeps their browser session
        return clients.setdefault(n, visitor(app, n))

    a, b, c = (messages[STAKEHOLDERS[n][0]] for n in (0, 4, 7))

    # Share-link visits: three people through A, two through B, one through C.
    pages_via_a = [arrive(person(n), a.share) for n in (1, 2, 3)]
    arrive(person(4), b.share)
    page_via_b = arrive(person(5), b.share)
    arrive(person(6), c.share)
    # Not people: a HEAD request, a mail scanner, and the same person again at once.
    assert person(7).head(a.share).status_code == 302
    scanner = person(8)
    scanner.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"
    assert scanner.get(a.share).status_code == 302
    again = person(1)
    assert again.get(a.share).status_code == 302

    # Survey clicks through the page: two via A, one via B; two straight from messages.
    for n, page in ((1, pages_via_a[0]), (2, pages_via_a[1])):
        assert person(n).get(survey_button(page)).status_code == 302
    assert person(5).get(survey_button(page_via_b)).status_code == 302
    for n in (5, 6):
        response = person(20 + n).get(messages[STAKEHOLDERS[n][0]].survey)
        assert response.headers["Location"] == "https://survey.example.org/plan"

    # Sign-ups through A: two confirm. Through B: one never confirms.
    for n, email in ((1, "colleague.one@example.org"), (2, "colleague.two@example.org")):
        client = person(n)
        register(client, pages_via_a[n - 1], slug, email)
        confirm_latest(app, client, email)
    register(person(5), page_via_b, slug, "never.confirms@example.org")
    # One of A's colleagues shares in turn (their code comes with the next message);
    # a third person signs up through them: two steps from A.
    with db.transaction() as session:
        colleague = session.scalar(
            select(Contact).where(Contact.email_key == "colleague.one@example.org")
        )
        assert colleague.source == SOURCE_CASCADE and colleague.referred_by_id is not None
        second_code = links.share_code_for(session, cid, colleague.id).code
    deeper = person(30)
    page = arrive(deeper, f"/s/{second_code}")
    register(deeper, page, slug, "friend.of.colleague@example.org")
    confirm_latest(app, deeper, "friend.of.colleague@example.org")

    # Two cascades confirmed from the messages' "tell us you shared this" links.
    shared(person(40), a.link(r"/s/[A-Za-z0-9_-]+/shared"), "email", 40)
    shared(person(41), c.link(r"/s/[A-Za-z0-9_-]+/shared"), "meeting", 15)
    # And a claim from the public page with no sharer's link: shown apart, not added.
    anonymous = person(42)
    page = anonymous.get(f"/consultations/{slug}").get_data(as_text=True)
    claimed = anonymous.post(
        f"/consultations/{slug}/shared",
        data={"csrf_token": csrf_from(page), "channel": "social", "reach": "90000"},
    )
    assert "Thank you for passing it on" in claimed.get_data(as_text=True)

    expected = {
        "Recipients": 10,
        "Delivered": 10,
        "Survey clicks from the messages and the page": 2,
        "Survey clicks through share links": 3,
        "Survey responses": 0,
        "Survey responses through share links": 0,
        "Share link visits": 7,
        "Sign-ups confirmed": 3,
        "Sign-ups through share links": 3,
        "Cascades confirmed": 2,
        "People reached, as reported": 55,
        "Anonymous claims of sharing (not counted above)": 1,
        "People reached, as claimed anonymously": 90000,
        "Deepest cascade (steps from a stakeholder)": 2,
    }
    page = admin_client.get(f"/admin/cascade/{cid}").get_data(as_text=True)
    shown = dict(re.findall(r'<th scope="row">([^<]+)</th><td data-measure="\d+">(\d+)</td>', page))
    assert {k: int(v) for k, v in shown.items()} == expected
    summary = list(csv.reader(io.StringIO(
        admin_client.get(f"/admin/cascade/{cid}/summary.csv").get_data(as_text=True)
    )))  # fmt: skip
    assert {row[0]: int(row[1]) for row in summary[1:]} == expected
    types = list(csv.reader(io.StringIO(
        admin_client.get(f"/admin/cascade/{cid}/types.csv").get_data(as_text=True)
    )))  # fmt: skip
    by_type = {row[0]: [int(v) for v in row[1:]] for row in types[1:]}
    # visits, survey clicks, survey responses, sign-ups, confirmations, reach
    assert by_type["Local authority"] == [3, 2, 0, 2, 1, 40]
    assert by_type["Voluntary and community group"] == [2, 1, 0, 0, 0, 0]
    assert by_type["Health"] == [1, 0, 0, 0, 1, 15]
    assert "(no type)" in by_type  # the colleague who shared in turn
    for table in ("sharers", "organisations", "areas", "channels", "activity"):
        assert admin_client.get(f"/admin/cascade/{cid}/{table}.csv").status_code == 200


def test_forged_codes_and_tokens_are_not_found_and_no_link_redirects_elsewhere(
    app: Flask, db: Database
) -> None:
    _cid, messages = launched(app, db)
    message = next(iter(messages.values()))
    client = visitor(app, 1)
    survey = message.survey
    for path in (
        "/r/not-a-token",
        "/s/not-a-code",
        "/s/not-a-code/shared",
        f"{survey}/forged-code",
        survey[:-1] + ("A" if survey[-1] != "A" else "B"),
        message.share[:-1] + ("A" if message.share[-1] != "A" else "B"),
        "/r/" + "x" * 200,
    ):
        assert client.get(path).status_code == 404, path
    # Whatever is added to a real link, it goes where the product put it.
    for extra in ("?url=https://evil.example.net/", "?next=//evil.example.net", "?via=x"):
        response = client.get(survey + extra)
        assert response.headers["Location"] == "https://survey.example.org/plan"
    assert client.get("/consultations/no-such-consultation").status_code == 404


def test_turning_tracking_off_removes_every_tracked_link_from_new_messages(
    tmp_path,
    db: Database,  # type: ignore[no-untyped-def]
) -> None:
    from mailer.app import create_app
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, db.url, tracking={"links": False}))
    app.config["TESTING"] = True
    try:
        cid, messages = launched(app, db)
        for message in messages.values():
            assert "/r/" not in message.text and "/s/" not in message.text
            assert "https://survey.example.org/plan" in message.text
        page = app.test_client().get(f"/consultations/{consultation(db, cid).slug}")
        assert 'href="https://survey.example.org/plan"' in page.get_data(as_text=True)
    finally:
        app.extensions["mailer.db"].dispose()


def test_the_page_is_public_once_approved_and_stays_so_for_links_already_sent(
    app: Flask, db: Database
) -> None:
    from mailer.accounts.models import User
    from scheduler.consultations import editing, lifecycle, planning, read_models
    from scheduler.consultations.details import Details

    cid, messages = launched(app, db)
    slug = consultation(db, cid).slug
    client = visitor(app, 1)
    assert client.get(f"/consultations/{slug}").status_code == 200
    # Taken back to draft to change a reminder: the links people hold still work.
    with db.transaction() as session:
        editor = session.scalar(select(User).where(User.email == "editor@example.org"))
        row = read_models.find(session, cid)
        lifecycle.return_to_draft(session, row, by=editor, now=row.opens_at)
    share = messages["partner0@example.org"].share
    assert client.get(client.get(share).headers["Location"]).status_code == 200
    # A consultation nobody approved has no public page.
    with db.transaction() as session:
        draft, _ = editing.create(
            session,
            Details(
                title="Budget consultation",
                opens_at=row.closes_at,
                closes_at=row.closes_at + (row.closes_at - row.opens_at),
                survey_url="https://survey.example.org/budget",
                lists=tuple(row.audience["lists"]),
            ),
            by=editor,
            rules=planning.rules_for(session, app.config["MAILER"]),
            now=row.opens_at,
        )
        draft_slug = draft.slug
    assert client.get(f"/consultations/{draft_slug}").status_code == 404
