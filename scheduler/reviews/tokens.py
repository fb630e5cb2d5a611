"""The link in a review notice that turns the reader's notices off.

Signed with the app's secret key (and its old ones, so a rotated key keeps links
working), salt "review-notices", carrying the user's id and a digest of their address
key: it acts only on that user, and stops working if the account's address changes or
after MAX_AGE. Anything forged, altered or expired reads as nobody."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from mailer.accounts.models import User

SALT = "review-notices"
MAX_AGE = timedelta(days=90)


def _serializer(secret_keys: Sequence[str]) -> URLSafeTimedSerializer:
    if not secret_keys or not all(secret_keys):
        raise ValueError("no secret key to sign review notice links with")
    # itsdangerous signs with the last key and accepts any of them.
    return URLSafeTimedSerializer(list(reversed(secret_keys)), salt=SALT)


def _key_digest(user: User) -> str:
    return hashlib.sha256(user.email_key.encode("utf-8")).hexdigest()[:16]


def make(user: User, *, secret_keys: Sequence[str]) -> str:
    return _serializer(secret_keys).dumps({"u": user.id, "k": _key_digest(user)})


def owner(session: Session, token: str, *, secret_keys: Sequence[str]) -> User | None:
    """The user the token was made for, or None (forged, expired, or the account's
    address changed since)."""
    try:
        data = _serializer(secret_keys).loads(token, max_age=int(MAX_AGE.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if user is None or not hmac.compare_digest(str(data.get("k", "")), _key_digest(user)):
        return None
    return user
