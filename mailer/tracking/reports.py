"""The cascade report of one consultation: who it reached, and how it travelled on.

Every figure is a count from the tracking tables and the delivery rows; the CSV
exports are these same tables, row for row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, distinct, exists, func, select
from sqlalchemy.orm import Session

from contacts.models import Contact, OrganisationType
from mailer.delivery.models import (
    LINK_SURVEY,
    SENT,
    SKIPPED,
    Delivery,
    Send,
    ShareCode,
    TrackedLink,
)
from mailer.tracking.models import (
    CHANNELS,
    CascadeConfirmation,
    ClickCount,
    ShareVisit,
    SignUp,
    SurveyCompletion,
)

if TYPE_CHECKING:  # tracking sits below consultations; it only names their type
    from scheduler.models import Consultation


@dataclass
class Sharer:
    """What one stakeholder's share link did."""

    contact_id: int | None
    name: str = ""
    organisation: str = ""
    organisation_type: str = ""
    area: str = ""
    visits: int = 0
    survey_clicks: int = 0
    # Responses the survey tool reported complete through this share link (/c/<code>).
    survey_responses: int = 0
    sign_ups: int = 0
    confirmations: int = 0
    reach: int = 0

    @property
    def cascaded(self) -> bool:
        return bool(self.visits or self.sign_ups or self.confirmations or self.survey_responses)


@dataclass
class Report:
    recipients: int = 0
    delivered: int = 0
    survey_clicks_direct: int = 0
    survey_clicks_cascade: int = 0
    # Completed responses the survey tool reported (/c/<code>): all, and through shares.
    survey_responses: int = 0
    survey_responses_cascade: int = 0
    share_visits: int = 0
    sign_ups: int = 0
    sign_ups_cascade: int = 0
    # "I shared this" through a sharer's own link: a stakeholder we wrote to vouches.
    confirmations: int = 0
    reported_reach: int = 0
    # Without one: anybody's claim. Shown apart and never added to the figures above.
    anonymous_claims: int = 0
    anonymous_reach: int = 0
    depth: int = 0
    sharers: list[Sharer] = field(default_factory=list)
    by_organisation: list[tuple[str, Sharer]] = field(default_factory=list)
    by_type: list[tuple[str, Sharer]] = field(default_factory=list)
    by_area: list[tuple[str, Sharer]] = field(default_factory=list)
    by_channel: list[tuple[str, int, int]] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)
    marks: list[tuple[date, str]] = field(default_factory=list)

    def summary_rows(self) -> list[tuple[str, int]]:
        return [
            ("Recipients", self.recipients),
            ("Delivered", self.delivered),
            ("Survey clicks from the messages and the page", self.survey_clicks_direct),
            ("Survey clicks through share links", self.survey_clicks_cascade),
            ("Survey responses", self.survey_responses),
            ("Survey responses through share links", self.survey_responses_cascade),
            ("Share link visits", self.share_visits),
            ("Sign-ups confirmed", self.sign_ups),
            ("Sign-ups through share links", self.sign_ups_cascade),
            ("Cascades confirmed", self.confirmations),
            ("People reached, as reported", self.reported_reach),
            ("Anonymous claims of sharing (not counted above)", self.anonymous_claims),
            ("People reached, as claimed anonymously", self.anonymous_reach),
            ("Deepest cascade (steps from a stakeholder)", self.depth),
        ]


