"""A send's message, rendered and encoded once; each recipient's copy spliced from it.

``prepare`` runs the template (sandboxed), inlines the CSS (premailer, cached),
encodes the fixed parts (quoted-printable, base64 attachments, header lines) and,
when DKIM is on, canonicalises them for the body hash. ``PreparedMessage.personalise``
then only escapes and encodes one recipient's few values, joins bytes, hashes and signs:
no Jinja, no premailer, no MIME library per recipient.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from markupsafe import escape

from mailer.rendering import mime, sandbox
from mailer.rendering.dkim import DkimSigner, canonical_body_segment
from mailer.rendering.inline import inline_css
from mailer.rendering.placeholders import (
    Markers,
    PersonalValueMisused,
    Slot,
    personal_namespace,
)

ONE_CLICK = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
# Every bulk message says so: out-of-office replies and other automatic answers are not
# sent back to it (RFC 3834 Auto-Submitted, the old Precedence, and Exchange's own).
BULK = (
    ("precedence", b"Precedence: bulk\r\n"),
    ("auto-submitted", b"Auto-Submitted: auto-generated\r\n"),
    ("x-auto-response-suppress", b"X-Auto-Response-Suppress: All\r\n"),
)


@dataclass(frozen=True)
class TemplateParts:
    """The four sources of a template version."""

    subject: str
    preheader: str
    html: str
    text: str


@dataclass(frozen=True)
class Sender:
    from_name: str
    from_address: str
    list_id: str  # "Name <id.example.org>" or a bare id: the List-Id of no list
    reply_to: str = ""
    # The whole Feedback-ID value ("send:kind:stakeholder-mailer:sender id"), "" for none.
    feedback_id: str = ""


def list_id_line(list_id: str) -> bytes:
    """The List-Id line of ``"Name <id.example.org>"`` or a bare id (RFC 2919)."""
    description, _, bare = mime.one_line(list_id).rpartition("<")
    if not bare.endswith(">"):
        return mime.list_id_header("", mime.one_line(list_id))
    return mime.list_id_header(description.strip().strip('"'), bare[:-1])


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str = ""
    organisation: str = ""
    role: str = ""
    links: Mapping[str, str] = field(default_factory=dict)
    # The List-Id of the list they are written to as ("Name <list-3.example.org>"),
    # "" for the sender's own.
    list_id: str = ""
    # A mailto: List-Unsubscribe beside the https one ("" for none).
    unsubscribe_mailto: str = ""

    def value(self, slot: Slot) -> str:
        contact, name = slot.source
        value = getattr(self, name, "") if contact else self.links.get(name, "")
        return mime.one_line(value) or slot.fallback


# A body segment is fixed bytes, or a slot to fill (and whether it sits in HTML).
Segment = bytes | tuple[Slot, bool]
_HTML_SPECIAL = re.compile("[&<>\"']")  # what markupsafe.escape would change


@dataclass(frozen=True, slots=True)
class _Fill:
    """One distinct slot of the body, read straight off the recipient: whether it is a
    contact attribute or a link, its name and fallback, HTML or text, and its places."""

    contact: bool
    name: str
    fallback: str
    html: bool
    places: tuple[int, ...]

    @classmethod
    def of(cls, slot: Slot, html: bool, places: tuple[int, ...]) -> _Fill:
        contact, name = slot.source
        return cls(contact, name, slot.fallback, html, places)


class PreparedMessage:
    def __init__(
        self,
        *,
        subject: list[str | Slot],
        html: list[str | Slot],
        text: list[str | Slot],
        sender: Sender,
        attachments: Sequence[Attachment] = (),
        signer: DkimSigner | None = None,
    ) -> None:
        self.subject_parts = subject
        self.html_parts = html
        self.text_parts = text
        self.signer = signer
        # A subject of one part has no personal value: one header serves everyone.
        only = subject[0] if len(subject) == 1 else None
        self._fixed_subject = mime.text_header("Subject", only) if isinstance(only, str) else None
        self._from = mime.address_header("From", sender.from_name, sender.from_address)
        self._reply_to = (
            mime.address_header("Reply-To", "", sender.reply_to) if sender.reply_to else b""
        )
        self._list_id = list_id_line(sender.list_id)
        # A send writes to a few lists at most: each one's List-Id line made once.
        self._list_ids: dict[str, bytes] = {}
        self._feedback_id = (
            mime.header("Feedback-ID", sender.feedback_id) if sender.feedback_id else b""
        )

        alternative = mime.boundary()
        body: list[Segment] = []
        if attachments:
            mixed = mime.boundary()
            self._content_type = mime.header("Content-Type", f'multipart/mixed; boundary="{mixed}"')
            body.append(
                f"--{mixed}\r\nContent-Type: multipart/alternative;\r\n"
                f' boundary="{alternative}"\r\n\r\n'.encode("ascii")
            )
        else:
            mixed = ""
            self._content_type = mime.header(
                "Content-Type", f'multipart/alternative; boundary="{alternative}"'
            )
        for subtype, parts in (("plain", text), ("html", html)):
            body.append(
                f"--{alternative}\r\n"
                f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
            )
            for part in parts:
                if isinstance(part, Slot):
                    body.append((part, subtype == "html"))
                elif part:
                    body.append(mime.qp(part))
        body.append(f"--{alternative}--\r\n".encode("ascii"))
        for attachment in attachments:
            body.append(
                f"--{mixed}\r\n".encode("ascii")
                + mime.attachment_part(
                    attachment.filename, attachment.content_type, attachment.data
                )
            )
        if attachments:
            body.append(f"--{mixed}--\r\n".encode("ascii"))
        self._body = _merge_fixed(body)
        # Each distinct slot (a value, in HTML or in text) filled once per recipient,
        # however many times it appears: the body's fixed bytes are copied and the slot's
        # encoded value written at each of its places.
        self._skeleton = [s if isinstance(s, bytes) else b"" for s in self._body]
        places: dict[tuple[Slot, bool], list[int]] = {}
        for index, segment in enumerate(self._body):
            if not isinstance(segment, bytes):
                places.setdefault(segment, []).append(index)
        self._fills = [_Fill.of(slot, in_html, tuple(at)) for (slot, in_html), at in places.items()]
        self._date: tuple[datetime, bytes] | None = None  # the Date line, kept a second
        # For DKIM: the fixed segments canonicalised once, the hash of the leading fixed
        # run computed once and copied per recipient.
        self._canonical: list[bytes | None] = [
            canonical_body_segment(s) if isinstance(s, bytes) else None for s in self._body
        ]
        self._hash_prefix = hashlib.sha256()
        self._first_slot = 0
        for index, segment in enumerate(self._body):
            if not isinstance(segment, bytes):
                break
            self._hash_prefix.update(self._canonical[index] or b"")
            self._first_slot = index + 1

    # --- per recipient ----------------------------------------------------------------

    def personalise(
        self, recipient: Recipient, *, message_id: str, now: datetime | None = None
    ) -> bytes:
        """The finished message for one recipient: bytes ready for SMTP DATA."""
        if not message_id.startswith("<") or any(c in message_id for c in "\r\n "):
            raise ValueError(f"bad Message-ID {message_id!r}")
        unsubscribe = recipient.links.get("unsubscribe", "")
        if not unsubscribe.startswith("https://") and not unsubscribe.startswith("http://"):
            raise ValueError("every message needs its recipient's unsubscribe link")
        now = now or datetime.now(UTC)
        filled = self._skeleton.copy()
        links = recipient.links
        for fill in self._fills:
            value = getattr(recipient, fill.name, "") if fill.contact else links.get(fill.name, "")
            value = mime.one_line(value) or fill.fallback
            if fill.html and _HTML_SPECIAL.search(value):
                value = str(escape(value))
            data = mime.qp(value)
            for index in fill.places:
                filled[index] = data
        body = b"".join(filled)

        headers: list[tuple[str, bytes]] = [
            ("from", self._from),
            ("to", mime.address_header("To", recipient.name, recipient.email)),
            (
                "subject",
                self._fixed_subject or mime.text_header("Subject", self.subject(recipient)),
            ),
            ("date", self._date_line(now)),
            ("message-id", f"Message-ID: {message_id}\r\n".encode("ascii")),
        ]
        if self._reply_to:
            headers.append(("reply-to", self._reply_to))
        mailto = recipient.unsubscribe_mailto
        if mailto and (not mailto.startswith("mailto:") or any(c in mailto for c in "\r\n <>,")):
            raise ValueError(f"bad mailto: unsubscribe address {mailto!r}")
        headers += [
            ("list-id", self._list_id_for(recipient.list_id)),
            (
                "list-unsubscribe",
                # RFC 2369: the mail program takes the first it can use; one-click (RFC
                # 8058, the List-Unsubscribe-Post below) uses the https one.
                mime.header(
                    "List-Unsubscribe",
                    f"<{mailto}>, <{unsubscribe}>" if mailto else f"<{unsubscribe}>",
                ),
            ),
            ("list-unsubscribe-post", ONE_CLICK),
            *BULK,
        ]
        if self._feedback_id:
            headers.append(("feedback-id", self._feedback_id))
        headers += [
            ("mime-version", b"MIME-Version: 1.0\r\n"),
            ("content-type", self._content_type),
        ]
        head = b"".join(line for _name, line in headers)
        if self.signer is not None:
            digest = self._hash_prefix.copy()
            for index in range(self._first_slot, len(self._body)):
                canonical = self._canonical[index]
                digest.update(
                    canonical if canonical is not None else canonical_body_segment(filled[index])
                )
            head = (
                self.signer.signature_header(
                    headers, digest.digest(), timestamp=int(now.timestamp())
                )
                + head
            )
        return head + b"\r\n" + body

    def _list_id_for(self, list_id: str) -> bytes:
        if not list_id:
            return self._list_id
        line = self._list_ids.get(list_id)
        if line is None:
            line = self._list_ids[list_id] = list_id_line(list_id)
        return line

    def _date_line(self, now: datetime) -> bytes:
        # The same for every message sent within a second; formatting it is a tenth of
        # the cost of a personalised message.
        second = now.replace(microsecond=0)
        cached = self._date
        if cached is None or cached[0] != second:
            cached = self._date = (second, f"Date: {format_datetime(now)}\r\n".encode("ascii"))
        return cached[1]

    def subject(self, recipient: Recipient) -> str:
        return mime.one_line(_fill(self.subject_parts, recipient, html=False))

    def html(self, recipient: Recipient) -> str:
        """The HTML part as the recipient sees it (for the admin's preview)."""
        return _fill(self.html_parts, recipient, html=True)

    def text(self, recipient: Recipient) -> str:
        return _fill(self.text_parts, recipient, html=False)


def _fill(parts: list[str | Slot], recipient: Recipient, *, html: bool) -> str:
    return "".join(
        (str(escape(recipient.value(p))) if html else recipient.value(p))
        if isinstance(p, Slot)
        else p
        for p in parts
    )


def _merge_fixed(body: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in body:
        if isinstance(segment, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + segment
        else:
            merged.append(segment)
    return merged


def render_parts(
    parts: TemplateParts, context: Mapping[str, Any], markers: Markers
) -> tuple[str, str, str, str]:
    """Subject, preheader, HTML (CSS inlined) and text of a template for ``context``,
    the personal values as markers. Raises sandbox.TemplateProblem."""
    personal = personal_namespace(markers)
    links = {**context.get("links", {}), **personal["links"]}
    full: dict[str, Any] = {**context, "contact": personal["contact"], "links": links}
    subject = mime.one_line(sandbox.render("subject", parts.subject, full))
    preheader = mime.one_line(sandbox.render("preheader", parts.preheader, full))
    full["message"] = {**context.get("message", {}), "subject": subject, "preheader": preheader}
    html = sandbox.render("html", parts.html, full)
    text = sandbox.render("text", parts.text, full)
    return subject, preheader, inline_css(html), text


def prepare(
    parts: TemplateParts,
    context: Mapping[str, Any],
    *,
    sender: Sender,
    attachments: Sequence[Attachment] = (),
    signer: DkimSigner | None = None,
) -> PreparedMessage:
    markers = Markers()
    subject, _preheader, html, text = render_parts(parts, context, markers)
    split: dict[str, list[str | Slot]] = {}
    for part, rendered in (("subject", subject), ("html", html), ("text", text)):
        try:
            split[part] = markers.split(rendered)
        except PersonalValueMisused as exc:
            raise sandbox.TemplateProblem(part, str(exc)) from None
    return PreparedMessage(
        subject=split["subject"],
        html=split["html"],
        text=split["text"],
        sender=sender,
        attachments=attachments,
        signer=signer,
    )


def message_id(domain: str) -> str:
    """A new random Message-ID on ``domain`` (made once per delivery, kept on retries)."""
    return f"<{time.strftime('%Y%m%d')}.{secrets.token_hex(12)}@{domain}>"


__all__ = [
    "Attachment",
    "PreparedMessage",
    "Recipient",
    "Sender",
    "TemplateParts",
    "list_id_line",
    "message_id",
    "prepare",
    "render_parts",
]
