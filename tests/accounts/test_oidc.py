"""Single sign-on: the role mapping and the ID token checks on their own, then whole
sign-ins through a real OpenID Connect provider (tools/oidc-provider) with the test
client walking the provider's pages."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from werkzeug.test import TestResponse

from mailer.accounts import methods, roles
from mailer.accounts import service as accounts
from mailer.accounts.models import User, UserSession
from mailer.accounts.sso import oidc, oidc_protocol
from mailer.app import create_app
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.config import OidcSection
from mailer.database import Database
from tests.accounts.oidc_provider import (
    ADMINS,
    APPROVERS,
    CLIENT_ID,
    EDITORS,
    RunningProvider,
    query_of,
    running_provider,
    sign_in_at_provider,
)
from tests.conftest import PASSWORD, add_user, csrf_from, login, make_config

REDIRECT_URI = "http://127.0.0.1:5000/login/sso/callback"  # the default base_url's
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def section(**extra: Any) -> OidcSection:
    values: dict[str, Any] = {
        "issuer": "https://login.example.org/tenant/v2.0",
        "client_id": CLIENT_ID,
        "name": "Example ID",
        "admin_groups": (ADMINS,),
        "approver_groups": (APPROVERS,),
        "editor_groups": (EDITORS,),
        **extra,
    }
    return OidcSection(**values)


# --- the role mapping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        ((EDITORS,), roles.EDITOR),
        ((APPROVERS,), roles.APPROVER),
        ((ADMINS,), roles.ADMIN),
        ((EDITORS, ADMINS, APPROVERS), roles.ADMIN),
        ((EDITORS, APPROVERS), roles.APPROVER),
        (("other-team", EDITORS), roles.EDITOR),
        (("other-team",), None),
        ((), None),
        # Exact values: a group whose name differs in case is another group.
        ((ADMINS.upper(),), None),
    ],
)
def test_the_highest_role_found_wins_and_none_gives_nothing(
    groups: tuple[str, ...], role: str | None
) -> None:
    assert oidc.role_for(section(), groups) == role


def test_one_group_may_give_a_role_and_an_empty_list_gives_none() -> None:
    config = section(admin_groups=(), approver_groups=("staff",), editor_groups=("staff",))
    assert oidc.role_for(config, ["staff"]) == roles.APPROVER
    assert oidc.role_for(section(admin_groups=()), [ADMINS]) is None


def test_the_roles_claim_may_be_a_list_a_single_value_or_nested() -> None:
    values = oidc_protocol.claim_values
    assert values({"groups": ["a", "b"]}, "groups") == ("a", "b")
    # Google's hosted domain, or an address: one string.
    assert values({"hd": "example.org"}, "hd") == ("example.org",)
    assert values({"realm_access": {"roles": ["x"]}}, "realm_access.roles") == ("x",)
    assert values({}, "groups") == ()
    assert values({"groups": {"a": 1}}, "groups") == ()


@pytest.mark.parametrize(
    ("claims", "verified"),
    [
        ({"email_verified": True}, True),
        ({"email_verified": "true"}, True),
        ({"email_verified": False}, False),
        ({}, False),
        # Entra ID: no email_verified; its optional claim xms_edov instead.
        ({"xms_edov": True}, True),
        ({"xms_edov": False}, False),
        ({"email_verified": False, "xms_edov": True}, False),
    ],
)
def test_what_counts_as_a_verified_address(claims: dict[str, Any], verified: bool) -> None:
    identity = oidc_protocol.identity_from(section(), {"sub": "s", "email": "a@b.org", **claims})
    assert identity.email_verified is verified


def test_an_answer_for_another_browser_or_an_error_is_refused_in_words() -> None:
    config = section()
    with pytest.raises(oidc.SsoRefused, match="not started in this browser") as refused:
        oidc.check_answer(config, expected_state="mine", args={"state": "theirs", "code": "c"})
    assert refused.value.reason == "state did not match"
    with pytest.raises(oidc.SsoRefused, match="not started in this browser"):
        oidc.check_answer(config, expected_state="", args={"state": "", "code": "c"})
    with pytest.raises(oidc.SsoRefused, match="was cancelled"):
        oidc.check_answer(config, expected_state="s", args={"state": "s", "error": "access_denied"})
    assert oidc.check_answer(config, expected_state="s", args={"state": "s", "code": "c"}) == "c"


# --- the ID token ---------------------------------------------------------------------------

ISSUER = "https://login.example.org/tenant/v2.0"
PROVIDER = oidc_protocol.Provider(
    issuer=ISSUER,
    authorization_endpoint=f"{ISSUER}/authorize",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/keys",
)


@pytest.fixture
def signing_key() -> Iterator[RSAKey]:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    oidc_protocol._keys[PROVIDER.jwks_uri] = (time.monotonic(), KeySet([key]))
    yield key
    oidc.forget_provider()


def _token(key: RSAKey, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "s1",
        "exp": int((NOW + timedelta(minutes=5)).timestamp()),
        "iat": int(NOW.timestamp()),
        "nonce": "the-nonce",
        "email": "a@example.org",
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def test_a_well_made_id_token_is_accepted(signing_key: RSAKey) -> None:
    claims = oidc_protocol.verify_id_token(
        section(), PROVIDER, _token(signing_key), nonce="the-nonce", now=NOW
    )
    assert claims["sub"] == "s1"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://login.example.org/other/v2.0"},
        {"aud": "someone-else"},
        {"aud": [CLIENT_ID, "someone-else"]},  # several audiences and no azp naming us
        {"exp": int((NOW - timedelta(minutes=10)).timestamp())},
        {"nonce": "another-nonce"},
        {"nonce": None},
        {"sub": None},
    ],
)
def test_an_id_token_with_a_wrong_claim_is_refused(
    signing_key: RSAKey, changes: dict[str, Any]
) -> None:
    with pytest.raises(oidc.SsoRefused, match="could not be trusted"):
        oidc_protocol.verify_id_token(
            section(), PROVIDER, _token(signing_key, **changes), nonce="the-nonce", now=NOW
        )


def test_an_id_token_signed_by_another_key_is_refused(signing_key: RSAKey) -> None:
    forger = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(oidc.SsoRefused, match="could not be trusted") as refused:
        oidc_protocol.verify_id_token(
            section(), PROVIDER, _token(forger), nonce="the-nonce", now=NOW
        )
    assert "signature" in refused.value.reason


def test_an_unsigned_id_token_is_refused(signing_key: RSAKey) -> None:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "s1", "nonce": "the-nonce", "exp": 2**40}
    unsigned = f"{part({'alg': 'none', 'kid': 'k1'})}.{part(claims)}."
    with pytest.raises(oidc.SsoRefused, match="could not be trusted"):
        oidc_protocol.verify_id_token(section(), PROVIDER, unsigned, nonce="the-nonce", now=NOW)


# --- whole sign-ins through the real provider -----------------------------------------------


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    with running_provider(REDIRECT_URI) as running:
        yield running


@pytest.fixture
def make_app(
    tmp_path: Path, db: Database, provider: RunningProvider
) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def make(*, auth: dict[str, Any] | None = None, **oidc_extra: Any) -> Flask:
        oidc.forget_provider()
        config = make_config(
            tmp_path, db.url, oidc=provider.oidc_section(**oidc_extra), auth=auth or {}
        )
        application = create_app(config)
        application.config["TESTING"] = True
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["mailer.db"].dispose()


@pytest.fixture
def sso_client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(auth={"require_second_factor": "everyone"}).test_client()


def sso(
    client: FlaskClient,
    sub: str,
    *,
    next_path: str | None = None,
    tamper: Callable[[dict[str, Any]], None] | None = None,
) -> TestResponse:
    leave = client.get("/login/sso/", query_string={"next": next_path} if next_path else None)
    assert leave.status_code == 302, leave.get_data(as_text=True)
    back = sign_in_at_provider(leave.headers["Location"], sub=sub, redirect_uri=REDIRECT_URI)
    if tamper is not None:
        with client.session_transaction() as cookie:
            tamper(cookie)
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")


def _refusals(db: Database) -> list[AuditEntry]:
    with db.transaction() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == actions.SSO_REFUSED)))


def _user(db: Database, email: str) -> User | None:
    with db.transaction() as s:
        return accounts.find_by_email(s, email)


def test_first_sign_in_makes_the_user_with_the_mapped_role(
    sso_client: FlaskClient, db: Database
) -> None:
    response = sso(sso_client, "alice", next_path="/admin/users/")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/admin/users/"
    # Single sign-on is strong: not held at enrolment though everyone must use a factor.
    page = sso_client.get("/admin/users/")
    assert page.status_code == 200
    assert "alice@example.org" in page.get_data(as_text=True).casefold()
    user = _user(db, "alice@example.org")
    assert user is not None
    assert (user.role, user.oidc_subject, user.name) == (roles.ADMIN, "alice", "Alice Admin")
    with db.transaction() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        made = [e for e in entries if e.action == actions.USER_CREATED]
        signed_in = [e for e in entries if e.action == actions.LOGIN]
        session_row = s.scalars(select(UserSession)).one()
    assert made[0].actor_label == "single sign-on"
    assert signed_in[0].summary == "Signed in (single sign-on)"
    assert session_row.method == methods.SSO
    # No usable password: the address and any password are refused.
    with db.transaction() as s:
        assert accounts.authenticate(s, email="alice@example.org", password="", ip="").user is None


def test_later_sign_ins_take_the_role_from_the_provider(
    sso_client: FlaskClient, db: Database
) -> None:
    add_user(db, email="ann@example.org", role=roles.ADMIN)
    add_user(db, email="other-admin@example.org", role=roles.ADMIN)
    assert sso(sso_client, "ann").status_code == 302
    user = _user(db, "ann@example.org")
    assert user is not None and (user.role, user.oidc_subject) == (roles.APPROVER, "ann")
    with db.transaction() as s:
        changed = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.USER_ROLE_CHANGED)
        ).one()
    assert changed.actor_label == "single sign-on"
    assert changed.detail == {"from": roles.ADMIN, "to": roles.APPROVER}


def _assert_refused(response: TestResponse, words: str) -> str:
    assert response.status_code == 403, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "Sign-in failed" in text and words in text
    return text


def test_someone_in_no_mapped_group_is_refused_and_not_made(
    sso_client: FlaskClient, db: Database
) -> None:
    _assert_refused(
        sso(sso_client, "nobody"),
        "Your account at Test Provider is not in a group that may use Stakeholder Mailer",
    )
    assert _user(db, "nobody@example.org") is None
    [refusal] = _refusals(db)
    assert refusal.detail["reason"] == "no group giving a role"
    assert sso_client.get("/admin/").status_code == 302


def test_an_address_outside_the_allowed_domains_is_refused(
    sso_client: FlaskClient, db: Database
) -> None:
    _assert_refused(sso(sso_client, "outsider"), "not at an address this office lets sign in")
    assert _user(db, "outsider@elsewhere.example") is None
    assert _refusals(db)[0].detail["reason"] == "email domain not allowed"


def test_an_unverified_address_is_refused(sso_client: FlaskClient, db: Database) -> None:
    _assert_refused(sso(sso_client, "unverified"), "has not confirmed that")
    assert _user(db, "unverified@example.org") is None


def test_a_disabled_user_is_refused(sso_client: FlaskClient, db: Database) -> None:
    admin = add_user(db, email="admin@example.org")
    dora = add_user(db, email="dora@example.org", role=roles.EDITOR)
    with db.transaction() as s:
        accounts.set_active(s, s.get(User, dora.id), active=False, by=s.get(User, admin.id))
    _assert_refused(sso(sso_client, "dora"), "has been disabled")
    assert _refusals(db)[0].detail["reason"] == "account disabled"


def test_the_same_address_from_another_subject_is_refused(
    sso_client: FlaskClient, db: Database
) -> None:
    assert sso(sso_client, "alice").status_code == 302
    sso_client.post("/logout", data={"csrf_token": csrf_from(sso_client.get("/admin/").text)})
    _assert_refused(sso(sso_client, "alice-again"), "linked to a different Test Provider account")
    assert _refusals(db)[0].detail["reason"] == "subject does not match the account"
    user = _user(db, "alice@example.org")
    assert user is not None and user.oidc_subject == "alice"


def test_an_answer_with_another_state_is_refused(sso_client: FlaskClient, db: Database) -> None:
    leave = sso_client.get("/login/sso/")
    back = sign_in_at_provider(leave.headers["Location"], sub="alice", redirect_uri=REDIRECT_URI)
    query = query_of(back)
    # Someone else's answer (their state), brought to this browser.
    response = sso_client.get("/login/sso/callback", query_string={**query, "state": "x" * 43})
    _assert_refused(response, "not started in this browser")
    assert _user(db, "alice@example.org") is None
    # The true answer, once the sign-in it belonged to has been spent, is refused too.
    _assert_refused(
        sso_client.get("/login/sso/callback", query_string=query), "not started in this browser"
    )
    assert [r.detail["reason"] for r in _refusals(db)] == ["state did not match"] * 2


def test_an_answer_whose_nonce_differs_is_refused(sso_client: FlaskClient, db: Database) -> None:
    def other_nonce(cookie: dict[str, Any]) -> None:
        cookie["sso_flow"] = {**cookie["sso_flow"], "nonce": "not-the-nonce-sent"}

    _assert_refused(sso(sso_client, "alice", tamper=other_nonce), "could not be trusted")
    assert _refusals(db)[0].detail["reason"] == "ID token refused: nonce did not match"
    assert _user(db, "alice@example.org") is None


def test_the_code_is_useless_without_this_browsers_verifier(
    sso_client: FlaskClient, db: Database
) -> None:
    def other_verifier(cookie: dict[str, Any]) -> None:
        cookie["sso_flow"] = {**cookie["sso_flow"], "verifier": "v" * 64}

    _assert_refused(sso(sso_client, "alice", tamper=other_verifier), "would not complete")
    assert _user(db, "alice@example.org") is None


def test_cancelling_at_the_provider_is_shown_in_words(
    sso_client: FlaskClient, db: Database
) -> None:
    import requests

    leave = sso_client.get("/login/sso/")
    browser = requests.Session()
    page = browser.get(leave.headers["Location"], timeout=10)
    back = page.url + "/abort"
    while not back.startswith(REDIRECT_URI):
        back = urljoin(
            back, browser.get(back, allow_redirects=False, timeout=10).headers["Location"]
        )
    parts = urlsplit(back)
    _assert_refused(sso_client.get(f"{parts.path}?{parts.query}"), "was cancelled")
    assert _refusals(db)[0].detail["reason"] == "provider said access_denied"


def test_an_off_site_next_is_dropped(sso_client: FlaskClient) -> None:
    response = sso(sso_client, "erin", next_path="https://evil.example/admin/")
    assert response.headers["Location"] == "/admin/"


def test_the_sign_in_page_offers_the_provider(sso_client: FlaskClient) -> None:
    text = sso_client.get("/login?next=/admin/users/").get_data(as_text=True)
    assert "Sign in with Test Provider" in text
    assert 'href="/login/sso/?next=/admin/users/"' in text


def test_without_oidc_there_is_no_button_and_no_route(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "/login/sso/" not in page and "Or use your work account" not in page
    assert client.get("/login/sso/").status_code == 404
    assert client.get("/login/sso/callback?state=x&code=y").status_code == 404


def test_an_unreachable_provider_is_said_in_words(
    tmp_path: Path, db: Database, provider: RunningProvider
) -> None:
    oidc.forget_provider()
    section_values = provider.oidc_section(issuer="http://127.0.0.1:9")
    application = create_app(make_config(tmp_path, db.url, oidc=section_values))
    try:
        response = application.test_client().get("/login/sso/")
        assert response.status_code == 503
        assert "could not be reached just now" in response.get_data(as_text=True)
    finally:
        application.extensions["mailer.db"].dispose()


# --- [oidc] only ------------------------------------------------------------------------------


def test_only_refuses_passwords_but_for_break_glass(
    make_app: Callable[..., Flask], db: Database
) -> None:
    add_user(db, email="editor@example.org", role=roles.EDITOR)
    add_user(db, email="keeper@example.org", role=roles.ADMIN)
    client = make_app(only=True, break_glass="Keeper@example.org").test_client()
    page = client.get("/login").get_data(as_text=True)
    # The provider's button comes before the password form.
    assert page.index("Sign in with Test Provider") < page.index('name="password"')
    refused = login(client, "editor@example.org", PASSWORD)
    assert refused.status_code == 403
    assert "Passwords are turned off here" in refused.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    with db.transaction() as s:
        failed = s.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.LOGIN_FAILED)
        ).one()
    assert failed.detail == {"reason": "passwords off"}
    # The break-glass admin still signs in with a password.
    assert login(client, "KEEPER@example.org", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_with_passwords_off_the_break_glass_address_is_not_told_apart(
    make_app: Callable[..., Flask], db: Database
) -> None:
    """A wrong password for the break-glass admin gets the answer everyone else gets,
    so trying addresses does not find the one account a password still opens."""
    add_user(db, email="keeper@example.org", role=roles.ADMIN)
    client = make_app(only=True, break_glass="keeper@example.org").test_client()
    other = login(client, "someone@example.org", "a wrong password")
    keeper = login(client, "keeper@example.org", "a wrong password")
    assert other.status_code == keeper.status_code == 403

    def error(response: object) -> str:
        page = response.get_data(as_text=True)  # type: ignore[attr-defined]
        return page[page.index('class="error-summary"') :].split("</div>")[0]

    assert error(other) == error(keeper)
    assert "Passwords are turned off here" in error(keeper)


def test_single_sign_on_still_works_when_passwords_are_off(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(only=True, break_glass="keeper@example.org").test_client()
    assert sso(client, "erin").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_linked_account_is_not_taken_by_its_subject_under_another_address(
    db: Database,
) -> None:
    user = add_user(db, email="old@example.org", role=roles.EDITOR)
    with db.transaction() as s:
        s.get(User, user.id).oidc_subject = "s1"  # type: ignore[union-attr]
    moved = oidc.Identity(
        subject="s1", email="new@example.org", email_verified=True, name="", groups=(EDITORS,)
    )
    with (
        pytest.raises(oidc.SsoRefused, match="linked to a different") as refused,
        db.transaction() as s,
    ):
        oidc.sign_in(s, section(), moved, ip="", now=NOW)
    assert refused.value.reason == "subject does not match the account"
    assert _user(db, "new@example.org") is None


def _role_entries(db: Database) -> list[AuditEntry]:
    with db.transaction() as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_([actions.USER_ROLE_CHANGED, actions.SSO_ROLE_KEPT]))
                .order_by(AuditEntry.id)
            )
        )


def test_two_admins_demoted_at_the_same_moment_leave_one(db: Database) -> None:
    """Two admins whose groups now say editor sign in at once: the second demotion
    counts after the first is committed, and is refused."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its sign-ins cannot interleave")
    for letter in "ab":
        add_user(db, email=f"{letter}@example.org", role=roles.ADMIN)
    errors: list[BaseException] = []

    def sign_in_as(letter: str, pause: float) -> None:
        identity = oidc.Identity(
            subject=f"s{letter}",
            email=f"{letter}@example.org",
            email_verified=True,
            name="",
            groups=(EDITORS,),
        )
        try:
            with db.transaction() as s:
                oidc.sign_in(s, section(), identity, ip="", now=NOW)
                s.flush()
                time.sleep(pause)  # the first holds its transaction open a while
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=sign_in_as, args=("a", 0.5))
    second = threading.Thread(target=sign_in_as, args=("b", 0))
    first.start()
    time.sleep(0.15)
    second.start()
    first.join(10)
    second.join(10)
    assert not errors
    with db.transaction() as s:
        admins = s.scalars(
            select(User.email).where(User.role == roles.ADMIN, User.active.is_(True))
        ).all()
    assert admins == ["b@example.org"]


