"""Creating and editing a consultation, as the services see it: the draft and its
whole timeline, its address, an edit after approval.

Both database backends; a fixed "now" so the plans are exact."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailer.accounts.models import User
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database
from mailer.delivery import sends
from mailer.delivery.models import (
    SEND_DRAFT,
    SEND_SENDING,
)
from scheduler.consultations import editing, planning
from scheduler.consultations.details import (
    NeedsConfirmation,
)
from scheduler.models import (
    DRAFT,
    Consultation,
)
from tests.scheduler.audience import make_list
from tests.scheduler.helpers import local, shown
from tests.scheduler.plans import approve, create, details, plan_of, submit

# A reminder that falls on the weekend goes on the Friday before, at the same time.
FRIDAY = "moved from Sunday to Friday 9am: no messages at weekends"


def test_a_new_consultation_is_a_draft_with_its_whole_timeline(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, warnings = create(db, office_config, people["editor"], details(partners))
    assert warnings == []
    assert plan_of(db, cid) == [
        ("launch", "Launch", "Mon 2027-01-18 09:00", []),
        ("reminder", "Reminder: 14 days before the close", "Fri 2027-02-12 09:00",
         [FRIDAY]),
        ("reminder", "Reminder: 7 days before the close", "Fri 2027-02-19 09:00",
         [FRIDAY]),
        # The close is on a Sunday: the last-day reminder goes on the Friday before.
        ("reminder", "Reminder: the morning of the last day", "Fri 2027-02-26 09:00",
         [FRIDAY]),
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
