"""The public forms' limits hold for requests sent at the same moment (a script's
burst, as many as the server has threads), not only for requests sent in turn; and a
Gmail mailbox is one mailbox however its address is dotted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mailer.database import Database
from mailer.tracking import limits
from mailer.tracking.models import CascadeConfirmation, SignUp
from tests.concurrency import together
from tests.conftest import csrf_from
from tests.tracking.helpers import consultation, launched
from tests.tracking.test_public_limits import TOO_MANY_FOR_ADDRESS, public_page, visitor

PARALLEL = 12  # more than the server's eight threads, as the probe sent


def _limit(form: str, scope: str) -> int:
    return min(x.count for x in limits.LIMITS[form] if x.scope == scope)


def _poster(client: FlaskClient, path: str, data: dict[str, str]) -> Callable[[], int]:
    return lambda: client.post(path, data=data).status_code


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_sign_ups_sent_together_for_one_mailbox_get_only_the_limit(
    app: Flask, db: Database
) -> None:
    cid, _messages = launched(app, db)
    slug = consultation(db, cid).slug
    calls = []
    for n in range(PARALLEL):
        # Each from a network of its own: only the mailbox limit is in play.
        client = visitor(app, f"198.51.{n}.1")
        token = csrf_from(public_page(client, slug))
        data = {"csrf_token": token, "name": "Sam", "email": f"racer+{n}@example.org"}
        calls.append(_poster(client, f"/consultations/{slug}/register", data))
    statuses = together(calls)
    allowed = _limit(limits.SIGN_UP, limits.ADDRESS)
    assert sorted(statuses) == [200] * allowed + [400] * (PARALLEL - allowed)
    with db.transaction() as session:
        queued = session.scalar(
            select(func.count()).select_from(SignUp).where(SignUp.email_key.like("racer+%"))
        )
    assert queued == allowed


def test_anonymous_shares_sent_together_from_one_network_count_only_the_limit(
    app: Flask, db: Database
) -> None:
    cid, _messages = launched(app, db)
    slug = consultation(db, cid).slug
    calls = []
    for n in range(PARALLEL):
        client = visitor(app, f"192.0.2.{n + 1}")  # one /24
        data = {"csrf_token": csrf_from(public_page(client, slug)), "channel": "social"}
        calls.append(_poster(client, f"/consultations/{slug}/shared", {**data, "reach": "40"}))
    statuses = together(calls)
    allowed = _limit(limits.SHARED_ANONYMOUS, limits.NETWORK)
    assert sorted(statuses) == [200] * allowed + [400] * (PARALLEL - allowed)
    with db.transaction() as session:
        recorded = session.scalar(select(func.count()).select_from(CascadeConfirmation))
    assert recorded == allowed


def test_gmail_dots_and_googlemail_are_one_mailbox(app: Flask, db: Database) -> None:
    cid, _messages = launched(app, db)
    slug = consultation(db, cid).slug
    addresses = [
        "v.i.c.t.i.m.a@gmail.com",
        "vi.ctima@gmail.com",
        "victima@googlemail.com",
        "Victim.A+news@GoogleMail.com",
    ]
    answers = []
    for n, address in enumerate(addresses):
        client = visitor(app, f"198.51.{n}.1")
        page = public_page(client, slug)
        answers.append(
            client.post(
                f"/consultations/{slug}/register",
                data={"csrf_token": csrf_from(page), "name": "Sam", "email": address},
            )
        )
    assert [a.status_code for a in answers] == [200, 200, 200, 400]
    assert TOO_MANY_FOR_ADDRESS in answers[-1].get_data(as_text=True)
    # The count is by mailbox; the confirmations go to the addresses as given.
    with db.transaction() as session:
        sent_to = set(session.scalars(select(SignUp.email)))
    assert sent_to == set(addresses[:3])
    # Elsewhere dots are part of the address.
    assert limits.normalised_address("a.b@example.org") != limits.normalised_address(
        "ab@example.org"
    )
