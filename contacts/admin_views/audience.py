"""The audience builder every send form shares, and the saved audiences ("segments").

A page that sends something includes ``templates/admin/audience/_builder.html`` inside
its own form, with ``builder_context(...)`` as ``aud``, and reads the choices back with
``parse_form(request.form)``. The builder's buttons that only change the builder
("Count", "Use this saved audience") post the page's form back to the page itself:
``is_round_trip(request.form)`` tells the page to show the form again with
``builder_context`` rather than act on it. With JavaScript the count updates as the
audience is built (``mailer/static/audience.js`` posts to ``POST /admin/audience/count``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from contacts import audience as audiences
from contacts import segments
from contacts.audience import Audience, AudienceRefused
from contacts.models import Contact, ContactList, ListMembership, OrganisationType

audience_bp = Blueprint("audience", __name__, url_prefix="/admin/audience")

ID_FIELDS = ("list_ids", "type_ids", "exclude_list_ids")
WORD_FIELDS = ("tags", "areas")
SEGMENT_FIELD = "segment_id"
# The builder's own buttons: name="audience_action", value one of these.
ACTION_FIELD = "audience_action"
COUNT = "count"
USE_SEGMENT = "use_segment"
# More known tags (or areas) than this and the builder offers a field with suggestions
# instead of a checkbox for each.
PICK_MAX = 30
# Far beyond any real audience; a form past them was not made by the builder.
MAX_VALUES = 1000
MAX_WORD = 200


def _ids(form: MultiDict[str, str], name: str) -> list[int]:
    return [int(v) for v in form.getlist(name) if v.strip().isdigit()]


def _words(form: MultiDict[str, str], name: str) -> list[str]:
    """Repeated fields, or one field of ";"- or ","-separated words."""
    found: list[str] = []
    for value in form.getlist(name):
        found.extend(part for part in value.replace(",", ";").split(";") if part.strip())
    return found


def _chose_anything(form: MultiDict[str, str]) -> bool:
    return bool(_ids(form, "list_ids") or _ids(form, "type_ids")) or any(
        _words(form, name) for name in WORD_FIELDS
    )


def _segment_id(form: MultiDict[str, str]) -> int | None:
    value = (form.get(SEGMENT_FIELD) or "").strip()
    return int(value) if value.isdigit() else None


def apply_segment(session: Session, form: MultiDict[str, str]) -> Audience | None:
    """The saved audience the form asks for, when it asks for one: a segment chosen
    with its "Use" button, or chosen while nothing else is. None otherwise (or when the
    segment has gone meanwhile)."""
    segment_id = _segment_id(form)
    if segment_id is None:
        return None
    if form.get(ACTION_FIELD) != USE_SEGMENT and _chose_anything(form):
        return None
    segment = segments.get(session, segment_id)
    return segments.audience_of(segment) if segment else None


def parse_form(form: MultiDict[str, str], *, session: Session | None = None) -> Audience:
    """The audience a builder form describes (unknown ids simply match nobody). With a
    session, a saved audience the form asks for (see ``apply_segment``) is used."""
    if session is not None:
        saved = apply_segment(session, form)
        if saved is not None:
            return saved
    return Audience.of(
        lists=_ids(form, "list_ids"),
        organisation_types=_ids(form, "type_ids"),
        tags=_words(form, "tags"),
        areas=_words(form, "areas"),
        exclude_lists=_ids(form, "exclude_list_ids"),
    )


def is_round_trip(form: MultiDict[str, str]) -> bool:
    """The page's form was posted by one of the builder's own buttons: show the page
    again with the builder as it now is, and do nothing else."""
    return form.get(ACTION_FIELD) in (COUNT, USE_SEGMENT)


def form_problem(session: Session, form: MultiDict[str, str]) -> str | None:
    """What is wrong with a builder form, as a person reads it, or None. The builder
    never makes such a form; an old page, or a hand-made request, can."""
    for name in (*ID_FIELDS, *WORD_FIELDS):
        if len(form.getlist(name)) > MAX_VALUES:
            return "That is more choices than the builder offers; reload the page."
    for name in ID_FIELDS:
        if any(not v.strip().isdigit() for v in form.getlist(name) if v.strip()):
            return "A list or organisation type was not recognised; reload the page."
    for name in WORD_FIELDS:
        if any(len(w.strip()) > MAX_WORD for w in _words(form, name)):
            return f"A tag or area can be at most {MAX_WORD} characters."
    raw_segment = (form.get(SEGMENT_FIELD) or "").strip()
    if raw_segment and (
        not raw_segment.isdigit() or segments.get(session, int(raw_segment)) is None
    ):
        return "That saved audience no longer exists; reload the page."
    lists = set(_ids(form, "list_ids")) | set(_ids(form, "exclude_list_ids"))
    if lists and len(lists) > _count_of(session, ContactList.id, lists):
        return "A list chosen no longer exists; reload the page."
    types = set(_ids(form, "type_ids"))
    if types and len(types) > _count_of(session, OrganisationType.id, types):
        return "An organisation type chosen no longer exists; reload the page."
    return None


def _count_of(session: Session, column: Any, ids: set[int]) -> int:
    return session.scalar(select(func.count()).where(column.in_(sorted(ids)))) or 0


@dataclass(frozen=True)
class Choice:
    """One checkbox of the builder: a list or a type, with how many are in it."""

    id: int
    name: str
    members: int


def _lists(session: Session) -> list[Choice]:
    # Read off the membership table's primary key (list, contact), not the contacts.
    members: dict[int, int] = {
        list_id: n
        for list_id, n in session.execute(
            select(ListMembership.list_id, func.count()).group_by(ListMembership.list_id)
        )
    }
    return [
        Choice(lst.id, lst.name, members.get(lst.id, 0))
        for lst in session.scalars(select(ContactList).order_by(ContactList.name))
    ]


def _types(session: Session) -> list[Choice]:
    # Read off the index on the contacts' type.
    members: dict[int | None, int] = {
        type_id: n
        for type_id, n in session.execute(
            select(Contact.organisation_type_id, func.count())
            .where(Contact.organisation_type_id.is_not(None))
            .group_by(Contact.organisation_type_id)
        )
    }
    return [
        Choice(t.id, t.name, members.get(t.id, 0))
        for t in session.scalars(
            select(OrganisationType).order_by(OrganisationType.position, OrganisationType.name)
        )
    ]


def _picker(known: list[str], chosen: tuple[str, ...], *, complete: bool) -> dict[str, Any]:
    """Checkboxes for every known value while they are few; else checkboxes for the
    chosen ones only and a field with suggestions for more. When only the newest
    contacts were read (``complete`` false), the field is offered as well: an older
    value can still be typed."""
    chosen_keys = {c.casefold() for c in chosen}
    few = len(known) <= PICK_MAX
    shown = list(known) if few else []
    shown_keys = {s.casefold() for s in shown}
    shown += [c for c in chosen if c.casefold() not in shown_keys]
    return {
        "boxes": [(value, value.casefold() in chosen_keys) for value in shown],
        "suggest": not few or not complete,
        "known": known,
    }


def builder_context(
    session: Session,
    audience: Audience,
    *,
    segment_id: int | None = None,
    offer_save: bool = True,
    error: str | None = None,
) -> dict[str, Any]:
    """What the builder template shows: every list and type with its members, the
    known tags and areas, the saved audiences, the audience chosen so far and its
    summary. ``offer_save``: show "Save this audience as..." (pages that are not
    themselves about saved audiences)."""
    complete = audiences.known_is_complete(session)
    return {
        "audience": audience,
        "all_lists": _lists(session),
        "all_types": _types(session),
        "tags": _picker(audiences.known_tags(session), audience.tags, complete=complete),
        "areas": _picker(audiences.known_areas(session), audience.areas, complete=complete),
        "segments": segments.all_segments(session),
        "segment_id": segment_id,
        "offer_save": offer_save,
        "error": error,
        "summary": None if audience.empty else audiences.summarise(session, audience),
        "count_url": url_for("audience.count"),
        "save_url": url_for("audience.segments_save"),
        "here": request.path,
    }


def summary_json(session: Session, audience: Audience) -> dict[str, Any]:
    summary = audiences.summarise(session, audience)
    return {
        "reachable": summary.reachable,
        "total": summary.total,
        "left_out": summary.left_out,
        "sample": list(summary.sample),
        "audience": audience.to_json(),
        "description": audiences.describe(session, audience),
        "empty": audience.empty,
    }


@audience_bp.post("/count")
def count() -> ResponseReturnValue:
    """The live count: who the builder's choices reach now, and who is left out."""
    from mailer.database import get_db

    session = get_db().session
    problem = form_problem(session, request.form)
    if problem:
        return jsonify(error=problem), 400
    try:
        audience = parse_form(request.form, session=session)
        return jsonify(summary_json(session, audience))
    except AudienceRefused as exc:
        return jsonify(error=str(exc)), 400
