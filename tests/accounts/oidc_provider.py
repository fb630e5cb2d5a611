"""A real OpenID Connect provider for the tests: tools/oidc-provider (node-oidc-provider)
started with node on a free loopback port, and a browser-less walk through its sign-in.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

TOOL = Path(__file__).resolve().parents[2] / "tools" / "oidc-provider"
CLIENT_ID = "stakeholder-mailer"
CLIENT_SECRET = "a-client-secret-for-the-tests-only"
PROVIDER_PASSWORD = "provider-password"

ADMINS = "mailer-admins"
APPROVERS = "mailer-approvers"
EDITORS = "mailer-editors"


@dataclass(frozen=True)
class Account:
    sub: str
    email: str
    groups: tuple[str, ...] = ()
    email_verified: bool | None = True
    name: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sub": self.sub,
            "password": PROVIDER_PASSWORD,
            "email": self.email,
            "groups": list(self.groups),
            "name": self.name or self.sub.title(),
        }
        if self.email_verified is not None:
            data["email_verified"] = self.email_verified
        return data


# The people at the provider, for every test.
ACCOUNTS = (
    Account("alice", "Alice@Example.org", (EDITORS, ADMINS), name="Alice Admin"),
    Account("erin", "erin@example.org", (EDITORS,), name="Erin Editor"),
    Account("ann", "ann@example.org", (APPROVERS, "other-team")),
    Account("nobody", "nobody@example.org", ("other-team",)),
    Account("outsider", "outsider@elsewhere.example", (ADMINS,)),
    Account("unverified", "unverified@example.org", (ADMINS,), email_verified=False),
    Account("dora", "dora@example.org", (EDITORS,)),
    # Holds an address another subject (alice) signed in with first.
    Account("alice-again", "alice@example.org", (ADMINS,)),
)


@dataclass
class RunningProvider:
    issuer: str
    process: subprocess.Popen[bytes]
    accounts: tuple[Account, ...] = field(default=ACCOUNTS)

    def oidc_section(self, **extra: Any) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "name": "Test Provider",
            "allowed_domains": ["example.org"],
            "admin_groups": [ADMINS],
            "approver_groups": [APPROVERS],
            "editor_groups": [EDITORS],
            **extra,
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_provider(redirect_uri: str) -> Iterator[RunningProvider]:
    if not (TOOL / "node_modules" / ".installed").exists():
        pytest.fail(
            "the test OpenID Connect provider is not installed: "
            "make tools/oidc-provider/node_modules/.installed"
        )
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_ACCOUNTS": json.dumps([a.as_json() for a in ACCOUNTS]),
    }
    process = subprocess.Popen(
        ["node", "server.js"],
        cwd=TOOL,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_discovery(issuer, process)
        yield RunningProvider(issuer, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_discovery(issuer: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"the test OpenID Connect provider stopped: {errors}")
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail("the test OpenID Connect provider did not answer within 30 seconds")


def sign_in_at_provider(authorize_url: str, *, sub: str, redirect_uri: str) -> str:
    """Follow the provider's pages as a browser would, signing in as ``sub``; return
    the address it finally sends the browser back to (our callback, with its query)."""
    browser = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(redirect_uri):
                return url
            continue
        assert response.status_code == 200, response.text
        assert 'name="username"' in response.text, response.text
        login_path = urlsplit(url).path + "/login"
        response = browser.post(
            urljoin(url, login_path),
            data={"username": sub, "password": PROVIDER_PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        assert response.is_redirect, response.text
        url = urljoin(url, response.headers["Location"])
    raise AssertionError(f"the provider never sent the browser back (last at {url})")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
