"""Signing in with a passkey: as the second step after the password, or on its own.

Every check the specification asks for is made by the ``webauthn`` library; this module
adds who the passkey belongs to, the sign counter, and a passkey used since the
challenge was issued (the same answer sent twice, even with an old copy of the cookie
that still held the challenge). A refusal is returned, not raised, so the caller
commits its record (the audit entry, the failed attempt that throttling counts).
Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    options_to_json,
    verify_authentication_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AuthenticationCredential, UserVerificationRequirement

from mailer import audit
from mailer.accounts import throttling
from mailer.accounts.models import LoginAttempt, Passkey, User
from mailer.accounts.second_factors import passkeys
from mailer.accounts.second_factors.passkeys import (
    NOT_ACCEPTED,
    SECOND_FACTOR,
    SIGN_IN,
    TIMEOUT_MS,
    Challenge,
    Options,
    PasskeyError,
    RelyingParty,
    check_challenge,
    checked_origin,
    descriptors,
    owned_passkeys,
)
from mailer.audit import actions
from mailer.database import rows_changed


@dataclass(frozen=True)
class Outcome:
    """A sign-in with a passkey: the user, or the sentence saying why not (``retry_at``
    when throttled). Returned rather than raised, so the caller commits the record of a
    refused attempt too."""

    user: User | None
    refusal: str = ""
    retry_at: datetime | None = None


# --- signing in ------------------------------------------------------------------------


def second_factor_options(
    session: Session, user: User, *, rp: RelyingParty, now: datetime
) -> Options:
    """Options to confirm a sign-in with one of ``user``'s passkeys."""
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=descriptors(owned_passkeys(session, user)),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return Options(
        options_to_json(options), Challenge(options.challenge, SECOND_FACTOR, now, user.id)
    )


def sign_in_options(*, rp: RelyingParty, now: datetime) -> Options:
    """Options for a passkey alone: any passkey the device holds for this site (the
    browser offers them), unlocked by fingerprint, face or PIN."""
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Options(options_to_json(options), Challenge(options.challenge, SIGN_IN, now))


def check_second_factor(
    session: Session,
    user: User,
    *,
    rp: RelyingParty,
    challenge: Challenge | None,
    answer: object,
    ip: str,
    now: datetime,
) -> Outcome:
    """Whether ``answer`` shows one of ``user``'s passkeys; a refusal is on the record
    (a wrong answer counts towards the account's limit on second factors, and while
    that refuses, no passkey is looked at)."""
    refused = throttling.second_factor_refusal(session, user, ip=ip, now=now, method="passkey")
    if refused is not None:
        return Outcome(None, refused.words, refused.retry_at)
    try:
        challenge = check_challenge(challenge, purpose=SECOND_FACTOR, user_id=user.id, now=now)
        credential = _assertion(answer)
        passkey = _find(session, credential)
        if passkey is None or passkey.user_id != user.id:
            raise PasskeyError(NOT_ACCEPTED, "not this user's passkey")
        _verify(
            session, passkey, credential, rp=rp, challenge=challenge, verify_user=False, now=now
        )
    except PasskeyError as exc:
        session.add(_failed(user, ip=ip, now=now))
        audit.record(
            session,
            actions.SECOND_FACTOR_FAILED,
            actor=user,
            target_type="user",
            target_id=user.id,
            summary="Wrong second factor (passkey)",
            detail={"factor": "passkey", "reason": _reason(exc)},
            ip=ip,
        )
        return Outcome(None, str(exc.args[0]))
    return Outcome(user)


def check_sign_in(
    session: Session,
    *,
    rp: RelyingParty,
    challenge: Challenge | None,
    answer: object,
    passwords_allowed: Callable[[str], bool],
    ip: str,
    now: datetime,
) -> Outcome:
    """A sign-in with a passkey alone. Counted with the failed passwords (the same
    limits per address), and refused, audited, for a disabled account or one that must
    use the office's single sign-on (``passwords_allowed(email_key)`` is false)."""
    throttling.one_at_a_time(session, ip=ip)
    user: User | None = None
    # Only an answer the passkey itself signed counts against its account: anyone may
    # send a credential id they once saw, and must not use up its owner's tries.
    verified = False
    try:
        credential = _assertion(answer)
        passkey = _find(session, credential)
        user = session.get(User, passkey.user_id) if passkey is not None else None
        retry_at = throttling.refused_until(
            session, key=user.email_key if user else "", ip=ip, now=now
        )
        if retry_at is not None:
            return _throttled(session, user, ip=ip, retry_at=retry_at, now=now)
        refused = (
            throttling.second_factor_refusal(session, user, ip=ip, now=now, method="passkey")
            if user is not None
            else None
        )
        if refused is not None:
            return Outcome(None, refused.words, refused.retry_at)
        challenge = check_challenge(challenge, purpose=SIGN_IN, user_id=None, now=now)
        if passkey is None or user is None:
            raise PasskeyError(NOT_ACCEPTED, "unknown passkey")
        handle = credential.response.user_handle
        if not handle or bytes_to_base64url(handle) != user.webauthn_handle:
            raise PasskeyError(NOT_ACCEPTED, "user handle does not match")
        _verify(session, passkey, credential, rp=rp, challenge=challenge, verify_user=True, now=now)
        verified = True
        if not user.active:
            raise PasskeyError(NOT_ACCEPTED, "account disabled")
        if not passwords_allowed(user.email_key):
            raise PasskeyError(
                "Your office signs you in through its single sign-on: use that button.",
                "single sign-on only",
            )
    except PasskeyError as exc:
        _failed_sign_in(session, user, counted=verified, reason=_reason(exc), ip=ip, now=now)
        return Outcome(None, str(exc.args[0]))
    session.add(
        LoginAttempt(at=now, email_key=user.email_key, ip=ip, succeeded=True, user_id=user.id)
    )
    return Outcome(user)


