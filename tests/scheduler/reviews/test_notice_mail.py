"""The bytes of a review notice: a long List-Unsubscribe address stays plain text a
mail program can follow (not RFC 2047 encoded words), it offers one-click (RFC 8058),
and a comment's line breaks survive into the HTML part, escaped. No database."""

from __future__ import annotations

from datetime import UTC, datetime

from mailer.email_templates import office_mail
from tests.scheduler.reviews.helpers import parse, read

STOP = "https://mailer.example.org/notices/off/" + "eyJ1IjoxLCJrIjoiYWJjZGVm" * 12
COMMENT = "First line <b>bold</b>\nSecond line\n\nA new paragraph & more"


def rendered() -> bytes:
    mail = office_mail.OfficeMail(
        recipient="ann@example.org",
        subject="Sent back: Draft plan",
        paragraphs=("Ann sent it back with this comment:", COMMENT),
        stop_label="Stop these emails about approvals",
        stop_url=STOP,
    )
    return office_mail.render(
        mail,
        org={"name": "The Office"},
        sender=office_mail.From("The Office", "office@example.org"),
        at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    )


def test_a_long_unsubscribe_address_stays_plain_and_offers_one_click() -> None:
    raw = rendered()
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert f"\r\nList-Unsubscribe: <{STOP}>\r\n" in headers
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in headers
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert read(parse(raw)).stop_url == STOP


def test_the_comments_line_breaks_are_kept_and_escaped_in_the_html() -> None:
    notice = read(parse(rendered()))
    assert (
        "First line &lt;b&gt;bold&lt;/b&gt;<br>Second line<br><br>A new paragraph &amp; more"
        in notice.html
    )
    assert "<b>bold</b>" not in notice.html
    assert COMMENT in notice.text.replace("\r\n", "\n")
