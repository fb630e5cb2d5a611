"""Survey completions: /c/<code> counts a finished response (per share when the survey
tool passes the share code back), thanks the person and never redirects; the survey
link followed through a share carries that share code; the cascade report and its
CSV show the responses."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from sqlalchemy import func, select

from mailer.database import Database
from mailer.delivery.models import ShareCode
from mailer.tracking import completions, reports
from mailer.tracking.models import SurveyCompletion
from scheduler.models import Consultation
from tests.tracking.helpers import launched
from tests.tracking.test_cascade import arrive, survey_button, visitor


def _code(db: Database, cid: int) -> str:
    with db.transaction() as session:
        return completions.ensure_code(session.get(Consultation, cid))


def _share_code(share_path: str) -> str:
    return share_path.rsplit("/", 1)[1]


def _counted(db: Database, cid: int) -> tuple[int, int]:
    with db.transaction() as session:
        return completions.counts(session, cid)


def test_the_survey_link_through_a_share_carries_the_share_code(app: Flask, db: Database):
    _cid, messages = launched(app, db)
    message = next(iter(messages.values()))
    person = visitor(app, 7)
    page = arrive(person, message.share)
    answer = person.get(survey_button(page))
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert target.netloc == "survey.example.org" and target.path == "/plan"
    assert parse_qs(target.query) == {"share": [_share_code(message.share)]}
    # Straight from the message (no share brought them): nothing added.
    direct = visitor(app, 8).get(message.survey)
    assert direct.headers["Location"] == "https://survey.example.org/plan"


def test_a_completion_through_a_share_counts_for_it_in_the_report(
    app: Flask, db: Database, admin_client
):
    cid, messages = launched(app, db)
    code = _code(db, cid)
    sharer = _share_code(next(iter(messages.values())).share)
    answer = visitor(app, 1).get(f"/c/{code}?share={sharer}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Thank you for your response" in page and "Location" not in answer.headers
    assert "/consultations/" in page  # invites them to pass it on
    visitor(app, 2).get(f"/c/{code}")  # a tool that cannot pass the share back
    assert _counted(db, cid) == (2, 1)
    with db.transaction() as session:
        report = reports.build(session, session.get(Consultation, cid))
    assert (report.survey_responses, report.survey_responses_cascade) == (2, 1)
    assert [s.survey_responses for s in report.sharers] == [1]
    html = admin_client.get(f"/admin/cascade/{cid}").get_data(as_text=True)
    shown = dict(re.findall(r'<th scope="row">([^<]+)</th><td data-measure="\d+">(\d+)</td>', html))
    assert shown["Survey responses"] == "2"
    assert shown["Survey responses through share links"] == "1"
    rows = list(
        csv.reader(
            io.StringIO(admin_client.get(f"/admin/cascade/{cid}/sharers.csv").get_data(True))
        )
    )
    assert rows[0][6] == "survey_responses" and rows[1][6] == "1"


def test_a_forged_code_is_not_found(app: Flask, db: Database):
    cid, _messages = launched(app, db)
    code = _code(db, cid)
    client = visitor(app, 3)
    for path in (
        "/c/not-a-code",
        f"/c/{code[:-1]}{'A' if code[-1] != 'A' else 'B'}",
        "/c/" + "x" * 40,
    ):
        assert client.get(path).status_code == 404
    assert _counted(db, cid) == (0, 0)


def test_a_share_code_of_another_consultation_counts_only_in_the_total(app: Flask, db: Database):
    cid, _messages = launched(app, db)
    code = _code(db, cid)
    with db.transaction() as session:
        other = Consultation(
            title="Another",
            slug="another",
            opens_at=session.get(Consultation, cid).opens_at,
            closes_at=session.get(Consultation, cid).closes_at,
            survey_url="https://survey.example.org/other",
        )
        session.add(other)
        session.flush()
        foreign = ShareCode(code="foreign-code-1", consultation_id=other.id, contact_id=None)
        session.add(foreign)
    assert visitor(app, 4).get(f"/c/{code}?share=foreign-code-1").status_code == 200
    assert _counted(db, cid) == (1, 0)


def test_scanners_and_repeats_are_not_counted_and_a_flood_is_limited(app: Flask, db: Database):
    cid, _messages = launched(app, db)
    code = _code(db, cid)
    scanner = app.test_client()
    scanner.environ_base.update({"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "curl/8.0"})
    assert scanner.get(f"/c/{code}").status_code == 200
    person = visitor(app, 5)
    assert person.head(f"/c/{code}").status_code == 200
    for _ in range(3):  # the same person reloading: once
        person.get(f"/c/{code}")
    assert _counted(db, cid) == (1, 0)
    # One network hammering the address (a different browser each time): limited.
    for n in range(60):
        client = app.test_client()
        client.environ_base.update(
            {"REMOTE_ADDR": "192.0.2.10", "HTTP_USER_AGENT": f"Mozilla/5.0 Firefox/{n}"}
        )
        assert client.get(f"/c/{code}").status_code == 200
    with db.transaction() as session:
        total = session.scalar(
            select(func.count(SurveyCompletion.id)).where(SurveyCompletion.consultation_id == cid)
        )
    assert total == 1 + 30


def test_the_admin_page_shows_the_completion_address(app: Flask, db: Database, admin_client):
    cid, _messages = launched(app, db)
    page = admin_client.get(f"/admin/consultations/{cid}").get_data(as_text=True)
    found = re.search(r'<code id="completion-address">([^<]+)</code>', page)
    assert found, "no completion address"
    code = _code(db, cid)
    assert found.group(1) == f"http://127.0.0.1:5000/c/{code}?share={{share}}"
    again = admin_client.get(f"/admin/consultations/{cid}").get_data(as_text=True)
    assert found.group(0) in again  # made once, the same every time
    for tool in ("SmartSurvey", "Citizen Space", "Microsoft Forms"):
        assert tool in page


def test_retention_deletes_old_completions(app: Flask, db: Database):
    from datetime import timedelta

    from mailer.database import utcnow
    from mailer.tracking import privacy

    cid, _messages = launched(app, db)
    with db.transaction() as session:
        completions.record(session, cid, share=None, now=utcnow() - timedelta(days=800))
        completions.record(session, cid, share=None, now=utcnow())
    with db.transaction() as session:
        privacy.purge(session, now=utcnow(), keep=timedelta(days=730))
    assert _counted(db, cid) == (1, 0)
