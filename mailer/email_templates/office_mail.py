"""The office's short emails that are not bulletins: a sign-up's confirmation, review
notices to staff ("something awaits your approval", "approved", "sent back").

They come from the office (its name, its chosen from address) and carry its colour, as
its bulletins do, in a small fixed design: a heading line with the office's name, a few
paragraphs, at most one button, and a footer saying why the reader got it (and, for
staff notices, the link that turns them off). The caller queues the bytes
(``mailer.delivery.queue.enqueue``); the workers send them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any

from markupsafe import escape

from mailer.config import Config
from mailer.rendering.mime import one_line


@dataclass(frozen=True)
class OfficeMail:
    """One short message. ``paragraphs`` are plain text (escaped in the HTML)."""

    recipient: str
    subject: str
    paragraphs: tuple[str, ...]
    action_label: str = ""
    action_url: str = ""
    # Why the reader got it, one or two plain sentences in the footer.
    footer: tuple[str, ...] = ()
    # An "unsubscribe from these" link (staff notices), also as List-Unsubscribe.
    stop_label: str = ""
    stop_url: str = ""


@dataclass(frozen=True)
class From:
    name: str
    address: str

    def header(self) -> str:
        return formataddr((one_line(self.name), self.address))


def sender(config: Config, org: Mapping[str, Any]) -> From:
    """Who every message comes from: the office's name, at the address the office chose
    among the operator's allowed ones (``org["from_address"]``), else the address of
    ``[mail] from_address``. The name in ``[mail] from_address`` is used only when the
    office has no name yet."""
    config_name, config_address = parseaddr(config.mail.from_address)
    chosen = str(org.get("from_address") or "").strip()
    address = parseaddr(chosen)[1] if chosen else config_address
    return From(
        name=str(org.get("name") or "").strip() or config_name, address=address or config_address
    )


def render(mail: OfficeMail, *, org: Mapping[str, Any], sender: From, at: datetime) -> bytes:
    """The message, as CRLF bytes ready to queue."""
    message = EmailMessage()
    message["From"] = sender.header()
    message["To"] = one_line(mail.recipient)
    message["Subject"] = one_line(mail.subject)
    message["Date"] = format_datetime(at)
    message["Message-ID"] = make_msgid(domain=sender.address.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    if mail.stop_url:
        message["List-Unsubscribe"] = f"<{one_line(mail.stop_url)}>"
    message.set_content(_text(mail, org=org))
    message.add_alternative(_html(mail, org=org), subtype="html")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def _text(mail: OfficeMail, *, org: Mapping[str, Any]) -> str:
    lines: list[str] = [str(org.get("name") or ""), ""]
    for paragraph in mail.paragraphs:
        lines += [paragraph, ""]
    if mail.action_url:
        lines += [f"{mail.action_label}:", mail.action_url, ""]
    lines += ["--", *mail.footer]
    if mail.stop_url:
        lines += [f"{mail.stop_label}: {mail.stop_url}"]
    return "\n".join(lines) + "\n"


def _html(mail: OfficeMail, *, org: Mapping[str, Any]) -> str:
    colour = str(org.get("colour") or "#1d3a6e")
    name = escape(str(org.get("name") or ""))
    body = "".join(
        f'<p style="margin:0 0 16px">{escape(paragraph)}</p>' for paragraph in mail.paragraphs
    )
    if mail.action_url:
        url = escape(mail.action_url)
        body += (
            f'<p style="margin:24px 0"><a href="{url}" style="display:inline-block;'
            f"padding:12px 20px;background-color:{escape(colour)};color:#ffffff;font-weight:bold;"
            f'text-decoration:none;border-radius:4px">{escape(mail.action_label)}</a></p>'
        )
    footer = "".join(f'<p style="margin:0 0 8px">{escape(line)}</p>' for line in mail.footer)
    if mail.stop_url:
        footer += (
            f'<p style="margin:0 0 8px"><a href="{escape(mail.stop_url)}" style="color:#1d4ed8">'
            f"{escape(mail.stop_label)}</a></p>"
        )
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light only">'
        f"<title>{escape(mail.subject)}</title></head>"
        '<body style="margin:0;padding:0;background-color:#eef0f3">'
        '<table role="presentation" width="100%" style="width:100%;border-collapse:collapse">'
        '<tr><td style="padding:16px 8px">'
        '<table role="presentation" width="600" align="center" style="width:100%;max-width:600px;'
        'margin:0 auto;border-collapse:collapse;background-color:#ffffff">'
        f'<tr><td style="padding:16px 24px;background-color:{escape(colour)};color:#ffffff;'
        "font-family:Arial, Helvetica, sans-serif;font-size:16px;line-height:24px;"
        f'font-weight:bold">{name}</td></tr>'
        '<tr><td style="padding:24px;font-family:Arial, Helvetica, sans-serif;font-size:16px;'
        f'line-height:24px;color:#1f2933">{body}</td></tr>'
        '<tr><td style="padding:16px 24px;font-family:Arial, Helvetica, sans-serif;'
        f'font-size:14px;line-height:21px;color:#3e4c59;background-color:#f5f6f8">{footer}</td></tr>'
        "</table></td></tr></table></body></html>"
    )
