"""The two-person rule under editing, as the services see it: nobody who made part of
the version waiting for approval approves it; an edit after submission returns it to
draft; an approval names the version its approver read.

Both database backends; a fixed "now" so the plans are exact."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailer.accounts.models import User
from mailer.audit.models import AuditEntry
from mailer.bulletins import compose, messages, template_check
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.delivery.models import SEND_DRAFT, Send
from mailer.email_templates import versions as template_versions
from mailer.email_templates.models import EmailTemplate
from mailer.organisation import service as organisation
from mailer.rendering.prepare import TemplateParts
from scheduler import approval, edits
from scheduler.consultations import editing, lifecycle, planning, read_models
from scheduler.consultations.details import ConsultationRefused, Details
from scheduler.models import AWAITING_APPROVAL, DRAFT, SCHEDULED, Blackout, Consultation
from tests.conftest import make_config
from tests.scheduler.audience import make_list
from tests.scheduler.helpers import local
from tests.scheduler.plans import details as plan

NOW = local("2027-01-11 10:00")
BASE = "https://consult.example.org"


@pytest.fixture
def config(tmp_path, db: Database) -> Config:  # type: ignore[no-untyped-def]
    return make_config(tmp_path, db.url)


def details(list_id: int, **changes: object) -> Details:
    """The lifecycle tests' plan, with launch words (the edits below change them)."""
    words = "Read the plan and [take the survey](https://survey.example.org/plan)."
    return plan(list_id, **{"launch_body": words, **changes})


def create(db: Database, config: Config, author: User, d: Details) -> int:
    with db.transaction() as session:
        created, _ = editing.create(
            session,
            d,
            by=session.get(User, author.id),
            rules=planning.rules_for(session, config),
            now=NOW,
        )
        return created.id


def update(db: Database, config: Config, cid: int, user: User, d: Details) -> None:
    with db.transaction() as session:
        editing.update(
            session,
            session.get(Consultation, cid),
            d,
            by=session.get(User, user.id),
            rules=planning.rules_for(session, config),
            now=NOW,
            confirmed=True,
        )


def submit(db: Database, cid: int, user: User) -> None:
    with db.transaction() as session:
        lifecycle.submit(
            session, session.get(Consultation, cid), by=session.get(User, user.id), now=NOW
        )


def approve(db: Database, cid: int, user: User, *, seen: str | None = None) -> None:
    with db.transaction() as session:
        lifecycle.approve(
            session,
            session.get(Consultation, cid),
            by=session.get(User, user.id),
            two_person=True,
            base_url=BASE,
            now=NOW,
            seen=seen,
        )


def version(db: Database, cid: int) -> str:
    with db.transaction() as session:
        return read_models.version(session, session.get(Consultation, cid), base_url=BASE)


def edit_launch(
    db: Database,
    cid: int,
    user: User,
    body: str,
    *,
    before_commit: Callable[[], None] | None = None,
) -> str | None:
    """What the bulletin editor does when the launch's words are saved (``before_commit``
    runs inside its transaction, at the end)."""
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        bulletin = session.get(Bulletin, launch.bulletin_id)
        by = session.get(User, user.id)
        edits.before_message_edit(session, bulletin)
        draft = compose.Draft(
            kind=bulletin.kind,
            template_id=bulletin.template_id,
            subject=bulletin.subject,
            preheader=bulletin.preheader,
            body_markdown=body,
            link_documents=bulletin.link_documents,
        )
        changed = compose.update(session, bulletin, draft, by=by)
        told = edits.message_changed(session, bulletin, changed=changed, by=by, now=NOW)
        if before_commit is not None:
            before_commit()
        return told


def state_of(db: Database, cid: int) -> tuple[str, set[str], bool]:
    """The consultation's state, its sends' states, and whether any send is frozen."""
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        timeline = planning.timeline(session, consultation)
        return (
            consultation.state,
            {s.state for s in timeline},
            any(s.frozen is not None for s in timeline),
        )


def approval_entry(db: Database) -> AuditEntry:
    with db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "consultation.approved")
        ).one()
        session.expunge(entry)
        return entry


