"""Reading the outbox folder back for the admin's mail catcher."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from mailer import paging
from mailer.delivery.outbox import SUFFIX

_NAME = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{12}\.eml$")
PER_PAGE = 50


@dataclass(frozen=True)
class Entry:
    name: str
    written_at: datetime
    to: str
    subject: str
    size: int


def valid_name(name: str) -> bool:
    """Only names the outbox itself makes: nothing else in the folder can be opened."""
    return bool(_NAME.match(name))


def _headers(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle, headersonly=True)


def listing(folder: Path, *, page: int = 1) -> tuple[list[Entry], int]:
    """One page of messages, newest first, and how many there are in all."""
    if not folder.is_dir():
        return [], 0
    names = sorted((p.name for p in folder.iterdir() if valid_name(p.name)), reverse=True)
    page = paging.within(page, len(names), PER_PAGE)
    entries = []
    for name in names[(page - 1) * PER_PAGE : page * PER_PAGE]:
        path = folder / name
        try:
            headers = _headers(path)
            size = path.stat().st_size
        except FileNotFoundError:  # erased or cleared meanwhile
            continue
        entries.append(
            Entry(
                name=name,
                written_at=datetime.strptime(name[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC),
                to=str(headers.get("To", "")),
                subject=str(headers.get("Subject", "")),
                size=size,
            )
        )
    return entries, len(names)


def read(folder: Path, name: str) -> tuple[bytes, EmailMessage]:
    if not valid_name(name):
        raise FileNotFoundError(name)
    data = (folder / name).read_bytes()
    return data, BytesParser(policy=policy.default).parsebytes(data)


def parts(message: EmailMessage) -> tuple[str, str, list[tuple[str, str, int]]]:
    """The HTML and text bodies, and the attachments (name, type, size)."""
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    attachments = [
        (
            a.get_filename() or "(no name)",
            a.get_content_type(),
            len(a.get_payload(decode=True) or b""),
        )
        for a in message.iter_attachments()
    ]
    return (
        html_part.get_content() if html_part else "",
        text_part.get_content() if text_part else "",
        attachments,
    )


__all__ = ["PER_PAGE", "SUFFIX", "Entry", "listing", "parts", "read", "valid_name"]
