"""Every /admin/ route, whatever its method, sends an anonymous visitor to sign in."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient


def _sample_path(rule: str) -> str:
    # Fill converters with a plausible value: <int:x> -> 1, anything else -> "x".
    return re.sub(
        r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule
    )


def test_every_admin_route_redirects_anonymous_visitors_to_login(
    app: Flask, client: FlaskClient
) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) >= 6, "the admin has more pages than that"
    checked = 0
    for rule in rules:
        path = _sample_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 302, f"{method} {rule.rule}"
            location = urlsplit(response.headers["Location"])
            assert location.path == "/login", f"{method} {rule.rule}"
            if method == "GET":
                assert parse_qs(location.query)["next"] == [path]
            checked += 1
    assert checked >= len(rules)


def test_public_routes_are_only_the_intended_ones(app: Flask) -> None:
    public = sorted(
        {
            r.rule
            for r in app.url_map.iter_rules()
            if not r.rule.startswith(("/admin", "/api/v1"))  # the API's keys: tests/api
        }
    )
    assert public == [
        "/bulletins",
        "/bulletins/<token>",
        "/c/<code>",
        "/consultations/<slug>",
        "/consultations/<slug>/confirm/<token>",
        "/consultations/<slug>/register",
        "/consultations/<slug>/shared",
        "/documents/<sha256>/<path:filename>",
        "/healthz",
        "/login",
        "/login/passkey/",
        "/login/passkey/options",
        "/login/passkey/second-factor",
        "/login/passkey/second-factor/options",
        "/login/second-factor/",
        "/login/sso/",
        "/login/sso/callback",
        "/logout",
        "/notices/off/<token>",
        "/p/<token>",
        "/p/test",
        "/r/<token>",
        "/r/<token>/<code>",
        "/s/<code>",
        "/s/<code>/shared",
        "/static/<path:filename>",
        "/subscribe",
        "/subscribe/confirm/<token>",
        "/u/<token>",
        "/u/<token>/resubscribe",
        "/u/test",
        "/webhooks/mailgun",
        "/webhooks/sendgrid",
        "/webhooks/ses",
    ]


def test_the_api_answers_without_a_key_only_its_documentation_and_open_list(
    app: Flask,
) -> None:
    client = app.test_client()
    answered = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if client.open(re.sub(r"<[^>]+>", "1", rule.rule), method=method, json={}).status_code
        != 401
    )
    assert answered == [
        "/api/v1/",
        "/api/v1/consultations/open",
        "/api/v1/openapi.json",
        "/api/v1/reference",
    ]
