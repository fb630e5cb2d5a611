"""Passkeys and security keys (WebAuthn): who they are made for, registering, naming
and removing them. Signing in with one is mailer/accounts/second_factors/passkey_sign_in.py.

The browser is handed options carrying a fresh challenge; the caller keeps the
challenge (the views keep it in the signed cookie, for one use) and gives it back with
the browser's answer. Callers own the transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_registration_options,
    options_to_json,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from mailer import audit
from mailer.accounts.models import Passkey, User
from mailer.accounts.second_factors import factors, recovery_codes
from mailer.accounts.service import AccountError
from mailer.audit import actions
from mailer.cleaning import strip_controls

T = TypeVar("T")

RP_NAME = "Stakeholder Mailer"
MAX_NAME = 100
# Long enough to find the key and touch it; the browser gives up at TIMEOUT.
CHALLENGE_FOR = timedelta(minutes=5)
TIMEOUT_MS = 120_000

REGISTER = "register"
SECOND_FACTOR = "second-factor"
SIGN_IN = "sign-in"

UNREADABLE = "Your browser's answer could not be read. Try again."
NOT_ACCEPTED = "That passkey was not accepted. Try again, or use another way to sign in."


class PasskeyError(AccountError):
    """A refusal: ``args[0]`` is the sentence a person reads, ``args[1]`` (if given)
    the reason kept in the audit log, which may say more than a stranger should read."""


@dataclass(frozen=True)
class RelyingParty:
    """Who passkeys are made for: the site's host name (``rp_id``) and the origins
    allowed to ask for them. Browsers refuse an IP address as an RP ID, so a loopback
    base_url (the demo, the tests on a random port) means "localhost" on any port."""

    rp_id: str
    origin: str
    loopback: bool

    def accepts(self, origin: str) -> bool:
        if not self.loopback:
            return origin == self.origin
        parts = urlsplit(origin)
        try:
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "http"
            and parts.hostname == "localhost"
            and origin == f"http://localhost{'' if port is None else f':{port}'}"
        )


def relying_party(base_url: str, *, loopback: bool) -> RelyingParty:
    parts = urlsplit(base_url)
    if loopback:
        return RelyingParty(rp_id="localhost", origin="http://localhost", loopback=True)
    host = parts.hostname or ""
    # As a browser writes an origin: no user, the default port left out.
    port = parts.port
    default = {"https": 443, "http": 80}.get(parts.scheme)
    shown = f"{host}:{port}" if port is not None and port != default else host
    return RelyingParty(rp_id=host, origin=f"{parts.scheme}://{shown}", loopback=False)


@dataclass(frozen=True)
class Challenge:
    """A challenge handed to one browser for one purpose, and when."""

    value: bytes
    purpose: str
    issued_at: datetime
    user_id: int | None = None

    def expired(self, now: datetime) -> bool:
        return not timedelta(0) <= now - self.issued_at <= CHALLENGE_FOR


@dataclass(frozen=True)
class Options:
    """What the browser is given (JSON, binary values in base64url) and the challenge
    the caller keeps."""

    json: str
    challenge: Challenge


# --- registering -----------------------------------------------------------------------


def registration_options(
    session: Session, user: User, *, rp: RelyingParty, now: datetime
) -> Options:
    """Options to create a passkey for ``user``, who gets a random handle the first time
    (the passkey carries it, never the email, so it says nothing about whose it is)."""
    if not user.webauthn_handle:
        user.webauthn_handle = bytes_to_base64url(secrets.token_bytes(32))
        session.flush()
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=RP_NAME,
        user_id=base64url_to_bytes(user.webauthn_handle),
        user_name=user.email,
        user_display_name=user.name or user.email,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=descriptors(owned_passkeys(session, user)),
    )
    return Options(options_to_json(options), Challenge(options.challenge, REGISTER, now, user.id))


def register(
    session: Session,
    user: User,
    *,
    rp: RelyingParty,
    challenge: Challenge | None,
    answer: object,
    name: str,
    ip: str,
    now: datetime,
) -> Passkey:
    """Check the browser's answer to ``registration_options`` and keep the passkey."""
    name = clean_name(name) if strip_controls(name).strip() else default_name(session, user)
    challenge = check_challenge(challenge, purpose=REGISTER, user_id=user.id, now=now)
    credential = _registration(answer)
    origin = checked_origin(credential.response.client_data_json, rp)
    try:
        checked = verify_registration_response(
            credential=credential,
            expected_challenge=challenge.value,
            expected_rp_id=rp.rp_id,
            expected_origin=origin,
            require_user_verification=False,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyError("Your browser's new passkey could not be checked. Try again.") from exc
    credential_id = bytes_to_base64url(checked.credential_id)
    if session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError("That passkey is already registered.")
    passkey = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=checked.credential_public_key,
        sign_count=checked.sign_count,
        name=name,
        transports=",".join(t.value for t in credential.response.transports or [])[:200],
        aaguid=checked.aaguid[:36],
        backed_up=checked.credential_backed_up,
        created_at=now,
    )
    session.add(passkey)
    session.flush()
    audit.record(
        session,
        actions.SECOND_FACTOR_ADDED,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"Passkey added: {name}",
        detail={"factor": "passkey", "passkey": passkey.id, "name": name},
        ip=ip,
    )
    return passkey


