"""The evidence report for the Police and Crime Panel: a message that bounced after it
was handed over is "bounced", never counted as reaching the person; and the per-send
counts of ``mailer consultation show --json`` gain "bounced"."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from mailer.accounts import roles
from mailer.bounces.models import HARD
from mailer.database import Database, utcnow
from mailer.delivery import sends
from mailer.delivery.models import SENT, Delivery, Send
from scheduler import evidence, statutory
from scheduler.consultations import read_models
from scheduler.models import Consultation
from tests.bounces.pages_helpers import bounce_back
from tests.scheduler.audience import make_list
from tests.scheduler.test_consultation_views import approve_as, as_user, create, post


def test_a_bounced_launch_is_not_evidence_of_consultation(app: Flask, db: Database) -> None:
    editor = as_user(app, db, "editor@example.org", roles.EDITOR)
    approver = as_user(app, db, "approver@example.org", roles.APPROVER)
    partners = make_list(
        db,
        [
            ("cc@example.org", statutory.CHIEF_CONSTABLE),
            ("panel@example.org", statutory.PANEL),
        ],
    )
    cid = create(editor, partners)
    page = f"/admin/consultations/{cid}"
    post(editor, f"{page}/submit", page)
    approve_as(approver, page)
    now = utcnow()
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        assert launch is not None
        sends.make_due(session, launch, now=now, domain="example.org")
        launch_id = launch.id
        session.execute(
            update(Delivery)
            .where(Delivery.send_id == launch_id)
            .values(state=SENT, sent_at=now, attempts=1)
        )
    later = now + timedelta(hours=2)
    bounce_back(
        db,
        send_id=launch_id,
        address="panel@example.org",
        now=later,
        kind=HARD,
        diagnostic="smtp; 550 5.1.1 mailbox unavailable",
    )

    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation is not None
        found = evidence.report(session, consultation)
        outcomes = {
            person.email: person.outcomes[launch_id]
            for group in found.audiences
            for person in group.people
        }
        assert outcomes["cc@example.org"].label == "sent" and outcomes["cc@example.org"].good
        bounced = outcomes["panel@example.org"]
        assert bounced.label == "bounced" and not bounced.good
        assert bounced.at == later and "5.1.1" in bounced.detail
        panel = next(
            g
            for g in found.audiences
            if g.coverage.requirement.audience == "Police and Crime Panel"
        )
        assert panel.reached(launch_id) == 0
        assert (found.totals[launch_id].sent, found.totals[launch_id].bounced) == (1, 1)

        counts = read_models.to_json(session, consultation, now=later)["sends"][0]["counts"]
        assert counts == {"queued": 0, "sent": 1, "failed": 0, "skipped": 0, "bounced": 1}

    html = editor.get(f"{page}/evidence").get_data(as_text=True)
    # The plain reason first, then the server's words, smaller, without the codes.
    assert "bounced<br>" in html and "</span><br>The address does not exist<br>" in html
    assert '<span class="small muted">mailbox unavailable</span>' in html
    assert "smtp; 550" not in html
    assert "0 of 1 sent (bounced ones not counted)" in html
    rows = list(csv.reader(io.StringIO(editor.get(f"{page}/evidence.csv").get_data(as_text=True))))
    (panel_row,) = [row for row in rows if row[3] == "panel@example.org" and row[4] == "Launch"]
    assert panel_row[6] == "bounced" and panel_row[7] and "5.1.1" in panel_row[8]
