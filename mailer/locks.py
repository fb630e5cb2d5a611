"""Check-then-write steps that must not interleave, across every process.

A limit is kept by counting rows and then adding one. Two requests that count at the
same moment both see room and both add: with eight server threads, eight confirmations
reached one mailbox whose limit was three. ``hold`` makes such a step take its turn:
on PostgreSQL it takes a transaction-scoped advisory lock per name, released when the
transaction commits or rolls back, so the count and the write that follows it are one
step for everyone counting the same thing. SQLite has one writer at a time: a form
post's transaction begins IMMEDIATE (``Database.session``), so it already holds the
database's write lock before it counts, and nothing more is needed there.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session


def key_of(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` (stable across processes)."""
    digest = hashlib.blake2b(("mailer-lock:" + name).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hold(session: Session, *names: str) -> None:
    """Wait for, then hold until the transaction ends, the lock on each of ``names``.

    Always taken in one order (by key), so two steps that need overlapping locks
    cannot each hold one and wait for the other."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({key_of(name) for name in names}):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