def build(session: Session, consultation: Consultation) -> Report:
    cid = consultation.id
    report = Report()
    send_ids = select(Send.id).where(Send.consultation_id == cid)
    report.recipients = (
        session.scalar(
            select(func.count(distinct(Delivery.address))).where(
                Delivery.send_id.in_(send_ids), Delivery.state != SKIPPED, Delivery.address != ""
            )
        )
        or 0
    )
    report.delivered = (
        session.scalar(
            select(func.count(distinct(Delivery.address))).where(
                Delivery.send_id.in_(send_ids), Delivery.state == SENT, Delivery.address != ""
            )
        )
        or 0
    )
    clicks = session.execute(
        select(ClickCount.via, func.sum(ClickCount.count))
        .join(TrackedLink, TrackedLink.id == ClickCount.link_id)
        .where(TrackedLink.consultation_id == cid, TrackedLink.kind == LINK_SURVEY)
        .group_by(ClickCount.via)
    ).all()
    report.survey_clicks_direct = sum(n for via, n in clicks if not via)
    report.survey_clicks_cascade = sum(n for via, n in clicks if via)

    codes = {
        code.id: code
        for code in session.scalars(select(ShareCode).where(ShareCode.consultation_id == cid))
    }
    sharers: dict[int, Sharer] = {}

    def sharer(code_id: int) -> Sharer:
        if code_id not in sharers:
            sharers[code_id] = Sharer(codes[code_id].contact_id if code_id in codes else None)
        return sharers[code_id]

    for code_id, visits in visits_by_code(session, share_codes(cid)).items():
        sharer(code_id).visits = visits
        report.share_visits += visits
    for via, n in clicks:
        if via and via in codes:
            sharer(via).survey_clicks += int(n)
    for completed_via, n in session.execute(
        select(SurveyCompletion.share_code_id, func.count(SurveyCompletion.id))
        .where(SurveyCompletion.consultation_id == cid)
        .group_by(SurveyCompletion.share_code_id)
    ):
        report.survey_responses += int(n)
        if completed_via is not None and completed_via in codes:
            report.survey_responses_cascade += int(n)
            sharer(completed_via).survey_responses += int(n)
    confirmed = session.scalars(
        select(SignUp).where(SignUp.consultation_id == cid, SignUp.confirmed_at.is_not(None))
    ).all()
    report.sign_ups = len(confirmed)
    for sign_up in confirmed:
        if sign_up.share_code_id is not None:
            report.sign_ups_cascade += 1
            sharer(sign_up.share_code_id).sign_ups += 1
    channels: Counter[str] = Counter()
    channel_reach: Counter[str] = Counter()
    for item in session.scalars(
        select(CascadeConfirmation).where(CascadeConfirmation.consultation_id == cid)
    ):
        if item.share_code_id is None:
            report.anonymous_claims += 1
            report.anonymous_reach += item.reach
            continue
        report.confirmations += 1
        report.reported_reach += item.reach
        channels[item.channel] += 1
        channel_reach[item.channel] += item.reach
        if item.share_code_id is not None:
            s = sharer(item.share_code_id)
            s.confirmations += 1
            s.reach += item.reach
    report.by_channel = [
        (CHANNELS.get(name, name), channels[name], channel_reach[name])
        for name in CHANNELS
        if channels[name]
    ]
    _describe(session, sharers.values())
    report.sharers = sorted(
        (s for s in sharers.values() if s.cascaded),
        key=lambda s: (-(s.visits + s.sign_ups + s.confirmations), s.organisation, s.name),
    )
    report.by_organisation = _group(report.sharers, lambda s: s.organisation or "(none given)")
    report.by_type = _group(report.sharers, lambda s: s.organisation_type or "(no type)")
    report.by_area = _group(report.sharers, lambda s: s.area or "(no area)")
    report.depth = _depth(confirmed, codes)
    report.activity, report.marks = _activity(session, consultation, confirmed)
    return report


def share_codes(consultation_id: int, *, delivered_by: int | None = None) -> ColumnElement[bool]:
    """Which share codes to count: the consultation's, or only those of the people one
    of its sends (``delivered_by``) reached. A person's share link is the same in every
    message of the consultation, so what it brings is credited to each send they got."""
    condition: ColumnElement[bool] = ShareCode.consultation_id == consultation_id
    if delivered_by is not None:
        condition = condition & exists().where(
            Delivery.send_id == delivered_by,
            Delivery.contact_id == ShareCode.contact_id,
            Delivery.state == SENT,
        )
    return condition


def visits_by_code(session: Session, codes: ColumnElement[bool]) -> dict[int, int]:
    """Visits through each of the share codes ``codes`` selects (share code id -> visits)."""
    return {
        code_id: int(visits)
        for code_id, visits in session.execute(
            select(ShareVisit.share_code_id, func.sum(ShareVisit.count))
            .join(ShareCode, ShareCode.id == ShareVisit.share_code_id)
            .where(codes)
            .group_by(ShareVisit.share_code_id)
        )
    }


def sign_ups_through(session: Session, codes: ColumnElement[bool]) -> int:
    """Confirmed sign-ups that came through the share codes ``codes`` selects."""
    return (
        session.scalar(
            select(func.count(SignUp.id))
            .join(ShareCode, ShareCode.id == SignUp.share_code_id)
            .where(codes, SignUp.confirmed_at.is_not(None))
        )
        or 0
    )


def _describe(session: Session, sharers: Any) -> None:
    ids = [s.contact_id for s in sharers if s.contact_id is not None]
    if not ids:
        return
    rows = {
        row.id: row
        for row in session.execute(
            select(
                Contact.id,
                Contact.name,
                Contact.organisation,
                Contact.area,
                OrganisationType.name.label("type_name"),
            )
            .outerjoin(OrganisationType, OrganisationType.id == Contact.organisation_type_id)
            .where(Contact.id.in_(ids))
        )
    }
    for s in sharers:
        row = rows.get(s.contact_id)
        if row is not None:
            s.name, s.organisation, s.area = row.name, row.organisation, row.area
            s.organisation_type = row.type_name or ""


