"""API keys: made by an admin, shown once, kept as a hash, limited to scopes.

A key reads ``sm_<prefix>_<secret>``. The prefix (not secret) finds the row and is
what lists and logs show; the whole key is compared by its SHA-256 in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import audit
from mailer.accounts import api_scopes
from mailer.accounts.models import ApiKey, User
from mailer.audit import actions
from mailer.config import parse_duration

KEY_START = "sm_"


class ApiKeyRefused(ValueError):
    """A key cannot be made as asked; the message is the sentence the admin reads."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # the whole key, shown once and never again


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _refuse_control_characters(name: str) -> None:
    """A key's name goes into the audit log, lists and log lines: a line break or
    other control character there would forge or garble them, whichever way the key
    is made (the admin's form cleans them; the command line and callers do not)."""
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs") or char in "\u2028\u2029":
            raise ApiKeyRefused(
                f"A key's name cannot hold a control character (U+{ord(char):04X}), "
                "such as a line break or tab: give it on one line, in plain text."
            )


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
    actor_label: str | None = None,
    ip: str | None = None,
) -> NewKey:
    """Make a key (audited: by ``created_by``, or ``actor_label`` such as "command
    line"); the secret is in the answer, and nowhere else ever after."""
    name = name.strip()
    if not name:
        raise ApiKeyRefused("Give the key a name: the system that will use it.")
    if len(name) > 100:
        raise ApiKeyRefused("A key's name can be at most 100 characters.")
    _refuse_control_characters(name)
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
    audit.record(
        session,
        actions.API_KEY_CREATED,
        actor=created_by,
        actor_label=actor_label,
        target_type="api_key",
        target_id=key.id,
        summary=f"API key {name!r} ({key.prefix}) made: {key.scopes}",
        detail={"name": name, "prefix": prefix, "scopes": key.scopes.split()},
        ip=ip,
    )
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


def revoke(
    session: Session,
    key: ApiKey,
    *,
    by: User | None,
    now: datetime,
    actor_label: str | None = None,
    ip: str | None = None,
) -> bool:
    """Revoke ``key`` (audited); False when it already was."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    key.revoked_by_id = by.id if by else None
    audit.record(
        session,
        actions.API_KEY_REVOKED,
        actor=by,
        actor_label=actor_label,
        target_type="api_key",
        target_id=key.id,
        summary=f"API key {key.name!r} ({key.prefix}) revoked",
        ip=ip,
    )
    return True


def by_name(session: Session, name: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.name == name.strip()))


def parse_expiry(text: str, *, now: datetime, zone: tzinfo) -> datetime | None:
    """When a key typed as ``text`` expires: empty for never, a duration (``90d``,
    ``12h``), an ISO date (the end of that day, local time) or date and time (local
    unless it has an offset). Refuses what it cannot read."""
    text = text.strip()
    if not text:
        return None
    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(23, 59, 59))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiKeyRefused(
            f"{text!r} is not an expiry: write a date (2027-03-31), a date and time "
            "(2027-03-31T17:00) or a duration (90d)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def listing(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)))


def creators(session: Session, keys: list[ApiKey]) -> dict[int, str]:
    """Who made each of ``keys`` (user id -> email), for the keys page."""
    ids = {k.created_by_id for k in keys if k.created_by_id is not None}
    if not ids:
        return {}
    return {u.id: u.email for u in session.scalars(select(User).where(User.id.in_(ids)))}
