"""Every API operation refuses a request without a key (401), refuses a key without
its scope (403), and lets a key with only its scope through. Read from the app's
routes and the served document, so every resource added later is walked too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter

from mailer.accounts import api_scopes
from mailer.api import PREFIX, spec
from mailer.database import Database
from tests.api.helpers import bearer, make_app, make_key, with_things

NOT_OPERATIONS = {"api-docs.openapi_json", "api_reference.page"}


@dataclass(frozen=True)
class Operation:
    method: str
    url: str
    security: list[dict[str, list[str]]]

    @property
    def scope(self) -> str | None:
        for requirement in self.security:
            for scopes in requirement.values():
                if scopes:
                    return scopes[0]
        return None


def api_operations(app: Flask) -> Iterator[Operation]:
    doc = spec(app)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint in NOT_OPERATIONS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        values = {
            name: 1 if isinstance(converter, IntegerConverter) else "1"
            for name, converter in (rule._converters or {}).items()
        }
        built = rule.build(values)
        assert built is not None
        url = built[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):  # type: ignore[operator]
            operation = doc["paths"][path][method.lower()]
            assert "security" in operation, f"{method} {path} is neither keyed nor public"
            yield Operation(method, url, operation["security"])


@pytest.fixture
def app(tmp_path: Path, db: Database) -> Flask:
    # Plenty of requests; approval by key allowed, so only scopes can refuse.
    app = make_app(tmp_path, db, api={"rate_limit": 100_000}, approval={"two_person": False})
    return with_things(app)  # a scoped operation, whatever resources there are yet


def _call(app: Flask, operation: Operation, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    body = {} if operation.method in ("POST", "PUT", "PATCH") else None
    return app.test_client().open(
        operation.url, method=operation.method, json=body, headers=headers
    )


def test_the_walk_finds_the_operations(app: Flask) -> None:
    found = {(o.method, o.url) for o in api_operations(app)}
    assert ("GET", f"{PREFIX}/key") in found


def test_without_a_key_every_keyed_operation_is_401(app: Flask) -> None:
    for operation in api_operations(app):
        answer = _call(app, operation, {})
        if not operation.security:  # public: no key needed
            assert answer.status_code != 401, f"{operation.method} {operation.url}"
            continue
        assert answer.status_code == 401, f"{operation.method} {operation.url}"
        assert answer.mimetype == "application/problem+json"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_without_the_scope_is_403_and_with_only_it_is_let_through(
    app: Flask, db: Database
) -> None:
    every = list(api_scopes.SCOPES)
    without = {s: make_key(db, *[o for o in every if o != s], name=f"not {s}") for s in every}
    only = {s: make_key(db, s, name=f"only {s}") for s in every}
    walked = 0
    for operation in api_operations(app):
        scope = operation.scope
        if scope is None:
            continue
        walked += 1
        where = f"{operation.method} {operation.url} ({scope})"
        refused = _call(app, operation, bearer(without[scope]))
        assert refused.status_code == 403, where
        assert refused.mimetype == "application/problem+json", where
        assert "insufficient_scope" in refused.headers["WWW-Authenticate"], where
        allowed = _call(app, operation, bearer(only[scope]))
        assert allowed.status_code not in (401, 403), f"{where}: {allowed.get_data()!r}"
    assert walked >= 1


def test_an_operation_for_any_key_takes_a_key_of_any_scope(app: Flask, db: Database) -> None:
    for operation in api_operations(app):
        if operation.security and operation.scope is None:
            for scope in api_scopes.SCOPES:
                key = make_key(db, scope, name=f"any {scope} {operation.url}")
                assert _call(app, operation, bearer(key)).status_code not in (401, 403)
