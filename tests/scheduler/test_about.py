"""Bulletins about a consultation: what they show and freeze with, and a timeline
message taking the words of a bulletin already written ("Use the words of ...").

Both database backends; a fixed "now" so the plans are exact."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.bulletins.consultation_facts import FrozenConsultation
from mailer.bulletins.models import Bulletin, BulletinAttachment, StoredFile
from mailer.config import Config
from mailer.database import Database
from mailer.delivery.models import Send
from mailer.email_templates.models import KIND_LAUNCH
from scheduler.bulletin_sends import reuse
from scheduler.consultations import about, planning
from scheduler.models import (
    AWAITING_APPROVAL,
    DRAFT,
    Consultation,
    ConsultationDocument,
    Contribution,
)
from tests.bulletins.helpers import make_bulletin
from tests.conftest import csrf_from, login
from tests.scheduler.audience import make_list
from tests.scheduler.plans import BASE, NOW, approve, create, details, submit


def _timeline(db: Database, cid: int) -> list[tuple[int, int]]:
    """(send id, bulletin id) of each message, in order."""
    with db.transaction() as session:
        return [
            (s.id, s.bulletin_id or 0)
            for s in planning.timeline(session, session.get(Consultation, cid))
        ]


def _use(db: Database, cid: int, send_id: int, source_id: int, by: User) -> str | None:
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        send = next(s for s in planning.timeline(session, consultation) if s.id == send_id)
        return about.use_words(
            session,
            consultation,
            send,
            session.get(Bulletin, source_id),
            by=session.get(User, by.id),
            now=NOW,
        )


def test_a_timeline_message_takes_the_words_of_a_bulletin_and_returns_to_draft(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    general = make_bulletin(db, people["admin"], attach=False, subject="Our plan, in brief")
    (launch_send, launch), *_rest = _timeline(db, cid)
    with db.transaction() as session:
        before = session.get(Bulletin, launch).template_id

    returned = _use(db, cid, launch_send, general, people["admin"])

    assert returned is not None and "returned it to draft" in returned
    with db.transaction() as session:
        message = session.get(Bulletin, launch)
        assert (message.subject, message.preheader, message.body_markdown) == (
            "Our plan, in brief",
            "The month in Northshire",
            "Hello **partners**.",
        )
        # A general bulletin's template is not made for a launch: the launch keeps its own.
        assert message.template_id == before and message.kind == KIND_LAUNCH
        consultation = session.get(Consultation, cid)
        assert consultation.state == DRAFT
        noted = session.scalars(
            select(Contribution).where(
                Contribution.consultation_id == cid,
                Contribution.user_email == "admin@example.org",
            )
        ).all()
        assert [c.part for c in noted] == ["the launch message: subject, preheader, words"]


def test_a_bulletin_about_the_consultation_gives_its_template_too(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    (launch_send, launch), *_rest = _timeline(db, cid)
    written = make_bulletin(
        db, people["admin"], attach=False, kind=KIND_LAUNCH, consultation_id=cid, subject="Go"
    )
    assert _use(db, cid, launch_send, written, people["editor"]) is None  # it was a draft
    with db.transaction() as session:
        source = session.get(Bulletin, written)
        message = session.get(Bulletin, launch)
        assert (message.subject, message.template_id) == ("Go", source.template_id)
        offered = about.word_sources(session, session.get(Consultation, cid))
        # Its own timeline messages are not offered; the bulletin about it is.
        assert [b.id for b in offered] == [written]


def test_words_are_refused_from_another_consultation_and_once_approved(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    other, _ = create(db, office_config, people["editor"], details(partners, title="Precept"))
    elsewhere = make_bulletin(db, people["admin"], attach=False, consultation_id=other)
    general = make_bulletin(db, people["admin"], attach=False)
    (launch_send, _launch), *_rest = _timeline(db, cid)
    with pytest.raises(about.AboutRefused, match="Choose a bulletin about this consultation"):
        _use(db, cid, launch_send, elsewhere, people["editor"])
    submit(db, cid, people["editor"])
    approve(db, cid, people["approver"])
    with pytest.raises(about.AboutRefused, match="approved as it is"):
        _use(db, cid, launch_send, general, people["editor"])


def test_about_gives_the_consultation_its_documents_and_facts(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    bulletin_id = make_bulletin(db, people["admin"], consultation_id=cid)  # attaches plan.pdf
    with db.transaction() as session:
        stored = session.scalar(select(StoredFile))
        other = StoredFile(sha256="b" * 64, size=3, content_type="application/pdf")
        session.add(other)
        session.flush()
        session.add_all(
            [
                # The same file as the bulletin's own: carried once.
                ConsultationDocument(consultation_id=cid, file_id=stored.id, filename="plan.pdf"),
                ConsultationDocument(consultation_id=cid, file_id=other.id, filename="easy.pdf"),
            ]
        )
    with db.transaction() as session:
        bulletin = session.get(Bulletin, bulletin_id)
        found = about.about(session, bulletin, BASE)
        assert found is not None
        assert [d.filename for d in found.documents] == ["plan.pdf", "easy.pdf"]
        assert all(not isinstance(d, BulletinAttachment) for d in found.documents)
        facts = FrozenConsultation.in_extra(found.extra)
        assert facts is not None and facts.id == cid
        assert found.view.survey_url == "https://survey.example.org/plan"
        bulletin.consultation_id = None
        assert about.about(session, bulletin, BASE) is None


def test_the_consultation_page_offers_the_words_of_a_bulletin(
    client: FlaskClient, db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    general = make_bulletin(db, people["admin"], attach=False, subject="Our plan, in brief")
    (_send, launch), *_rest = _timeline(db, cid)

    login(client, "approver@example.org")
    page = client.get(f"/admin/consultations/{cid}").get_data(as_text=True)
    assert "Use the words of" not in page  # an approver does not write
    token = csrf_from(page)
    url = f"/admin/bulletins/{launch}/use-words"
    assert client.post(url, data={"csrf_token": token, "source_id": general}).status_code == 403
    client.post("/logout", data={"csrf_token": token})

    login(client, "editor@example.org")
    page = client.get(f"/admin/consultations/{cid}").get_data(as_text=True)
    assert "Use the words of" in page and "Our plan, in brief" in page
    assert client.post(url, data={"source_id": general}).status_code == 400  # no token
    token = csrf_from(page)
    assert client.post(url, data={"csrf_token": token, "source_id": "x"}).status_code == 400
    response = client.post(
        url, data={"csrf_token": token, "source_id": general}, follow_redirects=True
    )
    text = response.get_data(as_text=True)
    assert "now has the words of &#34;Our plan, in brief&#34;" in text or (
        'now has the words of "Our plan, in brief"' in text
    )
    assert "returned it to draft" in text
    with db.transaction() as session:
        assert session.get(Bulletin, launch).subject == "Our plan, in brief"
        assert session.get(Consultation, cid).state != AWAITING_APPROVAL


def test_a_timeline_message_copies_as_a_bulletin_about_its_consultation(
    db: Database, office_config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid, _ = create(db, office_config, people["editor"], details(partners))
    (_send, launch), *_rest = _timeline(db, cid)
    with db.transaction() as session:
        message = session.get(Bulletin, launch)
        user = session.get(User, people["admin"].id)
        copied = reuse.copy(session, message, by=user, now=NOW)
        assert (copied.kind, copied.subject, copied.consultation_id) == (
            KIND_LAUNCH,
            message.subject,
            cid,
        )
        assert session.scalars(select(Send).where(Send.bulletin_id == copied.id)).all() == []
        # The message itself belongs to its timeline: never deleted from here.
        with pytest.raises(reuse.ReuseRefused, match="on the timeline of"):
            reuse.delete(session, message, by=user, now=NOW)
