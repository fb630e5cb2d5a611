"""Sending a bulletin on its own, as the services see it: the request, the two-person
rule, the version the approver read, edits after submission and after approval, and
two approvers at once. Both database backends; a fixed "now"."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contacts.audience import Audience
from contacts.models import Contact
from mailer.accounts.models import User
from mailer.bulletins import messages, template_check
from mailer.bulletins.models import Bulletin
from mailer.config import Config
from mailer.database import Database, utcnow
from mailer.delivery.models import (
    SEND_AWAITING_APPROVAL,
    SEND_DRAFT,
    SEND_SCHEDULED,
    Send,
)
from mailer.email_templates import versions as template_versions
from mailer.rendering.prepare import TemplateParts
from scheduler import edits
from scheduler.bulletin_sends import approval, requests
from scheduler.consultations import planning
from tests.scheduler.audience import make_list
from tests.scheduler.bulletin_sends.helpers import approve, edit, submit, version, write
from tests.scheduler.helpers import local

NOW = local("2027-01-11 10:00")  # a Monday morning


def send_of(db: Database, send_id: int) -> Send:
    with db.transaction() as session:
        found = session.get(Send, send_id)
        session.expunge(found)
        return found


def test_a_send_asked_for_in_quiet_hours_is_moved_forward_and_says_why(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    asked = local("2027-01-15 21:30")  # Friday night: quiet hours, then the weekend
    sid = submit(db, config, bid, people["editor"], partners, now=NOW, at=asked)
    send = send_of(db, sid)
    assert send.state == SEND_AWAITING_APPROVAL
    assert send.requested_at == asked
    assert send.due_at == local("2027-01-18 08:00")  # Monday, the end of quiet hours
    assert send.reasons == [
        "moved out of quiet hours (8pm to 8am)",
        "moved from Saturday to Monday 8am: no messages at weekends",
    ]
    approved = approve(db, config, sid, people["approver"], now=NOW)
    assert approved.state == SEND_SCHEDULED
    assert send_of(db, sid).due_at == local("2027-01-18 08:00")


def test_as_soon_as_approved_goes_at_the_approval_moved_out_of_quiet_hours(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    assert send_of(db, sid).due_at is None
    late = local("2027-01-11 22:15")
    approve(db, config, sid, people["approver"], now=late)
    send = send_of(db, sid)
    assert send.due_at == local("2027-01-12 08:00")
    assert send.frozen is not None and send.approved_hash and send.web_token


def test_a_time_asked_for_that_passed_before_approval_goes_now_and_says_so(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW, at=NOW + timedelta(hours=1))
    later = NOW + timedelta(hours=3)
    approve(db, config, sid, people["approver"], now=later)
    send = send_of(db, sid)
    assert send.due_at == later
    assert any("passed before approval" in r for r in send.reasons)


@pytest.mark.parametrize(
    ("when", "words"),
    [(NOW - timedelta(minutes=1), "has passed"), (NOW, "has passed")],
)
def test_a_time_in_the_past_is_refused(
    db: Database,
    config: Config,
    people: dict[str, User],
    when,
    words,  # type: ignore[no-untyped-def]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    with pytest.raises(requests.SendRefused, match=words):
        submit(db, config, bid, people["editor"], partners, now=NOW, at=when)


def test_refusals_name_the_reason(db: Database, config: Config, people: dict[str, User]) -> None:
    partners = make_list(db, [("a@example.org", None)])
    empty = make_list(db, [])
    bid = write(db, people["editor"])
    with pytest.raises(requests.SendRefused, match="Nobody would receive it"):
        submit(db, config, bid, people["editor"], empty, now=NOW)
    with db.transaction() as session:
        session.scalar(
            select(Contact).where(Contact.email == "a@example.org")
        ).status = "unsubscribed"
    with pytest.raises(requests.SendRefused, match="Nobody would receive it"):
        submit(db, config, bid, people["editor"], partners, now=NOW)
    with pytest.raises(requests.SendRefused, match="only an editor or admin"):
        submit(db, config, bid, people["approver"], partners, now=NOW)
    with db.transaction() as session:
        session.get(Bulletin, bid).archived_at = NOW
    with pytest.raises(requests.SendRefused, match="archived"):
        submit(db, config, bid, people["editor"], partners, now=NOW)


def test_a_consultations_own_message_cannot_be_sent_on_its_own(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    from scheduler.consultations import editing
    from tests.scheduler.plans import details

    partners = make_list(db, [("a@example.org", None)])
    with db.transaction() as session:
        created, _ = editing.create(
            session,
            details(partners),
            by=session.get(User, people["editor"].id),
            rules=planning.rules_for(session, config),
            now=NOW,
        )
        launch = session.scalar(
            select(Send).where(Send.consultation_id == created.id, Send.slot == "launch")
        )
        launch_bulletin = launch.bulletin_id
    with pytest.raises(requests.SendRefused, match="cannot be sent on its own"):
        submit(db, config, launch_bulletin, people["editor"], partners, now=NOW)

    # A bulletin about it waits until its page is public (it is approved): its share
    # and document links would lead nowhere before.
    about_it = write(db, people["editor"])
    with db.transaction() as session:
        bulletin = session.get(Bulletin, about_it)
        assert bulletin is not None
        bulletin.consultation_id = created.id
    with pytest.raises(requests.SendRefused, match="work only once that consultation is approved"):
        submit(db, config, about_it, people["editor"], partners, now=NOW)


def test_whoever_wrote_it_may_not_approve_it(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["admin"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    sentence = (
        "You (admin@example.org) wrote this bulletin, so another approver must approve it "
        "(the two-person rule)."
    )
    with pytest.raises(requests.SendRefused, match=re.escape(sentence)):
        approve(db, config, sid, people["admin"], now=NOW)
    with pytest.raises(requests.SendRefused, match="only an approver or an admin"):
        approve(db, config, sid, people["editor"], now=NOW)
    approve(db, config, sid, people["approver"], now=NOW)


def test_an_admin_who_edited_or_submitted_it_may_not_approve_it(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    edit(db, bid, people["admin"], "The admin's **words**.")
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    with pytest.raises(
        requests.SendRefused,
        match=re.escape("You (admin@example.org) changed this bulletin (words), so another"),
    ):
        approve(db, config, sid, people["admin"], now=NOW)

    # A second bulletin, submitted by the admin, written by the editor.
    other = write(db, people["editor"])
    second = submit(db, config, other, people["admin"], partners, now=NOW)
    with pytest.raises(
        requests.SendRefused, match=re.escape("You (admin@example.org) submitted this bulletin")
    ):
        approve(db, config, second, people["admin"], now=NOW)
    approve(db, config, second, people["approver"], now=NOW)


def test_the_author_of_an_unreviewed_template_version_may_not_approve(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    with db.transaction() as session:
        template = session.get(Bulletin, bid).template
        current = template_versions.latest(template)
        parts = TemplateParts(
            current.subject, current.preheader, current.html + "\n<!-- v -->", current.text
        )
        checked = template_check.check_parts(
            session, template.kind, parts, settings=messages.settings_from(config), now=utcnow()
        )
        template_versions.save_version(
            session,
            template,
            parts,
            note="a footer change",
            by=session.get(User, people["admin"].id),
            checked=checked,
        )
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    with pytest.raises(
        requests.SendRefused, match=re.escape("You (admin@example.org) changed this bulletin")
    ):
        approve(db, config, sid, people["admin"], now=NOW)
    approve(db, config, sid, people["approver"], now=NOW)


def test_an_approval_of_another_version_is_refused(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    read = version(db, sid)
    assert read == version(db, sid)  # the same content, the same name
    with pytest.raises(requests.SendRefused, match="It changed since you opened it"):
        approve(db, config, sid, people["approver"], now=NOW, seen="0" * 64)
    # An attachment added meanwhile changes what would be frozen.
    from mailer.bulletins import files

    with db.transaction() as session:
        files.attach(
            session,
            session.get(Bulletin, bid),
            filename="plan.csv",
            data=b"priority,budget\nroads,100\n",
            folder=files.folder_for(config),
            limit_bytes=10_000_000,
            by=session.get(User, people["editor"].id),
        )
    with pytest.raises(requests.SendRefused, match="It changed since you opened it"):
        approve(db, config, sid, people["approver"], now=NOW, seen=read)
    approve(db, config, sid, people["approver"], now=NOW, seen=version(db, sid))


def test_an_edit_after_submission_withdraws_it_and_after_approval_is_refused(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    read = version(db, sid)
    told = edit(db, bid, people["editor"], "New **words**.")
    assert told is not None and "returned its send to draft" in told
    send = send_of(db, sid)
    assert send.state == SEND_DRAFT
    assert "edited the bulletin (words)" in send.returned_note
    with pytest.raises(requests.SendRefused, match="went back to draft after you opened it"):
        approve(db, config, sid, people["approver"], now=NOW, seen=read)

    again = submit(db, config, bid, people["editor"], partners, now=NOW)
    approve(db, config, again, people["approver"], now=NOW)
    with pytest.raises(edits.MessageLocked, match="copy it to change the words"):
        edit(db, bid, people["editor"], "Too late.")
    with db.transaction() as session:
        assert session.get(Bulletin, bid).body_markdown == "New **words**."


def test_a_second_send_of_the_same_words_is_the_new_submitters_alone(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    others = make_list(db, [("b@example.org", None)])
    bid = write(db, people["admin"])
    first = submit(db, config, bid, people["editor"], partners, now=NOW)
    approve(db, config, first, people["approver"], now=NOW)
    # The admin wrote the words, but another approved them: the admin may approve a
    # send of them to another audience that the editor asked for.
    second = submit(db, config, bid, people["editor"], others, now=NOW)
    approve(db, config, second, people["admin"], now=NOW)


def test_withdraw_takes_it_back_to_draft(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    with pytest.raises(requests.SendRefused, match="already has a send awaiting approval"):
        submit(db, config, bid, people["editor"], partners, now=NOW)
    with db.transaction() as session:
        requests.withdraw(
            session, session.get(Send, sid), by=session.get(User, people["editor"].id)
        )
    assert send_of(db, sid).state == SEND_DRAFT
    with pytest.raises(requests.SendRefused, match="Only a send awaiting approval"):
        approve(db, config, sid, people["approver"], now=NOW)


def test_two_approvers_at_once_one_wins(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    read = version(db, sid)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def approving(who: User) -> None:
        start.wait(10)
        try:
            with db.writing() as session:
                approval.approve(
                    session,
                    session.get(Send, sid),
                    by=session.get(User, who.id),
                    now=NOW,
                    rules=planning.rules_for(session, config),
                    version=read,
                    two_person=True,
                    base_url="https://consult.example.org",
                )
            outcomes.append("approved")
        except requests.SendRefused as exc:
            outcomes.append(str(exc))

    threads = [
        threading.Thread(target=approving, args=(people[name],)) for name in ("approver", "admin")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["This send is already approved.", "approved"]
    with db.transaction() as session:
        from mailer.audit.models import AuditEntry

        approvals = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "bulletin.send_approved")
        ).all()
        assert len(approvals) == 1


def test_the_audience_is_stored_as_given(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    with db.transaction() as session:
        session.scalar(select(Contact).where(Contact.email == "a@example.org")).tags = "youth"
    with db.transaction() as session:
        send = requests.request(
            session,
            session.get(Bulletin, bid),
            audience=Audience.of(lists=[partners], tags=["Youth"]),
            at=None,
            by=session.get(User, people["editor"].id),
            now=NOW,
            rules=planning.rules_for(session, config),
        )
        assert send.audience == {"lists": [partners], "organisation_types": [], "tags": ["Youth"]}


def test_organisation_settings_changed_while_waiting_withdraw_it_and_count_their_changer(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    from mailer.organisation import service as organisation

    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    with db.transaction() as session:
        admin = session.get(User, people["admin"].id)
        values = {**organisation.get(session).snapshot(), "website": "https://evil.example.net/"}
        values["social"] = ""
        organisation.save(session, values, by=admin)
        edits.settings_changed(session, ["website"], by=admin)
    send = send_of(db, sid)
    assert send.state == SEND_DRAFT and "organisation settings: website" in send.returned_note
    again = submit(db, config, bid, people["editor"], partners, now=NOW)
    with pytest.raises(requests.SendRefused, match="organisation settings: website"):
        approve(db, config, again, people["admin"], now=NOW)
    approve(db, config, again, people["approver"], now=NOW)


def test_a_template_saved_while_waiting_withdraws_it(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    with db.transaction() as session:
        template = session.get(Bulletin, bid).template
        current = template_versions.latest(template)
        parts = TemplateParts(
            current.subject, current.preheader, current.html + "\n<!-- w -->", current.text
        )
        checked = template_check.check_parts(
            session, template.kind, parts, settings=messages.settings_from(config), now=utcnow()
        )
        admin = session.get(User, people["admin"].id)
        new, _created = template_versions.save_version(
            session, template, parts, note="footer", by=admin, checked=checked
        )
        edits.template_saved(session, template, new, by=admin)
    send = send_of(db, sid)
    assert send.state == SEND_DRAFT and "template" in send.returned_note


def test_who_changed_the_organisation_settings_may_not_approve_a_bulletin_written_after(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    """The settings are in every message: an admin who changed the website and then
    approved a bulletin written afterwards would be the only person to read it."""
    from mailer.organisation import service as organisation

    partners = make_list(db, [("a@example.org", None)])
    with db.transaction() as session:
        admin = session.get(User, people["admin"].id)
        values = {**organisation.get(session).snapshot(), "website": "https://evil.example.net/"}
        values["social"] = ""
        organisation.save(session, values, by=admin)
        edits.settings_changed(session, ["website"], by=admin)
    bid = write(db, people["editor"])
    sid = submit(db, config, bid, people["editor"], partners, now=NOW)
    with pytest.raises(
        requests.SendRefused, match=r"changed this bulletin .*organisation settings"
    ):
        approve(db, config, sid, people["admin"], now=NOW)
    approve(db, config, sid, people["approver"], now=NOW)
    # Another person has approved a message with the changed settings: they are read.
    later = write(db, people["editor"], body="Next month.")
    second = submit(db, config, later, people["editor"], partners, now=NOW)
    approve(db, config, second, people["admin"], now=NOW)


def test_absurd_requests_are_refused_with_the_reason(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    with pytest.raises(requests.SendRefused, match="more than a year away"):
        submit(db, config, bid, people["editor"], partners, now=NOW, at=local("9999-12-31 23:59"))
    empty = write(db, people["editor"], body="  \n")
    with pytest.raises(requests.SendRefused, match="no words yet"):
        submit(db, config, empty, people["editor"], partners, now=NOW)
    with pytest.raises(requests.SendRefused, match="is an approver; only an editor"):
        submit(db, config, bid, people["approver"], partners, now=NOW)


def test_a_send_withdrawn_to_draft_is_submitted_again_not_left_beside_a_new_one(
    db: Database, config: Config, people: dict[str, User]
) -> None:
    partners = make_list(db, [("a@example.org", None)])
    bid = write(db, people["editor"])
    first = submit(db, config, bid, people["editor"], partners, now=NOW)
    edit(db, bid, people["editor"], body="Changed words.")
    assert send_of(db, first).state == SEND_DRAFT
    again = submit(db, config, bid, people["editor"], partners, now=NOW)
    assert again == first
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Send)) == 1
