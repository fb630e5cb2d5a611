"""Finished messages: parsed back with Python's email package, byte by byte."""

from __future__ import annotations

import email
import email.policy
import re
import smtplib
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import dkim
import pytest
from aiosmtpd.controller import Controller

from mailer.rendering.prepare import Attachment, Recipient, message_id
from tests.cli_helpers import free_port
from tests.rendering.conftest import ALL_KINDS, AWKWARD, NOW, links, prepared


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def assert_crlf_only(raw: bytes) -> None:
    assert b"\n" not in raw.replace(b"\r\n", b""), "a bare LF"
    assert b"\r" not in raw.replace(b"\r\n", b""), "a bare CR"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("recipient", AWKWARD, ids=lambda r: r.email.split("@")[0])
def test_every_template_renders_a_standard_message(kind: str, recipient: Recipient) -> None:
    msgid = message_id("northshire-pcc.example.org")
    raw = prepared(kind).personalise(recipient, message_id=msgid, now=NOW)
    assert_crlf_only(raw)
    message = parse(raw)

    assert message["From"] == "Northshire PCC <stakeholders@northshire-pcc.example.org>"
    assert message["To"].addresses[0].addr_spec == recipient.email
    assert message["To"].addresses[0].display_name == " ".join(recipient.name.split())
    assert message["Subject"] == "Have your say: the draft Police and Crime Plan"
    assert message["Date"] == "Tue, 20 Jul 2027 09:00:00 +0000"
    assert message["Message-ID"] == msgid
    assert message["List-Id"] == "Stakeholder Specials <stakeholders.northshire-pcc.example.org>"
    assert message["List-Unsubscribe"] == f"<{recipient.links['unsubscribe']}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    assert len(message.get_all("To")) == 1

    plain, html = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    text = plain.get_content()
    body = html.get_content()
    assert recipient.links["unsubscribe"] in text and recipient.links["preferences"] in text
    assert f'href="{recipient.links["unsubscribe"]}"' in body
    # Personal values are escaped in HTML, verbatim in text; a missing name has a default.
    assert "<script>" not in body and "onerror=alert" not in body
    if recipient.name:
        assert f"Dear {' '.join(recipient.name.split())}," in text
    else:
        assert "Dear colleague," in text and "Dear colleague," in body
    assert '<html lang="en-GB">' in body and body.startswith("<!DOCTYPE html>")
    assert "STAKEHOLDER SPECIAL" in text and "Stay in touch" in body
    if kind in ("launch", "reminder"):
        assert "23:59 on Sunday 15 August 2027" in text
        assert recipient.links["survey"] in text and recipient.links["share"] in text
        assert "01632 960000" in text  # how to ask for a paper copy
    # No marker survives, in either part.
    assert not re.search(r"mk[0-9a-f]{10}x\d+km", text + body)


def test_reminder_says_how_long_is_left() -> None:
    text = prepared("reminder").text(AWKWARD[0])
    assert "26 DAYS LEFT TO HAVE YOUR SAY" in text


def test_css_is_inlined_and_no_presentational_attributes_added() -> None:
    html = prepared("launch").html(AWKWARD[0])
    # Everything inlined but what cannot be: the colour schemes the message supports
    # and its dark-mode colours (an @media rule). Outlook's own rules sit in a
    # conditional comment, which only Outlook reads.
    styles = re.findall(r"<style>(.*?)</style>", re.sub(r"<!--.*?-->", "", html, flags=re.S), re.S)
    assert len(styles) == 1
    assert re.fullmatch(
        r":root \{color-scheme:light dark[^}]*\}\s*@media \(prefers-color-scheme: dark\) \{.*\}\s*",
        styles[0],
        re.S,
    )
    assert re.search(r'<h2 style="[^"]*font-size:20px', html)
    assert not re.search(r"<t[dh][^>]* (?:bgcolor|align|valign|width)=", html)
    assert "display:flex" not in html and "display:grid" not in html
    assert 'role="presentation"' in html


