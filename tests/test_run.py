"""`mailer run` on the embedded default, as `make run` starts it on a fresh machine."""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.cli_helpers import free_port, mailer_env

pytestmark = pytest.mark.slow


def start(cwd: Path, port: int, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mailer", "run", "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=mailer_env(**env),
    )
    lines: list[str] = []
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "is running" in line:
            return process, lines
    process.kill()
    raise AssertionError("mailer run did not start:\n" + "".join(lines))


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=15)


def test_first_run_sets_everything_up_and_prints_the_admin_password(tmp_path: Path) -> None:
    port = free_port()
    process, lines = start(tmp_path, port)
    try:
        output = "".join(lines)
        assert "First admin created" in output
        password = re.search(r"password: (\S+)", output).group(1)
        assert (tmp_path / "instance" / "mailer.db").is_file()
        assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0

        # The demo office is there, with an approver to walk the approval as.
        assert "Demo office loaded" in output
        approver_password = re.search(r"approver@example.org\n\s+password: (\S+)", output).group(1)

        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            health = json.load(response)
        assert health["database"]["ok"] is True
        # The scheduler thread of `mailer run` reports itself within a tick.
        deadline = time.monotonic() + 10
        while health["scheduler"]["state"] != "running":
            assert time.monotonic() < deadline, health
            time.sleep(0.2)
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                health = json.load(response)
        assert health["status"] == "ok"

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/login", timeout=5).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"email": "admin@example.org", "password": password, "csrf_token": token}
        ).encode()
        dashboard = opener.open(f"{base}/login", data=body, timeout=5)
        assert dashboard.url == f"{base}/admin/"
        assert "Dashboard" in dashboard.read().decode()
        listing = opener.open(f"{base}/admin/consultations/", timeout=5).read().decode()
        assert "Draft Police and Crime Plan" in listing and "Awaiting approval" in listing
        assert len(approver_password) >= 12

        # A few clicks from there to the outbox: the approver approves the demo
        # consultation and opens it now; the launch lands in the outbox.
        approver = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

        def click(path: str, page_path: str, **data: str) -> str:
            page = approver.open(f"{base}{page_path}", timeout=5).read().decode()
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            # The approve form names the version the approver read.
            version = re.search(r'name="version" value="([0-9a-f]+)"', page)
            hidden = {"version": version.group(1)} if version else {}
            body = urllib.parse.urlencode({"csrf_token": token, **hidden, **data}).encode()
            return approver.open(f"{base}{path}", data=body, timeout=10).read().decode()

        click("/login", "/login", email="approver@example.org", password=approver_password)
        page = re.search(r'href="(/admin/consultations/\d+)"', listing).group(1)
        assert "Approved." in click(f"{page}/approve", page, confirmed="yes")
        assert "the launch goes within a few seconds" in click(f"{page}/open-now", page)
        outbox = tmp_path / "instance" / "outbox"
        deadline = time.monotonic() + 30
        while len(list(outbox.glob("*.eml"))) < 5:
            assert time.monotonic() < deadline, "the launch did not reach the outbox"
            time.sleep(0.3)
        shown = approver.open(f"{base}/admin/outbox/", timeout=5).read().decode()
        assert "Have your say" in shown
    finally:
        assert stop(process) == 0

    # A second start finds everything in place and prints no new password.
    process, lines = start(tmp_path, port)
    try:
        assert "First admin created" not in "".join(lines)
    finally:
        assert stop(process) == 0


def test_admin_password_from_the_environment_is_used_not_printed(tmp_path: Path) -> None:
    port = free_port()
    process, lines = start(tmp_path, port, MAILER_ADMIN_PASSWORD="operator chose this one")
    try:
        output = "".join(lines)
        assert "First admin created" in output
        assert "operator chose this one" not in output
    finally:
        assert stop(process) == 0


def test_a_too_short_admin_password_is_refused_with_the_reason(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailer", "run", "--port", str(free_port())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        env=mailer_env(MAILER_ADMIN_PASSWORD="short"),
        check=False,
    )
    assert result.returncode == 1
    assert "cannot create the first admin from $MAILER_ADMIN_PASSWORD" in result.stderr
    assert "at least 12 characters" in result.stderr


def _public_page_address(base: str, password: str) -> str:
    """The demo consultation's public address, as its admin page shows it."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/login", timeout=5).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"email": "admin@example.org", "password": password, "csrf_token": token}
    ).encode()
    opener.open(f"{base}/login", data=body, timeout=5)
    listing = opener.open(f"{base}/admin/consultations/", timeout=5).read().decode()
    path = re.search(r'href="(/admin/consultations/\d+)"', listing).group(1)
    shown = opener.open(f"{base}{path}", timeout=5).read().decode()
    return re.search(r"<dt>Public page</dt><dd>(?:<a[^>]*>)?(\S+?)[< ]", shown).group(1)


def test_links_follow_the_port_when_base_url_is_the_default(tmp_path: Path) -> None:
    port = free_port()
    process, _lines = start(tmp_path, port, MAILER_ADMIN_PASSWORD="a demo password 1")
    try:
        address = _public_page_address(f"http://127.0.0.1:{port}", "a demo password 1")
        assert address.startswith(f"http://127.0.0.1:{port}/"), address
    finally:
        assert stop(process) == 0


def test_a_base_url_the_operator_set_is_kept_whatever_the_port(tmp_path: Path) -> None:
    from mailer.cli.serving import base_url_for_port
    from mailer.config import from_mapping, load_config

    (tmp_path / "config.toml").write_text('[app]\nbase_url = "http://localhost:5000"\n')
    written = load_config(tmp_path / "config.toml", environ={})
    assert base_url_for_port(written, 8123).app.base_url == "http://localhost:5000"
    default = from_mapping({}, environ={})
    assert base_url_for_port(default, None).app.base_url == "http://127.0.0.1:5000"
    assert base_url_for_port(default, 8123).app.base_url == "http://127.0.0.1:8123"
