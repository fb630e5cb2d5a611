"""The shipped design's upgrade (mailer init) never changes what a submission awaiting
approval would send: a template such a submission uses waits for a later run."""

from __future__ import annotations

from sqlalchemy import select

from mailer.accounts.models import User
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database
from mailer.email_templates.family import MEMBER_BY_KIND
from mailer.email_templates.models import KIND_BULLETIN, KIND_LAUNCH, EmailTemplate
from scheduler import edits
from tests.scheduler.audience import make_list
from tests.scheduler.bulletin_sends.helpers import approve as approve_send
from tests.scheduler.bulletin_sends.helpers import submit as submit_send
from tests.scheduler.bulletin_sends.helpers import write
from tests.scheduler.plans import NOW, approve, create, details, submit


def uses(db: Database, kind: str) -> bool:
    with db.transaction() as session:
        template = session.scalar(
            select(EmailTemplate).where(EmailTemplate.name == MEMBER_BY_KIND[kind].name)
        )
        return edits.awaiting_approval_uses(session, template)


def test_a_consultation_awaiting_approval_holds_its_templates(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["admin"], details(partners))
    assert not uses(db, KIND_LAUNCH)  # a draft may still change: no one has submitted it
    submit(db, cid, people["admin"])
    assert uses(db, KIND_LAUNCH)
    assert not uses(db, KIND_BULLETIN)
    approve(db, cid, people["approver"])
    assert not uses(db, KIND_LAUNCH)  # approved sends keep the version they froze


def test_a_bulletin_send_awaiting_approval_holds_its_template(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bulletin_id = write(db, people["editor"])
    with db.transaction() as session:
        assert session.get(Bulletin, bulletin_id).template.kind == KIND_BULLETIN
    assert not uses(db, KIND_BULLETIN)
    send_id = submit_send(db, config, bulletin_id, people["editor"], partners, now=NOW)
    assert uses(db, KIND_BULLETIN)
    approve_send(db, config, send_id, people["approver"], now=NOW)
    assert not uses(db, KIND_BULLETIN)
