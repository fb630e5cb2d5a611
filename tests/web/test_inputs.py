"""Malformed public input is a 400 with the normal error page (never a 500, on
PostgreSQL too), control characters never reach a view, and nothing written to the log
can start a line of its own."""

from __future__ import annotations

import io
import logging

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from tests.conftest import csrf_from

ERROR_PAGE = "Something in that request was not right"


@pytest.mark.parametrize(
    "path",
    [
        "/consultations/plan%00",
        "/consultations/plan?via=ab%00cd",
        "/consultations/plan?sharer=%00",
        "/s/ab%00cd",
        "/s/ab%00cd/shared",
        "/r/ab%00cd",
        "/u/ab%00cd",
        "/p/ab%00cd",
        "/bulletins/%00",
        "/consultations/%ff%fe",
        "/consultations/plan?via=%ff",
        "/login?next=%00",
    ],
)
def test_nul_or_bad_utf8_in_a_path_or_query_is_a_400(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400, path
    assert ERROR_PAGE in response.get_data(as_text=True)


def test_nul_or_bad_utf8_in_a_form_is_a_400(client: FlaskClient) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for body in (
        f"csrf_token={token}&email=admin%00@example.org&password=x",
        f"csrf_token={token}&email=%ff%fe@example.org&password=x",
    ):
        response = client.post(
            "/login", data=body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400, body
        assert ERROR_PAGE in response.get_data(as_text=True)
    for path in ("/consultations/plan/register", "/consultations/plan/shared", "/u/ab/resubscribe"):
        response = client.post(path, data={"csrf_token": token, "email": "a\x00b@example.org"})
        assert response.status_code == 400, path


def test_control_characters_are_stripped_from_every_public_value(app: Flask) -> None:
    seen: dict[str, object] = {}

    def echo() -> str:
        seen["args"] = request.args.to_dict(flat=False)
        seen["form"] = request.form.to_dict(flat=False)
        return "ok"

    app.config["WTF_CSRF_ENABLED"] = False
    app.add_url_rule("/echo", "echo", echo, methods=["GET", "POST"])
    client = app.test_client()
    nasty = "Sam\u202eevil\x1b[31m\x7f\x85\u2066x\u2069\x07 Smith\tA\r\nB"
    assert client.post("/echo", query_string={"q": nasty}, data={"name": nasty}).data == b"ok"
    assert seen["args"] == {"q": ["Samevil[31mx Smith\tA\r\nB"]}
    assert seen["form"] == {"name": ["Samevil[31mx Smith\tA\r\nB"]}


def test_a_huge_id_in_the_path_is_not_found(client: FlaskClient) -> None:
    assert client.get("/bulletins/99999999999999999999999").status_code == 404


def test_log_lines_cannot_be_forged(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    # A form without its CSRF token is logged with its path, which here carries CR LF.
    forged = "/consultations/x%0D%0A2026-12-01 INFO mailer: admin signed in/register"
    assert client.post(forged, data={"email": "a@example.org"}).status_code == 400
    messages = [record.getMessage() for record in caplog.records]
    assert any("CSRF" in message for message in messages), messages
    for message in messages:
        assert "\n" not in message and "\r" not in message
    assert any("x\\r\\n2026-12-01 INFO" in message for message in messages)


def test_a_log_handler_writes_one_line_per_record() -> None:
    from mailer import logs  # what the app factory and the CLI install

    logs.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.one_line")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("sign-up from %s named %r", "a\r\nWARNING forged", "\x1b[2J\u202e")
        logger.warning("path /x\nINFO forged too")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("WARNING sign-up from a\\r\\nWARNING forged")
    assert "\x1b" not in lines[0] and "\u202e" not in lines[0]
