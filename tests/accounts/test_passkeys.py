"""Passkeys through the web routes, with a software authenticator made here (an EC key,
its attestation and assertions built byte by byte as the specification lays them out):
registering, naming and removing; the second step of signing in; signing in with a
passkey alone; and the misuses each of them must refuse."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from mailer.accounts import roles
from mailer.accounts.models import (
    LoginAttempt,
    Passkey,
    RecoveryCode,
    TotpSecret,
    User,
    UserSession,
)
from mailer.accounts.second_factors.passkeys import relying_party
from mailer.app import create_app
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.database import Database
from tests.concurrency import together
from tests.conftest import _TEMPLATE_CODE, add_user, csrf_from, login, make_config

COOKIE = "mailer_session"
ORIGIN = "http://localhost:5000"
JSON = "application/json"


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftKey:
    """An authenticator in software: one credential, a counter, user verification."""

    def __init__(self, *, counter: bool = True) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.count = 0
        self.counter = counter
        self.user_handle = ""

    def _cose(self) -> bytes:
        numbers = self.private.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def create(self, options: dict[str, Any], *, origin: str = ORIGIN) -> dict[str, Any]:
        self.user_handle = options["user"]["id"]
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = (
            hashlib.sha256(options["rp"]["id"].encode()).digest()
            + bytes([0x45])  # user present, user verified, attested credential data
            + self.count.to_bytes(4, "big")
            + bytes(16)  # aaguid
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self, options: dict[str, Any], *, origin: str = ORIGIN, verified: bool = True
    ) -> dict[str, Any]:
        if self.counter:
            self.count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest()
            + bytes([0x05 if verified else 0x01])
            + self.count.to_bytes(4, "big")
        )
        signature = self.private.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": self.user_handle,
            },
            "clientExtensionResults": {},
        }


# --- the app and browsers ------------------------------------------------------------------


@pytest.fixture
def make_app(tmp_path: Path, db: Database) -> Iterator[Any]:
    made: list[Flask] = []

    def build(**sections: dict[str, Any]) -> Flask:
        application = create_app(make_config(tmp_path, db.url, **sections))
        application.config["TESTING"] = True
        application.jinja_env.bytecode_cache = _TEMPLATE_CODE
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["mailer.db"].dispose()


_DATA_CSRF = re.compile(r'data-csrf="([^"]+)"')


def token(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    found = _DATA_CSRF.search(html)
    return found.group(1) if found else csrf_from(html)


def post_json(client: FlaskClient, path: str, csrf: str, body: object) -> Any:
    return client.post(
        path, data=json.dumps(body), content_type=JSON, headers={"X-CSRFToken": csrf}
    )


SECURITY = "/admin/account/security/"
MANAGE = "/admin/account/security/passkeys"


def add_passkey(client: FlaskClient, key: SoftKey, name: str = "") -> Any:
    csrf = token(client, SECURITY)
    options = post_json(client, f"{MANAGE}/options", csrf, {})
    assert options.status_code == 200, options.get_data(as_text=True)
    return post_json(
        client, f"{MANAGE}/", csrf, {"name": name, "credential": key.create(options.get_json())}
    )


def second_step(client: FlaskClient, key: SoftKey, **kwargs: Any) -> Any:
    csrf = token(client, "/login/second-factor/")
    options = post_json(client, "/login/passkey/second-factor/options", csrf, {})
    assert options.status_code == 200, options.get_data(as_text=True)
    answer = key.get(options.get_json(), **kwargs)
    return post_json(client, "/login/passkey/second-factor", csrf, {"credential": answer})


def alone_options(client: FlaskClient) -> tuple[str, dict[str, Any]]:
    csrf = token(client, "/login")
    options = post_json(client, "/login/passkey/options", csrf, {})
    assert options.status_code == 200, options.get_data(as_text=True)
    return csrf, options.get_json()


def sign_in_alone(client: FlaskClient, key: SoftKey, **kwargs: Any) -> Any:
    csrf, options = alone_options(client)
    return post_json(client, "/login/passkey/", csrf, {"credential": key.get(options, **kwargs)})


def sign_out(client: FlaskClient) -> None:
    csrf = csrf_from(client.get("/admin/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf})


def entries(db: Database, action: str) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def methods_of_sessions(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(UserSession.method).order_by(UserSession.id)))


@pytest.fixture
def key() -> SoftKey:
    return SoftKey()


@pytest.fixture
def with_passkey(admin_client: FlaskClient, key: SoftKey) -> FlaskClient:
    """The admin, signed in with a password, who has just added ``key``."""
    assert add_passkey(admin_client, key).status_code == 200
    sign_out(admin_client)
    return admin_client


# --- registering, naming, removing ---------------------------------------------------------


def test_register_with_a_random_handle_name_it_and_see_it_listed(
    admin_client: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    added = add_passkey(admin_client, key)
    assert added.status_code == 200
    assert added.get_json() == {"redirect": "/admin/account/security/#passkeys"}
    page = admin_client.get(SECURITY).get_data(as_text=True)
    assert "Passkey added: Passkey 1." in page and "<h3" in page
    with db.transaction() as session:
        user = session.get(User, admin_user.id)
        assert user is not None and user.webauthn_handle
        stored = session.scalars(select(Passkey)).one()
        assert stored.name == "Passkey 1" and stored.transports == "internal"
        assert stored.credential_id == b64(key.credential_id)
        handle = user.webauthn_handle
    # The passkey carries the random handle, never the email address.
    assert unb64(key.user_handle) == unb64(handle)
    assert b"admin" not in unb64(key.user_handle)
    assert [e.summary for e in entries(db, actions.SECOND_FACTOR_ADDED)] == [
        "Passkey added: Passkey 1"
    ]
    # A second one is offered with the first excluded, and its default name follows.
    csrf = token(admin_client, SECURITY)
    options = post_json(admin_client, f"{MANAGE}/options", csrf, {}).get_json()
    assert [c["id"] for c in options["excludeCredentials"]] == [b64(key.credential_id)]
    assert options["user"]["id"] == key.user_handle
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    other = SoftKey()
    post_json(admin_client, f"{MANAGE}/", csrf, {"credential": other.create(options)})
    with db.transaction() as session:
        assert sorted(session.scalars(select(Passkey.name))) == ["Passkey 1", "Passkey 2"]


def test_a_passkey_registered_twice_is_refused(admin_client: FlaskClient, key: SoftKey) -> None:
    assert add_passkey(admin_client, key).status_code == 200
    again = add_passkey(admin_client, key, "Again")
    assert again.status_code == 400
    assert again.get_json() == {"error": "That passkey is already registered."}


def test_rename_and_a_name_too_long(admin_client: FlaskClient, db: Database, key: SoftKey) -> None:
    add_passkey(admin_client, key, "Laptop")
    with db.transaction() as session:
        passkey_id = session.scalars(select(Passkey.id)).one()
    csrf = csrf_from(admin_client.get(SECURITY).get_data(as_text=True))
    renamed = admin_client.post(
        f"{MANAGE}/{passkey_id}/name", data={"csrf_token": csrf, "name": "  Work   laptop "}
    )
    assert renamed.status_code == 302
    assert "Renamed to Work laptop." in admin_client.get(SECURITY).get_data(as_text=True)
    long = admin_client.post(
        f"{MANAGE}/{passkey_id}/name", data={"csrf_token": csrf, "name": "x" * 101}
    )
    assert long.status_code == 400
    assert "at most 100 characters" in long.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalars(select(Passkey.name)).one() == "Work laptop"


def test_removing_needs_a_session_that_used_a_second_factor(
    with_passkey: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    client = with_passkey
    # Signed in with the password alone would not do: with a passkey it asks for it.
    assert login(client, admin_user.email).headers["Location"] == "/login/second-factor/"
    assert second_step(client, key).status_code == 200
    with db.transaction() as session:
        passkey_id = session.scalars(select(Passkey.id)).one()
        # Forge a password-only session for this browser, as someone who knew only
        # the password would have had before the passkey was added.
        session.execute(update(UserSession).values(method="password"))
    csrf = csrf_from(client.get(SECURITY).get_data(as_text=True))
    client.post(f"{MANAGE}/{passkey_id}/remove", data={"csrf_token": csrf})
    page = client.get(SECURITY).get_data(as_text=True)
    assert "a password alone cannot take one away" in page
    with db.transaction() as session:
        session.execute(update(UserSession).values(method="password+passkey"))
    client.post(f"{MANAGE}/{passkey_id}/remove", data={"csrf_token": csrf})
    assert "Removed Passkey 1." in client.get(SECURITY).get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalars(select(Passkey)).all() == []
    assert len(entries(db, actions.SECOND_FACTOR_REMOVED)) == 1


def test_someone_elses_passkey_cannot_be_renamed_or_removed(
    admin_client: FlaskClient, db: Database, key: SoftKey
) -> None:
    add_passkey(admin_client, key)
    with db.transaction() as session:
        passkey_id = session.scalars(select(Passkey.id)).one()
    other = add_user(db, email="other@example.org", role=roles.EDITOR)
    client = admin_client.application.test_client()
    login(client, other.email)
    csrf = csrf_from(client.get(SECURITY).get_data(as_text=True))
    response = client.post(f"{MANAGE}/{passkey_id}/name", data={"csrf_token": csrf, "name": "x"})
    assert response.status_code == 400 and "not one of yours" in response.get_data(as_text=True)
    client.post(f"{MANAGE}/{passkey_id}/remove", data={"csrf_token": csrf})
    with db.transaction() as session:
        assert session.scalars(select(Passkey.name)).one() == "Passkey 1"


def test_the_last_factor_stays_when_the_policy_requires_one(
    make_app: Any, db: Database, key: SoftKey
) -> None:
    app = make_app(auth={"require_second_factor": "everyone"})
    user = add_user(db, email="ed@example.org", role=roles.EDITOR)
    client = app.test_client()
    # Held at enrolment after the password: only the security page opens.
    login(client, user.email)
    assert client.get("/admin/").headers["Location"] == SECURITY
    assert add_passkey(client, key).status_code == 200
    # Adding the passkey released the hold for this browser.
    assert client.get("/admin/").status_code == 200
    assert methods_of_sessions(db) == ["password+passkey"]
    with db.transaction() as session:
        passkey_id = session.scalars(select(Passkey.id)).one()
    csrf = csrf_from(client.get(SECURITY).get_data(as_text=True))
    client.post(f"{MANAGE}/{passkey_id}/remove", data={"csrf_token": csrf})
    page = client.get(SECURITY).get_data(as_text=True)
    assert "it is your only second factor and your office asks you to use one" in page
    with db.transaction() as session:
        assert len(session.scalars(select(Passkey)).all()) == 1


# --- the second step ----------------------------------------------------------------------


def test_password_then_passkey_signs_in(
    with_passkey: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    client = with_passkey
    login(client, admin_user.email)
    page = client.get("/login/second-factor/").get_data(as_text=True)
    assert "Use a passkey" in page
    csrf = token(client, "/login/second-factor/")
    options = post_json(client, "/login/passkey/second-factor/options", csrf, {}).get_json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64(key.credential_id)]
    done = post_json(client, "/login/passkey/second-factor", csrf, {"credential": key.get(options)})
    assert done.status_code == 200 and done.get_json() == {"redirect": "/admin/"}
    assert client.get("/admin/").status_code == 200
    assert methods_of_sessions(db)[-1] == "password+passkey"
    assert entries(db, actions.LOGIN)[-1].detail == {"method": "password+passkey"}


def test_another_users_passkey_is_refused_as_the_second_factor(
    app: Flask, with_passkey: FlaskClient, admin_user: User, db: Database
) -> None:
    mallory = add_user(db, email="mallory@example.org", role=roles.EDITOR)
    hers = SoftKey()
    own = app.test_client()
    login(own, mallory.email)
    assert add_passkey(own, hers).status_code == 200
    client = with_passkey
    login(client, admin_user.email)
    refused = second_step(client, hers)
    assert refused.status_code == 400
    assert refused.get_json()["error"].startswith("That passkey was not accepted")
    assert client.get("/admin/").status_code == 302
    failed = entries(db, actions.SECOND_FACTOR_FAILED)
    assert [e.detail["reason"] for e in failed] == ["not this user's passkey"]


def test_the_second_step_refuses_a_wrong_origin(
    with_passkey: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    login(with_passkey, admin_user.email)
    refused = second_step(with_passkey, key, origin="http://evil.example")
    assert refused.status_code == 400
    assert with_passkey.get("/admin/").status_code == 302
    assert entries(db, actions.SECOND_FACTOR_FAILED)[0].detail["reason"].startswith("wrong origin")


def test_a_counter_that_does_not_go_up_is_a_cloned_key(
    with_passkey: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    login(with_passkey, admin_user.email)
    assert second_step(with_passkey, key).status_code == 200
    sign_out(with_passkey)
    login(with_passkey, admin_user.email)
    key.count -= 1  # the copy's counter lags behind the original's
    refused = second_step(with_passkey, key)
    assert refused.status_code == 400 and "may have been copied" in refused.get_json()["error"]


# --- a passkey alone -----------------------------------------------------------------------


def test_a_passkey_alone_signs_in_and_its_answer_works_once(
    app: Flask, with_passkey: FlaskClient, db: Database, key: SoftKey
) -> None:
    client = with_passkey
    assert "Sign in with a passkey" in client.get("/login").get_data(as_text=True)
    csrf, options = alone_options(client)
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    answer = key.get(options)
    before = client.get_cookie(COOKIE)
    assert before is not None
    done = post_json(client, "/login/passkey/", csrf, {"credential": answer})
    assert done.status_code == 200 and done.get_json() == {"redirect": "/admin/"}
    assert client.get("/admin/").status_code == 200
    assert methods_of_sessions(db)[-1] == "passkey"
    # The same answer again, from a browser holding the cookie as it was before the
    # answer was sent (the challenge still in it): refused.
    replay = app.test_client()
    replay.set_cookie(COOKIE, before.value)
    again = post_json(replay, "/login/passkey/", csrf, {"credential": answer})
    assert again.status_code == 400
    assert replay.get("/admin/").status_code == 302
    # And from the same browser, whose challenge is spent.
    sign_out(client)
    spent = post_json(client, "/login/passkey/", token(client, "/login"), {"credential": answer})
    assert spent.status_code == 400
    reasons = [e.detail["reason"] for e in entries(db, actions.LOGIN_FAILED)]
    assert reasons == ["replayed", "no challenge"]


def test_a_challenge_issued_to_another_browser_is_refused(
    app: Flask, with_passkey: FlaskClient, key: SoftKey
) -> None:
    _, options = alone_options(with_passkey)
    thief = app.test_client()
    csrf, _ = alone_options(thief)  # the thief's own challenge is another one
    refused = post_json(thief, "/login/passkey/", csrf, {"credential": key.get(options)})
    assert refused.status_code == 400
    assert thief.get("/admin/").status_code == 302


def test_a_wrong_origin_and_no_user_verification_are_refused(
    with_passkey: FlaskClient, db: Database, key: SoftKey
) -> None:
    assert (
        sign_in_alone(with_passkey, key, origin="http://localhost.evil.example").status_code == 400
    )
    assert sign_in_alone(with_passkey, key, origin="https://localhost:5000").status_code == 400
    assert sign_in_alone(with_passkey, key, verified=False).status_code == 400
    assert with_passkey.get("/admin/").status_code == 302
    with db.transaction() as session:
        attempts = session.scalars(select(LoginAttempt.succeeded)).all()
    assert attempts.count(False) == 3


def test_a_disabled_users_passkey_is_refused(
    with_passkey: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    with db.transaction() as session:
        user = session.get(User, admin_user.id)
        assert user is not None
        user.active = False
    refused = sign_in_alone(with_passkey, key)
    assert refused.status_code == 400
    assert refused.get_json()["error"].startswith("That passkey was not accepted")
    assert [e.detail["reason"] for e in entries(db, actions.LOGIN_FAILED)] == ["account disabled"]
    with db.transaction() as session:
        assert session.scalars(select(LoginAttempt.succeeded)).all()[-1] is False


def test_failed_passkeys_are_throttled_like_passwords(
    with_passkey: FlaskClient, db: Database, key: SoftKey
) -> None:
    for _ in range(10):
        assert sign_in_alone(with_passkey, key, origin="http://evil.example").status_code == 400
    # Now even the right answer waits, as after ten wrong passwords.
    refused = sign_in_alone(with_passkey, key)
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.get_json()["error"]
    assert with_passkey.get("/admin/").status_code == 302
    # Passkeys nobody registered are counted too.
    stranger = SoftKey()
    for _ in range(10):
        assert sign_in_alone(with_passkey, stranger).status_code == 400
    assert sign_in_alone(with_passkey, stranger).status_code == 429
    assert entries(db, actions.LOGIN_THROTTLED)


def test_single_sign_on_only_refuses_a_passkey_alone(
    make_app: Any, db: Database, key: SoftKey
) -> None:
    app = make_app(
        oidc={
            "issuer": "http://127.0.0.1:9/",
            "client_id": "mailer",
            "client_secret": "s",
            "admin_groups": ["admins"],
            "only": True,
            "break_glass": "glass@example.org",
        }
    )
    user = add_user(db, email="ed@example.org", role=roles.EDITOR)
    client = app.test_client()
    # Added through the service: with [oidc] only a password no longer signs in.
    with app.test_request_context():
        from mailer.accounts.second_factors import passkeys

        rp = relying_party("http://127.0.0.1:5000", loopback=True)
        with db.transaction() as session:
            me = session.get(User, user.id)
            assert me is not None
            options = passkeys.registration_options(session, me, rp=rp, now=_now())
            passkeys.register(
                session,
                me,
                rp=rp,
                challenge=options.challenge,
                answer=key.create(json.loads(options.json)),
                name="",
                ip="",
                now=_now(),
            )
    refused = sign_in_alone(client, key)
    assert refused.status_code == 400
    assert "single sign-on" in refused.get_json()["error"]
    assert client.get("/admin/").status_code == 302


def test_passkey_sign_in_off_hides_the_button_and_refuses(
    make_app: Any, db: Database, key: SoftKey
) -> None:
    app = make_app(auth={"passkey_sign_in": False})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with a passkey" not in page and "passkeys.js" not in page
    csrf = csrf_from(page)
    assert post_json(client, "/login/passkey/options", csrf, {}).status_code == 404
    refused = post_json(client, "/login/passkey/", csrf, {"credential": {}})
    assert refused.status_code == 404 and "turned off" in refused.get_json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"credential": "x"}',
        b'{"credential": {"id": "AA", "rawId": "AA", "response": {}}}',
        b'{"credential": {"id": 5, "rawId": null, "type": "public-key", "response": []}}',
        b"\xff\xfe",
        b'{"credential": {}}' + b" " * 70_000,
    ],
)
def test_bad_bodies_are_400_with_words(
    with_passkey: FlaskClient, admin_user: User, body: bytes
) -> None:
    client = with_passkey

    def send(path: str, csrf: str) -> None:
        response = client.post(path, data=body, content_type=JSON, headers={"X-CSRFToken": csrf})
        assert response.status_code == 400, (path, response.get_data(as_text=True))
        assert response.get_json()["error"]

    csrf, _ = alone_options(client)
    send("/login/passkey/", csrf)
    login(client, admin_user.email)
    csrf = token(client, "/login/second-factor/")
    post_json(client, "/login/passkey/second-factor/options", csrf, {})
    send("/login/passkey/second-factor", csrf)
    # Still waiting for its second factor: a bad body is not a way past it.
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("body", [b"{", b'{"credential": 1, "name": 5}', b"x" * 70_000])
def test_bad_bodies_when_registering_are_400(admin_client: FlaskClient, body: bytes) -> None:
    csrf = token(admin_client, SECURITY)
    post_json(admin_client, f"{MANAGE}/options", csrf, {})
    response = admin_client.post(
        f"{MANAGE}/", data=body, content_type=JSON, headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 400 and response.get_json()["error"]


def test_the_relying_party_follows_base_url() -> None:
    public = relying_party("https://mailer.example.gov.uk/", loopback=False)
    assert public.rp_id == "mailer.example.gov.uk"
    assert public.accepts("https://mailer.example.gov.uk")
    assert not public.accepts("http://mailer.example.gov.uk")
    assert not public.accepts("https://mailer.example.gov.uk:8443")
    assert not public.accepts("http://localhost:5000")
    assert relying_party("https://Mailer.Example.org:443/x", loopback=False).accepts(
        "https://mailer.example.org"
    )
    assert relying_party("https://mailer.example.org:8443", loopback=False).accepts(
        "https://mailer.example.org:8443"
    )
    local = relying_party("http://127.0.0.1:5000", loopback=True)
    assert local.rp_id == "localhost"
    assert local.accepts("http://localhost:41234") and local.accepts("http://localhost")
    assert not local.accepts("https://localhost:5000")
    assert not local.accepts("http://127.0.0.1:5000")
    assert not local.accepts("http://localhost:5000/path")
    assert not local.accepts("http://localhost:notaport")


def _now() -> Any:
    from mailer.database import utcnow

    return utcnow()


# --- adding a factor once there is one (review of issue 22) --------------------------------


def forge_password_only(db: Database) -> None:
    """Every session as if signed in with the password alone, as a browser of someone
    who knew only the password would be."""
    with db.transaction() as session:
        session.execute(update(UserSession).values(method="password"))


def test_a_password_only_browser_cannot_add_a_factor_once_there_is_one(
    admin_client: FlaskClient, db: Database, key: SoftKey
) -> None:
    assert add_passkey(admin_client, key).status_code == 200
    forge_password_only(db)
    csrf = token(admin_client, SECURITY)
    options = post_json(admin_client, f"{MANAGE}/options", csrf, {})
    assert options.status_code == 403
    assert "confirm with a code from your app" in options.get_json()["error"]
    # Nor with options fetched while the browser still counted as confirmed.
    with db.transaction() as session:
        session.execute(update(UserSession).values(method="password+passkey"))
    options = post_json(admin_client, f"{MANAGE}/options", csrf, {}).get_json()
    forge_password_only(db)
    other = SoftKey()
    refused = post_json(admin_client, f"{MANAGE}/", csrf, {"credential": other.create(options)})
    assert refused.status_code == 403
    # Nor an authenticator app.
    app_setup = admin_client.post("/admin/account/security/app/setup", data={"csrf_token": csrf})
    assert app_setup.status_code == 400
    assert "sign in again with your passkey" in app_setup.get_data(as_text=True)
    with db.transaction() as session:
        assert len(session.scalars(select(Passkey)).all()) == 1
        assert session.scalars(select(TotpSecret)).all() == []
    # A browser that signed in with the passkey adds another.
    with db.transaction() as session:
        session.execute(update(UserSession).values(method="password+passkey"))
    assert add_passkey(admin_client, other).status_code == 200


def test_the_first_factor_signs_out_every_other_password_only_browser(
    app: Flask, admin_client: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    elsewhere = app.test_client()
    login(elsewhere, admin_user.email)
    assert elsewhere.get("/admin/").status_code == 200
    assert add_passkey(admin_client, key).status_code == 200
    # The browser elsewhere is signed out; this one carries on.
    gone = elsewhere.get("/admin/")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")
    assert admin_client.get("/admin/").status_code == 200
    ended = entries(db, actions.SESSIONS_ENDED)
    assert [e.detail["reason"] for e in ended] == ["second factor set up"]


# --- recovery codes for someone with only passkeys ------------------------------------------


def test_passkey_only_users_are_offered_recovery_codes(
    admin_client: FlaskClient, admin_user: User, db: Database, key: SoftKey
) -> None:
    assert add_passkey(admin_client, key).status_code == 200
    page = admin_client.get(SECURITY).get_data(as_text=True)
    assert "Recovery codes" in page and "Make your recovery codes now" in page
    made = admin_client.post(
        "/admin/account/security/app/recovery-codes", data={"csrf_token": csrf_from(page)}
    )
    assert made.status_code == 200
    codes = re.findall(r"<code>([0-9a-z]{5}-[0-9a-z]{5})</code>", made.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert "You have 10 of 10 recovery codes left." in admin_client.get(SECURITY).get_data(
        as_text=True
    )
    # One of them stands in for the passkey at the second step.
    sign_out(admin_client)
    login(admin_client, admin_user.email)
    step = admin_client.get("/login/second-factor/").get_data(as_text=True)
    used = admin_client.post(
        "/login/second-factor/", data={"code": codes[0], "csrf_token": csrf_from(step)}
    )
    assert used.status_code == 302 and admin_client.get("/admin/").status_code == 200


def test_a_password_only_browser_cannot_make_codes_for_a_passkey_user(
    admin_client: FlaskClient, db: Database, key: SoftKey
) -> None:
    assert add_passkey(admin_client, key).status_code == 200
    forge_password_only(db)
    page = admin_client.get(SECURITY).get_data(as_text=True)
    assert "Make your recovery codes now" not in page
    refused = admin_client.post(
        "/admin/account/security/app/recovery-codes", data={"csrf_token": csrf_from(page)}
    )
    assert refused.status_code == 400
    with db.transaction() as session:
        assert session.scalars(select(RecoveryCode)).all() == []


# --- one answer sent twice at the same moment ------------------------------------------------


def test_one_answer_sent_twice_at_once_signs_in_once(
    app: Flask, with_passkey: FlaskClient, db: Database, key: SoftKey
) -> None:
    _, options = alone_options(with_passkey)
    answer = key.get(options)
    cookie = with_passkey.get_cookie(COOKIE)
    assert cookie is not None

    def send(ip: str) -> Callable[[], int]:
        # Each a browser holding the same cookie (the challenge in it), from its own
        # address, so nothing but the passkey's claim stands between them.
        def go() -> int:
            browser = app.test_client()
            browser.environ_base["REMOTE_ADDR"] = ip
            browser.set_cookie(COOKIE, cookie.value)
            csrf = token(browser, "/login")
            browser.set_cookie(COOKIE, cookie.value)
            sent = post_json(browser, "/login/passkey/", csrf, {"credential": answer})
            return int(sent.status_code)

        return go

    for _ in range(2):
        assert sorted(together([send("10.0.0.1"), send("10.0.0.2")])) == [200, 400]
        # The next round: a fresh challenge and answer.
        _, options = alone_options(with_passkey)
        answer = key.get(options)
        cookie = with_passkey.get_cookie(COOKIE)
        assert cookie is not None
    assert methods_of_sessions(db).count("passkey") == 2


# --- names a person never means to type ------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("\u0000x", "x"), ("\u202eyek\u202c Work", "yek Work"), ("Lap\u0007top", "Laptop")],
)
def test_controls_and_direction_overrides_are_taken_out_of_names(
    admin_client: FlaskClient, db: Database, key: SoftKey, typed: str, kept: str
) -> None:
    added = add_passkey(admin_client, key, typed)
    assert added.status_code == 200, added.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalars(select(Passkey.name)).one() == kept


def test_half_a_surrogate_pair_is_refused_in_words(
    admin_client: FlaskClient, db: Database, key: SoftKey
) -> None:
    csrf = token(admin_client, SECURITY)
    options = post_json(admin_client, f"{MANAGE}/options", csrf, {}).get_json()
    body = '{"name": "\\ud800", "credential": ' + json.dumps(key.create(options)) + "}"
    refused = admin_client.post(
        f"{MANAGE}/", data=body, content_type=JSON, headers={"X-CSRFToken": csrf}
    )
    assert refused.status_code == 400
    assert "cannot be stored" in refused.get_json()["error"]
    with db.transaction() as session:
        assert session.scalars(select(Passkey)).all() == []


def test_the_page_says_where_passkeys_work_from_base_url(make_app: Any) -> None:
    from mailer.accounts.second_factors.passkey_views import passkey_address

    for base_url, address in [
        ("https://mailer.example.org:8443/", "https://mailer.example.org:8443"),
        ("https://mailer.example.org/", "https://mailer.example.org"),
        # Any port of localhost: the script says the one the page was opened on.
        ("http://127.0.0.1:5000/", ""),
    ]:
        with make_app(app={"base_url": base_url}).test_request_context("/"):
            assert passkey_address() == address
