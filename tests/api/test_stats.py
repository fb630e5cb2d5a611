"""/api/v1 statistics agree with the admin's reports: the cascade (with survey
responses) and a send's clicks per link."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from mailer.database import Database
from mailer.delivery.models import Send
from mailer.tracking import completions, reports, send_reports
from scheduler.models import Consultation
from tests.api.helpers import bearer, make_key
from tests.tracking.helpers import launched
from tests.tracking.test_cascade import arrive, survey_button, visitor


def test_cascade_and_clicks_are_the_admins_numbers(app: Flask, db: Database, admin_client):
    cid, messages = launched(app, db)
    with db.transaction() as session:
        code = completions.ensure_code(session.get(Consultation, cid))
    first, second = list(messages.values())[:2]
    for n, message in enumerate((first, first, second)):
        person = visitor(app, 20 + n)
        page = arrive(person, message.share)
        survey = person.get(survey_button(page)).headers["Location"]
        share = survey.rsplit("share=", 1)[1]
        person.get(f"/c/{code}?share={share}")
    visitor(app, 30).get(first.survey)  # straight from the message
    visitor(app, 31).get(f"/c/{code}")  # a response the tool could not attribute

    client = app.test_client()
    key = make_key(db, "stats:read")
    data = client.get(f"/api/v1/consultations/{cid}/cascade", headers=bearer(key)).get_json()
    with db.transaction() as session:
        report = reports.build(session, session.get(Consultation, cid))
        launch = session.scalars(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        ).one()
        send_report = send_reports.send_report(session, launch)
        launch_id = launch.id
    totals = data["totals"]
    assert totals["survey_responses"] == report.survey_responses == 4
    assert totals["survey_responses_cascade"] == report.survey_responses_cascade == 3
    assert totals["share_link_visits"] == report.share_visits == 3
    assert totals["survey_clicks_cascade"] == report.survey_clicks_cascade == 3
    assert totals["survey_clicks_direct"] == report.survey_clicks_direct == 1
    assert sorted(s["survey_responses"] for s in data["sharers"]) == [1, 2]
    # The admin's page shows the same.
    html = admin_client.get(f"/admin/cascade/{cid}").get_data(as_text=True)
    assert '<th scope="row">Survey responses</th><td data-measure="5">4</td>' in html

    clicks = client.get(f"/api/v1/sends/{launch_id}/clicks", headers=bearer(key)).get_json()
    assert clicks["total"] == send_report.counts.clicks
    assert {link["address"]: link["clicks"] for link in clicks["links"]} == {
        link.target: link.clicks for link in send_report.links
    }


def test_scopes(app: Flask, db: Database):
    client = app.test_client()
    wrong = make_key(db, "sends:read")
    assert client.get("/api/v1/consultations/1/cascade", headers=bearer(wrong)).status_code == 403
    assert client.get("/api/v1/sends/1/clicks", headers=bearer(wrong)).status_code == 403
    right = make_key(db, "stats:read")
    assert (
        client.get("/api/v1/consultations/9999/cascade", headers=bearer(right)).status_code == 404
    )
