"""The audience builder every send form shares: reading it from a form, and what its
template (``templates/admin/audience/_builder.html``) needs to show the choices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from contacts import audience as audiences
from contacts.audience import Audience
from contacts.models import ContactList, OrganisationType


def _ids(form: MultiDict[str, str], name: str) -> list[int]:
    return [int(v) for v in form.getlist(name) if v.strip().isdigit()]


def _words(form: MultiDict[str, str], name: str) -> list[str]:
    """Repeated fields, or one field of ";"- or ","-separated words."""
    found: list[str] = []
    for value in form.getlist(name):
        found.extend(part for part in value.replace(",", ";").split(";") if part.strip())
    return found


def parse_form(form: MultiDict[str, str]) -> Audience:
    """The audience a builder form describes (unknown ids simply match nobody)."""
    return Audience.of(
        lists=_ids(form, "list_ids"),
        organisation_types=_ids(form, "type_ids"),
        tags=_words(form, "tags"),
        areas=_words(form, "areas"),
        exclude_lists=_ids(form, "exclude_list_ids"),
    )


def builder_context(session: Session, audience: Audience) -> dict[str, Any]:
    """What the builder template shows: every list and type, the known tags and areas,
    the audience chosen so far and its summary."""
    return {
        "audience": audience,
        "all_lists": list(session.scalars(select(ContactList).order_by(ContactList.name))),
        "all_types": list(
            session.scalars(
                select(OrganisationType).order_by(OrganisationType.position, OrganisationType.name)
            )
        ),
        "known_tags": audiences.known_tags(session),
        "known_areas": audiences.known_areas(session),
        "summary": None if audience.empty else audiences.summarise(session, audience),
    }
