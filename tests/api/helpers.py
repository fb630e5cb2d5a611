"""Making API keys for tests, and the header that carries one."""

from __future__ import annotations

from datetime import datetime

from mailer.accounts import api_keys, api_scopes
from mailer.database import Database, utcnow


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
