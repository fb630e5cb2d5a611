"""The admin's webhook pages: admins only, errors in words, the secret on request, a
test event and its answer in the delivery log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.audit.models import AuditEntry
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.events import endpoints
from mailer.events.models import WebhookEndpoint, WebhookMessage
from tests.conftest import add_user, csrf_from, login
from tests.events.helpers import Clock, dispatcher, webhook_config
from tests.events.receiver import receiving


@pytest.fixture
def config(tmp_path: Path, db: Database) -> Config:
    return webhook_config(tmp_path, db)


def _post(client: FlaskClient, url: str, data: dict[str, object], page: str):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _only_endpoint(db: Database) -> WebhookEndpoint:
    with db.transaction() as session:
        endpoint = session.scalar(select(WebhookEndpoint))
        assert endpoint is not None
        session.expunge(endpoint)
        return endpoint


def test_editors_and_approvers_are_refused(client: FlaskClient, db: Database):
    add_user(db, email="ed@example.org", role=roles.EDITOR)
    login(client, "ed@example.org")
    assert client.get("/admin/webhooks/").status_code == 403
    assert client.get("/admin/webhooks/new").status_code == 403
    assert "Webhooks" not in client.get("/admin/").get_data(as_text=True)


def test_the_form_says_what_is_wrong_and_keeps_what_was_typed(admin_client: FlaskClient):
    response = _post(
        admin_client,
        "/admin/webhooks/new",
        {"name": "CRM", "url": "ftp://crm.example.org/in"},
        "/admin/webhooks/new",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The URL must start with https://." in page
    assert "Choose at least one event for this endpoint." in page
    assert 'value="ftp://crm.example.org/in"' in page


def test_a_form_without_its_csrf_token_is_refused(admin_client: FlaskClient):
    response = admin_client.post(
        "/admin/webhooks/new", data={"name": "CRM", "url": "http://127.0.0.1:9/"}
    )
    assert response.status_code == 400


def test_add_see_the_secret_send_a_test_and_read_the_log(
    admin_client: FlaskClient, app: Flask, db: Database, config: Config
):
    with receiving() as receiver:
        receiver.answer = b"<b>received</b>"
        response = _post(
            admin_client,
            "/admin/webhooks/new",
            {"name": "CRM", "url": receiver.url, "events": ["contact.unsubscribed"]},
            "/admin/webhooks/new",
        )
        assert response.status_code == 302
        endpoint = _only_endpoint(db)
        page_url = f"/admin/webhooks/{endpoint.id}"
        assert response.headers["Location"].startswith(page_url)
        assert "Show the secret" in admin_client.get(page_url).get_data(as_text=True)
        shown = _post(admin_client, f"{page_url}/secret", {}, page_url)
        secret = re.search(r'id="signing-secret"[^>]*>(whsec_[^<]+)<', shown.get_data(as_text=True))
        assert secret is not None and shown.headers["Cache-Control"] == "no-store"
        receiver.secret = secret.group(1)
        assert _post(admin_client, f"{page_url}/test", {}, page_url).status_code == 302
        assert dispatcher(db, config, Clock(utcnow())).run_once().delivered == 1
    assert receiver.verified[0]["type"] == "webhook.test"
    log = admin_client.get(page_url).get_data(as_text=True)
    assert "webhook.test" in log and "answered 200" in log
    assert "&lt;b&gt;received&lt;/b&gt;" in log and "<b>received</b>" not in log
    with db.transaction() as session:
        done = set(session.scalars(select(AuditEntry.action)))
    assert {"webhook.created", "webhook.secret_shown", "webhook.test_sent"} <= done


def test_switch_off_on_and_delete(admin_client: FlaskClient, db: Database):
    _post(
        admin_client,
        "/admin/webhooks/new",
        {"name": "Website", "url": "http://127.0.0.1:9/", "events": ["consultation.opened"]},
        "/admin/webhooks/new",
    )
    endpoint = _only_endpoint(db)
    page_url = f"/admin/webhooks/{endpoint.id}"
    _post(admin_client, f"{page_url}/disable", {}, page_url)
    assert not _only_endpoint(db).enabled
    assert "Switched off" in admin_client.get("/admin/webhooks/").get_data(as_text=True)
    _post(admin_client, f"{page_url}/enable", {}, page_url)
    assert _only_endpoint(db).enabled
    confirm = admin_client.get(f"{page_url}/delete").get_data(as_text=True)
    assert "cannot be undone" in confirm
    _post(admin_client, f"{page_url}/delete", {}, f"{page_url}/delete")
    with db.transaction() as session:
        assert session.scalar(select(WebhookEndpoint)) is None


def test_the_emailed_page_address_is_the_route(app: Flask):
    with app.test_request_context(base_url="https://mailer.example.org"):
        from flask import url_for

        built = url_for("outgoing_webhooks.show", endpoint_id=12, _external=True)
    assert endpoints.admin_page("https://mailer.example.org/", 12) == built


def test_a_switched_off_endpoint_refuses_retry_and_test_in_words(
    admin_client: FlaskClient, db: Database, config: Config
):
    with receiving() as receiver:
        receiver.status = 500
        _post(
            admin_client,
            "/admin/webhooks/new",
            {"name": "CRM", "url": receiver.url, "events": ["contact.unsubscribed"]},
            "/admin/webhooks/new",
        )
        endpoint = _only_endpoint(db)
        page_url = f"/admin/webhooks/{endpoint.id}"
        _post(admin_client, f"{page_url}/test", {}, page_url)
        assert dispatcher(db, config, Clock(utcnow())).run_once().failed == 1
        log = admin_client.get(page_url).get_data(as_text=True)
        # Said once, not "answered 500: answered 500 Internal Server Error".
        assert log.count("answered 500") == 1 and "answered 500 Internal Server Error" in log
        _post(admin_client, f"{page_url}/disable", {}, page_url)
        with db.transaction() as session:
            [message] = session.scalars(select(WebhookMessage)).all()
            message_id, state = message.id, message.state
        assert state == "failed"
        retried = _post(admin_client, f"{page_url}/messages/{message_id}/retry", {}, page_url)
        assert retried.status_code == 302
        page = admin_client.get(page_url).get_data(as_text=True)
        assert "This endpoint is switched off, so nothing is sent to it" in page
        tested = _post(admin_client, f"{page_url}/test", {}, page_url)
        assert tested.status_code == 302
        assert "switched off" in admin_client.get(page_url).get_data(as_text=True)
        with db.transaction() as session:
            messages = session.scalars(select(WebhookMessage)).all()
            assert [(m.id, m.state) for m in messages] == [(message_id, "failed")]
            done = set(session.scalars(select(AuditEntry.action)))
        assert "webhook.retried" not in done
        assert dispatcher(db, config, Clock(utcnow())).run_once().failed == 0
        assert len(receiver.got) == 1


def test_a_disabled_endpoints_page_says_when_in_the_offices_time(
    admin_client: FlaskClient, db: Database
):
    _post(
        admin_client,
        "/admin/webhooks/new",
        {"name": "CRM", "url": "http://127.0.0.1:9/", "events": ["contact.unsubscribed"]},
        "/admin/webhooks/new",
    )
    endpoint = _only_endpoint(db)
    with db.transaction() as session:
        found = session.get(WebhookEndpoint, endpoint.id)
        assert found is not None
        found.failing_since = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
        endpoints.disable(
            session,
            found,
            reason="nothing delivered for 5 days; last answer: answered 503 Service Unavailable",
            now=datetime(2026, 7, 6, 8, 0, tzinfo=UTC),
        )
    page = admin_client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    # Europe/London in July is an hour ahead of UTC.
    words = re.sub(r"<[^>]+>", "", page)
    assert "failing since Wednesday 1 July 2026, 9am" in words
    assert " UTC" not in words
