"""``/api/v1/organisation-types``: the office's organisation types (with how many
contacts have each), and a new one. A contact names its type by id or by name."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from contacts import organisation_types
from contacts.organisation_types import NAME_MAX, OrganisationTypeError
from mailer.accounts.api_scopes import LISTS_READ, LISTS_WRITE
from mailer.api import auth
from mailer.api.resources.writes import refusal, retrying, text
from mailer.database import get_db

blp = Blueprint(
    "api_organisation_types",
    __name__,
    url_prefix="/api/v1/organisation-types",
    description="The kinds of organisation contacts belong to",
)


class OrganisationTypeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "Order in lists"})
    contacts = ma.fields.Integer(required=True, metadata={"description": "Contacts of this type"})


class OrganisationTypeInSchema(ma.Schema):
    name = text(NAME_MAX, required=True)


@blp.route("", methods=["GET"])
@auth.requires(LISTS_READ)
@blp.response(200, OrganisationTypeSchema(many=True))
def list_types() -> Any:
    """Every organisation type, in the admin's order."""
    return [
        {"id": kind.id, "name": kind.name, "position": kind.position, "contacts": count}
        for kind, count in organisation_types.with_counts(get_db().session)
    ]


@blp.route("", methods=["POST"])
@auth.requires(LISTS_WRITE)
@blp.arguments(OrganisationTypeInSchema)
@blp.response(201, OrganisationTypeSchema)
def create_type(data: dict[str, Any]) -> Any:
    """A new organisation type, last in order (a name another type has, whatever the
    case, is refused: 409)."""
    actor = auth.current().actor_label

    def work(session: Session) -> dict[str, Any]:
        kind = organisation_types.add(session, name=data["name"], actor_label=actor)
        return {"id": kind.id, "name": kind.name, "position": kind.position, "contacts": 0}

    try:
        return retrying(work)
    except OrganisationTypeError as exc:
        raise refusal(exc) from None