def clean_name(name: str) -> str:
    """The name as kept: controls and direction overrides taken out (a NUL cannot be
    stored, an override makes a name read as another), spaces collapsed. Half a
    surrogate pair is no character at all: refused with words, never stored."""
    if any("\ud800" <= ch <= "\udfff" for ch in name):
        raise PasskeyError(
            "That name has a character that cannot be stored. Type the name again, "
            "using letters, digits and spaces."
        )
    name = " ".join(strip_controls(name).split())
    if not name:
        raise PasskeyError("Give the passkey a name, such as the device it is on.")
    if len(name) > MAX_NAME:
        raise PasskeyError(f"A passkey's name can be at most {MAX_NAME} characters.")
    return name


def default_name(session: Session, user: User) -> str:
    """ "Passkey 1", "Passkey 2"...: the first such name the user does not use yet."""
    taken = {p.name for p in owned_passkeys(session, user)}
    number = len(taken) + 1
    for candidate in range(1, number + 1):
        if f"Passkey {candidate}" not in taken:
            return f"Passkey {candidate}"
    return f"Passkey {number}"


# --- naming and removing ---------------------------------------------------------------


def owned(session: Session, user: User, passkey_id: int) -> Passkey:
    """One of the user's own passkeys (someone else's is "not found", like a missing one)."""
    passkey = session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise PasskeyError("That passkey is not one of yours, or was already removed.")
    return passkey


def rename(session: Session, user: User, passkey_id: int, *, name: str) -> Passkey:
    passkey = owned(session, user, passkey_id)
    passkey.name = clean_name(name)
    return passkey


def remove(
    session: Session,
    user: User,
    passkey_id: int,
    *,
    strong_session: bool,
    factor_required: bool,
    ip: str,
    now: datetime,
) -> Passkey:
    """Remove one of the user's passkeys. Someone who signed in with only a password
    (perhaps not the owner) may not take a factor away, and the last one goes only when
    the office does not ask this user for one."""
    passkey = owned(session, user, passkey_id)
    if not strong_session:
        raise PasskeyError(
            "To remove a passkey, sign in again with a second factor (a passkey or an "
            "authenticator app) first: a password alone cannot take one away."
        )
    summary = factors.summary(session, user)
    if factor_required and not summary.totp and len(summary.passkeys) <= 1:
        raise PasskeyError(
            f"You cannot remove {passkey.name}: it is your only second factor and your "
            "office asks you to use one. Add another passkey or an authenticator app first."
        )
    session.delete(passkey)
    if not summary.totp and len(summary.passkeys) <= 1:
        # Recovery codes stand in for a factor, never on their own.
        recovery_codes.forget(session, user)
    audit.record(
        session,
        actions.SECOND_FACTOR_REMOVED,
        actor=user,
        target_type="user",
        target_id=user.id,
        summary=f"Passkey removed: {passkey.name}",
        detail={"factor": "passkey", "passkey": passkey_id, "name": passkey.name},
        ip=ip,
    )
    session.flush()
    return passkey


# --- helpers ---------------------------------------------------------------------------


def owned_passkeys(session: Session, user: User) -> list[Passkey]:
    return list(
        session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id))
    )


def descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value: t for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(p.credential_id),
            transports=[known[t] for t in p.transports.split(",") if t in known] or None,
        )
        for p in passkeys
    ]


def check_challenge(
    challenge: Challenge | None, *, purpose: str, user_id: int | None, now: datetime
) -> Challenge:
    """The challenge, if it was handed out for this and is still good."""
    if challenge is None or challenge.purpose != purpose or challenge.user_id != user_id:
        raise PasskeyError(
            "This page's passkey request is no longer current. Try again.", "no challenge"
        )
    if challenge.expired(now):
        raise PasskeyError("That took too long. Try again.", "challenge expired")
    return challenge


def read_answer(answer: object, parse: Callable[[dict[str, Any]], T]) -> T:
    """The browser's JSON answer read by the library's ``parse``; anything it cannot read
    (not an object, wrong types, bad base64) is refused in words, never a 500."""
    try:
        if isinstance(answer, dict):
            return parse(answer)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise PasskeyError(UNREADABLE, "unreadable answer") from exc
    raise PasskeyError(UNREADABLE, "unreadable answer")


def _registration(answer: object) -> RegistrationCredential:
    return read_answer(answer, parse_registration_credential_json)


def checked_origin(client_data_json: bytes, rp: RelyingParty) -> str:
    """The origin the browser says asked for this answer, if it is this site."""
    try:
        origin = parse_client_data_json(client_data_json).origin
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyError(UNREADABLE, "unreadable client data") from exc
    if not rp.accepts(origin):
        raise PasskeyError(NOT_ACCEPTED, f"wrong origin {origin[:100]}")
    return origin
