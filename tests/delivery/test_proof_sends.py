"""Test sends: the real message, marked [TEST], arriving at a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from contacts.models import Contact
from mailer.app import create_app
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.bulletins.models import Bulletin
from mailer.database import Database
from mailer.delivery import pool
from mailer.email_templates.models import EmailTemplate, TemplateVersion
from tests.bulletins.test_views import create_bulletin
from tests.conftest import add_user, csrf_from, login, make_config
from tests.smtp_server import FaultySmtp, smtp_server

# A time as the page shows it: "<time datetime=...>Tuesday 1 December 2026, 3:20pm</time>".
WHEN = r"<time datetime=\"[^\"]+\">[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}, [^<]+</time>"


@pytest.fixture
def server() -> Iterator[FaultySmtp]:
    with smtp_server() as handler:
        yield handler


@pytest.fixture
def editor(tmp_path: Path, db: Database, server: FaultySmtp) -> Iterator[FlaskClient]:
    config = make_config(
        tmp_path,
        db.url,
        mail={"transport": "smtp", "from_address": "Northshire PCC <news@pcc.example.org>"},
        smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": "5s"},
    )
    app = create_app(config)
    add_user(db, email="ed@example.org", role="editor", name="Ed Editor")
    client = app.test_client()
    login(client, "ed@example.org")
    yield client
    app.extensions["mailer.db"].dispose()


def send(client: FlaskClient, bulletin_id: int, addresses: str, *, deliver: bool = True) -> str:
    """Ask for a test; then (``deliver``) let a delivery worker drain the queue, and
    return both what the request answered and the bulletin's page after."""
    token = csrf_from(client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True))
    response = client.post(
        f"/admin/bulletins/{bulletin_id}/test",
        data={"csrf_token": token, "addresses": addresses},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    if not deliver:
        return page
    app = client.application
    pool.run_once(app.extensions["mailer.db"], app.config["MAILER"])
    return page + client.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_a_test_arrives_marked_and_personalised_for_a_known_contact(
    editor: FlaskClient, server: FaultySmtp, db: Database
) -> None:
    with db.transaction() as session:
        session.add(
            Contact(
                email="sam@example.org",
                email_key="sam@example.org",
                name="Sam Ñúñez",
                organisation="Northshire Council",
            )
        )
    # A general bulletin: a launch about no consultation has no facts to test yet.
    bulletin_id = create_bulletin(editor, kind="bulletin")
    page = send(editor, bulletin_id, "SAM@example.org, other@example.org")
    assert re.search(r"Test sent to SAM@example.org on " + WHEN + r": 250", page)
    assert re.search(r"Test sent to other@example.org on " + WHEN + r": 250", page)
    assert [r.recipients for r in server.received] == [["SAM@example.org"], ["other@example.org"]]

    raw = server.received[0].data
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only, checked by hand
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["Subject"].startswith("[TEST] Stakeholder Special")
    assert message["From"].addresses[0].addr_spec == "news@pcc.example.org"
    assert message["To"].addresses[0].addr_spec == "SAM@example.org"
    assert message["List-Unsubscribe"] == "<http://127.0.0.1:5000/u/test>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@pcc.example.org>")
    assert "Dear Sam Ñúñez," in message.get_body(("plain",)).get_content()
    other = BytesParser(policy=policy.default).parsebytes(server.received[1].data)
    assert "Dear colleague," in other.get_body(("plain",)).get_content()
    assert other["Message-ID"] != message["Message-ID"]

    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == actions.BULLETIN_TEST_SENT)
        ).one()
        assert "SAM@example.org, other@example.org" in entry.summary


@pytest.mark.slow  # over a second: the fast loop leaves it to `make test`
def test_bad_addresses_or_too_many_send_nothing(
    editor: FlaskClient, server: FaultySmtp, db: Database
) -> None:
    bulletin_id = create_bulletin(editor)
    page = send(editor, bulletin_id, "good@example.org, not-an-address")
    assert "Nothing was sent. Check these addresses: not-an-address" in page
    many = ", ".join(f"p{n}@example.org" for n in range(11))
    assert "at most 10 addresses; you gave 11" in send(editor, bulletin_id, many)
    assert "Give at least one address" in send(editor, bulletin_id, "  ")
    assert server.received == []


