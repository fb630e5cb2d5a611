"""The shapes of /api/v1/bulletins: what a script sends and what it reads back."""

from __future__ import annotations

import marshmallow as ma

from mailer.api.paging import PageArgs
from mailer.api.times import TimeIn, TimeOut
from mailer.bulletins.compose import MAX_BODY, MAX_PREHEADER, MAX_SUBJECT

STATES = (
    "draft",
    "awaiting_approval",
    "scheduled",
    "sending",
    "paused",
    "missed",
    "done",
    "cancelled",
    "archived",
)
AUDIENCE_ITEMS = 100


class BulletinIn(ma.Schema):
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_SUBJECT))
    preheader = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=MAX_PREHEADER),
        metadata={"description": "The line inboxes show after the subject"},
    )
    body_markdown = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=MAX_BODY),
        metadata={"description": "The words, in Markdown, as the composer takes them"},
    )
    template_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "A bulletin template's id (default: the first one)"},
    )


class BulletinPatch(ma.Schema):
    subject = ma.fields.String(validate=ma.validate.Length(min=1, max=MAX_SUBJECT))
    preheader = ma.fields.String(validate=ma.validate.Length(max=MAX_PREHEADER))
    body_markdown = ma.fields.String(validate=ma.validate.Length(max=MAX_BODY))
    template_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))


class Counts(ma.Schema):
    queued = ma.fields.Integer(required=True)
    sent = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(required=True)
    bounced = ma.fields.Integer(required=True)


class BulletinSendOut(ma.Schema):
    """A bulletin's send, as ``mailer bulletin show --json`` prints it."""

    id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True)
    due_at = TimeOut(allow_none=True)
    requested_at = TimeOut(allow_none=True)
    fired_at = TimeOut(allow_none=True)
    reasons = ma.fields.List(ma.fields.String(), metadata={"description": "Why the time was moved"})
    audience = ma.fields.Dict(metadata={"description": "The audience as stored"})
    audience_described = ma.fields.String()
    counts = ma.fields.Nested(Counts)
    clicks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "Link address -> clicks"},
    )


class BulletinOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True, metadata={"description": "One of " + ", ".join(STATES)})
    kind = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    preheader = ma.fields.String(required=True)
    body_markdown = ma.fields.String(required=True)
    template_id = ma.fields.Integer(allow_none=True)
    consultation_id = ma.fields.Integer(allow_none=True)
    sends = ma.fields.List(ma.fields.Nested(BulletinSendOut), required=True)


class BulletinPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(BulletinOut), required=True)
    next_cursor = ma.fields.String(allow_none=True)


class BulletinListArgs(PageArgs):
    state = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(STATES),
        metadata={"description": "Only these"},
    )


def _names() -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=200)),
        load_default=list,
        validate=ma.validate.Length(max=AUDIENCE_ITEMS),
    )


class ScheduleIn(ma.Schema):
    """The audience, by the names the admin shows (as ``mailer bulletin schedule``
    takes them), and the time."""

    lists = _names()
    organisation_types = _names()
    tags = _names()
    areas = _names()
    exclude_lists = _names()
    at = TimeIn(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When to send (ISO 8601; without an offset, the office's "
            "timezone). Absent or null: as soon as it is approved. Moved forward out of "
            "quiet hours, weekends, bank holidays and blackouts."
        },
    )


class ScheduledOut(BulletinSendOut):
    bulletin_id = ma.fields.Integer(required=True)
    reachable = ma.fields.Integer(
        required=True, metadata={"description": "Contacts the audience reaches now"}
    )


class ApproveIn(ma.Schema):
    version = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=128),
        metadata={"description": "The content hash read (refused if it changed since)"},
    )
