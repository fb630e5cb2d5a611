"""The API keys page: admins only; a key made shows once and works; revoking needs
the CSRF token and stops the key; both audited; mistakes come back next to the field."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import ApiKey
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.api.helpers import bearer
from tests.conftest import add_user, csrf_from, login

URL = "/admin/api-keys/"


def _make(client: FlaskClient, **form: object):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(URL).get_data(as_text=True))
    return client.post(URL, data={"csrf_token": token, **form})


def test_an_admin_makes_a_key_shown_once_that_works(
    admin_client: FlaskClient, db: Database
) -> None:
    made = _make(
        admin_client, name="CRM sync", scopes=["contacts:read", "contacts:write"], expires="90d"
    )
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    html = made.get_data(as_text=True)
    assert "shown only this once" in html
    start = html.index('id="api-key-secret">') + len('id="api-key-secret">')
    secret = html[start : html.index("</code>", start)]
    assert secret.startswith("sm_")
    answer = admin_client.get("/api/v1/key", headers=bearer(secret))
    assert answer.json == {"name": "CRM sync", "scopes": ["contacts:read", "contacts:write"]}
    listing = admin_client.get(URL).get_data(as_text=True)
    assert "CRM sync" in listing and secret not in listing
    assert "admin@example.org" in listing  # who made it
    with db.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "api_key.created"))
        assert entry is not None and entry.actor_label == "admin@example.org"


def test_mistakes_come_back_next_to_their_field_with_what_was_typed(
    admin_client: FlaskClient, db: Database
) -> None:
    answer = _make(admin_client, name="Website", expires="whenever")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'id="key-scopes-error"' in html and "at least one" in html
    assert 'id="key-expires-error"' in html and "not an expiry" in html
    assert 'value="Website"' in html
    past = _make(admin_client, name="Website", scopes=["sends:read"], expires="2001-01-01")
    assert past.status_code == 400 and "future" in past.get_data(as_text=True)
    _make(admin_client, name="Website", scopes=["sends:read"])
    twice = _make(admin_client, name="Website", scopes=["sends:read"])
    assert twice.status_code == 400 and "already a key" in twice.get_data(as_text=True)
    with db.transaction() as session:
        assert len(list(session.scalars(select(ApiKey)))) == 1


def test_revoking_needs_the_token_and_stops_the_key(
    admin_client: FlaskClient, db: Database
) -> None:
    html = _make(admin_client, name="Old", scopes=["sends:read"]).get_data(as_text=True)
    start = html.index('id="api-key-secret">') + len('id="api-key-secret">')
    secret = html[start : html.index("</code>", start)]
    with db.transaction() as session:
        key_id = session.scalar(select(ApiKey.id))
    without = admin_client.post(f"{URL}{key_id}/revoke")
    assert without.status_code == 400
    assert admin_client.get("/api/v1/key", headers=bearer(secret)).status_code == 200
    page = admin_client.get(URL).get_data(as_text=True)
    assert "data-confirm" in page
    done = admin_client.post(f"{URL}{key_id}/revoke", data={"csrf_token": csrf_from(page)})
    assert done.status_code == 302
    assert admin_client.get("/api/v1/key", headers=bearer(secret)).status_code == 401
    assert "Revoked" in admin_client.get(URL).get_data(as_text=True)
    with db.transaction() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("api_key.%")).order_by(AuditEntry.id)))  # fmt: skip
    assert actions == ["api_key.created", "api_key.revoked"]


def test_only_admins_see_and_use_the_page(client: FlaskClient, db: Database) -> None:
    assert client.get(URL).status_code == 302  # to the sign-in page
    for role in (roles.EDITOR, roles.APPROVER):
        add_user(db, email=f"{role}@example.org", role=role)
        fresh = client.application.test_client()
        login(fresh, f"{role}@example.org")
        assert fresh.get(URL).status_code == 403
        assert "API keys" not in fresh.get("/admin/").get_data(as_text=True)


def test_the_menu_offers_it_to_admins(admin_client: FlaskClient) -> None:
    assert 'href="/admin/api-keys/"' in admin_client.get("/admin/").get_data(as_text=True)
