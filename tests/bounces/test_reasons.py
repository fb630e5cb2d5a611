"""Plain reasons for a bounce, from its status code or, failing that, its words."""

from __future__ import annotations

import pytest

from mailer.bounces import reasons
from mailer.bounces.models import COMPLAINT, HARD, SOFT

POSTFIX = (
    "5.1.1 550 5.1.1 <x@example.org>: Recipient address rejected: "
    "User unknown in virtual mailbox table"
)


@pytest.mark.parametrize(
    ("kind", "status", "diagnostic", "expected"),
    [
        (HARD, "5.1.1", POSTFIX, "The address does not exist"),
        (HARD, "5.1.2", "Host or domain name not found", "The address's domain does not exist"),
        (
            HARD,
            "5.1.10",
            "RecipientNotFound; Recipient not found by SMTP address lookup",
            "The address does not exist",
        ),
        (HARD, "5.2.1", "account disabled", "The mailbox is disabled"),
        (HARD, "5.2.2", "over quota", "The mailbox is full"),
        (SOFT, "4.2.2", "mailbox full", "The mailbox is full"),
        (
            HARD,
            "5.7.1",
            "Message rejected as spam",
            "The receiving server refused it by its policy (often spam filtering)",
        ),
        (
            HARD,
            "5.7.26",
            "DMARC",
            "The receiving server refused it by its policy (often spam filtering)",
        ),
        (SOFT, "4.4.1", "connection timed out", "A temporary problem at the receiving server"),
        (COMPLAINT, "", "", "Marked the message as spam"),
        (HARD, "5.9.9", "something odd", "The receiving server refused it"),
        (SOFT, "", "", "The message could not be delivered"),
    ],
)
def test_explains_the_status_code(kind: str, status: str, diagnostic: str, expected: str) -> None:
    assert reasons.explain(kind=kind, status=status, diagnostic=diagnostic) == expected


@pytest.mark.parametrize(
    ("diagnostic", "expected"),
    [
        ("550 <x@example.org>: User unknown", "The address does not exist"),
        ("552 Mailbox full", "The mailbox is full"),
        ("452 Quota exceeded for this user", "The mailbox is full"),
        (
            "550 5.1.1 The email account that you tried to reach does not exist",
            "The address does not exist",
        ),
        ("421 try again later", "A temporary problem at the receiving server"),
        ("554 go away", "The receiving server refused it"),
        ("connection lost", "The message could not be delivered"),
    ],
)
def test_falls_back_on_the_servers_words(diagnostic: str, expected: str) -> None:
    assert reasons.explain(kind=HARD, status="", diagnostic=diagnostic) == expected


def test_a_code_in_the_words_counts_when_the_status_is_missing() -> None:
    assert reasons.explain(kind=SOFT, status="", diagnostic="450 4.2.0 greylisted") == (
        "A temporary problem at the receiving server"
    )


@pytest.mark.parametrize(
    ("status", "diagnostic", "expected"),
    [
        (
            "5.1.1",
            POSTFIX,
            "<x@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
        ),
        ("5.1.1", "550-5.1.1 The email account does not exist", "The email account does not exist"),
        ("", "smtp; 550 5.7.1 Blocked", "Blocked"),
        ("5.0.0", "", "5.0.0"),
        ("", "Bounced address", "Bounced address"),
    ],
)
def test_detail_drops_the_repeated_codes(status: str, diagnostic: str, expected: str) -> None:
    assert reasons.detail(status, diagnostic) == expected
    assert not reasons.detail(status, diagnostic).startswith("5.1.1 550")


def test_forwarded_names_the_other_address_only_when_it_differs() -> None:
    assert reasons.forwarded(sent_to="a@example.org", reported="A@Example.org ") == ""
    assert reasons.forwarded(sent_to="", reported="b@example.net") == ""
    assert reasons.forwarded(sent_to="a@example.org", reported="b@example.net") == (
        "The report names b@example.net, which the message was forwarded to."
    )
