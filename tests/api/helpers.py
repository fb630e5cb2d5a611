"""Making API keys for tests, and the header that carries one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask
from flask_smorest import Blueprint

from mailer import audit
from mailer.accounts import api_keys, api_scopes
from mailer.api import auth
from mailer.api.problems import ApiProblem
from mailer.app import create_app
from mailer.database import Database, get_db, utcnow
from mailer.web.security import csrf


def make_key(
    db: Database,
    *scopes: str,
    name: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new key with ``scopes`` (every scope when none is given); the key itself."""
    with db.transaction() as session:
        made = api_keys.create(
            session,
            name=name or f"test key {utcnow().timestamp()}",
            scopes=list(scopes or api_scopes.SCOPES),
            expires_at=expires_at,
            created_by=None,
            now=utcnow(),
        )
    return made.secret


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_app(tmp_path: Path, db: Database, **sections: dict[str, Any]) -> Flask:
    """An app on the test database with its own configuration ([api] rate_limit...)."""
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, db.url, **sections))
    app.config["TESTING"] = True
    return app


# --- a resource that creates things, for the plumbing's tests ------------------------------

things = Blueprint("test_things", __name__, url_prefix="/api/v1/test-things")


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))


@things.route("", methods=["POST"])
@auth.requires(api_scopes.CONTACTS_WRITE)
@things.arguments(ThingSchema)
@things.response(201, ThingSchema)
def make_thing(data: dict[str, Any]) -> Any:
    """Record a thing in the audit log (so a test can count what was made)."""
    if data["name"] == "boom":
        raise RuntimeError("a server error, for the test")
    if data["name"] == "refused":
        raise ApiProblem(409, "refused, for the test")
    with get_db().transaction(get_db().session) as session:
        entry = audit.record(
            session, THING_MADE, actor_label=auth.current().actor_label, summary=data["name"]
        )
        session.flush()
        entry_id = entry.id
    return data, 201, {"Location": f"/api/v1/test-things/{entry_id}"}


THING_MADE = "test.thing_made"


def with_things(app: Flask) -> Flask:
    """``app`` with the test resource registered in its API."""
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    api.register_blueprint(things)
    csrf.exempt(things)
    return app


def things_made(db: Database) -> list[str]:
    from sqlalchemy import select

    from mailer.audit.models import AuditEntry

    with db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry.summary)
                .where(AuditEntry.action == THING_MADE)
                .order_by(AuditEntry.id)
            )
        )