def test_one_refused_address_does_not_stop_the_others(
    editor: FlaskClient, server: FaultySmtp, db: Database
) -> None:
    server.refuse["gone@example.org"] = "550 5.1.1 user unknown"
    bulletin_id = create_bulletin(editor)
    page = send(editor, bulletin_id, "gone@example.org\nhere@example.org")
    assert (
        "Test not sent to gone@example.org: permanent failure at RCPT: 550 5.1.1 user unknown"
        in page
    )
    assert "Test sent to here@example.org" in page
    assert [r.recipients for r in server.received] == [["here@example.org"]]


def test_a_broken_template_stops_the_test_with_its_line(
    editor: FlaskClient, server: FaultySmtp, db: Database
) -> None:
    bulletin_id = create_bulletin(editor)
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        template = session.get(EmailTemplate, bulletin.template_id)
        latest = template.versions[-1]
        template.versions.append(
            TemplateVersion(
                number=latest.number + 1,
                subject=latest.subject,
                preheader=latest.preheader,
                html=latest.html,
                text=latest.text,
                problem="HTML body, line 3: unknown value 'nope'",
            )
        )
    page = send(editor, bulletin_id, "me@example.org")
    assert "cannot be used until its problem is fixed: HTML body, line 3: unknown value" in page
    assert server.received == []


def test_the_outbox_transport_keeps_the_test_as_a_file(tmp_path: Path, db: Database) -> None:
    app = create_app(make_config(tmp_path, db.url))
    add_user(db, email="ed@example.org", role="editor")
    client = app.test_client()
    login(client, "ed@example.org")
    bulletin_id = create_bulletin(client)
    page = send(client, bulletin_id, "me@example.org")
    assert "written to the outbox as" in page
    files = list((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert len(files) == 1
    assert b"Subject: [TEST] " in files[0].read_bytes()
    app.extensions["mailer.db"].dispose()


def test_the_links_in_a_test_lead_to_a_page_that_changes_nothing(client: FlaskClient) -> None:
    for response in (
        client.get("/u/test"),
        client.post("/u/test", data={"List-Unsubscribe": "One-Click"}),
        client.get("/p/test"),
    ):
        assert response.status_code == 200
        assert "This link came from a test message" in response.get_data(as_text=True)


def test_a_relay_that_cannot_be_reached_fails_every_address_at_once(
    tmp_path: Path, db: Database
) -> None:
    from tests.cli_helpers import free_port

    config = make_config(
        tmp_path,
        db.url,
        mail={"transport": "smtp"},
        smtp={"host": "127.0.0.1", "port": free_port(), "security": "none", "timeout": "5s"},
    )
    app = create_app(config)
    add_user(db, email="ed@example.org", role="editor")
    client = app.test_client()
    login(client, "ed@example.org")
    bulletin_id = create_bulletin(client)
    page = send(client, bulletin_id, "a@example.org, b@example.org, c@example.org")
    # Temporary: kept for the workers to try again, and the page says why it waits.
    for address in ("a@example.org", "b@example.org", "c@example.org"):
        assert re.search(
            rf"Test to {address} queued again \(queued on {WHEN}\): "
            "temporary failure at CONNECT: cannot reach",
            page,
        )
    app.extensions["mailer.db"].dispose()


@pytest.mark.slow
def test_a_test_is_queued_at_once_and_a_worker_sends_it(
    editor: FlaskClient, server: FaultySmtp, db: Database
) -> None:
    server.delay = 1.0  # a slow relay must not keep the editor (or the database) waiting
    bulletin_id = create_bulletin(editor)
    page = send(editor, bulletin_id, "me@example.org", deliver=False)
    assert server.connections == 0  # the page never opened a connection to the relay
    assert "Test queued for me@example.org" in page
    assert re.search(
        r"Test to me@example.org queued on " + WHEN + r", waiting for a delivery", page
    )
    assert server.received == []
    app = editor.application
    assert pool.run_once(app.extensions["mailer.db"], app.config["MAILER"]) == 1
    assert [r.recipients for r in server.received] == [["me@example.org"]]
    page = editor.get(f"/admin/bulletins/{bulletin_id}").get_data(as_text=True)
    assert re.search(r"Test sent to me@example.org on " + WHEN + r": 250", page)
