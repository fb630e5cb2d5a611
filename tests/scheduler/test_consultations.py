"""Consultations as the services see them: create, plan, submit, approve, edit, cancel.

Both database backends; a fixed "now" so the plans are exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database
from mailer.delivery import sends
from mailer.delivery.models import (
    SEND_CANCELLED,
    SEND_DRAFT,
    SEND_SCHEDULED,
    SEND_SENDING,
    Send,
)
from scheduler import statutory
from scheduler.consultations import editing, lifecycle, planning, read_models
from scheduler.consultations.details import (
    ConsultationInvalid,
    ConsultationRefused,
    Details,
    NeedsConfirmation,
)
from scheduler.models import (
    AWAITING_APPROVAL,
    CANCELLED,
    CLOSED,
    DRAFT,
    OPEN,
    SCHEDULED,
    TYPE_PLAN_DRAFT,
    Consultation,
)
from scheduler.timeline import ReminderSpec
from tests.conftest import make_config
from tests.scheduler.audience import make_list
from tests.scheduler.helpers import local, shown

# A Monday morning in term time, well away from clock changes and bank holidays.
NOW = local("2027-01-11 10:00")
BASE = "https://consult.example.org"


@pytest.fixture
def office_config(tmp_path, db: Database) -> Config:  # type: ignore[no-untyped-def]
    return make_config(tmp_path, db.url)


def details(list_id: int, **changes: object) -> Details:
    values: dict[str, object] = {
        "title": "Draft Police and Crime Plan 2027-2031",
        "opens_at": local("2027-01-18 09:00"),
        # A Sunday, as in the seed: its last reminder must still go before it.
        "closes_at": local("2027-02-28 23:59"),
        "survey_url": "https://survey.example.org/plan",
        "summary": "Tell us what matters for policing in Northshire.",
        "lists": (list_id,),
    }
    values.update(changes)
    return Details(**values)  # type: ignore[arg-type]


def create(db: Database, config: Config, author: User, d: Details) -> tuple[int, list[str]]:
    with db.transaction() as session:
        rules = planning.rules_for(session, config)
        created, warnings = editing.create(
            session, d, by=session.get(User, author.id), rules=rules, now=NOW
        )
        return created.id, warnings


def plan_of(db: Database, consultation_id: int) -> list[tuple[str, str, str, list[str]]]:
    with db.transaction() as session:
        return [
            (s.kind, s.label, shown(s.due_at), list(s.reasons))
            for s in planning.timeline(session, session.get(Consultation, consultation_id))
        ]


def test_a_new_consultation_is_a_draft_with_its_whole_timeline(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, warnings = create(db, office_config, people["editor"], details(partners))
    assert warnings == []
    assert plan_of(db, cid) == [
        ("launch", "Launch", "Mon 2027-01-18 09:00", []),
        ("reminder", "Reminder: 14 days before the close", "Fri 2027-02-12 09:00",
         ["Sunday", "Saturday"]),
        ("reminder", "Reminder: 7 days before the close", "Fri 2027-02-19 09:00",
         ["Sunday", "Saturday"]),
        # The close is on a Sunday: the last-day reminder goes on the Friday before.
        ("reminder", "Reminder: the morning of the last day", "Fri 2027-02-26 09:00",
         ["Sunday", "Saturday"]),
        ("close_notice", "Close notice: the next working day", "Mon 2027-03-01 09:00", []),
    ]  # fmt: skip
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        assert consultation.state == DRAFT
        assert consultation.slug == "draft-police-and-crime-plan-2027-2031"
        timeline = planning.timeline(session, consultation)
        assert {s.state for s in timeline} == {SEND_DRAFT}
        bulletins = [session.get(Bulletin, s.bulletin_id) for s in timeline]
        assert [b.kind for b in bulletins] == [
            "launch", "reminder", "reminder", "reminder", "close_notice",
        ]  # fmt: skip
        assert bulletins[0].subject == "Have your say: Draft Police and Crime Plan 2027-2031"
        # The launch carries the documents; later messages link to them.
        assert [b.link_documents for b in bulletins] == [False, True, True, True, True]


def test_a_second_consultation_with_the_same_title_gets_its_own_address(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    first, _ = create(db, office_config, people["editor"], details(partners))
    second, _ = create(db, office_config, people["editor"], details(partners))
    with db.transaction() as session:
        slugs = [session.get(Consultation, i).slug for i in (first, second)]
    assert slugs == [
        "draft-police-and-crime-plan-2027-2031",
        "draft-police-and-crime-plan-2027-2031-2",
    ]


def test_a_default_reminder_before_the_opening_is_left_out_with_a_warning(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    short = details(partners, closes_at=local("2027-01-29 23:59"))  # open 11 days
    cid, warnings = create(db, office_config, people["editor"], short)
    assert warnings == [
        "Reminder: 14 days before the close is left out: it falls before the opening."
    ]
    assert [label for _, label, _, _ in plan_of(db, cid)] == [
        "Launch",
        "Reminder: 7 days before the close",
        "Reminder: the morning of the last day",
        "Close notice: the next working day",
    ]


def test_a_given_reminder_before_the_opening_is_an_error(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    asked = details(partners, reminders=(ReminderSpec(timedelta(days=60)),))
    with pytest.raises(ConsultationInvalid) as caught:
        create(db, office_config, people["editor"], asked)
    assert "before the consultation opens" in caught.value.errors["reminders"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"closes_at": local("2027-01-10 23:59")}, "closes_at", "has passed"),
        ({"opens_at": local("2027-01-04 09:00")}, "opens_at", "has passed"),
        ({"closes_at": local("2027-01-18 08:00")}, "closes_at", "close after it opens"),
        ({"survey_url": "javascript:alert(1)"}, "survey_url", "https://"),
        ({"survey_url": ""}, "survey_url", "survey"),
        ({"title": "  "}, "title", "title"),
        ({"lists": (999999,)}, "lists", "999999"),
    ],
)
def test_bad_details_are_refused_with_the_field_and_nothing_is_stored(
    db: Database,
    office_config: Config,
    people: dict[str, User],
    changes: dict[str, object],
    field: str,
    words: str,
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    with pytest.raises(ConsultationInvalid) as caught:
        create(db, office_config, people["editor"], details(partners, **changes))
    assert words in caught.value.errors[field]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Consultation)) == 0
        assert session.scalar(select(func.count()).select_from(Send)) == 0


def submit(db: Database, cid: int, user: User) -> list[str]:
    with db.transaction() as session:
        return lifecycle.submit(
            session, session.get(Consultation, cid), by=session.get(User, user.id), now=NOW
        )


def approve(db: Database, cid: int, user: User, *, two_person: bool = True) -> list[str]:
    with db.transaction() as session:
        return lifecycle.approve(
            session,
            session.get(Consultation, cid),
            by=session.get(User, user.id),
            two_person=two_person,
            base_url=BASE,
            now=NOW,
        )


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


def test_an_edit_after_approval_asks_first_then_returns_what_is_not_sent_to_approval(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None), ("b@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    approve(db, cid, people["approver"])
    # The launch goes out.
    opened = local("2027-01-18 09:00")
    with db.transaction() as session:
        launch = planning.timeline(session, session.get(Consultation, cid))[0]
        sends.make_due(session, launch, now=opened, domain="example.org")
        launch_id = launch.id
    later = details(partners, closes_at=local("2027-03-07 23:59"))
    with db.transaction() as session, pytest.raises(NeedsConfirmation, match="4 send"):
        editing.update(
            session,
            session.get(Consultation, cid),
            later,
            by=session.get(User, people["editor"].id),
            rules=planning.rules_for(session, office_config),
            now=opened + timedelta(hours=1),
        )
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        editing.update(
            session,
            consultation,
            later,
            by=session.get(User, people["editor"].id),
            rules=planning.rules_for(session, office_config),
            now=opened + timedelta(hours=1),
            confirmed=True,
        )
        assert consultation.state == DRAFT
        timeline = {s.label: s for s in planning.timeline(session, consultation)}
        assert timeline["Launch"].id == launch_id
        assert timeline["Launch"].state == SEND_SENDING  # made already: untouched
        others = [s for s in timeline.values() if s.id != launch_id]
        assert {s.state for s in others} == {SEND_DRAFT}
        assert all(s.frozen is None for s in others)
        assert shown(timeline["Close notice: the next working day"].due_at) == (
            "Mon 2027-03-08 09:00"
        )


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


def test_show_json_has_the_contract_fields(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    with db.transaction() as session:
        data = read_models.to_json(session, session.get(Consultation, cid), now=NOW)
    assert data["id"] == cid and data["state"] == "draft"
    first = data["sends"][0]
    assert first["kind"] == "launch"
    assert first["due_at"] == "2027-01-18T09:00:00Z"
    assert first["fired_at"] is None
    assert first["counts"] == {"queued": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert [s["kind"] for s in data["sends"]] == [
        "launch", "reminder", "reminder", "reminder", "close_notice",
    ]  # fmt: skip
    assert datetime.fromisoformat(data["closes_at"]) == local("2027-02-28 23:59").astimezone(UTC)
