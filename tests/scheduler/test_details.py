"""The check of a consultation's details, as the services see it: what is refused,
field by field, and which sends the rules leave out.

Both database backends; a fixed "now" so the plans are exact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import (
    Send,
)
from scheduler.consultations.details import (
    ConsultationInvalid,
)
from scheduler.models import (
    Consultation,
)
from scheduler.timeline import ReminderSpec
from tests.scheduler.audience import make_list
from tests.scheduler.helpers import local
from tests.scheduler.plans import create, details, plan_of


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


def test_what_a_form_could_not_read_is_refused_with_the_rules_in_one_dict(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    """The form's reader leaves a time it cannot read as None and says why; the check
    gives that sentence first, and every rule's refusal with it."""
    unread = details(
        0,
        title=" ",
        opens_at=None,
        lists=(),
        unreadable={"opens_at": "Give a date (and time) such as 14/03/2027 09:00."},
    )
    with pytest.raises(ConsultationInvalid) as caught:
        create(db, office_config, people["editor"], unread)
    assert caught.value.errors == {
        "opens_at": "Give a date (and time) such as 14/03/2027 09:00.",
        "title": "Give the consultation a title.",
        "lists": "Choose at least one list or organisation type to send to.",
    }
