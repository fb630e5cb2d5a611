"""The SMTP transport: one kept-open connection to the configured relay.

The connection is opened on first use and reused for every message after it, which is
most of the speed of a bulk sender. Each message is its own MAIL/RCPT/DATA transaction
so a refusal can be pinned on its stage: a refused recipient is that recipient's
problem, a refused MAIL or DATA is the relay refusing us. A connection the relay
closed while idle is noticed at MAIL (nothing handed over yet) and replaced once.
Several connections in parallel are several instances (the delivery workers' pool).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from typing import NoReturn

from mailer.config import SmtpSection
from mailer.delivery.transport import (
    STAGE_AUTH,
    STAGE_CONNECT,
    STAGE_DATA,
    STAGE_MAIL,
    STAGE_RCPT,
    TransportError,
)

log = logging.getLogger(__name__)

SECURITY_STARTTLS = "starttls"
SECURITY_SSL = "ssl"
SECURITY_NONE = "none"


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _refused(stage: str, code: int, message: bytes | str) -> NoReturn:
    raise TransportError(_reply(code, message), stage=stage, temporary=400 <= code < 500, code=code)


class SmtpTransport:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str = SECURITY_STARTTLS,
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._connection: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, smtp: SmtpSection) -> SmtpTransport:
        return cls(
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=smtp.password,
            timeout=smtp.timeout.total_seconds(),
        )

    # --- connection -----------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        context = self.ssl_context or ssl.create_default_context()
        connection: smtplib.SMTP | None = None
        try:
            if self.security == SECURITY_SSL:
                connection = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if self.security == SECURITY_STARTTLS:
                if not connection.has_extn("starttls"):
                    raise TransportError(
                        f"{where} does not offer STARTTLS; set [smtp] security to match "
                        'the relay ("ssl" for port 465, "none" only on a trusted network)',
                        stage=STAGE_CONNECT,
                        temporary=False,
                    )
                connection.starttls(context=context)
                connection.ehlo()
            if self.username:
                self._login(connection)
        except TransportError:
            _quietly_close(connection)
            raise
        except ssl.SSLCertVerificationError as exc:
            _quietly_close(connection)
            raise TransportError(
                f"the certificate of {where} is not trusted: {exc.verify_message}",
                stage=STAGE_CONNECT,
                temporary=False,
            ) from exc
        except smtplib.SMTPConnectError as exc:
            _quietly_close(connection)
            _refused(STAGE_CONNECT, exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            _quietly_close(connection)
            _refused(STAGE_CONNECT, exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:
            _quietly_close(connection)
            raise TransportError(
                f"cannot reach {where}: {exc}", stage=STAGE_CONNECT, temporary=True
            ) from exc
        log.info("smtp connected to %s (%s)", where, self.security)
        return connection

    def _login(self, connection: smtplib.SMTP) -> None:
        try:
            connection.login(self.username, self.password)
        except smtplib.SMTPNotSupportedError as exc:
            raise TransportError(
                f"{self.host} does not offer AUTH; remove [smtp] username or use "
                'security = "starttls"',
                stage=STAGE_AUTH,
                temporary=False,
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            _refused(STAGE_AUTH, exc.smtp_code, exc.smtp_error)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()

    def _discard(self) -> None:
        _quietly_close(self._connection)
        self._connection = None

    # --- one message ----------------------------------------------------------------

    def send(
        self,
        *,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], object] | None = None,
    ) -> str:
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect()
            stage = STAGE_MAIL
            try:
                return self._transaction(self._connection, sender, recipient, data, before_data)
            except _Dropped as dropped:
                self._discard()
                stage = dropped.stage
                # An idle connection the relay closed: nothing was handed over yet.
                if reused and stage == STAGE_MAIL and attempt == 1:
                    log.info("smtp connection to %s had closed; reconnecting", self.host)
                    continue
                raise TransportError(
                    f"connection to {self.host} dropped during {stage.upper()}: {dropped.reason}",
                    stage=stage,
                    temporary=True,
                ) from None
            except TransportError as exc:
                if exc.code == 421:  # the relay is closing this connection
                    self._discard()
                raise
            except _CallerFailed as failed:
                # before_data's own error (a database's, say), not the relay's.
                raise failed.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _transaction(
        self,
        connection: smtplib.SMTP,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], object] | None,
    ) -> str:
        stage = STAGE_MAIL
        try:
            options: list[str] = []
            if not (sender.isascii() and recipient.isascii()):
                if not connection.has_extn("smtputf8"):
                    raise TransportError(
                        f"{self.host} does not accept non-ASCII addresses (no SMTPUTF8)",
                        stage=STAGE_MAIL,
                        temporary=False,
                    )
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            code, message = connection.mail(sender, options)
            if code != 250:
                self._reset(connection)
                _refused(STAGE_MAIL, code, message)
            stage = STAGE_RCPT
            code, message = connection.rcpt(recipient)
            if code not in (250, 251):
                self._reset(connection)
                _refused(STAGE_RCPT, code, message)
            if before_data is not None:
                try:
                    before_data()
                except Exception as exc:
                    self._reset(connection)  # nothing handed over
                    raise _CallerFailed(exc) from exc
            stage = STAGE_DATA
            try:
                code, message = connection.data(data)
            except smtplib.SMTPDataError as exc:
                self._reset(connection)
                _refused(STAGE_DATA, exc.smtp_code, exc.smtp_error)
            if code != 250:
                _refused(STAGE_DATA, code, message)
            return _reply(code, message)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Dropped(stage, str(exc) or type(exc).__name__) from exc

    @staticmethod
    def _reset(connection: smtplib.SMTP) -> None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.rset()  # if this fails, the next send finds out and reconnects


class _CallerFailed(Exception):
    """``before_data`` raised: carried past the handling of the relay's own errors."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _Dropped(Exception):
    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


def _quietly_close(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.close()
