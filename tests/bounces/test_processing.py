"""The one path every bounce, complaint and unsubscribe request takes, on SQLite and
PostgreSQL: what a person sees change (the delivery, the contact, the suppression list,
the send's counts) and what must not change."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from contacts import data_rights, link_owner
from contacts.models import (
    ACTIVE,
    BOUNCED,
    SUPPRESSED_BOUNCED,
    SUPPRESSED_COMPLAINED,
    SUPPRESSED_ERASED,
    UNSUBSCRIBED,
    Contact,
)
from mailer import personal_data
from mailer.accounts.models import User
from mailer.audit import actions
from mailer.audit.models import AuditEntry
from mailer.bounces.models import COMPLAINT, SOFT, SOURCE_PIPE, SOURCE_SES, Bounce, BounceMessage
from mailer.bounces.processing import BOUNCE_ACTOR, Limits
from mailer.bounces.reports import (
    REPORT_AUTO_REPLY,
    REPORT_COMPLAINT,
    REPORT_UNSUBSCRIBE,
    Report,
)
from mailer.database import Database
from mailer.delivery import retention, sends, verp
from mailer.delivery.models import BOUNCED as DELIVERY_BOUNCED
from mailer.delivery.models import SEND_DONE, SENT, Send
from tests.bounces.helpers import (
    BOUNCE_ADDRESS,
    KEYS,
    LIMITS,
    bounce_token,
    contact_status,
    delivery,
    delivery_by_id,
    dsn,
    record,
    send_again,
    sent_send,
    suppressed_for,
)
from tests.conftest import TEST_SECRET, csrf_from, make_config
from tests.delivery.helpers import START

ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"


def count(db: Database, model: type[Bounce] | type[BounceMessage]) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def audit_actions(db: Database, action: str) -> int:
    with db.transaction() as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


def test_a_hard_bounce_marks_the_delivery_bounced_and_suppresses_the_contact(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE, BOB])
    row = delivery(db, send_id, ALICE)
    outcome = record(db, dsn(row))

    assert outcome.describe() == "1 recorded, 1 suppressed"
    after = delivery_by_id(db, row.id)
    assert after.state == DELIVERY_BOUNCED and after.hard_bounce
    assert "5.1.1" in after.last_reply and "User unknown" in after.last_reply
    assert contact_status(db, ALICE) == BOUNCED
    assert suppressed_for(db, ALICE) == SUPPRESSED_BOUNCED
    assert (contact_status(db, BOB), suppressed_for(db, BOB)) == (ACTIVE, None)
    assert delivery(db, send_id, BOB).state == SENT
    with db.transaction() as session:
        counts = sends.progress(session, send_id)
        bounce = session.scalar(select(Bounce))
    assert (counts.sent, counts.bounced) == (1, 1)
    assert bounce is not None and bounce.outcome == "Suppressed: 1 hard bounce."
    assert (bounce.delivery_id, bounce.send_id, bounce.address) == (row.id, send_id, ALICE)
    assert audit_actions(db, actions.CONTACT_BOUNCED) == 1
    assert count(db, BounceMessage) == 1


def test_with_a_hard_bounce_limit_of_two_the_second_hard_bounce_suppresses(
    db: Database, admin_user: User
) -> None:
    limits = replace(LIMITS, hard_limit=2)
    first = sent_send(db, admin_user, [ALICE])
    second = send_again(db, admin_user, first)
    outcome = record(db, dsn(delivery(db, first, ALICE)), limits=limits)
    assert outcome.suppressed == 0
    assert delivery(db, first, ALICE).state == DELIVERY_BOUNCED
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (ACTIVE, None)
    with db.transaction() as session:
        assert session.scalar(select(Bounce.outcome)) == (
            "Counted: 1 of 2 hard bounces before suppression."
        )

    outcome = record(db, dsn(delivery(db, second, ALICE), fingerprint="<dsn-2@mx>"), limits=limits)
    assert outcome.suppressed == 1
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (BOUNCED, SUPPRESSED_BOUNCED)


def test_soft_bounces_suppress_only_at_the_limit_within_the_window(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    limits = replace(LIMITS, soft_limit=3, soft_window=timedelta(days=30))

    def soft(number: int, *, days_ago: int = 0) -> None:
        report = dsn(row, kind=SOFT, status="4.2.2", fingerprint=f"<soft-{number}@mx>")
        record(db, report, limits=limits, now=START - timedelta(days=days_ago))

    soft(1, days_ago=45)  # outside the window by the time the others come
    soft(2, days_ago=3)
    soft(3)
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (ACTIVE, None)
    # A soft bounce does not make the delivery bounced: the server is still trying.
    assert delivery_by_id(db, row.id).state == SENT
    with db.transaction() as session:
        latest = session.scalar(select(Bounce).order_by(Bounce.id.desc()))
    assert latest is not None
    assert latest.outcome == "Counted: 2 of 3 soft bounces within 30 days."

    soft(4)
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (BOUNCED, SUPPRESSED_BOUNCED)
    assert count(db, Bounce) == 4


def complaint(row_address: str, row_message_id: str, **changes: object) -> Report:
    base = dsn(
        None,
        address=row_address,
        kind=COMPLAINT,
        status="",
        message_id=row_message_id,
        fingerprint="<arf-1@feedback.example.net>",
        report_kind=REPORT_COMPLAINT,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_complaint_unsubscribes_and_subscribing_again_does_not_lift_it(
    db: Database, app: Flask, client: FlaskClient, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE, BOB])
    row = delivery(db, send_id, ALICE)
    outcome = record(db, complaint(ALICE, row.message_id))  # matched by the Message-ID

    assert outcome.describe() == "1 recorded, 1 suppressed, 1 unsubscribed"
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (
        UNSUBSCRIBED,
        SUPPRESSED_COMPLAINED,
    )
    assert contact_status(db, BOB) == ACTIVE
    assert audit_actions(db, actions.CONTACT_COMPLAINED) == 1
    # The message was delivered: a complaint is not a bounce.
    assert delivery_by_id(db, row.id).state == SENT

    # Alice follows the link in an older message and asks to come back.
    with db.transaction() as session:
        alice = session.scalar(select(Contact).where(Contact.email_key == ALICE))
        assert alice is not None
        token = link_owner.unsubscribe_token(alice, keys=[TEST_SECRET])
    page = client.get(f"/u/{token}").get_data(as_text=True)
    answer = client.post(
        f"/u/{token}/resubscribe", data={"csrf_token": csrf_from(page), "confirm": "yes"}
    )
    assert answer.status_code == 302
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "We cannot start sending to this address again from here" in shown
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (
        UNSUBSCRIBED,
        SUPPRESSED_COMPLAINED,
    )
    # The next send skips her.
    again = send_again(db, admin_user, send_id)
    with db.transaction() as session:
        assert sends.progress(session, again).skipped == 1


def test_a_complaint_after_an_unsubscribe_is_not_undone_by_subscribing_again(
    db: Database, admin_user: User
) -> None:
    from contacts import subscriptions

    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    with db.transaction() as session:
        alice = session.get(Contact, row.contact_id)
        subscriptions.unsubscribe(session, alice, send_id=send_id, one_click=True)
    record(db, complaint(ALICE, row.message_id))
    assert suppressed_for(db, ALICE) == SUPPRESSED_COMPLAINED
    with db.transaction() as session:
        assert not subscriptions.resubscribe(session, session.get(Contact, row.contact_id))
    assert contact_status(db, ALICE) == UNSUBSCRIBED


def test_the_same_report_twice_is_counted_once(db: Database, admin_user: User) -> None:
    limits = replace(LIMITS, hard_limit=2)
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    first = record(db, dsn(row), limits=limits)
    second = record(db, dsn(row), limits=limits)
    # The same message by another way in (the mailbox, then the pipe) is the same too.
    third = record(db, dsn(row, source=SOURCE_PIPE), limits=limits)

    assert first.recorded == 1
    assert second.describe() == third.describe() == "0 recorded, 1 already recorded"
    assert (count(db, Bounce), count(db, BounceMessage)) == (1, 1)
    assert contact_status(db, ALICE) == ACTIVE  # one hard bounce of two, not two


def test_a_mailbox_report_naming_only_an_address_changes_nothing(
    db: Database, admin_user: User
) -> None:
    """Anyone can write to the bounce mailbox: a forged DSN naming a stakeholder's
    address must not suppress them."""
    send_id = sent_send(db, admin_user, [ALICE])
    outcome = record(db, dsn(None, address=ALICE, token=""))
    assert outcome.describe() == "1 recorded, 1 not matched to a message"
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (ACTIVE, None)
    assert delivery(db, send_id, ALICE).state == SENT
    with db.transaction() as session:
        bounce = session.scalar(select(Bounce))
    assert bounce is not None and bounce.delivery_id is None
    assert bounce.outcome == "Not matched to any message we sent: nothing changed."


def test_a_forged_or_mangled_token_is_ignored(db: Database, admin_user: User) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    good = bounce_token(row)
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    other_key = verp.make_token(verp.BOUNCE, row.id, keys=["somebody else's key"])
    unsubscribe = verp.make_token(verp.UNSUBSCRIBE, row.id, keys=KEYS)  # not a bounce token
    # Ours, but naming another send than the row's now (a database started afresh with
    # the same key numbers its deliveries from 1 again): not this delivery's bounce.
    another_send = verp.make_token(verp.BOUNCE, row.id, keys=KEYS, send_id=row.send_id + 1)
    for number, token in enumerate([flipped, other_key, unsubscribe, another_send, "d1-zz"]):
        outcome = record(db, dsn(row, token=token, fingerprint=f"<forged-{number}@x>"))
        assert outcome.unmatched == 1, token
    assert (contact_status(db, ALICE), suppressed_for(db, ALICE)) == (ACTIVE, None)
    assert delivery(db, send_id, ALICE).state == SENT


def test_a_token_signed_with_an_old_secret_key_still_counts(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    old_key = "the-key-before-rotation-" + "o" * 32
    config = make_config(
        tmp_path,
        db.url,
        app={"secret_key": "the-key-after-rotation-" + "n" * 32, "old_secret_keys": [old_key]},
        bounces={"address": BOUNCE_ADDRESS},
    )
    limits = Limits.from_config(config, keys=[config.app.secret_key, *config.app.old_secret_keys])
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    # Found in the address the DSN came to, as a pipe or a mailbox hands it over.
    address = verp.envelope_sender(BOUNCE_ADDRESS, row.id, keys=[old_key], send_id=send_id)
    report = replace(dsn(row, token=""), recipients=(f"<{address.upper()}>",))
    assert record(db, report, limits=limits).suppressed == 1
    assert delivery(db, send_id, ALICE).state == DELIVERY_BOUNCED


def test_a_signed_webhook_report_may_name_only_the_address(db: Database, admin_user: User) -> None:
    first = sent_send(db, admin_user, [ALICE, BOB])
    latest = send_again(db, admin_user, first)
    report = dsn(
        None, address="Alice@Example.org", token="", source=SOURCE_SES, trusted=True, raw=b""
    )
    report = replace(report, raw=b"", fingerprint="ses-event-0001")
    outcome = record(db, report)
    assert outcome.describe() == "1 recorded, 1 suppressed"
    # The address's latest message is the one that bounced.
    assert delivery(db, latest, ALICE).state == DELIVERY_BOUNCED
    assert delivery(db, first, ALICE).state == SENT
    assert contact_status(db, ALICE) == BOUNCED
    assert contact_status(db, BOB) == ACTIVE
    assert count(db, BounceMessage) == 0  # a webhook has no message to keep


def finish(db: Database, send_id: int, *, days_ago: int) -> None:
    with db.transaction() as session:
        session.execute(
            update(Send)
            .where(Send.id == send_id)
            .values(state=SEND_DONE, finished_at=START - timedelta(days=days_ago))
        )


def test_a_late_bounce_after_the_send_finished_counts_as_bounced(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE, BOB])
    finish(db, send_id, days_ago=2)
    record(db, dsn(delivery(db, send_id, ALICE)))
    with db.transaction() as session:
        counts = sends.progress(session, send_id)
        assert session.get(Send, send_id).state == SEND_DONE
    assert (counts.sent, counts.bounced) == (1, 1)


def test_a_late_bounce_after_retention_moves_one_from_sent_to_bounced_in_the_summary(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE, BOB, CAROL])
    row = delivery(db, send_id, BOB)
    finish(db, send_id, days_ago=40)
    with db.transaction() as session:
        assert retention.purge(session, now=START, keep=timedelta(days=30)) == 3

    first = record(db, dsn(row))
    again = record(db, dsn(row))
    with db.transaction() as session:
        counts = sends.progress(session, send_id)
        bounce = session.scalar(select(Bounce))
    assert (counts.sent, counts.bounced, counts.total) == (2, 1, 3)
    assert first.unmatched == 1 and again.repeated == 1
    assert bounce is not None and (bounce.send_id, bounce.delivery_id) == (send_id, None)
    assert bounce.outcome.startswith("Counted as bounced in the send's totals")
    # The person behind the deleted row is not guessed from the report's address.
    assert (contact_status(db, BOB), suppressed_for(db, BOB)) == (ACTIVE, None)


def erase(db: Database, tmp_path: Path, admin_user: User, address: str) -> None:
    config = make_config(tmp_path, db.url)
    with db.transaction() as session:
        contact = session.scalar(select(Contact).where(Contact.email_key == address))
        data_rights.erase(
            session,
            contact,
            by=session.get(User, admin_user.id),
            scrubbers=personal_data.erasure_scrubbers(config),
        )


def test_a_bounce_for_an_erased_contact_is_recorded_without_their_address(
    tmp_path: Path, db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE, BOB])
    row = delivery(db, send_id, ALICE)
    erase(db, tmp_path, admin_user, ALICE)
    raw = f"To: {BOUNCE_ADDRESS}\r\n\r\n<{ALICE}>: host said: 550 5.1.1 unknown\r\n".encode()
    outcome = record(db, dsn(row, address=ALICE, raw=raw))
    # A complaint arriving for the erased person too.
    record(db, complaint(ALICE, row.message_id, fingerprint="<arf-erased@x>"))

    assert outcome.recorded == 1
    assert delivery_by_id(db, row.id).state == DELIVERY_BOUNCED
    with db.transaction() as session:
        bounces = session.scalars(select(Bounce).order_by(Bounce.id)).all()
        stored = session.scalars(select(BounceMessage.data)).all()
    reply = delivery_by_id(db, row.id).last_reply
    assert [b.outcome for b in bounces] == ["Recorded; the person has since been erased."] * 2
    for bounce in bounces:
        assert ALICE not in f"{bounce.address} {bounce.email_key} {bounce.diagnostic}"
        assert bounce.contact_id is None
    assert ALICE not in reply and "[erased]" in reply
    assert not any(ALICE.encode() in data for data in stored)
    assert suppressed_for(db, ALICE) == SUPPRESSED_ERASED
    assert contact_status(db, BOB) == ACTIVE


def unsubscribe_request(token: str, *, in_address: bool = False) -> Report:
    address = verp.address_with(BOUNCE_ADDRESS, token)
    return Report(
        kind=REPORT_UNSUBSCRIBE,
        source=SOURCE_PIPE,
        fingerprint=f"<unsubscribe-{token}@mail.example.net>",
        verp_token="" if in_address else token,
        recipients=(address,) if in_address else (),
        subject="unsubscribe",
        raw=f"To: {address}\r\nSubject: unsubscribe\r\n\r\n".encode(),
    )


def test_an_unsubscribe_request_unsubscribes_exactly_that_deliverys_contact(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE, BOB])
    row = delivery(db, send_id, ALICE)
    token = verp.make_token(verp.UNSUBSCRIBE, row.id, keys=KEYS)
    outcome = record(db, unsubscribe_request(token, in_address=True))
    assert outcome.unsubscribed == 1
    assert contact_status(db, ALICE) == UNSUBSCRIBED
    assert contact_status(db, BOB) == ACTIVE
    # Asking twice changes nothing more.
    assert record(db, unsubscribe_request(token)).unsubscribed == 0
    assert count(db, Bounce) == 0  # an unsubscribe is not a bounce


def test_an_unsubscribe_request_with_a_bounce_or_forged_token_does_nothing(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    real = verp.make_token(verp.UNSUBSCRIBE, row.id, keys=KEYS)
    forged = [
        bounce_token(row),  # the envelope sender's token names a bounce, not a request
        verp.make_token(verp.UNSUBSCRIBE, row.id, keys=["a guessed key"]),
        real[:-2] + ("00" if not real.endswith("00") else "11"),
        "",
    ]
    for token in forged:
        outcome = record(db, unsubscribe_request(token))
        assert outcome.ignored == "an unsubscribe request without a valid token", token
    assert contact_status(db, ALICE) == ACTIVE


def test_an_automatic_reply_changes_nothing(db: Database, admin_user: User) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    outcome = record(db, replace(dsn(row), kind=REPORT_AUTO_REPLY))
    assert outcome.describe().startswith("ignored: an automatic reply")
    assert count(db, Bounce) == 0
    assert (contact_status(db, ALICE), delivery(db, send_id, ALICE).state) == (ACTIVE, SENT)


def unsubscribe_entries(db: Database) -> list[tuple[str, str]]:
    with db.transaction() as session:
        return [
            (entry.actor_label, entry.summary)
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.action == actions.CONTACT_UNSUBSCRIBED)
            )
        ]


def test_a_complaint_is_recorded_as_a_complaint_not_as_the_person_clicking_a_link(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    record(db, complaint(ALICE, row.message_id))
    [(actor, summary)] = unsubscribe_entries(db)
    assert actor == BOUNCE_ACTOR
    assert "marked a message as spam" in summary


def test_an_emailed_unsubscribe_says_it_came_by_email(db: Database, admin_user: User) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    record(db, unsubscribe_request(verp.make_token(verp.UNSUBSCRIBE, row.id, keys=KEYS)))
    [(actor, summary)] = unsubscribe_entries(db)
    assert actor == "stakeholder (by email)"
    assert "an email to the unsubscribe address" in summary and "one-click" not in summary


def test_the_page_shows_our_message_id_not_the_one_a_report_quotes(
    db: Database, admin_user: User
) -> None:
    send_id = sent_send(db, admin_user, [ALICE])
    row = delivery(db, send_id, ALICE)
    outcome = record(db, dsn(row, message_id="<someone-elses@example.net>"))
    with db.transaction() as session:
        bounce = session.get(Bounce, outcome.bounce_ids[0])
        assert bounce is not None and bounce.message_id == row.message_id
