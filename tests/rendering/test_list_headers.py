"""The headers every bulk message carries beside its content: automatic replies
suppressed, Feedback-ID, the List-Id of the reader's list, mailto: and https
List-Unsubscribe; and DKIM oversigning them, checked with dkimpy's verifier."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from collections.abc import Callable

import dkim

from mailer.email_templates.seeds import seed_parts
from mailer.rendering.dkim import DkimSigner
from mailer.rendering.prepare import PreparedMessage, Recipient, prepare
from tests.rendering.conftest import AWKWARD, SENDER, build_context, prepared


def with_feedback(signer: DkimSigner | None = None) -> PreparedMessage:
    sender = dataclasses.replace(SENDER, feedback_id="31:launch:stakeholder-mailer:npcc")
    return prepare(seed_parts("launch"), build_context("launch"), sender=sender, signer=signer)


MAILTO = "mailto:bounces+u1-0123456789abcdef@northshire-pcc.example.org?subject=unsubscribe"


def head(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_every_bulk_message_asks_for_no_automatic_replies() -> None:
    message = head(prepared("bulletin").personalise(AWKWARD[0], message_id="<a@example.org>"))
    assert message["Precedence"] == "bulk"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Feedback-ID"] is None  # [mail] feedback_id not set


def test_feedback_id_list_id_and_both_unsubscribe_addresses(
    signer: DkimSigner, dns: Callable[..., bytes]
) -> None:
    recipient = dataclasses.replace(
        AWKWARD[1],
        list_id='Partners: "North" & Zoë\'s list <list-3.stakeholders.northshire-pcc.example.org>',
        unsubscribe_mailto=MAILTO,
    )
    raw = with_feedback(signer).personalise(recipient, message_id="<b@example.org>")
    message = head(raw)
    assert message["Feedback-ID"] == "31:launch:stakeholder-mailer:npcc"
    assert str(message["List-Id"]).endswith("<list-3.stakeholders.northshire-pcc.example.org>")
    assert 'Partners: "North" & Zoë\'s list' in str(message["List-Id"])
    assert message["List-Unsubscribe"].strip() == f"<{MAILTO}>, <{AWKWARD[1].links['unsubscribe']}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        # Over 78 only for one word that cannot be folded (a long mailto: address).
        assert len(line) <= 78 or b" " not in line.strip(), line
    assert dkim.verify(raw, dnsfunc=dns)
    signed = str(message["DKIM-Signature"]).replace(" ", "")
    assert "feedback-id" in signed and "auto-submitted" in signed
    # Someone else's list gets its own List-Id, the office's when none is given.
    other = dataclasses.replace(recipient, list_id="Panel <list-4.x.example.org>")
    assert (
        head(with_feedback().personalise(other, message_id="<c@example.org>"))["List-Id"]
        == "Panel <list-4.x.example.org>"
    )
    plain = head(with_feedback().personalise(AWKWARD[0], message_id="<d@example.org>"))
    assert plain["List-Id"] == "Stakeholder Specials <stakeholders.northshire-pcc.example.org>"


def test_a_second_copy_of_an_oversigned_header_breaks_the_signature(
    signer: DkimSigner, dns: Callable[..., bytes]
) -> None:
    recipient: Recipient = dataclasses.replace(AWKWARD[0], unsubscribe_mailto=MAILTO)
    raw = prepared("launch", signer=signer).personalise(recipient, message_id="<e@example.org>")
    assert dkim.verify(raw, dnsfunc=dns)
    for added in (
        b"Subject: Urgent: confirm your password\r\n",
        b"List-Unsubscribe: <https://evil.example/u>\r\n",
        b"From: Someone Else <ceo@example.org>\r\n",
    ):
        assert not dkim.verify(added + raw, dnsfunc=dns), added
    # A header not oversigned may still be added (a relay's Received, say).
    assert dkim.verify(b"Received: from relay.example.org\r\n" + raw, dnsfunc=dns)
