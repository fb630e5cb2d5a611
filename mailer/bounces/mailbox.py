"""The bounce mailbox: DSNs, complaints and auto-replies read over IMAP.

``fetch`` connects to ``[bounces] imap_host`` (TLS, STARTTLS, or plain on a loopback
host; certificates checked against the system's CAs or ``imap_ca_file``), reads up to
``limit`` messages of ``imap_folder`` in batches, and gives each one to the parser and
``processing.record`` in a transaction of its own. A message is then moved to
``imap_done_folder`` (made if missing), or deleted when that is "".

What stays: a message whose processing failed (the database is down, say) is left in
the mailbox, unread, for the next poll. What goes: a message the parser cannot read at
all is moved or deleted like the others and logged, or every poll would read it again.

The scheduler polls every ``[bounces] poll`` (scheduler/runner.py); ``mailer bounces
fetch --once`` reads the mailbox once from the command line.
"""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from mailer.bounces import parsing, processing
from mailer.bounces.models import SOURCE_MAILBOX
from mailer.config import BouncesSection, Config
from mailer.database import Database, utcnow

log = logging.getLogger(__name__)

LIMIT = 500  # messages read in one poll; the rest wait for the next one
BATCH = 20  # messages fetched in one UID FETCH
# The most of one message fetched. What the parser needs (the report's own parts) comes
# first, and it reads no more than this; a DSN quoting a large message with its
# attachments need not be held in memory whole, twenty at a time.
MAX_MESSAGE = 2 * 1024 * 1024
TIMEOUT = 60.0  # seconds for connecting and for each reply

_UID = re.compile(rb"\bUID (\d+)")


class MailboxError(Exception):
    """Reading the mailbox went wrong before any message could be read: ``key`` is the
    setting to look at, ``reason`` the sentence a person reads."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class MailboxRefused(MailboxError):
    """The server answered and said no (the password, the folder, the certificate):
    trying again will not help until the configuration changes."""


class MailboxUnreachable(MailboxError):
    """The server could not be reached or dropped us: the next poll may do better."""


@dataclass
class Summary:
    """What one poll did."""

    fetched: int = 0  # messages taken from the mailbox to be processed
    recorded: int = 0  # messages that recorded at least one bounce or complaint
    ignored: int = 0  # understood and left alone (out of office, repeats, unmatched)
    unreadable: int = 0  # not an email message at all: logged, moved or deleted
    failed: int = 0  # not processed (left in the mailbox for the next poll)
    # The database could not be reached: the poll stopped there.
    database_down: bool = False

    def describe(self) -> str:
        text = (
            f"{self.fetched} read, {self.recorded} recorded, {self.ignored} ignored, "
            f"{self.unreadable} unreadable, {self.failed} left for the next poll"
        )
        if self.database_down:
            text += " (the database could not be reached)"
        return text


def fetch(
    db: Database,
    config: Config,
    *,
    keys: Sequence[str],
    clock: Callable[[], datetime] = utcnow,
    limit: int = LIMIT,
    batch: int = BATCH,
) -> Summary:
    """Read and process the bounce mailbox once; see the module's description.

    Raises MailboxRefused or MailboxUnreachable when the mailbox cannot be read at all.
    """
    settings = config.bounces
    limits = processing.Limits.from_config(config, keys=keys)
    summary = Summary()
    with _session(settings) as imap:
        uids = _waiting(imap, settings)[:limit]
        if uids and settings.imap_done_folder:
            _ensure_folder(imap, settings.imap_done_folder)
        for start in range(0, len(uids), batch):
            messages = _fetch(imap, uids[start : start + batch])
            done: list[bytes] = []
            for uid, raw in messages:
                summary.fetched += 1
                if _process(db, uid, raw, limits=limits, clock=clock, summary=summary):
                    done.append(uid)
                elif summary.database_down:
                    break
            if done:
                _put_away(imap, done, settings.imap_done_folder)
            if summary.database_down:
                break
    if summary.fetched:
        log.info(
            "bounce mailbox %s/%s: %s",
            settings.imap_host,
            settings.imap_folder,
            summary.describe(),
        )
    return summary


def _process(
    db: Database,
    uid: bytes,
    raw: bytes,
    *,
    limits: processing.Limits,
    clock: Callable[[], datetime],
    summary: Summary,
) -> bool:
    """One message parsed and recorded in its own transaction; True when it may leave
    the mailbox."""
    name = uid.decode("ascii")
    try:
        report = parsing.parse(raw, source=SOURCE_MAILBOX, bounce_address=limits.bounce_address)
    except parsing.Unreadable as exc:
        summary.unreadable += 1
        log.warning("bounce mailbox message %s is not an email message (%s); put away", name, exc)
        return True
    try:
        with db.writing() as session:
            outcome = processing.record(session, report, limits=limits, now=clock())
    except DBAPIError as exc:
        summary.failed += 1
        summary.database_down = bool(exc.connection_invalidated) or _unreachable(exc)
        log.error(
            "bounce mailbox message %s (%s) not processed, left for the next poll: %s",
            name,
            report.fingerprint,
            exc.orig or exc,
        )
        return False
    except Exception:
        summary.failed += 1
        log.exception(
            "bounce mailbox message %s (%s) not processed, left for the next poll",
            name,
            report.fingerprint,
        )
        return False
    if outcome.recorded:
        summary.recorded += 1
    else:
        summary.ignored += 1
    log.info("bounce mailbox message %s (%s): %s", name, report.detail, outcome.describe())
    return True


def _unreachable(exc: DBAPIError) -> bool:
    """Whether the error says the database is not there (rather than a bad statement)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


