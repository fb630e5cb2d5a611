"""What a frozen message knows of its consultation: one record, made at approval, read
by the workers, moved by Open now, in the JSON shape sends already stored have."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from mailer.bulletins.consultation_facts import FrozenConsultation

# As an approval has stored it since consultations began.
STORED: dict[str, Any] = {
    "title": "Draft Police and Crime Plan",
    "summary": "Tell us what matters.",
    "opens_at": "2027-01-18T09:00:00+00:00",
    "closes_at": "2027-02-28T23:59:00+00:00",
    "page_url": "https://consult.example.org/consultations/draft-plan",
    "survey_url": "https://survey.example.org/plan",
    "slug": "draft-plan",
    "id": 4,
}


def test_a_stored_record_reads_and_writes_back_unchanged() -> None:
    known = FrozenConsultation.from_json(STORED)
    assert known.to_json() == STORED
    assert list(known.to_json()) == list(STORED)
    assert known.extra() == {"consultation": STORED}
    assert FrozenConsultation.in_extra({"consultation": STORED}) == known
    assert FrozenConsultation.in_extra({}) is None


def test_made_from_a_consultation_it_has_the_stored_shape() -> None:
    consultation: Any = SimpleNamespace(
        id=4,
        slug="draft-plan",
        title="Draft Police and Crime Plan",
        summary="Tell us what matters.",
        opens_at=datetime(2027, 1, 18, 9, 0, tzinfo=UTC),
        closes_at=datetime(2027, 2, 28, 23, 59, tzinfo=UTC),
        survey_url="https://survey.example.org/plan",
    )
    made = FrozenConsultation.of(consultation, base_url="https://consult.example.org/")
    assert made.to_json() == STORED


def test_open_now_moves_the_opening_only_and_the_message_shows_it() -> None:
    known = FrozenConsultation.from_json(STORED)
    opened = known.opened(datetime(2027, 1, 12, 10, 0, tzinfo=UTC))
    assert opened.to_json() == {**STORED, "opens_at": "2027-01-12T10:00:00+00:00"}
    view = opened.view()
    assert (view.title, view.page_url, view.survey_url) == (
        STORED["title"],
        STORED["page_url"],
        STORED["survey_url"],
    )
    assert view.opens_at == datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
