"""The review services on their own: events kept and read back (history, the open
send-back, the last approval of a consultation or of any send of a bulletin), and who
the notices go to, from whom, with what link. Both database backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mailer.accounts import roles
from mailer.accounts.models import User
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import SEND_DRAFT, QueuedMessage, Send
from mailer.organisation import service as organisation
from scheduler.reviews import events, notices
from scheduler.reviews.models import APPROVED, SENT_BACK, SUBMITTED
from tests.conftest import TEST_SECRET, add_user
from tests.scheduler.audience import make_list
from tests.scheduler.bulletin_sends.helpers import write
from tests.scheduler.reviews.helpers import notices as queued

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def staff(db: Database) -> dict[str, User]:
    return {
        "ed": add_user(db, email="ed@example.org", role=roles.EDITOR, name="Ed Editor"),
        "amy": add_user(db, email="amy@example.org", role=roles.APPROVER, name="Amy"),
        "ada": add_user(db, email="ada@example.org", role=roles.ADMIN),
        "off": add_user(db, email="off@example.org", role=roles.APPROVER),
    }


def test_a_review_is_of_one_thing() -> None:
    with pytest.raises(ValueError):
        events.Subject()
    with pytest.raises(ValueError):
        events.Subject(consultation_id=1, send_id=2)


def test_who_is_told_and_how(db: Database, staff: dict[str, User], config: Config) -> None:
    with db.transaction() as session:
        organisation.ensure_settings(session)
        organisation.get(session).name = "Northshire PCC"
        session.get(User, staff["off"].id).notices_off = True
        ed = session.get(User, staff["ed"].id)
        mailing = notices.Mailing(
            config=config, secret_keys=(TEST_SECRET,), page_url="https://x.example/admin/c/1"
        )
        about = notices.About(what="consultation", title="Draft plan\r\nBcc: evil@example.org")
        told = notices.awaiting(session, mailing, about, by=ed, authors={staff["ada"].id}, now=NOW)
        assert told == 1  # Amy: not Ada (an author), not the one with notices off, not Ed
        amy = session.get(User, staff["amy"].id)
        assert notices.approved(session, mailing, about, by=amy, to={ed.id, amy.id}, now=NOW) == 1
    (awaits, approved) = queued(db)
    assert awaits.to == "amy@example.org" and approved.to == "ed@example.org"
    assert "Bcc" not in awaits.to and "\n" not in awaits.subject
    assert "Ed Editor submitted the consultation" in awaits.text
    assert "https://x.example/admin/c/1" in awaits.text and "/notices/off/" in awaits.stop_url
    with db.transaction() as session:
        row = session.scalars(select(QueuedMessage).order_by(QueuedMessage.id)).first()
        assert b"Northshire PCC" in row.data.split(b"\r\n\r\n")[0]  # the sender's name


def test_events_are_read_back_in_order(db: Database, staff: dict[str, User]) -> None:
    make_list(db, [("a@example.org", None)])
    bid = write(db, staff["ed"])
    with db.transaction() as session:
        first = Send(bulletin_id=bid, kind="bulletin", state=SEND_DRAFT, title="One")
        second = Send(bulletin_id=bid, kind="bulletin", state=SEND_DRAFT, title="Two")
        session.add_all([first, second])
        session.flush()
        ed, amy = session.get(User, staff["ed"].id), session.get(User, staff["amy"].id)
        one = events.Subject(send_id=first.id, bulletin_id=bid)
        two = events.Subject(send_id=second.id, bulletin_id=bid)
        events.record(session, one, action=SUBMITTED, by=ed, now=NOW)
        events.record(session, one, action=SENT_BACK, by=amy, now=NOW + timedelta(1), comment="No")
        assert events.open_send_back(session, one) is not None
        assert events.open_send_back(session, one).comment == "No"  # type: ignore[union-attr]
        events.record(session, one, action=SUBMITTED, by=ed, now=NOW + timedelta(2))
        assert events.open_send_back(session, one) is None
        events.record(
            session, one, action=APPROVED, by=amy, now=NOW + timedelta(3), snapshot={"a": 1}
        )
        # The second send of the same bulletin is compared with the first's approval.
        assert events.last_approved(session, two).snapshot == {"a": 1}  # type: ignore[union-attr]
        steps = events.history(session, one)
        assert [s.label for s in steps] == ["Approved", "Submitted", "Sent back", "Submitted"]
        assert steps[0].by == "Amy (amy@example.org)"
        assert events.history(session, two) == []
