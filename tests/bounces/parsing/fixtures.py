"""The returned messages the parsing tests read (``tests/bounces/messages/*.msg``: written
by hand after real ones, so named apart from the outbox's generated ``.eml`` files)."""

from __future__ import annotations

from pathlib import Path

from mailer.bounces.parsing import parse
from mailer.bounces.reports import Report

MESSAGES = Path(__file__).resolve().parent.parent / "messages"
BOUNCE_ADDRESS = "bounces@consult.example.gov.uk"


def raw(name: str) -> bytes:
    return (MESSAGES / name).read_bytes()


def parsed(name: str, **kwargs: str) -> Report:
    """``name`` read as the mailbox reads it, with our bounce address."""
    kwargs.setdefault("bounce_address", BOUNCE_ADDRESS)
    return parse(raw(name), source="mailbox", **kwargs)
