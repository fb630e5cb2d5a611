"""Statutory consultees: the audiences the law expects each type of consultation to reach.

A police and crime plan (Police Reform and Social Responsibility Act 2011, ss. 5, 7 and
14): the Commissioner must consult the Chief Constable on the draft, send it to the
Police and Crime Panel, seek the views of the public and obtain the views of victims
of crime. A variation needs the Chief Constable and the Panel again; so does the
precept (the Panel reviews it). Each required audience is an organisation type: the
contacts of that type in the consultation's audience are who reached it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contacts.audience import audience_contacts
from contacts.models import ACTIVE, Contact, OrganisationType
from scheduler.models import (
    TYPE_ANNUAL_REPORT,
    TYPE_GENERAL,
    TYPE_PLAN_DRAFT,
    TYPE_PLAN_VARIATION,
    TYPE_PRECEPT,
    Consultation,
)


@dataclass(frozen=True)
class Requirement:
    audience: str  # the organisation type's name
    why: str


CHIEF_CONSTABLE = "Chief Constable's office"
PANEL = "Police and Crime Panel"
PUBLIC = "Member of the public"
VICTIMS = "Victims' service"

REQUIRED: dict[str, tuple[Requirement, ...]] = {
    TYPE_PLAN_DRAFT: (
        Requirement(CHIEF_CONSTABLE, "the Chief Constable must be consulted on the draft plan"),
        Requirement(PANEL, "the draft plan must be sent to the Police and Crime Panel"),
        Requirement(PUBLIC, "the views of the public must be sought on the draft plan"),
        Requirement(VICTIMS, "the views of victims of crime must be obtained"),
    ),
    TYPE_PLAN_VARIATION: (
        Requirement(CHIEF_CONSTABLE, "the Chief Constable must be consulted on a variation"),
        Requirement(PANEL, "a varied plan must be sent to the Police and Crime Panel"),
    ),
    TYPE_PRECEPT: (
        Requirement(PANEL, "the Police and Crime Panel reviews the proposed precept"),
        Requirement(PUBLIC, "the public's views are sought on the precept"),
    ),
    TYPE_ANNUAL_REPORT: (Requirement(PANEL, "the annual report goes to the Panel"),),
    TYPE_GENERAL: (),
}


@dataclass(frozen=True)
class Coverage:
    requirement: Requirement
    organisation_type_id: int | None  # None: no such organisation type exists
    active: int  # active contacts of that type in the audience

    @property
    def met(self) -> bool:
        return self.active > 0

    def warning(self) -> str:
        if self.organisation_type_id is None:
            return (
                f'No organisation type "{self.requirement.audience}" exists, so no recipient '
                f"is known to reach it ({self.requirement.why})."
            )
        return (
            f'No active recipient is a "{self.requirement.audience}": '
            f"{self.requirement.why}. Add them to one of the audience lists."
        )


def coverage(session: Session, consultation: Consultation) -> list[Coverage]:
    """Each required audience and how many active recipients reach it."""
    required = REQUIRED.get(consultation.type, ())
    if not required:
        return []
    types = dict(
        session.execute(
            select(OrganisationType.name, OrganisationType.id).where(
                OrganisationType.name.in_([r.audience for r in required])
            )
        ).all()
    )
    audience = audience_contacts(session, consultation.audience).subquery()
    counts = dict(
        session.execute(
            select(Contact.organisation_type_id, func.count())
            .join(audience, audience.c.id == Contact.id)
            .where(Contact.status == ACTIVE)
            .group_by(Contact.organisation_type_id)
        ).all()
    )
    return [
        Coverage(r, types.get(r.audience), counts.get(types.get(r.audience), 0)) for r in required
    ]


def warnings(session: Session, consultation: Consultation) -> list[str]:
    return [c.warning() for c in coverage(session, consultation) if not c.met]
