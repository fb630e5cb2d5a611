"""Reading a consultation: the object ``mailer consultation show --json`` prints."""

from __future__ import annotations

from datetime import UTC, datetime

from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database
from scheduler.consultations import read_models
from scheduler.models import (
    Consultation,
)
from tests.scheduler.audience import make_list
from tests.scheduler.helpers import local
from tests.scheduler.plans import NOW, create, details


def test_show_json_has_the_contract_fields(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    with db.transaction() as session:
        data = read_models.to_json(session, session.get(Consultation, cid), now=NOW)
    assert data["id"] == cid and data["state"] == "draft"
    first = data["sends"][0]
    assert first["kind"] == "launch"
    assert first["due_at"] == "2027-01-18T09:00:00Z"
    assert first["fired_at"] is None
    assert first["counts"] == {"queued": 0, "sent": 0, "failed": 0, "skipped": 0, "bounced": 0}
    assert [s["kind"] for s in data["sends"]] == [
        "launch", "reminder", "reminder", "reminder", "close_notice",
    ]  # fmt: skip
    assert datetime.fromisoformat(data["closes_at"]) == local("2027-02-28 23:59").astimezone(UTC)
