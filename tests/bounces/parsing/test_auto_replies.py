"""RFC 3834 automatic replies: never a bounce."""

from __future__ import annotations

import pytest

from mailer.bounces.parsing import parse
from mailer.bounces.reports import REPORT_AUTO_REPLY, REPORT_BOUNCE, REPORT_UNKNOWN

from .fixtures import BOUNCE_ADDRESS, parsed


def test_an_exchange_out_of_office_to_the_bounce_address_is_no_bounce() -> None:
    report = parsed("out_of_office_exchange.msg")
    assert report.kind == REPORT_AUTO_REPLY
    assert report.failures == ()
    assert report.detail.startswith("RFC 3834 auto-reply")
    assert report.subject == (
        "Automatic reply: Consultation: Policing precept 2027/28 - have your say"
    )


def test_a_gmail_vacation_reply_is_no_bounce() -> None:
    report = parsed("vacation_gmail.msg")
    assert report.kind == REPORT_AUTO_REPLY
    assert report.failures == ()


def _reply(headers: str, *, body: str = "I am away until Monday.\n") -> bytes:
    return (
        "From: Jo Bloggs <jo@parish.example.org>\n"
        "To: bounces+d39u-9a8f1179b5a1b9e7@consult.example.gov.uk\n"
        "Message-ID: <reply-1@parish.example.org>\n"
        f"{headers}"
        "\n"
        f"{body}"
    ).encode()


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: Re: Consultation\nAuto-Submitted: auto-replied\n",
        "Subject: Re: Consultation\nAuto-Submitted: auto-notified; owner-email=jo\n",
        "Subject: Re: Consultation\nX-Autoreply: yes\n",
        "Subject: Re: Consultation\nX-Autorespond: Away\n",
        "Subject: Re: Consultation\nPrecedence: auto_reply\n",
        "Subject: Re: Consultation\nX-Auto-Response-Suppress: All\n",
        "Subject: Re: Consultation\nX-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n",
        "Subject: Automatic reply: Consultation\n",
        "Subject: Out of Office: Consultation\n",
        "Subject: Auto: Consultation\n",
        "Subject: Autosvar: Consultation\n",
        "Subject: Abwesenheitsnotiz: Consultation\n",
        "Subject: =?utf-8?q?R=C3=A9ponse_automatique=3A_Consultation?=\n",
    ],
)
def test_each_mark_of_an_auto_reply(headers: str) -> None:
    # Even one that quotes a reply code, to the bounce address of a delivery.
    message = _reply(headers, body="I am away. Error 550 5.1.1 is not mine to fix.\n")
    report = parse(message, source="mailbox", bounce_address=BOUNCE_ADDRESS)
    assert report.kind == REPORT_AUTO_REPLY


def test_auto_submitted_no_is_a_person_writing() -> None:
    report = parse(
        _reply("Subject: Re: Consultation\nAuto-Submitted: no\n"),
        source="mailbox",
        bounce_address=BOUNCE_ADDRESS,
    )
    assert report.kind == REPORT_UNKNOWN


def test_a_dsn_marked_auto_replied_is_still_a_bounce() -> None:
    # The Postfix DSN says Auto-Submitted: auto-replied; its status part wins.
    assert parsed("postfix_dsn.msg").kind == REPORT_BOUNCE
    assert parsed("gmail_ndr.msg").kind == REPORT_BOUNCE


def test_an_exchange_ndr_echoing_auto_response_suppress_is_still_a_bounce() -> None:
    assert parsed("exchange_ndr.msg").kind == REPORT_BOUNCE