def test_an_admin_who_rewrote_an_editors_consultation_may_not_approve_it(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    others = make_list(db, [("b@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    # The admin rewrites the title, survey address, audience and launch text...
    rewritten = details(
        others, title="Something else entirely", survey_url="https://elsewhere.example.net/"
    )
    update(db, config, cid, people["admin"], rewritten)
    edit_launch(db, cid, people["admin"], "Go to https://elsewhere.example.net/ now.")
    # ... submits it and tries to approve it himself: refused, nothing changes.
    submit(db, cid, people["admin"])
    with pytest.raises(
        ConsultationRefused, match=re.escape("You (admin@example.org) changed this consultation")
    ):
        approve(db, cid, people["admin"])
    assert state_of(db, cid) == (AWAITING_APPROVAL, {SEND_DRAFT}, False)
    # Another approver, who made none of it, may.
    approve(db, cid, people["approver"])
    assert state_of(db, cid)[0] == SCHEDULED
    entry = approval_entry(db)
    authors = {a["email"]: a["actions"] for a in entry.detail["authors"]}
    assert authors == {
        "editor@example.org": ["created"],
        "admin@example.org": ["edited", "submitted"],
    }
    assert entry.detail["content_hash"] == entry.detail["content_hash"].lower()
    assert "made by editor@example.org (created), admin@example.org (edited, submitted)" in (
        entry.summary
    )
    assert "from the admin" in entry.summary


def test_whoever_submitted_it_may_not_approve_it(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["admin"])
    submitted_by_me = re.escape("You (admin@example.org) submitted this")
    with pytest.raises(ConsultationRefused, match=submitted_by_me):
        approve(db, cid, people["admin"])


def test_an_edit_of_the_launch_text_while_submitted_returns_it_to_draft(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    read = version(db, cid)  # the approver opens it
    told = edit_launch(db, cid, people["editor"], "Take the survey at https://evil.example.net/")
    assert told and "returned it to draft" in told
    assert state_of(db, cid) == (DRAFT, {SEND_DRAFT}, False)
    with db.transaction() as session:
        note = session.get(Consultation, cid).returned_note
    assert "editor@example.org edited the launch message: words after it was submitted" in note
    # Not approvable as a draft; once submitted again, the version read before is refused.
    with pytest.raises(ConsultationRefused, match="went back to draft after you opened it"):
        approve(db, cid, people["approver"], seen=read)
    submit(db, cid, people["editor"])
    with pytest.raises(ConsultationRefused, match="changed after you opened it") as refused:
        approve(db, cid, people["approver"], seen=read)
    assert approval.short(read) in str(refused.value)
    assert state_of(db, cid) == (AWAITING_APPROVAL, {SEND_DRAFT}, False)
    # The version there is now, read again, is what is approved and frozen.
    approve(db, cid, people["approver"], seen=version(db, cid))
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        frozen = messages.Frozen.from_json(launch.frozen)
        approved_hash = session.get(Consultation, cid).approved_hash
    assert "evil.example.net" in frozen.content.body_markdown
    assert approved_hash == approval_entry(db).detail["content_hash"]


def test_the_version_names_everything_an_approval_freezes(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    first = version(db, cid)
    assert first == version(db, cid) and len(first) == 64
    edit_launch(db, cid, people["editor"], "Other words.")
    second = version(db, cid)
    assert second != first
    update(
        db, config, cid, people["editor"], details(partners, survey_url="https://x.example.org/")
    )
    assert version(db, cid) != second


def test_a_template_saved_after_submission_returns_it_to_draft_and_its_author_may_not_approve(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        template = session.get(Bulletin, launch.bulletin_id).template
        current = template_versions.latest(template)
        admin = session.get(User, people["admin"].id)
        parts = TemplateParts(
            current.subject, current.preheader, current.html + "\n<!-- v -->", current.text
        )
        checked = template_check.check_parts(
            session, template.kind, parts, settings=messages.settings_from(config), now=utcnow()
        )
        new, created = template_versions.save_version(
            session,
            template,
            parts,
            note="a footer change",
            by=admin,
            checked=checked,
        )
        assert created
        returned = edits.template_saved(session, template, new, by=admin)
        assert [c.id for c in returned] == [cid]
    assert state_of(db, cid)[0] == DRAFT
    submit(db, cid, people["editor"])
    # The template version its messages would be frozen with was saved by the admin.
    with pytest.raises(
        ConsultationRefused, match=re.escape("You (admin@example.org) changed this consultation")
    ):
        approve(db, cid, people["admin"])
    approve(db, cid, people["approver"])
    authors = {a["email"]: a["parts"] for a in approval_entry(db).detail["authors"]}
    assert any("template" in part for part in authors["admin@example.org"])


def test_a_blackout_that_moves_a_submitted_timeline_returns_it_to_draft(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    with db.transaction() as session:
        session.add(
            Blackout(
                starts_at=local("2027-01-17 00:00"),
                ends_at=local("2027-01-19 00:00"),
                reason="Pre-election period",
            )
        )
        session.flush()
        moved = lifecycle.replan(
            session,
            session.get(Consultation, cid),
            rules=planning.rules_for(session, config),
            by=session.get(User, people["approver"].id),
        )
    assert moved >= 1
    assert state_of(db, cid)[0] == DRAFT


def test_an_edit_after_approval_starts_a_new_round_with_the_same_rule(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    approve(db, cid, people["admin"])
    # The admin who approved it edits it afterwards; the editor submits it again.
    update(db, config, cid, people["admin"], details(partners, title="Renamed plan"))
    assert state_of(db, cid)[0] == DRAFT
    submit(db, cid, people["editor"])
    changed_by_me = re.escape("You (admin@example.org) changed this")
    with pytest.raises(ConsultationRefused, match=changed_by_me):
        approve(db, cid, people["admin"])
    with pytest.raises(ConsultationRefused, match=re.escape("editor@example.org is an editor")):
        approve(db, cid, people["editor"])
    approve(db, cid, people["approver"])
    assert state_of(db, cid)[0] == SCHEDULED


def test_open_now_is_refused_to_whoever_made_the_approved_version(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["admin"], details(partners))
    submit(db, cid, people["admin"])
    approve(db, cid, people["approver"])
    with db.transaction() as session, pytest.raises(ConsultationRefused, match="made the version"):
        lifecycle.open_now(
            session,
            session.get(Consultation, cid),
            by=session.get(User, people["admin"].id),
            now=NOW,
            two_person=True,
        )
    with db.transaction() as session:
        lifecycle.open_now(
            session,
            session.get(Consultation, cid),
            by=session.get(User, people["approver"].id),
            now=NOW + timedelta(minutes=1),
            two_person=True,
        )


def test_the_version_covers_the_organisation_settings_frozen_with_it(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    from mailer.organisation import service as organisation

    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    read = version(db, cid)
    with db.transaction() as session:
        organisation.get(session).signatory = "Someone Else"
    with pytest.raises(ConsultationRefused, match="changed after you opened it"):
        approve(db, cid, people["approver"], seen=read)


def test_an_edit_in_flight_when_the_approval_comes_is_never_frozen_as_approved(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    """The probe's race: the editor's save and the approver's click at the same moment.
    The edit has changed the words and not yet committed when the approval starts; the
    approval waits for it and is refused, and nothing is frozen."""
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    read = version(db, cid)
    editing, may_commit = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def hold() -> None:
        editing.set()
        assert may_commit.wait(20)

    def approving() -> None:
        assert editing.wait(20)
        try:
            approve(db, cid, people["approver"], seen=read)
            outcome["approved"] = "yes"
        except ConsultationRefused as exc:
            outcome["refused"] = str(exc)

    editor = threading.Thread(
        target=edit_launch,
        args=(db, cid, people["editor"], "Go to https://evil.example.net/ instead."),
        kwargs={"before_commit": hold},
    )
    approver = threading.Thread(target=approving)
    editor.start()
    approver.start()
    assert editing.wait(20)
    time.sleep(0.5)  # the approval is under way by now, and must be waiting
    may_commit.set()
    editor.join(30)
    approver.join(30)
    assert "went back to draft after you opened it" in outcome.get("refused", ""), outcome
    assert state_of(db, cid) == (DRAFT, {SEND_DRAFT}, False)


def save_launch_template(db: Database, config: Config, user: User) -> None:
    """``user`` saves a new version of the launch template (before any consultation)."""
    with db.transaction() as session:
        template = session.scalar(
            select(EmailTemplate).where(EmailTemplate.kind == "launch").order_by(EmailTemplate.id)
        )
        current = template_versions.latest(template)
        parts = TemplateParts(
            current.subject,
            current.preheader,
            current.html + '\n<p><a href="https://evil.example.net/">More</a></p>',
            current.text,
        )
        checked = template_check.check_parts(
            session, template.kind, parts, settings=messages.settings_from(config), now=utcnow()
        )
        _version, created = template_versions.save_version(
            session,
            template,
            parts,
            note="a link in every launch",
            by=session.get(User, user.id),
            checked=checked,
        )
        assert created


def test_a_template_written_before_the_consultation_still_counts_until_someone_else_approves_it(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    """The probe: an admin saved the launch template, then an editor wrote and submitted a
    consultation using it; the admin could approve it alone."""
    save_launch_template(db, config, people["admin"])
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    with pytest.raises(ConsultationRefused, match=re.escape('template "')):
        approve(db, cid, people["admin"])
    approve(db, cid, people["approver"])
    # Once another person has approved a message made with it, it is reviewed.
    second = create(db, config, people["editor"], details(partners, title="A second plan"))
    submit(db, second, people["editor"])
    approve(db, second, people["admin"])
    assert state_of(db, second)[0] == SCHEDULED


def test_organisation_settings_changed_after_submission_make_their_changer_an_author(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    """The probe: after the editor submitted, an admin changed the website and the sign-up
    address every message shows, then approved it alone."""
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    with db.transaction() as session:
        admin = session.get(User, people["admin"].id)
        values = {**organisation.get(session).snapshot(), "website": "https://evil.example.net/"}
        values["social"] = ""
        organisation.save(session, values, by=admin)
        returned = edits.settings_changed(session, ["website"], by=admin)
        assert [c.id for c in returned] == [cid]
    assert state_of(db, cid)[0] == DRAFT
    submit(db, cid, people["editor"])
    with pytest.raises(ConsultationRefused, match="organisation settings: website"):
        approve(db, cid, people["admin"])
    approve(db, cid, people["approver"])


def test_send_now_is_refused_to_whoever_made_the_approved_version(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["admin"], details(partners))
    submit(db, cid, people["admin"])
    approve(db, cid, people["approver"])
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        lifecycle.mark_missed(session, launch, now=NOW)
    for who, allowed in (("admin", False), ("approver", True)):
        with db.transaction() as session:
            launch = session.scalar(
                select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
            )
            by = session.get(User, people[who].id)
            if allowed:
                lifecycle.send_now(session, launch, by=by, now=NOW)
            else:
                with pytest.raises(ConsultationRefused, match="made the version"):
                    lifecycle.send_now(session, launch, by=by, now=NOW)


def test_two_steps_in_one_transaction_keep_the_first_steps_changes(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    approve(db, cid, people["approver"])
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        editor = session.get(User, people["editor"].id)
        lifecycle.return_to_draft(session, consultation, by=editor, now=NOW)
        lifecycle.submit(session, consultation, by=editor, now=NOW)
    assert state_of(db, cid)[0] == AWAITING_APPROVAL


def test_an_edit_arriving_while_an_approval_is_being_made_waits_and_is_refused(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    """The race the other way round: the approval has frozen the words it read and not
    yet committed when the editor saves. The edit must not be written on top of an
    approved message (its words would show but never go out): it waits, then is told
    the message is approved."""
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    submit(db, cid, people["editor"])
    read = version(db, cid)
    approving, may_commit = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def approve_and_hold() -> None:
        with db.transaction() as session:
            lifecycle.approve(
                session,
                session.get(Consultation, cid),
                by=session.get(User, people["approver"].id),
                two_person=True,
                base_url=BASE,
                now=NOW,
                seen=read,
            )
            approving.set()
            assert may_commit.wait(20)

    def editing() -> None:
        assert approving.wait(20)
        try:
            edit_launch(db, cid, people["editor"], "Go to https://evil.example.net/ instead.")
            outcome["saved"] = "yes"
        except edits.MessageLocked as exc:
            outcome["refused"] = str(exc)

    approver = threading.Thread(target=approve_and_hold)
    editor = threading.Thread(target=editing)
    approver.start()
    editor.start()
    assert approving.wait(20)
    time.sleep(0.5)  # the edit is under way by now, and must be waiting
    may_commit.set()
    approver.join(30)
    editor.join(30)
    assert "was approved as it is" in outcome.get("refused", ""), outcome
    assert state_of(db, cid)[0] == SCHEDULED
    with db.transaction() as session:
        launch = session.scalar(
            select(Send).where(Send.consultation_id == cid, Send.slot == "launch")
        )
        assert "evil.example.net" not in session.get(Bulletin, launch.bulletin_id).body_markdown


def test_the_version_hashes_the_consultation_in_the_shape_frozen_messages_keep(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    """Sends approved before keep the consultation's facts in this shape: the same
    content names the same version, whatever builds the record."""
    partners = make_list(db, [("a@example.org", None)])
    cid = create(db, config, people["editor"], details(partners))
    with db.transaction() as session:
        consultation = session.get(Consultation, cid)
        stored_shape = {
            "title": consultation.title,
            "summary": consultation.summary,
            "opens_at": consultation.opens_at.isoformat(),
            "closes_at": consultation.closes_at.isoformat(),
            "page_url": f"{BASE}/consultations/{consultation.slug}",
            "survey_url": consultation.survey_url,
            "slug": consultation.slug,
            "id": consultation.id,
        }
        by_hand = approval.content_hash(session, consultation, extra={"consultation": stored_shape})
        assert read_models.version(session, consultation, base_url=BASE) == by_hand