# --- IMAP ------------------------------------------------------------------------------


@contextmanager
def _session(settings: BouncesSection) -> Iterator[imaplib.IMAP4]:
    """Connected, logged in and with the folder selected; logged out on leaving."""
    imap = _connect(settings)
    try:
        _login(imap, settings)
        _select(imap, settings.imap_folder)
        yield imap
    except imaplib.IMAP4.abort as exc:
        raise MailboxUnreachable(
            "[bounces] imap_host", f"{settings.imap_host} dropped the connection: {exc}"
        ) from None
    except imaplib.IMAP4.error as exc:
        raise MailboxRefused(
            "[bounces] imap_host", f"{settings.imap_host} refused a command: {_words(exc)}"
        ) from None
    except (OSError, EOFError) as exc:
        raise MailboxUnreachable(
            "[bounces] imap_host", f"lost the connection to {settings.imap_host}: {exc}"
        ) from None
    finally:
        with suppress(imaplib.IMAP4.error, OSError, EOFError):
            imap.logout()


def _tls_context(settings: BouncesSection) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=settings.imap_ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxRefused(
            "[bounces] imap_ca_file",
            f"cannot use {settings.imap_ca_file} as a CA bundle: {exc}",
        ) from None


def _connect(settings: BouncesSection) -> imaplib.IMAP4:
    where = f"{settings.imap_host}:{settings.imap_port}"
    try:
        if settings.imap_security == "tls":
            context = _tls_context(settings)
            return imaplib.IMAP4_SSL(
                settings.imap_host, settings.imap_port, ssl_context=context, timeout=TIMEOUT
            )
        imap = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=TIMEOUT)
        if settings.imap_security == "starttls":
            context = _tls_context(settings)
            try:
                imap.starttls(ssl_context=context)
            except BaseException:
                imap.shutdown()
                raise
        return imap
    except ssl.SSLCertVerificationError as exc:
        raise MailboxRefused(
            "[bounces] imap_ca_file",
            f"the certificate of {where} could not be verified ({exc.verify_message}); "
            "give its CA in [bounces] imap_ca_file",
        ) from None
    except imaplib.IMAP4.abort as exc:
        raise MailboxUnreachable("[bounces] imap_host", f"{where} dropped us: {exc}") from None
    except imaplib.IMAP4.error as exc:
        # STARTTLS not offered, or refused.
        raise MailboxRefused(
            "[bounces] imap_security", f"{where} would not start TLS: {exc}"
        ) from None
    except (OSError, EOFError) as exc:
        reason = "no answer in time" if isinstance(exc, socket.timeout) else str(exc)
        raise MailboxUnreachable(
            "[bounces] imap_host", f"cannot reach the IMAP server {where}: {reason}"
        ) from None