# --- helpers ---------------------------------------------------------------------------


def _assertion(answer: object) -> AuthenticationCredential:
    return passkeys.read_answer(answer, parse_authentication_credential_json)


def _find(session: Session, credential: AuthenticationCredential) -> Passkey | None:
    # The raw id is what the authenticator signed for; the "id" text must match it.
    raw = bytes_to_base64url(credential.raw_id)
    if raw != credential.id:
        return None
    return session.scalar(select(Passkey).where(Passkey.credential_id == raw))


def _verify(
    session: Session,
    passkey: Passkey,
    credential: AuthenticationCredential,
    *,
    rp: RelyingParty,
    challenge: Challenge,
    verify_user: bool,
    now: datetime,
) -> None:
    # An answer to a challenge issued before this passkey's last use is a replay: the
    # cookie that held the challenge may have been copied before it was spent.
    if passkey.last_used_at is not None and passkey.last_used_at >= challenge.issued_at:
        raise PasskeyError(
            "This page's passkey request is no longer current. Try again.", "replayed"
        )
    origin = checked_origin(credential.response.client_data_json, rp)
    try:
        checked = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge.value,
            expected_rp_id=rp.rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            # Checked below, with words of its own.
            credential_current_sign_count=0,
            require_user_verification=verify_user,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise PasskeyError(NOT_ACCEPTED, f"not verified: {str(exc)[:200]}") from exc
    new = checked.new_sign_count
    if (new or passkey.sign_count) and new <= passkey.sign_count:
        # A counter that did not go up: another copy of the key has been used.
        raise PasskeyError(
            "That passkey was refused: it may have been copied. Sign in another way and "
            "remove it from your account.",
            "sign count did not go up (cloned key?)",
        )
    # Claimed with one compare-and-set: two answers checked at the same moment both
    # read the passkey unused, and only one of them may sign in.
    claimed = rows_changed(
        session,
        update(Passkey)
        .where(
            Passkey.id == passkey.id,
            or_(Passkey.last_used_at.is_(None), Passkey.last_used_at < challenge.issued_at),
        )
        .values(last_used_at=now, sign_count=new, backed_up=checked.credential_backed_up)
        .execution_options(synchronize_session=False),
    )
    session.expire(passkey, ["last_used_at", "sign_count", "backed_up"])
    if claimed != 1:
        raise PasskeyError(
            "This page's passkey request is no longer current. Try again.", "replayed"
        )


def _reason(exc: PasskeyError) -> str:
    return str(exc.args[1] if len(exc.args) > 1 else exc.args[0])


def _failed(user: User | None, *, ip: str, now: datetime) -> LoginAttempt:
    """A refused passkey: counted per address and, for a known account, towards its
    limit on wrong second factors whatever the address (the passkey is the factor)."""
    return LoginAttempt(
        at=now,
        email_key=user.email_key if user else "",
        ip=ip,
        succeeded=False,
        user_id=user.id if user else None,
        step=throttling.SECOND_FACTOR if user else throttling.PASSWORD,
    )


def _failed_sign_in(
    session: Session, user: User | None, *, counted: bool, reason: str, ip: str, now: datetime
) -> None:
    """A refused passkey sign-in, on the record. It counts as a failed password would
    (per address, and per account from that address) always, and towards the account's
    limit on second factors from anywhere only when ``counted`` (the passkey signed it)."""
    if counted or user is None:
        session.add(_failed(user, ip=ip, now=now))
    else:
        session.add(
            LoginAttempt(at=now, email_key=user.email_key, ip=ip, succeeded=False, user_id=None)
        )
    audit.record(
        session,
        actions.LOGIN_FAILED,
        actor_label=user.email_key if user else "(unknown passkey)",
        target_type="user" if user else None,
        target_id=user.id if user else None,
        summary=f"Failed sign-in with a passkey ({reason})",
        detail={"reason": reason, "method": "passkey"},
        ip=ip,
    )


def _throttled(
    session: Session, user: User | None, *, ip: str, retry_at: datetime, now: datetime
) -> Outcome:
    audit.record(
        session,
        actions.LOGIN_THROTTLED,
        actor_label=user.email_key if user else "(unknown passkey)",
        summary="Passkey sign-in refused: too many failed attempts",
        detail={"method": "passkey"},
        ip=ip,
    )
    minutes = max(1, round((retry_at - now).total_seconds() / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return Outcome(
        None, f"Too many failed sign-in attempts from here. Wait {wait} and try again.", retry_at
    )
