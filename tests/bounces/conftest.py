"""Fixtures for the bounces tests: a real Dovecot IMAP server (tests/bounces/dovecot.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.bounces.dovecot import Dovecot, available, dovecot


def _require_dovecot() -> None:
    if available():
        return
    message = "Dovecot is not installed (Debian package dovecot-imapd)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must install it (.ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def _dovecot_server() -> Iterator[Dovecot]:
    _require_dovecot()
    with dovecot() as server:
        yield server


@pytest.fixture
def imap_server(_dovecot_server: Dovecot) -> Dovecot:
    """The running Dovecot with an empty mailbox."""
    _dovecot_server.empty()
    return _dovecot_server