def _login(imap: imaplib.IMAP4, settings: BouncesSection) -> None:
    try:
        imap.login(settings.imap_username, settings.imap_password)
    except UnicodeEncodeError:
        raise MailboxRefused(
            "[bounces] imap_password",
            "the user name and password must be plain ASCII for IMAP LOGIN",
        ) from None
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        # The server's words, never the password we sent.
        raise MailboxRefused(
            "[bounces] imap_password",
            f"{settings.imap_host} refused the user name {settings.imap_username!r} "
            f"or its password ({_words(exc)})",
        ) from None
    # Servers name more capabilities (MOVE, UIDPLUS) once the user is logged in.
    status, data = imap.capability()
    if status == "OK" and data and isinstance(data[-1], bytes):
        imap.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def _select(imap: imaplib.IMAP4, folder: str) -> None:
    status, data = imap.select(_quoted(folder))
    if status != "OK":
        raise MailboxRefused(
            "[bounces] imap_folder",
            f"there is no folder {folder!r} in the mailbox, or it cannot be opened "
            f"({_words(data)})",
        )


def _waiting(imap: imaplib.IMAP4, settings: BouncesSection) -> list[bytes]:
    """The UIDs of the messages to read, oldest first."""
    status, data = imap.uid("SEARCH", "UNDELETED")
    if status != "OK":
        raise MailboxRefused(
            "[bounces] imap_folder",
            f"cannot list the messages in {settings.imap_folder!r} ({_words(data)})",
        )
    found = b" ".join(part for part in data if isinstance(part, bytes)).split()
    return sorted(found, key=int)


def _fetch(imap: imaplib.IMAP4, uids: list[bytes]) -> list[tuple[bytes, bytes]]:
    """(uid, message bytes) for each of ``uids`` still there (the first MAX_MESSAGE
    bytes). BODY.PEEK leaves a message unread, so one left for the next poll looks
    untouched to a person."""
    status, data = imap.uid(
        "FETCH", b",".join(uids).decode("ascii"), f"(UID BODY.PEEK[]<0.{MAX_MESSAGE}>)"
    )
    if status != "OK":
        raise MailboxUnreachable("[bounces] imap_host", f"FETCH failed ({_words(data)})")
    messages: list[tuple[bytes, bytes]] = []
    pending: bytes | None = None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            head, body = item
            found = _UID.search(head)
            if found:
                messages.append((found.group(1), body))
            else:  # the UID may follow the literal: "BODY[] {n} UID 7)"
                pending = body
        elif isinstance(item, bytes) and pending is not None:
            found = _UID.search(item)
            if found:
                messages.append((found.group(1), pending))
            pending = None
    wanted = set(uids)
    return [(uid, raw) for uid, raw in messages if uid in wanted]


def _ensure_folder(imap: imaplib.IMAP4, folder: str) -> None:
    status, data = imap.list('""', _quoted(folder))
    if status == "OK" and any(item for item in data if item):
        return
    status, data = imap.create(_quoted(folder))
    if status != "OK":
        raise MailboxRefused(
            "[bounces] imap_done_folder",
            f"the folder {folder!r} does not exist and could not be made ({_words(data)})",
        )
    log.info("bounce mailbox: made the folder %r for processed messages", folder)


def _put_away(imap: imaplib.IMAP4, uids: list[bytes], done_folder: str) -> None:
    """Move the processed messages to ``done_folder``, or delete them when it is ""."""
    message_set = b",".join(uids).decode("ascii")
    capabilities = {str(name).upper() for name in imap.capabilities}
    if done_folder and "MOVE" in capabilities:
        status, data = imap.uid("MOVE", message_set, _quoted(done_folder))
        if status != "OK":
            raise MailboxRefused(
                "[bounces] imap_done_folder",
                f"cannot move messages to {done_folder!r} ({_words(data)})",
            )
        return
    if done_folder:
        status, data = imap.uid("COPY", message_set, _quoted(done_folder))
        if status != "OK":
            raise MailboxRefused(
                "[bounces] imap_done_folder",
                f"cannot copy messages to {done_folder!r} ({_words(data)})",
            )
    status, data = imap.uid("STORE", message_set, "+FLAGS.SILENT", r"(\Deleted)")
    if status != "OK":
        # They stay; the next poll reads them again and counts nothing twice.
        log.warning("bounce mailbox: could not delete processed messages (%s)", _words(data))
        return
    if "UIDPLUS" in capabilities:
        # Only ours: another client's deleted messages are theirs to expunge.
        imap.uid("EXPUNGE", message_set)
    else:
        imap.expunge()


def _quoted(name: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _words(data: object) -> str:
    """The server's reply as text, for a sentence."""
    if isinstance(data, Exception):
        data = data.args[0] if data.args else str(data)
    if isinstance(data, list | tuple):
        data = b" ".join(item for item in data if isinstance(item, bytes))
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return str(data).strip() or "no reason given"