def test_attachments_make_multipart_mixed_with_encoded_names() -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    message = parse(
        prepared(
            "launch",
            attachments=[
                Attachment("Draft plan \u2013 2027.pdf", "application/pdf", pdf),
                Attachment("summary.csv", "text/csv", b"a,b\r\n1,2\r\n"),
            ],
        ).personalise(AWKWARD[1], message_id="<x@example.org>", now=NOW)
    )
    assert message.get_content_type() == "multipart/mixed"
    alternative, plan, summary = list(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert plan.get_filename() == "Draft plan \u2013 2027.pdf"
    assert plan.get_content() == pdf
    assert summary.get_filename() == "summary.csv"


def test_a_name_or_link_with_line_breaks_cannot_add_a_header() -> None:
    evil = Recipient(
        "victim@example.org",
        "Eve\r\nBcc: everyone@example.org\r\n",
        "Org\nX-Injected: yes",
        links={**links("z"), "unsubscribe": "https://mailer.example.org/u/z\r\nBcc: x@example.org"},
    )
    raw = prepared("launch").personalise(evil, message_id="<y@example.org>", now=NOW)
    message = parse(raw)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["To"].addresses[0].display_name == "Eve Bcc: everyone@example.org"
    assert_crlf_only(raw)


def test_bad_message_ids_and_missing_unsubscribe_links_are_refused() -> None:
    message = prepared("bulletin")
    with pytest.raises(ValueError, match="Message-ID"):
        message.personalise(AWKWARD[0], message_id="<a@b>\r\nBcc: x@y")
    with pytest.raises(ValueError, match="unsubscribe"):
        message.personalise(
            Recipient("a@example.org", links={}), message_id="<a@example.org>", now=NOW
        )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_dkim_signature_verifies_and_covers_the_unsubscribe_headers(
    kind: str, signer, dns: Callable[..., bytes]
) -> None:
    message = prepared(
        kind, signer=signer, attachments=[Attachment("plan.pdf", "application/pdf", b"%PDF" * 999)]
    )
    for recipient in AWKWARD:
        # Now, not NOW: dkimpy refuses a signature timestamp in the future.
        raw = message.personalise(recipient, message_id="<d@example.org>")
        assert_crlf_only(raw)
        assert dkim.verify(raw, dnsfunc=dns), recipient
        signature = parse(raw)["DKIM-Signature"]
        signed = re.search(r"h=([^;]+);", signature.replace("\r\n", "").replace("\t", ""))
        assert signed is not None
        names = signed.group(1).split(":")
        assert "list-unsubscribe" in names and "list-unsubscribe-post" in names
        # Altering a signed header breaks the signature.
        tampered = raw.replace(
            b"List-Unsubscribe: <", b"List-Unsubscribe: <https://evil.example/", 1
        )
        assert not dkim.verify(tampered, dnsfunc=dns)


class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[_Sink, int]]:
    sink = _Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def test_the_bytes_arrive_unchanged_at_a_real_smtp_server(smtp_sink, signer, dns) -> None:
    sink, port = smtp_sink
    raw = prepared("launch", signer=signer).personalise(AWKWARD[1], message_id="<s@example.org>")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("bounces@northshire-pcc.example.org", [AWKWARD[1].email], raw)
    assert sink.arrived.wait(5)
    _sender, rcpts, content = sink.messages[0]
    assert rcpts == [AWKWARD[1].email]
    assert content.rstrip(b"\r\n") == raw.rstrip(b"\r\n")
    assert dkim.verify(content, dnsfunc=dns)


def test_an_unusable_dkim_key_is_refused_with_a_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from mailer.rendering.dkim import DkimKeyError, DkimSigner

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(DkimKeyError, match="not a PEM private key"):
        DkimSigner.from_file(domain="example.org", selector="s", path=garbage)
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(DkimKeyError, match="use an RSA or Ed25519 key"):
        DkimSigner.from_file(domain="example.org", selector="s", path=ec_key)
