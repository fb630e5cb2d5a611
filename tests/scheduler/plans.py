"""The consultation the service tests plan, and how they create it and read its
timeline back."""

from __future__ import annotations

from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database
from scheduler.consultations import editing, lifecycle, planning
from scheduler.consultations.details import (
    Details,
)
from scheduler.models import (
    Consultation,
)
from tests.scheduler.helpers import local, shown

# A Monday morning in term time, well away from clock changes and bank holidays.
NOW = local("2027-01-11 10:00")
BASE = "https://consult.example.org"


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
