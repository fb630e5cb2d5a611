"""A consultation's way through its states, as the services see it: approval and the
two-person rule, the statutory checks, cancel, open early, the phase.

Both database backends; a fixed "now" so the plans are exact."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import (
    SEND_CANCELLED,
    SEND_SCHEDULED,
    SEND_SENDING,
)
from scheduler import statutory
from scheduler.consultations import lifecycle, planning
from scheduler.consultations.details import (
    ConsultationRefused,
)
from scheduler.models import (
    AWAITING_APPROVAL,
    CANCELLED,
    CLOSED,
    OPEN,
    SCHEDULED,
    TYPE_PLAN_DRAFT,
    Consultation,
)
from tests.scheduler.audience import make_list
from tests.scheduler.helpers import local, shown
from tests.scheduler.plans import BASE, NOW, approve, create, details, plan_of, submit


def test_approval_needs_someone_other_than_the_author_who_may_approve(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["admin"], details(partners))
    with pytest.raises(ConsultationRefused, match="Submit the consultation"):
        approve(db, cid, people["approver"])
    submit(db, cid, people["admin"])
    with pytest.raises(ConsultationRefused, match="wrote this consultation"):
        approve(db, cid, people["admin"])
    with pytest.raises(ConsultationRefused, match="only an approver or an admin"):
        approve(db, cid, people["editor"])
    approve(db, cid, people["approver"])
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation.state == SCHEDULED
        assert consultation.approved_by_id == people["approver"].id
        for send in planning.timeline(session, consultation):
            assert send.state == SEND_SCHEDULED
            # The chosen list, and the consultation's own list of sign-ups.
            assert send.audience == {
                "lists": [partners, consultation.signup_list_id],
                "organisation_types": [],
            }
            about = send.frozen["extra"]["consultation"]
            assert about["page_url"] == f"{BASE}/consultations/{consultation.slug}"
            assert about["survey_url"] == "https://survey.example.org/plan"
        steps = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "consultation")
        ).all()
    assert steps == ["consultation.created", "consultation.submitted", "consultation.approved"]


def test_a_one_person_office_may_approve_its_own_consultation(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["admin"], details(partners))
    submit(db, cid, people["admin"])
    approve(db, cid, people["admin"], two_person=False)
    with db.transaction() as session:
        assert session.get(Consultation, cid).state == SCHEDULED


def test_approval_is_refused_when_nobody_would_receive_it(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    empty = make_list(db, [])
    cid, _ = create(db, office_config, people["editor"], details(empty))
    assert submit(db, cid, people["editor"])[0].startswith("Nobody would receive it")
    with pytest.raises(ConsultationRefused, match="Nobody would receive it"):
        approve(db, cid, people["approver"])


def test_a_plan_consultation_warns_of_each_statutory_audience_it_misses(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(
        db,
        [
            ("cc@example.org", statutory.CHIEF_CONSTABLE),
            ("panel@example.org", statutory.PANEL),
        ],
    )
    cid, _ = create(db, office_config, people["editor"], details(partners, type=TYPE_PLAN_DRAFT))
    warnings = submit(db, cid, people["editor"])
    assert [w.split(":")[0] for w in warnings] == [
        'No active recipient is a "Member of the public"',
        'No active recipient is a "Victims\' service"',
        "No document is attached",
    ]
    # The warnings do not stop an approver, who sees them recorded in the audit log.
    approve(db, cid, people["approver"])
    with db.transaction() as session:
        summary = session.scalar(
            select(AuditEntry.summary).where(AuditEntry.action == "consultation.approved")
        )
        coverage = statutory.coverage(session, session.get(Consultation, cid))
    assert "despite 3 warning(s)" in summary
    assert [(c.requirement.audience, c.active) for c in coverage] == [
        (statutory.CHIEF_CONSTABLE, 1),
        (statutory.PANEL, 1),
        (statutory.PUBLIC, 0),
        (statutory.VICTIMS, 0),
    ]


def test_cancelling_stops_every_send_not_yet_made(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    approve(db, cid, people["approver"])
    # Approved messages are cancelled for good only by an admin (the role table).
    for who in ("editor", "approver"):
        with db.transaction() as session, pytest.raises(ConsultationRefused, match="Only admins"):
            lifecycle.cancel(
                session,
                session.get(Consultation, cid),
                by=session.get(User, people[who].id),
                now=NOW,
            )
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        stopped = lifecycle.cancel(
            session, consultation, by=session.get(User, people["admin"].id), now=NOW
        )
        assert stopped == 5
        assert consultation.state == CANCELLED
        assert {s.state for s in planning.timeline(session, consultation)} == {SEND_CANCELLED}
    with db.transaction() as session, pytest.raises(ConsultationRefused, match="cancelled"):
        lifecycle.submit(
            session,
            session.get(Consultation, cid),
            by=session.get(User, people["editor"].id),
            now=NOW,
        )


def open_now(db: Database, cid: int, user: User, *, now: datetime = NOW) -> None:
    with db.transaction() as session:
        lifecycle.open_now(
            session, session.get(Consultation, cid), by=session.get(User, user.id), now=now
        )


def test_opening_early_moves_only_the_launch_and_refuses_what_it_cannot_do(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    with pytest.raises(ConsultationRefused, match="Approve the consultation first"):
        open_now(db, cid, people["approver"])
    approve(db, cid, people["approver"])
    with pytest.raises(ConsultationRefused, match="only an approver or an admin"):
        open_now(db, cid, people["editor"])
    before = plan_of(db, cid)
    open_now(db, cid, people["approver"])
    after = plan_of(db, cid)
    assert after[0][2] == shown(NOW) and "opened early" in after[0][3][-1]
    assert after[1:] == before[1:]  # reminders and close notice as approved
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation.phase(NOW) == OPEN
        for send in planning.timeline(session, consultation):
            assert send.frozen["extra"]["consultation"]["opens_at"] == NOW.isoformat()
    with pytest.raises(ConsultationRefused, match="already open"):
        open_now(db, cid, people["approver"])

    # A launch that is no longer waiting (here: made by hand already) is not sent again.
    again, _ = create(db, office_config, people["editor"], details(partners, title="Precept"))
    submit(db, again, people["editor"])
    approve(db, again, people["approver"])
    with db.transaction() as session:
        launch = planning.timeline(session, session.get(Consultation, again))[0]
        launch.state = SEND_SENDING
    with pytest.raises(ConsultationRefused, match="launch is not waiting"):
        open_now(db, again, people["approver"])


def test_the_phase_follows_the_clock_once_approved(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    with db.transaction() as session:
        assert session.get(Consultation, cid).phase(NOW) == AWAITING_APPROVAL
    approve(db, cid, people["approver"])
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation.phase(NOW) == SCHEDULED
        assert consultation.phase(local("2027-02-01 12:00")) == OPEN
        assert consultation.phase(local("2027-03-01 00:00")) == CLOSED
