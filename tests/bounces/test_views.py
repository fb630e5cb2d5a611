"""The bounces page: who may see it, what it lists (bounces, complaints, and the
relay's refusals during sending), one bounce in full, the CSV, and input it never
trips over."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.bounces.models import COMPLAINT, SOFT, Bounce
from mailer.database import Database
from tests.bounces.pages_helpers import HOSTILE, bounce_back, refuse, sent_send
from tests.conftest import add_user, login
from tests.delivery.helpers import START

ADDRESSES = ["gone@example.org", "full@example.org", "cross@example.org", "typo@example.org"]


def scalar(db: Database, statement: Any) -> Any:
    with db.transaction() as session:
        found = session.scalar(statement)
        session.expunge_all()
        return found


def signed_in(app: Flask, db: Database, role: str) -> FlaskClient:
    email = f"{role}@example.org"
    add_user(db, email=email, role=role)
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def a_send_with_everything(db: Database, author: User) -> int:
    send_id = sent_send(db, addresses=ADDRESSES, author=author)
    bounce_back(db, send_id=send_id, address=ADDRESSES[0], now=START + timedelta(hours=1))
    bounce_back(
        db,
        send_id=send_id,
        address=ADDRESSES[1],
        now=START + timedelta(hours=2),
        kind=SOFT,
        status="4.2.2",
        diagnostic="smtp; 452 4.2.2 mailbox full",
    )
    bounce_back(
        db,
        send_id=send_id,
        address=ADDRESSES[2],
        now=START + timedelta(hours=3),
        kind=COMPLAINT,
        status="",
        diagnostic="abuse report",
    )
    refuse(db, send_id=send_id, address=ADDRESSES[3], reply="550 5.1.1 <typo@example.org>: no")
    return send_id


def test_an_editor_sees_every_bounce_newest_first_with_the_refusals(
    app: Flask, db: Database
) -> None:
    editor = signed_in(app, db, roles.EDITOR)
    author = scalar(db, select(User).where(User.email == "editor@example.org"))
    assert author is not None
    send_id = a_send_with_everything(db, author)

    page = editor.get("/admin/bounces").get_data(as_text=True)
    assert "4 records, newest first." in page
    # Newest first: the complaint, the soft bounce, the hard bounce; the refusal was
    # made when the send fell due, before any of them.
    positions = [page.index(f">{address}</a>") for address in ADDRESSES[2::-1]]
    assert positions == sorted(positions)
    assert page.index("typo@example.org") > positions[-1]
    assert "Complaint" in page and "Soft bounce" in page and "Hard bounce" in page
    assert "Refused by the relay" in page and "&lt;typo@example.org&gt;: no" in page
    # The plain reason first, the server's words after it, smaller, codes not repeated.
    assert "The address does not exist" in page and "Marked the message as spam" in page
    assert '<span class="small muted">5.1.1: user unknown</span>' in page
    assert "550 5.1.1 &lt;typo" not in page and "smtp; 550" not in page
    assert "Unsubscribed and suppressed: marked the message as spam." in page
    assert "Counted: 1 of 3 soft bounces within 30 days." in page
    assert f'href="/admin/sends/{send_id}"' in page
    assert 'href="/admin/contacts/' in page
    assert "Bounces</a>" in page  # in the admin navigation

    def shown(**args: str) -> list[str]:
        html = editor.get("/admin/bounces", query_string=args).get_data(as_text=True)
        return [a for a in ADDRESSES if a in html]

    assert shown(kind="soft") == [ADDRESSES[1]]
    assert shown(kind="complaint") == [ADDRESSES[2]]
    assert shown(kind="hard") == [ADDRESSES[0], ADDRESSES[3]]
    assert shown(kind="refused") == [ADDRESSES[3]]
    assert shown(send=str(send_id)) == ADDRESSES
    assert shown(send=str(send_id + 1)) == []

    bounce = scalar(db, select(Bounce).where(Bounce.address == ADDRESSES[0]))
    assert bounce is not None
    detail = editor.get(f"/admin/bounces/{bounce.id}").get_data(as_text=True)
    assert "The address does not exist" in detail and "(status 5.1.1)" in detail
    assert ">user unknown</pre>" in detail and "The message it came from" in detail
    assert "MAILER-DAEMON@relay.example" in detail


def test_paged_and_filtered_pages_link_to_each_other(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    addresses = [f"p{n}@example.org" for n in range(55)]
    send_id = sent_send(db, addresses=addresses, author=admin_user)
    for number, address in enumerate(addresses):
        bounce_back(db, send_id=send_id, address=address, now=START + timedelta(minutes=number))
    first = admin_client.get(f"/admin/bounces?kind=hard&send={send_id}").get_data(as_text=True)
    assert "55 records" in first and "Page 1 of 2" in first
    assert f"/admin/bounces?page=2&amp;kind=hard&amp;send={send_id}" in first
    assert "p54@example.org" in first and "p0@example.org</a>" not in first
    second = admin_client.get(f"/admin/bounces?page=2&kind=hard&send={send_id}").get_data(
        as_text=True
    )
    assert "p0@example.org" in second and "p54@example.org" not in second


def test_who_may_see_it(app: Flask, db: Database, client: FlaskClient) -> None:
    for path in ("/admin/bounces", "/admin/bounces.csv", "/admin/bounces/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    approver = signed_in(app, db, roles.APPROVER)
    assert approver.get("/admin/bounces.csv").status_code == 403
    for path in ("/admin/bounces", "/admin/bounces/1"):
        refused = approver.get(path)
        assert refused.status_code == 403
        assert "Only editors and admins may see bounces and complaints." in refused.get_data(
            as_text=True
        )
    assert ">Bounces</a>" not in approver.get("/admin/").get_data(as_text=True)
    editor = signed_in(app, db, roles.EDITOR)
    page = editor.get("/admin/bounces")
    assert page.status_code == 200
    # A file of stakeholders' addresses leaves only with an admin, as a contacts export.
    assert "as CSV" not in page.get_data(as_text=True)
    assert editor.get("/admin/bounces.csv").status_code == 403
    admin = signed_in(app, db, roles.ADMIN)
    assert "as CSV" in admin.get("/admin/bounces").get_data(as_text=True)
    assert admin.get("/admin/bounces.csv").status_code == 200


def test_a_hostile_bounce_is_shown_inert_and_neutralised_in_the_csv(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, addresses=["victim@example.org"], author=admin_user)
    raw = (
        b"From: <script>alert('from')</script>\r\nSubject: =HYPERLINK(\"x\")\r\n"
        b"Content-Type: text/html\r\n\r\n<html><body><script>alert(1)</script>"
        b'<img src=x onerror=alert(2)>=HYPERLINK("http://evil.example/")</body></html>\r\n'
    )
    bounce_back(
        db,
        send_id=send_id,
        address="victim@example.org",
        now=START + timedelta(hours=1),
        diagnostic=HOSTILE,
        raw=raw,
    )
    page = admin_client.get("/admin/bounces").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    bounce = scalar(db, select(Bounce).where(Bounce.address == "victim@example.org"))
    assert bounce is not None
    detail = admin_client.get(f"/admin/bounces/{bounce.id}").get_data(as_text=True)
    assert "<script>" not in detail and "<img src=x" not in detail
    assert "&lt;img src=x onerror=alert(2)&gt;=HYPERLINK(&#34;http://evil.example/&#34;)" in detail
    assert '<pre class="source small muted"' in detail

    response = admin_client.get("/admin/bounces.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "when_utc",
        "address",
        "kind",
        "status",
        "reason",
        "diagnostic",
        "send_id",
        "send",
        "source",
        "outcome",
    ]
    (row,) = rows[1:]
    assert row[1] == "victim@example.org" and row[2] == "Hard bounce" and row[3] == "5.1.1"
    # The plain reason, then the server's words as they came (neutralised).
    assert row[4] == "The address does not exist"
    assert row[5].startswith("'=HYPERLINK(")
    assert row[6] == str(send_id) and row[8] == "Bounce mailbox"
    assert row[0] == "2027-07-20T10:00:00Z"
    # The download names stakeholders: it is on the record.
    entry = scalar(db, select(AuditEntry).where(AuditEntry.action == "bounces.exported"))
    assert entry is not None and entry.actor_label == admin_user.email


def test_the_csv_keeps_the_filters(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    a_send_with_everything(db, admin_user)
    rows = list(
        csv.reader(
            io.StringIO(admin_client.get("/admin/bounces.csv?kind=refused").get_data(as_text=True))
        )
    )
    assert [row[1] for row in rows[1:]] == ["typo@example.org"]
    assert rows[1][8] == "Refused by the relay"
    assert rows[1][4] == "The address does not exist"
    assert rows[1][5].startswith("550 5.1.1 <typo@example.org>")
    page = admin_client.get("/admin/bounces?kind=soft").get_data(as_text=True)
    assert 'href="/admin/bounces.csv?kind=soft"' in page


def test_absurd_addresses_never_break_it(admin_client: FlaskClient, db: Database) -> None:
    for query in (
        "kind=xyz",
        "kind=",
        "send=abc",
        "send=0",
        "send=-4",
        "send=99999999999999999999999",
        "page=99999999999999999999",
        "kind=%00&send=%ff",
        "kind=hard&kind=soft",
    ):
        response = admin_client.get(f"/admin/bounces?{query}")
        assert response.status_code in (200, 400), query
        assert admin_client.get(f"/admin/bounces.csv?{query}").status_code in (200, 400), query
    assert admin_client.get("/admin/bounces?page=-1").status_code == 400
    assert admin_client.get("/admin/bounces?page=abc").status_code == 400
    assert admin_client.get("/admin/bounces?kind=xyz").status_code == 200
    assert admin_client.get("/admin/bounces?send=abc").status_code == 200
    assert admin_client.get("/admin/bounces/999999").status_code == 404
    assert admin_client.get("/admin/bounces/99999999999999999999999").status_code == 404


def test_a_bounce_processed_from_a_file_says_so_in_words(
    admin_client: FlaskClient, db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, addresses=["gone@example.org"], author=admin_user)
    bounce_back(
        db,
        send_id=send_id,
        address="gone@example.org",
        now=START + timedelta(hours=1),
        status="5.2.2",
        diagnostic="5.2.2 552 5.2.2 Mailbox full",
        source="file",
    )
    page = admin_client.get("/admin/bounces").get_data(as_text=True)
    assert '<td data-label="Source">Processed from a saved message</td>' in page
    assert "The mailbox is full" in page
    assert '<span class="small muted">5.2.2: Mailbox full</span>' in page
    bounce = scalar(db, select(Bounce).where(Bounce.address == "gone@example.org"))
    assert bounce is not None
    detail = admin_client.get(f"/admin/bounces/{bounce.id}").get_data(as_text=True)
    assert "<dd>Processed from a saved message</dd>" in detail
    assert "The mailbox is full" in detail and ">Mailbox full</pre>" in detail
