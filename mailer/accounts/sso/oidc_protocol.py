"""Talking to the office's OpenID Connect provider: the authorization code flow with
PKCE (S256), a state and a nonce.

``begin`` makes the address the browser is sent to and the secrets it must come back
with; ``check_answer`` reads the provider's answer; ``finish`` trades the code for
tokens and checks the ID token (signature against the provider's published keys,
issuer, audience, expiry, nonce) and says who signed in. The discovery document and
keys are kept for an hour; every request to the provider has a timeout. Who may then
sign in, and as what, is mailer/accounts/sso/oidc.py.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from authlib.integrations.requests_client import (  # type: ignore[import-untyped]
    OAuth2Session,
    OAuthError,
)
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from mailer.accounts.service import AccountError
from mailer.config import OidcSection

log = logging.getLogger(__name__)

# How long the provider may take to answer, and how long its discovery document and
# keys are trusted before being read again (a key the cache lacks is fetched at once).
TIMEOUT = 10
KEPT_FOR = 3600.0
# Clocks here and at the provider may differ by this much.
LEEWAY = 120
# Entra ID, Google and the test provider all sign with RSA or elliptic curves.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


class SsoRefused(AccountError):
    """A single sign-on that does not sign anyone in: the sentence shown, the reason
    kept in the audit log, and the address the provider gave, if any."""

    def __init__(self, message: str, *, reason: str, email: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.email = email


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document says, as far as this client needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Flow:
    """Where to send the browser, and what it must bring back (kept in its signed
    cookie meanwhile: the state and nonce are compared, the verifier proves PKCE)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from a checked ID token."""

    subject: str
    email: str
    email_verified: bool
    name: str
    groups: tuple[str, ...]


# --- talking to the provider ------------------------------------------------------------

_cache_lock = threading.Lock()
_documents: dict[str, tuple[float, Provider]] = {}
_keys: dict[str, tuple[float, KeySet]] = {}


def _unreachable(config: OidcSection, what: str) -> SsoRefused:
    return SsoRefused(
        f"{config.name} could not be reached just now, so you are not signed in. "
        "Try again in a few minutes; if it goes on, tell your administrator.",
        reason=f"provider unreachable ({what})",
    )


def _get_json(config: OidcSection, url: str, what: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("single sign-on: reading %s from %s failed: %s", what, url, exc)
        raise _unreachable(config, what) from None
    if not isinstance(data, dict):
        raise _unreachable(config, what)
    return data


def discover(config: OidcSection) -> Provider:
    """The provider's endpoints, read from ``<issuer>/.well-known/openid-configuration``
    and kept for an hour."""
    with _cache_lock:
        kept = _documents.get(config.issuer)
    if kept is not None and time.monotonic() - kept[0] < KEPT_FOR:
        return kept[1]
    url = config.issuer.rstrip("/") + "/.well-known/openid-configuration"
    data = _get_json(config, url, "discovery document")
    try:
        found = Provider(
            issuer=str(data["issuer"]),
            authorization_endpoint=str(data["authorization_endpoint"]),
            token_endpoint=str(data["token_endpoint"]),
            jwks_uri=str(data["jwks_uri"]),
        )
    except KeyError as exc:
        log.warning("single sign-on: discovery document lacks %s", exc)
        raise _unreachable(config, "discovery document") from None
    # A document naming another issuer is someone else's (or a mistyped config).
    if found.issuer != config.issuer:
        log.warning("single sign-on: issuer %r, expected %r", found.issuer, config.issuer)
        raise _unreachable(config, "issuer mismatch in the discovery document")
    with _cache_lock:
        _documents[config.issuer] = (time.monotonic(), found)
    return found


def _key_set(config: OidcSection, provider: Provider, kid: str | None) -> KeySet:
    """The provider's signing keys; read again when a token names a key not yet seen
    (the provider rotated its keys)."""
    with _cache_lock:
        kept = _keys.get(provider.jwks_uri)
    fresh = kept is not None and time.monotonic() - kept[0] < KEPT_FOR
    if fresh and kept is not None and (kid is None or any(k.kid == kid for k in kept[1].keys)):
        return kept[1]
    data = _get_json(config, provider.jwks_uri, "signing keys")
    try:
        keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        log.warning("single sign-on: unreadable signing keys: %s", exc)
        raise _unreachable(config, "signing keys") from None
    with _cache_lock:
        _keys[provider.jwks_uri] = (time.monotonic(), keys)
    return keys


def forget_provider() -> None:
    """Drop what was kept of every provider (tests start providers of their own)."""
    with _cache_lock:
        _documents.clear()
        _keys.clear()


def _client(config: OidcSection, redirect_uri: str) -> Any:
    return OAuth2Session(
        config.client_id,
        config.client_secret,
        scope=" ".join(config.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def begin(config: OidcSection, *, redirect_uri: str) -> Flow:
    """The address of the provider's sign-in page for a new sign-in, and its secrets."""
    provider = discover(config)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    url, _ = _client(config, redirect_uri).create_authorization_url(
        provider.authorization_endpoint, state=state, code_verifier=verifier, nonce=nonce
    )
    return Flow(url=url, state=state, nonce=nonce, code_verifier=verifier)


