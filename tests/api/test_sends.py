"""/api/v1/sends: a consultation's launch read back with its counts, as the admin's
send page counts them, and its failures with the reason in words."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from mailer.database import Database
from mailer.delivery import sends
from mailer.delivery.models import FAILED, Delivery, Send
from tests.api.helpers import bearer, make_key
from tests.tracking.helpers import launched


def _fail_one(db: Database, send_id: int) -> str:
    with db.transaction() as session:
        row = session.scalars(
            select(Delivery).where(Delivery.send_id == send_id).order_by(Delivery.id)
        ).first()
        row.state = FAILED
        row.last_reply = "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown"
        return row.address


def test_a_sends_counts_are_the_admins(app: Flask, db: Database):
    cid, _messages = launched(app, db)
    with db.transaction() as session:
        launch = session.scalars(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        ).one()
        send_id = launch.id
    failed = _fail_one(db, send_id)
    client = app.test_client()
    key = make_key(db, "sends:read")
    answer = client.get(f"/api/v1/sends/{send_id}", headers=bearer(key))
    assert answer.status_code == 200
    data = answer.get_json()
    with db.transaction() as session:
        progress = sends.progress(session, send_id)
    assert data["kind"] == "launch" and data["consultation_id"] == cid
    assert data["counts"] == {
        "queued": progress.queued + progress.sending,
        "sent": progress.sent,
        "failed": 1,
        "skipped": progress.skipped,
        "bounced": progress.bounced,
        "complaints": 0,
    }
    assert data["counts"]["sent"] == 9 and data["fired_at"]
    failures = client.get(f"/api/v1/sends/{send_id}/failures", headers=bearer(key)).get_json()
    assert [(f["address"], f["reason"]) for f in failures["items"]] == [
        (failed, "The address does not exist")
    ]
    assert "User unknown" in failures["items"][0]["reply"]


def test_list_filters_and_pages(app: Flask, db: Database):
    cid, _messages = launched(app, db)
    client = app.test_client()
    key = make_key(db, "sends:read")
    everything = client.get(
        f"/api/v1/sends?consultation_id={cid}&limit=200", headers=bearer(key)
    ).get_json()["items"]
    assert len(everything) >= 2  # launch, reminders, close notice
    first = client.get(f"/api/v1/sends?consultation_id={cid}&limit=1", headers=bearer(key))
    assert first.headers["Link"].endswith('rel="next"')
    cursor = first.get_json()["next_cursor"]
    second = client.get(
        f"/api/v1/sends?consultation_id={cid}&limit=1&cursor={cursor}", headers=bearer(key)
    ).get_json()["items"]
    assert [s["id"] for s in second] == [everything[1]["id"]]
    sending = client.get("/api/v1/sends?state=sending", headers=bearer(key)).get_json()["items"]
    assert all(s["state"] == "sending" for s in sending)
    assert client.get("/api/v1/sends?state=nonsense", headers=bearer(key)).status_code == 422
    forged = client.get("/api/v1/sends?cursor=forged", headers=bearer(key))
    assert forged.status_code == 400


def test_scopes(app: Flask, db: Database):
    client = app.test_client()
    assert client.get("/api/v1/sends").status_code == 401
    wrong = make_key(db, "bulletins:read")
    assert client.get("/api/v1/sends", headers=bearer(wrong)).status_code == 403
    right = make_key(db, "sends:read")
    assert client.get("/api/v1/sends/99999", headers=bearer(right)).status_code == 404