def _group(sharers: list[Sharer], key: Any) -> list[tuple[str, Sharer]]:
    groups: dict[str, Sharer] = {}
    for s in sharers:
        total = groups.setdefault(key(s), Sharer(None))
        total.visits += s.visits
        total.survey_clicks += s.survey_clicks
        total.survey_responses += s.survey_responses
        total.sign_ups += s.sign_ups
        total.confirmations += s.confirmations
        total.reach += s.reach
    return sorted(
        groups.items(),
        key=lambda item: (-(item[1].visits + item[1].sign_ups + item[1].reach), item[0]),
    )


def _depth(confirmed: Any, codes: dict[int, ShareCode]) -> int:
    """Steps from an original stakeholder: someone who signed up through a share link
    is 1; someone who signed up through theirs is 2."""
    referrer_of: dict[int, int | None] = {}
    for sign_up in confirmed:
        if sign_up.contact_id is None:
            continue
        code = codes.get(sign_up.share_code_id) if sign_up.share_code_id else None
        referrer_of[sign_up.contact_id] = code.contact_id if code else None
    deepest = 0
    for contact_id, referrer in referrer_of.items():
        if referrer is None:
            continue
        depth, seen = 1, {contact_id}
        while referrer in referrer_of and referrer not in seen and referrer_of[referrer]:
            seen.add(referrer)
            referrer = referrer_of[referrer]
            depth += 1
        deepest = max(deepest, depth)
    return deepest


def _activity(
    session: Session, consultation: Consultation, confirmed: Any
) -> tuple[list[dict[str, Any]], list[tuple[date, str]]]:
    cid = consultation.id
    days: dict[date, dict[str, int]] = defaultdict(
        lambda: {
            "visits": 0,
            "survey_direct": 0,
            "survey_cascade": 0,
            "sign_ups": 0,
            "confirmations": 0,
        }
    )
    for day, n in session.execute(
        select(ShareVisit.day, func.sum(ShareVisit.count))
        .join(ShareCode, ShareCode.id == ShareVisit.share_code_id)
        .where(ShareCode.consultation_id == cid)
        .group_by(ShareVisit.day)
    ):
        days[day]["visits"] += int(n)
    for day, via, n in session.execute(
        select(ClickCount.day, ClickCount.via, func.sum(ClickCount.count))
        .join(TrackedLink, TrackedLink.id == ClickCount.link_id)
        .where(TrackedLink.consultation_id == cid, TrackedLink.kind == LINK_SURVEY)
        .group_by(ClickCount.day, ClickCount.via)
    ):
        days[day]["survey_cascade" if via else "survey_direct"] += int(n)
    for sign_up in confirmed:
        days[sign_up.confirmed_at.date()]["sign_ups"] += 1
    for item in session.scalars(
        select(CascadeConfirmation).where(
            CascadeConfirmation.consultation_id == cid,
            CascadeConfirmation.share_code_id.is_not(None),
        )
    ):
        days[item.created_at.date()]["confirmations"] += 1
    marks = [
        (send.fired_at.date(), send.label)
        for send in session.scalars(
            select(Send)
            .where(Send.consultation_id == cid, Send.fired_at.is_not(None))
            .order_by(Send.fired_at)
        )
        if send.fired_at is not None
    ]
    return [{"day": day, **days[day]} for day in sorted(days)], marks


CSV_TABLES = ("summary", "sharers", "organisations", "types", "areas", "channels", "activity")


def csv_table(report: Report, name: str) -> list[list[object]]:
    if name == "summary":
        return [["measure", "count"], *[[label, n] for label, n in report.summary_rows()]]
    counts = [
        "share_link_visits",
        "survey_clicks",
        "survey_responses",
        "sign_ups",
        "cascades_confirmed",
        "reach",
    ]
    if name == "sharers":
        return [
            ["name", "organisation", "organisation_type", "area", *counts],
            *[
                [
                    s.name,
                    s.organisation,
                    s.organisation_type,
                    s.area,
                    s.visits,
                    s.survey_clicks,
                    s.survey_responses,
                    s.sign_ups,
                    s.confirmations,
                    s.reach,
                ]
                for s in report.sharers
            ],
        ]
    if name in ("organisations", "types", "areas"):
        groups = {
            "organisations": report.by_organisation,
            "types": report.by_type,
            "areas": report.by_area,
        }[name]
        return [
            [name[:-1], *counts],
            *[
                [
                    label,
                    s.visits,
                    s.survey_clicks,
                    s.survey_responses,
                    s.sign_ups,
                    s.confirmations,
                    s.reach,
                ]
                for label, s in groups
            ],
        ]
    if name == "channels":
        return [["channel", "cascades_confirmed", "reach"], *[list(r) for r in report.by_channel]]
    if name == "activity":
        keys = ["visits", "survey_direct", "survey_cascade", "sign_ups", "confirmations"]
        return [
            ["day", *keys],
            *[[row["day"].isoformat(), *[row[k] for k in keys]] for row in report.activity],
        ]
    raise KeyError(name)
