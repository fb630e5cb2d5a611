"""The relay the public forms' tests talk to: a real SMTP server on a free loopback
port, and the app configured to send through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from mailer.app import create_app
from mailer.database import Database
from tests.conftest import make_config
from tests.smtp_server import FaultySmtp, smtp_server


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


def relay_app(tmp_path: Path, db: Database, server: FaultySmtp, *, timeout: str) -> Flask:
    app = create_app(
        make_config(
            tmp_path,
            db.url,
            mail={"transport": "smtp", "from_address": "Northshire PCC <news@pcc.example.org>"},
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": timeout},
        )
    )
    app.config["TESTING"] = True
    return app


@pytest.fixture
def smtp_app(tmp_path: Path, db: Database, server: FaultySmtp) -> Iterator[Flask]:
    app = relay_app(tmp_path, db, server, timeout="5s")
    yield app
    app.extensions["mailer.db"].dispose()
