"""The office's short emails that are not bulletins: a sign-up's confirmation, review
notices to staff ("something awaits your approval", "approved", "sent back").

They come from the office (its name, its chosen from address) and carry its colour, as
its bulletins do, in a small fixed design: a heading line with the office's name, a few
paragraphs, at most one button, and a footer saying why the reader got it (and, for
staff notices, the link that turns them off). The caller queues the bytes
(``mailer.delivery.queue.enqueue``); the workers send them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import quote

from markupsafe import escape
from sqlalchemy.orm import Session

from mailer.config import Config
from mailer.organisation import branding
from mailer.organisation import service as organisation
from mailer.rendering import mime
from mailer.rendering.mime import one_line

ONE_CLICK = "List-Unsubscribe=One-Click"


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


def organisation_values(session: Session) -> dict[str, Any]:
    """The office's values an office mail shows (name, logo, colours, address) and the
    address it chose to send from; empty before `mailer init` seeded them."""
    try:
        settings = organisation.get(session)
    except LookupError:
        return {}
    return {**settings.snapshot(), "from_address": settings.from_address}


def sender(config: Config, org: Mapping[str, Any]) -> From:
    """Who every message comes from: the office's name, at the address the office chose
    among the operator's allowed ones (``org["from_address"]``), else the address of
    ``[mail] from_address``. The name in ``[mail] from_address`` is used only when the
    office has no name yet."""
    default_name, default_address = parseaddr(config.mail.from_address)
    return choose(
        org,
        default_name=default_name,
        default_address=default_address,
        allowed=config.mail.allowed_addresses,
    )


def choose(
    org: Mapping[str, Any], *, default_name: str, default_address: str, allowed: Sequence[str]
) -> From:
    """:func:`sender`'s rule, for callers holding the configured values rather than the
    configuration (the message settings of mailer.bulletins.messages): the name and
    address of ``[mail] from_address``, and the allowed addresses. A chosen address the
    operator has since removed from ``allowed`` falls back to the default address, so
    nothing goes from an address the operator no longer vouches for."""
    chosen = parseaddr(str(org.get("from_address") or "").strip())[1]
    permitted = {address.casefold(): address for address in allowed}
    address = permitted.get(chosen.casefold(), default_address) if chosen else default_address
    name = one_line(str(org.get("name") or "")) or default_name
    return From(name=name, address=address or default_address)


def chosen_is_allowed(org: Mapping[str, Any], *, allowed: Sequence[str]) -> bool:
    """False when the office chose an address the operator no longer allows."""
    chosen = str(org.get("from_address") or "").strip().casefold()
    return not chosen or chosen in {address.casefold() for address in allowed}


def render(mail: OfficeMail, *, org: Mapping[str, Any], sender: From, at: datetime) -> bytes:
    """The message, as CRLF bytes ready to queue: written with the fast path's pieces
    (mailer.rendering.mime), so it keeps the same wire limits as a bulletin: no
    quoted-printable line over 76 characters, no encoded word over 75, no header line
    over 78 but the List-Unsubscribe line of a long address."""
    alternative = mime.boundary()
    headers = [
        mime.address_header("From", sender.name, sender.address),
        mime.address_header("To", "", one_line(mail.recipient)),
        mime.text_header("Subject", mail.subject),
        mime.header("Date", format_datetime(at)),
        mime.header("Message-ID", make_msgid(domain=sender.address.rpartition("@")[2] or None)),
        # Automatic, so no automatic answer (RFC 3834; Exchange reads its own header): an
        # out-of-office reply to a sign-up confirmation or a staff notice helps nobody.
        # Not Precedence: bulk, which these one-to-one messages are not (some mail
        # programs file bulk mail out of the inbox, and a confirmation must be seen).
        b"Auto-Submitted: auto-generated\r\n",
        b"X-Auto-Response-Suppress: All\r\n",
    ]
    if mail.stop_url:
        # One token that cannot be folded, so written on the name's line whatever its
        # length (RFC 5322 allows 998): never as RFC 2047 encoded words, which no mail
        # program follows as a link, and never broken.
        headers.append(f"List-Unsubscribe: <{plain_url(mail.stop_url)}>\r\n".encode("ascii"))
        # RFC 8058: the mail program's own "unsubscribe" button POSTs this body.
        headers.append(f"List-Unsubscribe-Post: {ONE_CLICK}\r\n".encode("ascii"))
    headers += [
        b"MIME-Version: 1.0\r\n",
        mime.header("Content-Type", f'multipart/alternative; boundary="{alternative}"'),
    ]
    body: list[bytes] = []
    for subtype, content in (("plain", _text(mail, org=org)), ("html", _html(mail, org=org))):
        body.append(
            f"--{alternative}\r\n"
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
        )
        body.append(mime.qp(content))
    body.append(f"--{alternative}--\r\n".encode("ascii"))
    return b"".join(headers) + b"\r\n" + b"".join(body)


# What may stay as it is in a URL in a header (RFC 3986's reserved and unreserved
# characters, and "%"); anything else, a space or a letter beyond ASCII, is
# percent-encoded, which every browser reads as the same address.
_URL_SAFE = "-._~:/?#[]@!$&'()*+,;=%"


def plain_url(url: str) -> str:
    """``url`` as one ASCII token for a header: the usual address (ours, from
    mailer.public_urls) unchanged."""
    return quote(one_line(url), safe=_URL_SAFE)


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


_FONT = "font-family:Arial, Helvetica, sans-serif;"


def _logo(org: Mapping[str, Any]) -> str:
    url = branding.logo_url(org)
    if not url:
        return ""
    return (
        f'<img src="{escape(url)}" alt="{escape(str(org.get("name") or ""))}" height="40" '
        'style="display:block;height:40px;width:auto;max-width:240px;border:0;margin:0 0 8px">'
    )


def _lines(paragraph: str) -> str:
    """A plain paragraph as HTML, escaped, its line breaks kept (a comment written in
    lines or paragraphs reads as written)."""
    return "<br>".join(str(escape(line)) for line in paragraph.splitlines())


def _html(mail: OfficeMail, *, org: Mapping[str, Any]) -> str:
    colour, ink = branding.band(str(org.get("colour") or ""))
    name = escape(str(org.get("name") or ""))
    body = "".join(
        f'<p style="margin:0 0 16px">{_lines(paragraph)}</p>' for paragraph in mail.paragraphs
    )
    if mail.action_url:
        url = escape(mail.action_url)
        body += (
            '<table role="presentation" style="border-collapse:collapse;margin:24px 0">'
            f'<tr><td style="background-color:{colour};border-radius:4px">'
            f'<a href="{url}" style="display:inline-block;padding:12px 20px;{_FONT}'
            f"font-size:16px;line-height:24px;color:{ink};font-weight:bold;"
            f'text-decoration:none;border-radius:4px">{escape(mail.action_label)}</a>'
            "</td></tr></table>"
            # Some mail programs drop buttons: the address itself, to copy.
            '<p style="margin:0 0 16px;font-size:14px;line-height:21px;color:#3e4c59">'
            f"If the button does not work, copy this address into your browser:<br>"
            f'<a href="{url}" style="color:#1d4ed8;word-break:break-all">{url}</a></p>'
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
        f'<tr><td style="padding:16px 24px;background-color:{colour};color:{ink};{_FONT}'
        f'font-size:18px;line-height:26px;font-weight:bold">{_logo(org)}{name}</td></tr>'
        f'<tr><td style="padding:24px;{_FONT}font-size:16px;'
        f'line-height:24px;color:#1f2933">{body}</td></tr>'
        f'<tr><td style="padding:16px 24px;{_FONT}border-top:1px solid #d9dde3;'
        f'font-size:14px;line-height:21px;color:#3e4c59;background-color:#f5f6f8">{footer}</td></tr>'
        "</table></td></tr></table></body></html>"
    )
