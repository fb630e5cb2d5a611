"""Guessable passwords are refused with the reason, wherever a password is set."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailer.accounts import passwords
from mailer.accounts.models import User
from tests.cli_helpers import run_mailer
from tests.conftest import PASSWORD, csrf_from, login

WEAK = [
    ("aaaaaaaaaaaa", "Repeats"),
    ("password1234", "very common password"),
    ("qwertyuiop123", "too easy to guess"),
    ("iloveyou2024!", "too easy to guess"),
]


@pytest.mark.parametrize(("password", "why"), WEAK)
def test_common_and_guessable_passwords_are_refused_with_the_reason(
    password: str, why: str
) -> None:
    with pytest.raises(passwords.PasswordRefused, match="too easy to guess") as caught:
        passwords.check(password, email="someone@example.org")
    assert why in str(caught.value)


def test_a_password_containing_the_email_name_is_refused() -> None:
    with pytest.raises(
        passwords.PasswordRefused, match=r"name in the email address \(ada.lovelace\)"
    ):
        passwords.check("my Ada.Lovelace password!", email="ada.lovelace@example.org")


def test_the_suites_and_the_generated_passwords_pass() -> None:
    passwords.check(PASSWORD, email="admin@example.org", name="Ada Admin")
    for _ in range(20):
        passwords.check(passwords.generate(), email="admin@example.org")
    with pytest.raises(passwords.PasswordRefused, match="at least 12"):
        passwords.check("Xq7#kL9!", email="a@example.org")


def test_the_users_page_refuses_a_weak_password(admin_client: FlaskClient) -> None:
    token = csrf_from(admin_client.get("/admin/users/").get_data(as_text=True))
    response = admin_client.post(
        "/admin/users/",
        data={
            "csrf_token": token,
            "email": "ed@example.org",
            "role": "editor",
            "password": "password1234",
        },
    )
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)


def test_changing_ones_own_password_to_a_weak_one_is_refused(
    app: Flask, admin_client: FlaskClient, admin_user: User
) -> None:
    page = admin_client.get("/admin/account/").get_data(as_text=True)
    response = admin_client.post(
        "/admin/account/",
        data={"csrf_token": csrf_from(page), "current": PASSWORD, "new": "aaaaaaaaaaaa"},
    )
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)
    assert login(app.test_client(), admin_user.email).status_code == 302  # unchanged


@pytest.mark.parametrize(
    "args",
    [
        ("users", "add", "ed@example.org", "--role", "editor", "--password-stdin"),
        ("init", "--admin-email", "boss@example.org", "--admin-password-stdin"),
    ],
)
@pytest.mark.slow
def test_the_command_line_refuses_a_weak_password(tmp_path: Path, args: tuple[str, ...]) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert run_mailer("init", cwd=tmp_path, MAILER_DATABASE_URL=url).returncode == 0
    result = run_mailer(*args, cwd=tmp_path, stdin="password1234\n", MAILER_DATABASE_URL=url)
    assert result.returncode == 1, result.stderr
    assert "too easy to guess" in result.stderr
