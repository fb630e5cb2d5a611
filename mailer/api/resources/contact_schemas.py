"""The shapes of /api/v1/contacts: a contact as it is answered, the fields a script
sends to add or change one, and the list's filters."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts.importing.rows import MAX_FIELD_LENGTHS
from contacts.models import LAWFUL_BASES, STATUSES, Contact, ListMembership
from contacts.upserting import ContactChanges
from mailer.api.etags import served, tag
from mailer.api.paging import PageArgs
from mailer.api.resources.writes import an_id, plain_text, text
from mailer.api.times import TimeIn, TimeOut

EMAIL_MAX = 320
TEXT_MAX = MAX_FIELD_LENGTHS["name"]  # the import's limit, the API's too
TAGS_MAX = 100
LISTS_MAX = 100


class OrganisationTypeRef(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class ContactSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True, metadata={"description": "As normalised"})
    name = ma.fields.String(required=True)
    organisation = ma.fields.String(required=True)
    organisation_type = ma.fields.Nested(OrganisationTypeRef, allow_none=True, required=True)
    role = ma.fields.String(required=True)
    area = ma.fields.String(required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(
        required=True,
        metadata={
            "description": "active (mailed), unsubscribed, bounced; only active contacts get mail",
            "enum": list(STATUSES),
        },
    )
    lawful_basis = ma.fields.String(required=True, metadata={"enum": list(LAWFUL_BASES)})
    source = ma.fields.String(required=True)
    lists = ma.fields.List(
        ma.fields.Integer(), required=True, metadata={"description": "Ids of its lists"}
    )
    created_at = TimeOut(required=True)
    updated_at = TimeOut(required=True)
    unsubscribed_at = TimeOut(allow_none=True, required=True)


class ContactWrittenSchema(ContactSchema):
    kept = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "What was asked for and kept as it was: a contact who "
            "left is never subscribed again, nor added to lists"
        },
    )


class ContactPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ContactSchema), required=True)
    next_cursor = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Send as ?cursor= for the next page; null on the last"},
    )


class IdOrName(ma.fields.Field):
    """An organisation type by id (a number) or by name (a string); null for none."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            raise ma.ValidationError("An organisation type's id (a number) or name.")
        if isinstance(value, int):
            an_id().deserialize(value)
            return value
        if isinstance(value, str):
            text(120).deserialize(value)
            return value
        raise ma.ValidationError("An organisation type's id (a number) or name.")


def _tag(value: str) -> None:
    plain_text(value)
    if ";" in value:
        raise ma.ValidationError("A tag cannot hold ';' (send each tag on its own).")


class ContactInSchema(ma.Schema):
    """The fields of a contact a script sends; those left out stay as they are."""

    class Meta:
        unknown = ma.RAISE

    name = text(TEXT_MAX)
    organisation = text(TEXT_MAX)
    organisation_type = IdOrName(
        allow_none=True,
        metadata={
            "type": ["integer", "string"],  # apispec adds "null" (allow_none)
            "description": "Its id, or its name as the organisation types list has it; "
            "null for none",
        },
    )
    role = text(TEXT_MAX)
    area = text(TEXT_MAX)
    tags = ma.fields.List(
        ma.fields.String(validate=[ma.validate.Length(min=1, max=TEXT_MAX), _tag]),
        validate=ma.validate.Length(max=TAGS_MAX),
        metadata={"description": "The contact's tags (replacing those it had)"},
    )
    lawful_basis = ma.fields.String(validate=ma.validate.OneOf(LAWFUL_BASES))
    lists = ma.fields.List(
        an_id(),
        validate=ma.validate.Length(max=LISTS_MAX),
        metadata={"description": "Ids of lists to join (lists it is on already stay)"},
    )


def _email(value: str) -> None:
    plain_text(value)


class ContactCreateSchema(ContactInSchema):
    email = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=1, max=EMAIL_MAX), _email],
        metadata={
            "description": "Finds the contact to change, or the one to add",
            "format": "email",
        },
    )


class ContactPatchSchema(ContactInSchema):
    email = ma.fields.String(
        validate=[ma.validate.Length(min=1, max=EMAIL_MAX), _email],
        metadata={"description": "A new address for the contact", "format": "email"},
    )


class ContactFilterArgs(PageArgs):
    email = ma.fields.String(
        validate=[ma.validate.Length(max=EMAIL_MAX), _email],
        metadata={"description": "Exactly this address (case does not matter)", "format": "email"},
    )
    list = an_id(strict=False, metadata={"description": "On this list (id)"})
    organisation_type = an_id(
        strict=False, metadata={"description": "Of this organisation type (id)"}
    )
    tag = text(TEXT_MAX, metadata={"description": "Carrying this tag"})
    area = text(TEXT_MAX, metadata={"description": "In this area (case does not matter)"})
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    updated_since = TimeIn(
        metadata={
            "description": "Changed at or after this time (ISO 8601; without an offset, "
            "the office's timezone)"
        },
    )


def changes(data: dict[str, Any]) -> ContactChanges:
    """What a request's JSON asks for (a field left out is None: left as it is; null
    organisation_type: no type)."""
    kind = data.get("organisation_type")
    if "organisation_type" in data and kind is None:
        kind = ""
    return ContactChanges(
        email=data.get("email"),
        name=data.get("name"),
        organisation=data.get("organisation"),
        organisation_type=kind,
        role=data.get("role"),
        area=data.get("area"),
        tags=data.get("tags"),
        lawful_basis=data.get("lawful_basis"),
        lists=data.get("lists"),
    )


def represent(session: Session, contacts: list[Contact]) -> list[dict[str, Any]]:
    """The contacts as answered, their lists read in one query."""
    lists: dict[int, list[int]] = {c.id: [] for c in contacts}
    if contacts:
        for contact_id, list_id in session.execute(
            select(ListMembership.contact_id, ListMembership.list_id)
            .where(ListMembership.contact_id.in_(list(lists)))
            .order_by(ListMembership.list_id)
        ):
            lists[contact_id].append(list_id)
    return [
        {
            "id": c.id,
            "email": c.email,
            "name": c.name,
            "organisation": c.organisation,
            "organisation_type": (
                {"id": c.organisation_type.id, "name": c.organisation_type.name}
                if c.organisation_type
                else None
            ),
            "role": c.role,
            "area": c.area,
            "tags": c.tag_list,
            "status": c.status,
            "lawful_basis": c.lawful_basis,
            "source": c.source,
            "lists": lists[c.id],
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "unsubscribed_at": c.unsubscribed_at,
        }
        for c in contacts
    ]


def etag(representation: dict[str, Any]) -> str:
    """The ETag of a contact as answered (what a GET serves)."""
    return tag(served(ContactSchema(), representation))
