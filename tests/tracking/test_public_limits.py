"""The public forms' limits: per mailbox (case and +tags do not make a new one), per
client network and overall, shared through the database; new, known and suppressed
addresses are answered alike; anonymous "I shared this" claims are limited, capped
and kept out of the report's headline reach; names lose their control characters."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contacts import subscriptions, suppression
from contacts.models import Contact
from mailer.database import Database, utcnow
from mailer.rendering import mime
from mailer.tracking import limits
from mailer.tracking.models import PublicRequest, SignUp
from mailer.tracking.signups import parse_reach
from mailer.web import timing
from tests.conftest import csrf_from
from tests.smtp_server import FaultySmtp
from tests.tracking.helpers import consultation, launched
from tests.tracking.test_signups import BROWSER, deliver, register

TOO_MANY_FOR_ADDRESS = "already sent confirmation emails to this address"


def visitor(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": BROWSER})
    return client


def public_page(client: FlaskClient, slug: str) -> str:
    return client.get(f"/consultations/{slug}").get_data(as_text=True)


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_plus_tags_and_case_do_not_make_a_new_mailbox(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    cid, _messages = launched(smtp_app, db, server)
    slug = consultation(db, cid).slug
    before = len(server.received)
    answers = []
    for n in range(9):
        # Each from its own network: only the mailbox limit is in play.
        client = visitor(smtp_app, f"192.0.2.{n}" if n < 5 else f"198.51.{n}.1")
        address = f"Victim+{n}@Example.org" if n % 2 else f"victim+{n}@example.org"
        answers.append(register(client, public_page(client, slug), email=address))
    assert [a.status_code for a in answers] == [200] * 3 + [400] * 6
    assert TOO_MANY_FOR_ADDRESS in answers[-1].get_data(as_text=True)
    deliver(smtp_app)
    reached = [m for m in server.received[before:] if m.recipients[0].lower().startswith("victim")]
    assert len(reached) == 3


@pytest.mark.slow
def test_one_network_is_limited_and_another_is_not(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    cid, _messages = launched(smtp_app, db, server)
    slug = consultation(db, cid).slug
    limit = next(x for x in limits.LIMITS[limits.SIGN_UP] if x.scope == limits.NETWORK)
    statuses = []
    for n in range(limit.count + 1):
        # Every address of the /24 is the same network.
        client = visitor(smtp_app, f"203.0.113.{n + 1}")
        response = register(client, public_page(client, slug), email=f"person{n}@example.org")
        statuses.append(response.status_code)
    assert statuses == [200] * limit.count + [400]
    assert "many requests from your network" in response.get_data(as_text=True)
    other = visitor(smtp_app, "203.0.114.1")
    assert register(other, public_page(other, slug), email="else@example.org").status_code == 200
    assert limits.network_of("2001:db8:1:2:3::1") == limits.network_of("2001:db8:1:2:ffff::9")
    assert limits.network_of("2001:db8:1:2:3::1") != limits.network_of("2001:db8:1:3::1")
    assert limits.network_of("::ffff:203.0.113.9") == limits.network_of("203.0.113.200")


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_an_overall_limit_holds_across_networks(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    cid, _messages = launched(smtp_app, db, server)
    slug = consultation(db, cid).slug
    overall = next(x for x in limits.LIMITS[limits.SIGN_UP] if x.scope == limits.ALL)
    now = utcnow()
    # Other processes' requests, as the shared table holds them.
    with db.transaction() as session:
        session.add_all(
            PublicRequest(form=limits.SIGN_UP, network_key=f"n{n}", address_key=f"a{n}", at=now)
            for n in range(overall.count)
        )
    client = visitor(smtp_app, "192.0.2.77")
    refused = register(client, public_page(client, slug), email="late@example.org")
    assert refused.status_code == 400
    assert "a great many requests just now" in refused.get_data(as_text=True)
    # An hour later there is room again, and day-old rows are cleared as requests come.
    with db.transaction() as session:
        for row in session.scalars(select(PublicRequest)):
            row.at = now - timedelta(days=2)
    assert register(client, public_page(client, slug), email="late@example.org").status_code == 200
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PublicRequest)) == 1


def _without_token(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_new_known_and_suppressed_addresses_get_the_same_answer(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    cid, _messages = launched(smtp_app, db, server)
    slug = consultation(db, cid).slug
    with db.transaction() as session:
        suppression.suppress(session, email_key="erased@example.org", reason="erased")
        left = session.scalar(select(Contact).where(Contact.email_key == "partner4@example.org"))
        subscriptions.unsubscribe(session, left, send_id=None, one_click=True)
    addresses = {
        "new": "new.person@example.org",
        "known": "partner3@example.org",
        "erased": "erased@example.org",
        "unsubscribed": "partner4@example.org",
    }
    answers = {}
    took = {}
    for n, (kind, address) in enumerate(addresses.items()):
        client = visitor(smtp_app, f"198.51.100.{n}")
        page = public_page(client, slug)
        started = time.monotonic()
        response = register(client, page, email=address, name="Sam")
        took[kind] = time.monotonic() - started
        answers[kind] = (response.status_code, _without_token(response.get_data(as_text=True)))
    assert len(set(answers.values())) == 1, {k: v[0] for k, v in answers.items()}
    # Each accepted answer is held to the same time, so a suppressed address's
    # answer is not the quick one.
    assert min(took.values()) >= timing.SIGN_UP_ANSWER_S, took
    # The limit for one mailbox counts a suppressed address's requests too, so it
    # cannot tell who has left either.
    for kind in ("new", "erased"):
        statuses = []
        for n in range(3):
            client = visitor(smtp_app, f"192.0.{n}.{len(kind)}")
            response = register(client, public_page(client, slug), email=addresses[kind])
            statuses.append(response.status_code)
        assert statuses == [200, 200, 400], kind
        assert TOO_MANY_FOR_ADDRESS in response.get_data(as_text=True)


def test_control_characters_never_reach_a_name_or_a_header(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    cid, _messages = launched(smtp_app, db, server)
    slug = consultation(db, cid).slug
    client = visitor(smtp_app, "192.0.2.10")
    name = "Sam \u202eliam\u202c \x1b[31mColleague\x7f\x9b\u2066x\u2069"
    assert register(client, public_page(client, slug), email="sam@example.org", name=name)
    with db.transaction() as session:
        stored = session.scalar(select(SignUp.name).where(SignUp.email_key == "sam@example.org"))
    assert stored == "Sam liam [31mColleaguex"
    # Whatever wrote the name (an import, the admin, an old row), the header is clean.
    header = mime.address_header("To", name + "\r\nBcc: someone@example.net", "sam@example.org")
    assert header.count(b"\r\n") == 1 or b"\r\n <" in header
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", header)
    assert b"Bcc: someone" not in header.split(b"\r\n")[1:]


def shared_anonymously(client: FlaskClient, slug: str, reach: str):  # type: ignore[no-untyped-def]
    page = public_page(client, slug)
    return client.post(
        f"/consultations/{slug}/shared",
        data={"csrf_token": csrf_from(page), "channel": "social", "reach": reach},
    )


@pytest.mark.slow
def test_anonymous_claims_are_limited_capped_and_reported_apart(
    app: Flask, db: Database, admin_client: FlaskClient
) -> None:
    cid, _messages = launched(app, db)
    slug = consultation(db, cid).slug
    # The probe: thirty posts claiming a million each.
    for n in range(30):
        big = shared_anonymously(visitor(app, f"198.51.{n}.1"), slug, "1000000")
        assert big.status_code == 400
    assert "Give a number from 0 to 100,000" in big.get_data(as_text=True)
    # A few from one network, then a clear no.
    one = visitor(app, "192.0.2.1")
    statuses = [shared_anonymously(one, slug, "100000").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 400]
    # Many networks: the overall brake.
    statuses = [
        shared_anonymously(visitor(app, f"10.{n}.0.1"), slug, "100000").status_code
        for n in range(40)
    ]
    overall = next(x for x in limits.LIMITS[limits.SHARED_ANONYMOUS] if x.scope == limits.ALL)
    assert statuses.count(200) == overall.count - 3
    page = admin_client.get(f"/admin/cascade/{cid}").get_data(as_text=True)
    shown = dict(re.findall(r'<th scope="row">([^<]+)</th><td data-measure="\d+">(\d+)</td>', page))
    assert shown["Cascades confirmed"] == "0"
    assert shown["People reached, as reported"] == "0"
    assert shown["Anonymous claims of sharing (not counted above)"] == str(overall.count)
    assert shown["People reached, as claimed anonymously"] == str(overall.count * 100_000)


def test_daily_housekeeping_clears_old_limit_rows(db: Database) -> None:
    from mailer.tracking import privacy

    now = utcnow()
    with db.transaction() as session:
        for age in (timedelta(days=2), timedelta(hours=2)):
            session.add(PublicRequest(form=limits.SIGN_UP, network_key="n", at=now - age))
    with db.transaction() as session:
        privacy.purge(session, now=now, keep=timedelta(days=730))
        assert session.scalar(select(func.count()).select_from(PublicRequest)) == 1


@pytest.mark.parametrize(
    ("typed", "people"),
    [("", 0), ("1,500", 1500), ("about 200", 200), ("200+", 200), ("12 000", 12000), ("~40", 40)],
)
def test_reach_is_read_as_people_write_it(typed: str, people: int) -> None:
    assert parse_reach(typed) == people


def test_a_reach_that_is_no_number_or_negative_is_told_apart() -> None:
    assert parse_reach("lots") is None and parse_reach("-5") == -5