def check_answer(config: OidcSection, *, expected_state: str, args: Mapping[str, str]) -> str:
    """The code from the provider's answer (the callback's query), once the answer is
    shown to be for the sign-in this browser began; refused otherwise."""
    returned = args.get("state", "")
    if not expected_state or not hmac.compare_digest(expected_state, returned):
        raise SsoRefused(
            "That sign-in was not started in this browser, or took too long. Start again "
            f"with the “Sign in with {config.name}” button.",
            reason="state did not match",
        )
    error = args.get("error", "")
    if error:
        raise SsoRefused(_provider_error_words(config, error), reason=f"provider said {error}")
    code = args.get("code", "")
    if not code:
        raise SsoRefused(
            f"{config.name} sent no answer we could use. Start again.", reason="no code"
        )
    return code


def _provider_error_words(config: OidcSection, error: str) -> str:
    if error == "access_denied":
        return (
            f"Signing in with {config.name} was cancelled, or {config.name} did not allow it. "
            "You are not signed in."
        )
    if error in ("login_required", "interaction_required", "consent_required"):
        return f"{config.name} needs you to sign in there first. Start again."
    return (
        f"{config.name} could not sign you in (it said “{error[:60]}”). Try again; if it "
        "goes on, tell your administrator."
    )


def finish(
    config: OidcSection,
    *,
    code: str,
    code_verifier: str,
    nonce: str,
    redirect_uri: str,
    now: datetime,
) -> Identity:
    """Trade the code for tokens and check the ID token; who signed in."""
    provider = discover(config)
    try:
        token = _client(config, redirect_uri).fetch_token(
            provider.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
            timeout=TIMEOUT,
        )
    except OAuthError as exc:
        log.warning("single sign-on: token request refused: %s", exc)
        raise SsoRefused(
            f"{config.name} would not complete the sign-in. Start again.",
            reason=f"token request refused ({exc.error})",
        ) from None
    except requests.RequestException as exc:
        log.warning("single sign-on: token request failed: %s", exc)
        raise _unreachable(config, "token endpoint") from None
    id_token = token.get("id_token") if isinstance(token, Mapping) else None
    if not isinstance(id_token, str):
        raise _untrusted(config, "no ID token")
    claims = verify_id_token(config, provider, id_token, nonce=nonce, now=now)
    return identity_from(config, claims)


def _untrusted(config: OidcSection, why: str) -> SsoRefused:
    return SsoRefused(
        f"The answer from {config.name} could not be trusted, so you are not signed in. "
        "Start again; if it happens again, tell your administrator.",
        reason=f"ID token refused: {why}",
    )


def _kid(id_token: str) -> str | None:
    try:
        kid = extract_compact(id_token.encode()).headers().get("kid")
    except (JoseError, ValueError):
        return None
    return kid if isinstance(kid, str) else None


def verify_id_token(
    config: OidcSection, provider: Provider, id_token: str, *, nonce: str, now: datetime
) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, expiry and nonce
    are right."""
    keys = _key_set(config, provider, _kid(id_token))
    try:
        decoded = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise _untrusted(config, f"signature ({type(exc).__name__})") from None
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=LEEWAY,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": config.client_id},
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise _untrusted(config, f"{type(exc).__name__}: {exc}") from None
    # With several audiences, the token must have been given to us (OpenID Connect
    # Core 3.1.3.7, items 4 and 5).
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != config.client_id:
        raise _untrusted(config, "azp is not this client")
    returned = claims.get("nonce")
    if not nonce or not isinstance(returned, str) or not hmac.compare_digest(returned, nonce):
        raise _untrusted(config, "nonce did not match")
    return dict(claims)


# --- who signed in, and as what ---------------------------------------------------------


def claim_values(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The values of the roles claim: a list of groups or roles, or a single value
    (Google's "hd", an "email"). A dotted name reaches into an object
    ("realm_access.roles")."""
    value: Any = claims.get(name)
    if value is None and "." in name:
        value = claims
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        return tuple(str(item) for item in value if isinstance(item, str | int))
    return ()


def _verified(claims: Mapping[str, Any]) -> bool:
    # Google and most providers say email_verified. Microsoft Entra ID does not; its
    # optional claim xms_edov says the address's domain is verified by its owner.
    value = claims["email_verified"] if "email_verified" in claims else claims.get("xms_edov")
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def identity_from(config: OidcSection, claims: Mapping[str, Any]) -> Identity:
    return Identity(
        subject=str(claims.get("sub") or ""),
        email=str(claims.get("email") or "").strip(),
        email_verified=_verified(claims),
        name=" ".join(str(claims.get("name") or "").split())[:200],
        groups=claim_values(claims, config.roles_claim),
    )


__all__ = [
    "Flow",
    "Identity",
    "Provider",
    "SsoRefused",
    "begin",
    "check_answer",
    "claim_values",
    "discover",
    "finish",
    "forget_provider",
    "identity_from",
    "verify_id_token",
]
