"""The review conversation end to end, with the delivery workers and a real SMTP
server: submitted (the approver's email arrives), sent back with a comment (the
writer's email arrives with it), changed and submitted again (the approver's email
again), approved after the change (the writer's email says so). Both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailer.accounts import roles
from mailer.app import create_app
from mailer.database import Database
from mailer.delivery import pool
from tests.conftest import add_user, login, make_config
from tests.scheduler.audience import make_list
from tests.scheduler.reviews.helpers import Notice, parse, read
from tests.scheduler.test_approval_views import edit_message, launch_bulletin
from tests.scheduler.test_consultation_views import approve_as, create, post
from tests.smtp_server import FaultySmtp, smtp_server


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


@pytest.fixture
def smtp_app(tmp_path: Path, db: Database, server: FaultySmtp) -> Iterator[Flask]:
    config = make_config(
        tmp_path,
        db.url,
        mail={"transport": "smtp", "from_address": "Northshire PCC <news@pcc.example.org>"},
        smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": "5s"},
    )
    app = create_app(config)
    yield app
    app.extensions["mailer.db"].dispose()


def signed_in(app: Flask, db: Database, email: str, role: str) -> FlaskClient:
    add_user(db, email=email, role=role)
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def arrived(app: Flask, server: FaultySmtp) -> list[tuple[str, Notice]]:
    """Let a delivery worker drain the queue; what reached the server since last."""
    pool.run_once(app.extensions["mailer.db"], app.config["MAILER"])
    got = [(r.recipients[0], read(parse(r.data))) for r in server.received]
    server.received.clear()
    return got


@pytest.mark.slow  # a real SMTP server and the delivery workers
def test_a_consultation_goes_back_and_forth_by_email(
    smtp_app: Flask, db: Database, server: FaultySmtp
) -> None:
    editor = signed_in(smtp_app, db, "editor@example.org", roles.EDITOR)
    approver = signed_in(smtp_app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(db, [("a@example.org", None)])
    cid = create(editor, partners, type="general")
    page = f"/admin/consultations/{cid}"

    post(editor, f"{page}/submit", page)
    ((to, awaits),) = arrived(smtp_app, server)
    assert to == "approver@example.org"
    assert awaits.subject.startswith("Awaiting your approval")
    assert page in awaits.text and "/notices/off/" in awaits.stop_url

    post(approver, f"{page}/send-back", page, comment="Name the closing date, please.")
    ((to, back),) = arrived(smtp_app, server)
    assert to == "editor@example.org" and back.subject.startswith("Sent back")
    assert "Name the closing date, please." in back.text

    edit_message(editor, launch_bulletin(db, cid), "It closes on 30 April. Tell us what you think.")
    post(editor, f"{page}/submit", page)
    ((to, again),) = arrived(smtp_app, server)
    assert to == "approver@example.org" and again.subject.startswith("Awaiting your approval")

    shown = approver.get(page).get_data(as_text=True)
    assert "First approval: nothing to compare." in shown
    assert "Approved." in approve_as(approver, page).get_data(as_text=True)
    ((to, done),) = arrived(smtp_app, server)
    assert to == "editor@example.org" and done.subject.startswith("Approved")
    assert "approver@example.org approved the consultation" in done.text