def test_single_sign_on_never_demotes_the_only_active_admin(
    sso_client: FlaskClient, db: Database
) -> None:
    add_user(db, email="ann@example.org", role=roles.ADMIN)
    gone = add_user(db, email="gone@example.org", role=roles.ADMIN)
    with db.transaction() as s:
        s.get(User, gone.id).active = False  # type: ignore[union-attr]
    # Her groups now give approver; she is the only active admin: she signs in as admin.
    assert sso(sso_client, "ann").status_code == 302
    assert sso_client.get("/admin/users/").status_code == 200
    user = _user(db, "ann@example.org")
    assert user is not None and user.role == roles.ADMIN
    [kept] = _role_entries(db)
    assert kept.action == actions.SSO_ROLE_KEPT and kept.target_id == str(user.id)
    assert kept.detail == {
        "role": roles.ADMIN,
        "groups_give": roles.APPROVER,
        "reason": "the only active admin",
    }
    assert "ann@example.org kept admin, not approver" in kept.summary


def test_single_sign_on_never_changes_the_break_glass_admins_role(db: Database) -> None:
    add_user(db, email="keeper@example.org", role=roles.ADMIN)
    add_user(db, email="other-admin@example.org", role=roles.ADMIN)
    editor_now = oidc.Identity(
        subject="k1", email="Keeper@example.org", email_verified=True, name="", groups=(EDITORS,)
    )
    config = section(only=True, break_glass="keeper@example.org")
    with db.transaction() as s:
        user = oidc.sign_in(s, config, editor_now, ip="192.0.2.5", now=NOW)
        assert user.role == roles.ADMIN
    [kept] = _role_entries(db)
    assert kept.detail["reason"] == "the break-glass admin" and kept.ip == "192.0.2.5"
    # Anyone else's role still follows the groups.
    add_user(db, email="bea@example.org", role=roles.ADMIN)
    bea = oidc.Identity(
        subject="b1", email="bea@example.org", email_verified=True, name="", groups=(EDITORS,)
    )
    with db.transaction() as s:
        assert oidc.sign_in(s, config, bea, ip="", now=NOW).role == roles.EDITOR
    assert [e.action for e in _role_entries(db)] == [
        actions.SSO_ROLE_KEPT,
        actions.USER_ROLE_CHANGED,
    ]
