"""API keys: made by an admin, shown once, kept as a hash, limited to scopes.

A key reads ``sm_<prefix>_<secret>``. The prefix (not secret) finds the row and is
what lists and logs show; the whole key is compared by its SHA-256 in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import api_scopes
from mailer.accounts.models import ApiKey, User

KEY_START = "sm_"


class ApiKeyRefused(ValueError):
    """A key cannot be made as asked; the message is the sentence the admin reads."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown once and never again


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def scopes_of(key: ApiKey) -> frozenset[str]:
    return frozenset(key.scopes.split())


def create(
    session: Session,
    *,
    name: str,
    scopes: list[str] | tuple[str, ...],
    expires_at: datetime | None,
    created_by: User | None,
    now: datetime,
) -> NewKey:
    name = name.strip()
    if not name:
        raise ApiKeyRefused("Give the key a name: the system that will use it.")
    if len(name) > 100:
        raise ApiKeyRefused("A key's name can be at most 100 characters.")
    if not scopes:
        raise ApiKeyRefused("Choose at least one thing the key may do (a scope).")
    wrong = api_scopes.unknown(scopes)
    if wrong:
        known = ", ".join(api_scopes.SCOPES)
        raise ApiKeyRefused(f"{wrong[0]!r} is not a scope. The scopes are: {known}.")
    if expires_at is not None and expires_at <= now:
        raise ApiKeyRefused("The expiry must be in the future.")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise ApiKeyRefused(f"There is already a key named {name!r}.")
    prefix = secrets.token_hex(4)
    raw = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=_hash(raw),
        scopes=" ".join(sorted(set(scopes))),
        created_at=now,
        created_by_id=created_by.id if created_by else None,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return NewKey(key=key, secret=raw)


def find(session: Session, raw: str, *, now: datetime) -> ApiKey | None:
    """The usable key ``raw`` is, or None (unknown, wrong, revoked or expired)."""
    parts = raw.split("_")
    if len(parts) < 3 or not raw.startswith(KEY_START) or len(raw) > 200:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)):
        return None
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    return key


def revoke(session: Session, key: ApiKey, *, by: User | None, now: datetime) -> bool:
    """Revoke ``key``; False when it already was."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    key.revoked_by_id = by.id if by else None
    return True


def listing(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)))
